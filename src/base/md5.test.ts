// tier: quick (npm run test:quick; docs/TESTING.md)
// Checks Md5Stream against createHash('md5') over the same bytes, cut into
// pieces at random (fixed seed), on the pool and on the event loop; that a
// large body goes to the pool and a small one does not; that backlog()
// asks the caller to wait once the pool is behind, and not after; that a
// stream is used once. CI requires native/md5 (SHARDSTORE_EXPECT_NATIVE_MD5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { BACKLOG_MAX_BYTES, MD5_OFF_LOOP, Md5Stream, OFF_LOOP_MIN_BYTES } from './md5.js';

const native = MD5_OFF_LOOP === 'thread pool (native/md5)';

/** `bytes` cut at the given fractions. */
function cut(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const to of [...at, bytes.length]) {
    out.push(bytes.subarray(from, to));
    from = to;
  }
  return out;
}

void test('the digest is the MD5 of the pieces in order, on the pool and on the event loop', async () => {
  await fc.assert(
    fc.asyncProperty(
      // Small bodies, and bodies of one to three hand-overs and a remainder.
      fc.oneof(fc.integer({ min: 0, max: 8192 }), fc.integer({ min: OFF_LOOP_MIN_BYTES, max: 3 * OFF_LOOP_MIN_BYTES + 1000 })),
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 40 }),
      fc.integer({ min: 0, max: 255 }),
      fc.boolean(),
      async (size, cuts, seed, offLoop) => {
        const bytes = Buffer.alloc(size);
        for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed + (i >> 8)) & 0xff;
        const s = new Md5Stream(offLoop);
        for (const piece of cut(bytes, cuts)) s.update(piece);
        assert.deepEqual(await s.digest(), createHash('md5').update(bytes).digest());
      },
    ),
    { seed: 20261208, numRuns: 60 },
  );
});

void test('a large body is hashed on the pool where native/md5 built; a small one, and offLoop false, never', async (t) => {
  if (!native) {
    t.skip('native/md5 did not build here (CI requires it: the last test)');
    return;
  }
  const large = new Md5Stream();
  for (let i = 0; i < 16; i++) large.update(Buffer.alloc(64 * 1024, i));
  assert.ok(large.handOvers >= 3, `handOvers ${large.handOvers}`);
  await large.digest();
  const small = new Md5Stream();
  small.update(Buffer.alloc(4096, 1));
  assert.deepEqual(await small.digest(), createHash('md5').update(Buffer.alloc(4096, 1)).digest());
  assert.equal(small.handOvers, 0);
  const here = new Md5Stream(false);
  here.update(Buffer.alloc(OFF_LOOP_MIN_BYTES * 2, 2));
  await here.digest();
  assert.equal(here.handOvers, 0);
});

void test('backlog: past BACKLOG_MAX_BYTES not hashed yet, the caller is asked to wait, and the wait ends with the pool caught up', async (t) => {
  if (!native) {
    t.skip('native/md5 did not build here');
    return;
  }
  const s = new Md5Stream();
  const piece = Buffer.alloc(OFF_LOOP_MIN_BYTES, 3);
  const whole = createHash('md5');
  assert.equal(s.backlog(), undefined);
  let given = 0;
  while (given <= BACKLOG_MAX_BYTES) {
    s.update(piece);
    whole.update(piece);
    given += piece.length;
  }
  const wait = s.backlog();
  assert.notEqual(wait, undefined, 'more than BACKLOG_MAX_BYTES queued synchronously: the caller must wait');
  await wait;
  assert.equal(s.backlog(), undefined);
  assert.deepEqual(await s.digest(), whole.digest());
});

void test('a stream gives one digest and takes nothing after it', async () => {
  for (const offLoop of [true, false]) {
    const s = new Md5Stream(offLoop);
    s.update(Buffer.from('abc'));
    assert.equal((await s.digest()).toString('hex'), '900150983cd24fb0d6963f7d28e17f72');
    await assert.rejects(s.digest(), /twice/);
    assert.throws(() => s.update(Buffer.from('d')), /after digest/);
  }
});

void test('native/md5 is in use where CI expects it (SHARDSTORE_EXPECT_NATIVE_MD5=1, set by .ci/run)', () => {
  // `npm ci` builds native/md5 as an optional dependency: a build that
  // failed would leave MD5 on the event loop, correct but in the way of
  // other requests, and nothing else would say so.
  if (process.env['SHARDSTORE_EXPECT_NATIVE_MD5'] !== '1') return;
  assert.equal(MD5_OFF_LOOP, 'thread pool (native/md5)');
});
