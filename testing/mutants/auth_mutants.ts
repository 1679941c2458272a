// Broken variants of the doors (docs/SECURITY.md): each stands for a bug
// the authentication checks must catch (testing/mutants.test.ts asserts
// which failure each one causes).
import { NodeAuth } from '../../src/server/node_auth.js';
import { SignedHeaderRule } from '../../src/server/s3/sigv4.js';
import type { Mutant } from './mutant.js';
import { patch } from './mutant.js';

/** Unsigned x-amz-* headers are honored (issue 12, case 1): the rule finds none missing. */
export const unsignedHeaderHonored: Mutant = {
  name: 'sigv4-unsigned-header-honored',
  bugClass: 'an x-amz-* header outside SignedHeaders is acted on (an added x-amz-copy-source becomes a CopyObject)',
  caughtBy: 'auth',
  expect: /verdict mismatch: expected refuse AccessDenied, got accept/,
  install: () => patch(SignedHeaderRule.prototype, 'missing', () => () => []),
};

/** The native API and the control plane answer anyone (issue 12, case 2). */
export const nativeAuthSkipped: Mutant = {
  name: 'native-auth-skipped',
  bugClass: 'the native API and /v1/admin/* serve requests without a signature',
  caughtBy: 'auth',
  expect: /PUT \/v1\/shards\/k answered 201/,
  install: () => patch(NodeAuth.prototype, 'authenticate', () => () => Promise.resolve()),
};

export const AUTH_MUTANTS: readonly Mutant[] = [unsignedHeaderHonored, nativeAuthSkipped];
