// tier: quick (npm run test:quick; docs/TESTING.md)
// crc_combine.ts: the CRC of two (or more) byte strings joined equals the
// one combined from their CRCs and lengths, for the three CRCs S3 uses.
// Strategy: fast-check with a fixed seed draws byte strings (empty ones
// included, and lengths around powers of two, where the shift operator's
// bits change); each is checked against checksums.ts computing the CRC of
// the joined bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { combinedCrc, isCombinable } from './crc_combine.js';
import { newChecksum } from './checksums.js';
import type { ChecksumAlgorithm } from './checksums.js';

const CRCS: readonly ChecksumAlgorithm[] = ['crc32', 'crc32c', 'crc64nvme'];

function crcOf(algorithm: ChecksumAlgorithm, bytes: Buffer): string {
  const c = newChecksum(algorithm);
  c.update(bytes);
  return c.digest();
}

void test('the combined CRC of pieces is the CRC of their concatenation (CRC32, CRC32C, CRC64NVME)', () => {
  const piece = fc.oneof(fc.uint8Array({ maxLength: 70 }), fc.integer({ min: 0, max: 5 }).chain((k) => fc.uint8Array({ minLength: (1 << (k + 5)) - 1, maxLength: (1 << (k + 5)) + 1 })));
  fc.assert(
    fc.property(fc.constantFrom(...CRCS), fc.array(piece, { minLength: 1, maxLength: 5 }), (algorithm, arrays) => {
      const pieces = arrays.map((a) => Buffer.from(a));
      const combined = combinedCrc(algorithm, pieces.map((p) => ({ value: crcOf(algorithm, p), sizeBytes: p.length })));
      assert.equal(combined, crcOf(algorithm, Buffer.concat(pieces)));
    }),
    { seed: 1612, numRuns: 300 },
  );
});

void test('SHA digests do not combine', () => {
  assert.deepEqual(['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'].map((a) => isCombinable(a as ChecksumAlgorithm)), [true, true, true, false, false]);
});

void test('a multipart upload\'s FULL_OBJECT CRC: the parts\' CRCs combined equal the CRC of the whole object, for random part splits of it', () => {
  // What CompleteMultipartUpload does (multipart.ts, fullObjectChecksumOf): one object, cut where the parts end.
  fc.assert(
    fc.property(fc.constantFrom(...CRCS), fc.uint8Array({ minLength: 0, maxLength: 4096 }), fc.array(fc.nat(4096), { maxLength: 8 }), (algorithm, array, cutsDrawn) => {
      const whole = Buffer.from(array);
      const cuts = [...new Set(cutsDrawn.map((c) => c % (whole.length + 1)))].sort((a, b) => a - b);
      const ends = [...cuts, whole.length];
      const parts = ends.map((end, i) => whole.subarray(i === 0 ? 0 : ends[i - 1], end));
      const combined = combinedCrc(algorithm, parts.map((p) => ({ value: crcOf(algorithm, p), sizeBytes: p.length })));
      assert.equal(combined, crcOf(algorithm, whole));
    }),
    { seed: 2026, numRuns: 200 },
  );
});
