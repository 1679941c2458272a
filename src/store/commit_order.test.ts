// tier: quick (npm run test:quick; docs/TESTING.md)
// Checks inKeyOrder (commit_log.ts), the order of a cycle's mutations in
// its record and in the index's apply: sorting the map keys (keyString,
// one latin1 char per byte) gives the order Buffer.compare gives the keys,
// for keys of any bytes (0x00 and 0x80-0xff too) and any prefix relations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { inKeyOrder, keyString } from './commit_log.js';

void test('a cycle sorts its mutations as Buffer.compare sorts their keys', () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.uint8Array({ minLength: 1, maxLength: 6 }), { maxLength: 80, selector: (k) => Buffer.from(k).toString('hex') }), (raw) => {
      const keys = raw.map((k) => Buffer.from(k));
      const byString = new Map(keys.map((k) => [keyString(k), k]));
      const want = [...keys].sort((a, b) => Buffer.compare(a, b));
      assert.deepEqual(inKeyOrder(byString), want);
    }),
    { seed: 0x5eed_0c7d, numRuns: 300 },
  );
});
