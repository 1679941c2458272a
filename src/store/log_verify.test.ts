// tier: quick (npm run test:quick; docs/TESTING.md)
// LogVerifier.checkRecord (log_verify.ts) reads a record's named data chunks
// several at a time but judges them in their order, exactly as one by one:
// the first chunk that is not whole is the verdict (torn), the damaged ones
// before it are reported, nothing after it counts.
// How: 80 data chunks in one extent (more than one batch of reads), some
// torn (garbage over the middle) and some one bit from whole (damaged), in
// different places; the verdict against a one-by-one judge of the same bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHUNK_OVERHEAD_BYTES, ChunkKind, frameChunk } from '../chunk/index.js';
import { IoScheduler } from '../dependency/index.js';
import { ExtentManager, ExtentOwner } from '../extent/index.js';
import type { Geometry } from '../extent/index.js';
import { LogVerifier } from './log_verify.js';
import { decodeMetaRecordHead, encodeMetaRecord } from './metalog_format.js';
import type { DataName } from './metalog_format.js';
import { SimDisk } from '../../testing/sim_disk.js';

const PAGE = 4096;
const GEOMETRY: Geometry = { pageSizeBytes: PAGE, extentSizeBytes: 64 * PAGE, extentCount: 4, superblockExtents: 1 };
const CHUNKS = 80;

async function verifierWith(damage: { torn: readonly number[]; flipped: readonly number[] }): Promise<{ verifier: LogVerifier; names: DataName[] }> {
  const disk = new SimDisk({ sizeBytes: GEOMETRY.extentSizeBytes * GEOMETRY.extentCount, pageSizeBytes: PAGE, fillSeed: 'verify-batches' });
  const extents = new ExtentManager(GEOMETRY, new IoScheduler(disk), 0);
  const extent = extents.allocate(ExtentOwner.Data);
  const image = Buffer.alloc(GEOMETRY.extentSizeBytes);
  const names: DataName[] = [];
  let at = 0;
  for (let i = 0; i < CHUNKS; i++) {
    const id = { low: 1000 + i, high: 7 };
    const key = Buffer.from(`k${i}`);
    const payload = Buffer.concat([Buffer.from([key.length, 0]), key, Buffer.alloc(200 + i, i)]);
    const bytes = frameChunk(ChunkKind.Data, [payload], id).bytes;
    if (damage.torn.includes(i)) bytes.fill(0x5c, 40, 120);
    if (damage.flipped.includes(i)) bytes[60] = (bytes[60] ?? 0) ^ 0x10;
    bytes.copy(image, at);
    // The framed length (the frame's bytes may carry padding to the next aligned offset).
    const length = CHUNK_OVERHEAD_BYTES + payload.length;
    names.push({ locator: { extent, offset: at, length }, id });
    at = Math.ceil((at + length) / 8) * 8;
  }
  await extents.append(extent, image).dependency.persisted();
  return { verifier: new LogVerifier(extents), names };
}

function headNaming(names: readonly DataName[]): ReturnType<typeof decodeMetaRecordHead> {
  return decodeMetaRecordHead(encodeMetaRecord({ seq: 9, syncedThroughSeq: 8, extentChanges: [], mutations: [], runsAdded: [], runsRemoved: [], flushedThroughSeq: 0, dataNames: names }));
}

void test('a record\'s named chunks are judged in order across batches of reads: the first torn one decides, damaged ones before it count', async () => {
  const cases = [
    { torn: [], flipped: [] },
    { torn: [45], flipped: [3, 50] },
    { torn: [70, 2], flipped: [1] },
    { torn: [33, 34], flipped: [31, 32, 79] },
    { torn: [], flipped: [0, 40, 79] },
  ];
  for (const damage of cases) {
    const { verifier, names } = await verifierWith(damage);
    const oneByOne: { torn?: string; damaged: { locator: DataName['locator']; reason: string }[] } = { damaged: [] };
    for (const name of names) {
      const check = await verifier.checkData(name);
      if (check.state === 'torn') {
        oneByOne.torn = `record 9: ${check.reason}`;
        break;
      }
      if (check.state === 'damaged') oneByOne.damaged.push({ locator: name.locator, reason: check.reason });
    }
    const firstTorn = Math.min(...damage.torn, CHUNKS);
    assert.equal(oneByOne.damaged.length, damage.flipped.filter((i) => i < firstTorn).length, `the judge sees the damage of ${JSON.stringify(damage)}`);
    assert.equal(oneByOne.torn === undefined, damage.torn.length === 0, `${JSON.stringify(damage)}: ${oneByOne.torn}`);
    assert.deepEqual(await verifier.checkRecord(headNaming(names)), oneByOne, JSON.stringify(damage));
  }
});
