// tier: quick (npm run test:quick; docs/TESTING.md)
// Checks crc32c against published CRC-32C (Castagnoli) vectors (RFC 3720
// appendix B.4 and the classic "123456789" check value), that chaining with
// `initial` equals one pass, and that subarray views hash only their bytes;
// crc32cSingleBitError locates one flipped bit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CRC32C_IMPLEMENTATION, crc32c, crc32cFallback, crc32cRange, crc32cSingleBitError } from './checksum.js';

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

/**
 * Sizes where the addon's paths meet (native/crc32c/crc32c.c): three
 * streams of 128, 1,024 and 8,192-byte blocks take inputs of at least
 * 3 x block bytes, one stream the rest; around each threshold, and beyond.
 */
const sizeAcrossStreams = fc.oneof(
  fc.integer({ min: 0, max: 400 }),
  ...[384, 3072, 24576].map((t) => fc.integer({ min: t - 9, max: t + 9 })),
  fc.integer({ min: 0, max: 100_000 }),
);

/** Random bytes of `size` at `offset` into their buffer (views not aligned to 8), and a starting CRC. */
const hashed = fc.record({ size: sizeAcrossStreams, offset: fc.integer({ min: 0, max: 7 }), initial: fc.oneof(fc.constant(0), fc.nat({ max: 0xffffffff })), seed: fc.nat() });

function bytesOf(h: { size: number; offset: number; seed: number }): Uint8Array {
  const buf = new Uint8Array(h.size + h.offset);
  let x = h.seed | 1;
  for (let i = 0; i < buf.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf[i] = x & 0xff;
  }
  return buf.subarray(h.offset);
}

/** Whether `impl` equals @node-rs/crc32 on every drawn input; the first input where not, else undefined. */
function firstDifference(impl: (data: Uint8Array, initial: number) => number): string | undefined {
  const details = fc.check(
    fc.property(hashed, (h) => impl(bytesOf(h), h.initial) === crc32cFallback(bytesOf(h), h.initial)),
    { seed: 0x5eed_0003, numRuns: 400 },
  );
  return details.failed ? JSON.stringify(details.counterexample?.[0]) : undefined;
}

void test(`the crc32c in use (${CRC32C_IMPLEMENTATION}) equals @node-rs/crc32 at every size, offset and starting value`, () => {
  assert.equal(firstDifference(crc32c), undefined);
  // The check reaches the three-stream path: three streams joined without
  // shifting the first over the blocks after it (a wrong combine) differ.
  const unshifted = (data: Uint8Array, initial: number): number => {
    if (data.length < 384) return crc32cFallback(data, initial);
    const third = Math.floor(data.length / 3);
    const parts = [data.subarray(0, third), data.subarray(third, 2 * third), data.subarray(2 * third)];
    return (crc32cFallback(parts[0] ?? new Uint8Array(0), initial) ^ crc32cFallback(parts[1] ?? new Uint8Array(0)) ^ crc32cFallback(parts[2] ?? new Uint8Array(0))) >>> 0;
  };
  assert.notEqual(firstDifference(unshifted), undefined, 'the broken combine was not caught');
});

void test('the native addon is in use where CI expects it (SHARDSTORE_EXPECT_NATIVE_CRC=1, set by .ci/run)', () => {
  // `npm ci` builds native/crc32c as an optional dependency: a build that
  // failed would leave @node-rs/crc32 in use, correct but 4x slower on
  // 1 MiB, and nothing else would say so. CI sets the variable; a machine
  // without a compiler runs the tests without it.
  if (process.env['SHARDSTORE_EXPECT_NATIVE_CRC'] !== '1') return;
  assert.equal(CRC32C_IMPLEMENTATION, 'sse4.2 x3 (native/crc32c)');
});
