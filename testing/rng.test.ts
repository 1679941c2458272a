// tier: quick (npm run test:quick; docs/TESTING.md)
// Checks the harness PRNG: a seed replays exactly, different seeds and
// forks give different streams, forks do not depend on how much the parent
// drew, and int/float/bool/pick/bytes stay in range with roughly uniform
// frequencies (loose chi-square bounds, fixed seeds so never flaky).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from './rng.js';

function draw(rng: Rng, n: number): number[] {
  return Array.from({ length: n }, () => rng.nextU32());
}

void test('same seed, same stream; different seeds differ', () => {
  assert.deepEqual(draw(new Rng(42), 100), draw(new Rng(42), 100));
  assert.deepEqual(draw(new Rng('replay-token'), 50), draw(new Rng('replay-token'), 50));
  assert.notDeepEqual(draw(new Rng(42), 10), draw(new Rng(43), 10));
  assert.notDeepEqual(draw(new Rng('a'), 10), draw(new Rng('b'), 10));
  // Seed 0 must not be a degenerate state.
  const zero = draw(new Rng(0), 20);
  assert.ok(new Set(zero).size === 20 && zero.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32));
});

void test('fork: independent of parent draws, distinct per label and per repeat', () => {
  const a = new Rng(7);
  const b = new Rng(7);
  draw(b, 1000); // the parent's position must not matter
  assert.deepEqual(draw(a.fork('disk'), 20), draw(b.fork('disk'), 20));
  assert.notDeepEqual(draw(a.fork('sched'), 20), draw(new Rng(7).fork('disk'), 20));
  const c = new Rng(7);
  assert.notDeepEqual(draw(c.fork('x'), 10), draw(c.fork('x'), 10));
  assert.equal(new Rng(7).fork('x').fork('y').path, '7/x/y');
  // Forking does not consume the parent's stream either.
  const d = new Rng(9);
  d.fork('z');
  assert.deepEqual(draw(d, 5), draw(new Rng(9), 5));
});

void test('clone continues identically', () => {
  const a = new Rng(11);
  draw(a, 33);
  const b = a.clone();
  assert.deepEqual(draw(a, 50), draw(b, 50));
  assert.deepEqual(draw(a.fork('f'), 5), draw(b.fork('f'), 5));
});

void test('int: bounds inclusive, uniform, wide ranges', () => {
  const rng = new Rng(1);
  const counts = new Array<number>(6).fill(0);
  const n = 60_000;
  for (let i = 0; i < n; i++) {
    const v = rng.int(-2, 3);
    assert.ok(v >= -2 && v <= 3 && Number.isInteger(v));
    counts[v + 2] = (counts[v + 2] ?? 0) + 1;
  }
  const expected = n / 6;
  const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
  assert.ok(chi2 < 25, `chi2 ${chi2} too large for 5 degrees of freedom`);
  assert.equal(rng.int(5, 5), 5);
  for (let i = 0; i < 1000; i++) {
    const v = rng.int(0, Number.MAX_SAFE_INTEGER);
    assert.ok(Number.isSafeInteger(v) && v >= 0);
    const w = rng.int(2 ** 40, 2 ** 40 + 2 ** 33);
    assert.ok(w >= 2 ** 40 && w <= 2 ** 40 + 2 ** 33);
  }
  assert.throws(() => rng.int(3, 2));
  assert.throws(() => rng.int(0.5, 2));
});

void test('float, bool, pick, shuffle, bytes', () => {
  const rng = new Rng('helpers');
  let trues = 0;
  for (let i = 0; i < 10_000; i++) {
    const f = rng.float();
    assert.ok(f >= 0 && f < 1);
    if (rng.bool(0.25)) trues++;
  }
  assert.ok(trues > 2200 && trues < 2800, `bool(0.25) gave ${trues}/10000`);
  assert.equal(rng.bool(0), false);
  assert.equal(rng.bool(1), true);
  const items = ['a', 'b', 'c'] as const;
  const seen = new Set<string>();
  for (let i = 0; i < 100; i++) seen.add(rng.pick(items));
  assert.equal(seen.size, 3);
  assert.throws(() => rng.pick([]));
  const deck = Array.from({ length: 20 }, (_, i) => i);
  const shuffled = rng.shuffle([...deck]);
  assert.deepEqual([...shuffled].sort((x, y) => x - y), deck);
  assert.notDeepEqual(shuffled, deck);
  for (const n of [0, 1, 3, 4, 7, 4096]) assert.equal(rng.bytes(n).length, n);
  assert.deepEqual(new Rng(3).bytes(7), new Rng(3).bytes(7));
});

void test('bytes: the little-endian words of nextU32, the last one cut short', () => {
  // Pins the byte stream: the disk's garbage pages and torn pages replay from it.
  for (const n of [0, 1, 5, 8, 4095]) {
    const words = draw(new Rng('bytes'), Math.ceil(n / 4));
    const expected = Buffer.alloc(words.length * 4);
    words.forEach((w, i) => expected.writeUInt32LE(w, 4 * i));
    assert.deepEqual(new Rng('bytes').bytes(n), expected.subarray(0, n));
  }
  const rng = new Rng(5);
  rng.bytes(13);
  const after = new Rng(5);
  draw(after, 4);
  assert.equal(rng.nextU32(), after.nextU32(), 'bytes(13) consumes exactly four words');
});
