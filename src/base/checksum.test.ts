// tier: quick (npm run test:quick; docs/TESTING.md)
// Checks crc32c against published CRC-32C (Castagnoli) vectors (RFC 3720
// appendix B.4 and the classic "123456789" check value), that chaining with
// `initial` equals one pass, and that subarray views hash only their bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { crc32c } from './checksum.js';

void test('known vectors', () => {
  assert.equal(crc32c(Buffer.from('123456789', 'ascii')), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(0)), 0);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
});

void test('result is an unsigned 32-bit integer', () => {
  const v = crc32c(Buffer.from('123456789', 'ascii'));
  assert.ok(Number.isInteger(v) && v >= 0 && v <= 0xffffffff);
});

void test('chaining: crc(a ++ b) === crc(b, crc(a))', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 }), (a, b) => {
      const whole = Buffer.concat([a, b]);
      assert.equal(crc32c(b, crc32c(a)), crc32c(whole));
    }),
    { seed: 0x5eed_0002, numRuns: 200 },
  );
});

void test('a subarray view hashes only its own bytes', () => {
  // Buffers from a pool share an ArrayBuffer: the offset must be honoured.
  const outer = Buffer.from('xx123456789yy', 'ascii');
  assert.equal(crc32c(outer.subarray(2, 11)), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(outer.buffer, outer.byteOffset + 2, 9)), 0xe3069283);
});
