// Overwrites on a small disk whose extents are mostly dead: puts are never
// refused for space while reclamation can free an extent.
//
// Found with the bench's churn cell at 1 MiB (engine_worker.ts, 96 live
// keys of 1 MiB on a 512 MiB disk of 64 extents): puts were refused
// NoSpace with 9 extents free and 85% of the disk dead. Two causes:
// - puts are refused once only the prepared reserve is free
//   (extent_manager.ts, putsRefusedAtFreeExtents: 9 extents by default),
//   but reclamation under pressure started below max(reserve + 2, 1/8 of
//   the extents): 8 on 64 extents, so it never started, and only the
//   idle pass (extents at most 10% live) ran (src/store/background.test.ts);
// - a put that found no free extent was refused at once, although
//   reclamation could free one: a load of overwrites outruns the paced
//   loop (one extent, then a pause). Such a put now waits for one
//   reclamation and tries again (Background.makeRoom); NoSpace only when
//   none can be freed (testing/disk_full.test.ts: a disk full of live
//   data). This file.
//
// Strategy: a SimDisk of 4 MiB in 64 KiB extents (64 extents, as the bench
// cell), 12 live keys of 8 KiB overwritten at random by four writers that
// give the background loop no turn of its own, values put whole and
// streamed in pieces (both append paths), background work on a
// free-running virtual clock. Fixed seeds.
//
// Invariants:
// 1. No put is refused while most of the disk is dead; every key reads
//    back its last acknowledged value.
// 2. A put waiting for room when the store begins to close answers
//    Closed, not NoSpace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NoSpaceError } from '../src/base/index.js';
import { formatDiskStore } from '../src/store/index.js';
import type { DiskStore, FormatOptions } from '../src/store/index.js';
import { Rng } from './rng.js';
import { SimDisk } from './sim_disk.js';
import { VirtualClock } from './virtual_clock.js';

const DISK_BYTES = 4 * 1024 * 1024;
const EXTENT_BYTES = 64 * 1024;
/** At most 96 KiB live: extents die almost whole. */
const LIVE_KEYS = 12;
const VALUE_BYTES = 8 * 1024 - 64;
/** maxChunkDataBytes is 4 KiB: a value of this size is one chunk. */
const ONE_CHUNK_BYTES = 4000;
/** Puts in all: about 4.5 disks' worth (800 of 4-8 KiB on 4 MiB). */
const PUTS = 800;

interface Churned {
  readonly refused: number;
  readonly waited: number;
}

async function newStore(seed: number, options: Partial<FormatOptions>, backgroundErrors: unknown[]): Promise<DiskStore> {
  const rng = new Rng(seed);
  const disk = new SimDisk({ sizeBytes: DISK_BYTES, pageSizeBytes: 4096, fillSeed: seed });
  const clock = new VirtualClock();
  clock.release();
  return formatDiskStore(disk, {
    extentSizeBytes: EXTENT_BYTES,
    maxManifestBytes: 16 * 1024,
    maxChunkDataBytes: 4 * 1024,
    random: rng.fork('chunk-ids'),
    background: true,
    reclaimPauseMs: 1,
    clock,
    onBackgroundError: (err: unknown) => backgroundErrors.push(err),
    ...options,
  });
}

/** `writers` writers overwrite the live keys; each put is awaited to durability. */
async function churn(store: DiskStore, seed: number, writers: number): Promise<Churned> {
  const keys = Array.from({ length: LIVE_KEYS }, (_, i) => Buffer.from(`churn/${i}`));
  const last = new Map<number, Buffer>();
  let refused = 0;
  const rng = new Rng(seed);
  const writer = async (r: Rng): Promise<void> => {
    for (let i = 0; i < PUTS / writers; i++) {
      const k = r.int(0, LIVE_KEYS - 1);
      // Half one chunk in one buffer (DiskStore.putOneChunk), half two
      // chunks streamed in pieces (ValueWriter): both append paths.
      const whole = r.bool(0.5);
      const value = r.bytes(whole ? ONE_CHUNK_BYTES : VALUE_BYTES);
      const source = whole ? value : pieces(value);
      try {
        await (await store.put(keys[k] ?? Buffer.alloc(0), source)).persisted();
        last.set(k, value);
      } catch (err: unknown) {
        if (!(err instanceof NoSpaceError)) throw err;
        refused++;
      }
    }
  };
  await Promise.all(Array.from({ length: writers }, (_, w) => writer(rng.fork(`writer-${w}`))));
  for (const [k, value] of last) assert.ok((await store.get(keys[k] ?? Buffer.alloc(0))).equals(value), `key ${k} does not read back its last value`);
  const stats = store.stats();
  return { refused, waited: stats.putsWaitedForRoom ?? 0 };
}

async function* pieces(value: Buffer): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < value.length; at += 3000) {
    // A microtask between pieces, not a macrotask: the background loop's pause gets no turn from it.
    await Promise.resolve();
    yield value.subarray(at, at + 3000);
  }
}

void test('overwrites that outrun the paced reclamation wait for room instead of being refused', async () => {
  const errors: unknown[] = [];
  const store = await newStore(20261207, {}, errors);
  const r = await churn(store, 7, 4);
  await store.close();
  assert.deepEqual(errors, []);
  assert.equal(r.refused, 0, `${r.refused} puts refused NoSpace on a disk that is mostly dead`);
  // The writers gave the background loop no turn: puts must have waited.
  assert.ok(r.waited > 0, 'no put waited for room: the test no longer reaches a full disk');

  // Broken variant: a put refused at once when no extent is free (the
  // behaviour before makeRoom) is caught by the refusals it causes.
  const brokenErrors: unknown[] = [];
  const broken = await newStore(20261207, {}, brokenErrors);
  (broken as unknown as { background: { makeRoom(): Promise<boolean> } }).background.makeRoom = () => Promise.resolve(false);
  const b = await churn(broken, 7, 4);
  await broken.close();
  assert.ok(b.refused > 0, 'the variant that refuses at once was not caught');
});

void test('a put waiting for room when the store begins to close is answered Closed, not NoSpace', async () => {
  // The first append finds no extent (a NoSpaceError forced once); while
  // the put waits for room, close begins (makeRoom is wrapped to start it
  // first). The put must answer Closed: the store is going away, and
  // NoSpace would tell the client to free space. The broken variant (room
  // without the check for closing) answers NoSpace.
  const refuseOnce = (store: DiskStore): void => {
    const stream = (store as unknown as { dataStream: { append: (...args: unknown[]) => unknown } }).dataStream;
    const append = stream.append.bind(stream);
    let refused = false;
    stream.append = (...args: unknown[]) => {
      if (refused) return append(...args);
      refused = true;
      throw new NoSpaceError('forced: no free extent');
    };
  };
  const closeWhileWaiting = (store: DiskStore): { closed: Promise<void> } => {
    const background = (store as unknown as { background: { makeRoom(): Promise<boolean> } }).background;
    const makeRoom = background.makeRoom.bind(background);
    const handle = { closed: Promise.resolve() };
    background.makeRoom = () => {
      handle.closed = store.close();
      return makeRoom();
    };
    return handle;
  };

  const store = await newStore(20261209, {}, []);
  refuseOnce(store);
  const closing = closeWhileWaiting(store);
  await assert.rejects(store.put(Buffer.from('k'), Buffer.alloc(100, 1)), (err: unknown) => err instanceof Error && 'code' in err && err.code === 'Closed');
  await closing.closed;

  const broken = await newStore(20261209, {}, []);
  const internals = broken as unknown as { room: () => Promise<boolean>; background: { makeRoom(): Promise<boolean> } };
  internals.room = () => internals.background.makeRoom();
  refuseOnce(broken);
  const brokenClosing = closeWhileWaiting(broken);
  await assert.rejects(broken.put(Buffer.from('k'), Buffer.alloc(100, 1)), NoSpaceError, 'the variant that answers NoSpace was not caught');
  await brokenClosing.closed;
});
