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
import type { Core } from '../../src/server/s3/core.js';
import { LifecycleRules } from '../../src/server/s3/lifecycle.js';
import type { ObjectRecord } from '../../src/server/s3/records.js';
import { encodeObject } from '../../src/server/s3/records.js';
import { versionShardKey } from '../../src/server/s3/shard_keys.js';
import { VersionRules, stampOf } from '../../src/server/s3/versioning.js';
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

/**
 * Not registered (its catch depends on where random version ids land, so
 * no seed fixes it): a versioned write, the lifecycle pass's delete marker
 * among them, keeps the version it replaces without waiting for the copy
 * to be durable, so a power cut can leave the marker durable and the
 * version it hides lost. Caught by testing/s3_lifecycle_crash.test.ts.
 */
export const lifecycleMarkerOverUnkeptVersion = {
  name: 'lifecycle-marker-over-unkept-version',
  bugClass: 'a delete marker made durable before the copy of the version it hides: a crash loses that version',
  expect: /the newest version \S+ is gone/,
  install: (): (() => void) =>
    patch(
      VersionRules.prototype,
      'keep',
      () =>
        async function (this: VersionRules, core: Core, target: { readonly bucket: string; readonly key: Buffer }, old: ObjectRecord): Promise<void> {
          const stamp = stampOf(old);
          // Deliberately staged and not waited for.
          await core.api.put(versionShardKey(target.bucket, target.key, stamp.rank), encodeObject({ ...old, version: stamp }));
        },
      3,
    ),
};
