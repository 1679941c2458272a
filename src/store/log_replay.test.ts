// tier: quick (npm run test:quick; docs/TESTING.md)
// replayLog's tolerant read (log_replay.ts): after a read error it rereads
// the window page by page and lists the pages the device cannot read; any
// other error during those rereads is a bug or a closed store, never an
// unreadable page, and must reach the caller as itself (else open would
// answer "log damaged" and a repair would drop records that are fine).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IoError } from '../base/index.js';
import { ChunkKind, frameChunk } from '../chunk/index.js';
import { IoScheduler } from '../dependency/index.js';
import { ExtentManager, ExtentOwner } from '../extent/index.js';
import type { Geometry } from '../extent/index.js';
import { replayLog } from './log_replay.js';
import { decodeMutations, encodeMetaRecord } from './metalog_format.js';
import { SimDisk } from '../../testing/sim_disk.js';

const PAGE = 4096;
const GEOMETRY: Geometry = { pageSizeBytes: PAGE, extentSizeBytes: 16 * PAGE, extentCount: 4, superblockExtents: 1 };

async function fullLogExtents(): Promise<{ extents: ExtentManager; logs: readonly [number, number] }> {
  const disk = new SimDisk({ sizeBytes: GEOMETRY.extentSizeBytes * GEOMETRY.extentCount, pageSizeBytes: PAGE, fillSeed: 'replay' });
  const extents = new ExtentManager(GEOMETRY, new IoScheduler(disk), 0);
  const logs = [extents.allocate(ExtentOwner.Meta), extents.allocate(ExtentOwner.Meta)] as const;
  for (const e of logs) await extents.append(e, Buffer.alloc(GEOMETRY.extentSizeBytes)).dependency.persisted();
  return { extents, logs };
}

void test('an IO error on a window, then pages unreadable: listed as unreadable, the rest read', async () => {
  const { extents, logs } = await fullLogExtents();
  const read = extents.read.bind(extents);
  extents.read = async (extent, offset, length) => {
    if (extent === logs[0] && (length > PAGE || offset === 3 * PAGE)) throw new IoError(`injected read error at ${offset}+${length}`);
    return read(extent, offset, length);
  };
  const replay = await replayLog(extents, logs, 1);
  assert.deepEqual(replay.unreadable, [{ copy: 0, extent: logs[0], offset: 3 * PAGE }]);
  assert.equal(replay.records.length, 0);
});

void test('an error other than IO during the page-by-page reread reaches the caller as itself', async () => {
  const { extents, logs } = await fullLogExtents();
  const read = extents.read.bind(extents);
  const bug = new RangeError('a bug in the read path');
  extents.read = async (extent, offset, length) => {
    if (extent === logs[0] && length > PAGE) throw new IoError('injected window read error');
    if (extent === logs[0] && offset === 5 * PAGE) throw bug;
    return read(extent, offset, length);
  };
  await assert.rejects(replayLog(extents, logs, 1), (err: unknown) => err === bug);
});

// Replay reads a log copy one window (1 MiB) at a time, with no image of the
// whole extent: a record whose chunk, or whose chunk header, runs past the
// end of a window is read whole on its own. Extents of 2 MiB put records
// across the first window's end.
const BIG: Geometry = { pageSizeBytes: PAGE, extentSizeBytes: 512 * PAGE, extentCount: 4, superblockExtents: 1 };
const WINDOW = 1024 * 1024;

function record(seq: number, keyBytes: number): Buffer {
  const mutations = Array.from({ length: 10 }, (_, i) => ({ key: Buffer.alloc(keyBytes, i + 1), value: null }));
  const rec = { seq, syncedThroughSeq: seq - 1, extentChanges: [], mutations, runsAdded: [], runsRemoved: [], flushedThroughSeq: 0, dataNames: [] };
  return frameChunk(ChunkKind.MetaRecord, [encodeMetaRecord(rec)], { low: seq, high: 0 }).bytes;
}

/** Both log copies holding records 1, 2, 3: 1 at 0, 2 at `secondAt`, 3 right after 2. */
async function logsAcrossWindow(secondAt: number): Promise<{ extents: ExtentManager; logs: readonly [number, number]; secondEnd: number }> {
  const disk = new SimDisk({ sizeBytes: BIG.extentSizeBytes * BIG.extentCount, pageSizeBytes: PAGE, fillSeed: 'replay-window' });
  const extents = new ExtentManager(BIG, new IoScheduler(disk), 0);
  const logs = [extents.allocate(ExtentOwner.Meta), extents.allocate(ExtentOwner.Meta)] as const;
  const image = Buffer.alloc(BIG.extentSizeBytes);
  const second = record(2, 1000);
  record(1, 8).copy(image, 0);
  second.copy(image, secondAt);
  record(3, 8).copy(image, secondAt + second.length);
  for (const e of logs) await extents.append(e, image).dependency.persisted();
  return { extents, logs, secondEnd: secondAt + second.length };
}

void test('a record, or only its chunk header, running past the end of a read window is found whole', async () => {
  for (const secondAt of [WINDOW - 64, WINDOW - 8]) {
    const { extents, logs, secondEnd } = await logsAcrossWindow(secondAt);
    assert.ok(secondEnd > WINDOW + PAGE, 'the record spans the window boundary');
    const replay = await replayLog(extents, logs, 1);
    assert.deepEqual(
      replay.records.map((r) => r.seq),
      [1, 2, 3],
      `record 2 at ${secondAt}`,
    );
  }
});

void test('a record across a window with a page unreadable in one copy: read from the other, the page listed', async () => {
  const { extents, logs } = await logsAcrossWindow(WINDOW - 64);
  const read = extents.read.bind(extents);
  const bad = WINDOW + PAGE;
  extents.read = async (extent, offset, length) => {
    if (extent === logs[0] && offset <= bad && bad < offset + length) throw new IoError(`injected read error at ${offset}+${length}`);
    return read(extent, offset, length);
  };
  const replay = await replayLog(extents, logs, 1);
  assert.deepEqual(
    replay.records.map((r) => r.seq),
    [1, 2, 3],
  );
  assert.deepEqual(replay.unreadable, [{ copy: 0, extent: logs[0], offset: bad }]);
});

// What replay decodes (log_replay.ts, readCopy): each record once. A record
// of the second copy whose payload is byte for byte the first copy's is
// taken from the first copy's decode; one that differs is decoded on its
// own, so a copy that is whole (its checksum holds) but does not decode is
// still a bad copy, repaired by a roll. Stale records (below the first
// sequence number) are passed by their sequence number alone.

/** Records `seqs` framed back to back from offset 0; `damage(seq, payload)` may change a payload before it is framed. */
function logImage(size: number, seqs: readonly number[], damage: (seq: number, payload: Buffer) => void = () => undefined): Buffer {
  const image = Buffer.alloc(size);
  let at = 0;
  for (const seq of seqs) {
    const mutations = Array.from({ length: 3 }, (_, i) => ({ key: Buffer.from(`key-${seq}-${i}`), value: { sizeBytes: 64, chunks: [{ extent: 2, offset: 64 * i, length: 100 }] } }));
    const payload = encodeMetaRecord({ seq, syncedThroughSeq: seq - 1, extentChanges: [], mutations, runsAdded: [], runsRemoved: [], flushedThroughSeq: 0, dataNames: [] });
    damage(seq, payload);
    const framed = frameChunk(ChunkKind.MetaRecord, [payload], { low: seq, high: 7 }).bytes;
    framed.copy(image, at);
    at = Math.ceil((at + framed.length) / 8) * 8;
  }
  return image;
}

async function logsOf(geometry: Geometry, images: readonly [Buffer, Buffer]): Promise<{ extents: ExtentManager; logs: readonly [number, number] }> {
  const disk = new SimDisk({ sizeBytes: geometry.extentSizeBytes * geometry.extentCount, pageSizeBytes: PAGE, fillSeed: 'replay-twins' });
  const extents = new ExtentManager(geometry, new IoScheduler(disk), 0);
  const logs = [extents.allocate(ExtentOwner.Meta), extents.allocate(ExtentOwner.Meta)] as const;
  for (const [i, e] of logs.entries()) await extents.append(e, images[i] ?? Buffer.alloc(0)).dependency.persisted();
  return { extents, logs };
}

/** The offset of the first mutation's op byte in a logImage payload: seq, synced, extent change count, mutation count, key length, key. */
function firstOpAt(seq: number): number {
  return 8 + 8 + 4 + 4 + 2 + Buffer.from(`key-${seq}-0`).length;
}

void test('a record of the second copy that is whole but differs from the first and does not decode is copy damage', async () => {
  // How: record 2 of copy 1 carries an op byte of 7, framed with a valid
  // checksum. A replay that took copy 1's record from copy 0 by its
  // sequence number alone would find no damage and never repair copy 1.
  const size = GEOMETRY.extentSizeBytes;
  const good = logImage(size, [1, 2, 3]);
  const bad = logImage(size, [1, 2, 3], (seq, payload) => {
    if (seq === 2) payload[firstOpAt(seq)] = 7;
  });
  assert.equal(good.length, bad.length);
  assert.ok(!good.equals(bad));
  const { extents, logs } = await logsOf(GEOMETRY, [good, bad]);
  const replay = await replayLog(extents, logs, 1);
  assert.deepEqual(
    replay.records.map((r) => r.seq),
    [1, 2, 3],
  );
  assert.deepEqual(replay.copyDamage, [{ copy: 1, extent: logs[1], seq: 2 }]);
  // The other way round: copy 0's record is the bad one, copy 1's is believed.
  const swapped = await logsOf(GEOMETRY, [bad, good]);
  const fromSecond = await replayLog(swapped.extents, swapped.logs, 1);
  assert.deepEqual(fromSecond.copyDamage, [{ copy: 0, extent: swapped.logs[0], seq: 2 }]);
  assert.deepEqual(decodeMutations(fromSecond.records[1] ?? assert.fail('record 2')).map((m) => m.key.toString()), ['key-2-0', 'key-2-1', 'key-2-2']);
});

void test('a record of the second copy that differs from the first but decodes is its own record; the first copy is believed', async () => {
  // How: record 2 of copy 1 names another data chunk (a locator offset
  // changed, framed whole). Replay believes copy 0's record and finds no
  // copy missing, as before the second copy was compared byte for byte.
  const size = GEOMETRY.extentSizeBytes;
  const other = logImage(size, [1, 2, 3], (seq, payload) => {
    // After the op: value size u64, locator count u32, the first locator's extent u32, then its offset.
    const offsetAt = firstOpAt(seq) + 1 + 8 + 4 + 4;
    if (seq === 2) payload[offsetAt] = (payload[offsetAt] ?? 0) ^ 0x40;
  });
  const { extents, logs } = await logsOf(GEOMETRY, [logImage(size, [1, 2, 3]), other]);
  const replay = await replayLog(extents, logs, 1);
  assert.deepEqual(replay.copyDamage, []);
  const second = decodeMutations(replay.records[1] ?? assert.fail('record 2'));
  assert.deepEqual(second[0]?.value?.chunks, [{ extent: 2, offset: 0, length: 100 }]);
});

void test('records kept from a read window survive the reuse of its memory for the next windows and the second copy', async () => {
  // How: extents of 3 MiB (three windows, read into one buffer); the
  // records sit in the first window; the rest of each copy is another
  // life's bytes (0xee). Every record's mutations still decode
  // to what was written once both copies were read through the window.
  const geometry: Geometry = { pageSizeBytes: PAGE, extentSizeBytes: 768 * PAGE, extentCount: 4, superblockExtents: 1 };
  const seqs = [4, 5, 6, 7];
  const image = logImage(geometry.extentSizeBytes, seqs);
  image.fill(0xee, 64 * PAGE);
  const { extents, logs } = await logsOf(geometry, [image, image]);
  const replay = await replayLog(extents, logs, 4);
  assert.deepEqual(
    replay.records.map((r) => r.seq),
    seqs,
  );
  for (const r of replay.records) {
    assert.deepEqual(
      decodeMutations(r).map((m) => m.key.toString()),
      [0, 1, 2].map((i) => `key-${r.seq}-${i}`),
    );
  }
});

void test('stale records below the first sequence number are passed over, whole or not decodable', async () => {
  // How: records 1..3 of an earlier life (2 not decodable), then 10..12;
  // replay from 10 believes 10..12 only and reports no damage.
  const size = GEOMETRY.extentSizeBytes;
  const image = logImage(size, [1, 2, 3, 10, 11, 12], (seq, payload) => {
    if (seq === 2) payload[firstOpAt(seq)] = 9;
  });
  const { extents, logs } = await logsOf(GEOMETRY, [image, image]);
  const replay = await replayLog(extents, logs, 10);
  assert.deepEqual(
    replay.records.map((r) => r.seq),
    [10, 11, 12],
  );
  assert.deepEqual(replay.copyDamage, []);
});
