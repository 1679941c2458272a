// tier: quick (npm run test:quick; docs/TESTING.md)
// Checks the superblock (src/superblock/superblock.ts) on a SimDisk: format
// then load gives back the label and the first checkpoint; checkpoints
// alternate between the two slots (also after a reload); a torn or lost
// write of the next checkpoint (SimDisk 'torn' crashes over fixed seeds)
// or a damaged slot falls back to the previous checkpoint; two bad slots
// are a CorruptionError; and, by recording every IO with SimDisk.onIo while
// completions come back in random order, no checkpoint write is issued
// before a flush made the previous superblock write durable (with a
// negative control showing the recorder catches a violation).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CorruptionError } from '../base/index.js';
import { Dependency, IoScheduler } from '../dependency/index.js';
import { ExtentOwner } from '../extent/index.js';
import { Superblock, decodeCheckpoint, decodeLabel, encodeLabel, planLayout } from './index.js';
import type { Checkpoint, Label, SlotCopyReport } from './index.js';
import { Rng } from '../../testing/rng.js';
import { SimDisk, describeCrash } from '../../testing/sim_disk.js';
import type { SimIo, SimIoScheduler } from '../../testing/sim_disk.js';

const PAGE = 512;
const LABEL: Label = planLayout({
  diskSizeBytes: 16 * 65536,
  pageSizeBytes: PAGE,
  extentSizeBytes: 65536,
  maxManifestBytes: 8192,
  nodeId: { low: 0xfeedf00d, high: 7 },
  diskIndex: 1,
  diskCount: 2,
});

type Body = Omit<Checkpoint, 'sequence'>;

/** A checkpoint body whose manifest spans several pages, so its write can tear. */
function body(n: number): Body {
  const g = LABEL.geometry;
  const rng = new Rng(`checkpoint/${n}`);
  return {
    extents: Array.from({ length: g.extentCount }, (_, extent) => ({
      extent,
      owner: extent < g.superblockExtents ? ExtentOwner.Superblock : extent === 2 || extent === 3 ? ExtentOwner.Meta : ExtentOwner.Data,
      writePointer: extent < g.superblockExtents ? 0 : rng.int(0, g.extentSizeBytes),
    })),
    logExtent: 2,
    mirrorLogExtent: 3,
    nextRecordSeq: 100 * n,
    manifest: rng.bytes(3000),
    hostAllocated: Array.from({ length: g.extentCount }, (_, extent) => extent).filter((extent) => extent >= g.superblockExtents && rng.bool(0.5)),
  };
}

function newDisk(scheduler?: SimIoScheduler): SimDisk {
  return new SimDisk({ sizeBytes: LABEL.diskSizeBytes, pageSizeBytes: PAGE, fillSeed: 'never written', ...(scheduler === undefined ? {} : { scheduler }) });
}

async function format(disk: SimDisk): Promise<Superblock> {
  const { superblock, dependency } = Superblock.format(new IoScheduler(disk), LABEL, body(1));
  await dependency.persisted();
  return superblock;
}

async function load(disk: SimDisk): Promise<{ superblock: Superblock; checkpoint: Checkpoint; slots: readonly SlotCopyReport[] }> {
  const label = await Superblock.readLabel(disk);
  assert.deepEqual(label, LABEL);
  return Superblock.load(new IoScheduler(disk), label);
}

/** The sequence in each slot as the disk holds it (undefined: not a valid checkpoint). */
function slotSequences(disk: SimDisk): Array<number | undefined> {
  return LABEL.slotOffsets.map((offset) => {
    try {
      return decodeCheckpoint(disk.peek(offset, LABEL.slotBytes), LABEL).sequence;
    } catch (err: unknown) {
      if (err instanceof CorruptionError) return undefined;
      throw err;
    }
  });
}

test('format then load gives back the label and the first checkpoint', async () => {
  // Checks: the label reads back equal; the checkpoint is sequence 1 in
  // slot 0 while slot 1 holds never-written garbage; a crash dropping every
  // unflushed write changes nothing (format waited for durability).
  const disk = newDisk();
  const sb = await format(disk);
  assert.equal(sb.sequence, 1);
  const { checkpoint } = await load(disk);
  assert.deepEqual(checkpoint, { ...body(1), sequence: 1 });
  assert.deepEqual(slotSequences(disk), [1, undefined]);
  const { disk: after } = disk.crash(new Rng(1), 'drop-all');
  assert.deepEqual((await load(after)).checkpoint, { ...body(1), sequence: 1 });
});

test('checkpoints alternate between the slots, also after a reload', async () => {
  // Checks: after writes 2, 3, 4 the slots hold (1,2), (3,2), (3,4) and
  // load answers the newest; a superblock loaded from the disk goes on
  // with the slot not holding the newest checkpoint, with the next sequence.
  const disk = newDisk();
  const sb = await format(disk);
  const expected: Array<Array<number | undefined>> = [
    [1, 2],
    [3, 2],
    [3, 4],
  ];
  for (let n = 2; n <= 4; n++) {
    await sb.write(body(n), Dependency.none).persisted();
    assert.deepEqual(slotSequences(disk), expected[n - 2]);
    const { checkpoint } = await load(disk);
    assert.deepEqual(checkpoint, { ...body(n), sequence: n });
  }
  const reloaded = await load(disk);
  assert.equal(reloaded.superblock.sequence, 4);
  await reloaded.superblock.write(body(5), Dependency.none).persisted();
  assert.deepEqual(slotSequences(disk), [5, 4]);
});

test('a torn or lost checkpoint write falls back to the previous checkpoint', async () => {
  // Checks: checkpoint 1 is durable; checkpoint 2's first copy is written
  // but not flushed when the power fails (its second copy waits for that
  // flush, so it is not written at all; 'torn' crash: dropped, kept, or torn
  // at page granularity into old or garbage bytes). Load answers checkpoint
  // 2 exactly when its copy was kept whole, else checkpoint 1, never an
  // error or a mix. How: 40 fixed seeds; each fate must occur at least once.
  const fates = new Map<string, number>();
  for (let seed = 0; seed < 40; seed++) {
    let holding = false;
    const disk = newDisk((io, complete) => {
      if (!(holding && io.kind === 'flush')) complete();
    });
    const sb = await format(disk);
    holding = true;
    void sb.write(body(2), Dependency.none);
    while (disk.unflushedWrites < 1) await new Promise((resolve) => setImmediate(resolve));
    const { disk: after, report } = disk.crash(new Rng(`sb-torn/${seed}`), 'torn');
    holding = false; // the new disk shares the scheduler: let it flush
    assert.equal(report.writes.length, 1, `copy 1 issued before copy 0 was durable\n${describeCrash(report)}`);
    for (const w of report.writes) fates.set(w.fate, (fates.get(w.fate) ?? 0) + 1);
    const n = report.writes.some((w) => w.fate === 'kept') ? 2 : 1;
    const { checkpoint, superblock } = await load(after);
    assert.deepEqual(checkpoint, { ...body(n), sequence: n }, `seed ${seed}\n${describeCrash(report)}`);
    // The next checkpoint goes to the slot not holding the survivor.
    await superblock.write(body(3), Dependency.none).persisted();
    assert.equal(slotSequences(after)[n === 2 ? 0 : 1], n + 1);
    assert.equal((await load(after)).checkpoint.sequence, n + 1);
  }
  for (const fate of ['kept', 'torn', 'dropped']) assert.ok((fates.get(fate) ?? 0) > 0, `no seed gave a ${fate} checkpoint: ${JSON.stringify([...fates])}`);
});

test('a damaged copy of the newest checkpoint is read from its other copy, never from the older slot', async () => {
  // Checks: one flipped bit anywhere in either copy of the newer slot
  // (header, extent table, manifest, CRC) leaves load answering the newer
  // checkpoint, and the report names the bad copy; a bit flipped in both
  // copies of the newer slot (two faults: a crash tears at most one, since
  // copy 1 is written after copy 0 is durable) makes load refuse, naming the
  // slot, since the older slot's log may be gone (salvage takes the older);
  // with every copy damaged, load throws CorruptionError naming each.
  const disk = newDisk();
  const sb = await format(disk);
  await sb.write(body(2), Dependency.none).persisted();
  const newer = [LABEL.slotOffsets[1], LABEL.slotCopyOffsets[1]] as const;
  for (const [copy, base] of newer.entries()) {
    for (const at of [0, 9, 16, 20, 30, 200, 2000]) {
      disk.flipBit(base + at, at % 8);
      const loaded = await load(disk);
      assert.deepEqual(loaded.checkpoint, { ...body(2), sequence: 2 }, `copy ${copy}, flip at ${at}`);
      assert.deepEqual(loaded.slots.filter((c) => !c.state.ok).map((c) => [c.slot, c.copy]), [[1, copy]]);
      disk.flipBit(base + at, at % 8);
    }
  }
  disk.flipBit(newer[0] + 100, 3);
  disk.flipBit(newer[1] + 100, 3);
  await assert.rejects(load(disk), (err: unknown) => err instanceof CorruptionError && /slot 1 damaged in both copies/.test(err.message));
  const salvaged = await Superblock.load(new IoScheduler(disk), LABEL, { salvage: true });
  assert.deepEqual(salvaged.checkpoint, { ...body(1), sequence: 1 });
  disk.flipBit(LABEL.slotOffsets[0] + 1000, 5);
  disk.flipBit(LABEL.slotCopyOffsets[0] + 1000, 5);
  await assert.rejects(load(disk), (err: unknown) => err instanceof CorruptionError && /slot 0 copy 1/.test(err.message) && /slot 1 copy 0/.test(err.message));
});

test('a damaged label is read from its second copy', async () => {
  // Checks: a bit flipped in the first or the second copy of the label
  // leaves readLabelCopies answering the label and naming the bad copy;
  // both damaged is a CorruptionError; the page size the second copy sits at
  // is found even when the first copy cannot say it.
  const disk = newDisk();
  await format(disk);
  for (const base of [0, PAGE]) {
    disk.flipBit(base + 40, 1);
    const { label, copies } = await Superblock.readLabelCopies(disk);
    assert.deepEqual(label, LABEL);
    assert.deepEqual(copies.map((c) => c.ok), base === 0 ? [false, true] : [true, false]);
    disk.flipBit(base + 40, 1);
  }
  disk.flipBit(40, 1);
  disk.flipBit(PAGE + 40, 1);
  await assert.rejects(Superblock.readLabel(disk), (err: unknown) => err instanceof CorruptionError && /copy 0/.test(err.message) && /copy 1/.test(err.message));
});

// ------------------------------------------------------------ ordering

interface Event {
  readonly at: number;
  readonly event: 'issue' | 'complete';
  readonly io: SimIo;
  readonly failed: boolean;
}

/** Record every IO of `disk` with a global order. */
function record(disk: SimDisk): Event[] {
  const events: Event[] = [];
  disk.onIo((event, io, error) => events.push({ at: events.length, event, io, failed: error !== undefined }));
  return events;
}

/**
 * Superblock writes issued before a flush made the previous one durable.
 * The writes of one structure (the two copies of one slot, or format's
 * writes) form one group: for each group after the first, there must be a flush issued
 * after every write of the previous group completed and completed (without
 * error) before the group's first write was issued.
 */
function orderViolations(events: readonly Event[]): string[] {
  const unitOf = (io: SimIo): string | undefined => {
    if (io.kind !== 'write') return undefined;
    if (io.offset === 0 || io.offset === PAGE) return 'label';
    for (const slot of [0, 1] as const) if (io.offset === LABEL.slotOffsets[slot] || io.offset === LABEL.slotCopyOffsets[slot]) return `slot ${slot}`;
    return undefined;
  };
  const completedAt = new Map<number, number>();
  for (const e of events) if (e.event === 'complete' && !e.failed) completedAt.set(e.io.id, e.at);
  const flushes = events.filter((e) => e.event === 'issue' && e.io.kind === 'flush').map((e) => ({ issued: e.at, completed: completedAt.get(e.io.id) }));
  // Format's writes (both label copies, slot 1 cleared) go out together,
  // before the first checkpoint (slot 0).
  const groups: Array<{ unit: string; writes: Event[] }> = [];
  let formatted = false;
  for (const e of events) {
    const found = e.event === 'issue' ? unitOf(e.io) : undefined;
    if (found === undefined) continue;
    formatted ||= found === 'slot 0';
    const unit = formatted ? found : 'format';
    const last = groups[groups.length - 1];
    if (last?.unit === unit) last.writes.push(e);
    else groups.push({ unit, writes: [e] });
  }
  const out: string[] = [];
  for (let i = 1; i < groups.length; i++) {
    const prev = groups[i - 1]?.writes ?? [];
    const cur = groups[i]?.writes[0];
    if (cur === undefined) continue;
    const prevDone = Math.max(...prev.map((w) => completedAt.get(w.io.id) ?? Infinity));
    const durable = flushes.some((f) => f.issued > prevDone && f.completed !== undefined && f.completed < cur.at);
    if (!durable) out.push(`write at ${cur.io.offset} (io ${cur.io.id}) issued before the writes at ${prev.map((w) => w.io.offset).join(', ')} were flushed`);
  }
  return out;
}

/**
 * Completions come back in a seeded random order, so IOs of one batch
 * finish in any order: each turn of the event loop completes one IO picked
 * at random among those in flight (no timers, so a seed replays exactly).
 */
function shuffledDisk(seed: string): SimDisk {
  const rng = new Rng(seed);
  const inFlight: Array<() => void> = [];
  const completeOne = (): void => {
    const [complete] = inFlight.splice(rng.int(0, inFlight.length - 1), 1);
    complete?.();
    if (inFlight.length > 0) setImmediate(completeOne);
  };
  return newDisk((_io, complete) => {
    inFlight.push(complete);
    if (inFlight.length === 1) setImmediate(completeOne);
  });
}

test('a checkpoint write is never issued before the previous superblock write is durable', async () => {
  // Checks: format (label, then checkpoint 1) and six more checkpoints
  // requested at once, without waiting, on a disk that completes IOs in
  // random order: every superblock write is issued only after a flush that
  // began after the previous one completed has itself completed. How: the
  // IO record of SimDisk.onIo, three fixed seeds.
  for (const seed of ['order/1', 'order/2', 'order/3']) {
    const disk = shuffledDisk(seed);
    const events = record(disk);
    const io = new IoScheduler(disk);
    const { superblock, dependency } = Superblock.format(io, LABEL, body(1));
    const deps = [dependency];
    for (let n = 2; n <= 7; n++) deps.push(superblock.write(body(n), Dependency.none));
    await Dependency.all(deps).persisted();
    assert.equal(events.filter((e) => e.event === 'issue' && e.io.kind === 'write').length, 18, 'label and seven checkpoints, two copies each, and slot 1 cleared at format');
    assert.deepEqual(orderViolations(events), [], seed);
    assert.equal((await load(disk)).checkpoint.sequence, 7);
  }
});

test('the ordering recorder catches two slot writes in one batch', async () => {
  // Checks: the check above has teeth. How: write both slots straight
  // through the IO scheduler with no dependency between them; they share a
  // batch, and the recorder reports the second.
  const disk = shuffledDisk('order/negative');
  const events = record(disk);
  const io = new IoScheduler(disk);
  const [slot0, slot1] = LABEL.slotOffsets;
  await Dependency.all([io.write(slot0, Buffer.alloc(PAGE, 1)), io.write(slot1, Buffer.alloc(PAGE, 2))]).persisted();
  assert.equal(orderViolations(events).length, 1);
});

/** LABEL with some fields replaced (geometry fields merged into LABEL's geometry). */
function labelWith(change: Partial<Omit<Label, 'geometry'>> & { geometry?: Partial<Label['geometry']> }): Label {
  return { ...LABEL, ...change, geometry: { ...LABEL.geometry, ...change.geometry } };
}

test('a label that breaks one relation between its numbers is refused, naming the relation', () => {
  // Checks: decodeLabel refuses (CorruptionError) a label with a valid
  // checksum whose numbers break exactly one relation of checkLabel, and the
  // message names that relation (fsck and open print it); the same label at
  // the limit of the relation is accepted. How: LABEL (planLayout's tight
  // layout: every slot offset, the slot size and the disk size sit exactly at
  // their limit) with one field moved one unit over, encoded with encodeLabel.
  const g = LABEL.geometry;
  const [s0, s1] = LABEL.slotOffsets;
  const [c0, c1] = LABEL.slotCopyOffsets;
  const slot = LABEL.slotBytes;
  const refused: Array<[string, Label]> = [
    ['page size', labelWith({ geometry: { pageSizeBytes: 256 } })],
    ['page size', labelWith({ geometry: { pageSizeBytes: 131072 } })],
    ['page size', labelWith({ geometry: { pageSizeBytes: 768 } })],
    ['extent size', labelWith({ geometry: { extentSizeBytes: 65536 - 512 } })],
    ['extent size', labelWith({ geometry: { extentSizeBytes: 2 * 1024 ** 3 } })],
    ['extent size not a page multiple', labelWith({ geometry: { extentSizeBytes: 65536 + 256 } })],
    ['extents exceed the disk', labelWith({ diskSizeBytes: LABEL.diskSizeBytes - 1 })],
    ['superblock extents', labelWith({ geometry: { superblockExtents: 0 } })],
    ['superblock extents', labelWith({ geometry: { superblockExtents: g.extentCount } })],
    ['slot offsets', labelWith({ slotOffsets: [s0 - 1, s1] })],
    ['slot offsets', labelWith({ slotOffsets: [s0, s1 - 1] })],
    ['slot offsets', labelWith({ slotCopyOffsets: [c0 - 1, c1] })],
    ['slot offsets', labelWith({ slotCopyOffsets: [c0, c1 - 1] })],
    ['slots exceed superblock extents', labelWith({ slotCopyOffsets: [c0, g.superblockExtents * g.extentSizeBytes - slot + 1] })],
    ['slot too small', labelWith({ slotBytes: slot - 1 })],
    ['disk index', labelWith({ diskCount: 0, diskIndex: 0 })],
    ['disk index', labelWith({ diskIndex: LABEL.diskCount })],
  ];
  for (const [why, label] of refused) {
    assert.throws(
      () => decodeLabel(encodeLabel(label)),
      (err: unknown) => err instanceof CorruptionError && err.message === `superblock label: ${why}`,
      `${why}: ${JSON.stringify(label)}`,
    );
  }
  const accepted: Label[] = [
    LABEL,
    labelWith({ slotCopyOffsets: [c0, g.superblockExtents * g.extentSizeBytes - slot] }),
    labelWith({ geometry: { superblockExtents: g.extentCount - 1 } }),
    labelWith({ diskIndex: 0, diskCount: 1 }),
  ];
  for (const label of accepted) assert.deepEqual(decodeLabel(encodeLabel(label)), label);
});

test('an unreadable label copy is a bad copy named with its offset and the device error', async () => {
  // Checks: a read error on a label copy's page makes that copy bad, and
  // the report and, with both copies unreadable, the CorruptionError name
  // copy 0's offset, "unreadable" and the device's own message (what an
  // operator needs to tell a bad sector from a bad label). How: permanent
  // read faults on the page of copy 0, then on copy 1's page too.
  const disk = newDisk();
  await format(disk);
  const first = disk.failPageReads(0);
  const { label, copies } = await Superblock.readLabelCopies(disk);
  assert.deepEqual(label, LABEL);
  assert.equal(copies[1].ok, true);
  assert.ok(!copies[0].ok);
  assert.match(copies[0].error, /^label copy at 0 unreadable: sim disk: injected read fault at 0\+/);
  disk.failPageReads(PAGE);
  await assert.rejects(Superblock.readLabel(disk), (err: unknown) => {
    assert.ok(err instanceof CorruptionError);
    assert.match(err.message, /copy 0: label copy at 0 unreadable: sim disk: injected read fault/);
    // Copy 1's part names what every page size tried found, the unreadable page among them.
    assert.match(err.message, new RegExp(`; copy 1: no copy at any page size \\(.*at ${PAGE}: label copy at ${PAGE} unreadable: sim disk: injected read fault`));
    assert.match(err.message, /at 1024, 2048, 4096, 8192, 16384, 32768, 65536: superblock label: bad magic/);
    return true;
  });
  first.remove();
});

test('on a small disk, copy 1 is looked for at every page size whose page fits twice, and at no larger one', async () => {
  // Checks the bound of the page-size guesses: copy 1 sits one page in, so
  // a page size p is tried exactly when 2p fits the disk (a disk of 2048
  // bytes: 512 and 1024, also the exact fit, and nothing from 2048 on,
  // which would read past the end). How: a 2048-byte disk of random bytes
  // (no label anywhere); the error names the sizes tried.
  const disk = new SimDisk({ sizeBytes: 2048, pageSizeBytes: PAGE, fillSeed: 'no label' });
  await assert.rejects(Superblock.readLabel(disk), (err: unknown) => {
    assert.ok(err instanceof CorruptionError);
    assert.match(err.message, /copy 1: no copy at any page size \(at 512, 1024: superblock label: bad magic \(disk not formatted\?\)\)$/);
    return true;
  });
});
