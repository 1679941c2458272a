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
import { encodeMetaRecord } from './metalog_format.js';
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
