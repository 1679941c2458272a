// The live-byte recount after open, which runs in the background
// (src/store/live_rebuild.ts, src/reclaim/live_bytes.ts).
//
// Strategy: build a store whose index has runs, a memtable replayed from
// the log, tombstones and values of several chunks; reopen it with a tiny
// recount page (a few entries between pauses), so the walk takes many
// turns. Meanwhile: puts of new keys, overwrites and deletes spread over
// the whole key range (ahead of the walk and behind it), each awaited until
// durable, and a compaction that replaces the runs the walk reads. Fixed
// seeds.
//
// Invariants:
// 1. Once the recount is done, live bytes per extent and the shard count
//    equal a recount of the index from scratch (base at the snapshot +
//    changes since = the index now). Changes that land during the walk are
//    the point: the test asserts some did. Dropping the delta, clamping
//    it, or walking pages of the live index instead of one snapshot makes
//    the numbers differ.
// 2. close() during the recount returns promptly; the recount then
//    reports ClosedError instead of hanging.
// 3. reclaim() during the recount waits for it, then reclaims, and every
//    shard reads back (also after a reopen).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClosedError } from '../base/index.js';
import { formatDiskStore, openDiskStore } from './index.js';
import type { DiskStore, FormatOptions } from './index.js';
import { successor } from './list.js';
import { Rng } from '../../testing/rng.js';
import { SimDisk } from '../../testing/sim_disk.js';
import { withinHangBound } from '../../testing/hang_bound.js';

const KEYS = 400;

function options(rng: Rng, extra: Partial<FormatOptions> = {}): FormatOptions {
  return {
    extentSizeBytes: 256 * 1024,
    maxManifestBytes: 16 * 1024,
    maxChunkDataBytes: 2048,
    memtableFlushBytes: 4096,
    random: rng.fork('chunk-ids'),
    background: false,
    ...extra,
  };
}

function keyOf(i: number): Buffer {
  return Buffer.from(`k${i.toString().padStart(4, '0')}`);
}

/** A store with runs, a replayed memtable, tombstones and multi-chunk values, dropped; returns its disk and contents. */
async function buildStore(seed: number): Promise<{ disk: SimDisk; book: Map<string, Buffer> }> {
  const rng = new Rng(seed);
  const disk = new SimDisk({ sizeBytes: 16 * 1024 * 1024, pageSizeBytes: 4096, fillSeed: seed });
  const store = await formatDiskStore(disk, options(rng));
  const book = new Map<string, Buffer>();
  for (let i = 0; i < KEYS; i++) {
    const value = rng.bytes(1 + rng.int(0, 5999));
    book.set(keyOf(i).toString(), value);
    await (await store.put(keyOf(i), value)).persisted();
  }
  for (let i = 0; i < KEYS; i += 7) {
    book.delete(keyOf(i).toString());
    await (await store.delete(keyOf(i))).persisted();
  }
  // Dropped, not closed: every change is durable already, and a close that
  // records the extents host space prepared rolls the log, which leaves no
  // memtable to replay (host_space.ts).
  store.abandon();
  return { disk, book };
}

/** Live bytes per extent and the value count, from a walk of the whole index now. */
async function recount(store: DiskStore): Promise<{ bytes: Map<number, number>; values: number }> {
  const bytes = new Map<number, number>();
  let values = 0;
  let from: Buffer | undefined;
  for (;;) {
    const page = await store.parts.index.scan({ ...(from === undefined ? {} : { from }), limit: 64 });
    for (const { value } of page) {
      values++;
      for (const c of value.chunks) bytes.set(c.extent, (bytes.get(c.extent) ?? 0) + c.length);
    }
    const last = page[page.length - 1];
    if (last === undefined || page.length < 64) return { bytes, values };
    from = successor(last.key);
  }
}

function liveMap(store: DiskStore): Map<number, number> {
  return new Map([...store.live.entries()].sort((a, b) => a[0] - b[0]));
}

void test('live bytes after a recount with commits during it equal a recount from scratch', async () => {
  const { disk, book } = await buildStore(7100);
  const rng = new Rng(7101);
  const store = await openDiskStore(disk.clone(), options(rng, { liveRebuildPageEntries: 4 }));
  assert.equal(store.stats().liveBytesReady, false, 'open returns before the recount is done');
  assert.ok(store.parts.index.stats().runs >= 2 && store.parts.index.stats().memtableEntries > 0, 'runs and a replayed memtable');

  let duringWalk = 0;
  let compaction: Promise<void> | undefined;
  for (let n = 0; n < 300 && !store.live.ready; n++) {
    const i = rng.int(0, KEYS + 49);
    const key = keyOf(i);
    if (rng.int(0, 2) === 0 && book.has(key.toString())) {
      book.delete(key.toString());
      await (await store.delete(key)).persisted();
    } else {
      const value = rng.bytes(1 + rng.int(0, 5999));
      book.set(key.toString(), value);
      await (await store.put(key, value)).persisted();
    }
    if (!store.live.ready) duringWalk++;
    if (n === 20) compaction = store.compact();
  }
  assert.ok(duringWalk >= 50, `changes committed during the walk: ${duringWalk}`);
  await store.liveBytesReady();
  await compaction;
  await store.log.drain();

  const expected = await recount(store);
  assert.deepEqual(liveMap(store), new Map([...expected.bytes].sort((a, b) => a[0] - b[0])), 'live bytes per extent');
  assert.equal(store.live.shardCount, expected.values, 'shard count');
  assert.equal(store.live.shardCount, book.size, 'shard count against the book');
  assert.equal(store.stats().liveBytesReady, true);
  await store.close();
});

void test('close during the live-byte recount returns promptly', async () => {
  const { disk } = await buildStore(7200);
  const store = await openDiskStore(disk.clone(), options(new Rng(7201), { liveRebuildPageEntries: 1 }));
  assert.equal(store.live.ready, false);
  const ready = store.liveBytesReady();
  // close() must not wait for the whole walk: the bound turns a hang into a failure.
  await withinHangBound(store.close(), 5000, () => 'close() during the recount (it waited for the whole walk?)');
  await assert.rejects(ready, ClosedError);
  assert.equal(store.live.ready, false, 'the walk stopped early');
});

void test('reclaim during the recount waits for it, then reclaims', async () => {
  const { disk, book } = await buildStore(7300);
  const rng = new Rng(7301);
  let store = await openDiskStore(disk.clone(), options(rng, { liveRebuildPageEntries: 4 }));
  assert.equal(store.reclaimer.victims(1).length, 0, 'no victims while live bytes are partial');
  const reclaimed = await store.reclaim({ maxExtents: 8, maxLiveRatio: 0.9 });
  assert.equal(store.live.ready, true, 'reclaim waited for the recount');
  assert.ok(reclaimed >= 1, `reclaimed ${reclaimed} extents`);
  for (const [k, v] of book) assert.ok((await store.get(Buffer.from(k))).equals(v), k);
  const image = disk.clone();
  await store.close();
  store = await openDiskStore(image, options(rng));
  await store.liveBytesReady();
  for (const [k, v] of book) assert.ok((await store.get(Buffer.from(k))).equals(v), `${k} after reopen`);
  await store.close();
});
