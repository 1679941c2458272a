// The bench's get contract (bench/engines/engine.ts, KvEngine.get): a get
// delivers the value into a buffer the caller owns, as the raw pread and
// every peer do, so a get row is not a reference handed out of a cache
// timed as a read (the warm 1 MiB row once measured 300 GB/s that way).
//
// Strategy: two in-memory engines over one cache of stamped values, one
// that copies on get and one that returns the cached buffer itself (the
// broken variant: what DiskStore.get does without the bench adapter's
// copy). Each is read twice per key through takeValue, the check every
// measured get of engine_worker.ts makes. The copying engine must pass every
// read; the sharing one must fail the second read of each key, by the stamp
// the first read scribbled over (not by any other difference).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkValue, makeValue, takeValue } from '../bench/lib/task.js';

const KEYS = 8;
const SIZE_BYTES = 4096;

function cache(): Buffer[] {
  const base = Buffer.alloc(SIZE_BYTES, 0x5a);
  return Array.from({ length: KEYS }, (_, i) => makeValue(base, i));
}

function readTwice(get: (i: number) => Buffer): Array<[boolean, boolean]> {
  return Array.from({ length: KEYS }, (_, i) => [takeValue(get(i), i, SIZE_BYTES), takeValue(get(i), i, SIZE_BYTES)]);
}

void test('a get that copies passes every read, and its cache keeps the stamps', () => {
  const values = cache();
  const results = readTwice((i) => Buffer.from(values[i] ?? Buffer.alloc(0)));
  assert.deepEqual(results, Array.from({ length: KEYS }, () => [true, true]));
  values.forEach((v, i) => assert.ok(checkValue(v, i, SIZE_BYTES), `cached value ${i} untouched`));
});

void test('broken variant: a get that hands out its cached buffer fails the second read of each key', () => {
  const values = cache();
  const results = readTwice((i) => values[i] ?? Buffer.alloc(0));
  assert.deepEqual(results, Array.from({ length: KEYS }, () => [true, false]));
  // The failure is the scribbled stamp, nothing else: restore it and the value checks again.
  values.forEach((v, i) => {
    assert.ok(!checkValue(v, i, SIZE_BYTES));
    v.writeUInt32LE(i, 0);
    assert.ok(checkValue(v, i, SIZE_BYTES));
  });
});
