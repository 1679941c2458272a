// Broken variants of the S3 lifecycle pass (src/server/s3/lifecycle_pass.ts),
// caught by the lifecycle check (testing/lifecycle_check.ts; asserted in
// testing/lifecycle_check.test.ts):
//   - lifecycle-ignores-filter-prefix: a rule's prefix admits every key, so
//     a rule for `logs/` expires the whole bucket;
//   - lifecycle-deletes-overwritten-object: the pass deletes what it listed
//     without confirming, under the object's lock, that the object is still
//     that version and still due, so a PUT acknowledged between the pass's
//     listing and its delete is lost.
// Each replaces one method of LifecycleRules, the seam the pass decides
// through; src/ carries no test hooks.
import { LifecycleRules } from '../../src/server/s3/lifecycle.js';
import type { Mutant } from './mutant.js';
import { patch } from './mutant.js';

export const lifecycleIgnoresFilterPrefix: Mutant = {
  name: 'lifecycle-ignores-filter-prefix',
  bugClass: "a lifecycle rule's prefix filter is ignored: a rule for one prefix expires objects and aborts uploads of every key",
  caughtBy: 'lifecycle',
  expect: /the pass removed a version no rule expires/,
  install: () =>
    patch(LifecycleRules.prototype, 'prefixMatches', () =>
      function (this: LifecycleRules): boolean {
        // Deliberately admits every key.
        return true;
      },
    ),
};

export const lifecycleDeletesOverwrittenObject: Mutant = {
  name: 'lifecycle-deletes-overwritten-object',
  bugClass: 'the lifecycle pass deletes the object it listed without confirming under the lock that it is still that version: a PUT committed meanwhile is lost',
  caughtBy: 'lifecycle',
  expect: /the object overwritten during the pass was expired/,
  install: () =>
    patch(LifecycleRules.prototype, 'stillDue', () =>
      function (this: LifecycleRules): boolean {
        // Deliberately trusts the listing.
        return true;
      },
    ),
};

export const LIFECYCLE_MUTANTS: readonly Mutant[] = [lifecycleIgnoresFilterPrefix, lifecycleDeletesOverwrittenObject];
