// Reclamation versus a put still streaming its value: the chunks written so
// far belong to no index entry and no staged mutation yet, so to an
// evacuation they look like garbage. The extent holding them must not be
// reclaimed until the put is staged; otherwise the extent is reset and
// reused, the put later commits locators into the new data, and an
// acknowledged put reads back as corruption (or, if the extent was not
// reused far enough, a healthy put fails with IoError).
//
// Strategy: one disk of 64 KiB extents (16 KiB chunks), reclamation driven
// by hand. A put streams 16 KiB pieces until its chunks span two data
// extents, then its source pauses. Meanwhile: store.reclaim(), a flush (so
// a reset extent would be reusable), and enough other puts to fill any
// reused extent past the paused put's chunks. Then the put resumes and
// finishes. Fixed seed.
//
// Invariants:
// 1. The streamed put is acknowledged and reads back byte for byte.
// 2. Reclamation reset no extent (the only data extents hold the paused
//    put's chunks or are open for appends).
// 3. The other puts read back too, also after a reopen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDiskStore, openDiskStore } from './index.js';
import type { DiskStore, FormatOptions } from './index.js';
import { Rng } from '../../testing/rng.js';
import { SimDisk } from '../../testing/sim_disk.js';

const EXTENT_BYTES = 64 * 1024;
const PIECE_BYTES = 16 * 1024;
const FILLERS = 8;

function options(rng: Rng): FormatOptions {
  return { extentSizeBytes: EXTENT_BYTES, maxManifestBytes: 16 * 1024, maxChunkDataBytes: PIECE_BYTES, random: rng.fork('chunk-ids'), background: false };
}

/** A value source that pauses once the store holds two data extents, until `resume` is called. */
function pausingSource(store: DiskStore, rng: Rng): { source: AsyncGenerator<Uint8Array>; value: Buffer[]; paused: Promise<void>; resume: () => void } {
  const value: Buffer[] = [];
  let resume: () => void = () => undefined;
  let onPaused: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (resume = resolve));
  const paused = new Promise<void>((resolve) => (onPaused = resolve));
  async function* source(): AsyncGenerator<Uint8Array> {
    // Bounded: a 64 KiB extent holds three 16 KiB chunks.
    for (let i = 0; i < 16 && store.stats().extentsData < 2; i++) {
      const piece = rng.bytes(PIECE_BYTES);
      value.push(piece);
      yield piece;
    }
    assert.equal(store.stats().extentsData, 2, 'the streamed value spans two data extents');
    onPaused();
    await gate;
    const last = rng.bytes(1000);
    value.push(last);
    yield last;
  }
  return { source: source(), value, paused, resume: () => resume() };
}

void test('reclamation leaves alone the extents of a put still streaming its value', async () => {
  const rng = new Rng(9100);
  const disk = new SimDisk({ sizeBytes: 2 * 1024 * 1024, pageSizeBytes: 4096, fillSeed: 9100 });
  let store = await formatDiskStore(disk, options(rng));
  const streamed = pausingSource(store, rng.fork('streamed'));
  const key = Buffer.from('streaming');
  const put = store.put(key, streamed.source);
  await streamed.paused;

  await store.reclaim({ maxExtents: 10 });
  await store.flush();
  const fillers = new Map<string, Buffer>();
  for (let i = 0; i < FILLERS; i++) {
    const value = rng.bytes(PIECE_BYTES);
    fillers.set(`filler-${i}`, value);
    await (await store.put(Buffer.from(`filler-${i}`), value)).persisted();
  }
  streamed.resume();
  await (await put).persisted();

  const expected = Buffer.concat(streamed.value);
  const got = await store.get(key);
  assert.ok(got.equals(expected), `streamed value reads back (${got.length} of ${expected.length} bytes)`);
  for (const [k, v] of fillers) assert.ok((await store.get(Buffer.from(k))).equals(v), k);
  assert.equal(store.reclaimer.stats.extentsReclaimed, 0, 'no extent was reset under the streaming put');

  await store.close();
  store = await openDiskStore(disk.clone(), options(rng));
  assert.ok((await store.get(key)).equals(expected), 'streamed value after reopen');
  for (const [k, v] of fillers) assert.ok((await store.get(Buffer.from(k))).equals(v), `${k} after reopen`);
  await store.close();
});
