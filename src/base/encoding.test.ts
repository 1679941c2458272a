// tier: quick (npm run test:quick; docs/TESTING.md)
// Checks the binary encoding shared by every on-disk format: what BufWriter
// writes, BufReader reads back unchanged (fast-check over random field
// sequences, fixed seed), and a reader given too few bytes or an
// out-of-range value throws CorruptionError, never a RangeError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BufReader, BufWriter, isAllZero } from './encoding.js';
import { AssertionError } from './assert.js';
import { CorruptionError } from './errors.js';

const SEED = 0x5eed_0001;

type Field =
  | { kind: 'u8' | 'u16' | 'u32' | 'u64'; value: number }
  | { kind: 'bytes' | 'blob' | 'shortBlob'; value: Uint8Array };

const fieldArb: fc.Arbitrary<Field> = fc.oneof(
  fc.record({ kind: fc.constant('u8' as const), value: fc.integer({ min: 0, max: 0xff }) }),
  fc.record({ kind: fc.constant('u16' as const), value: fc.integer({ min: 0, max: 0xffff }) }),
  fc.record({ kind: fc.constant('u32' as const), value: fc.nat({ max: 0xffffffff }) }),
  fc.record({ kind: fc.constant('u64' as const), value: fc.maxSafeNat() }),
  fc.record({ kind: fc.constant('bytes' as const), value: fc.uint8Array({ maxLength: 40 }) }),
  fc.record({ kind: fc.constant('blob' as const), value: fc.uint8Array({ maxLength: 300 }) }),
  fc.record({ kind: fc.constant('shortBlob' as const), value: fc.uint8Array({ maxLength: 40 }) }),
);

function writeField(w: BufWriter, f: Field): void {
  switch (f.kind) {
    case 'u8': w.u8(f.value); break;
    case 'u16': w.u16(f.value); break;
    case 'u32': w.u32(f.value); break;
    case 'u64': w.u64(f.value); break;
    case 'bytes': w.bytes(f.value); break;
    case 'blob': w.blob(f.value); break;
    case 'shortBlob': w.shortBlob(f.value); break;
  }
}

function readField(r: BufReader, f: Field): number | Uint8Array {
  switch (f.kind) {
    case 'u8': return r.u8();
    case 'u16': return r.u16();
    case 'u32': return r.u32();
    case 'u64': return r.u64();
    case 'bytes': return r.bytes(f.value.length);
    case 'blob': return r.blob();
    case 'shortBlob': return r.shortBlob();
  }
}

function sameValue(a: number | Uint8Array, b: number | Uint8Array): boolean {
  if (typeof a === 'number' || typeof b === 'number') return a === b;
  return Buffer.from(a).equals(Buffer.from(b));
}

void test('round trip: every field sequence reads back as written, to the last byte', () => {
  fc.assert(
    fc.property(fc.array(fieldArb, { maxLength: 30 }), fc.integer({ min: 1, max: 64 }), (fields, initialBytes) => {
      // A small initial buffer forces the writer to grow mid-sequence.
      const w = new BufWriter(initialBytes);
      for (const f of fields) writeField(w, f);
      const r = new BufReader(w.finish(), 'test');
      for (const f of fields) assert.ok(sameValue(readField(r, f), f.value), `field ${f.kind}`);
      r.expectEnd();
    }),
    { seed: SEED, numRuns: 300 },
  );
});

void test('overrun: a strict prefix of an encoding fails with CorruptionError, never another error', () => {
  fc.assert(
    fc.property(fc.array(fieldArb, { minLength: 1, maxLength: 12 }), fc.nat(), (fields, cut) => {
      const w = new BufWriter();
      for (const f of fields) writeField(w, f);
      const full = w.finish();
      fc.pre(full.length > 0);
      const r = new BufReader(full.subarray(0, cut % full.length), 'test');
      assert.throws(() => {
        for (const f of fields) readField(r, f);
        r.expectEnd();
      }, CorruptionError);
    }),
    { seed: SEED + 1, numRuns: 300 },
  );
});

void test('random bytes: reading any field sequence throws only CorruptionError', () => {
  // Decoders see arbitrary bytes after a crash: no RangeError, no hang.
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.array(fieldArb, { maxLength: 12 }), (bytes, fields) => {
      const r = new BufReader(Buffer.from(bytes), 'fuzz');
      try {
        for (const f of fields) readField(r, f);
        r.count(1);
      } catch (err: unknown) {
        assert.ok(err instanceof CorruptionError, `unexpected ${String(err)}`);
      }
    }),
    { seed: SEED + 2, numRuns: 500 },
  );
});

void test('u64 above 2^53 and counts the buffer cannot hold are CorruptionError', () => {
  // Checks the two value-range guards directly with hand-built bytes.
  const big = Buffer.alloc(8, 0xff);
  assert.throws(() => new BufReader(big, 'u64').u64(), CorruptionError);
  const count = new BufWriter().u32(5).bytes(new Uint8Array(9)).finish();
  assert.throws(() => new BufReader(count, 'count').count(2), CorruptionError);
  assert.equal(new BufReader(count, 'count').count(1), 5);
  assert.throws(() => new BufReader(Buffer.alloc(3), 'trail').expectEnd(), CorruptionError);
});

void test('writer refuses out-of-range values with AssertionError (never writes a wrapped value)', () => {
  // The writer is the producer side of the pair assertions: bad values stop before the disk.
  assert.throws(() => new BufWriter().u8(256), AssertionError);
  assert.throws(() => new BufWriter().u16(-1), AssertionError);
  assert.throws(() => new BufWriter().u32(2 ** 32), AssertionError);
  assert.throws(() => new BufWriter().u64(2 ** 53), AssertionError);
  assert.throws(() => new BufWriter().u32(1.5), AssertionError);
  const w = new BufWriter().u32(0).u8(7);
  assert.throws(() => w.patchU32(2, 1), AssertionError);
  w.patchU32(0, 0xdeadbeef);
  assert.equal(new BufReader(w.finish(), 'patch').u32(), 0xdeadbeef);
});

void test('growth: a fixed-width field that crosses the initial capacity lands in the grown buffer', () => {
  // Regression: u8/u16/u32 once evaluated `this.buf` before reserve() grew it,
  // so the value went to the old buffer (u8: silently lost; u16/u32: RangeError).
  for (const width of [1, 2, 4] as const) {
    const w = new BufWriter(16).bytes(new Uint8Array(15));
    if (width === 1) w.u8(0xab).u8(0xcd);
    else if (width === 2) w.u16(0xabcd);
    else w.u32(0xabcdef01);
    const r = new BufReader(w.finish(), 'growth');
    r.bytes(15);
    const got = width === 1 ? [r.u8(), r.u8()] : [width === 2 ? r.u16() : r.u32()];
    assert.deepEqual(got, width === 1 ? [0xab, 0xcd] : [width === 2 ? 0xabcd : 0xabcdef01]);
    r.expectEnd();
  }
});

// isAllZero: against the byte-by-byte definition on buffers around its
// 16 KiB comparison piece, with one nonzero byte anywhere (first, last, at a
// piece boundary) or none.
test('isAllZero agrees with a byte-by-byte scan, at every length and position', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 40_000 }), fc.option(fc.nat(), { nil: undefined }), fc.integer({ min: 1, max: 255 }), (length, at, value) => {
      const bytes = new Uint8Array(length);
      if (at !== undefined && length > 0) bytes[at % length] = value;
      assert.equal(isAllZero(bytes), bytes.every((b) => b === 0));
    }),
    { seed: SEED, numRuns: 300 },
  );
  for (const at of [0, 16 * 1024 - 1, 16 * 1024, 32 * 1024 + 5, 40_000 - 1]) {
    const bytes = new Uint8Array(40_000);
    bytes[at] = 1;
    assert.equal(isAllZero(bytes), false, `a nonzero byte at ${at}`);
  }
  assert.equal(isAllZero(new Uint8Array(40_000)), true);
  assert.equal(isAllZero(new Uint8Array(0)), true);
});
