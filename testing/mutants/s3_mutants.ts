// Broken variants of the S3 front's fail-closed checks (src/server/s3/
// routes.ts, fail_closed.ts), each one of the bugs issue 12 found in the
// landed server. Like http_mutants.ts they are caught by a test against the
// real server (the fail-closed walk, testing/s3_fail_closed.ts, asserted in
// testing/s3_fail_closed.test.ts), not by a `shardstore check` suite, so
// they are not in MUTANTS; `expect` is the violation each must cause.
import { HeaderGuard } from '../../src/server/s3/fail_closed.js';
import { RouteTable } from '../../src/server/s3/routes.js';
import type { HttpMutant } from './http_mutants.js';
import { patch } from './mutant.js';

export interface S3Mutant extends HttpMutant {
  /** The violation the walk must report (matched against its report). */
  readonly expect: RegExp;
}

/**
 * What the old router looked at on a PUT or DELETE of a bucket: none of
 * these, so ?versioning (which it refused only on other methods) fell
 * through to CreateBucket / DeleteBucket.
 */
const KNOWN_BEFORE = new Set(['acl', 'location', 'uploads', 'delete', 'uploadId', 'partNumber']);

/** PUT /bucket?versioning became CreateBucket, DELETE /bucket?versioning deleted the bucket (the walk shows it on ?accelerate: versioning is served now). */
export const subresourceFallsThrough: S3Mutant = {
  name: 's3-subresource-falls-through',
  bugClass: 'an unimplemented subresource runs the operation without it',
  caughtBy: 'testing/s3_fail_closed.test.ts',
  expect: /DELETE \/walk-empty\?accelerate=: answered 204, expected 501 NotImplemented/,
  install: () =>
    patch(RouteTable.prototype, 'subresourcesOf', (original) =>
      function (this: RouteTable, r) {
        return original.call(this, r).filter((name) => KNOWN_BEFORE.has(name));
      },
    ),
};

/** SSE-KMS, object lock, public ACLs... accepted and ignored: the object is stored without the guarantee. */
export const unimplementedHeaderIgnored: S3Mutant = {
  name: 's3-unimplemented-header-ignored',
  bugClass: 'a header asking for an unimplemented guarantee is accepted and ignored',
  caughtBy: 'testing/s3_fail_closed.test.ts',
  expect: /PUT \/walk\/new \[x-amz-server-side-encryption-context: e30=\]: answered 200, expected 501 NotImplemented/,
  install: () => patch(HeaderGuard.prototype, 'refusal', () => () => undefined),
};

export const S3_MUTANTS: readonly S3Mutant[] = [subresourceFallsThrough, unimplementedHeaderIgnored];
