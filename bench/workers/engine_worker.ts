// One embedded system (ours or a peer) through every engine workload, in
// this child process only:
//   put cells    durable puts of distinct keys, each size x in-flight count;
//   get cells    a data set per size loaded, then gets warm (after one pass
//                over the set) and cold (store closed, page cache dropped,
//                store reopened: each key read at most once);
//   mixed        90% get / 10% durable put over a zipfian 4 KiB key set;
//   churn        overwrites and deletes on a small store until reclamation
//                (or compaction) runs, then a measured window: put rate and
//                write amplification (bytes to disk / bytes put).
// Every get checks the value's length and stamp: a wrong answer fails the
// run rather than counting as a fast one.
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { EngineOpenOptions, EngineSpec, KvEngine } from '../engines/engine.js';
import { engineSpec } from '../engines/registry.js';
import { childTask, progress, runChild, send } from '../lib/child.js';
import { Rng, Zipf, closedLoop } from '../lib/loop.js';
import { deviceWrittenBytes, dropPageCache, processReadBytes } from '../lib/os.js';
import { loopRow, report, round } from '../lib/rows.js';
import { KiB, WorkerValues, makeValue, sizeLabel, takeValue } from '../lib/task.js';
import type { EngineTask, SizeSet } from '../lib/task.js';

runChild(async () => {
  const task = childTask() as EngineTask;
  const spec = engineSpec(task.engine);
  await mkdir(task.dir, { recursive: true });
  if (task.preallocatedPath !== undefined) {
    await putCellsPreallocated(spec, task, task.preallocatedPath);
    return;
  }
  const capacityBytes = task.sizes.reduce((n, s) => n + s.putCapBytes * task.inFlights.length + s.getKeys * s.sizeBytes, 0) + task.mixedKeys * 4 * KiB;
  const openOptions: EngineOpenOptions = { capacityBytes, format: true };
  let engine = await openIn(spec, join(task.dir, 'main'), openOptions);
  for (const s of task.sizes) for (const n of task.inFlights) await putCell(engine, spec, s, n, task);
  if (task.putsOnly) {
    await engine.close();
    return;
  }
  for (const s of task.sizes) engine = await getCells(engine, spec, s, task, { ...openOptions, format: false });
  await mixedCells(engine, spec, task);
  await engine.close();
  await rm(join(task.dir, 'main'), { recursive: true, force: true });
  await churnCell(spec, task);
});

async function openIn(spec: EngineSpec, dir: string, options: EngineOpenOptions): Promise<KvEngine> {
  await mkdir(dir, { recursive: true });
  return spec.open(dir, options);
}

function putKey(s: SizeSet, inFlight: number, i: number): Buffer {
  return Buffer.from(`put/${s.sizeBytes}/${inFlight}/${i.toString().padStart(9, '0')}`);
}

async function putCell(engine: KvEngine, spec: EngineSpec, s: SizeSet, inFlight: number, task: EngineTask): Promise<void> {
  const values = new WorkerValues(randomBytes(s.sizeBytes));
  const where = task.preallocatedPath ?? task.dir;
  const io0 = { read: processReadBytes(), device: deviceWrittenBytes(where) };
  const r = await closedLoop({
    inFlight,
    durationMs: task.durations.putMs,
    maxOps: Math.max(1, Math.floor(s.putCapBytes / s.sizeBytes)),
    op: async (i, w) => {
      await engine.put(putKey(s, inFlight, i), values.stamped(w, i));
      return s.sizeBytes;
    },
  });
  // Disk reads during puts are read-modify-write of partly written pages;
  // what the device wrote over bytes put is amplification (writeAmp).
  const extra: Record<string, number> = { diskReadMiB: round((processReadBytes() - io0.read) / (1024 * 1024), 1) };
  const amp = writeAmp(where, io0.device, r.bytes);
  if (amp !== undefined) extra.writeAmpDevice = amp;
  await report(loopRow({ section: 'put', system: spec.name, kind: spec.kind, sizeBytes: s.sizeBytes, inFlight }, r, { extra }));
}

/** The preallocated variant: a freshly formatted store on the shared preallocated file for each cell. */
async function putCellsPreallocated(spec: EngineSpec, task: EngineTask, path: string): Promise<void> {
  for (const s of task.sizes) {
    for (const n of task.inFlights) {
      const engine = await openIn(spec, task.dir, { capacityBytes: s.putCapBytes, format: true, preallocatedPath: path });
      await putCell(engine, spec, s, n, task);
      await engine.close();
    }
  }
}

function getKey(s: SizeSet, i: number): Buffer {
  return Buffer.from(`get/${s.sizeBytes}/${i.toString().padStart(9, '0')}`);
}

/** Load the size's data set, then warm and cold cells; returns the (reopened) engine. */
async function getCells(engine: KvEngine, spec: EngineSpec, s: SizeSet, task: EngineTask, reopen: EngineOpenOptions): Promise<KvEngine> {
  const base = randomBytes(s.sizeBytes);
  const keys = Array.from({ length: s.getKeys }, (_, i) => getKey(s, i));
  const t0 = performance.now();
  await engine.load(keys, (i) => makeValue(base, i));
  await progress(`${spec.name}: loaded ${s.getKeys} x ${sizeLabel(s.sizeBytes)} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const check = async (e: KvEngine, i: number): Promise<number> => {
    const v = await e.get(keys[i] ?? Buffer.alloc(0));
    // The caller owns what a get returns (KvEngine.get): takeValue scribbles
    // over the stamp it checked. An engine that handed out its cached bytes
    // fails the next get of this key with "wrong stamp" instead of timing a
    // reference as a read.
    if (!takeValue(v, i, s.sizeBytes)) throw new Error(`${spec.name}: get of key ${i} (${sizeLabel(s.sizeBytes)}) returned ${v === undefined ? 'nothing' : `${v.length} bytes, wrong stamp`}`);
    return s.sizeBytes;
  };
  // Warm: one pass over the set (bounded in time), then random gets.
  const warmUntil = performance.now() + 4 * task.durations.getMs;
  for (let i = 0; i < s.getKeys && performance.now() < warmUntil; i++) await check(engine, i);
  const rng = new Rng(task.seed + s.sizeBytes);
  for (const inFlight of task.inFlights) {
    const r = await closedLoop({ inFlight, durationMs: task.durations.getMs, maxOps: Number.MAX_SAFE_INTEGER, op: () => check(engine, rng.below(s.getKeys)) });
    await report(loopRow({ section: 'get warm', system: spec.name, kind: spec.kind, sizeBytes: s.sizeBytes, inFlight }, r));
  }
  // Cold: closed, page cache dropped, reopened; each key at most once.
  for (const inFlight of task.inFlights) {
    await engine.close();
    const dropped = dropPageCache();
    engine = await openIn(spec, join(task.dir, 'main'), reopen);
    const order = rng.permutation(s.getKeys);
    const r = await closedLoop({ inFlight, durationMs: task.durations.getMs, maxOps: s.getKeys, op: (i) => check(engine, order[i] ?? 0) });
    const note = dropped ? undefined : 'page cache not dropped (no permission): engine caches cold only';
    await report(loopRow({ section: 'get cold', system: spec.name, kind: spec.kind, sizeBytes: s.sizeBytes, inFlight }, r, note === undefined ? {} : { note }));
  }
  return engine;
}

async function mixedCells(engine: KvEngine, spec: EngineSpec, task: EngineTask): Promise<void> {
  const size = 4 * KiB;
  const base = randomBytes(size);
  const keys = Array.from({ length: task.mixedKeys }, (_, i) => Buffer.from(`mixed/${i.toString().padStart(9, '0')}`));
  await engine.load(keys, (i) => makeValue(base, i));
  const values = new WorkerValues(base);
  for (const inFlight of task.inFlights) {
    const rng = new Rng(task.seed + inFlight);
    const zipf = new Zipf(task.mixedKeys, rng);
    let puts = 0;
    const r = await closedLoop({
      inFlight,
      durationMs: task.durations.mixedMs,
      maxOps: Number.MAX_SAFE_INTEGER,
      op: async (_, w) => {
        const k = zipf.next();
        const key = keys[k] ?? Buffer.alloc(0);
        if (rng.next() < 0.1) {
          puts++;
          await engine.put(key, values.stamped(w, k));
        } else {
          const v = await engine.get(key);
          if (!takeValue(v, k, size)) throw new Error(`${spec.name}: mixed get of key ${k} returned a wrong value`);
        }
        return size;
      },
    });
    await report(loopRow({ section: 'mixed', workload: 'mixed 90/10 zipf', system: spec.name, kind: spec.kind, sizeBytes: size, inFlight }, r, { extra: { putShare: round(puts / Math.max(1, r.ops), 3) } }));
  }
}

/**
 * Overwrite (80%) and delete (20%) random keys of a live set on a small
 * store, durable each. A key is touched by one operation at a time (a
 * delete of a key another operation is re-putting would be a race of the
 * workload, not of the store).
 */
async function churnCell(spec: EngineSpec, task: EngineTask): Promise<void> {
  const c = task.churn;
  const dir = join(task.dir, 'churn');
  const engine = await openIn(spec, dir, { capacityBytes: c.diskBytes, format: true, diskBytes: c.diskBytes, extentSizeBytes: c.extentBytes });
  const base = randomBytes(c.sizeBytes);
  const keys = Array.from({ length: c.liveKeys }, (_, i) => Buffer.from(`churn/${i.toString().padStart(9, '0')}`));
  await engine.load(keys, (i) => makeValue(base, i));
  const present = new Uint8Array(c.liveKeys).fill(1);
  const busy = new Set<number>();
  const rng = new Rng(task.seed + 7);
  let bytesPut = 0;
  const values = new WorkerValues(base);
  const op = async (_: number, w: number): Promise<number> => {
    let k = rng.below(c.liveKeys);
    while (busy.has(k)) k = (k + 1) % c.liveKeys;
    busy.add(k);
    try {
      const key = keys[k] ?? Buffer.alloc(0);
      if (present[k] === 1 && rng.next() < 0.2) {
        await engine.del(key);
        present[k] = 0;
        return 0;
      }
      await engine.put(key, values.stamped(w, k));
      present[k] = 1;
      bytesPut += c.sizeBytes;
      return c.sizeBytes;
    } finally {
      busy.delete(k);
    }
  };
  // Warm-up: until reclamation ran (ours) or a disk's worth was put (peers), bounded in time.
  const warmStart = performance.now();
  while (performance.now() - warmStart < task.durations.churnWarmupMs) {
    await closedLoop({ inFlight: c.inFlight, durationMs: 250, maxOps: Number.MAX_SAFE_INTEGER, op });
    const reclaimed = engine.counters?.().reclaimedExtents;
    if (reclaimed !== undefined ? reclaimed > 0 : bytesPut >= c.diskBytes) break;
  }
  const before = { put: bytesPut, engine: engine.engineBytesWritten?.(), device: deviceWrittenBytes(dir), counters: engine.counters?.() };
  const r = await closedLoop({ inFlight: c.inFlight, durationMs: task.durations.churnMs, maxOps: Number.MAX_SAFE_INTEGER, op });
  const put = bytesPut - before.put;
  const extra: Record<string, number | string> = {};
  const amp = writeAmp(dir, before.device, put);
  if (amp !== undefined) extra.writeAmpDevice = amp;
  const engineNow = engine.engineBytesWritten?.();
  if (engineNow !== undefined && before.engine !== undefined) extra.writeAmpEngine = round((engineNow - before.engine) / Math.max(1, put), 2);
  const after = engine.counters?.();
  if (after !== undefined && before.counters !== undefined) {
    extra.reclaimedExtents = (after.reclaimedExtents ?? 0) - (before.counters.reclaimedExtents ?? 0);
    extra.movedMiB = round(((after.movedBytes ?? 0) - (before.counters.movedBytes ?? 0)) / (1024 * 1024), 1);
  }
  const note = after !== undefined && extra.reclaimedExtents === 0 ? 'no extent reclaimed during the window' : undefined;
  const putRate = { ...r, mbPerSec: put / r.seconds / 1e6 };
  await report(
    loopRow({ section: 'churn', workload: 'overwrite/delete churn', system: spec.name, kind: spec.kind, sizeBytes: c.sizeBytes, inFlight: c.inFlight }, putRate, {
      extra: { ...extra, warmupS: round((performance.now() - warmStart) / 1000 - r.seconds, 1) },
      ...(note === undefined ? {} : { note }),
    }),
  );
  await engine.close();
  await send({ kind: 'progress', text: `${spec.name}: churn done` });
}

/**
 * Bytes the device under `path` wrote since `before` (deviceWrittenBytes)
 * over `bytesPut`; undefined off a block device. The engines' puts are
 * durable, so what they wrote has reached the device when a cell ends.
 */
function writeAmp(path: string, before: number | undefined, bytesPut: number): number | undefined {
  const now = deviceWrittenBytes(path);
  return before === undefined || now === undefined ? undefined : round((now - before) / Math.max(1, bytesPut), 2);
}
