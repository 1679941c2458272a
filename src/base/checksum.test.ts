// tier: quick (npm run test:quick; docs/TESTING.md)
// Checks crc32c against published CRC-32C (Castagnoli) vectors (RFC 3720
// appendix B.4 and the classic "123456789" check value), that chaining with
// `initial` equals one pass, and that subarray views hash only their bytes;
// crc32cSingleBitError locates one flipped bit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { crc32c, crc32cRange, crc32cSingleBitError } from './checksum.js';

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

void test('crc32cSingleBitError: finds the one flipped bit of the data or of the checksum; nothing for more or none', () => {
  // How: 300 random buffers (fixed seed, 1 B .. 7 KB), one bit flipped at a
  // position that walks the buffer: found exactly. A flip of the stored CRC
  // is told apart; two flipped bits in the data (the CRC's Hamming distance
  // is 4 at these sizes) and an intact buffer give undefined.
  let seed = 12345;
  const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  for (let t = 0; t < 300; t++) {
    const n = 1 + ((t * 37) % 7000);
    const data = Buffer.from(Array.from({ length: n }, () => next() & 0xff));
    const crc = crc32c(data);
    assert.equal(crc32cSingleBitError(data, crc), undefined);
    const bit = (t * 7919) % (n * 8);
    const flipped = Buffer.from(data);
    flipped[bit >> 3] = (flipped[bit >> 3] ?? 0) ^ (1 << (bit & 7));
    assert.deepEqual(crc32cSingleBitError(flipped, crc), { in: 'data', bit });
    assert.deepEqual(crc32cSingleBitError(data, (crc ^ (1 << (t % 32))) >>> 0), { in: 'checksum' });
    if (n * 8 > 1 && n < 4000) {
      const other = (bit + 1 + (t % (n * 8 - 1))) % (n * 8);
      if (other !== bit) {
        flipped[other >> 3] = (flipped[other >> 3] ?? 0) ^ (1 << (other & 7));
        assert.equal(crc32cSingleBitError(flipped, crc), undefined, `two bits ${bit}, ${other} of ${n} bytes`);
      }
    }
  }
});

void test('crc32cRange equals crc32c of the same bytes, short ranges in JavaScript and long ones native', () => {
  assert.equal(crc32cRange(Buffer.from('xx123456789yy', 'ascii'), 2, 11), 0xe3069283);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 160 }), fc.nat(), fc.nat(), (bytes, a, b) => {
      const start = bytes.length === 0 ? 0 : a % (bytes.length + 1);
      const end = start + (b % (bytes.length - start + 1));
      assert.equal(crc32cRange(bytes, start, end), crc32c(bytes.subarray(start, end)));
    }),
    { seed: 0x5eed_0007, numRuns: 500 },
  );
});
