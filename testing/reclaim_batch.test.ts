// tier: quick (npm run test:quick; docs/TESTING.md)
// What reclamation costs, not only what it leaves (src/reclaim/reclaimer.ts): the
// conformance and crash suites check that every value survives a
// reclamation, which a reclaimer that commits each copied chunk on its own
// also passes, at the price of one commit record and flush per chunk.
//
// Strategy: a store on a SimDisk, background work off, one data extent
// filled with small values (one chunk each), every other one deleted, then
// reclaimed. The store's commit log is watched (a spy on the instance's
// stageRelocations). Flushes are not the measure: the IO scheduler
// flushes the copies as they go, whatever the batching.
//
// Invariants:
// 1. The relocations of one victim whose live chunks add up to less than
//    MAX_BATCH_BYTES (8 MiB) are staged as one batch: one commit.
// 2. Every live value reads back after the reclamation; the deleted ones
//    stay absent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NotFoundError } from '../src/base/index.js';
import { formatDiskStore } from '../src/store/index.js';
import type { Relocation } from '../src/reclaim/index.js';
import { SMALL_CONFIG, formatOptions } from './conformance.js';
import { Rng } from './rng.js';
import { SimDisk } from './sim_disk.js';

const KEYS = 100;
const key = (i: number): Buffer => Buffer.from(`reclaim/${String(i).padStart(3, '0')}`);
const value = (i: number): Buffer => Buffer.alloc(1000, i + 1);

void test('the live chunks of one victim are relocated in one batch (one commit), and every live value reads back', async () => {
  const disk = new SimDisk({ sizeBytes: SMALL_CONFIG.diskSizeBytes, pageSizeBytes: SMALL_CONFIG.pageSizeBytes });
  const store = await formatDiskStore(disk, formatOptions(SMALL_CONFIG, new Rng('reclaim/batch')));
  for (let i = 0; i < KEYS; i++) await (await store.put(key(i), value(i))).persisted();
  for (let i = 0; i < KEYS; i += 2) await (await store.delete(key(i))).persisted();
  await store.checkpoint();
  const batches: number[] = [];
  const stage = store.log.stageRelocations.bind(store.log);
  store.log.stageRelocations = (relocations: readonly Relocation[]) => {
    batches.push(relocations.length);
    return stage(relocations);
  };
  assert.equal(await store.reclaim({ maxLiveRatio: 0.99, maxExtents: 1 }), 1, 'one extent reclaimed');
  const moved = store.reclaimer.stats.chunksMoved;
  assert.ok(moved >= 20, `${moved} chunks moved`);
  assert.deepEqual(batches, [moved], `relocations staged as ${batches.length} batches`);
  for (let i = 0; i < KEYS; i++) {
    if (i % 2 === 0) await assert.rejects(store.get(key(i)), NotFoundError, `key ${i} deleted`);
    else assert.deepEqual(await store.get(key(i)), value(i), `key ${i}`);
  }
  await store.close();
});
