// Entry point of a `shardstore check` worker thread (protocol in
// worker_protocol.ts): loads the suites it was given, installs the mutant if
// one was asked for (never restored: the thread ends with the run), then runs
// one seed per `run` message. A suite that throws instead of reporting a
// failure is reported as a failure of that seed. Each seed runs under the
// hang watch (hang_watch.ts): a seed whose simulated world stands still for
// good fails at once as a hang, and the coordinator replaces this thread
// (the hung seed's promises never settle). Every failure is classified
// (failure_kind.ts): finding, hang, or harness error.
import { parentPort, workerData } from 'node:worker_threads';
import { classifyFailure } from './failure_kind.js';
import { raceHang } from './hang_watch.js';
import { mutantNamed } from './mutant_registry.js';
import { loadSuite } from './registry.js';
import { emptyCounters, makeToken } from './suite.js';
import type { SeedResult, Suite } from './suite.js';
import { isRunMessage, isWorkerData } from './worker_protocol.js';
import type { Job, WorkerMessage } from './worker_protocol.js';

const port = parentPort;
if (port === null) throw new Error('testing/check/worker must run in a worker thread');
if (!isWorkerData(workerData)) throw new TypeError('testing/check/worker: malformed workerData');

const suites = new Map<string, Suite>();
for (const name of workerData.suites) suites.set(name, await loadSuite(name));
if (workerData.mutant !== undefined) {
  const mutant = mutantNamed(workerData.mutant);
  if (mutant === undefined) throw new RangeError(`unknown mutant ${workerData.mutant}`);
  mutant.install();
}

async function run(job: Job): Promise<SeedResult> {
  const suite = suites.get(job.suite);
  if (suite === undefined) throw new RangeError(`suite ${job.suite} was not loaded in this worker`);
  const lost = (message: string): SeedResult => ({ counters: emptyCounters(), failure: { token: makeToken(job.suite, job.seed, ''), message, minimized: '' } });
  let result: SeedResult;
  try {
    result = await raceHang(`${job.suite} seed ${job.seed}`, () => suite.runSeed(job.seed), lost);
  } catch (err: unknown) {
    const failure = lost(`suite ${job.suite} threw on seed ${job.seed}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`).failure;
    return { counters: emptyCounters(), ...(failure === undefined ? {} : { failure: { ...failure, kind: classifyFailure(failure.message, err) } }) };
  }
  const f = result.failure;
  return f === undefined ? result : { ...result, failure: { ...f, kind: f.kind ?? classifyFailure(f.message) } };
}

port.on('message', (message: unknown) => {
  if (!isRunMessage(message)) throw new TypeError(`testing/check/worker: unexpected message ${JSON.stringify(message)}`);
  run(message.job).then(
    (result) => port.postMessage({ type: 'result', jobId: message.job.id, result } satisfies WorkerMessage),
    (err: unknown) => {
      // Only a harness bug gets here; end the thread so the coordinator sees it.
      setImmediate(() => {
        throw err;
      });
    },
  );
});
port.postMessage({ type: 'ready' } satisfies WorkerMessage);
