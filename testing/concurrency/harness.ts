// Concurrency harnesses: several logical clients and background work run
// against one DiskStore on a SimDisk, with every interleaving decided by
// the SimScheduler (IO completions, client steps, timers, random numbers).
// A schedule token replays a run exactly.
//
// Strategy: each harness is small and named after the race it hunts
// (HARNESSES below): a few clients issue put / get / delete / list on a
// handful of overlapping keys, yielding to the scheduler between calls,
// while a background task runs index flushes, compactions, reclamations or
// checkpoints. Every call is recorded (invocation, response) in a history.
// Optionally a crasher task cuts the power at a scheduler-chosen point
// while calls are in flight; the store is then reopened on the crash image.
// Calls go through a ShardNode of the one disk (its bulk calls included).
// Issue 13's three gaps, closed here:
// - reads race writes in flight: a client may issue a get of a key in the
//   turn it issues a put of it, before the put returns;
// - reads in the turn a call returns: after a put, a delete or a bulk
//   call, a client may read the key(s) at once, with no scheduling point
//   between the answer and the read (a call that answers before its change
//   is visible is seen only there);
// - background jobs overlap: `jobs` runs several background tasks at once,
//   each a random sequence of every kind of job (flush, compaction,
//   index-extent reclamation, data reclamation, checkpoint, commit).
// And the engine's invariants of step_invariants.ts (cache coherence, runs'
// extents) are checked at every scheduling point, not after whole calls.
//
// Invariants:
// 1. The history is linearizable against the sequential model (a map),
//    calls in flight at the crash having unknown outcomes.
// 2. After a crash, the recovered contents are explainable: the mutations
//    whose Dependency was persistent at the crash keep their outcome, the
//    others may or may not have taken effect (unknown outcome, effective
//    before the crash), and a read of every key after recovery must
//    linearize with them. This covers persistence (a persistent put is
//    never lost or replaced by an older value) and atomicity.
// 3. Without a crash, close() leaves every Dependency persistent.
// 4. No stall: pending calls with nothing runnable is a deadlock.
// 5. At every scheduling point, the invariants of step_invariants.ts.
// 6. With `reopenAfterClose`: after the clean close, a fresh open of the
//    disk reads back, for every key, a value the history allows (every
//    acknowledged change is durable by then), and no run is left busy.
import { ShardStoreError } from '../../src/base/index.js';
import type { Dependency } from '../../src/dependency/index.js';
import { formatDiskStore, openDiskStore } from '../../src/store/index.js';
import { ShardNode } from '../../src/node/index.js';
import type { DiskStore, FormatOptions, ShardApi } from '../../src/store/index.js';
import { SMALL_CONFIG, formatOptions, getViaFind } from '../conformance.js';
import type { Rng } from '../rng.js';
import { SimDisk } from '../sim_disk.js';
import type { CrashMode } from '../sim_disk.js';
import { HistoryRecorder, formatKey, formatOperation, outputOfError } from './history.js';
import type { KvInput, KvOperation, KvOutput } from './history.js';
import { checkLinearizable } from './linearizability.js';
import { SimScheduler } from './scheduler.js';
import type { TaskContext } from './scheduler.js';
import { StepInvariants } from './step_invariants.js';

export type BackgroundOp = 'commit' | 'flush' | 'compact' | 'reclaim' | 'reclaim-index' | 'checkpoint';

/**
 * Client ids of the extra reads (a violation message names them as c8xxx,
 * c9xxx): gets racing a put in flight, and gets issued in the turn a call
 * returned.
 */
export const RACING_READER = 8000;
export const SAME_TURN_READER = 9000;

/** What an overlapping job task draws from: every kind of background job, compaction twice (it must overlap itself). */
const JOB_ALPHABET: readonly BackgroundOp[] = ['flush', 'compact', 'compact', 'reclaim', 'reclaim-index', 'checkpoint', 'commit'];

export interface Harness {
  readonly name: string;
  readonly clients: number;
  readonly callsPerClient: number;
  /** Keys the clients share (few: they must collide). */
  readonly keys: number;
  /** Puts' sizes: up to this many bytes. */
  readonly maxValueBytes: number;
  readonly background: readonly BackgroundOp[];
  /** Weights of put, get, delete, list. */
  readonly mix: readonly [number, number, number, number];
  readonly crash: boolean;
  /** Key length: long keys make index runs big, so index extents fill and roll. */
  readonly keyBytes: number;
  /** Half the calls are bulk creates or bulk removes of 2-3 keys (each key's outcome recorded as its own call). */
  readonly bulk?: boolean;
  /** Background job tasks running at once besides `background`, each `opsPerTask` jobs drawn from JOB_ALPHABET. */
  readonly jobs?: { readonly tasks: number; readonly opsPerTask: number };
  /** After the clean close, open the disk again and read every key back (invariant 6). */
  readonly reopenAfterClose?: boolean;
}

const BASE = { clients: 3, callsPerClient: 8, keys: 4, maxValueBytes: 14_000, crash: false, keyBytes: 2 } as const;

/** Small harnesses, each named after what it hunts. */
export const HARNESSES: readonly Harness[] = [
  { ...BASE, name: 'reclaim-vs-put', background: ['reclaim', 'reclaim', 'commit', 'reclaim'], mix: [5, 3, 2, 0] },
  {
    ...BASE,
    name: 'compaction-vs-reclaim',
    background: ['flush', 'compact', 'flush', 'compact', 'reclaim', 'flush', 'compact'],
    mix: [6, 2, 1, 1],
    keys: 6,
    keyBytes: 1000,
    maxValueBytes: 100,
  },
  { ...BASE, name: 'write-vs-flush', background: ['flush', 'checkpoint', 'flush', 'commit'], mix: [5, 4, 1, 0] },
  { ...BASE, name: 'bulk-create-vs-remove', background: ['commit', 'flush', 'reclaim'], mix: [4, 2, 3, 1], bulk: true },
  { ...BASE, name: 'list-vs-delete', background: ['commit', 'flush', 'commit'], mix: [3, 1, 3, 3] },
  { ...BASE, name: 'crash-during-reclaim', background: ['reclaim', 'flush', 'reclaim', 'compact'], mix: [5, 2, 2, 1], crash: true },
  { ...BASE, name: 'crash-during-writes', background: ['commit', 'flush', 'checkpoint'], mix: [6, 2, 2, 0], crash: true, bulk: true },
  {
    ...BASE,
    name: 'jobs-overlap-index',
    // Long keys: runs are big, index extents fill, roll and are reclaimed while other jobs write.
    background: ['flush', 'compact', 'flush', 'compact'],
    jobs: { tasks: 2, opsPerTask: 6 },
    mix: [6, 2, 1, 1],
    keys: 6,
    keyBytes: 1000,
    maxValueBytes: 100,
    reopenAfterClose: true,
  },
  { ...BASE, name: 'jobs-overlap-data', background: ['reclaim', 'flush', 'reclaim'], jobs: { tasks: 2, opsPerTask: 5 }, mix: [5, 3, 2, 0], bulk: true, reopenAfterClose: true },
];

export interface HarnessResult {
  readonly ok: boolean;
  readonly message: string;
  readonly token: string;
  readonly calls: number;
  readonly crashStates: number;
  readonly steps: number;
  /** The most background jobs that were in flight at once (overlap happened when above 1). */
  readonly maxJobsInFlight: number;
}

interface Run {
  disk: SimDisk;
  store: DiskStore;
  /** The node of the one disk the clients call (its bulk calls are the node's). */
  node: ShardNode;
  crashed: boolean;
  crashTime: number;
  readonly rec: HistoryRecorder;
  readonly deps: Map<number, Dependency>;
  readonly options: FormatOptions;
  failure: string | undefined;
  /** Clients and background tasks still running. */
  running: number;
  /** Called when `running` drops to zero. */
  onIdle: () => void;
  jobsInFlight: number;
  maxJobsInFlight: number;
  /** Invariant 5, for the store now open (undefined before format and while a crashed store is reopened). */
  invariants: StepInvariants | undefined;
}

function keyOf(i: number, keyBytes = 2): Buffer {
  const name = Buffer.from(`k${i}`);
  return name.length >= keyBytes ? name : Buffer.concat([name, Buffer.alloc(keyBytes - name.length, 0x2e)]);
}

function valueFor(rng: Rng, max: number): Buffer {
  const size = rng.pick([0, 1, 4095, 4096, 6000, 6001, rng.int(0, max)]);
  return rng.bytes(Math.min(size, max));
}

function pickInput(rng: Rng, h: Harness): KvInput {
  const [p, g, d, l] = h.mix;
  const r = rng.int(0, p + g + d + l - 1);
  const key = keyOf(rng.int(0, h.keys - 1), h.keyBytes);
  if (r < p) return { kind: 'put', key, value: valueFor(rng, h.maxValueBytes) };
  if (r < p + g) return { kind: 'get', key };
  if (r < p + g + d) return { kind: 'delete', key };
  return { kind: 'list', prefix: Buffer.from('k'), limit: rng.int(1, h.keys + 1) };
}

/** The value through the streaming read, chunk by chunk. */
async function readWhole(api: ShardNode, key: Buffer): Promise<Buffer> {
  const reader = await api.read(key);
  const parts: Buffer[] = [];
  for await (const part of reader.body) parts.push(part);
  return Buffer.concat(parts);
}

/**
 * A get of `key` issued now, in the caller's turn: the store's synchronous
 * part (the overlay, the memtable, the cache) runs before anything else
 * can. Half stream through read(), half use get(). Recorded as a call of
 * `clientId`; an error other than NotFound fails the run.
 */
function readNow(run: Run, clientId: number, key: Buffer, rng: Rng): Promise<void> {
  const id = run.rec.invoke(clientId, { kind: 'get', key });
  const reading = rng.bool() ? readWhole(run.node, key) : getOrFind(run.node, key, id);
  return reading.then(
    (value) => {
      if (!run.crashed) run.rec.respond(id, { kind: 'value', value });
    },
    (err: unknown) => {
      if (run.crashed) return;
      if (isNotFound(err)) run.rec.respond(id, outputOfError(err));
      else run.failure ??= `get(${formatKey(key)}) failed: ${err instanceof Error ? err.message : String(err)}`;
    },
  );
}

/**
 * A whole get: get() for even call ids, find() for odd ones (getViaFind:
 * the history records both alike). By the call id, not the rng: the
 * schedules of every seed stay as they were.
 */
function getOrFind(api: ShardApi, key: Buffer, id: number): Promise<Buffer> {
  return id % 2 === 0 ? api.get(key) : getViaFind(api, key);
}

function isNotFound(err: unknown): boolean {
  return err instanceof ShardStoreError && err.code === 'NotFound';
}

/** Issue one call; returns its output. Durability is awaited for half of the puts. */
async function call(run: Run, id: number, input: KvInput, rng: Rng): Promise<KvOutput> {
  const api = run.node;
  switch (input.kind) {
    case 'put': {
      const dep = await api.put(input.key, input.value);
      run.deps.set(id, dep);
      if (rng.bool()) await dep.persisted();
      return { kind: 'ok' };
    }
    case 'get':
      // Half the gets stream (read(), what the HTTP server uses): its body
      // holds locators across turns, which is the race read tracking covers;
      // get() answers a cached value without waiting.
      return { kind: 'value', value: rng.bool() ? await readWhole(api, input.key) : await getOrFind(api, input.key, id) };
    case 'delete': {
      run.deps.set(id, await api.delete(input.key));
      return { kind: 'ok' };
    }
    case 'list': {
      const r = await api.list({ ...(input.prefix === undefined ? {} : { prefix: input.prefix }), ...(input.limit === undefined ? {} : { limit: input.limit }) });
      return { kind: 'keys', keys: r.shards.map((s) => s.key), truncated: r.truncated };
    }
  }
}

function client(run: Run, h: Harness, c: number, rng: Rng) {
  return finishing(run, async (ctx: TaskContext): Promise<void> => {
    for (let i = 0; i < h.callsPerClient && !run.crashed; i++) {
      await ctx.yield();
      if (run.crashed) return;
      if (h.bulk === true && rng.bool()) {
        await bulkCall(run, h, c, rng);
        continue;
      }
      await singleCall(run, h, c, rng);
    }
  });
}

/**
 * One call. A quarter of the puts have a get of their key issued in the
 * same turn, racing the put in flight (it may see the old or the new
 * value); half the puts and deletes that return are followed, in the turn
 * they return, by a get of their key, which must see the change.
 */
async function singleCall(run: Run, h: Harness, c: number, rng: Rng): Promise<void> {
  const input = pickInput(rng, h);
  const id = run.rec.invoke(c, input);
  const racing = input.kind === 'put' && rng.int(0, 3) === 0 ? readNow(run, RACING_READER + c, input.key, rng) : undefined;
  let output: KvOutput;
  try {
    output = await call(run, id, input, rng);
  } catch (err: unknown) {
    // No faults are injected here: the only error a call may end with
    // is NotFound. Corruption or an IO error means the engine read
    // something it should not have (a reset extent, a stale locator).
    if (!run.crashed && !isNotFound(err)) throw err;
    output = outputOfError(err);
  }
  if (run.crashed) return;
  run.rec.respond(id, output);
  const changed = output.kind === 'ok' && (input.kind === 'put' || input.kind === 'delete');
  const after = changed && rng.bool() ? readNow(run, SAME_TURN_READER + c * 10, input.key, rng) : undefined;
  await Promise.all([racing, after]);
}

/**
 * A bulk create or remove of 2-3 distinct keys through the node. Keys are
 * applied independently (docs/CONTROL_PLANE.md), so each key's outcome is
 * recorded as its own call spanning the bulk call: applied is ok, absent is
 * NotFound, failed is an unknown outcome. Half the time every key is read
 * in the turn the call returns.
 */
async function bulkCall(run: Run, h: Harness, c: number, rng: Rng): Promise<void> {
  const keys = [...new Set(Array.from({ length: rng.int(2, 3) }, () => rng.int(0, h.keys - 1)))].map((k) => keyOf(k, h.keyBytes));
  const create = rng.bool();
  const values = keys.map(() => valueFor(rng, h.maxValueBytes));
  const readAfter = rng.bool();
  const ids = keys.map((key, i) => run.rec.invoke(c * 100 + i + 1, create ? { kind: 'put', key, value: values[i] ?? Buffer.alloc(0) } : { kind: 'delete', key }));
  const result = create ? await run.node.bulkPut(keys.map((key, i) => ({ key, value: values[i] ?? Buffer.alloc(0) }))) : await run.node.bulkDelete(keys);
  if (run.crashed) return;
  result.outcomes.forEach((o, i) => {
    const id = ids[i];
    if (id === undefined) return;
    if (o.status === 'applied' && o.dependency !== undefined) run.deps.set(id, o.dependency);
    if (o.status === 'failed' && o.code !== 'NotFound') throw new Error(`bulk ${create ? 'create' : 'remove'} failed ${o.code}: ${o.message ?? ''}`);
    run.rec.respond(id, o.status === 'applied' ? { kind: 'ok' } : { kind: 'not-found' });
  });
  if (readAfter) await Promise.all(keys.map((key, i) => readNow(run, SAME_TURN_READER + c * 10 + i + 1, key, rng)));
}

/** Count a task as running until its body ends. */
function finishing(run: Run, body: (ctx: TaskContext) => Promise<void>) {
  run.running++;
  return async (ctx: TaskContext): Promise<void> => {
    try {
      await body(ctx);
    } finally {
      run.running--;
      if (run.running === 0) run.onIdle();
    }
  };
}

/**
 * Invariant 3: once the clients and background work are done, a clean
 * close leaves every dependency persistent. Invariant 6 with
 * `reopenAfterClose`: no run left busy, and a fresh open reads back what
 * the history allows.
 */
function closer(run: Run, h: Harness) {
  // Not a busy wait: under PCT a yielding loop with the top priority
  // would starve the very tasks it waits for.
  const idle = new Promise<void>((resolve) => {
    run.onIdle = resolve;
  });
  return async (): Promise<void> => {
    await idle;
    if (run.crashed) return;
    const busy = run.store.parts.index.stats().busyRuns;
    try {
      await run.store.close();
    } catch (err: unknown) {
      if (run.crashed) return; // the power went while closing
      throw err;
    }
    if (run.crashed) return;
    const pending = [...run.deps.values()].filter((d) => !d.isPersistent()).length;
    if (pending > 0) run.failure = `${pending} dependencies not persistent after a clean close`;
    else if (busy > 0) run.failure = `${busy} runs still busy in a job after every job ended`;
    else if (h.reopenAfterClose === true) await reopenAndCheck(run);
  };
}

/** Invariant 6: open a copy of the closed disk; every key must read back a value the history allows. */
async function reopenAndCheck(run: Run): Promise<void> {
  run.disk = run.disk.clone();
  run.store = await openDiskStore(run.disk, run.options);
  run.invariants = new StepInvariants(run.store, run.disk);
  const problem = await checkRecovery(run, new Set(run.deps.keys()));
  await run.store.close();
  if (problem !== undefined) run.failure = `after a clean close and a reopen: ${problem}`;
}

async function runJob(run: Run, op: BackgroundOp): Promise<void> {
  if (op === 'commit') await run.store.log.drain();
  else if (op === 'flush') await run.store.flush();
  else if (op === 'compact') await run.store.compact();
  else if (op === 'reclaim') await run.store.reclaim({ maxExtents: 2, maxLiveRatio: 1 });
  else if (op === 'reclaim-index') run.store.reclaimIndexExtents();
  else await run.store.checkpoint();
}

function background(run: Run, ops: readonly BackgroundOp[]) {
  return finishing(run, async (ctx: TaskContext): Promise<void> => {
    for (const op of ops) {
      await ctx.yield();
      if (run.crashed) return;
      run.jobsInFlight++;
      run.maxJobsInFlight = Math.max(run.maxJobsInFlight, run.jobsInFlight);
      try {
        await runJob(run, op);
      } catch (err: unknown) {
        if (run.crashed) return;
        throw err;
      } finally {
        run.jobsInFlight--;
      }
    }
  });
}

/** Cut the power after `delay` scheduler turns; then reopen and check recovery (invariant 2). */
function crasher(run: Run, rng: Rng, delay: number) {
  return async (ctx: TaskContext): Promise<void> => {
    for (let i = 0; i < delay; i++) await ctx.yield();
    const before = run.rec.history().length;
    run.crashTime = before;
    const persistent = new Set<number>();
    for (const [id, dep] of run.deps) if (dep.isPersistent()) persistent.add(id);
    run.crashed = true;
    run.rec.crash();
    run.store.abandon();
    run.invariants = undefined;
    const mode = rng.pick<CrashMode>(['drop-all', 'keep-all', 'subset', 'torn']);
    run.disk = run.disk.crash(rng.fork('crash'), mode).disk;
    run.store = await openDiskStore(run.disk, run.options);
    run.invariants = new StepInvariants(run.store, run.disk);
    const problem = await checkRecovery(run, persistent);
    if (problem !== undefined) run.failure = `after a crash (${mode}): ${problem}`;
  };
}

/** Invariant 2: recovered contents linearize with the mutations, the non-persistent ones of unknown outcome. */
async function checkRecovery(run: Run, persistent: ReadonlySet<number>): Promise<string | undefined> {
  const ops = run.rec.history();
  const end = Math.max(0, ...ops.map((o) => (Number.isFinite(o.ret) ? o.ret : o.call))) + 1;
  const mutations: KvOperation[] = ops
    .filter((o) => o.input.kind === 'put' || o.input.kind === 'delete')
    .filter((o) => o.output.kind !== 'not-found')
    .map((o) => (persistent.has(o.id) && o.output.kind === 'ok' ? o : { ...o, output: { kind: 'unknown' }, ret: end }));
  const keys = new Set(ops.flatMap((o) => ('key' in o.input ? [o.input.key.toString('latin1')] : [])));
  let t = end + 1;
  let id = Math.max(0, ...ops.map((o) => o.id)) + 1;
  const reads: KvOperation[] = [];
  for (const k of keys) {
    const key = Buffer.from(k, 'latin1');
    let output: KvOutput;
    try {
      output = { kind: 'value', value: await run.store.get(key) };
    } catch (err: unknown) {
      output = outputOfError(err);
    }
    reads.push({ id: id++, clientId: 1000, input: { kind: 'get', key }, output, call: t, ret: t + 1 });
    t += 2;
  }
  const result = checkLinearizable([...mutations, ...reads], { budgetMs: 5000 });
  if (result.outcome === 'violation') return `${result.violation.message}\n${result.violation.ops.map(formatOperation).join('\n')}`;
  return undefined;
}

/**
 * Before the clients start: every key gets a multi-chunk value, and half of
 * them a second one, so data extents hold live and dead chunks and
 * reclamation has victims from the first call on. Recorded like any call.
 */
async function prefill(run: Run, h: Harness, rng: Rng): Promise<void> {
  for (let round = 0; round < 2; round++) {
    for (let k = round; k < h.keys; k += round + 1) {
      const input: KvInput = { kind: 'put', key: keyOf(k, h.keyBytes), value: rng.bytes(rng.int(12_000, 24_000)) };
      const id = run.rec.invoke(99, input);
      const dep = await run.store.put(input.key, input.value);
      run.deps.set(id, dep);
      await dep.persisted();
      run.rec.respond(id, { kind: 'ok' });
    }
  }
}

/** Run one harness under one schedule. */
export async function runHarness(h: Harness, token: string): Promise<HarnessResult> {
  // Invariant 5 at every scheduling point (`run` is set before the scheduler runs).
  const sched = new SimScheduler(token, { maxSteps: 200_000, invariant: () => run.invariants?.check() });
  const rng = sched.rng('workload');
  // Room in the manifest for runs of 1,000-byte keys (each run descriptor carries its first and last key).
  // Half the schedules run without a buffer cache: every chunk read then
  // waits on the disk, which is where a read and a reset of its extent race
  // (with the cache, recently written chunks are answered from memory).
  const cacheBytes = sched.rng('cache').bool() ? SMALL_CONFIG.cacheBytes : 0;
  const options: FormatOptions = { ...formatOptions(SMALL_CONFIG, sched.rng('chunk-ids')), cacheBytes, clock: sched.clock, background: false, maxManifestBytes: 128 * 1024 };
  const disk = new SimDisk({ sizeBytes: SMALL_CONFIG.diskSizeBytes, pageSizeBytes: SMALL_CONFIG.pageSizeBytes, fillSeed: 1, scheduler: sched.ioScheduler });
  const unset = undefined as unknown;
  const run: Run = {
    disk,
    store: unset as DiskStore,
    node: unset as ShardNode,
    crashed: false,
    crashTime: 0,
    rec: new HistoryRecorder(),
    deps: new Map(),
    options,
    failure: undefined,
    running: 0,
    onIdle: () => undefined,
    jobsInFlight: 0,
    maxJobsInFlight: 0,
    invariants: undefined,
  };
  sched.spawn('main', async () => {
    run.store = await formatDiskStore(run.disk, options);
    run.node = new ShardNode([run.store]);
    run.invariants = new StepInvariants(run.store, run.disk);
    await prefill(run, h, rng.fork('prefill'));
    for (let c = 0; c < h.clients; c++) sched.spawn(`client${c}`, client(run, h, c, rng.fork(`client${c}`)));
    sched.spawn('background', background(run, h.background));
    for (let j = 0; j < (h.jobs?.tasks ?? 0); j++) {
      const jobs = rng.fork(`jobs${j}`);
      sched.spawn(`jobs${j}`, background(run, Array.from({ length: h.jobs?.opsPerTask ?? 0 }, () => jobs.pick(JOB_ALPHABET))));
    }
    sched.spawn('closer', closer(run, h));
    if (h.crash) sched.spawn('crasher', crasher(run, rng.fork('crasher'), rng.int(1, h.clients * h.callsPerClient * 3)));
  });
  const report = await sched.run();
  const base = { token, calls: run.rec.history().length, crashStates: h.crash && run.crashed ? 1 : 0, steps: report.steps, maxJobsInFlight: run.maxJobsInFlight };
  if (report.outcome !== 'ok') return { ...base, ok: false, message: `${report.outcome}: ${report.message}` };
  if (run.failure !== undefined) return { ...base, ok: false, message: run.failure };
  const lin = checkLinearizable(run.rec.history(), { budgetMs: 5000 });
  if (lin.outcome === 'violation') {
    return { ...base, ok: false, message: `not linearizable: ${lin.violation.message}\n${lin.violation.ops.map(formatOperation).join('\n')}` };
  }
  return { ...base, ok: true, message: lin.outcome === 'unknown' ? `linearizability unknown: ${lin.reason}` : 'ok' };
}
