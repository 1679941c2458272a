// tier: quick (npm run test:quick; docs/TESTING.md)
// DiskStore.put of a value that fits one data chunk (putOneChunk: appended
// and staged in one synchronous step) against the streaming path
// (ValueWriter) that larger values and streamed sources take.
//
// Checks, with a small maxChunkDataBytes so both paths are cheap to reach:
// values of 0, 1, max - 1 and max bytes (no chunk, then one chunk) and of
// max + 1 and 3 x max + 5 bytes (several chunks), given as one buffer or as
// a stream of pieces, read back equal before and after their commit and
// after a reopen, with the chunk count of the value's index entry and the
// live bytes of its extents that the streaming path gives; an overwrite by
// a one-chunk put moves the live bytes from the old chunks to the new one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHUNK_OVERHEAD_BYTES } from '../chunk/index.js';
import { formatDiskStore, openDiskStore } from './index.js';
import type { DiskStore } from './index.js';
import { Rng } from '../../testing/rng.js';
import { SimDisk } from '../../testing/sim_disk.js';

const MAX = 1024;
const OPTIONS = { extentSizeBytes: 256 * 1024, background: false, maxChunkDataBytes: MAX } as const;
const SIZES = [0, 1, MAX - 1, MAX, MAX + 1, 3 * MAX + 5];

/** The value in pieces of 300 bytes, as a stream (the streaming path, whatever its size). */
async function* pieces(value: Buffer): AsyncGenerator<Buffer> {
  for (let at = 0; at < value.length; at += 300) yield await Promise.resolve(value.subarray(at, at + 300));
}

function chunkCount(size: number): number {
  return Math.ceil(size / MAX);
}

async function chunksOf(store: DiskStore, key: Buffer): Promise<number> {
  const value = await store.parts.index.lookup(key);
  return value?.chunks.length ?? -1;
}

void test('a one-chunk put gives the value, chunks and live bytes the streaming path gives', async () => {
  const rng = new Rng('put-one-chunk');
  const disk = new SimDisk({ sizeBytes: 16 * 1024 * 1024 });
  const store = await formatDiskStore(disk, { ...OPTIONS, random: new Rng(1) });
  const values = new Map<string, Buffer>();
  for (const size of SIZES) {
    for (const form of ['buffer', 'stream'] as const) {
      const key = Buffer.from(`${form}-${size}`);
      const value = rng.bytes(size);
      values.set(key.toString(), value);
      const dep = await store.put(key, form === 'buffer' ? value : pieces(value));
      assert.deepEqual(await store.get(key), value, `${key.toString()}: read before its commit`);
      await dep.persisted();
      assert.deepEqual(await store.get(key), value, `${key.toString()}: read after its commit`);
      assert.equal(await chunksOf(store, key), chunkCount(size), `${key.toString()}: chunks`);
    }
  }
  // Every chunk put is live: each counts its framed length (locator.length).
  const keyBytes = (k: string): number => 2 + Buffer.byteLength(k);
  let expected = 0;
  for (const [k, v] of values) {
    for (let at = 0; at < v.length; at += MAX) expected += CHUNK_OVERHEAD_BYTES + keyBytes(k) + Math.min(MAX, v.length - at);
  }
  assert.equal(liveTotal(store), expected, 'live bytes of the chunks put');

  // Overwrite a three-chunk value with a one-chunk one: only the new chunk is live for it.
  const big = Buffer.from(`buffer-${3 * MAX + 5}`);
  const small = rng.bytes(10);
  await (await store.put(big, small)).persisted();
  const old = values.get(big.toString()) ?? Buffer.alloc(0);
  for (let at = 0; at < old.length; at += MAX) expected -= CHUNK_OVERHEAD_BYTES + keyBytes(big.toString()) + Math.min(MAX, old.length - at);
  expected += CHUNK_OVERHEAD_BYTES + keyBytes(big.toString()) + small.length;
  values.set(big.toString(), small);
  assert.equal(liveTotal(store), expected, 'live bytes after the overwrite');
  assert.equal(await chunksOf(store, big), 1);

  await store.close();
  const reopened = await openDiskStore(disk.clone(), { ...OPTIONS, random: new Rng(2) });
  for (const [k, v] of values) assert.deepEqual(await reopened.get(Buffer.from(k)), v, `${k}: read after a reopen`);
  await reopened.close();
});

function liveTotal(store: DiskStore): number {
  let total = 0;
  for (const [, bytes] of store.live.entries()) total += bytes;
  return total;
}
