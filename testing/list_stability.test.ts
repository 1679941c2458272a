// Paginated listing under concurrent puts and deletes: a node of two
// simulated disks is listed page by page (startAfter = the last key of the
// page before) while other keys are put and deleted between pages and
// during each page's call, and commits, index flushes, compactions and
// reclamations run between pages. A key present for the whole listing is
// returned exactly once, a key absent for the whole listing never, and the
// keys come in strictly ascending order (testing/list_stability.ts). Fixed
// seed; fast-check shrinks a failing schedule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkListingStability } from './list_stability.js';

const CASES = Number(process.env['LIST_STABILITY_RUNS'] ?? 40);

void test(`a paginated listing is stable under concurrent puts and deletes (${CASES} schedules)`, async () => {
  const details = await checkListingStability({ seed: 31337, numRuns: CASES });
  assert.equal(details.failed, false, `seed ${details.seed} path ${details.counterexamplePath ?? '-'}: ${String(details.errorInstance)}`);
});
