// Open after a dirty shutdown, in two processes:
//   write  format a store, put `shards` small shards (durable), report
//          "loaded:", then keep putting without waiting until the parent
//          kills this process with SIGKILL (so the crash lands mid-commit);
//   open   in a fresh process, time FileDisk.open + openDiskStore on that
//          file, and measure the memory it took; then check that a sample
//          of the shards acknowledged durable before the crash reads back,
//          and time until the live-byte recount that open leaves running
//          in the background is done (liveReadyMs, from the same start:
//          until then reclamation waits).
import { join } from 'node:path';
import { FileDisk } from '../../dist/src/disk/index.js';
import { formatDiskStore, openDiskStore } from '../../dist/src/store/index.js';
import type { DiskStore } from '../../dist/src/store/index.js';
import type { Dependency } from '../../dist/src/dependency/index.js';
import { childTask, progress, runChild } from '../lib/child.js';
import { Rng } from '../lib/loop.js';
import { report, round } from '../lib/rows.js';
import { GiB, MiB } from '../lib/task.js';
import type { OpenTask } from '../lib/task.js';
import { load1 } from '../lib/os.js';

const WINDOW = 1024;

export function shardKey(i: number): Buffer {
  return Buffer.from(`shard/${i.toString().padStart(9, '0')}`);
}

runChild(async () => {
  const task = childTask() as OpenTask;
  if (task.mode === 'write') await write(task);
  else await openAfterCrash(task);
});

async function write(task: OpenTask): Promise<void> {
  const disk = await FileDisk.open(join(task.dir, 'disk-0.dat'), { createSizeBytes: 8 * GiB });
  const store = await formatDiskStore(disk);
  const value = Buffer.alloc(task.valueBytes, 0x5a);
  const start = performance.now();
  let written = 0;
  while (written < task.shards && performance.now() - start < task.loadCapMs) {
    const end = Math.min(task.shards, written + WINDOW);
    await putWindow(store, written, end, value);
    written = end;
    if (written % 100_000 < WINDOW) await progress(`open: ${written} shards written`);
  }
  await progress(`loaded:${written}:${round((performance.now() - start) / 1000, 1)}`);
  // Keep the commit loop busy until SIGKILL: staged puts, none awaited.
  // Their outcome does not matter (they are not acknowledged), but is not hidden either.
  let failedAfter = 0;
  for (let i = 0; ; i++) {
    void store.put(Buffer.from(`after/${i}`), value).catch((err: unknown) => {
      if (failedAfter++ === 0) void progress(`open: a put after loading failed: ${String(err)}`);
    });
    if (i % 64 === 63) await new Promise((resolve) => setImmediate(resolve));
  }
}

async function putWindow(store: DiskStore, from: number, to: number, value: Buffer): Promise<void> {
  const staged: Array<Promise<Dependency>> = [];
  for (let i = from; i < to; i++) staged.push(store.put(shardKey(i), value));
  const dependencies = await Promise.all(staged);
  for (const d of dependencies) await d.persisted();
}

async function openAfterCrash(task: OpenTask): Promise<void> {
  const before = process.memoryUsage();
  const t0 = performance.now();
  const disk = await FileDisk.open(join(task.dir, 'disk-0.dat'));
  const store = await openDiskStore(disk);
  const openMs = performance.now() - t0;
  const after = process.memoryUsage();
  const ready = store.liveBytesReady().then(() => performance.now() - t0);
  // Durable before the crash: must read back.
  const rng = new Rng(42);
  const sample = Math.min(200, task.shards);
  for (let n = 0; n < sample; n++) {
    const i = n === 0 ? task.shards - 1 : rng.below(task.shards);
    const v = await store.get(shardKey(i));
    if (v.length !== task.valueBytes) throw new Error(`shard ${i} read back ${v.length} bytes after the crash`);
  }
  const liveReadyMs = await ready;
  const afterReady = process.memoryUsage();
  const maxRssMiB = process.resourceUsage().maxRSS / 1024;
  if (store.live.shardCount < task.shards) throw new Error(`live-byte recount found ${store.live.shardCount} shards, ${task.shards} were durable`);
  await report({
    section: 'open',
    workload: 'open after SIGKILL',
    system: 'shardstore',
    kind: 'ours',
    ops: task.shards,
    seconds: round(openMs / 1000, 3),
    extra: {
      shards: task.shards,
      openMs: round(openMs, 1),
      liveReadyMs: round(liveReadyMs, 1),
      rssAfterMiB: round(after.rss / MiB, 1),
      rssGrowthMiB: round((after.rss - before.rss) / MiB, 1),
      heapUsedMiB: round(after.heapUsed / MiB, 1),
      rssAfterLiveReadyMiB: round(afterReady.rss / MiB, 1),
      heapUsedAfterLiveReadyMiB: round(afterReady.heapUsed / MiB, 1),
      maxRssMiB: round(maxRssMiB, 1),
      verifiedShards: sample,
    },
    loadAvg1: round(load1(), 2),
  });
  store.abandon();
  await disk.close();
}
