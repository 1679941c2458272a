// tier: quick (npm run test:quick; docs/TESTING.md)
// Checks SimDisk against its contract (testing/sim_disk.ts): reads see the
// latest writes, flush makes durable what completed before it was issued,
// each crash mode keeps exactly what it says (flushed data always survives;
// torn writes change whole page-pieces only; the report describes the image
// exactly), crashes are deterministic per seed, and injected faults and bit
// flips behave as documented. Random histories come from fast-check with
// fixed seeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Rng } from './rng.js';
import { CRASH_MODES, InjectedFaultError, SimDisk, SimDiskCrashedError, describeCrash } from './sim_disk.js';
import type { CrashMode, CrashReport, SimIo } from './sim_disk.js';

const PAGE = 512;
const SIZE = 16 * PAGE;
const GARBAGE = 0xee;

function bytes(n: number, seed: number): Buffer {
  // Never GARBAGE (bit 7 clear), so garbage pages are told apart from data.
  return Buffer.from(Array.from({ length: n }, (_, i) => (seed * 31 + i * 7 + 1) & 0x7f));
}

void test('reads see unflushed writes; flush makes them durable', async () => {
  const disk = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE });
  await disk.write(100, bytes(1000, 1));
  await disk.write(600, bytes(10, 2)); // overlaps the first: the later one wins
  const expected = bytes(1000, 1);
  bytes(10, 2).copy(expected, 500);
  assert.deepEqual(await disk.read(100, 1000), expected);
  assert.equal(disk.unflushedWrites, 2);
  assert.deepEqual(disk.peek(100, 1000, 'durable'), Buffer.alloc(1000));
  await disk.flush();
  assert.equal(disk.unflushedWrites, 0);
  assert.deepEqual(disk.peek(100, 1000, 'durable'), expected);
  assert.deepEqual(disk.stats, { reads: 1, writes: 2, flushes: 1, bytesRead: 1000, bytesWritten: 1010, faults: 0 });
});

void test('writes are copied at issue: the caller may reuse its buffer', async () => {
  const disk = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE });
  const buf = Buffer.from([1, 2, 3]);
  const done = disk.write(0, buf);
  buf.fill(9);
  await done;
  assert.deepEqual(disk.peek(0, 3), Buffer.from([1, 2, 3]));
});

void test('pages shared without a copy (whole pages of a write, zeros of every write) stay private to each image and each place', async () => {
  // Whole-page writes become pages of the current and durable images
  // without a copy, and all-zero writes share one buffer: a write, a bit
  // flip or a crash over one of them must change that place of that image only.
  const disk = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE, fillSeed: 3 });
  await disk.write(0, Buffer.alloc(2 * PAGE));
  await disk.write(4 * PAGE, Buffer.alloc(PAGE));
  await disk.write(8 * PAGE, bytes(2 * PAGE, 4));
  await disk.flush();
  const fill = await disk.read(6 * PAGE, PAGE);
  await disk.write(7, Buffer.from([5])); // unflushed, over zeros shared with 4*PAGE and the durable image
  disk.flipBit(4 * PAGE + 3, 1);
  await disk.write(9 * PAGE + 9, Buffer.from([6])); // unflushed, over a page shared with the durable image
  const zerosThen5 = Buffer.alloc(2 * PAGE);
  zerosThen5[7] = 5;
  assert.deepEqual(await disk.read(0, 2 * PAGE), zerosThen5);
  assert.deepEqual(await disk.read(4 * PAGE, 4), Buffer.from([0, 0, 0, 2]));
  assert.deepEqual(await disk.read(6 * PAGE, PAGE), fill, 'never-written pages keep the fill');
  const data = bytes(2 * PAGE, 4);
  data[PAGE + 9] = 6;
  assert.deepEqual(await disk.read(8 * PAGE, 2 * PAGE), data);
  // A later zero write, and the durable image, saw none of it.
  await disk.write(12 * PAGE, Buffer.alloc(2 * PAGE));
  assert.deepEqual(await disk.read(12 * PAGE, 2 * PAGE), Buffer.alloc(2 * PAGE));
  assert.deepEqual(disk.peek(0, 2 * PAGE, 'durable'), Buffer.alloc(2 * PAGE));
  assert.deepEqual(disk.peek(8 * PAGE, 2 * PAGE, 'durable'), bytes(2 * PAGE, 4));
  const dropped = disk.crash(new Rng(1), 'drop-all').disk;
  assert.deepEqual(await dropped.read(0, 2 * PAGE), Buffer.alloc(2 * PAGE), 'the unflushed writes are dropped');
  assert.deepEqual(await dropped.read(8 * PAGE, 2 * PAGE), bytes(2 * PAGE, 4));
  assert.deepEqual(await dropped.read(4 * PAGE, 4), Buffer.from([0, 0, 0, 2]), 'a bit flip is on the media');
});

void test('fill: zeros by default, a fixed garbage pattern per seed', async () => {
  const a = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE, fillSeed: 5 });
  const b = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE, fillSeed: 5 });
  const c = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE, fillSeed: 6 });
  const ga = await a.read(700, 900);
  assert.deepEqual(ga, await b.read(700, 900));
  assert.notDeepEqual(ga, await c.read(700, 900));
  assert.notDeepEqual(ga, Buffer.alloc(900));
  // A partial write keeps the rest of the page's garbage.
  await a.write(710, Buffer.from([1]));
  const after = await a.read(700, 900);
  assert.equal(after[10], 1);
  assert.deepEqual(after.subarray(0, 10), ga.subarray(0, 10));
  assert.deepEqual(after.subarray(11), ga.subarray(11));
});

void test('bad geometry and out-of-range IO are refused', async () => {
  assert.throws(() => new SimDisk({ sizeBytes: 1000, pageSizeBytes: PAGE }));
  assert.throws(() => new SimDisk({ sizeBytes: 0 }));
  const disk = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE });
  await assert.rejects(disk.read(SIZE - 1, 2));
  await assert.rejects(disk.write(-1, Buffer.from([1])));
  await disk.close();
  await assert.rejects(disk.read(0, 1));
});

interface Step {
  kind: 'write' | 'flush';
  offset: number;
  length: number;
}

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('write' as const), offset: fc.nat(SIZE - 1), length: fc.integer({ min: 1, max: 3 * PAGE }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('flush' as const), offset: fc.constant(0), length: fc.constant(0) }) },
);

/** Run `steps` on a fresh disk; returns the disk and the unflushed writes in order. */
async function play(steps: readonly Step[]): Promise<{ disk: SimDisk; unflushed: Array<{ offset: number; data: Buffer }> }> {
  const disk = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE });
  let unflushed: Array<{ offset: number; data: Buffer }> = [];
  for (const [i, s] of steps.entries()) {
    if (s.kind === 'flush') {
      await disk.flush();
      unflushed = [];
    } else {
      const length = Math.min(s.length, SIZE - s.offset);
      const data = bytes(length, i);
      await disk.write(s.offset, data);
      unflushed.push({ offset: s.offset, data });
    }
  }
  return { disk, unflushed };
}

/** The image the report says the crash left, built independently of SimDisk. */
function expectedImage(durable: Buffer, unflushed: ReadonlyArray<{ offset: number; data: Buffer }>, report: CrashReport): Buffer {
  const image = Buffer.from(durable);
  assert.equal(report.writes.length, unflushed.length);
  unflushed.forEach((w, i) => {
    const r = report.writes[i];
    assert.ok(r !== undefined);
    assert.equal(r.offset, w.offset);
    assert.equal(r.length, w.data.length);
    if (r.fate === 'kept') w.data.copy(image, w.offset);
    if (r.fate !== 'torn') return;
    const kept = new Set(r.keptPieces);
    let piece = 0;
    for (let at = w.offset; at < w.offset + w.data.length; piece++) {
      const to = Math.min(w.offset + w.data.length, (Math.floor(at / PAGE) + 1) * PAGE);
      if (kept.has(piece)) w.data.copy(image, at, at - w.offset, to - w.offset);
      else if (r.lostAs === 'garbage') image.fill(GARBAGE, at, to);
      at = to;
    }
  });
  return image;
}

function checkFates(mode: CrashMode, report: CrashReport): void {
  for (const w of report.writes) {
    if (mode === 'drop-all') assert.equal(w.fate, 'dropped');
    if (mode === 'keep-all') assert.equal(w.fate, 'kept');
    if (mode === 'subset') assert.notEqual(w.fate, 'torn');
    if (w.fate !== 'torn') continue;
    // A write inside one page is atomic: it can never tear.
    const pieces = Math.floor((w.offset + w.length - 1) / PAGE) - Math.floor(w.offset / PAGE) + 1;
    assert.ok(pieces > 1, `single-page write torn: ${describeCrash(report)}`);
    assert.ok((w.keptPieces ?? []).every((p) => p >= 0 && p < pieces));
    assert.ok((w.keptPieces ?? []).length < pieces);
  }
}

void test('crash: every mode leaves exactly the image its report describes; flushed data survives', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(stepArb, { maxLength: 25 }), fc.constantFrom(...CRASH_MODES), fc.nat(), async (steps, mode, seed) => {
      const { disk, unflushed } = await play(steps);
      const durable = disk.snapshot('durable');
      const { disk: after, report } = disk.crash(new Rng(seed), mode, { garbage: (_r, n) => Buffer.alloc(n, GARBAGE) });
      assert.equal(report.mode, mode);
      checkFates(mode, report);
      assert.deepEqual(after.snapshot(), expectedImage(durable, unflushed, report), describeCrash(report));
      assert.deepEqual(after.snapshot('durable'), after.snapshot());
      assert.equal(after.unflushedWrites, 0);
    }),
    { seed: 0x5d15c, numRuns: 300 },
  );
});

void test('crash: the same seed on the same history gives the same image and report', async () => {
  const steps: Step[] = [
    { kind: 'write', offset: 0, length: PAGE * 3 },
    { kind: 'flush', offset: 0, length: 0 },
    ...Array.from({ length: 12 }, (_, i) => ({ kind: 'write' as const, offset: (i * 700) % (SIZE - 2000), length: 1500 + i })),
  ];
  const { disk } = await play(steps);
  for (const mode of CRASH_MODES) {
    const one = disk.clone().crash(new Rng(`det-${mode}`), mode);
    const two = disk.clone().crash(new Rng(`det-${mode}`), mode);
    assert.deepEqual(one.report, two.report);
    assert.deepEqual(one.disk.snapshot(), two.disk.snapshot());
  }
  // Different seeds explore different outcomes.
  const reports = new Set<string>();
  for (let s = 0; s < 20; s++) reports.add(describeCrash(disk.clone().crash(new Rng(s), 'torn').report));
  assert.ok(reports.size > 10, `only ${reports.size} distinct torn outcomes`);
});

void test('crash: torn writes do tear (prefix, suffix or random pieces; lost as old or garbage)', async () => {
  // Over many seeds, a 4-page write must show every kind of outcome.
  const outcomes = new Set<string>();
  for (let s = 0; s < 400; s++) {
    const disk = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE });
    await disk.write(PAGE, bytes(4 * PAGE, 1));
    const w = disk.crash(new Rng(s), 'torn').report.writes[0];
    assert.ok(w !== undefined);
    outcomes.add(w.fate === 'torn' ? `torn:${w.lostAs ?? ''}` : w.fate);
    if (w.fate === 'torn') outcomes.add(`pieces:${(w.keptPieces ?? []).join(',')}`);
  }
  for (const o of ['dropped', 'kept', 'torn:old', 'torn:garbage', 'pieces:0', 'pieces:3', 'pieces:0,1,2', 'pieces:1,2,3']) {
    assert.ok(outcomes.has(o), `never saw ${o}`);
  }
});

void test('a crashed disk refuses IO; the new disk keeps the geometry and carries faults over', async () => {
  const disk = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE, fillSeed: 'g' });
  const fault = disk.failReads({ offset: 0, length: 10 }, 'permanent');
  const { disk: after } = disk.crash(new Rng(1), 'drop-all');
  assert.ok(disk.isCrashed);
  await assert.rejects(disk.read(100, 1), SimDiskCrashedError);
  await assert.rejects(disk.write(100, Buffer.from([1])), SimDiskCrashedError);
  assert.throws(() => disk.crash(new Rng(1), 'drop-all'));
  assert.equal(after.sizeBytes, SIZE);
  assert.equal(after.pageSizeBytes, PAGE);
  assert.deepEqual(await after.read(20, 5), await new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE, fillSeed: 'g' }).read(20, 5));
  await assert.rejects(after.read(5, 1), InjectedFaultError);
  fault.remove(); // the old handle does not control the new disk's copy
  await assert.rejects(after.read(5, 1), InjectedFaultError);
});

/** A scheduler that holds completions until the test releases them. */
function manualScheduler(): { schedule: (io: SimIo, complete: () => void) => void; held: Array<{ io: SimIo; complete: () => void }> } {
  const held: Array<{ io: SimIo; complete: () => void }> = [];
  return { schedule: (io, complete) => held.push({ io, complete }), held };
}

function release(held: Array<{ io: SimIo; complete: () => void }>, kind: SimIo['kind']): void {
  const i = held.findIndex((h) => h.io.kind === kind);
  const [h] = held.splice(i, 1);
  assert.ok(i >= 0 && h !== undefined, `no held ${kind}`);
  h.complete();
}

void test('scheduler: effects happen at completion; a flush covers only writes completed before it was issued', async () => {
  const { schedule, held } = manualScheduler();
  const disk = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE, scheduler: schedule });
  const w1 = disk.write(0, Buffer.from([1]));
  assert.deepEqual(disk.peek(0, 1), Buffer.from([0]));
  assert.equal(disk.inFlight, 1);
  release(held, 'write');
  await w1;
  const f = disk.flush();
  const w2 = disk.write(1, Buffer.from([2]));
  release(held, 'write'); // w2 completes while the flush runs
  release(held, 'flush');
  await Promise.all([f, w2]);
  assert.deepEqual(disk.peek(0, 2, 'durable'), Buffer.from([1, 0]));
  assert.deepEqual(disk.peek(0, 2), Buffer.from([1, 2]));
  assert.equal(disk.unflushedWrites, 1);
  assert.throws(() => {
    const r = disk.read(0, 1);
    const h = held.pop();
    h?.complete();
    h?.complete();
    void r;
  }, /completed twice/);
});

void test('scheduler: in-flight writes may land at a crash; pending IO rejects', async () => {
  const { schedule, held } = manualScheduler();
  const disk = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE, scheduler: schedule });
  const w = disk.write(10, Buffer.from([7]));
  const r = disk.read(10, 1);
  const { disk: after, report } = disk.crash(new Rng(0), 'keep-all');
  await assert.rejects(w, SimDiskCrashedError);
  await assert.rejects(r, SimDiskCrashedError);
  assert.deepEqual(report.writes, [{ offset: 10, length: 1, inFlight: true, fate: 'kept' }]);
  assert.deepEqual(after.peek(10, 1), Buffer.from([7]));
  for (const h of held) h.complete(); // late completions of the dead disk are ignored
  assert.equal(disk.inFlight, 0);
});

void test('faults: once and permanent, by range or predicate; a failed IO changes nothing', async () => {
  const disk = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE });
  await disk.write(0, Buffer.from([1, 2, 3, 4]));
  const once = disk.failReads({ offset: 2, length: 1 });
  await assert.rejects(disk.read(0, 4), InjectedFaultError);
  assert.deepEqual(await disk.read(0, 4), Buffer.from([1, 2, 3, 4]));
  assert.equal(once.hits, 1);
  assert.equal(once.active, false);
  await disk.read(3, 1); // outside the range: never failed

  const perm = disk.failWrites((offset) => offset >= 1000, 'permanent');
  await assert.rejects(disk.write(1000, Buffer.from([9])), InjectedFaultError);
  await assert.rejects(disk.write(2000, Buffer.from([9])), InjectedFaultError);
  await disk.write(999, Buffer.from([5]));
  assert.deepEqual(disk.peek(999, 2), Buffer.from([5, 0]));
  assert.equal(perm.hits, 2);
  perm.remove();
  await disk.write(1000, Buffer.from([6]));

  disk.failFlush();
  await assert.rejects(disk.flush(), InjectedFaultError);
  assert.equal(disk.unflushedWrites, 3);
  assert.deepEqual(disk.peek(0, 1, 'durable'), Buffer.from([0]));
  await disk.flush();
  assert.equal(disk.unflushedWrites, 0);
  assert.equal(disk.stats.faults, 4);

  disk.failReads(() => true, 'permanent');
  disk.clearFaults();
  await disk.read(0, 1);
});

void test('flipBit: bit rot shows in reads now and survives a crash', async () => {
  const disk = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE });
  await disk.write(40, Buffer.from([0b1010]));
  await disk.flush();
  disk.flipBit(40, 0);
  disk.flipBit(41, 7);
  assert.deepEqual(await disk.read(40, 2), Buffer.from([0b1011, 0x80]));
  const { disk: after } = disk.crash(new Rng(3), 'drop-all');
  assert.deepEqual(await after.read(40, 2), Buffer.from([0b1011, 0x80]));
  assert.throws(() => after.flipBit(40, 8));
  assert.throws(() => after.flipBit(SIZE, 0));
});

void test('clone is independent of the original', async () => {
  const disk = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE });
  await disk.write(0, Buffer.from([1]));
  const copy = disk.clone();
  await disk.write(0, Buffer.from([2]));
  await copy.flush();
  assert.deepEqual(copy.peek(0, 1, 'durable'), Buffer.from([1]));
  assert.deepEqual(disk.peek(0, 1, 'durable'), Buffer.from([0]));
  assert.equal(disk.unflushedWrites, 2);
});

void test('clones share pages copy-on-write: no write, bit flip or crash of one shows in the other', async () => {
  // Partial and whole-page writes, on written pages and on never-written (garbage) ones.
  const disk = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE, fillSeed: 8 });
  await disk.write(PAGE + 3, bytes(5, 1));
  await disk.write(2 * PAGE, bytes(PAGE, 2));
  await disk.write(3 * PAGE + 9, bytes(4, 7));
  await disk.flush();
  const before = disk.snapshot();
  const copy = disk.clone();
  await copy.write(PAGE, bytes(PAGE, 3));
  await copy.write(2 * PAGE + 7, bytes(2, 4));
  await copy.write(5 * PAGE + 1, bytes(3, 5));
  copy.flipBit(PAGE + 4, 0);
  await copy.flush();
  assert.deepEqual(disk.snapshot(), before);
  assert.deepEqual(disk.snapshot('durable'), before);
  const copied = copy.snapshot();
  await disk.write(2 * PAGE + 7, bytes(2, 6));
  await disk.write(3 * PAGE + 10, bytes(2, 6));
  await disk.flush();
  disk.flipBit(3 * PAGE + 20, 1);
  disk.crash(new Rng(1), 'keep-all');
  assert.deepEqual(copy.snapshot(), copied);
  // The garbage a fresh disk of the same seed reads is untouched by all of the above.
  const fresh = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE, fillSeed: 8 });
  assert.deepEqual((await fresh.read(5 * PAGE, PAGE)).subarray(4), before.subarray(5 * PAGE + 4, 6 * PAGE));
  assert.deepEqual(await fresh.read(PAGE + 8, 8), before.subarray(PAGE + 8, PAGE + 16));
});

void test('listeners see issue and completion of every IO, with errors', async () => {
  const disk = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE });
  const events: string[] = [];
  disk.onIo((event, io, error) => events.push(`${event}:${io.kind}:${io.id}${error === undefined ? '' : ':err'}`));
  await disk.write(0, Buffer.from([1]));
  disk.failFlush();
  await assert.rejects(disk.flush());
  assert.deepEqual(events, ['issue:write:0', 'complete:write:0', 'issue:flush:1', 'complete:flush:1:err']);
});

void test('sameImage says what equal imageDigest()s say: on the disk and its clones, after writes (new, equal or restored bytes) and bit flips', async () => {
  // Random histories on a clone of a marked disk; sameImage must agree
  // with the digest comparison it replaces in the access checks, both ways.
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.oneof(
          fc.record({ kind: fc.constant('write' as const), page: fc.nat({ max: 15 }), at: fc.nat({ max: PAGE - 1 }), seed: fc.nat({ max: 3 }) }),
          fc.record({ kind: fc.constant('same' as const), page: fc.nat({ max: 15 }) }),
          fc.record({ kind: fc.constant('flipTwice' as const), page: fc.nat({ max: 15 }), flips: fc.integer({ min: 1, max: 2 }) }),
        ),
        { maxLength: 4 },
      ),
      async (ops) => {
        const disk = new SimDisk({ sizeBytes: SIZE, pageSizeBytes: PAGE, fillSeed: 9 });
        await disk.write(0, bytes(4 * PAGE, 1));
        await disk.write(6 * PAGE, Buffer.alloc(PAGE));
        const digest = disk.imageDigest();
        const mark = disk.imageMark();
        const other = disk.clone();
        for (const op of ops) {
          if (op.kind === 'write') await other.write(op.page * PAGE + op.at, bytes(8, op.seed));
          else if (op.kind === 'same') await other.write(op.page * PAGE, await other.read(op.page * PAGE, PAGE));
          else for (let n = 0; n < op.flips; n++) other.flipBit(op.page * PAGE + 5, 3);
        }
        assert.equal(other.sameImage(mark), other.imageDigest() === digest);
        assert.equal(disk.sameImage(mark), true, 'the marked disk itself is unchanged');
      },
    ),
    { seed: 0x5eed_51d, numRuns: 200 },
  );
});
