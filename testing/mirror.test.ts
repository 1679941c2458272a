// The redundant-runs check (testing/mirror_check.ts) on fixed seeds: every
// chunk of every run (each block, each index root) damaged in one copy, by
// a flipped bit and by unreadable pages, costs nothing and counts a repair
// when it was the primary; damaged in both copies, it gives typed
// CorruptionErrors for the keys that need it, never a wrong or missing
// value; a whole index extent unreadable costs nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRunMirrors } from './mirror_check.js';

void test('one damaged copy of any run chunk is repaired from the other; both damaged is a typed error', async () => {
  const r = await checkRunMirrors({ seed: 'a' });
  assert.deepEqual(r.failures, []);
  assert.ok(r.images >= 40, `only ${r.images} damaged images checked`);
  assert.ok(r.repairs > 0);
  console.log(`# ${r.images} damaged images, ${r.repairs} repairs`);
});
