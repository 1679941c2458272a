// tier: quick (npm run test:quick; docs/TESTING.md)
// A full disk and the two copies of every LSM run. Puts stop at the
// foreground reserve; an index flush then needs two fresh extents at once
// (no run was written yet, so neither the primary nor the mirror stream has
// an extent), after reclamation took its own; a log roll (checkpoint) needs
// two more (the log and its mirror). The reserve classes must leave room
// for all of it.
//
// How: a 2 MiB SimDisk of 64 KiB extents, a memtable and log large enough
// that nothing is flushed or rolled while filling; fill with 30 KiB values
// until NoSpaceError (8 extents left: the prepared reserve of
// host_space.ts, which puts never take); take one for reclamation, as the
// reclaimer does (7 left); then flush (5 left), checkpoint (3 left), reopen. Checks: the
// flush writes its run (a failed one leaves none: it is retried later), the
// two copies sit in different extents, the checkpoint succeeds, every
// acknowledged key reads back after the reopen, and the refused key stays
// absent. Floors that leave index work a single extent (as before runs
// were mirrored) let the primary take it: the mirror finds none and the
// flush writes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NoSpaceError, NotFoundError } from '../src/base/index.js';
import { ExtentOwner } from '../src/extent/index.js';
import { formatDiskStore, openDiskStore } from '../src/store/index.js';
import type { FormatOptions } from '../src/store/index.js';
import { Rng } from './rng.js';
import { SimDisk } from './sim_disk.js';

const EXTENT_BYTES = 64 * 1024;

void test('at disk full, an index flush writes both copies of its run and a log roll still fits', async () => {
  const rng = new Rng('mirror-disk-full');
  const disk = new SimDisk({ sizeBytes: 32 * EXTENT_BYTES, pageSizeBytes: 4096 });
  const options: FormatOptions = {
    extentSizeBytes: EXTENT_BYTES,
    maxManifestBytes: 16 * 1024,
    memtableFlushBytes: 1 << 20,
    maxLogBytes: EXTENT_BYTES,
    background: false,
    random: rng.fork('chunk ids'),
  };
  const store = await formatDiskStore(disk, options);
  const book = new Map<string, Buffer>();
  let refused: Buffer | undefined;
  for (let i = 0; refused === undefined; i++) {
    assert.ok(i < 200, 'the disk never filled');
    const key = Buffer.from(`full/${String(i).padStart(4, '0')}`);
    const value = rng.bytes(30 * 1024);
    try {
      await (await store.put(key, value)).persisted();
      book.set(key.toString(), value);
    } catch (err: unknown) {
      if (!(err instanceof NoSpaceError)) throw err;
      refused = key;
    }
  }
  assert.equal(store.parts.extents.extentsOwnedBy(ExtentOwner.Index).length, 0, 'no run written while filling');
  assert.equal(store.freeExtents, store.parts.extents.preparedTarget, 'puts stop at the prepared reserve');
  assert.equal(store.freeExtents, 8);
  // Reclamation holds the extent it evacuates into (the reclaim class).
  store.parts.extents.allocate(ExtentOwner.Data, { reserve: 'reclaim' });
  await store.flush();
  const [run] = store.parts.index.runs();
  assert.ok(run !== undefined, 'the flush wrote a run');
  const copies = await store.parts.index.copyChunksOf(run);
  const extentsOf = (i: number): Set<number> => new Set(copies[i]?.chunks.map((c) => c.extent));
  assert.ok([...extentsOf(0)].every((e) => !extentsOf(1).has(e)), 'the copies share no extent');
  await store.checkpoint();
  await store.close();

  const reopened = await openDiskStore(disk.clone(), options);
  try {
    for (const [k, v] of book) assert.deepEqual(await reopened.get(Buffer.from(k)), v, k);
    await assert.rejects(reopened.get(refused), NotFoundError);
  } finally {
    await reopened.close();
  }
});
