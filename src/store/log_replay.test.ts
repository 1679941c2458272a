// tier: quick (npm run test:quick; docs/TESTING.md)
// replayLog's tolerant read (log_replay.ts): after a read error it rereads
// the window page by page and lists the pages the device cannot read; any
// other error during those rereads is a bug or a closed store, never an
// unreadable page, and must reach the caller as itself (else open would
// answer "log damaged" and a repair would drop records that are fine).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IoError } from '../base/index.js';
import { IoScheduler } from '../dependency/index.js';
import { ExtentManager, ExtentOwner } from '../extent/index.js';
import type { Geometry } from '../extent/index.js';
import { replayLog } from './log_replay.js';
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
