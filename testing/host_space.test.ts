// Host file system full (issue 11, part 4): the data file is sparse on a
// host file system that fills up. The store answers NoSpace, never turns
// read-only, and deletes and reclamation keep working and free space, also
// after a restart on the still-full host.
//
// Strategy: a SimDisk (or a real file on a size-limited tmpfs, when this
// machine lets us mount one) under HostFs (testing/host_fs.ts), which
// refuses first writes to a block with an error shaped like Node's ENOSPC
// once the host has no free block. The store is formatted while the host
// has room, filled with acknowledged values, then the host is filled:
// free bytes 0. Background work off, so every step is the test's own
// (deterministic); fixed seeds.
//
// Invariants:
// 1. A put that needs new host blocks fails with NoSpace (HostNoSpaceError,
//    HTTP 507), never Io; the key stays absent; every acknowledged value
//    reads back with its bytes.
// 2. The store never turns read-only: deletes succeed and become durable,
//    a checkpoint (log roll, index flush) succeeds, reclamation resets
//    extents, all on the full host.
// 3. After reclamation, puts succeed again on the still-full host: the
//    reset extents' blocks are allocated, so writing them needs no new one.
// 4. After a restart on the still-full host, deletes and checkpoints still
//    work (open prepares the reserve again over blocks that are allocated
//    already); reclamation works or answers NoSpace, never read-only.
// 5. Without preparation (the reserve left sparse), the same scenario
//    turns the store read-only: the check can fail.
// 6. A metadata record the host refuses anyway makes the store read-only:
//    mutations answer NoSpace naming it, reads work, a restart recovers
//    every acknowledged value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostNoSpaceError, NoSpaceError, NotFoundError, ReadOnlyError, ShardStoreError } from '../src/base/index.js';
import { FileDisk } from '../src/disk/index.js';
import type { Disk } from '../src/disk/index.js';
import { formatDiskStore, openDiskStore } from '../src/store/index.js';
import type { DiskStore, FormatOptions } from '../src/store/index.js';
import { Dependency, IoScheduler } from '../src/dependency/index.js';
import { ExtentManager, HostSpace, MIN_PACED_PIECE_BYTES, PIECE_BYTES, pacedPieceBytes } from '../src/extent/index.js';
import { planLayout } from '../src/superblock/index.js';
import { HostFs, enospcError } from './host_fs.js';
import { HOST_TEST_EXTENT_BYTES, hostTestOptions } from './host_store_options.js';
import { unpreparedReserve } from './mutants/host_space_mutants.js';
import { SimDisk } from './sim_disk.js';

const DISK_BYTES = 4 * 1024 * 1024;
const EXTENT_BYTES = HOST_TEST_EXTENT_BYTES;
const VALUE_BYTES = 12 * 1024;
const KEYS = 60;

function options(seed: number): FormatOptions {
  return hostTestOptions(seed);
}

function keyOf(i: number): Buffer {
  return Buffer.from(`host/${String(i).padStart(4, '0')}`, 'latin1');
}

function valueOf(i: number): Buffer {
  return Buffer.alloc(VALUE_BYTES, (i * 7 + 1) & 0xff);
}

/** Put and wait until durable: 'ok', or the error's code when it fails. */
async function put(store: DiskStore, i: number): Promise<string> {
  try {
    await (await store.put(keyOf(i), valueOf(i))).persisted();
    return 'ok';
  } catch (err: unknown) {
    if (err instanceof ShardStoreError) return err.code;
    throw err;
  }
}

/** Every key in `book` reads back its value; every other key below `upTo` is absent. */
async function checkBook(store: DiskStore, book: Set<number>, upTo: number): Promise<void> {
  for (let i = 0; i < upTo; i++) {
    if (book.has(i)) assert.deepEqual(await store.get(keyOf(i)), valueOf(i), `key ${i}`);
    else await assert.rejects(store.get(keyOf(i)), NotFoundError, `key ${i} should be absent`);
  }
}

interface Scenario {
  readonly host: HostFs;
  /** The disk to open next (a restart gets a new one). */
  readonly reopen: () => Promise<Disk>;
  readonly first: Disk;
}

function simScenario(seed: number): Scenario {
  const host = new HostFs();
  let sim = new SimDisk({ sizeBytes: DISK_BYTES, pageSizeBytes: 4096, fillSeed: seed });
  return {
    host,
    first: host.wrap(sim),
    reopen: () => {
      sim = sim.clone();
      return Promise.resolve(host.wrap(sim));
    },
  };
}

/** Fill the host, then the checks of invariants 1 to 4. Returns what it saw, for the report. */
async function fullHostScenario(s: Scenario, seed: number): Promise<{ refusedPuts: number; reclaimed: number }> {
  let store = await formatDiskStore(s.first, options(seed));
  const book = new Set<number>();
  for (let i = 0; i < KEYS / 2; i++) {
    assert.equal(await put(store, i), 'ok');
    book.add(i);
  }
  // The host fills up (another tenant, a log file): no free block left.
  s.host.setFreeBytes(0);
  let refusedPuts = 0;
  for (let i = KEYS / 2; i < KEYS; i++) {
    const outcome = await put(store, i);
    if (outcome === 'ok') book.add(i);
    else {
      assert.equal(outcome, 'NoSpace', `put ${i} on a full host`);
      refusedPuts++;
    }
  }
  assert.ok(refusedPuts > 0, 'the host never refused a put: the scenario does not fill it');
  assert.equal(store.log.failed, undefined, 'a refused data write turned the store read-only');
  await checkBook(store, book, KEYS);

  // Invariant 2: deletes, a checkpoint and reclamation on the full host.
  for (let i = 0; i < KEYS; i += 2) {
    if (!book.has(i)) continue;
    await (await store.delete(keyOf(i))).persisted();
    book.delete(i);
  }
  await store.checkpoint();
  const freeBefore = store.freeExtents;
  const reclaimed = await store.reclaim({ maxLiveRatio: 0.99, maxExtents: 64 });
  assert.ok(reclaimed > 0, 'reclamation reset no extent on the full host');
  await store.parts.io.idle();
  assert.ok(store.freeExtents > freeBefore - 1, `free extents ${freeBefore} -> ${store.freeExtents}`);
  assert.equal(store.log.failed, undefined, 'the store turned read-only on the full host');
  await checkBook(store, book, KEYS);

  // Invariant 3: puts succeed again, into the reset extents' allocated blocks.
  assert.equal(await put(store, KEYS), 'ok', 'a put after reclamation on the full host');
  book.add(KEYS);

  // Invariant 4: restart on the still-full host.
  await store.close();
  store = await openDiskStore(await s.reopen(), options(seed));
  await store.parts.space.ready();
  await checkBook(store, book, KEYS + 1);
  for (let i = 1; i < KEYS; i += 4) {
    if (!book.has(i)) continue;
    await (await store.delete(keyOf(i))).persisted();
    book.delete(i);
  }
  await store.checkpoint();
  // Which free extents have allocated blocks is only partly known after a
  // restart (those the last checkpoint marked prepared): reclamation may
  // answer NoSpace, never anything else, and never turns the store read-only.
  await store.reclaim({ maxLiveRatio: 0.99, maxExtents: 64 }).catch((err: unknown) => {
    assert.ok(err instanceof NoSpaceError, `reclaim after a restart on the full host: ${String(err)}`);
  });
  assert.equal(store.log.failed, undefined, 'the store turned read-only after a restart on the full host');
  await (await store.delete(keyOf(KEYS))).persisted();
  book.delete(KEYS);
  await store.checkpoint();
  await checkBook(store, book, KEYS + 1);
  await store.close();
  return { refusedPuts, reclaimed };
}

void test('full host (simulated): puts answer NoSpace, deletes, checkpoints and reclamation work, also after a restart', async () => {
  for (const seed of [1, 2, 3]) {
    const seen = await fullHostScenario(simScenario(seed), seed);
    console.log(`# seed ${seed}: ${seen.refusedPuts} puts refused, ${seen.reclaimed} extents reclaimed on the full host`);
  }
});

void test('a data write refused by the host fails its put with HostNoSpaceError and seals the extent', async () => {
  const s = simScenario(4);
  const store = await formatDiskStore(s.first, options(4));
  assert.equal(await put(store, 0), 'ok');
  s.host.setFreeBytes(0);
  const err = await store
    .put(keyOf(1), valueOf(1))
    .then((d) => d.persisted())
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  assert.ok(err instanceof NoSpaceError && (err instanceof HostNoSpaceError || err.cause instanceof HostNoSpaceError), `got ${String(err)}`);
  const sealed = store.parts.extents.extentsOwnedBy(1).filter((e) => store.parts.extents.isSealed(e));
  assert.ok(sealed.length > 0, 'the extent with the refused write was not sealed');
  await store.close();
});

void test('without the reserve prepared, the full host turns the store read-only (the check can fail)', async () => {
  const restore = unpreparedReserve.install();
  try {
    const err = await fullHostScenario(simScenario(1), 1).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof Error && /read-only|NoSpace/.test(err.message), `the scenario passed without preparation: ${String(err)}`);
  } finally {
    restore();
  }
});

void test('a metadata record the host still refuses (copy-on-write host, punched hole) makes the store read-only with NoSpace, reads keep working, a restart recovers', async () => {
  // Prepared log extents make this unreachable on an overwrite-in-place host;
  // this is what happens if it happens anyway (docs/ARCHITECTURE.md).
  const sim = new SimDisk({ sizeBytes: DISK_BYTES, pageSizeBytes: 4096, fillSeed: 6 });
  // The extents the host refuses (both copies of the log: one refused copy alone is not a lost record).
  let refused: readonly number[] = [];
  const disk: Disk = {
    sizeBytes: sim.sizeBytes,
    pageSizeBytes: sim.pageSizeBytes,
    read: (o, n) => sim.read(o, n),
    write: (o, d) => (refused.includes(Math.floor(o / EXTENT_BYTES)) ? Promise.reject(enospcError()) : sim.write(o, d)),
    flush: () => sim.flush(),
    close: () => sim.close(),
  };
  const store = await formatDiskStore(disk, options(6));
  assert.equal(await put(store, 0), 'ok');
  refused = [store.parts.state.logExtent, store.parts.state.mirrorLogExtent];
  assert.equal(await put(store, 1), 'NoSpace');
  assert.ok(store.log.failed instanceof HostNoSpaceError, String(store.log.failed));
  const err = await store.delete(keyOf(0)).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof NoSpaceError, String(err));
  assert.match(err.message, /read-only after a failed commit: .*host file system full.*free space on the host file system and restart/);
  assert.deepEqual(await store.get(keyOf(0)), valueOf(0));
  store.abandon();
  refused = [];
  const again = await openDiskStore(sim.clone(), options(6));
  assert.deepEqual(await again.get(keyOf(0)), valueOf(0));
  await assert.rejects(again.get(keyOf(1)), NotFoundError);
  assert.equal(await put(again, 1), 'ok');
  await again.close();
});

void test('open prepares the reserve again where the checkpoint marks none (zeros over free extents), except for tools that check, which never write', async () => {
  // The format's checkpoint marks the reserve host-allocated (testing/host_allocated.test.ts);
  // the marks are cleared here (a copy made sparse, on a host that says how much it holds), so open prepares.
  const host = new HostFs();
  const sim = new SimDisk({ sizeBytes: DISK_BYTES, pageSizeBytes: 4096, fillSeed: 7 });
  const first = await formatDiskStore(host.wrap(sim), options(7));
  await first.close();
  for (const prepareHostSpace of [true, false]) {
    const disk = sim.clone();
    const store = await openDiskStore(new HostFs().wrap(disk), { ...options(7), prepareHostSpace });
    assert.equal(store.parts.recovery.hostAllocated.trusted, 0);
    await store.parts.space.ready();
    await store.liveBytesReady();
    if (prepareHostSpace) {
      assert.ok(disk.stats.writes > 0, 'open prepared nothing');
      assert.equal(store.parts.extents.countPreparedFree(), store.parts.extents.preparedTarget);
    } else {
      assert.equal(disk.stats.writes, 0, 'a checking tool wrote to the disk');
    }
    store.abandon();
  }
});

void test('a store opened read-only refuses writes at its IO scheduler too, below the store\'s own checks', async () => {
  // Why: the store refuses mutations when read-only, but a tool that
  // checks (fsck, inspect) must not write even through a path that skips
  // those checks; open gives the IO scheduler the flag as the last line of
  // defence. How: a write issued straight to the read-only store's
  // scheduler fails with ReadOnlyError and reaches no disk; the same on a
  // writable open goes through.
  const sim = new SimDisk({ sizeBytes: DISK_BYTES, pageSizeBytes: 4096, fillSeed: 8 });
  await (await formatDiskStore(sim, options(8))).close();
  const tool = sim.clone();
  const store = await openDiskStore(tool, { ...options(8), readOnly: true });
  const writes = tool.stats.writes;
  const free = store.parts.extents.diskOffset(store.parts.label.geometry.extentCount - 1, 0);
  await assert.rejects(store.parts.io.write(free, Buffer.alloc(4096)).persisted(), (err: unknown) => err instanceof ReadOnlyError && /refused: the disk is open read-only/.test(err.message));
  assert.equal(tool.stats.writes, writes, 'nothing reached the disk');
  store.abandon();
  const writable = await openDiskStore(sim.clone(), options(8));
  await writable.parts.io.write(free, Buffer.alloc(4096)).persisted();
  writable.abandon();
});

void test('a preallocated data file needs no preparation: every extent counts as prepared, no zeros are written', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shardstore-prealloc-'));
  try {
    const path = join(dir, 'disk0');
    const pre = await FileDisk.open(path, { createSizeBytes: DISK_BYTES, preallocate: true });
    assert.equal(pre.hostSpace().fileFullyAllocated, true);
    const store = await formatDiskStore(pre, options(8));
    assert.equal(store.parts.space.stats.extentsPrepared, 0, 'zeros written over a preallocated file');
    assert.equal(store.parts.extents.countPreparedFree(), store.parts.extents.countFree());
    await store.close();
    const sparse = await FileDisk.open(join(dir, 'disk1'), { createSizeBytes: DISK_BYTES });
    assert.equal(sparse.hostSpace().fileFullyAllocated, false);
    const other = await formatDiskStore(sparse, options(8));
    assert.ok(other.parts.space.stats.extentsPrepared >= other.parts.extents.preparedTarget);
    await other.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A tmpfs of `bytes` mounted at a fresh directory, or undefined where mounting is not allowed. */
function mountTmpfs(bytes: number): { dir: string; unmount: () => void } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'shardstore-hostfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { stdio: 'ignore' });
  } catch (err: unknown) {
    rmSync(dir, { recursive: true, force: true });
    console.log(`# no tmpfs here (${err instanceof Error ? err.message.split('\n')[0] : String(err)}): the real-file variant does not run; the simulated one above did`);
    return undefined;
  }
  return {
    dir,
    unmount: () => {
      // Lazy: a handle left open by a failed assertion must not hide that failure.
      execFileSync('umount', ['-l', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

void test('full host (a real sparse file on a small tmpfs, where mounting works): the kernel ENOSPC is a NoSpace, never read-only', async () => {
  // 1 MiB of tmpfs under a 4 MiB sparse file: the host fills before the store.
  const mount = mountTmpfs(1024 * 1024);
  if (mount === undefined) return;
  try {
    const path = join(mount.dir, 'disk0');
    const store = await formatDiskStore(await FileDisk.open(path, { createSizeBytes: DISK_BYTES }), options(5));
    const book = new Set<number>();
    let refused = 0;
    for (let i = 0; i < KEYS * 2 && refused < 3; i++) {
      const outcome = await put(store, i);
      if (outcome === 'ok') book.add(i);
      else {
        assert.equal(outcome, 'NoSpace', `put ${i}`);
        refused++;
      }
    }
    assert.ok(refused > 0, 'the tmpfs never filled');
    for (const i of [...book].filter((k) => k % 2 === 0)) {
      await (await store.delete(keyOf(i))).persisted();
      book.delete(i);
    }
    await store.checkpoint();
    assert.ok((await store.reclaim({ maxLiveRatio: 0.99, maxExtents: 64 })) > 0, 'no extent reclaimed on the full tmpfs');
    assert.equal(store.log.failed, undefined);
    await checkBook(store, book, KEYS * 2);
    await store.close();
    const again = await openDiskStore(await FileDisk.open(path), options(5));
    await again.parts.space.ready();
    const first = [...book][0];
    if (first !== undefined) await (await again.delete(keyOf(first))).persisted();
    await again.checkpoint();
    assert.equal(again.log.failed, undefined);
    await again.close();
  } finally {
    mount.unmount();
  }
});

void test('format on a host without room for the metadata and the reserve fails with NoSpace naming the host error', async () => {
  // Checks: format's preparation (open.ts prepareAtFormat) on a host that
  // cannot hold the superblock (no free block), or holds the superblock but
  // not the log extents and the reserve (64 KiB free): formatDiskStore
  // rejects with NoSpaceError whose message says what could not be
  // prepared and carries the host's ENOSPC, as does its cause. The second
  // host has room for the superblock and one more extent: the log and its
  // mirror cannot both be prepared.
  const label = planLayout({ diskSizeBytes: DISK_BYTES, pageSizeBytes: 4096, extentSizeBytes: EXTENT_BYTES, maxManifestBytes: 16 * 1024, nodeId: { low: 0, high: 0 }, diskIndex: 0, diskCount: 1 });
  const superblockBytes = label.geometry.superblockExtents * EXTENT_BYTES;
  for (const freeBytes of [0, superblockBytes + EXTENT_BYTES]) {
    const s = simScenario(7);
    s.host.setFreeBytes(freeBytes);
    await assert.rejects(formatDiskStore(s.first, options(7)), (err: unknown) => {
      assert.ok(err instanceof NoSpaceError, `${freeBytes} bytes free: ${String(err)}`);
      assert.ok(err.message.startsWith('cannot format: the host file system has no room for the metadata and the reserve: '), err.message);
      assert.match(err.message, /ENOSPC/);
      assert.ok(err.cause instanceof Error && /ENOSPC/.test(String(err.cause)), `${freeBytes} bytes free: cause ${String(err.cause)}`);
      return true;
    });
  }
});

void test('host space writes zeros in pieces of at most PIECE_BYTES, each flushed before the next', async () => {
  // Checks: the preparation of a free extent larger than PIECE_BYTES goes
  // out as writes of at most PIECE_BYTES, each followed by a flush, so a
  // commit queued behind it waits for one piece, never a whole extent of
  // zeros; and the extent reads as zeros afterwards. How: an 8 MiB extent
  // on a SimDisk whose never-written bytes are garbage, every IO recorded.
  const extentSizeBytes = 2 * PIECE_BYTES;
  const geometry = { pageSizeBytes: 4096, extentSizeBytes, extentCount: 3, superblockExtents: 1 };
  const disk = new SimDisk({ sizeBytes: 3 * extentSizeBytes, pageSizeBytes: 4096, fillSeed: 'pieces' });
  const issued: string[] = [];
  disk.onIo((event, io) => {
    if (event === 'issue') issued.push(io.kind === 'write' ? `write ${io.length}` : io.kind);
  });
  const io = new IoScheduler(disk);
  const space = new HostSpace(new ExtentManager(geometry, io, 0), io);
  await space.zeroFill(extentSizeBytes, extentSizeBytes, Dependency.none);
  assert.deepEqual(issued, [`write ${PIECE_BYTES}`, 'flush', `write ${PIECE_BYTES}`, 'flush']);
  assert.ok(disk.peek(extentSizeBytes, extentSizeBytes).every((b) => b === 0), 'the extent reads as zeros');
});

void test('a paced preparation writes pieces about the size of what the store wrote meanwhile, whole pieces when idle', async () => {
  // Checks pacedPieceBytes through zeroFill (the background preparation of
  // a sparse file): with commit cycles of COMMIT_BYTES running beside it,
  // each piece after the first is at most what those cycles wrote (rounded
  // to MIN_PACED_PIECE_BYTES), so a commit's flush never carries a
  // PIECE_BYTES piece of zeros; alone, it goes back to whole pieces. The
  // broken variant is the unpaced fill (format's): beside the same cycles
  // it writes PIECE_BYTES pieces, which the first check refuses. How: a
  // SimDisk, a writer looping write-and-flush into another extent while
  // the fill runs, every zero write's length recorded.
  const COMMIT_BYTES = 128 * 1024;
  const extentSizeBytes = 2 * PIECE_BYTES;
  const geometry = { pageSizeBytes: 4096, extentSizeBytes, extentCount: 3, superblockExtents: 1 };
  const zeroPieces = async (paced: boolean, busy: boolean): Promise<number[]> => {
    const disk = new SimDisk({ sizeBytes: 3 * extentSizeBytes, pageSizeBytes: 4096, fillSeed: 'paced' });
    const pieces: number[] = [];
    disk.onIo((event, io) => {
      if (event === 'issue' && io.kind === 'write' && io.offset >= extentSizeBytes && io.offset < 2 * extentSizeBytes) pieces.push(io.length);
    });
    const io = new IoScheduler(disk);
    const space = new HostSpace(new ExtentManager(geometry, io, 0), io);
    let filling = true;
    const commits = async (): Promise<void> => {
      const bytes = Buffer.alloc(COMMIT_BYTES, 1);
      for (let at = 0; filling; at = (at + COMMIT_BYTES) % extentSizeBytes) await io.write(2 * extentSizeBytes + at, bytes, Dependency.none).persisted();
    };
    const writer = busy ? commits() : Promise.resolve();
    await space.zeroFill(extentSizeBytes, extentSizeBytes, Dependency.none, paced ? 'paced' : 'whole');
    filling = false;
    await writer;
    assert.ok(disk.peek(extentSizeBytes, extentSizeBytes).every((b) => b === 0), 'the extent reads as zeros');
    assert.equal(pieces.reduce((a, b) => a + b, 0), extentSizeBytes, 'the pieces cover the extent');
    return pieces;
  };
  const bound = 2 * COMMIT_BYTES; // a piece may span two of the writer's cycles
  const busy = await zeroPieces(true, true);
  assert.equal(busy[0], MIN_PACED_PIECE_BYTES, 'a paced fill starts small');
  assert.ok(busy.length > 8 && busy.every((n) => n <= bound), `paced pieces beside commits of ${COMMIT_BYTES} B: ${busy.join(',')}`);
  const idle = await zeroPieces(true, false);
  assert.deepEqual(idle, [MIN_PACED_PIECE_BYTES, PIECE_BYTES, extentSizeBytes - PIECE_BYTES - MIN_PACED_PIECE_BYTES], 'alone, whole pieces after the first');
  const unpaced = await zeroPieces(false, true);
  assert.ok(!unpaced.every((n) => n <= bound), 'broken variant (unpaced): its pieces must fail the bound');
  assert.deepEqual(unpaced, [PIECE_BYTES, PIECE_BYTES]);
  // The rule itself, at its edges.
  assert.equal(pacedPieceBytes(0, PIECE_BYTES), PIECE_BYTES);
  assert.equal(pacedPieceBytes(1, PIECE_BYTES), MIN_PACED_PIECE_BYTES);
  assert.equal(pacedPieceBytes(MIN_PACED_PIECE_BYTES + 1, PIECE_BYTES), 2 * MIN_PACED_PIECE_BYTES);
  assert.equal(pacedPieceBytes(64 * PIECE_BYTES, PIECE_BYTES), PIECE_BYTES);
});

void test('a background refill stops at the first NoSpace refusal; other failures and the fill at open try on', async () => {
  // Checks: a full host refuses the next hole too, so a refill round
  // (kick(), after an allocation) stops at the first NoSpace: one
  // refusal, not one per extent of the target (bounded work on every
  // allocation of a full host). An IO error is not a full host: the round
  // tries the next extents. The fill at open (fill(n)) tries n extents
  // whatever the refusal, since the highest extents may be allocated
  // already. How: a HostSpace over a 16-extent SimDisk, the host full (or
  // every write failing), preparations counted by its stats and the host's.
  const geometry = { pageSizeBytes: 4096, extentSizeBytes: EXTENT_BYTES, extentCount: 16, superblockExtents: 1 };
  const setup = (): { host: HostFs; sim: SimDisk; space: HostSpace; extents: ExtentManager } => {
    const host = new HostFs();
    const sim = new SimDisk({ sizeBytes: 16 * EXTENT_BYTES, pageSizeBytes: 4096, fillSeed: 'refill' });
    const io = new IoScheduler(host.wrap(sim));
    const extents = new ExtentManager(geometry, io, 0);
    return { host, sim, space: new HostSpace(extents, io), extents };
  };
  {
    const { host, space, extents } = setup();
    assert.ok(extents.preparedTarget >= 3, 'a target of several extents');
    host.setFreeBytes(0);
    space.kick();
    await space.settled();
    assert.equal(space.stats.failures, 1, 'refill on a full host: one refusal, then stop');
    assert.equal(host.stats.refused, 1);
    assert.ok(space.stats.lastError instanceof NoSpaceError, String(space.stats.lastError));
    await space.fill(5, { paced: false });
    assert.equal(space.stats.failures, 1 + 5, 'the fill tries every extent it may');
    assert.equal(extents.countPreparedFree(), 0);
  }
  {
    const { sim, space, extents } = setup();
    sim.failWrites(() => true, 'permanent');
    space.kick();
    await space.settled();
    assert.equal(space.stats.failures, extents.preparedTarget, 'an IO error is not a full host: the round tries on');
    assert.equal(space.stats.lastError instanceof NoSpaceError, false);
  }
});
