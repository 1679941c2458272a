// tier: quick (npm run test:quick; docs/TESTING.md)
// Checks IoScheduler (src/dependency/io_scheduler.ts) against SimDisk, whose
// IO listener and durable image serve as the instrument:
// - no write is issued before its `after` dependency is persistent, and a
//   ticket is durable only when its bytes are in the disk's durable image
//   (random workloads with random completion order, fixed seeds);
// - a burst of writes shares one flush (group commit);
// - reads overlay queued and in-flight writes;
// - failures propagate (failed dependency, write error, flush error) and the
//   failed write is never issued; abandon() fails the queue;
// - at most one batch is in flight, even after a write of the batch failed;
// - waiting writes cost O(1) registrations each, not O(queue) per wake-up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClosedError, IoError } from '../base/index.js';
import { Dependency, IoScheduler, Latch, Ticket } from './index.js';
import type { Disk } from '../disk/index.js';
import { Rng } from '../../testing/rng.js';
import { InjectedFaultError, SimDisk } from '../../testing/sim_disk.js';
import type { SimIo } from '../../testing/sim_disk.js';

const PAGE = 512;
const SIZE = 256 * PAGE;

function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Holds every completion until released, so tests choose the order. */
class HeldIo {
  readonly held: Array<{ io: SimIo; complete: () => void }> = [];
  readonly schedule = (io: SimIo, complete: () => void): void => {
    this.held.push({ io, complete });
  };

  release(index: number): void {
    const [h] = this.held.splice(index, 1);
    assert.ok(h !== undefined, `nothing held at ${index}`);
    h.complete();
  }

  releaseAll(): void {
    while (this.held.length > 0) this.release(0);
  }

  count(kind: SimIo['kind']): number {
    return this.held.filter((h) => h.io.kind === kind).length;
  }
}

interface Tracked {
  readonly offset: number;
  readonly data: Buffer;
  readonly after: Dependency;
  readonly dep: Dependency;
}

/** Random writes on random dependencies (latches and earlier writes), random completion order. */
async function randomWorkload(seed: number): Promise<void> {
  const rng = new Rng(seed);
  const held = new HeldIo();
  const disk = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE, scheduler: held.schedule });
  const io = new IoScheduler(disk, { maxBatchBytes: rng.int(PAGE, 8 * PAGE) });
  const latches = Array.from({ length: 4 }, (_, i) => new Latch(`l${i}`));
  const writes: Tracked[] = [];
  const byOffset = new Map<number, Dependency>();
  const violations: string[] = [];
  // Recorded, not thrown: a throw inside the disk would fail the IO instead of the test.
  disk.onIo((event, sio) => {
    if (event !== 'issue' || sio.kind !== 'write') return;
    if (byOffset.get(sio.offset)?.isPersistent() !== true) violations.push(`write@${sio.offset} issued before its dependency was persistent`);
  });
  for (let step = 0; step < 120; step++) {
    const roll = rng.int(0, 9);
    if (roll < 4 && writes.length < 100) addWrite(rng, io, writes, byOffset, latches, disk);
    else if (roll < 5) rng.pick(latches.filter((l) => l.ticket.state === 'pending').concat([new Latch('spare')])).resolve();
    else if (held.held.length > 0) held.release(rng.int(0, held.held.length - 1));
    if (rng.bool(0.3)) await turn();
  }
  for (const l of latches) if (l.ticket.state === 'pending') l.resolve();
  while (io.pendingWrites > 0 || held.held.length > 0) {
    if (held.held.length > 0) held.release(rng.int(0, held.held.length - 1));
    await turn();
  }
  await io.idle();
  assert.deepEqual(violations, []);
  for (const w of writes) assert.ok(w.dep.isPersistent(), `write@${w.offset} never became persistent: ${String(w.dep.failure())}`);
}

function addWrite(rng: Rng, io: IoScheduler, writes: Tracked[], byOffset: Map<number, Dependency>, latches: readonly Latch[], disk: SimDisk): void {
  let after = Dependency.none;
  if (rng.bool(0.5)) after = after.and(rng.pick(latches).dependency);
  if (writes.length > 0 && rng.bool(0.5)) after = after.and(rng.pick(writes).dep);
  // Slots of 2 pages, and no write leaves its slot: writes never overlap
  // (the engine only appends), so "durable" can be checked on the image even
  // when a later write shares the flush (a later round of the same batch).
  const offset = writes.length * 2 * PAGE + rng.int(0, PAGE - 100);
  const data = rng.bytes(rng.int(1, PAGE + 100));
  byOffset.set(offset, after); // before write(): the scheduler may issue it at once
  const dep = io.write(offset, data, after);
  writes.push({ offset, data, after, dep });
  // Pair check: "durable" must mean the bytes survive any crash.
  dep.onSettled(() => {
    if (dep.isPersistent()) assert.deepEqual(disk.peek(offset, data.length, 'durable'), data, `write@${offset} durable without its bytes`);
  });
}

void test('random workloads: writes wait for their dependencies; durable means on the durable image', async () => {
  for (let seed = 1; seed <= 25; seed++) await randomWorkload(seed);
});

void test('group commit: writes queued in one burst share one batch and one flush', async () => {
  const disk = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE });
  const io = new IoScheduler(disk);
  const deps = Array.from({ length: 10 }, (_, i) => io.write(i * PAGE, Buffer.alloc(PAGE, i + 1)));
  await Dependency.all(deps).persisted();
  assert.equal(disk.stats.flushes, 1);
  assert.equal(io.stats.batches, 1);
  assert.equal(io.stats.writes, 10);
  assert.equal(io.stats.bytesWritten, 10 * PAGE);
});

void test('group commit: writes queued while a batch writes join its flush in a later round; while it flushes, the next flush', async () => {
  // How: hold every IO. Writes queued while the first write is in flight go
  // out, once it has landed, in a second round before the first flush (a
  // metadata record queued when its data landed shares that data's flush:
  // commit_log.ts); writes queued while that flush is in flight wait for
  // the next batch. Two flushes in all.
  const held = new HeldIo();
  const disk = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE, scheduler: held.schedule });
  const io = new IoScheduler(disk);
  const first = io.write(0, Buffer.alloc(10, 1));
  await turn();
  assert.equal(held.count('write'), 1);
  const later = Array.from({ length: 5 }, (_, i) => io.write((i + 1) * PAGE, Buffer.alloc(10, 2)));
  await turn();
  assert.equal(held.count('write'), 1, 'a second round started before the first landed');
  held.releaseAll();
  await turn();
  assert.equal(held.count('write'), 5, 'the writes queued meanwhile went out before the flush');
  assert.equal(held.count('flush'), 0);
  held.releaseAll();
  await turn();
  assert.equal(held.count('flush'), 1);
  const last = io.write(7 * PAGE, Buffer.alloc(10, 3));
  await turn();
  assert.equal(held.count('write'), 0, 'a write queued while the flush was in flight went out before it returned');
  while (!Dependency.all([first, ...later, last]).isPersistent()) {
    held.releaseAll();
    await turn();
  }
  assert.equal(disk.stats.flushes, 2);
});

void test('group commit: a batch has at most three rounds; a write queued during the third waits for the next flush', async () => {
  // How: hold every IO; while each round is in flight, queue one more
  // write. Rounds 2 and 3 go out before the flush; the write queued during
  // round 3 does not (a steady trickle of writes must not hold a flush back
  // forever), so the flush comes next and that write goes after it.
  const held = new HeldIo();
  const disk = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE, scheduler: held.schedule });
  const io = new IoScheduler(disk);
  const deps = [io.write(0, Buffer.alloc(10, 1))];
  for (let round = 1; round <= 3; round++) {
    await turn();
    assert.equal(held.count('write'), 1, `round ${round} has one write in flight`);
    assert.equal(held.count('flush'), 0, `no flush during round ${round}`);
    deps.push(io.write(round * PAGE, Buffer.alloc(10, round + 1)));
    await turn();
    held.releaseAll();
  }
  await turn();
  assert.equal(held.count('flush'), 1, 'after the third round the batch flushes');
  assert.equal(held.count('write'), 0, 'the write queued during the third round waits for the next batch');
  while (!Dependency.all(deps).isPersistent()) {
    held.releaseAll();
    await turn();
  }
  assert.equal(disk.stats.flushes, 2);
});

void test('landing: a write queued when the writes it waits for land shares their flush', async () => {
  // What the commit log relies on: onLanded fires, synchronously, after a
  // batch's writes returned and before its flush, and a write queued then
  // goes out in the same batch. How: a "record" queued from onLanded of a
  // "data" write; one flush makes both durable. Negative space: before the
  // data lands, hasLanded is false; the record is never durable before the
  // data.
  const disk = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE });
  const io = new IoScheduler(disk);
  const data = io.write(0, Buffer.alloc(PAGE, 1));
  assert.equal(data.hasLanded(), false);
  let record: Dependency | undefined;
  data.onLanded(() => {
    assert.equal(data.isPersistent(), false, 'landed is reported before the flush');
    record = io.write(4 * PAGE, Buffer.alloc(100, 2));
  });
  await data.persisted();
  assert.ok(record !== undefined);
  await record.persisted();
  assert.equal(disk.stats.flushes, 1, 'data and record shared one flush');
  assert.equal(io.stats.batches, 1);
});

void test('maxBatchBytes bounds a batch; a larger write goes alone', async () => {
  const disk = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE });
  const io = new IoScheduler(disk, { maxBatchBytes: 2 * PAGE });
  const deps = [io.write(0, Buffer.alloc(PAGE)), io.write(PAGE, Buffer.alloc(PAGE)), io.write(2 * PAGE, Buffer.alloc(3 * PAGE))];
  await Dependency.all(deps).persisted();
  assert.equal(io.stats.batches, 2);
  assert.equal(disk.stats.flushes, 2);
});

void test('read overlays queued and in-flight writes, newest last', async () => {
  const held = new HeldIo();
  const disk = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE, scheduler: held.schedule });
  const io = new IoScheduler(disk);
  const latch = new Latch('blocker');
  io.write(100, Buffer.from([1, 1, 1, 1]));
  await turn(); // that write is now in flight
  io.write(102, Buffer.from([2, 2, 2, 2]), latch.dependency); // queued behind the latch
  const read = io.read(99, 8);
  await turn();
  held.releaseAll(); // completes the disk read (and the first write)
  assert.deepEqual(await read, Buffer.from([0, 1, 1, 2, 2, 2, 2, 0]));
  assert.deepEqual(disk.peek(102, 4), Buffer.from([1, 1, 0, 0]));
  latch.resolve();
  while (io.pendingWrites > 0 || held.held.length > 0) {
    held.releaseAll();
    await turn();
  }
  assert.deepEqual(disk.peek(99, 8, 'durable'), Buffer.from([0, 1, 1, 2, 2, 2, 2, 0]));
});

void test('a failed dependency fails the dependent write, which is never issued', async () => {
  const disk = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE });
  const issued: number[] = [];
  disk.onIo((event, sio) => {
    if (event === 'issue' && sio.kind === 'write') issued.push(sio.offset);
  });
  const io = new IoScheduler(disk);
  const latch = new Latch('meta');
  const a = io.write(0, Buffer.from([1]), latch.dependency);
  const b = io.write(PAGE, Buffer.from([2]), a);
  const err = new IoError('metadata lost');
  latch.reject(err);
  await assert.rejects(a.persisted(), (e) => e === err);
  await assert.rejects(b.persisted(), (e) => e === err);
  await io.idle();
  assert.deepEqual(issued, []);
  assert.deepEqual(disk.peek(0, PAGE + 1), Buffer.alloc(PAGE + 1));
});

void test('a disk write error fails its write with IoError; the rest of the batch lands; dependents fail unissued; later writes proceed', async () => {
  const disk = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE });
  const io = new IoScheduler(disk);
  disk.failWrites({ offset: 0, length: 1 });
  const bad = io.write(0, Buffer.from([1]));
  const sibling = io.write(PAGE, Buffer.from([2]));
  const child = io.write(2 * PAGE, Buffer.from([3]), bad);
  await assert.rejects(bad.persisted(), (e) => e instanceof IoError && e.cause instanceof InjectedFaultError);
  // Same batch, another system call: it landed, and the batch's flush made it
  // durable (a record sharing a batch with a refused data write must not fail).
  await sibling.persisted();
  assert.deepEqual(disk.peek(PAGE, 1, 'durable'), Buffer.from([2]));
  await assert.rejects(child.persisted(), IoError);
  await io.idle();
  assert.deepEqual(disk.peek(2 * PAGE, 1), Buffer.from([0]));
  const after = io.write(3 * PAGE, Buffer.from([4]));
  await after.persisted();
  assert.deepEqual(disk.peek(3 * PAGE, 1, 'durable'), Buffer.from([4]));
});

void test('a flush error fails every write of the batch with IoError', async () => {
  const disk = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE });
  const io = new IoScheduler(disk);
  disk.failFlush();
  const deps = [io.write(0, Buffer.from([1])), io.write(PAGE, Buffer.from([2]))];
  for (const d of deps) await assert.rejects(d.persisted(), IoError);
  await io.idle();
  await io.write(0, Buffer.from([1])).persisted();
});

void test('after a write of a batch fails, no new batch starts until the rest of the batch settles', async () => {
  // A straggler of a failed batch must not land after later writes (it could
  // overwrite an extent that was reset and reused meanwhile).
  const held = new HeldIo();
  const disk = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE, scheduler: held.schedule });
  const io = new IoScheduler(disk);
  disk.failWrites({ offset: 0, length: 1 });
  const bad = io.write(0, Buffer.from([1]));
  const straggler = io.write(PAGE, Buffer.from([2]));
  await turn();
  assert.equal(held.count('write'), 2);
  held.release(0); // the failing write completes first
  await turn();
  io.write(2 * PAGE, Buffer.from([3]));
  await turn();
  assert.equal(held.count('write'), 1, 'a new batch was issued while a write of the failed batch was in flight');
  while (straggler.failure() === undefined && !straggler.isPersistent()) {
    held.releaseAll();
    await turn();
  }
  await assert.rejects(bad.persisted(), IoError);
  assert.ok(straggler.isPersistent(), 'a write of a batch that landed is flushed even when another write of the batch failed');
  while (io.pendingWrites > 0 || held.held.length > 0) {
    held.releaseAll();
    await turn();
  }
});

void test('abandon: queued writes fail with ClosedError, in-flight ones finish, new writes fail at once', async () => {
  const held = new HeldIo();
  const disk = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE, scheduler: held.schedule });
  const io = new IoScheduler(disk);
  const latch = new Latch('never');
  const inFlight = io.write(0, Buffer.from([1]));
  await turn();
  const queued = io.write(PAGE, Buffer.from([2]), latch.dependency);
  io.abandon('dirty reboot');
  await assert.rejects(queued.persisted(), ClosedError);
  assert.ok(io.write(0, Buffer.from([3])).failure() instanceof ClosedError);
  while (!inFlight.isPersistent()) {
    held.releaseAll();
    await turn();
  }
  await io.idle();
  assert.equal(io.pendingWrites, 0);
});

void test('barrier: persistent once every write queued before it is', async () => {
  const disk = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE });
  const io = new IoScheduler(disk);
  assert.ok(io.barrier().isPersistent());
  const latch = new Latch('gate');
  io.write(0, Buffer.from([1]));
  io.write(PAGE, Buffer.from([2]), latch.dependency);
  const barrier = io.barrier();
  await turn();
  assert.equal(barrier.isPersistent(), false);
  latch.resolve();
  await barrier.persisted();
  assert.deepEqual(disk.peek(0, PAGE + 1, 'durable').subarray(PAGE), Buffer.from([2]));
});

void test('writes waiting on one dependency register O(1) wake-ups each', async () => {
  // Counted by wrapping Ticket.prototype.onSettled: 300 writes arriving one
  // per turn behind a latch once cost ~45,000 registrations (one per queued
  // write per wake-up), so a long stall grew memory quadratically.
  let registrations = 0;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- only ever called with .call(this)
  const original = Ticket.prototype.onSettled;
  Ticket.prototype.onSettled = function (this: Ticket, fn: () => void): void {
    registrations++;
    original.call(this, fn);
  };
  try {
    const disk = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE });
    const io = new IoScheduler(disk);
    const latch = new Latch('stall');
    const n = 300;
    for (let i = 0; i < n; i++) {
      io.write(i * 8, Buffer.alloc(8, 1), latch.dependency);
      await turn();
    }
    assert.ok(registrations <= 3 * n, `${registrations} registrations for ${n} waiting writes`);
    latch.resolve();
    await io.idle();
    assert.equal(disk.stats.flushes, 1);
  } finally {
    Ticket.prototype.onSettled = original;
  }
});

void test('writes given as parts: reads overlay them part by part; they land whole, gathered or joined', async () => {
  const parts = [Buffer.from([1, 2]), Buffer.from([3]), Buffer.from([4, 5, 6])];
  const next = [Buffer.from([7]), Buffer.from([8, 9])];
  for (const gathered of [false, true]) {
    const held = new HeldIo();
    const sim = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE, scheduler: held.schedule });
    const gathers: number[] = [];
    // SimDisk has no writev: the scheduler joins parts; with one, it gathers adjacent writes' parts.
    const disk: Disk = gathered
      ? {
          sizeBytes: sim.sizeBytes,
          pageSizeBytes: sim.pageSizeBytes,
          read: (offset, length) => sim.read(offset, length),
          write: (offset, data) => sim.write(offset, data),
          writev: (offset, ps) => {
            gathers.push(ps.length);
            return sim.write(offset, Buffer.concat(ps));
          },
          flush: () => sim.flush(),
          close: () => sim.close(),
        }
      : sim;
    const io = new IoScheduler(disk);
    const latch = new Latch('blocker');
    io.write(0, [Buffer.from([0xff])], latch.dependency); // holds the next ones in one batch
    const first = io.write(10, parts);
    const second = io.write(16, next);
    const read = io.read(9, 10);
    await turn();
    held.releaseAll();
    assert.deepEqual(await read, Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    latch.resolve();
    while (io.pendingWrites > 0 || held.held.length > 0) {
      held.releaseAll();
      await turn();
    }
    assert.ok(first.isPersistent() && second.isPersistent());
    assert.deepEqual(sim.peek(9, 10, 'durable'), Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    assert.deepEqual(gathers, gathered ? [5] : []);
  }
});

void test('sameFlushAfter: a write may share the flush of the write it waits for, and never follows a failed one', async () => {
  // What the commit log's records rely on (invariant 7). How: (1) a
  // sameFlushAfter write queued when that dependency lands goes out before
  // that batch's flush: one flush for both; (2) one whose `after` is not
  // persistent waits for it even when its sameFlushAfter has landed (a
  // record waits for the runs it names); (3) one queued on a dependency
  // whose batch's flush failed is never issued, and fails.
  const disk = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE });
  const io = new IoScheduler(disk);
  const data = io.write(0, Buffer.alloc(PAGE, 1));
  let record: Dependency | undefined;
  data.onLanded((joinable) => {
    assert.equal(joinable, true);
    record = io.write(4 * PAGE, Buffer.alloc(100, 2), Dependency.none, { sameFlushAfter: data });
  });
  await data.persisted();
  assert.ok(record !== undefined);
  await record.persisted();
  assert.equal(disk.stats.flushes, 1);

  const disk2 = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE });
  const io2 = new IoScheduler(disk2);
  const runs = new Latch('runs');
  const data2 = io2.write(0, Buffer.alloc(PAGE, 1));
  let record2: Dependency | undefined;
  data2.onLanded(() => {
    record2 = io2.write(4 * PAGE, Buffer.alloc(100, 2), runs.dependency, { sameFlushAfter: data2 });
  });
  await data2.persisted();
  // A later batch goes out and is flushed while the record still waits.
  await io2.write(8 * PAGE, Buffer.alloc(100, 3)).persisted();
  assert.ok(record2 !== undefined);
  assert.equal(disk2.stats.writes, 2, 'the write waits for its `after` though its sameFlushAfter is durable');
  assert.equal(record2.isPersistent(), false);
  runs.resolve();
  await record2.persisted();
  assert.equal(disk2.stats.writes, 3);

  const disk3 = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE });
  const io3 = new IoScheduler(disk3);
  disk3.failFlush();
  const data3 = io3.write(0, Buffer.alloc(PAGE, 1));
  let after: Dependency | undefined;
  data3.onSettled(() => {
    after = io3.write(4 * PAGE, Buffer.alloc(100, 2), Dependency.none, { sameFlushAfter: data3 });
  });
  await assert.rejects(data3.persisted());
  assert.ok(after !== undefined);
  await assert.rejects(after.persisted());
  assert.equal(disk3.stats.writes, 1, 'the write after a failed flush was never issued');
});

void test('sameFlushAfter: a write queued when its data landed too late to join the flush fails unissued when that flush fails', async () => {
  // A record queued when its data landed is ready at once, so the
  // scheduler registers no wake-up on that data (one per put, before); this
  // checks that such a record still fails, never issued, when the data's
  // flush fails. How: hold every IO; the data is the third round's write,
  // so the record queued when it lands (not joinable) waits for the next
  // batch; the flush fails.
  const held = new HeldIo();
  const disk = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE, scheduler: held.schedule });
  disk.failFlush();
  const io = new IoScheduler(disk);
  const deps = [io.write(0, Buffer.alloc(10, 1))];
  let record: Dependency | undefined;
  let joinableSeen: boolean | undefined;
  for (let round = 1; round <= 2; round++) {
    await turn();
    const data = io.write(round * PAGE, Buffer.alloc(10, round + 1));
    deps.push(data);
    if (round === 2) {
      data.onLanded((joinable) => {
        joinableSeen = joinable;
        record = io.write(8 * PAGE, Buffer.alloc(100, 9), Dependency.none, { sameFlushAfter: data });
      });
    }
    await turn();
    held.releaseAll();
  }
  while (record === undefined || deps.some((d) => d.failure() === undefined) || record.failure() === undefined) {
    held.releaseAll();
    await turn();
  }
  assert.equal(joinableSeen, false, 'the data landed in the third round: the record could not join its flush');
  assert.equal(disk.stats.writes, 3, 'the record was never issued');
  await assert.rejects(record.persisted());
});
