// tier: quick (npm run test:quick; docs/TESTING.md)
// Checks FrameSlab (frame_slab.ts): frames cut from one slab share its
// memory without overlapping (bytes written to one never show in another),
// each starts 8-byte aligned, a frame that does not fit the rest of a slab
// starts a new one, and a frame above a quarter of a slab gets memory of its
// own (a slab is never held by one large frame).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FRAME_SLAB_BYTES, FrameSlab } from './frame_slab.js';

void test('frames of one slab are disjoint, aligned, and keep their bytes', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: FRAME_SLAB_BYTES / 4 }), { minLength: 1, maxLength: 60 }), (sizes) => {
      const slab = new FrameSlab();
      const frames = sizes.map((n, i) => {
        const f = slab.take(n);
        assert.equal(f.length, n);
        assert.equal(f.byteOffset % 8, 0, 'aligned start');
        f.fill(i & 0xff);
        return f;
      });
      frames.forEach((f, i) => assert.ok(f.every((b) => b === (i & 0xff)), `frame ${i} kept its bytes`));
      for (let i = 1; i < frames.length; i++) {
        const a = frames[i - 1];
        const b = frames[i];
        if (a === undefined || b === undefined || a.buffer !== b.buffer) continue;
        assert.ok(a.byteOffset + a.length <= b.byteOffset, 'no overlap with the frame before');
      }
    }),
    { seed: 0x5eed_f5ab, numRuns: 200 },
  );
});

void test('frames share a slab until it is full; a large frame has its own memory', () => {
  const slab = new FrameSlab();
  const first = slab.take(4152);
  const second = slab.take(4152);
  assert.equal(first.buffer, second.buffer, 'two 4 KiB frames share one slab');
  assert.equal(first.buffer.byteLength, FRAME_SLAB_BYTES);
  const perSlab = Math.floor(FRAME_SLAB_BYTES / 4152);
  let last = second;
  for (let i = 2; i < perSlab; i++) last = slab.take(4152);
  assert.equal(last.buffer, first.buffer, 'the slab holds as many as fit');
  assert.notEqual(slab.take(4152).buffer, first.buffer, 'the next one starts a new slab');
  const large = slab.take(FRAME_SLAB_BYTES / 4 + 8);
  assert.equal(large.buffer.byteLength < FRAME_SLAB_BYTES, true, 'above a quarter of a slab: its own memory');
});

void test('a slab of another size: frames up to a quarter of it share it, larger ones have memory of their own', () => {
  const slab = new FrameSlab(32 * 1024);
  const a = slab.take(4096);
  const b = slab.take(8192);
  assert.equal(a.buffer, b.buffer, 'frames up to 8 KiB share a 32 KiB slab');
  assert.equal(a.buffer.byteLength, 32 * 1024);
  const own = slab.take(8193);
  assert.notEqual(own.buffer, a.buffer, 'above a quarter of the slab: its own memory');
  assert.throws(() => new FrameSlab(16), /slab of 16 bytes/);
});
