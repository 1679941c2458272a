// Control-plane calls racing requests (issue 13): a ShardNode of two
// simulated disks, clients putting, deleting and reading (whole or
// streamed) on a handful of keys, most of them on disk 0, while control
// tasks take disk 0 out of service and back, bulk create and remove,
// scrub, export and import, reclaim, compact, flush and checkpoint, all
// interleaved by the deterministic scheduler (testing/concurrency/). The
// other node checks issue control calls only between steps, after the
// commit loop has settled; here they land while puts are writing chunks,
// deletes are staging, commits are in flight and streamed bodies are half
// read. A schedule token replays a run exactly.
//
// Strategy: after a prefill (every key durable, then an index flush so
// lookups read runs from the disk), CLIENTS clients make CALLS_PER_CLIENT
// calls each and CONTROLS control tasks CONTROL_CALLS each; every call is
// recorded in one history (put / get / delete per key; a bulk call's keys,
// an import's records and an export's records as calls over the bulk
// call's interval). Streaming puts and reads yield to the scheduler between
// pieces, so a control call can land mid-body. When every task is done,
// every disk returns to service, a put and a get on each disk must go
// through (forward progress), the node closes cleanly, and reopens from
// its disks, where every key is read once more into the history.
//
// Invariants:
// 1. A call racing the control plane ends as it would alone, or fails with
//    Unavailable (its disk is leaving or out of service) and then has no
//    effect; NotFound only as an answer. Any other error (Closed, an IO
//    error, an assertion of the engine) is a finding: it is what a user
//    would see as a 500.
// 2. The history, with the reads after the clean reopen, is linearizable
//    (per-key register; a call that failed with Unavailable is left out,
//    so if it took effect after all, some read cannot be explained).
// 3. An export that completes is a well-formed stream (byte for byte the
//    format's for its records); each record is a read of its key over the
//    export's interval, each key in range it left out a read of absence.
// 4. Scrub never reports damage (there is none) and names only disks that
//    were out of service or left it as not scrubbed.
// 5. Progress: no deadlock or stall (the scheduler reports one with the
//    blocked tasks: a hang); after the race, a put and a get on every disk
//    succeed; a clean close leaves every acknowledged Dependency persistent.
import { ShardStoreError, crc32c } from '../src/base/index.js';
import type { Dependency } from '../src/dependency/index.js';
import { formatDiskStore, openDiskStore } from '../src/store/index.js';
import { ShardNode } from '../src/node/index.js';
import type { DiskStore, FormatOptions } from '../src/store/index.js';
import { HistoryRecorder, formatOperation } from './concurrency/history.js';
import type { KvInput, KvOperation, KvOutput } from './concurrency/history.js';
import { checkLinearizable } from './concurrency/linearizability.js';
import { SimScheduler } from './concurrency/scheduler.js';
import type { TaskContext } from './concurrency/scheduler.js';
import { SMALL_CONFIG, formatOptions } from './conformance.js';
import { buildStream, decodeStream } from './migration_streams.js';
import type { StreamRecord } from './migration_streams.js';
import type { Rng } from './rng.js';
import { SimDisk } from './sim_disk.js';

export const CLIENTS = 3;
export const CALLS_PER_CLIENT = 6;
export const CONTROLS = 2;
export const CONTROL_CALLS = 4;
/** Keys of disk 0 (where the control plane acts) and of disk 1. */
const KEYS_ON = [4, 2] as const;
const DISKS = 2;

export type ControlCall = 'disk-out' | 'disk-in' | 'bulk-create' | 'bulk-remove' | 'scrub' | 'export' | 'import' | 'reclaim' | 'compact' | 'flush' | 'checkpoint';

/** Weighted: leaving and returning to service most, since every other call races it. */
const CONTROL_MIX: ReadonlyArray<readonly [ControlCall, number]> = [
  ['disk-out', 4],
  ['disk-in', 3],
  ['bulk-create', 2],
  ['bulk-remove', 2],
  ['scrub', 1],
  ['export', 2],
  ['import', 2],
  ['reclaim', 2],
  ['compact', 1],
  ['flush', 1],
  ['checkpoint', 1],
];

export interface ControlRaceResult {
  readonly ok: boolean;
  readonly message: string;
  readonly token: string;
  readonly calls: number;
  readonly controlCalls: number;
  readonly steps: number;
}

interface World {
  readonly sched: SimScheduler;
  readonly disks: SimDisk[];
  readonly options: FormatOptions;
  node: ShardNode;
  readonly rec: HistoryRecorder;
  /** Acknowledged mutations' dependencies, by history id. */
  readonly deps: Map<number, Dependency>;
  readonly keys: readonly Buffer[];
  controlCalls: number;
  running: number;
  onIdle: () => void;
}

/** Only Unavailable (the disk is leaving or out) and NotFound may come of a call racing the control plane. */
class RaceFinding extends Error {
  override readonly name = 'RaceFinding';
}

function errorText(err: unknown): string {
  if (err instanceof ShardStoreError) return `${err.code}: ${err.message}`;
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

function isCode(err: unknown, code: string): boolean {
  return err instanceof ShardStoreError && err.code === code;
}

/** The first keys `k<i>` that land on each disk, KEYS_ON[d] of disk d. */
function poolKeys(): Buffer[] {
  const out: Buffer[] = [];
  const want: number[] = [...KEYS_ON];
  for (let i = 0; want.some((n) => n > 0); i++) {
    const key = Buffer.from(`k${i}`);
    const d = crc32c(key) % DISKS;
    if ((want[d] ?? 0) > 0) {
      out.push(key);
      want[d] = (want[d] ?? 0) - 1;
    }
  }
  return out.sort((a, b) => Buffer.compare(a, b));
}

function valueFor(rng: Rng): Buffer {
  const max = 14_000;
  return rng.bytes(Math.min(rng.pick([0, 1, 4095, 6000, 6001, rng.int(0, max)]), max));
}

/** A streamed value: two or three pieces, the scheduler picking another task between them. */
async function* streamed(value: Buffer, ctx: TaskContext): AsyncGenerator<Buffer> {
  const cut = Math.floor(value.length / 2);
  yield value.subarray(0, cut);
  await ctx.yield();
  yield value.subarray(cut);
}

/** A body read piece by piece, the scheduler picking another task between pieces. */
async function drainBody(body: AsyncIterable<Buffer>, ctx: TaskContext): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of body) {
    parts.push(part);
    await ctx.yield();
  }
  return Buffer.concat(parts);
}

/**
 * Record one call: `run` answers its output; Unavailable leaves it out of
 * the history (no effect), NotFound answers not-found, anything else is a
 * finding (invariant 1).
 */
async function recorded(w: World, client: number, input: KvInput, run: (id: number) => Promise<KvOutput>): Promise<void> {
  const id = w.rec.invoke(client, input);
  let output: KvOutput;
  try {
    output = await run(id);
  } catch (err: unknown) {
    if (isCode(err, 'Unavailable')) return w.rec.discard(id);
    if (isCode(err, 'NotFound')) return w.rec.respond(id, { kind: 'not-found' });
    throw new RaceFinding(`${formatOperation({ id, clientId: client, input, output: { kind: 'unknown' }, call: 0, ret: 0 })} failed with ${errorText(err)} (only Unavailable or NotFound may come of a call racing the control plane)`, { cause: err });
  }
  w.rec.respond(id, output);
}

async function clientCall(w: World, c: number, rng: Rng, ctx: TaskContext): Promise<void> {
  const key = rng.pick(w.keys);
  const r = rng.int(0, 9);
  if (r < 5) {
    const value = valueFor(rng);
    const stream = rng.bool();
    const durable = rng.bool();
    return recorded(w, c, { kind: 'put', key, value }, async (id) => {
      const dep = await w.node.put(key, stream ? streamed(value, ctx) : value);
      w.deps.set(id, dep);
      if (durable) await dep.persisted();
      return { kind: 'ok' };
    });
  }
  if (r < 8) {
    const whole = rng.bool();
    return recorded(w, c, { kind: 'get', key }, async () => {
      if (whole) return { kind: 'value', value: await w.node.get(key) };
      const reader = await w.node.read(key);
      return { kind: 'value', value: await drainBody(reader.body, ctx) };
    });
  }
  return recorded(w, c, { kind: 'delete', key }, async (id) => {
    w.deps.set(id, await w.node.delete(key));
    return { kind: 'ok' };
  });
}

/** A bulk call: each key its own call over the bulk call's interval (keys are applied independently). */
async function bulkCall(w: World, c: number, rng: Rng, create: boolean): Promise<void> {
  const keys = rng.shuffle([...w.keys]).slice(0, rng.int(2, 3));
  const values = keys.map(() => valueFor(rng));
  const ids = keys.map((key, i) => w.rec.invoke(c, create ? { kind: 'put', key, value: values[i] ?? Buffer.alloc(0) } : { kind: 'delete', key }));
  const result = create ? await w.node.bulkPut(keys.map((key, i) => ({ key, value: values[i] ?? Buffer.alloc(0) }))) : await w.node.bulkDelete(keys);
  result.outcomes.forEach((o, i) => {
    const id = ids[i];
    if (id === undefined) return;
    if (o.status === 'failed' && o.code === 'Unavailable') return w.rec.discard(id);
    if (o.status === 'failed') throw new RaceFinding(`bulk ${create ? 'create' : 'remove'} of ${o.key.toString('latin1')} failed with ${o.code}: ${o.message ?? ''} (only Unavailable may)`);
    if (o.dependency !== undefined) w.deps.set(id, o.dependency);
    w.rec.respond(id, o.status === 'applied' ? { kind: 'ok' } : { kind: 'not-found' });
  });
}

/** Invariant 3: a complete export is well-formed; its records are reads over its interval, the keys it left out reads of absence. */
async function exportCall(w: World, c: number, ctx: TaskContext): Promise<void> {
  const ids = w.keys.map((key) => ({ key, id: w.rec.invoke(c, { kind: 'get', key }) }));
  const parts: Buffer[] = [];
  try {
    for await (const part of w.node.exportRange({})) {
      parts.push(part);
      await ctx.yield();
    }
  } catch (err: unknown) {
    if (!isCode(err, 'Unavailable')) throw new RaceFinding(`export failed with ${errorText(err)} (only Unavailable may: a disk left service)`, { cause: err });
    for (const { id } of ids) w.rec.discard(id);
    return;
  }
  const bytes = Buffer.concat(parts);
  const decoded = await decodeStream(bytes);
  if (!decoded.complete) throw new RaceFinding(`export ended without error but its stream is not whole: ${decoded.error ?? 'no end record'}`);
  if (!buildStream({}, decoded.records).bytes.equals(bytes)) throw new RaceFinding('export: the bytes differ from the format of the records it holds');
  const got = new Map(decoded.records.map((r) => [r.key.toString('latin1'), r.value]));
  for (const { key, id } of ids) {
    const value = got.get(key.toString('latin1'));
    w.rec.respond(id, value === undefined ? { kind: 'not-found' } : { kind: 'value', value });
  }
}

/** Records of an import: puts over the import's interval; those after a refusal with Unavailable never happened. */
async function importCall(w: World, c: number, rng: Rng, ctx: TaskContext): Promise<void> {
  const keys = rng.shuffle([...w.keys]).slice(0, rng.int(1, 3)).sort((a, b) => Buffer.compare(a, b));
  const records: StreamRecord[] = keys.map((key) => ({ key, value: valueFor(rng) }));
  const ids = records.map((r) => w.rec.invoke(c, { kind: 'put', key: r.key, value: r.value }));
  const bytes = buildStream({}, records).bytes;
  async function* source(): AsyncGenerator<Buffer> {
    const cut = Math.floor(bytes.length / 2);
    yield bytes.subarray(0, cut);
    await ctx.yield();
    yield bytes.subarray(cut);
  }
  const report = await w.node.importStream(source());
  if (report.error !== undefined && report.error.code !== 'Unavailable') throw new RaceFinding(`import stopped with ${report.error.code}: ${report.error.message} (only Unavailable may)`);
  ids.forEach((id, i) => (i < report.records ? w.rec.respond(id, { kind: 'ok' }) : w.rec.discard(id)));
  if (report.records > 0) ids.slice(0, report.records).forEach((id) => w.deps.set(id, report.dependency));
}

/** Invariant 4: no false alarm, and only disks out (or leaving) go unscrubbed. */
async function scrubCall(w: World): Promise<void> {
  const r = await w.node.scrub();
  if (r.counters.damagedShards > 0 || r.counters.damagedIndexChunks > 0) {
    throw new RaceFinding(`scrub reported damage that is not there: ${r.counters.damagedShards} shard(s), ${r.counters.damagedIndexChunks} index chunk(s) (${JSON.stringify(r.damaged.slice(0, 2).map((d) => d.key.toString('latin1')))})`);
  }
  // 'Stopped' is how a scrub reports a disk closed under it (scrub_runner.ts): it left service.
  const bad = r.errors.filter((e) => e.code !== 'Unavailable' && e.code !== 'Stopped');
  if (bad.length > 0) throw new RaceFinding(`scrub of disk ${bad[0]?.disk ?? '?'} stopped with ${bad[0]?.code ?? '?'}: ${bad[0]?.message ?? ''} (only a disk leaving service may stop it)`);
}

async function controlCall(w: World, c: number, call: ControlCall, rng: Rng, ctx: TaskContext): Promise<void> {
  w.controlCalls++;
  const disk = rng.int(0, 3) === 0 ? 1 : 0;
  try {
    switch (call) {
      case 'disk-out':
        await w.node.takeOutOfService(disk);
        return;
      case 'disk-in':
        for (const d of w.node.disks()) if (d.state === 'out-of-service') await w.node.returnToService(d.disk);
        return;
      case 'bulk-create':
      case 'bulk-remove':
        return await bulkCall(w, c, rng, call === 'bulk-create');
      case 'scrub':
        return await scrubCall(w);
      case 'export':
        return await exportCall(w, c, ctx);
      case 'import':
        return await importCall(w, c, rng, ctx);
      case 'reclaim':
        await w.node.reclaim({ maxExtents: 2, maxLiveRatio: 1 });
        return;
      case 'compact':
        return await w.node.compact();
      case 'flush':
        return await w.node.flush();
      case 'checkpoint':
        // Straight to the stores (the node has no checkpoint call): one
        // closing under it answers Closed, which the node would translate.
        await Promise.all(
          w.node.stores.map(async (s) => {
            try {
              await s.checkpoint();
            } catch (err: unknown) {
              if (!isCode(err, 'Closed') || inService(w, s)) throw err;
            }
          }),
        );
        return;
    }
  } catch (err: unknown) {
    if (err instanceof RaceFinding) throw err;
    // A transition already under way ("disk 0 is closing; try again"), or a
    // disk leaving service under a node-wide call: Unavailable, by contract.
    if (isCode(err, 'Unavailable')) return;
    throw new RaceFinding(`control call ${call} failed with ${errorText(err)} (only Unavailable may)`, { cause: err });
  }
}

/** The store is still the one in service for its disk. */
function inService(w: World, store: DiskStore): boolean {
  return w.node.stores.includes(store);
}

function pickControl(rng: Rng): ControlCall {
  const total = CONTROL_MIX.reduce((n, [, weight]) => n + weight, 0);
  let r = rng.int(0, total - 1);
  for (const [call, weight] of CONTROL_MIX) {
    if (r < weight) return call;
    r -= weight;
  }
  return 'disk-out';
}

/** Count a task as running until its body ends; the last one wakes the finisher. */
function finishing(w: World, body: (ctx: TaskContext) => Promise<void>): (ctx: TaskContext) => Promise<void> {
  w.running++;
  return async (ctx) => {
    try {
      await body(ctx);
    } finally {
      if (--w.running === 0) w.onIdle();
    }
  };
}

async function prefill(w: World, rng: Rng): Promise<void> {
  for (const key of w.keys) {
    const value = rng.bytes(rng.int(6_001, 16_000));
    const id = w.rec.invoke(99, { kind: 'put', key, value });
    const dep = await w.node.put(key, value);
    w.deps.set(id, dep);
    await dep.persisted();
    w.rec.respond(id, { kind: 'ok' });
  }
  // Runs on disk, so lookups read the index from the disk and can interleave.
  await w.node.flush();
}

/** Invariant 5, then the reads after a clean reopen (invariant 2's last calls). */
async function finish(w: World): Promise<string | undefined> {
  for (const d of w.node.disks()) if (d.state !== 'in-service') await w.node.returnToService(d.disk);
  for (const [i, key] of [Buffer.from('progress/0'), Buffer.from('progress/1'), Buffer.from('progress/2')].entries()) {
    const value = Buffer.alloc(100 + i, i + 1);
    await (await w.node.put(key, value)).persisted();
    if (!(await w.node.get(key)).equals(value)) return `forward progress: ${key.toString()} read back other bytes after the race`;
  }
  await w.node.close();
  const pending = [...w.deps].filter(([, d]) => !d.isPersistent());
  if (pending.length > 0) {
    const [id, dep] = pending[0] ?? [0, undefined];
    const failure = dep?.failure();
    return `${pending.length} acknowledged mutation(s) not persistent after a clean close, e.g. #${id}${failure === undefined ? '' : ` (failed: ${errorText(failure)})`}`;
  }
  const stores: DiskStore[] = [];
  for (let i = 0; i < w.disks.length; i++) stores.push(await reopenDisk(w, i));
  w.node = new ShardNode(stores, { reopen: (i) => reopenDisk(w, i), clock: w.sched.clock });
  for (const key of w.keys) {
    await recorded(w, 1000, { kind: 'get', key }, async () => ({ kind: 'value', value: await w.node.get(key) }));
  }
  await w.node.close();
  return undefined;
}

async function reopenDisk(w: World, i: number): Promise<DiskStore> {
  const disk = w.disks[i]?.clone();
  if (disk === undefined) throw new RangeError(`no disk ${i}`);
  w.disks[i] = disk;
  return openDiskStore(disk, w.options);
}

async function setUp(sched: SimScheduler): Promise<World> {
  const cacheBytes = sched.rng('cache').bool() ? SMALL_CONFIG.cacheBytes : 0;
  const options: FormatOptions = { ...formatOptions(SMALL_CONFIG, sched.rng('chunk-ids')), cacheBytes, clock: sched.clock, background: false };
  const disks = Array.from({ length: DISKS }, (_, i) => new SimDisk({ sizeBytes: SMALL_CONFIG.diskSizeBytes, pageSizeBytes: SMALL_CONFIG.pageSizeBytes, fillSeed: i + 1, scheduler: sched.ioScheduler }));
  const nodeId = { low: 0xc7, high: 0x13 };
  const stores: DiskStore[] = [];
  for (const [i, disk] of disks.entries()) stores.push(await formatDiskStore(disk, { ...options, nodeId, diskIndex: i, diskCount: DISKS }));
  const w: World = {
    sched,
    disks,
    options,
    node: new ShardNode(stores, { reopen: (i) => reopenDisk(w, i), clock: sched.clock }),
    rec: new HistoryRecorder(),
    deps: new Map(),
    keys: poolKeys(),
    controlCalls: 0,
    running: 0,
    onIdle: () => undefined,
  };
  return w;
}

/** Run the race under one schedule (`random:seed=N` or `pct:d=3:k=300:seed=N`). */
export async function runControlRace(token: string): Promise<ControlRaceResult> {
  const sched = new SimScheduler(token, { maxSteps: 200_000 });
  const rng = sched.rng('workload');
  let world: World | undefined;
  let failure: string | undefined;
  sched.spawn('main', async () => {
    const w = await setUp(sched);
    world = w;
    await prefill(w, rng.fork('prefill'));
    const idle = new Promise<void>((resolve) => {
      w.onIdle = resolve;
    });
    for (let c = 0; c < CLIENTS; c++) {
      const r = rng.fork(`client${c}`);
      sched.spawn(`client${c}`, finishing(w, async (ctx) => {
        for (let i = 0; i < CALLS_PER_CLIENT; i++) {
          await ctx.yield();
          await clientCall(w, c, r, ctx);
        }
      }));
    }
    for (let c = 0; c < CONTROLS; c++) {
      const r = rng.fork(`control${c}`);
      sched.spawn(`control${c}`, finishing(w, async (ctx) => {
        for (let i = 0; i < CONTROL_CALLS; i++) {
          await ctx.yield();
          await controlCall(w, 100 + c, pickControl(r), r, ctx);
        }
      }));
    }
    await idle;
    failure = await finish(w);
  });
  const report = await sched.run();
  const history = world?.rec.history() ?? [];
  const base = { token, calls: history.length, controlCalls: world?.controlCalls ?? 0, steps: report.steps };
  if (report.outcome !== 'ok') return { ...base, ok: false, message: `${report.outcome}: ${report.message}` };
  if (failure !== undefined) return { ...base, ok: false, message: failure };
  return { ...base, ...linearizable(history) };
}

function linearizable(history: readonly KvOperation[]): { ok: boolean; message: string } {
  const lin = checkLinearizable([...history], { budgetMs: 5000 });
  if (lin.outcome === 'violation') return { ok: false, message: `not linearizable: ${lin.violation.message}\n${lin.violation.ops.map(formatOperation).join('\n')}` };
  return { ok: true, message: lin.outcome === 'unknown' ? `linearizability unknown: ${lin.reason}` : 'ok' };
}
