// A lone put on a real file makes one flush: its record shares its data's
// fdatasync (io_scheduler.ts invariant 6), however fast the data write
// lands. FileDisk makes small writes on the calling thread
// (SAME_THREAD_WRITE_MAX_BYTES); a write that landed within the microtasks
// of its batch's start landed before the commit cycle had asked to join
// it, and the record went out in a batch of its own: two fdatasyncs per
// put at 1 in flight. The simulated disks do not have that path, so this
// runs on a FileDisk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileDisk, SAME_THREAD_WRITE_MAX_BYTES } from '../src/disk/index.js';
import { formatDiskStore } from '../src/store/index.js';
import { Rng } from './rng.js';

const PUTS = 20;

void test('a put at 1 in flight on a file makes one flush, its record sharing its data\'s', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shardstore-cycle-'));
  try {
    const disk = await FileDisk.open(join(dir, 'disk0'), { createSizeBytes: 64 * 1024 * 1024 });
    const store = await formatDiskStore(disk, {
      extentSizeBytes: 1024 * 1024,
      random: new Rng(7).fork('chunk-ids'),
      background: false,
      confirmIdleMs: Infinity,
    });
    await store.parts.space.ready();
    await store.parts.space.settled();
    const value = Buffer.alloc(4096, 7);
    assert.ok(value.length + 64 <= SAME_THREAD_WRITE_MAX_BYTES, 'the value is written through the pool: the test proves nothing');
    const before = { flushes: store.parts.io.stats.flushes, writes: store.parts.io.stats.writes };
    for (let i = 0; i < PUTS; i++) await (await store.put(Buffer.from(`k${i}`), value)).persisted();
    const flushes = store.parts.io.stats.flushes - before.flushes;
    const writes = store.parts.io.stats.writes - before.writes;
    // Each put: its data chunk and the record's two copies.
    assert.equal(writes, 3 * PUTS, `${writes} writes for ${PUTS} puts`);
    assert.equal(flushes, PUTS, `${flushes} flushes for ${PUTS} puts at 1 in flight`);
    for (let i = 0; i < PUTS; i++) assert.deepEqual(await store.get(Buffer.from(`k${i}`)), value);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
