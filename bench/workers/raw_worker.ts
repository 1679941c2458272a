// The physical limit: what the file system and disk give a program that
// does nothing but IO, on one preallocated file (written whole once, so
// every write overwrites allocated blocks; SYSTEM.md section 5 measured
// that as 1.7x cheaper to sync than appends that grow a file).
//
// Rows:
// - put, "raw pwrite+fdatasync per op": each op writes its block and
//   fdatasyncs, `inFlight` ops at once (libuv's threads run them);
// - put, "raw batched fdatasync": `inFlight` writes at once, then one
//   fdatasync for all (ideal group commit: the number to beat);
// - get warm / get cold, "raw sequential pread": `inFlight` positional reads
//   at consecutive offsets; cold after dropping the page cache.
import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { childTask, progress, runChild, send } from '../lib/child.js';
import { closedLoop } from '../lib/loop.js';
import type { LoopResult } from '../lib/loop.js';
import { dropPageCache, load1, readAll } from '../lib/os.js';
import { loopRow, report } from '../lib/rows.js';
import { MiB } from '../lib/task.js';
import type { RawTask, SizeSet } from '../lib/task.js';

runChild(async () => {
  const task = childTask() as RawTask;
  const t0 = performance.now();
  const created = await ensurePreallocated(task.path, task.fileBytes);
  if (created) await progress(`raw: preallocated ${task.fileBytes / MiB} MiB in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const handle = await open(task.path, 'r+');
  try {
    for (const s of task.sizes) await rawPuts(handle, task, s);
    const canDrop = dropPageCache();
    if (!canDrop) await send({ kind: 'skip', what: 'raw get cold', reason: 'cannot write /proc/sys/vm/drop_caches' });
    for (const s of task.sizes) await rawReads(handle, task, s, canDrop);
  } finally {
    await handle.close();
  }
});

/** Create `path` at `bytes`, every block written (not sparse). Returns whether it had to. */
async function ensurePreallocated(path: string, bytes: number): Promise<boolean> {
  const existing = await stat(path).catch((err: unknown) => {
    if (err instanceof Error && 'code' in err && err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (existing !== undefined && existing.size === bytes && existing.blocks * 512 >= bytes) return false;
  const h = await open(path, 'w');
  try {
    const zeros = Buffer.alloc(8 * MiB);
    for (let at = 0; at < bytes; at += zeros.length) await h.write(zeros, 0, Math.min(zeros.length, bytes - at), at);
    await h.sync();
  } finally {
    await h.close();
  }
  return true;
}

async function rawPuts(h: FileHandle, task: RawTask, s: SizeSet): Promise<void> {
  const block = randomBytes(s.sizeBytes);
  const region = Math.floor(Math.min(task.fileBytes, s.putCapBytes) / s.sizeBytes);
  const maxOps = Math.max(1, Math.floor(s.putCapBytes / s.sizeBytes));
  for (const inFlight of task.inFlights) {
    // Per op: write, then fdatasync, each op on its own.
    let slot = 0;
    const perOp = await closedLoop({
      inFlight,
      durationMs: task.durations.putMs,
      maxOps,
      op: async () => {
        const at = (slot++ % region) * s.sizeBytes;
        await writeAll(h, block, at);
        await h.datasync();
        return s.sizeBytes;
      },
    });
    await emit('put', 'raw pwrite+fdatasync per op', s, inFlight, perOp);
    if (inFlight === 1) continue; // batched at one in flight is the same as per op
    const batched = await batchedPuts(h, block, s.sizeBytes, region, inFlight, task.durations.putMs, maxOps);
    await emit('put', 'raw batched fdatasync', s, inFlight, batched);
  }
}

/** Rounds of `inFlight` concurrent writes and one fdatasync; each op's latency is its round's. */
async function batchedPuts(h: FileHandle, block: Buffer, size: number, region: number, inFlight: number, durationMs: number, maxOps: number): Promise<LoopResult> {
  let slot = 0;
  let ops = 0;
  const latencies: number[] = [];
  const start = performance.now();
  while (performance.now() - start < durationMs && ops < maxOps) {
    const t0 = performance.now();
    await Promise.all(Array.from({ length: inFlight }, () => writeAll(h, block, (slot++ % region) * size)));
    await h.datasync();
    const ms = performance.now() - t0;
    for (let i = 0; i < inFlight; i++) latencies.push(ms);
    ops += inFlight;
  }
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    ops,
    bytes: ops * size,
    seconds,
    opsPerSec: ops / seconds,
    mbPerSec: (ops * size) / seconds / 1e6,
    p50Ms: latencies[Math.floor(latencies.length / 2)] ?? 0,
    p99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
    loadAvg1: load1(),
  };
}

async function rawReads(h: FileHandle, task: RawTask, s: SizeSet, canDrop: boolean): Promise<void> {
  const blocks = Math.floor(task.fileBytes / s.sizeBytes);
  // Warm: the data set's worth of blocks, read once first so they are cached.
  const warmBlocks = Math.max(1, Math.min(blocks, s.getKeys));
  const scratch = Buffer.allocUnsafe(s.sizeBytes);
  for (let i = 0; i < warmBlocks; i++) await readAll(h, scratch, i * s.sizeBytes);
  for (const inFlight of task.inFlights) {
    let slot = 0;
    const r = await closedLoop({
      inFlight,
      durationMs: task.durations.getMs,
      maxOps: Number.MAX_SAFE_INTEGER,
      op: async () => {
        await readAll(h, Buffer.allocUnsafe(s.sizeBytes), (slot++ % warmBlocks) * s.sizeBytes);
        return s.sizeBytes;
      },
    });
    await emit('get warm', 'raw sequential pread', s, inFlight, r);
  }
  if (!canDrop) return;
  for (const inFlight of task.inFlights) {
    dropPageCache();
    let slot = 0;
    const r = await closedLoop({
      inFlight,
      durationMs: task.durations.getMs,
      maxOps: blocks,
      op: async () => {
        await readAll(h, Buffer.allocUnsafe(s.sizeBytes), slot++ * s.sizeBytes);
        return s.sizeBytes;
      },
    });
    await emit('get cold', 'raw sequential pread', s, inFlight, r);
  }
}

async function writeAll(h: FileHandle, data: Buffer, at: number): Promise<void> {
  let done = 0;
  while (done < data.length) done += (await h.write(data, done, data.length - done, at + done)).bytesWritten;
}

function emit(section: string, system: string, s: SizeSet, inFlight: number, r: LoopResult): Promise<void> {
  return report(loopRow({ section, system, kind: 'raw', sizeBytes: s.sizeBytes, inFlight }, r));
}
