// tier: quick (npm run test:quick; docs/TESTING.md)
// Checks ExtentManager over a real IoScheduler and an in-test memory disk
// whose flushes the test can hold (src/ tests may not use testing/SimDisk):
// allocation order, owners and the reclamation reserve (NoSpaceError);
// appends land at the write pointer and reads beyond it are refused; reset
// needs quiet extents and a reset extent is not reused before its record
// is durable; and, over random appends with random flush timing (fast-check,
// fixed seed), takeChanges never reports a write pointer that covers bytes
// not yet on the disk (landed; the flush under way makes them durable, and
// the record carrying the pointer shares that flush). Host preparation: the reserve classes take
// prepared extents (highest first, down to their floor), puts skip them and
// prefer extents written before, an extent being prepared is never handed
// out, and an extent is marked host-allocated (what checkpoints persist)
// only once its zeros are durable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AssertionError, CorruptionError, IoError, NoSpaceError } from '../base/index.js';
import type { Disk } from '../disk/index.js';
import { Dependency, IoScheduler, Latch } from '../dependency/index.js';
import { ExtentManager } from './extent_manager.js';
import { HostSpace } from './host_space.js';
import type { ExtentRecord } from './extent_manager.js';
import { ExtentOwner } from './extent_format.js';
import type { Geometry } from './extent_format.js';

const GEOMETRY: Geometry = { pageSizeBytes: 512, extentSizeBytes: 4096, extentCount: 8, superblockExtents: 2 };

/** A memory disk with a durable image; flushes wait while `held`, writes may be failed. */
class GatedDisk implements Disk {
  readonly sizeBytes: number;
  readonly pageSizeBytes: number;
  readonly current: Buffer;
  readonly durable: Buffer;
  held = false;
  failNextWrite = false;
  /** Every write fails (a host that refuses to allocate more blocks). */
  refuseWrites = false;
  private waiting: Array<() => void> = [];

  constructor(geometry: Geometry = GEOMETRY) {
    this.sizeBytes = geometry.extentSizeBytes * geometry.extentCount;
    this.pageSizeBytes = geometry.pageSizeBytes;
    this.current = Buffer.alloc(this.sizeBytes);
    this.durable = Buffer.alloc(this.sizeBytes);
  }

  read(offset: number, length: number): Promise<Buffer> {
    return Promise.resolve(Buffer.from(this.current.subarray(offset, offset + length)));
  }

  write(offset: number, data: Uint8Array): Promise<void> {
    if (this.failNextWrite || this.refuseWrites) {
      this.failNextWrite = false;
      return Promise.reject(new Error('EIO'));
    }
    this.current.set(data, offset);
    return Promise.resolve();
  }

  async flush(): Promise<void> {
    // Snapshot at issue: only what completed before the flush becomes durable.
    const image = Buffer.from(this.current);
    if (this.held) await new Promise<void>((resolve) => this.waiting.push(resolve));
    image.copy(this.durable);
  }

  release(): void {
    this.held = false;
    const w = this.waiting;
    this.waiting = [];
    for (const fn of w) fn();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function setup(reserveExtents = 0, geometry: Geometry = GEOMETRY): { disk: GatedDisk; io: IoScheduler; extents: ExtentManager } {
  const disk = new GatedDisk(geometry);
  const io = new IoScheduler(disk);
  return { disk, io, extents: new ExtentManager(geometry, io, reserveExtents) };
}

function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

void test('allocate: skips superblock extents, round-robin, owners tracked', () => {
  const { extents } = setup();
  assert.deepEqual(extents.extentsOwnedBy(ExtentOwner.Superblock), [0, 1]);
  assert.equal(extents.countFree(), 6);
  const a = extents.allocate(ExtentOwner.Data);
  const b = extents.allocate(ExtentOwner.Index);
  assert.deepEqual([a, b], [2, 3]);
  assert.equal(extents.owner(a), ExtentOwner.Data);
  assert.deepEqual(extents.extentsOwnedBy(ExtentOwner.Index), [3]);
  assert.equal(extents.countFree(), 4);
  assert.throws(() => extents.allocate(ExtentOwner.Free), AssertionError);
  assert.throws(() => extents.allocate(ExtentOwner.Superblock), AssertionError);
  assert.throws(() => extents.owner(99), CorruptionError);
});

// Checks: ownerByteCounts counts each extent once under its owner byte, as
// owner() reports it, after allocations of several owners.
void test('ownerByteCounts: one count per owner byte, as owner() says per extent', () => {
  const { extents } = setup();
  extents.allocate(ExtentOwner.Data);
  extents.allocate(ExtentOwner.Index);
  extents.allocate(ExtentOwner.Meta);
  extents.allocate(ExtentOwner.Data);
  const counts = extents.ownerByteCounts();
  assert.equal(counts.length, 256);
  const expected = new Uint32Array(256);
  for (let e = 0; e < GEOMETRY.extentCount; e++) expected[extents.owner(e)] = (expected[extents.owner(e)] ?? 0) + 1;
  assert.deepEqual([...counts], [...expected]);
  assert.deepEqual([counts[ExtentOwner.Superblock], counts[ExtentOwner.Data], counts[ExtentOwner.Index], counts[ExtentOwner.Meta], counts[ExtentOwner.Free]], [2, 2, 1, 1, 2]);
});

void test('NoSpaceError: the reserve is kept for callers that may use it, in order', () => {
  // Foreground stops at the reserve (5 here); reclamation may go down to 4
  // free extents, index work to 2 (two extents: the primary and mirror
  // streams of the runs), and only a log roll takes the last two (the log
  // and its mirror).
  const { extents } = setup(5);
  extents.allocate(ExtentOwner.Data);
  assert.throws(() => extents.allocate(ExtentOwner.Data), NoSpaceError);
  assert.equal(extents.countFree(), 5); // refused without taking anything
  extents.allocate(ExtentOwner.Data, { reserve: 'reclaim' });
  assert.throws(() => extents.allocate(ExtentOwner.Data, { reserve: 'reclaim' }), NoSpaceError);
  extents.allocate(ExtentOwner.Index, { reserve: 'index' });
  extents.allocate(ExtentOwner.Index, { reserve: 'index' });
  assert.throws(() => extents.allocate(ExtentOwner.Index, { reserve: 'index' }), NoSpaceError);
  extents.allocate(ExtentOwner.Meta, { reserve: 'log' });
  extents.allocate(ExtentOwner.Meta, { reserve: 'log' });
  assert.throws(() => extents.allocate(ExtentOwner.Meta, { reserve: 'log' }), NoSpaceError);
});

void test('append lands at the write pointer; reads below it work, beyond it are refused', async () => {
  const { io, extents } = setup();
  const e = extents.allocate(ExtentOwner.Data);
  const first = extents.append(e, Buffer.from('hello'));
  const second = extents.append(e, Buffer.from('world!'));
  assert.deepEqual([first.offset, second.offset], [0, 5]);
  assert.equal(extents.writePointer(e), 11);
  assert.equal(extents.freeBytes(e), GEOMETRY.extentSizeBytes - 11);
  // Readable at once (queued writes overlay the disk), before durability.
  assert.equal((await extents.read(e, 3, 5)).toString(), 'lowor');
  await assert.rejects(extents.read(e, 6, 6), CorruptionError);
  await assert.rejects(extents.read(e, -1, 1), CorruptionError);
  await assert.rejects(extents.read(e + 1, 0, 1), CorruptionError); // free extent: write pointer 0
  assert.throws(() => extents.append(e, Buffer.alloc(GEOMETRY.extentSizeBytes)), AssertionError);
  assert.throws(() => extents.append(0, Buffer.from('x')), AssertionError);
  assert.throws(() => extents.append(e + 1, Buffer.from('x')), AssertionError);
  await Dependency.all([first.dependency, second.dependency]).persisted();
  await io.idle();
  assert.equal(extents.diskOffset(e, 5), e * GEOMETRY.extentSizeBytes + 5);
});

void test('takeChanges: owners and landed write pointers, once each', async () => {
  const { disk, extents } = setup();
  disk.held = true;
  const e = extents.allocate(ExtentOwner.Data);
  const { dependency } = extents.append(e, Buffer.alloc(100, 1));
  // The append is queued: its bytes may not be recorded yet.
  assert.deepEqual(extents.takeChanges(), [{ extent: e, owner: ExtentOwner.Data, writePointer: 0 }]);
  assert.deepEqual(extents.takeChanges(), []);
  await turn();
  // Landed, its flush held: recorded (the record shares that flush), not durable.
  assert.equal(dependency.hasLanded(), true);
  assert.equal(extents.durableWritePointer(e), 0);
  assert.equal(extents.landedWritePointer(e), 100);
  assert.deepEqual(extents.takeChanges(), [{ extent: e, owner: ExtentOwner.Data, writePointer: 100 }]);
  assert.deepEqual(extents.takeChanges(), []);
  disk.release();
  await dependency.persisted();
  assert.equal(extents.durableWritePointer(e), 100);
  assert.deepEqual(extents.takeChanges(), []);
  assert.deepEqual(extents.table()[e], { extent: e, owner: ExtentOwner.Data, writePointer: 100 });
});

void test('takeChanges visits only the extents changed since its last call: a settled extent leaves the dirty set', async () => {
  // Why: every commit cycle calls takeChanges; an extent kept in the dirty
  // set once its writes are durable and recorded would be visited by every
  // later cycle (a scan of every extent ever written, on a disk of tens of
  // thousands), with the same records as output. How: count the extents
  // takeChanges asks for their landed write pointer (a spy on the
  // instance's method, which takeChanges calls for each dirty extent).
  const { extents } = setup();
  const asked: number[] = [];
  const landed = extents.landedWritePointer.bind(extents);
  extents.landedWritePointer = (extent: number): number => {
    asked.push(extent);
    return landed(extent);
  };
  const written = [0, 1, 2].map(() => extents.allocate(ExtentOwner.Data));
  const deps = written.map((e) => extents.append(e, Buffer.alloc(64, e)).dependency);
  await Promise.all(deps.map((d) => d.persisted()));
  assert.deepEqual(extents.takeChanges().map((r) => [r.extent, r.writePointer]), written.map((e) => [e, 64]));
  assert.deepEqual(asked, written, 'the first call visits the three written extents');
  asked.length = 0;
  assert.deepEqual(extents.takeChanges(), []);
  assert.deepEqual(asked, [], 'settled and recorded: no extent is visited again');
  const [, again] = written;
  assert.ok(again !== undefined);
  await extents.append(again, Buffer.alloc(64, 9)).dependency.persisted();
  assert.deepEqual(extents.takeChanges(), [{ extent: again, owner: ExtentOwner.Data, writePointer: 128 }]);
  assert.deepEqual(asked, [again], 'one append later: only its extent is visited');
});

void test('reset: refused with writes pending; frees at once but reused only after its record is durable', async () => {
  const { disk, extents } = setup();
  const resets: number[] = [];
  extents.onReset((x) => resets.push(x));
  const e = extents.allocate(ExtentOwner.Data);
  disk.held = true;
  const { dependency } = extents.append(e, Buffer.alloc(10));
  assert.throws(() => extents.reset(e, Dependency.none), AssertionError);
  disk.release();
  await dependency.persisted();
  assert.deepEqual(extents.takeChanges(), [{ extent: e, owner: ExtentOwner.Data, writePointer: 10 }]);
  const record = new Latch('reset record');
  extents.reset(e, record.dependency);
  assert.deepEqual(resets, [e]);
  assert.equal(extents.owner(e), ExtentOwner.Free);
  assert.equal(extents.writePointer(e), 0);
  await assert.rejects(extents.read(e, 0, 1), CorruptionError);
  assert.deepEqual(extents.takeChanges(), [{ extent: e, owner: ExtentOwner.Free, writePointer: 0 }]);
  // Every other free extent is taken before the reset one could be.
  const others = [];
  for (let i = 0; i < 5; i++) others.push(extents.allocate(ExtentOwner.Data));
  assert.ok(!others.includes(e));
  assert.throws(() => extents.allocate(ExtentOwner.Data), NoSpaceError);
  record.resolve();
  assert.equal(extents.allocate(ExtentOwner.Data), e);
  assert.throws(() => extents.reset(0, Dependency.none), AssertionError);
});

void test('reset after a failed append: allowed, the failed write is neither queued nor in flight', async () => {
  // A transient write error must not make the extent unreclaimable.
  const { disk, io, extents } = setup();
  const e = extents.allocate(ExtentOwner.Data);
  disk.failNextWrite = true;
  const { dependency } = extents.append(e, Buffer.alloc(10));
  await assert.rejects(dependency.persisted(), IoError);
  await io.idle();
  // The failed bytes are never covered by a recorded write pointer.
  assert.equal(extents.durableWritePointer(e), 0);
  extents.reset(e, Dependency.none);
  assert.equal(extents.writePointer(e), 0);
});

void test('restore: owners and write pointers as recorded', () => {
  const { extents } = setup();
  const records: ExtentRecord[] = [
    { extent: 4, owner: ExtentOwner.Data, writePointer: 123 },
    { extent: 5, owner: ExtentOwner.Meta, writePointer: 0 },
  ];
  extents.restore(records);
  assert.equal(extents.owner(4), ExtentOwner.Data);
  assert.equal(extents.writePointer(4), 123);
  assert.equal(extents.durableWritePointer(4), 123);
  assert.equal(extents.countFree(), 4);
  assert.deepEqual(extents.takeChanges(), []);
  assert.deepEqual(extents.table()[4], records[0]);
});

type Op = { kind: 'append'; extent: number; length: number } | { kind: 'hold' } | { kind: 'release' } | { kind: 'turn' } | { kind: 'take' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('append' as const), extent: fc.nat(2), length: fc.integer({ min: 1, max: 300 }) }) },
  fc.constant<Op>({ kind: 'hold' }),
  fc.constant<Op>({ kind: 'release' }),
  { weight: 2, arbitrary: fc.constant<Op>({ kind: 'turn' }) },
  { weight: 2, arbitrary: fc.constant<Op>({ kind: 'take' }) },
);

void test('model: a reported write pointer never covers bytes that have not landed', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { maxLength: 40 }), async (ops) => {
      const { disk, io, extents } = setup();
      const owned = [0, 1, 2].map(() => extents.allocate(ExtentOwner.Data));
      const expected = owned.map(() => Buffer.alloc(0));
      const recorded = owned.map(() => 0);
      const check = (records: readonly ExtentRecord[]): void => {
        for (const r of records) {
          const i = owned.indexOf(r.extent);
          const base = extents.diskOffset(r.extent, 0);
          assert.ok(r.writePointer >= (recorded[i] ?? 0), 'recorded write pointer went back');
          recorded[i] = r.writePointer;
          // On the disk (the flush under way, or a later one, makes them durable).
          assert.deepEqual(disk.current.subarray(base, base + r.writePointer), expected[i]?.subarray(0, r.writePointer));
        }
      };
      for (const [k, op] of ops.entries()) {
        if (op.kind === 'append') {
          const e = owned[op.extent] ?? owned[0] ?? 0;
          if (extents.freeBytes(e) < op.length) continue;
          const data = Buffer.alloc(op.length, (k % 250) + 1);
          extents.append(e, data);
          expected[op.extent] = Buffer.concat([expected[op.extent] ?? Buffer.alloc(0), data]);
        } else if (op.kind === 'hold') disk.held = true;
        else if (op.kind === 'release') disk.release();
        else if (op.kind === 'turn') await turn();
        else check(extents.takeChanges());
      }
      disk.release();
      await io.idle();
      check(extents.takeChanges());
      // Forward progress: once idle, every byte is durable and recorded.
      owned.forEach((e, i) => assert.equal(recorded[i], expected[i]?.length ?? 0, `extent ${e}`));
    }),
    { seed: 0xe7e47, numRuns: 150 },
  );
});

void test('prepared extents: the reserve classes take them highest first, down to their floor; puts skip them', async () => {
  // 14 free extents (2..15), reserve 5: the target is 8 prepared (reclamation's
  // floor of 4, what a log roll and an index flush take, and 4 above it).
  const { disk, io, extents } = setup(5, { ...GEOMETRY, extentCount: 16 });
  const space = new HostSpace(extents, io);
  assert.equal(extents.preparedTarget, 8);
  await space.fill(8, { paced: false });
  assert.deepEqual([15, 14, 13, 12, 11, 10, 9, 8].map((e) => extents.preparedState(e)), Array<string>(8).fill('prepared'));
  assert.equal(extents.preparedState(7), 'unprepared');
  // Zeros were written and flushed over each prepared extent.
  assert.ok(disk.durable.subarray(8 * 4096, 16 * 4096).every((b) => b === 0));
  // A put takes the lowest unprepared extent.
  assert.equal(extents.allocate(ExtentOwner.Data), 2);
  // The reserve classes take the highest prepared one, and the refill prepares the highest unprepared.
  assert.equal(extents.allocate(ExtentOwner.Index, { reserve: 'index' }), 15);
  await space.settled();
  assert.equal(extents.preparedState(7), 'prepared');
  assert.equal(extents.countPreparedFree(), 8);
  // The host refuses every further block: no refill from here on.
  disk.refuseWrites = true;
  // Reclamation takes prepared extents only while more than 4 are free...
  for (const e of [14, 13, 12, 11]) assert.equal(extents.allocate(ExtentOwner.Data, { reserve: 'reclaim' }), e);
  await space.settled();
  assert.equal(extents.countPreparedFree(), 4);
  assert.ok(space.stats.failures > 0, 'the refill was refused');
  // ...then an unprepared one (the lowest: none has blocks on the host).
  assert.equal(extents.allocate(ExtentOwner.Data, { reserve: 'reclaim' }), 3);
  // An index flush leaves 2 prepared, a log roll takes the last.
  assert.equal(extents.allocate(ExtentOwner.Index, { reserve: 'index' }), 10);
  assert.equal(extents.allocate(ExtentOwner.Index, { reserve: 'index' }), 9);
  assert.equal(extents.allocate(ExtentOwner.Index, { reserve: 'index' }), 4);
  assert.equal(extents.allocate(ExtentOwner.Meta, { reserve: 'log' }), 8);
  assert.equal(extents.allocate(ExtentOwner.Meta, { reserve: 'log' }), 7);
  assert.equal(extents.countPreparedFree(), 0);
  assert.equal(extents.allocate(ExtentOwner.Meta, { reserve: 'log' }), 5);
  // One free extent left: below every floor but the log's.
  assert.equal(extents.countFree(), 1);
  assert.throws(() => extents.allocate(ExtentOwner.Data, { reserve: 'reclaim' }), NoSpaceError);
  assert.throws(() => extents.allocate(ExtentOwner.Index, { reserve: 'index' }), NoSpaceError);
  await space.settled();
});

void test('puts never eat the prepared reserve: with the target prepared and free extents beside it, a put is refused', async () => {
  const { io, extents } = setup(5, { ...GEOMETRY, extentCount: 16 });
  const space = new HostSpace(extents, io);
  await space.fill(8, { paced: false });
  // The 6 unprepared extents (2..7) go to puts; the 7th put would eat the reserve.
  for (const e of [2, 3, 4, 5, 6, 7]) assert.equal(extents.allocate(ExtentOwner.Data), e);
  assert.equal(extents.countFree(), 8);
  assert.throws(() => extents.allocate(ExtentOwner.Data), /outside the prepared reserve/);
  // The reserve classes still get theirs.
  assert.equal(extents.allocate(ExtentOwner.Meta, { reserve: 'log' }), 15);
  await space.settled();
});

void test('an extent being prepared is never handed out, and a refused preparation leaves it unprepared', async () => {
  const { disk, io, extents } = setup(0);
  const space = new HostSpace(extents, io);
  disk.held = true; // the zeros' flush waits
  const filling = space.fill(1, { paced: false });
  await turn();
  assert.equal(extents.preparedState(7), 'preparing');
  for (let i = 0; i < 5; i++) assert.notEqual(extents.allocate(ExtentOwner.Data), 7);
  assert.throws(() => extents.allocate(ExtentOwner.Data), NoSpaceError);
  disk.release();
  await filling;
  assert.equal(extents.preparedState(7), 'prepared');
  // A refused write: counted, not thrown, and the extent stays unprepared.
  const other = setup(0);
  const space2 = new HostSpace(other.extents, other.io);
  other.disk.failNextWrite = true;
  await space2.fill(1, { paced: false });
  assert.equal(space2.stats.failures, 1);
  assert.equal(other.extents.preparedState(7), 'unprepared');
});

void test('host-allocated marks: set only once the zeros are durable, kept through use and reset, taken for a checkpoint, restored at open', async () => {
  // Checks the marks checkpoints persist (host_space.ts, "Persisted"): a
  // preparation whose flush is held is not marked until the flush returns;
  // the mark stays when the extent is allocated, written and reset;
  // takeHostAllocated lists every mark and clears the unrecorded count;
  // restoreHostAllocated makes a fresh manager count the extent prepared.
  const { disk, io, extents } = setup(0);
  const space = new HostSpace(extents, io);
  disk.held = true;
  const filling = space.fill(1, { paced: false });
  await turn();
  assert.equal(extents.unrecordedHostAllocated, 0, 'marked before its zeros were durable');
  assert.deepEqual(extents.takeHostAllocated(), []);
  disk.release();
  await filling;
  assert.equal(extents.unrecordedHostAllocated, 1);
  const e = extents.allocate(ExtentOwner.Meta, { reserve: 'log' });
  assert.equal(e, 7, 'the log takes the prepared extent');
  await extents.append(e, Buffer.alloc(512, 1)).dependency.persisted();
  extents.reset(e, Dependency.none);
  assert.deepEqual(extents.takeHostAllocated(), [7]);
  assert.equal(extents.unrecordedHostAllocated, 0);
  assert.deepEqual(extents.takeHostAllocated(), [7], 'a mark is knowledge: every checkpoint carries it');
  const fresh = setup(0).extents;
  assert.equal(fresh.preparedState(7), 'unprepared');
  fresh.restoreHostAllocated([7]);
  assert.equal(fresh.preparedState(7), 'prepared');
  assert.equal(fresh.unrecordedHostAllocated, 0, 'restored marks are recorded already');
});

void test('puts prefer a free extent whose blocks were written before (allocated on the host)', async () => {
  const { extents } = setup(0);
  const a = extents.allocate(ExtentOwner.Data);
  const b = extents.allocate(ExtentOwner.Data);
  await extents.append(b, Buffer.alloc(100, 1)).dependency.persisted();
  extents.reset(a, Dependency.none);
  extents.reset(b, Dependency.none);
  assert.equal(extents.allocate(ExtentOwner.Data), b);
});

// Checks: every range rule of the extent manager at its exact boundary,
// one unit inside (accepted) and one unit outside (refused with the error
// its callers handle, naming the extent and the range): reads up to the
// write pointer, verification reads up to the extent's end, appends up to
// the extent's end, recovery write pointers 0..extent size, extent numbers
// 0..count-1; and the state rules: no append to a sealed extent, no
// recovery write pointer or restore while writes are pending, no prepare
// of an extent that is not free, no end of a prepare never begun. How: one
// data extent of a small geometry, each rule on its own.
void test('range and state rules hold at their exact boundaries, naming the extent', async () => {
  const size = GEOMETRY.extentSizeBytes;
  const { io, extents } = setup();
  const e = extents.allocate(ExtentOwner.Data);
  await extents.append(e, Buffer.alloc(100, 7)).dependency.persisted();
  assert.equal((await extents.read(e, 0, 100)).length, 100);
  assert.equal((await extents.read(e, 100, 0)).length, 0);
  const beyond = { name: 'CorruptionError', message: `read of extent ${e} at 1+100 beyond write pointer 100` };
  await assert.rejects(extents.read(e, 1, 100), beyond);
  await assert.rejects(extents.read(e, 0, -1), CorruptionError);
  assert.equal((await extents.readForVerification(e, size - 10, 10)).length, 10);
  assert.equal((await extents.readForVerification(e, 0, size)).length, size);
  await assert.rejects(extents.readForVerification(e, size - 10, 11), { name: 'CorruptionError', message: `verification read of extent ${e} at ${size - 10}+11 beyond the extent` });
  await assert.rejects(extents.readForVerification(e, -1, 1), CorruptionError);
  await assert.rejects(extents.readForVerification(e, 0, -1), CorruptionError);
  await assert.rejects(extents.read(GEOMETRY.extentCount, 0, 0), { name: 'CorruptionError', message: `extent ${GEOMETRY.extentCount} out of range (${GEOMETRY.extentCount})` });
  assert.equal(extents.owner(GEOMETRY.extentCount - 1), ExtentOwner.Free);

  assert.throws(() => extents.append(e, Buffer.alloc(size - 100 + 1)), { name: 'AssertionError', message: `append beyond extent ${e}` });
  const last = extents.append(e, Buffer.alloc(size - 100, 1));
  assert.equal(last.offset, 100);
  assert.equal(extents.freeBytes(e), 0);
  assert.throws(() => extents.setWritePointerForRecovery(e, 0), /recovery write pointer with pending writes/);
  assert.throws(() => extents.restore([{ extent: e, owner: ExtentOwner.Data, writePointer: 0 }]), /restore with pending writes/);
  await last.dependency.persisted();
  await io.idle();
  assert.equal(extents.durableWritePointer(e), size);

  for (const wp of [-1, size + 1]) assert.throws(() => extents.setWritePointerForRecovery(e, wp), new RegExp(`write pointer ${wp} out of extent`));
  for (const wp of [0, size, 512]) {
    extents.setWritePointerForRecovery(e, wp);
    assert.equal(extents.writePointer(e), wp);
  }
  const other = extents.allocate(ExtentOwner.Data);
  extents.seal(other);
  assert.ok(extents.isSealed(other));
  assert.throws(() => extents.append(other, Buffer.from('x')), new RegExp(`append to sealed extent ${other}`));
  assert.throws(() => extents.beginPrepare(e), new RegExp(`prepare of extent ${e} that is not free`));
  assert.throws(() => extents.endPrepare(e, true), new RegExp(`extent ${e} was not being prepared`));
});
