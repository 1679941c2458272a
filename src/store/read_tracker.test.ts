// tier: quick (npm run test:quick; docs/TESTING.md)
// A read's registration (which holds reclamation off the extents it reads)
// ends however the body ends: consumed, closed with return() before or
// after its first chunk, or failing. Checks ReadTracker.inFlight after each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDiskStore } from './index.js';
import { Rng } from '../../testing/rng.js';
import { SimDisk } from '../../testing/sim_disk.js';

test('a read body releases its registration when consumed, closed early, or closed before it started', async () => {
  const disk = new SimDisk({ sizeBytes: 8 * 1024 * 1024 });
  const store = await formatDiskStore(disk, { extentSizeBytes: 64 * 1024, maxChunkDataBytes: 1000, random: new Rng(3), background: false, maxManifestBytes: 16 * 1024 });
  const key = Buffer.from('k');
  await (await store.put(key, Buffer.alloc(5000, 1))).persisted();

  const consumed = await store.read(key);
  assert.equal(store.reads.inFlight, 1);
  for await (const part of consumed.body) void part;
  assert.equal(store.reads.inFlight, 0, 'consumed');

  const neverStarted = await store.read(key);
  assert.equal(store.reads.inFlight, 1);
  await neverStarted.body[Symbol.asyncIterator]().return?.(undefined);
  assert.equal(store.reads.inFlight, 0, 'closed before the first chunk');

  const early = await store.read(key);
  for await (const part of early.body) {
    void part;
    break;
  }
  assert.equal(store.reads.inFlight, 0, 'closed after the first chunk');
  await store.reads.drained();
  await store.close();
});
