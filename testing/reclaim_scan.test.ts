// What reclamation reads of its victim, and what it does with damage in it
// (src/reclaim/reclaimer.ts, evacuateOnce; src/chunk/chunk_store.ts,
// scanHeads).
//
// Reclamation reads each chunk's header and the start of its payload (the
// key), asks whether the key still names the chunk, and reads and verifies
// the payload of the live chunks only. Before, it read and verified every
// byte of the victim: under an overwrite load of 1 MiB S3 PUTs that scan
// took 11% of the server's main thread, and the victim's dead bytes
// crossed the disk once more (docs/BENCHMARKS.md, 2026-12-07 (night)).
//
// Strategy: a store on a SimDisk of 4 MiB extents, values of one 250 KiB
// chunk, one extent filled and most of its keys overwritten, then one
// reclamation; the disk's read counter is the measure, and bits are
// flipped on the media (SimDisk.flipBit) for the damage cases. Fixed
// seeds, background work off.
//
// Invariants:
// 1. Reclaiming an extent of large dead chunks reads well under its size
//    (headers and keys, then the live chunks), and every live value reads
//    back after it.
// 2. A live chunk that does not verify stops the reset with a
//    CorruptionError (the extent stays sealed, damage visible): whether
//    the damage is in its data or in its key bytes (which make it look
//    dead to the header scan).
// 3. A dead chunk that does not verify does not stop the reset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CorruptionError, NotFoundError } from '../src/base/index.js';
import { CHUNK_HEADER_BYTES, alignUp } from '../src/chunk/index.js';
import type { ScannedHead } from '../src/chunk/index.js';
import { formatDiskStore } from '../src/store/index.js';
import type { DiskStore } from '../src/store/index.js';
import { Rng } from './rng.js';
import { SimDisk } from './sim_disk.js';

const EXTENT_BYTES = 4 * 1024 * 1024;
const VALUE_BYTES = 250 * 1024;
/** Fills one data extent (16 chunks of 250 KiB and their framing). */
const KEYS = 16;
/** Keys 0 and 1 stay live; the rest are overwritten (their new chunks go to another extent). */
const LIVE = [0, 1];

const key = (i: number): Buffer => Buffer.from(`scan/${String(i).padStart(2, '0')}`);

interface Rig {
  readonly disk: SimDisk;
  readonly store: DiskStore;
  readonly values: Map<number, Buffer>;
  /** The extent that held the first values: the victim. */
  readonly victim: number;
}

async function rig(seed: number): Promise<Rig> {
  const rng = new Rng(seed);
  const disk = new SimDisk({ sizeBytes: 64 * 1024 * 1024, pageSizeBytes: 4096, fillSeed: seed });
  const store = await formatDiskStore(disk, {
    extentSizeBytes: EXTENT_BYTES,
    maxChunkDataBytes: 256 * 1024,
    random: rng.fork('chunk-ids'),
    background: false,
  });
  const values = new Map<number, Buffer>();
  for (let i = 0; i < KEYS; i++) {
    values.set(i, rng.bytes(VALUE_BYTES));
    await (await store.put(key(i), values.get(i) ?? Buffer.alloc(0))).persisted();
  }
  const victim = (await locatorOf(store, 0)).extent;
  for (let i = 0; i < KEYS; i++) {
    if (LIVE.includes(i)) continue;
    values.set(i, rng.bytes(VALUE_BYTES));
    await (await store.put(key(i), values.get(i) ?? Buffer.alloc(0))).persisted();
  }
  await store.checkpoint();
  return { disk, store, values, victim };
}

async function locatorOf(store: DiskStore, i: number): Promise<{ extent: number; offset: number; length: number }> {
  const page = await store.parts.index.scan({ from: key(i), limit: 1 });
  const loc = page[0]?.value.chunks[0];
  assert.ok(loc !== undefined && page[0]?.key.equals(key(i)), `key ${i} has a chunk`);
  return loc;
}

/** Flip one bit `into` bytes past the start of key i's chunk payload. */
async function damage(r: Rig, i: number, into: number): Promise<void> {
  const loc = await locatorOf(r.store, i);
  r.disk.flipBit(r.store.parts.extents.diskOffset(loc.extent, loc.offset) + CHUNK_HEADER_BYTES + into, 3);
}

async function readsBack(r: Rig, except: readonly number[] = []): Promise<void> {
  for (const [i, v] of r.values) {
    if (except.includes(i)) continue;
    assert.ok((await r.store.get(key(i))).equals(v), `key ${i} reads back`);
  }
}

void test('reclaiming an extent of large dead chunks reads its headers and its live chunks, not its dead bytes (invariant 1)', async () => {
  const r = await rig(1);
  const before = r.disk.stats.bytesRead;
  assert.equal(await r.store.reclaim({ maxExtents: 1, maxLiveRatio: 0.5 }), 1);
  const read = r.disk.stats.bytesRead - before;
  assert.equal(r.store.reclaimer.stats.chunksMoved, LIVE.length);
  // 16 small reads of headers and keys (64 KiB each) and two live chunks
  // of 250 KiB: about 1.5 MiB.
  assert.ok(read < EXTENT_BYTES / 2, `reclamation read ${read} bytes of a ${EXTENT_BYTES}-byte extent`);
  await readsBack(r);
  await r.store.close();

  // Broken variant: a scan that reads and verifies every payload (the scan
  // before scanHeads) is caught by the bytes it reads.
  const b = await rig(1);
  const chunks = b.store.parts.chunks;
  const heads = chunks.scanHeads.bind(chunks);
  chunks.scanHeads = async function* (extent, options): AsyncGenerator<ScannedHead> {
    for await (const h of heads(extent, options)) {
      const payload = await h.payload();
      yield { ...h, payload: () => Promise.resolve(payload) };
    }
  };
  const bBefore = b.disk.stats.bytesRead;
  assert.equal(await b.store.reclaim({ maxExtents: 1, maxLiveRatio: 0.5 }), 1);
  assert.ok(b.disk.stats.bytesRead - bBefore >= EXTENT_BYTES / 2, 'the variant that reads every payload was not caught');
  await b.store.close();
});

void test('a live chunk that does not verify, in its data or in its key, keeps its extent from being reset (invariant 2)', async () => {
  for (const [what, into] of [
    ['data', 100_000],
    ['key bytes', 4],
  ] as const) {
    const r = await rig(2);
    await damage(r, LIVE[0] ?? 0, into);
    await assert.rejects(r.store.reclaim({ maxExtents: 1, maxLiveRatio: 0.5 }), CorruptionError, `damaged ${what}`);
    assert.ok(r.store.reclaimer.damaged.has(r.victim), `damaged ${what}: the victim is kept as damaged`);
    await assert.rejects(r.store.get(key(LIVE[0] ?? 0)), CorruptionError, `damaged ${what}: the damaged value reads as corrupt, not lost`);
    await readsBack(r, [LIVE[0] ?? 0]);
    await r.store.close();
  }

  // Broken variant: without the verifying scan after the passes, a live
  // chunk whose key bytes are damaged ends in an AssertionError (live
  // bytes left, no damage found), not the CorruptionError it must be.
  const b = await rig(2);
  await damage(b, LIVE[0] ?? 0, 4);
  const chunks = b.store.parts.chunks;
  chunks.scan = async function* (): AsyncGenerator<never> {};
  await assert.rejects(
    b.store.reclaim({ maxExtents: 1, maxLiveRatio: 0.5 }),
    (err: unknown) => !(err instanceof CorruptionError) && /still holds \d+ live bytes/.test(String(err)),
    'the variant without the verifying scan was not caught',
  );
  await b.store.close();
});

void test('a dead chunk that does not verify does not stop the reset (invariant 3)', async () => {
  const r = await rig(3);
  // Key 5's first chunk is dead (overwritten), and gone from the index:
  // its offset is five chunks of the same size past key 0's.
  const first = await locatorOf(r.store, 0);
  const deadOffset = first.offset + 5 * alignUp(first.length);
  r.disk.flipBit(r.store.parts.extents.diskOffset(r.victim, deadOffset) + CHUNK_HEADER_BYTES + 100_000, 5);
  // The flip made a chunk of the victim fail verification (a scan that verifies every chunk says so).
  const damagedAt: number[] = [];
  for await (const chunk of r.store.parts.chunks.scan(r.victim, { onDamage: (at) => damagedAt.push(at) })) void chunk;
  assert.deepEqual(damagedAt, [deadOffset]);
  assert.equal(await r.store.reclaim({ maxExtents: 1, maxLiveRatio: 0.5 }), 1);
  assert.equal(r.store.reclaimer.damaged.size, 0);
  await readsBack(r);
  await assert.rejects(r.store.get(Buffer.from('scan/absent')), NotFoundError);
  await r.store.close();
});
