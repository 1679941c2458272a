// A full disk: puts fail with a typed NoSpaceError and change nothing, the
// store stays consistent (and reopens to the same state), and once keys are
// deleted, reclamation (background, or the explicit store.reclaim() call)
// frees extents so puts succeed again without a restart.
//
// Strategy: a SimDisk of 4 MiB cut into 64 KiB extents (16 KiB data
// chunks, so values of up to 40 KiB span chunks and extents), with a tiny
// memtable and log, so index flushes, compactions and log rolls compete
// with data for the last extents. Fill with fresh keys, several puts in
// flight, some streamed in small pieces (a value's chunks are written
// across many turns of the event loop while background reclamation runs),
// until a put throws NoSpaceError; delete a seeded subset; retry a refused
// put each time background reclamation has freed one more extent (its
// pause, on a free-running virtual clock, is the event), a bounded number
// of times. Every wait has a hang bound (testing/hang_bound.ts), so a
// deadlock fails the test with what it was waiting for instead of hanging
// it. Fixed seeds.
//
// Invariants:
// 1. A put on a full disk rejects with NoSpaceError (code 'NoSpace'), and
//    its key stays absent.
// 2. Every acknowledged put is readable with exactly its bytes, and the
//    listing names exactly the acknowledged keys: while full, after a
//    reopen, after deletes, after reclamation, after every cycle.
// 3. After deletes, puts succeed again without a restart: in the
//    background within MAX_REFUSALS reclaimed extents, or right after
//    store.reclaim().
// 4. Ten fill/delete cycles neither deadlock nor lose a key; background
//    work reports no error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NoSpaceError, NotFoundError } from '../src/base/index.js';
import { formatDiskStore, openDiskStore } from '../src/store/index.js';
import type { DiskStore, FormatOptions, ValueSource } from '../src/store/index.js';
import { withinHangBound } from './hang_bound.js';
import { Rng } from './rng.js';
import { SimDisk } from './sim_disk.js';
import { VirtualClock } from './virtual_clock.js';

const DISK_BYTES = 4 * 1024 * 1024;
const EXTENT_BYTES = 64 * 1024;
const MAX_VALUE_BYTES = 40 * 1024;
const STREAM_PIECE_BYTES = 4096;
const FILL_CONCURRENCY = 4;
/** A fill that never hits NoSpace within this many puts is a bug (4 MiB holds far fewer). */
const MAX_FILL_PUTS = 2000;
/** One put or delete, commit included. */
const OP_TIMEOUT_MS = 10_000;
/** Waiting for background reclamation's next extent (a hang bound: the wait itself is for an event). */
const SPACE_TIMEOUT_MS = 10_000;
/** Refusals of one put tolerated while background reclamation frees extents one at a time (4 MiB holds 64). */
const MAX_REFUSALS = 200;

/** Acknowledged state: key (latin1 of its bytes) -> value. */
type Book = Map<string, Buffer>;

interface Rig {
  disk: SimDisk;
  store: DiskStore;
  readonly rng: Rng;
  readonly background: boolean;
  readonly backgroundErrors: unknown[];
  /** The store's clock, free running: each pause of background reclamation (one per extent) is an event to wait for. */
  readonly clock: VirtualClock;
  nextKey: number;
}

function storeOptions(rig: Pick<Rig, 'rng' | 'background' | 'backgroundErrors' | 'clock'>): FormatOptions {
  return {
    extentSizeBytes: EXTENT_BYTES,
    maxManifestBytes: 16 * 1024,
    cacheBytes: 256 * 1024,
    // Tiny memtable, fan-in and log: index flushes, compactions and log rolls
    // compete with data for the last extents.
    memtableFlushBytes: 2048,
    compactionFanIn: 3,
    maxLogBytes: 3000,
    random: rig.rng.fork('chunk-ids'),
    background: rig.background,
    reclaimPauseMs: 1,
    clock: rig.clock,
    onBackgroundError: (err: unknown) => rig.backgroundErrors.push(err),
  };
}

async function newRig(seed: number, background: boolean): Promise<Rig> {
  const rng = new Rng(seed);
  const disk = new SimDisk({ sizeBytes: DISK_BYTES, pageSizeBytes: 4096, fillSeed: seed });
  const clock = new VirtualClock();
  clock.release();
  const partial = { rng, background, backgroundErrors: [], clock };
  const store = await formatDiskStore(disk, storeOptions(partial));
  return { ...partial, disk, store, nextKey: 0 };
}

async function reopen(rig: Rig): Promise<void> {
  await rig.store.close();
  rig.disk = rig.disk.clone();
  rig.store = await openDiskStore(rig.disk, storeOptions(rig));
}

function freshKey(rig: Rig): Buffer {
  return Buffer.from(`full/${String(rig.nextKey++).padStart(5, '0')}`, 'latin1');
}

async function* pieces(value: Buffer): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < value.length; at += STREAM_PIECE_BYTES) {
    // A macrotask between pieces: commits and background reclamation run in between.
    await new Promise<void>((resolve) => setImmediate(resolve));
    yield value.subarray(at, at + STREAM_PIECE_BYTES);
  }
}

/** Put and wait until durable; true if acknowledged, false on NoSpaceError (invariant 1). */
async function putDurable(rig: Rig, key: Buffer, value: Buffer, streamed: boolean): Promise<boolean> {
  const source: ValueSource = streamed ? pieces(value) : value;
  try {
    const store = rig.store;
    await withinHangBound((async () => (await store.put(key, source)).persisted())(), OP_TIMEOUT_MS, () => `put of ${key.toString('latin1')}`);
    return true;
  } catch (err: unknown) {
    if (!(err instanceof NoSpaceError)) throw err;
    assert.equal(err.code, 'NoSpace');
    return false;
  }
}

/** Put fresh keys, FILL_CONCURRENCY at a time, until one is refused for space. Returns the refused keys. */
async function fill(rig: Rig, book: Book): Promise<Buffer[]> {
  const refused: Buffer[] = [];
  let puts = 0;
  const worker = async (rng: Rng): Promise<void> => {
    while (refused.length === 0) {
      assert.ok(puts++ < MAX_FILL_PUTS, `no NoSpaceError after ${MAX_FILL_PUTS} puts on a ${DISK_BYTES}-byte disk`);
      const key = freshKey(rig);
      const value = rng.bytes(rng.int(0, MAX_VALUE_BYTES));
      if (await putDurable(rig, key, value, rng.bool(0.5))) book.set(key.toString('latin1'), value);
      else refused.push(key);
    }
  };
  await Promise.all(Array.from({ length: FILL_CONCURRENCY }, () => worker(rig.rng.fork('fill-worker'))));
  for (const key of refused) {
    await assert.rejects(rig.store.get(key), NotFoundError, `refused put of ${key.toString('latin1')} left a value`);
  }
  return refused;
}

/** Invariant 2: every acknowledged key has its bytes, and nothing else is listed. */
async function checkAll(rig: Rig, book: Book, when: string): Promise<void> {
  for (const [k, value] of book) {
    const got = await rig.store.get(Buffer.from(k, 'latin1')).catch((err: unknown) => {
      throw new Error(`${when}: get ${k} failed: ${String(err)}`, { cause: err });
    });
    assert.ok(got.equals(value), `${when}: ${k} holds ${got.length} bytes, expected ${value.length} (acknowledged)`);
  }
  const listed: string[] = [];
  let startAfter: Buffer | undefined;
  for (;;) {
    const page = await rig.store.list({ limit: 500, ...(startAfter === undefined ? {} : { startAfter }) });
    listed.push(...page.shards.map((s) => s.key.toString('latin1')));
    startAfter = page.shards.at(-1)?.key;
    if (!page.truncated || startAfter === undefined) break;
  }
  assert.deepEqual(listed, [...book.keys()].sort(), `${when}: listing`);
}

/** Delete a seeded share of the acknowledged keys. */
async function deleteSome(rig: Rig, book: Book, share: number): Promise<void> {
  const victims = rig.rng.shuffle([...book.keys()].sort()).slice(0, Math.floor(book.size * share));
  for (const k of victims) {
    const store = rig.store;
    await withinHangBound((async () => (await store.delete(Buffer.from(k, 'latin1'))).persisted())(), OP_TIMEOUT_MS, () => `delete of ${k}`);
    book.delete(k);
  }
}

/**
 * Invariant 3: `want` fresh puts succeed. A refused put is retried once
 * background reclamation has freed one more extent (its pause after each
 * extent, on the virtual clock, is the latch), at most MAX_REFUSALS times;
 * if reclamation stops with puts still refused, the hang bound fails the test.
 */
async function putsSucceedAgain(rig: Rig, book: Book, want: number): Promise<void> {
  for (let done = 0; done < want; ) {
    const key = freshKey(rig);
    const value = rig.rng.bytes(rig.rng.int(0, MAX_VALUE_BYTES));
    for (let refusals = 0; ; refusals++) {
      const pausesBefore = rig.clock.sleeps;
      const next = rig.clock.nextSleep();
      if (await putDurable(rig, key, value, false)) break;
      assert.ok(refusals < MAX_REFUSALS, `puts still refused after ${MAX_REFUSALS} reclaimed extents: ${JSON.stringify(rig.store.stats())}`);
      if (rig.clock.sleeps === pausesBefore) {
        await withinHangBound(next, SPACE_TIMEOUT_MS, () => `puts refused and reclamation idle after deletes: ${JSON.stringify(rig.store.stats())}`);
      }
    }
    book.set(key.toString('latin1'), value);
    done++;
  }
}

void test('a full disk refuses puts with NoSpaceError, stays consistent, and background reclamation makes room', { timeout: 60_000 }, async () => {
  const rig = await newRig(7001, true);
  const book: Book = new Map();
  const refused = await fill(rig, book);
  assert.ok(refused.length >= 1 && book.size > 0);
  await checkAll(rig, book, 'full');
  await reopen(rig);
  await checkAll(rig, book, 'full, reopened');
  await deleteSome(rig, book, 0.8);
  await checkAll(rig, book, 'after deletes');
  await putsSucceedAgain(rig, book, 30);
  assert.ok(rig.store.reclaimer.stats.extentsReclaimed > 0, 'room came from reclamation');
  await checkAll(rig, book, 'after reclamation');
  await reopen(rig);
  await checkAll(rig, book, 'end, reopened');
  await rig.store.close();
  assert.deepEqual(rig.backgroundErrors, []);
});

void test('with background work off, store.reclaim() frees the extents of deleted keys', { timeout: 60_000 }, async () => {
  const rig = await newRig(7002, false);
  const book: Book = new Map();
  await fill(rig, book);
  await deleteSome(rig, book, 0.8);
  const freeBefore = rig.store.freeExtents;
  // Puts of the fill that found no extent reclaimed one each (makeRoom runs with background work off too).
  const reclaimedBefore = rig.store.reclaimer.stats.extentsReclaimed;
  const reclaimed = await rig.store.reclaim({ maxExtents: 1000 });
  // The resets ride on the next commit; the extents are free once it is durable.
  await rig.store.flush();
  assert.ok(reclaimed > 0, 'reclaim() reset extents');
  assert.ok(rig.store.freeExtents > freeBefore, `free extents ${freeBefore} -> ${rig.store.freeExtents}`);
  assert.equal(rig.store.reclaimer.stats.extentsReclaimed - reclaimedBefore, reclaimed);
  // No waiting: the room is there at once.
  for (let i = 0; i < 30; i++) {
    const key = freshKey(rig);
    const value = rig.rng.bytes(rig.rng.int(0, MAX_VALUE_BYTES));
    assert.ok(await putDurable(rig, key, value, rig.rng.bool(0.5)), `put ${i} after reclaim() refused`);
    book.set(key.toString('latin1'), value);
  }
  await checkAll(rig, book, 'after reclaim()');
  await reopen(rig);
  await checkAll(rig, book, 'reopened');
  await rig.store.close();
});

void test('ten fill/delete cycles never deadlock and never lose an acknowledged key', { timeout: 120_000 }, async (t) => {
  const rig = await newRig(7003, true);
  const book: Book = new Map();
  for (let cycle = 1; cycle <= 10; cycle++) {
    const refused = await fill(rig, book);
    await checkAll(rig, book, `cycle ${cycle}, full`);
    await deleteSome(rig, book, 0.6 + 0.3 * rig.rng.float());
    await putsSucceedAgain(rig, book, 10);
    await checkAll(rig, book, `cycle ${cycle}, after reclamation`);
    t.diagnostic(`cycle ${cycle}: ${refused.length} refused, ${book.size} keys, ${JSON.stringify(rig.store.stats())}`);
  }
  await reopen(rig);
  await checkAll(rig, book, 'after ten cycles, reopened');
  await rig.store.close();
  assert.deepEqual(rig.backgroundErrors, []);
});
