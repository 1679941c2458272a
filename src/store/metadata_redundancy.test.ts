// Redundant metadata: the two copies of the metadata log, of each checkpoint
// and of the label (src/store/log_replay.ts, open.ts, src/superblock/).
//
// Strategy: a store on SimDisk commits 40 puts one cycle each (40 records
// in the log, no checkpoint since), then its disk is cloned as a power cut
// after the last sync would leave it; then one fault at a time on the image:
// a flipped bit in a record in the middle of the log (valid records after
// it), in the last record, an unreadable page, in one copy or in both;
// a flipped bit in a copy of the newest checkpoint or of the label.
//
// Invariants:
// 1. One fault (one copy): open succeeds, every acknowledged key reads back
//    exactly, the recovery report names the damaged copy, and open repaired
//    it (a log roll, a label rewrite): the next open finds nothing to repair.
// 2. The same record bad in both copies, with valid records after it: open
//    refuses with a LogDamageError naming the record and the salvage
//    command, and does not write (the image is byte-identical afterwards).
// 3. A read-only open (what fsck does) reports the same and repairs nothing.
// This is the trial of issue 11: before the log had two copies, a flipped
// bit in a middle record made replay stop there, and 23 of 40 acknowledged
// keys answered 404 with nothing logged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHUNK_OVERHEAD_BYTES, alignUp, parseHeader } from '../chunk/index.js';
import { formatDiskStore, openDiskStore } from './index.js';
import type { DiskStore, FormatOptions } from './index.js';
import { LogDamageError } from './log_replay.js';
import { Rng } from '../../testing/rng.js';
import { SimDisk } from '../../testing/sim_disk.js';

const KEYS = 40;
const PAGE = 4096;
const EXTENT = 256 * 1024;

function options(seed: string, extra: Partial<FormatOptions> = {}): FormatOptions {
  return { extentSizeBytes: EXTENT, maxManifestBytes: 16 * 1024, memtableFlushBytes: 1 << 30, random: new Rng(seed).fork('ids'), background: false, ...extra };
}

function keyOf(i: number): Buffer {
  return Buffer.from(`key-${i.toString().padStart(3, '0')}`);
}

function valueOf(i: number): Buffer {
  return new Rng(`value/${i}`).bytes(100 + i * 37);
}

interface Logged {
  readonly disk: SimDisk;
  readonly logExtents: readonly [number, number];
  /** Offset within the log extent of each record (same in both copies). */
  readonly records: readonly number[];
}

/** 40 durable puts, one record each; the disk as a power cut right after leaves it. */
async function loggedStore(seed: string): Promise<Logged> {
  const disk = new SimDisk({ sizeBytes: 32 * 1024 * 1024, pageSizeBytes: PAGE, fillSeed: seed });
  const store = await formatDiskStore(disk, options(seed));
  for (let i = 0; i < KEYS; i++) await (await store.put(keyOf(i), valueOf(i))).persisted();
  const logExtents = [store.parts.state.logExtent, store.parts.state.mirrorLogExtent] as const;
  const { disk: image } = disk.crash(new Rng(`${seed}/crash`), 'drop-all');
  await store.close().catch(() => undefined);
  return { disk: image, logExtents, records: recordOffsets(image, logExtents[0]) };
}

/** Where each chunk of the log extent starts, walking headers from 0. */
function recordOffsets(disk: SimDisk, extent: number): number[] {
  const out: number[] = [];
  let at = 0;
  for (;;) {
    const header = parseHeader(disk.peek(extent * EXTENT + at, 24));
    if (header === undefined) return out;
    out.push(at);
    at = alignUp(at + CHUNK_OVERHEAD_BYTES + header.payloadBytes);
  }
}

async function expectAll(store: DiskStore, what: string): Promise<void> {
  for (let i = 0; i < KEYS; i++) {
    const got = await store.get(keyOf(i)).catch((err: unknown) => err);
    assert.ok(Buffer.isBuffer(got) && got.equals(valueOf(i)), `${what}: acknowledged key ${keyOf(i).toString()} reads ${got instanceof Error ? got.message : 'other bytes'}`);
  }
}

/** The disk offset of a byte in the middle of record `n` of log copy `copy`. */
function inRecord(l: Logged, copy: 0 | 1, n: number): number {
  const at = l.records[n];
  assert.ok(at !== undefined, `record ${n} of ${l.records.length}`);
  return l.logExtents[copy] * EXTENT + at + 40;
}

test('a flipped bit in a middle log record of one copy loses nothing, and open rolls the log to restore both copies', async () => {
  const l = await loggedStore('mid-one');
  assert.ok(l.records.length >= KEYS, `${l.records.length} records`);
  for (const copy of [0, 1] as const) {
    const disk = l.disk.clone();
    disk.flipBit(inRecord(l, copy, 17), 3);
    const store = await openDiskStore(disk, options('mid-one/open'));
    await expectAll(store, `copy ${copy} damaged`);
    const damage = store.parts.recovery.log.copyDamage;
    assert.equal(damage.length, 1);
    assert.equal(damage[0]?.copy, copy);
    assert.match(store.parts.recovery.repaired.join(';'), /rolled the metadata log/);
    await store.close();
    const again = await openDiskStore(disk.clone(), options('mid-one/again'));
    assert.deepEqual(again.parts.recovery.log.copyDamage, []);
    assert.deepEqual(again.parts.recovery.repaired, []);
    await expectAll(again, 'after the repair');
    await again.close();
  }
});

test('an unreadable page in one copy of the log loses nothing', async () => {
  const l = await loggedStore('unreadable');
  const disk = l.disk.clone();
  const page = Math.floor(inRecord(l, 0, 5) / PAGE) * PAGE;
  disk.failReads({ offset: page, length: PAGE }, 'permanent');
  const store = await openDiskStore(disk, options('unreadable/open'));
  await expectAll(store, 'page unreadable');
  assert.ok(store.parts.recovery.log.unreadable.some((u) => u.copy === 0), JSON.stringify(store.parts.recovery.log));
  await store.close();
});

test('the log unreadable in both copies where the next record would be: open refuses, naming the page and both extents', async () => {
  // Checks: invariant 2 when no whole record follows the damage: no crash
  // leaves an unreadable page, so open must not end the log there as if it
  // were a torn tail. How: every page of both log extents unreadable.
  const l = await loggedStore('unreadable-both');
  const disk = l.disk.clone();
  for (const extent of l.logExtents) disk.failReads({ offset: extent * EXTENT, length: EXTENT }, 'permanent');
  await assert.rejects(openDiskStore(disk, options('unreadable-both/open')), (err: unknown) => {
    assert.ok(err instanceof LogDamageError, String(err));
    assert.match(err.message, /^metadata log damaged: record \d+ is unreadable in both copies/);
    assert.ok(err.message.includes(`the page at offset 0 of extents ${l.logExtents[0]} and ${l.logExtents[1]} cannot be read`), err.message);
    assert.match(err.message, /a crash never leaves an unreadable page, so later records may be lost with it/);
    return true;
  });
});

test('a record that starts on a readable page and runs into pages unreadable in both copies: open refuses, never a silent end', async () => {
  // Checks: the same invariant when the damage begins one page after the
  // record's start (records share pages, so the next record may start on a
  // readable page and end on an unreadable one). Ending the log before it
  // would drop it and every acknowledged record on the pages after it.
  // How: find a record that crosses a page boundary and a later one, and
  // make every page from the crossing on unreadable in both copies.
  const l = await loggedStore('unreadable-after-start');
  const crossing = l.records.findIndex((at, n) => {
    const next = l.records[n + 1];
    return n > 2 && next !== undefined && Math.floor(at / PAGE) !== Math.floor((next - 1) / PAGE) && next % PAGE !== 0 && n + 2 < l.records.length;
  });
  assert.ok(crossing > 0, `a record that crosses a page boundary, mid-page, among ${l.records.length}`);
  const start = l.records[crossing] ?? 0;
  const damaged = (Math.floor(start / PAGE) + 1) * PAGE;
  const disk = l.disk.clone();
  for (const extent of l.logExtents) disk.failReads({ offset: extent * EXTENT + damaged, length: EXTENT - damaged }, 'permanent');
  await assert.rejects(openDiskStore(disk, options('unreadable-after-start/open')), (err: unknown) => {
    assert.ok(err instanceof LogDamageError, String(err));
    assert.match(err.message, /^metadata log damaged: record \d+ is unreadable in both copies/);
    assert.ok(err.message.includes(`the page at offset ${damaged} of extents ${l.logExtents[0]} and ${l.logExtents[1]} cannot be read`), err.message);
    return true;
  });
});

test('open reads the whole log extent when the extent size is not a multiple of the 1 MiB read window', async () => {
  // Checks: replay reads each log extent in 1 MiB windows; the last window
  // of a 1 MiB + 64 KiB extent is 64 KiB, and a longer read would run past
  // the extent. How: format, three durable puts, a clean close, open, read back.
  const extentSizeBytes = 1024 * 1024 + 64 * 1024;
  const disk = new SimDisk({ sizeBytes: 12 * extentSizeBytes, pageSizeBytes: PAGE, fillSeed: 'odd-extent' });
  const store = await formatDiskStore(disk, options('odd-extent', { extentSizeBytes }));
  for (let i = 0; i < 3; i++) await (await store.put(keyOf(i), valueOf(i))).persisted();
  await store.close();
  const again = await openDiskStore(disk.clone(), options('odd-extent/open', { extentSizeBytes }));
  for (let i = 0; i < 3; i++) assert.deepEqual(await again.get(keyOf(i)), valueOf(i));
  await again.close();
});

test('the same middle record damaged in both copies: open refuses, names it, and writes nothing', async () => {
  const l = await loggedStore('mid-both');
  const disk = l.disk.clone();
  disk.flipBit(inRecord(l, 0, 17), 3);
  disk.flipBit(inRecord(l, 1, 17), 5);
  const before = disk.snapshot();
  await assert.rejects(openDiskStore(disk, options('mid-both/open')), (err: unknown) => {
    assert.ok(err instanceof LogDamageError, String(err));
    assert.equal(err.code, 'Corruption');
    assert.match(err.message, /unreadable in both copies/);
    assert.match(err.message, /shardstore repair/);
    return true;
  });
  assert.ok(disk.snapshot().equals(before), 'a refused open changed the image');
});

test('the last record torn in both copies is a torn tail: open ends the log there', async () => {
  // A power cut during the append of the last record tears it in both
  // copies; nothing after it is whole, so it is not damage. That record's
  // put was never acknowledged (its dependency needed both copies durable).
  const l = await loggedStore('tail');
  const disk = l.disk.clone();
  const last = l.records.length - 1;
  disk.flipBit(inRecord(l, 0, last), 1);
  disk.flipBit(inRecord(l, 1, last), 1);
  const store = await openDiskStore(disk, options('tail/open'));
  assert.equal(store.parts.recovery.log.records, last);
  await store.close();
});

test('a damaged copy of the newest checkpoint or of the label is read from the other copy and rewritten', async () => {
  const l = await loggedStore('superblock');
  const peek = await openDiskStore(l.disk.clone(), options('sb/peek', { readOnly: true }));
  const label = peek.parts.label;
  await peek.close();
  const cases: Array<{ what: string; offset: number }> = [
    { what: 'label copy 0', offset: 40 },
    { what: 'label copy 1', offset: PAGE + 40 },
    // Format wrote the only checkpoint to slot 0 (both copies).
    { what: 'checkpoint slot 0 copy 0', offset: label.slotOffsets[0] + 30 },
    { what: 'checkpoint slot 0 copy 1', offset: label.slotCopyOffsets[0] + 30 },
  ];
  for (const c of cases) {
    const disk = l.disk.clone();
    disk.flipBit(c.offset, 2);
    const store = await openDiskStore(disk, options(`sb/${c.what}`));
    await expectAll(store, c.what);
    assert.ok(store.parts.recovery.repaired.length > 0, `${c.what}: nothing repaired`);
    await store.close();
    const again = await openDiskStore(disk.clone(), options(`sb/${c.what}/again`));
    assert.ok(again.parts.recovery.labelCopies.every((s) => s.ok), `${c.what}: label still damaged`);
    assert.equal(again.parts.recovery.checkpointCopyDamaged, false, `${c.what}: checkpoint still damaged`);
    await expectAll(again, `${c.what}, reopened`);
    await again.close();
  }
});

test('a read-only open reports a damaged copy and repairs nothing', async () => {
  const l = await loggedStore('read-only');
  const disk = l.disk.clone();
  disk.flipBit(inRecord(l, 1, 3), 0);
  disk.flipBit(40, 0);
  const before = disk.snapshot();
  const store = await openDiskStore(disk, options('read-only/open', { readOnly: true }));
  await expectAll(store, 'read-only');
  assert.equal(store.parts.recovery.log.copyDamage.length, 1);
  assert.equal(store.parts.recovery.labelCopies[0].ok, false);
  assert.deepEqual(store.parts.recovery.repaired, []);
  assert.ok(disk.snapshot().equals(before), 'a read-only open changed the image');
  await store.close();
});
