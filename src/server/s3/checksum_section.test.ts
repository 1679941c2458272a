// tier: quick (npm run test:quick; docs/TESTING.md)
// The checksum section of object records (checksum_section.ts).
//
// Checks: every checksum of every algorithm and type round-trips, alone and
// inside an object record; the bytes of one are pinned
// (docs/format/s3_records.md, "Checksum section"); damage is a
// CorruptionError; a record written before the section (no sections, or
// others only) reads as keeping no checksum. How: fast-check with a fixed
// seed over algorithms, digests and part counts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { CorruptionError } from '../../base/index.js';
import type { ObjectChecksum } from './checksum_section.js';
import { checksumOf, decodeChecksumSection, decodeUploadChecksumType, encodeChecksumSection, encodeUploadChecksumType, withChecksum } from './checksum_section.js';
import type { ObjectRecord } from './records.js';
import { decodeObject, decodeUpload, encodeObject, encodeUpload } from './records.js';

const SEED = 20261206;
const SIZES = { crc32: 4, crc32c: 4, crc64nvme: 8, sha1: 20, sha256: 32 } as const;
const algorithm = fc.constantFrom(...(Object.keys(SIZES) as Array<keyof typeof SIZES>));
const digest = (size: number): fc.Arbitrary<string> => fc.uint8Array({ minLength: size, maxLength: size }).map((b) => Buffer.from(b).toString('base64'));
const checksum: fc.Arbitrary<ObjectChecksum> = algorithm.chain((a) =>
  fc.oneof(
    digest(SIZES[a]).map((value): ObjectChecksum => ({ algorithm: a, type: 'FULL_OBJECT', value, parts: [] })),
    fc.tuple(digest(SIZES[a]), fc.array(digest(SIZES[a]), { minLength: 1, maxLength: 40 })).map(([value, parts]): ObjectChecksum => ({ algorithm: a, type: 'COMPOSITE', value, parts })),
  ),
);

const plainRecord: ObjectRecord = {
  sizeBytes: 3, mtimeMs: 1_700_000_000_000, etag: 'acbd18db4cc2f85cedef654fccc4a4d8', contentType: 'text/plain',
  headers: [], parts: [], inline: Buffer.from('foo'), tags: [], uploadId: undefined,
};

void test('checksum sections round-trip, alone and in an object record; their bytes are pinned', () => {
  fc.assert(fc.property(checksum, (c) => {
    assert.deepEqual(decodeChecksumSection(encodeChecksumSection(c)), c);
    assert.deepEqual(checksumOf(decodeObject(encodeObject(withChecksum(plainRecord, c)))), c);
  }), { seed: SEED, numRuns: 300 });
  // DO NOT CHANGE: on-disk. version 1, crc32 (1), FULL_OBJECT (1), the digest 0x01020304.
  assert.equal(encodeChecksumSection({ algorithm: 'crc32', type: 'FULL_OBJECT', value: 'AQIDBA==', parts: [] }).toString('hex'), '010101' + '01020304');
  // version 1, crc32c (2), COMPOSITE (2), digest, u16 2 parts, their digests.
  assert.equal(encodeChecksumSection({ algorithm: 'crc32c', type: 'COMPOSITE', value: 'AAAAAQ==', parts: ['AAAAAg==', 'AAAAAw=='] }).toString('hex'), '010202' + '00000001' + '0200' + '00000002' + '00000003');
});

void test('a record without the section keeps no checksum (records written before it read as before)', () => {
  assert.equal(checksumOf(decodeObject(encodeObject(plainRecord))), undefined);
  assert.equal(checksumOf(decodeObject(encodeObject({ ...plainRecord, sections: { lock: Buffer.from('010202', 'hex') } }))), undefined);
  assert.equal(withChecksum(plainRecord, undefined), plainRecord, 'no checksum: the record is unchanged (written byte for byte as before)');
});

void test('damage to a checksum section is a CorruptionError', () => {
  const good = encodeChecksumSection({ algorithm: 'sha1', type: 'COMPOSITE', value: Buffer.alloc(20, 1).toString('base64'), parts: [Buffer.alloc(20, 2).toString('base64')] });
  const damaged = [
    Buffer.concat([Buffer.from([2]), good.subarray(1)]), // unknown version
    Buffer.concat([good.subarray(0, 1), Buffer.from([6]), good.subarray(2)]), // unknown algorithm
    Buffer.concat([good.subarray(0, 2), Buffer.from([3]), good.subarray(3)]), // unknown type
    Buffer.concat([good.subarray(0, 23), Buffer.from([0, 0])]), // zero parts
    good.subarray(0, good.length - 1), // truncated
    Buffer.concat([good, Buffer.from([0])]), // trailing byte
    Buffer.from([1, 1, 1, 0, 0, 0, 0, 0]), // FULL_OBJECT with bytes after its digest
  ];
  for (const bytes of damaged) assert.throws(() => decodeChecksumSection(bytes), CorruptionError, bytes.toString('hex'));
});

void test('the upload checksum type section (upload records only) round-trips in an upload record; its bytes are pinned; damage is a CorruptionError', () => {
  // DO NOT CHANGE: on-disk. version 1, FULL_OBJECT (1).
  assert.equal(encodeUploadChecksumType('FULL_OBJECT').toString('hex'), '0101');
  const upload = { initiatedMs: 5, contentType: '', headers: [], tags: [], checksumAlgorithm: 'crc32', sections: { checksumType: encodeUploadChecksumType('FULL_OBJECT') } };
  const read = decodeUpload(encodeUpload(upload)).sections?.checksumType;
  assert.equal(read === undefined ? undefined : decodeUploadChecksumType(read), 'FULL_OBJECT');
  for (const hex of ['0201', '0103', '0100', '01', '010100']) assert.throws(() => decodeUploadChecksumType(Buffer.from(hex, 'hex')), CorruptionError, hex);
});
