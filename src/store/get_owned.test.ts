// tier: quick (npm run test:quick; docs/TESTING.md)
// DiskStore.getOwned: the whole value in a buffer the caller owns.
//
// Checks, on a store of 4 MiB extents (so a value's chunk can reach
// SECOND_READ_ADMISSION_BYTES) after a reopen (cold caches): a large
// one-chunk value read from the disk is handed over without entering the
// cache, and the caller's writes to it are never seen by a later get or
// getOwned; its second read enters the cache, and a getOwned served from
// the cache is a copy (writing over it leaves the cache and get() as they
// were); a value of three chunks and a small one come back whole and owned
// too; a missing key is NotFoundError; a flipped bit in a large chunk is a
// CorruptionError from getOwned, every time, and nothing of it is cached.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CorruptionError, NotFoundError } from '../base/index.js';
import { CHUNK_HEADER_BYTES, ChunkKind, SECOND_READ_ADMISSION_BYTES } from '../chunk/index.js';
import { formatDiskStore, openDiskStore } from './index.js';
import { OWNED_COPY_SLAB_BYTES } from './disk_store.js';
import type { DiskStore } from './index.js';
import { Rng } from '../../testing/rng.js';
import { SimDisk } from '../../testing/sim_disk.js';

const OPTIONS = { extentSizeBytes: 4 * 1024 * 1024, background: false } as const;

async function storeWith(values: ReadonlyMap<string, Buffer>): Promise<{ disk: SimDisk; store: DiskStore }> {
  const disk = new SimDisk({ sizeBytes: 64 * 1024 * 1024 });
  const store = await formatDiskStore(disk, { ...OPTIONS, random: new Rng(1) });
  for (const [k, v] of values) await (await store.put(Buffer.from(k), v)).persisted();
  await store.close();
  const reopened = disk.clone();
  return { disk: reopened, store: await openDiskStore(reopened, { ...OPTIONS, random: new Rng(2) }) };
}

void test('getOwned hands over what it read, copies what the cache holds, and never shares a byte with the store', async () => {
  const rng = new Rng('get-owned');
  const values = new Map([
    ['large', rng.bytes(SECOND_READ_ADMISSION_BYTES + 1000)],
    ['three-chunks', rng.bytes(2 * 1024 * 1024 + 5)],
    ['small', rng.bytes(700)],
  ]);
  const { store } = await storeWith(values);
  const chunks = store.parts.chunks;
  const large = values.get('large') ?? Buffer.alloc(0);
  const key = Buffer.from('large');

  const first = await store.getOwned(key);
  assert.deepEqual(first, large);
  assert.equal(chunks.cache.stats().entries, 0, 'a first large read is handed over, not cached');
  first.fill(0xee);
  const second = await store.getOwned(key);
  assert.deepEqual(second, large, 'the first caller\'s writes are not seen');
  assert.equal(chunks.cache.stats().entries, 1, 'the second read is cached');
  second.fill(0xdd);
  const reads = chunks.counters.reads;
  const third = await store.getOwned(key);
  assert.equal(chunks.counters.reads, reads, 'served from the cache');
  assert.deepEqual(third, large, 'a copy of the cached payload, not the buffer the second caller wrote over');
  third.fill(0xcc);
  assert.deepEqual(await store.get(key), large, 'the cache is untouched by the owners\' writes');

  for (const name of ['three-chunks', 'small']) {
    for (let round = 0; round < 3; round++) {
      const v = await store.getOwned(Buffer.from(name));
      assert.deepEqual(v, values.get(name), `${name}, round ${round}`);
      v.fill(0xaa);
    }
    assert.deepEqual(await store.get(Buffer.from(name)), values.get(name), `${name}: get after owners wrote over theirs`);
  }
  await assert.rejects(store.getOwned(Buffer.from('missing')), NotFoundError);
  assert.equal(store.reads.inFlight, 0);
  await store.close();
});

void test('getOwned of a large chunk with a flipped bit is a CorruptionError, and nothing of it is cached', async () => {
  const large = new Rng('get-owned-flip').bytes(SECOND_READ_ADMISSION_BYTES * 2);
  const { disk, store } = await storeWith(new Map([['large', large]]));
  const key = Buffer.from('large');
  const loc = (await store.parts.index.lookup(key))?.chunks[0];
  assert.ok(loc !== undefined);
  const at = store.parts.extents.diskOffset(loc.extent, loc.offset) + CHUNK_HEADER_BYTES + 300_000;
  disk.flipBit(at, 6);
  for (let i = 0; i < 3; i++) await assert.rejects(store.getOwned(key), CorruptionError, `read ${i}`);
  assert.equal(store.parts.chunks.readCached(loc, ChunkKind.Data), undefined);
  disk.flipBit(at, 6);
  assert.deepEqual(await store.getOwned(key), large);
  await store.close();
});

void test('owned copies of small cached values share slabs but never a byte: each owner writes over its own', async () => {
  const rng = new Rng('get-owned-small');
  const sizes = [1, 7, 100, 700, 2048, 4096, 4097, 8191, OWNED_COPY_SLAB_BYTES / 4, OWNED_COPY_SLAB_BYTES / 4 + 1, 20_000];
  const values = new Map(sizes.map((n) => [`v${n}`, rng.bytes(n)] as const));
  const { store } = await storeWith(values);
  for (const k of values.keys()) await store.get(Buffer.from(k));
  const copies: Array<{ name: string; copy: Buffer; fill: number }> = [];
  for (let round = 0; round < 6; round++) {
    for (const [name, value] of values) {
      const reads = store.parts.chunks.counters.reads;
      const copy = await store.getOwned(Buffer.from(name));
      assert.equal(store.parts.chunks.counters.reads, reads, `${name}: served from the cache`);
      assert.deepEqual(copy, value, `${name}, round ${round}`);
      if (value.length <= OWNED_COPY_SLAB_BYTES / 4) assert.equal(copy.buffer.byteLength, OWNED_COPY_SLAB_BYTES, `${name}: a small copy is cut from a slab`);
      else assert.ok(copy.buffer.byteLength >= value.length && copy.buffer.byteLength < OWNED_COPY_SLAB_BYTES * 4, `${name}: a larger copy has memory of its own`);
      const fill = copies.length & 0xff;
      copy.fill(fill);
      copies.push({ name, copy, fill });
    }
  }
  for (const { name, copy, fill } of copies) assert.ok(copy.every((b) => b === fill), `${name}: the copy filled with ${fill} kept its bytes`);
  for (const [name, value] of values) assert.deepEqual(await store.get(Buffer.from(name)), value, `${name}: the store's value is untouched`);
  await store.close();
});
