// The worker threads of `shardstore check`. Each of N slots holds one worker
// and runs jobs from `next()` one at a time until it returns undefined, so a
// slow seed never holds up the others and the run ends within one seed of
// the budget.
//
// A worker that dies, or whose seed overruns the seed timeout (a hang), is a
// failure of the job it held (token `suite:seed:`, which replays the whole
// seed); the worker is terminated and the slot starts a new one, at most
// MAX_REPLACEMENTS times per run. A worker that cannot start fails the run.
// A worker that reported a hang (its seed's promises never settle) is
// replaced too, without counting against that limit: it did its job.
import { Worker } from 'node:worker_threads';
import { classifyFailure } from './failure_kind.js';
import { emptyCounters, makeToken } from './suite.js';
import type { SeedResult } from './suite.js';
import { isWorkerMessage } from './worker_protocol.js';
import type { Job, RunMessage, WorkerData, WorkerMessage } from './worker_protocol.js';

export const MAX_REPLACEMENTS = 16;
/** Loading tsx and the engine in a fresh thread takes about a second; allow for a loaded machine. */
export const STARTUP_TIMEOUT_MS = 120_000;

export interface PoolOptions {
  readonly workers: number;
  readonly data: WorkerData;
  readonly seedTimeoutMs: number;
  readonly next: () => Job | undefined;
  readonly onResult: (job: Job, result: SeedResult, ms: number) => void;
}

interface Shared {
  readonly options: PoolOptions;
  replacementsLeft: number;
  aborted: boolean;
}

/** Runs every job `next()` hands out; rejects if a worker cannot start (the other slots stop after their job). */
export async function runPool(options: PoolOptions): Promise<void> {
  const shared: Shared = { options, replacementsLeft: MAX_REPLACEMENTS, aborted: false };
  const slots = await Promise.allSettled(Array.from({ length: options.workers }, () => runSlot(shared)));
  const failed = slots.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}

async function runSlot(shared: Shared): Promise<void> {
  const { options } = shared;
  let worker: CheckWorker | undefined;
  let starts = 0;
  try {
    for (let job = nextJob(shared); job !== undefined; job = nextJob(shared)) {
      worker ??= await startWorker(shared, starts++ === 0);
      const started = performance.now();
      let result: SeedResult;
      try {
        result = await worker.run(job, options.seedTimeoutMs);
      } catch (err: unknown) {
        result = lostJob(job, err);
        await worker.close();
        worker = undefined;
      }
      if (result.failure?.kind === 'hang' && worker !== undefined) {
        await worker.close();
        worker = undefined;
        starts = 0; // a fresh thread, not a lost one
      }
      options.onResult(job, result, performance.now() - started);
    }
  } catch (err: unknown) {
    shared.aborted = true;
    throw err;
  } finally {
    await worker?.close();
  }
}

function nextJob(shared: Shared): Job | undefined {
  return shared.aborted ? undefined : shared.options.next();
}

async function startWorker(shared: Shared, first: boolean): Promise<CheckWorker> {
  if (!first && shared.replacementsLeft-- <= 0) throw new Error(`more than ${MAX_REPLACEMENTS} workers lost; giving up`);
  return CheckWorker.start(shared.options.data);
}

function lostJob(job: Job, err: unknown): SeedResult {
  const message = `worker lost on ${job.suite} seed ${job.seed}: ${err instanceof Error ? err.message : String(err)}`;
  return { counters: emptyCounters(), failure: { token: makeToken(job.suite, job.seed, ''), message, minimized: '', kind: classifyFailure(message) } };
}

interface Pending {
  readonly resolve: (message: WorkerMessage) => void;
  readonly reject: (err: Error) => void;
}

/** One worker thread with at most one request in flight. */
class CheckWorker {
  private pending: Pending | undefined;
  private dead: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (message: unknown) => this.onMessage(message));
    worker.on('error', (err: Error) => this.fail(err));
    worker.on('exit', (code: number) => this.fail(new Error(`worker thread exited with code ${code}`)));
  }

  static async start(data: WorkerData): Promise<CheckWorker> {
    const worker = new CheckWorker(spawn(data));
    try {
      const first = await worker.request(undefined, STARTUP_TIMEOUT_MS, 'worker startup');
      if (first.type !== 'ready') throw new Error(`worker sent ${first.type} before ready`);
    } catch (err: unknown) {
      await worker.close();
      throw err instanceof Error ? new Error(`check worker failed to start: ${err.message}`, { cause: err }) : err;
    }
    return worker;
  }

  async run(job: Job, timeoutMs: number): Promise<SeedResult> {
    const reply = await this.request({ type: 'run', job }, timeoutMs, `seed timeout (${timeoutMs} ms)`);
    if (reply.type !== 'result' || reply.jobId !== job.id) throw new Error(`worker answered job ${job.id} with ${JSON.stringify(reply)}`);
    return reply.result;
  }

  async close(): Promise<void> {
    this.dead ??= new Error('worker closed');
    await this.worker.terminate();
  }

  private async request(message: RunMessage | undefined, timeoutMs: number, what: string): Promise<WorkerMessage> {
    if (this.dead !== undefined) throw this.dead;
    if (this.pending !== undefined) throw new Error('a check worker runs one job at a time');
    let timer: NodeJS.Timeout | undefined;
    try {
      return await new Promise<WorkerMessage>((resolve, reject) => {
        this.pending = { resolve, reject };
        timer = setTimeout(() => reject(new Error(`${what} exceeded`)), timeoutMs);
        if (message !== undefined) this.worker.postMessage(message);
      });
    } finally {
      clearTimeout(timer);
      this.pending = undefined;
    }
  }

  private onMessage(message: unknown): void {
    if (!isWorkerMessage(message)) return this.fail(new TypeError(`malformed message from worker: ${JSON.stringify(message)}`));
    const pending = this.pending;
    if (pending === undefined) return this.fail(new Error(`unasked message from worker: ${message.type}`));
    pending.resolve(message);
  }

  private fail(err: Error): void {
    this.dead ??= err;
    this.pending?.reject(err);
  }
}

/** A worker running worker.js beside this file, or worker.ts under tsx when running from source. */
function spawn(data: WorkerData): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./worker.js', here), { workerData: data });
  // Node 20 neither passes the parent's loader hooks to a worker nor honours
  // `--import tsx` in its execArgv for the entry module, so the thread
  // registers tsx itself before importing the .ts entry.
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./worker.ts', here).href;
  const code = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(code, { eval: true, workerData: data });
}
