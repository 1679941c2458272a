// tier: quick (npm run test:quick; docs/TESTING.md)
// A get whose index entry and chunks are all in memory is answered without
// waiting (DiskStore.getNow, LsmIndex.lookupNow, ChunkStore.readCached);
// otherwise it reads. Checks that both ways give the same bytes, that the
// second get of a key after a reopen is the in-memory one (the caches
// count it, no disk read happens), that staged overwrites and deletes win
// over cached runs, and that an extent reset empties what the fast way sees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NotFoundError } from '../base/index.js';
import { ChunkKind } from '../chunk/index.js';
import { NEEDS_READ } from '../index/index.js';
import { formatDiskStore, openDiskStore } from './index.js';
import { Rng } from '../../testing/rng.js';
import { SimDisk } from '../../testing/sim_disk.js';

const OPTIONS = { extentSizeBytes: 64 * 1024, maxChunkDataBytes: 1000, background: false, maxManifestBytes: 16 * 1024 } as const;

void test('gets from memory and from disk agree; writes since win; a reset empties the fast way', async () => {
  const disk = new SimDisk({ sizeBytes: 8 * 1024 * 1024 });
  const rng = new Rng('get-from-memory');
  let store = await formatDiskStore(disk, { ...OPTIONS, random: new Rng(1) });
  const values = new Map<string, Buffer>();
  for (let i = 0; i < 40; i++) {
    const value = rng.bytes(i % 3 === 0 ? 2500 : 300); // some values span 3 chunks
    values.set(`k${i}`, value);
    await (await store.put(Buffer.from(`k${i}`), value)).persisted();
  }
  await store.log.checkpoint(); // every entry in a run, the memtable empty
  await store.close();
  store = await openDiskStore(disk.clone(), { ...OPTIONS, random: new Rng(2) });
  const index = store.parts.index;
  assert.equal(index.lookupNow(Buffer.from('k1')), NEEDS_READ, 'nothing is cached after a reopen');

  for (const [k, v] of values) assert.deepEqual(await store.get(Buffer.from(k)), v, `${k}, read`);
  const reads = store.parts.chunks.counters.reads;
  for (const [k, v] of values) {
    assert.notEqual(index.lookupNow(Buffer.from(k)), NEEDS_READ, `${k}: index entry in memory`);
    assert.deepEqual(await store.get(Buffer.from(k)), v, `${k}, from memory`);
  }
  assert.equal(store.parts.chunks.counters.reads, reads, 'the second round read nothing');
  // read() of a one-chunk value in memory: the range's bytes, no registration left behind.
  const k1 = values.get('k1');
  assert.ok(k1 !== undefined);
  const reader = await store.read(Buffer.from('k1'), { start: 10, end: 90 });
  const streamed: Buffer[] = [];
  for await (const part of reader.body) streamed.push(part);
  assert.equal(reader.sizeBytes, k1.length);
  assert.deepEqual(Buffer.concat(streamed), k1.subarray(10, 90));
  assert.equal(store.reads.inFlight, 0);
  await assert.rejects(store.read(Buffer.from('k1'), { start: 0, end: k1.length + 1 }), /outside value/);

  const fresh = Buffer.from('fresh value');
  await store.put(Buffer.from('k3'), fresh); // staged, not durable: the overlay wins over the cached run
  assert.deepEqual(await store.get(Buffer.from('k3')), fresh);
  await store.delete(Buffer.from('k4'));
  await assert.rejects(store.get(Buffer.from('k4')), NotFoundError);
  await assert.rejects(store.get(Buffer.from('missing')), NotFoundError);

  // A reset drops the extent's cached chunks: the fast way must not see them.
  const loc = (await index.lookup(Buffer.from('k5')))?.chunks[0];
  assert.ok(loc !== undefined);
  assert.ok(store.parts.chunks.readCached(loc, ChunkKind.Data) !== undefined, 'k5 is cached');
  store.parts.chunks.cache.invalidateExtent(loc.extent);
  assert.equal(store.parts.chunks.readCached(loc, ChunkKind.Data), undefined);
  const before = store.parts.chunks.counters.reads;
  assert.deepEqual(await store.get(Buffer.from('k5')), values.get('k5'));
  assert.ok(store.parts.chunks.counters.reads > before, 'after the extent left the cache, the get read the disk');
  await store.close();
});
