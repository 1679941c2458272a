// Extents known allocated on the host (issue 14): checkpoints mark the
// extents whose zeros were made durable (src/extent/host_space.ts), so an
// open prepares only the others instead of rewriting the reserve and the
// extents prepared ahead of puts (768 MiB of zeros per restart with the
// defaults).
//
// Strategy: stores on a SimDisk (some under HostFs, which says how many
// blocks the file holds) and on a real sparse FileDisk; format, then open
// again and count what the open wrote (the disk's bytes, the extents host
// space prepared). A crash is SimDisk.crash('drop-all'): only durable
// writes survive. Background work off, fixed seeds.
//
// Invariants:
// 1. The open of a formatted store, closed cleanly or not, writes no zeros:
//    every extent format prepared is marked by its checkpoint.
// 2. An extent prepared after the last checkpoint is not taken as prepared
//    after a crash (the mark was not durable): open prepares again. A clean
//    close records it (a log roll), and the next open takes it as prepared.
// 3. A checkpoint of version 3 (before marks) opens with nothing marked:
//    open prepares the reserve as before.
// 4. A data file holding fewer allocated bytes than the marks imply (a
//    copy made sparse) is not believed: no mark counts, the reserve is
//    prepared again, and the recovery report says why.
// 5. A preparation whose zeros are not durable (refused, flush failed)
//    marks nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, openSync, closeSync, readSync, writeSync, ftruncateSync, fstatSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32c } from '../src/base/index.js';
import { FileDisk } from '../src/disk/index.js';
import type { Disk } from '../src/disk/index.js';
import { IoScheduler } from '../src/dependency/index.js';
import { ExtentManager, ExtentOwner, HostSpace } from '../src/extent/index.js';
import { formatDiskStore, openDiskStore } from '../src/store/index.js';
import type { DiskStore, FormatOptions } from '../src/store/index.js';
import { Superblock, decodeCheckpoint, encodeCheckpoint } from '../src/superblock/index.js';
import { HOST_BLOCK_BYTES, HostFs } from './host_fs.js';
import { HOST_TEST_EXTENT_BYTES, hostTestOptions } from './host_store_options.js';
import { patch } from './mutants/mutant.js';
import { Rng } from './rng.js';
import { SimDisk } from './sim_disk.js';

const DISK_BYTES = 8 * 1024 * 1024;
const EXTENT_BYTES = HOST_TEST_EXTENT_BYTES;
const AHEAD_EXTENTS = 3;

/** With extents prepared ahead of puts (their zeros too are what an open must not write again). */
function options(seed: number): FormatOptions {
  return { ...hostTestOptions(seed), prepareAheadExtents: AHEAD_EXTENTS, confirmIdleMs: Infinity };
}

/** Open, wait for host space to finish (the reserve and the extents ahead), and say what it wrote. */
async function openAndSettle(disk: Disk, o: FormatOptions, written: () => number): Promise<{ store: DiskStore; bytesWritten: number }> {
  const before = written();
  const store = await openDiskStore(disk, o);
  await store.parts.space.ready();
  await store.parts.space.settled();
  return { store, bytesWritten: written() - before };
}

/** The extents that count as prepared, free ones only with `freeOnly`. */
function prepared(store: DiskStore, freeOnly: boolean): number[] {
  const e = store.parts.extents;
  const out: number[] = [];
  for (let x = 0; x < e.geometry.extentCount; x++) if ((!freeOnly || e.owner(x) === ExtentOwner.Free) && e.preparedState(x) === 'prepared') out.push(x);
  return out;
}

void test('the open of a formatted store writes no zeros, after a clean close or a crash (simulated disk)', async () => {
  // Checks invariant 1. How: format (reserve and extents ahead prepared),
  // then open the image twice: after close, and as a crash leaves it
  // (only durable writes). Each open must prepare no extent and write less
  // than one extent, with the reserve and the extents ahead counted as
  // prepared; without the marks it writes them all again.
  const sim = new SimDisk({ sizeBytes: DISK_BYTES, pageSizeBytes: 4096, fillSeed: 1 });
  const first = await formatDiskStore(sim, options(1));
  const target = first.parts.space.target;
  assert.ok(first.parts.space.stats.extentsPrepared >= target, `format prepared ${first.parts.space.stats.extentsPrepared} of ${target}`);
  assert.equal(first.parts.extents.unrecordedHostAllocated, 0, 'format prepared extents its checkpoint does not mark');
  const crashed = sim.clone().crash(new Rng('host-allocated/crash'), 'drop-all').disk;
  await first.close();
  for (const [what, disk] of [
    ['after close', sim.clone()],
    ['after a crash', crashed],
  ] as const) {
    const { store, bytesWritten } = await openAndSettle(disk, options(1), () => disk.stats.bytesWritten);
    assert.equal(store.parts.space.stats.extentsPrepared, 0, `${what}: open prepared extents again`);
    assert.ok(bytesWritten < EXTENT_BYTES, `${what}: open wrote ${bytesWritten} bytes`);
    assert.equal(store.parts.extents.countPreparedFree(), target, `${what}: prepared free extents`);
    assert.equal(store.parts.recovery.hostAllocated.trusted, store.parts.recovery.hostAllocated.marked);
    store.abandon();
  }
});

void test('the open of a formatted store on a real sparse file writes no zeros', async () => {
  // Checks invariant 1 on a FileDisk (stat's allocated blocks, not a
  // simulation): the open's IO scheduler writes less than one extent.
  const dir = mkdtempSync(join(tmpdir(), 'shardstore-host-allocated-'));
  try {
    const path = join(dir, 'disk0');
    const store = await formatDiskStore(await FileDisk.open(path, { createSizeBytes: DISK_BYTES }), options(2));
    assert.equal(store.parts.disk.hostSpace?.().fileFullyAllocated, false, 'the file is allocated whole: the test proves nothing');
    await store.close();
    const again = await openDiskStore(await FileDisk.open(path), options(2));
    await again.parts.space.ready();
    await again.parts.space.settled();
    assert.equal(again.parts.space.stats.extentsPrepared, 0, 'open prepared extents again');
    assert.ok(again.parts.io.stats.bytesWritten < EXTENT_BYTES, `open wrote ${again.parts.io.stats.bytesWritten} bytes`);
    assert.equal(again.parts.extents.countPreparedFree(), again.parts.space.target);
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('an extent prepared after the last checkpoint is prepared again after a crash; a clean close records it', async () => {
  // Checks invariant 2. How: puts take the extents prepared ahead of them;
  // the refill after each allocation prepares others, which the format's
  // checkpoint could not mark. Crash (durable writes only): open
  // without host space shows them unprepared and the marked ones
  // prepared; open with it prepares again. The same store closed cleanly
  // instead: its close rolls the log, and they open prepared.
  const sim = new SimDisk({ sizeBytes: DISK_BYTES, pageSizeBytes: 4096, fillSeed: 3 });
  const store = await formatDiskStore(sim, options(3));
  const before = new Set(prepared(store, false));
  for (let i = 0; i < 20; i++) await (await store.put(Buffer.from(`k${i}`), Buffer.alloc(20_000, i + 1))).persisted();
  await store.parts.space.settled();
  const late = prepared(store, true).filter((e) => !before.has(e));
  assert.ok(late.length > 0, 'the refill after the roll prepared nothing new: the test proves nothing');
  assert.ok(store.parts.extents.unrecordedHostAllocated >= late.length);

  const crashed = sim.clone().crash(new Rng('host-allocated/late'), 'drop-all').disk;
  const looked = await openDiskStore(crashed.clone(), { ...options(3), prepareHostSpace: false });
  for (const e of late) assert.equal(looked.parts.extents.preparedState(e), 'unprepared', `extent ${e}, prepared after the checkpoint, counts as prepared after a crash`);
  assert.ok(looked.parts.extents.countPreparedFree() > 0, 'no marked extent counts as prepared');
  looked.abandon();
  const { store: reopened } = await openAndSettle(crashed, options(3), () => crashed.stats.bytesWritten);
  assert.ok(reopened.parts.space.stats.extentsPrepared >= 1, 'open did not prepare again what the crash forgot');
  assert.equal(reopened.parts.extents.countPreparedFree(), reopened.parts.space.target);
  reopened.abandon();

  const rollsBefore = store.log.counters.rolls;
  await store.close();
  assert.equal(store.log.counters.rolls, rollsBefore + 1, 'close did not record the late extents (no roll)');
  const { store: clean, bytesWritten } = await openAndSettle(sim.clone(), options(3), () => 0);
  for (const e of late) assert.equal(clean.parts.extents.preparedState(e), 'prepared', `extent ${e} not recorded by the close`);
  assert.equal(clean.parts.space.stats.extentsPrepared, 0, `open after a clean close prepared again (${bytesWritten})`);
  // Nothing new to record: this close does not roll.
  const rolls = clean.log.counters.rolls;
  await clean.close();
  assert.equal(clean.log.counters.rolls, rolls, 'a close with nothing new prepared rolled the log');
});

void test('a close right after puts took the extents ahead finishes their refill and records it: the next open writes no zeros', async () => {
  // Checks invariant 2 as the bench's get probe meets it (load, close,
  // open, gets): the refill after the puts' allocations is still under
  // way when close starts. Close lets it finish and rolls the log, so the
  // open after it prepares nothing (the zeros are written before the
  // close returns, not while the first requests run).
  const sim = new SimDisk({ sizeBytes: DISK_BYTES, pageSizeBytes: 4096, fillSeed: 7 });
  const store = await formatDiskStore(sim, options(7));
  // Staged, not awaited: close drains them, and finds the refill their extents started under way.
  const durable = await Promise.all(Array.from({ length: 20 }, (_, i) => store.put(Buffer.from(`k${i}`), Buffer.alloc(20_000, i + 1))));
  assert.ok(store.parts.extents.countPreparedFree() < store.parts.space.target, 'the puts took no extent prepared ahead: the test proves nothing');
  await store.close();
  await Promise.all(durable.map((d) => d.persisted()));
  const disk = sim.clone();
  const { store: again, bytesWritten } = await openAndSettle(disk, options(7), () => disk.stats.bytesWritten);
  assert.equal(again.parts.space.stats.extentsPrepared, 0, 'open prepared again what the close left to it');
  assert.ok(bytesWritten < EXTENT_BYTES, `open wrote ${bytesWritten} bytes`);
  assert.equal(again.parts.extents.countPreparedFree(), again.parts.space.target);
  again.abandon();
});

/** Rewrite the newest checkpoint of `disk` (both copies) as version 3 wrote it: no marks. */
async function downgradeCheckpoint(disk: SimDisk): Promise<void> {
  const label = await Superblock.readLabel(disk);
  const { checkpoint, slots } = await Superblock.load(new IoScheduler(disk), label);
  assert.ok(checkpoint.hostAllocated.length > 0, 'the checkpoint marks nothing: the test proves nothing');
  const bytes = encodeCheckpoint({ ...checkpoint, hostAllocated: [] }, label);
  bytes.writeUInt32LE(3, 4); // the slot's version
  bytes.writeUInt32LE(crc32c(bytes.subarray(24), crc32c(bytes.subarray(0, 20))), 20);
  assert.equal(decodeCheckpoint(bytes, label).hostAllocated.length, 0);
  for (const s of slots) if (s.sequence === checkpoint.sequence) await disk.write(s.offset, bytes);
  await disk.flush();
}

void test('a checkpoint of version 3 opens with no extent marked, and open prepares the reserve as before', async () => {
  // Checks invariant 3. How: a formatted store's checkpoint rewritten as
  // version 3 (its marks stripped, the version and CRC rewritten); open
  // without host space finds no free extent prepared; open with it
  // prepares the reserve and the extents ahead, and its close records them.
  const sim = new SimDisk({ sizeBytes: DISK_BYTES, pageSizeBytes: 4096, fillSeed: 4 });
  const first = await formatDiskStore(sim, options(4));
  await first.close();
  const image = sim.clone();
  await downgradeCheckpoint(image);
  const looked = await openDiskStore(image.clone(), { ...options(4), prepareHostSpace: false });
  assert.equal(looked.parts.recovery.hostAllocated.marked, 0);
  assert.equal(looked.parts.extents.countPreparedFree(), 0, 'a version 3 checkpoint marked extents');
  looked.abandon();
  const { store } = await openAndSettle(image, options(4), () => 0);
  assert.ok(store.parts.space.stats.extentsPrepared >= store.parts.space.target, `prepared ${store.parts.space.stats.extentsPrepared}`);
  await store.close();
  // The close rolled the log into two extents of the reserve; the old log
  // extents, never prepared by this release, go back to it unmarked: the
  // next open prepares two, its close records them, and the one after
  // prepares none.
  const secondDisk = image.clone();
  const { store: second } = await openAndSettle(secondDisk, options(4), () => 0);
  assert.ok(second.parts.space.stats.extentsPrepared <= 2, `the close after the upgrade did not record the marks: ${second.parts.space.stats.extentsPrepared} prepared again`);
  await second.close();
  const { store: third } = await openAndSettle(secondDisk.clone(), options(4), () => 0);
  assert.equal(third.parts.space.stats.extentsPrepared, 0);
  third.abandon();
});

/** A copy of `image` on a new host where only its blocks that are not all zeros are allocated (cp --sparse=always). */
function sparseCopy(copy: SimDisk): { host: HostFs; disk: Disk; sim: SimDisk } {
  const host = new HostFs();
  const sim = copy;
  for (let at = 0; at < sim.sizeBytes; at += HOST_BLOCK_BYTES) {
    if (sim.peek(at, HOST_BLOCK_BYTES).some((b) => b !== 0)) host.adopt(at, HOST_BLOCK_BYTES);
  }
  return { host, disk: host.wrap(copy), sim: copy };
}

void test('a data file copied sparse is not believed: no mark counts, the reserve is prepared again (simulated host)', async () => {
  // Checks invariant 4 with HostFs. How: a store formatted on a host, with
  // a few values; its image opened on a new host that holds only the
  // blocks that are not zeros. The original opens with every mark trusted
  // and prepares nothing; the copy with none trusted, the reason in the
  // recovery report, and the reserve prepared again.
  const host = new HostFs();
  // Never-written bytes read as zeros, as in a new sparse file.
  const sim = new SimDisk({ sizeBytes: DISK_BYTES, pageSizeBytes: 4096 });
  const store = await formatDiskStore(host.wrap(sim), options(5));
  for (let i = 0; i < 20; i++) await (await store.put(Buffer.from(`k${i}`), Buffer.alloc(20_000, i + 1))).persisted();
  await store.close();
  const copy = sparseCopy(sim.clone());

  const { store: original } = await openAndSettle(host.wrap(sim.clone()), options(5), () => 0);
  assert.equal(original.parts.recovery.hostAllocated.distrusted, undefined);
  assert.ok(original.parts.recovery.hostAllocated.trusted > 0);
  assert.equal(original.parts.space.stats.extentsPrepared, 0, 'the original file prepared extents again');
  original.abandon();

  const { store: copied } = await openAndSettle(copy.disk, options(5), () => copy.sim.stats.bytesWritten);
  const report = copied.parts.recovery.hostAllocated;
  assert.ok(report.marked > 0);
  assert.equal(report.trusted, 0, 'marks over holes were believed');
  assert.match(report.distrusted ?? '', /fewer than the \d+ .* imply \(a copy made sparse\?\)/);
  assert.ok(copied.parts.space.stats.extentsPrepared >= copied.parts.space.target, `the copy prepared ${copied.parts.space.stats.extentsPrepared}`);
  for (const e of prepared(copied, true)) assert.ok(copy.host.isAllocated(e * EXTENT_BYTES, EXTENT_BYTES), `extent ${e} counts as prepared over holes`);
  copied.abandon();
});

/** Copy `from` to `to` at its size, writing only the blocks that are not all zeros (the others stay holes). */
function copySparse(from: string, to: string): void {
  const src = openSync(from, 'r');
  const dst = openSync(to, 'w');
  try {
    const size = fstatSync(src).size;
    ftruncateSync(dst, size);
    const block = Buffer.alloc(HOST_BLOCK_BYTES);
    for (let at = 0; at < size; at += block.length) {
      const n = readSync(src, block, 0, block.length, at);
      if (block.subarray(0, n).some((b) => b !== 0)) writeSync(dst, block, 0, n, at);
    }
  } finally {
    closeSync(src);
    closeSync(dst);
  }
}

void test('a data file copied sparse is not believed (a real file copied with holes)', async () => {
  // Checks invariant 4 on a FileDisk: the copy's stat blocks are short of
  // what the marks imply, so its open prepares the reserve again; the
  // original's open prepares nothing.
  const dir = mkdtempSync(join(tmpdir(), 'shardstore-host-allocated-'));
  try {
    const path = join(dir, 'disk0');
    const store = await formatDiskStore(await FileDisk.open(path, { createSizeBytes: DISK_BYTES }), options(6));
    for (let i = 0; i < 20; i++) await (await store.put(Buffer.from(`k${i}`), Buffer.alloc(20_000, i + 1))).persisted();
    await store.close();
    copySparse(path, join(dir, 'copy'));
    const copied = await openDiskStore(await FileDisk.open(join(dir, 'copy')), options(6));
    await copied.parts.space.ready();
    await copied.parts.space.settled();
    assert.equal(copied.parts.recovery.hostAllocated.trusted, 0, 'marks over holes were believed');
    assert.match(copied.parts.recovery.hostAllocated.distrusted ?? '', /a copy made sparse/);
    assert.ok(copied.parts.space.stats.extentsPrepared >= copied.parts.space.target);
    await copied.close();
    const original = await openDiskStore(await FileDisk.open(path), options(6));
    await original.parts.space.settled();
    assert.equal(original.parts.recovery.hostAllocated.distrusted, undefined);
    assert.equal(original.parts.space.stats.extentsPrepared, 0);
    await original.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** What a checkpoint built after a fill would mark, for a fill on a host that refuses its zeros or a disk that fails their flush. */
async function marksAfterFailedFill(fault: 'host full' | 'flush fails'): Promise<{ marked: number[]; failures: number }> {
  const geometry = { pageSizeBytes: 4096, extentSizeBytes: EXTENT_BYTES, extentCount: 16, superblockExtents: 1 };
  const host = new HostFs();
  const sim = new SimDisk({ sizeBytes: 16 * EXTENT_BYTES, pageSizeBytes: 4096 });
  const io = new IoScheduler(host.wrap(sim));
  const extents = new ExtentManager(geometry, io, 0);
  const space = new HostSpace(extents, io);
  if (fault === 'host full') host.setFreeBytes(0);
  else sim.failFlush('permanent');
  await space.fill(4, { paced: false });
  return { marked: extents.takeHostAllocated(), failures: space.stats.failures };
}

void test('a preparation whose zeros are not durable marks nothing (and the broken variant that marks it is caught)', async () => {
  // Checks host_space.ts invariant 2 for the marks: a preparation refused
  // by a full host, or whose flush fails (the zeros landed, not durable),
  // leaves its extent unmarked, so no checkpoint can claim it. How: a
  // HostSpace over a 16-extent SimDisk under HostFs; its fill fails on
  // each extent it tries; then the same with ExtentManager.endPrepare
  // patched to mark every preparation as if it had succeeded.
  for (const fault of ['host full', 'flush fails'] as const) {
    const { marked, failures } = await marksAfterFailedFill(fault);
    assert.equal(failures, 4, `${fault}: the fill did not fail`);
    assert.deepEqual(marked, [], `${fault}: extents marked host-allocated without durable zeros`);
  }
  const restore = patch(ExtentManager.prototype, 'endPrepare', (original) =>
    function (this: ExtentManager, extent: number): void {
      original.call(this, extent, true);
    },
  );
  try {
    const { marked } = await marksAfterFailedFill('flush fails');
    assert.ok(marked.length > 0, 'the variant marking failed preparations was not caught');
  } finally {
    restore();
  }
});
