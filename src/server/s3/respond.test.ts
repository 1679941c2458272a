// tier: quick (npm run test:quick; docs/TESTING.md)
// The answer helpers (respond.ts): httpTime keeps the last second it
// formatted, so checks that any sequence of times, in and out of order and
// within and across seconds (negative ones too), formats as Date does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { httpTime } from './respond.js';

void test('httpTime formats every time as Date.toUTCString, whatever came before', () => {
  const near = fc.integer({ min: -3_000, max: 3_000 });
  fc.assert(
    fc.property(fc.integer({ min: -8.64e12, max: 8.64e12 }), fc.array(near, { maxLength: 20 }), (start, steps) => {
      let ms = start;
      for (const step of [0, ...steps]) {
        ms += step;
        assert.equal(httpTime(ms), new Date(ms).toUTCString(), `at ${ms}`);
      }
    }),
    { seed: 20261207, numRuns: 300 },
  );
});
