// tier: quick (npm run test:quick; docs/TESTING.md)
// The record sections (records.ts, format v4 of object records and v3 of
// upload records): each feature's bytes come back whole under its own name,
// a record without sections keeps its older version byte for byte, and a
// frame a correct writer never makes is a CorruptionError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CorruptionError, crc32c } from '../../base/index.js';
import { decodeBucket, decodeObject, decodeUpload, encodeBucket, encodeObject, encodeUpload, RecordSection } from './records.js';
import type { ObjectRecord } from './records.js';

const base: ObjectRecord = { sizeBytes: 3, mtimeMs: 1_700_000_000_000, etag: 'abc', contentType: 'text/plain', headers: [], parts: [], inline: Buffer.from('xyz'), tags: [], uploadId: undefined };
const rank = Buffer.alloc(16, 0x5a);

function reseal(b: Buffer): Buffer {
  b.writeUInt32LE(crc32c(b.subarray(0, b.length - 4)), b.length - 4);
  return b;
}

void test('object record: sections make format 4 and come back by name, with or without a stamp', () => {
  const lock = Buffer.from([1, 2, 3]);
  const encryption = Buffer.from('params');
  for (const version of [undefined, { rank, isNull: false, deleteMarker: false }]) {
    const bytes = encodeObject({ ...base, version, sections: { lock, encryption } });
    assert.equal(bytes[4], 4);
    const back = decodeObject(bytes);
    assert.deepEqual(back.sections, { lock, encryption });
    assert.deepEqual(back.version, version);
    assert.deepEqual(back.inline, base.inline);
    assert.deepEqual(decodeObject(encodeObject({ ...base, version, sections: { encryption } })).sections, { encryption });
  }
});

void test('object record: no sections (absent or empty) writes the older format byte for byte', () => {
  const old = encodeObject(base);
  assert.equal(old[4], 1);
  assert.deepEqual(encodeObject({ ...base, sections: {} }), old);
  const stamped = encodeObject({ ...base, version: { rank, isNull: true, deleteMarker: false } });
  assert.equal(stamped[4], 3);
  assert.equal(decodeObject(stamped).sections, undefined);
});

void test('object record: an unknown section number, a repeated one, an empty list or the stamped flag before v4 is a CorruptionError', () => {
  const bytes = encodeObject({ ...base, sections: { lock: Buffer.from([7]) } });
  // The section list is the last thing before the CRC: u8 count, u8 number, u32 length, 1 byte.
  const numberAt = bytes.length - 4 - 1 - 4 - 1;
  assert.equal(bytes[numberAt], RecordSection.lock);
  const unknown = Buffer.from(bytes);
  unknown[numberAt] = 9;
  assert.throws(() => decodeObject(reseal(unknown)), (e: unknown) => e instanceof CorruptionError && /unknown section 9/.test(e.message));
  const empty = Buffer.from(bytes);
  empty[numberAt - 1] = 0;
  assert.throws(() => decodeObject(reseal(empty)), CorruptionError);
  const repeated = encodeObject({ ...base, sections: { lock: Buffer.from([7]), encryption: Buffer.from([8]) } });
  const second = repeated.length - 4 - 1 - 4 - 1;
  repeated[second] = RecordSection.lock;
  assert.throws(() => decodeObject(reseal(repeated)), (e: unknown) => e instanceof CorruptionError && /out of order or repeated/.test(e.message));
  const v1flag = encodeObject(base);
  v1flag[5] = (v1flag[5] ?? 0) | 4;
  assert.throws(() => decodeObject(reseal(v1flag)), CorruptionError);
});

void test('upload record: sections make format 3 and come back; none keeps the older format', () => {
  const upload = { initiatedMs: 5, contentType: 'x/y', headers: [], tags: [], checksumAlgorithm: '' } as const;
  assert.equal(encodeUpload(upload)[4], 1);
  const bytes = encodeUpload({ ...upload, sections: { lock: Buffer.from('L') } });
  assert.equal(bytes[4], 3);
  assert.deepEqual(decodeUpload(bytes).sections, { lock: Buffer.from('L') });
  assert.equal(decodeUpload(encodeUpload(upload)).sections, undefined);
});

void test('bucket record: the EU flag makes format 3 (tags kept) and reads back; without it format 1 or 2 as before; a flags byte a writer never makes is damage', () => {
  const plain = encodeBucket({ createdMs: 7, tags: [] });
  assert.equal(plain[4], 1);
  assert.deepEqual(decodeBucket(plain), { createdMs: 7, tags: [] });
  assert.equal(encodeBucket({ createdMs: 7, tags: [['a', 'b']] })[4], 2);
  for (const tags of [[], [['a', 'b']]] as const) {
    const eu = encodeBucket({ createdMs: 7, tags, legacyEu: true });
    assert.equal(eu[4], 3);
    assert.deepEqual(decodeBucket(eu), { createdMs: 7, tags, legacyEu: true });
    for (const flags of [0, 2, 3]) {
      const bad = Buffer.from(eu);
      bad[bad.length - 5] = flags;
      assert.throws(() => decodeBucket(reseal(bad)), CorruptionError);
    }
  }
});
