// Broken variants of the server's front door (issue 12), each caught by the
// HTTP check (`shardstore check --suite http`, testing/http_check/) through
// the property it breaks, named in `expect` (the suite's failure message
// starts with the property):
//   - unsigned-header-honoured: the verifier's rule that every x-amz-*
//     header be signed finds none missing, so an x-amz-copy-source added
//     after signing copies the private object (issue 12, case 1);
//   - subresource-falls-through: the router keys on the subresources it has
//     rows for and drops the others, so PUT /b?website is CreateBucket and
//     DELETE /b?torrent deletes the bucket (issue 12, case 4; tagging was the
//     example before it was implemented);
//   - host-check-skipped: any Host is served, so a page on a rebound DNS
//     name drives the node (issue 12, case 3);
//   - native-auth-skipped (as auth_mutants.ts): the native API and the
//     control plane serve unsigned requests (issue 12, case 2);
//   - guarantee-header-ignored (as s3_mutants.ts): SSE, object lock,
//     tagging, grants... accepted and ignored (issue 12, case 5);
//   - cors-wildcard: every S3 answer allows any origin, so a web page can
//     read what it makes the browser fetch;
//   - cors-any-origin: the CORS matcher ignores the Origin, so a bucket's
//     rule for one site lets every site's pages read its answers (issue 16);
//   - post-policy-unenforced: a POST form's policy is signed but its
//     conditions, expiration and field list are not checked, so a page
//     given a form for one key uploads any key, late, with any fields
//     (issue 16);
//   - tag-limits-ignored: S3's tag limits are not checked, so 11 tags on an
//     object (or a 129-character key) are stored where S3 answers
//     InvalidTag (issue 16);
//   - policy-deny-ignored: a bucket policy's Deny statements are not
//     evaluated, so the Allow to everyone serves an object the Deny
//     withholds (issue 16);
//   - other-users-bucket-readable: any signed user counts as the bucket's
//     owner, so a second user reads, writes and deletes the owner's
//     objects (issue 16);
//   - overwrite-drops-version: a versioned write does not keep the version
//     it replaces, so an overwritten object's first version is gone (404
//     NoSuchVersion) where S3 serves it by its id (issue 16);
//   - governance-delete-without-bypass: GOVERNANCE retention is taken as
//     bypassed on every removal, so a locked version is deleted without
//     x-amz-bypass-governance-retention (issue 16, object lock);
//   - compliance-shortened: a retention change is checked as if the old
//     mode were GOVERNANCE, so a COMPLIANCE date is shortened with the
//     bypass header (issue 16, object lock);
//   - sse-c-key-not-checked: the SSE-C key check accepts any key and none,
//     so a GET of a plain object with a key is served, as if the key meant
//     something (a wrong key on an SSE-C object still fails, at the data
//     key's unwrapping: a 500, never the bytes) (issue 16);
//   - object-acl-header-ignored: x-amz-acl and x-amz-grant-* on an object
//     write are accepted and dropped, so an object written public-read is
//     403 to the anonymous reader S3 serves it to (issue 16);
//   - version-acl-from-current: a request naming a version is decided on
//     the current version's ACL, so a private first version is served
//     anonymously because the current one is public-read (issue 16);
//   - part-number-wrong-range: a part number beyond the object's parts is
//     not refused, so GET ?partNumber=2 of a single-part object serves the
//     whole object where S3 answers 416 InvalidPartNumber (issue 16);
//   - sigv2-amz-header-unsigned: a Signature Version 2 string to sign
//     leaves the x-amz-* headers out, so one added to a V2-signed request
//     (x-amz-copy-source of the private object) is acted on (issue 16).
// Each replaces one method of the component that makes the decision, the
// seams the production classes offer for this (SignedHeaderRule,
// RouteTable, HeaderGuard, HostCheck, NodeAuth, TagRules, CorsMatcher, PostPolicy, Authorizer, VersionRules, LockRules, KeyCheck,
// ObjectAclHeaders, PartRanges, V2Canonical; Authorizer again for version-acl-from-current) or, for CORS, the S3 front's
// public entry point; src/ carries no test hooks. Where another check owns
// the same seam its install is reused, not copied.
import { HostCheck } from '../../src/server/browser_guard.js';
import type { Exchange } from '../../src/server/exchange.js';
import { S3Front } from '../../src/server/s3/index.js';
import { RouteTable } from '../../src/server/s3/routes.js';
import { TagRules } from '../../src/server/s3/tagging.js';
import type { CorsAsk, CorsConfig } from '../../src/server/s3/cors.js';
import { CorsMatcher } from '../../src/server/s3/cors.js';
import { PostPolicy } from '../../src/server/s3/post_policy.js';
import { VersionRules } from '../../src/server/s3/versioning.js';
import { LockRules } from '../../src/server/s3/object_lock.js';
import type { ObjectLockState, Retention } from '../../src/server/s3/object_lock_records.js';
import { ObjectAclHeaders } from '../../src/server/s3/object_acl.js';
import type { WriteAcl } from '../../src/server/s3/object_acl.js';
import type { BucketAccess } from '../../src/server/s3/access_records.js';
import type { IncomingHttpHeaders } from 'node:http';
import { PartRanges, partsCountOf } from '../../src/server/s3/object_parts.js';
import type { ObjectRecord } from '../../src/server/s3/records.js';
import type { ByteRange } from '../../src/store/index.js';
import { Authorizer } from '../../src/server/s3/authorize.js';
import { KeyCheck } from '../../src/server/s3/sse.js';
import { V2Canonical } from '../../src/server/s3/sigv2.js';
import type { CheckQuery } from '../../src/server/s3/authorize.js';
import type { Core } from '../../src/server/s3/core.js';
import { nativeAuthSkipped as nativeAuthSkippedForAuth, unsignedHeaderHonored } from './auth_mutants.js';
import type { Mutant } from './mutant.js';
import { patch } from './mutant.js';
import { unimplementedHeaderIgnored } from './s3_mutants.js';

/** The property the http check reports (testing/http_check/cases.ts), as the start of the suite's failure message. */
const breaks = (property: string): RegExp => new RegExp(`^${property}: `);

export const unsignedHeaderHonoured: Mutant = {
  name: 'unsigned-header-honoured',
  bugClass: 'an x-amz-* header added after signing is acted on (an unsigned x-amz-copy-source copies a private object)',
  caughtBy: 'http',
  expect: breaks('unsigned-header-honoured'),
  install: () => unsignedHeaderHonored.install(),
};

/** The subresources some route has a row for: what a router that drops the rest would still see. */
const ROUTED_SUBRESOURCES: ReadonlySet<string> = new Set(['attributes', 'acl', 'location', 'versioning', 'versions', 'versionId', 'uploads', 'delete', 'uploadId', 'partNumber', 'tagging', 'policy', 'policyStatus', 'publicAccessBlock', 'ownershipControls', 'cors', 'lifecycle', 'encryption']);

export const subresourceFallsThrough: Mutant = {
  name: 'subresource-falls-through',
  bugClass: 'an unimplemented subresource is dropped and the request runs as the operation without it (PUT /b?website creates the bucket)',
  caughtBy: 'http',
  expect: breaks('subresource-fell-through'),
  install: () =>
    patch(RouteTable.prototype, 'subresourcesOf', (original) =>
      function (this: RouteTable, r) {
        return original.call(this, r).filter((name) => ROUTED_SUBRESOURCES.has(name));
      },
    ),
};

export const hostCheckSkipped: Mutant = {
  name: 'host-check-skipped',
  bugClass: 'a request naming any Host is served (DNS rebinding lets a web page drive the node)',
  caughtBy: 'http',
  expect: breaks('browser-request-honoured'),
  install: () =>
    patch(HostCheck.prototype, 'check', () =>
      function (this: HostCheck): void {
        // Deliberately accepts every Host.
      },
    ),
};

export const nativeAuthSkipped: Mutant = {
  name: 'http-native-auth-skipped',
  bugClass: nativeAuthSkippedForAuth.bugClass,
  caughtBy: 'http',
  expect: breaks('unauthenticated-access'),
  install: () => nativeAuthSkippedForAuth.install(),
};

export const guaranteeHeaderIgnored: Mutant = {
  name: 'guarantee-header-ignored',
  bugClass: unimplementedHeaderIgnored.bugClass,
  caughtBy: 'http',
  expect: breaks('unimplemented-guarantee-accepted'),
  install: () => unimplementedHeaderIgnored.install(),
};

export const corsWildcard: Mutant = {
  name: 'cors-wildcard',
  bugClass: 'every S3 answer allows any origin (Access-Control-Allow-Origin: *) with no CORS configured',
  caughtBy: 'http',
  expect: breaks('no-cors'),
  install: () =>
    patch(S3Front.prototype, 'handle', (original) =>
      function (this: S3Front, ex: Exchange): Promise<void> {
        ex.res.setHeader('Access-Control-Allow-Origin', '*');
        return original.call(this, ex);
      },
    ),
};

export const tagLimitsIgnored: Mutant = {
  name: 'tag-limits-ignored',
  bugClass: 'S3\'s tag limits are not checked: 11 tags on an object, 51 on a bucket, a 129-character key are stored instead of 400 InvalidTag',
  caughtBy: 'http',
  expect: breaks('tag-limit-ignored'),
  install: () =>
    patch(TagRules.prototype, 'validate', () =>
      function (this: TagRules): void {
        // Deliberately accepts any tag set.
      },
    ),
};

export const corsAnyOrigin: Mutant = {
  name: 'cors-any-origin',
  bugClass: "the CORS matcher ignores the Origin: a bucket's rule for one site answers every site's preflights and requests",
  caughtBy: 'http',
  expect: breaks('cors-for-foreign-origin'),
  install: () =>
    patch(CorsMatcher.prototype, 'match', (original) =>
      function (this: CorsMatcher, config: CorsConfig, ask: CorsAsk) {
        // Deliberately matches the rule's first origin whatever the request's was.
        const rule = config[0];
        return original.call(this, config, rule === undefined ? ask : { ...ask, origin: rule.allowedOrigins[0] ?? ask.origin });
      },
    ),
};

export const overwriteDropsVersion: Mutant = {
  name: 'overwrite-drops-version',
  bugClass: 'a versioned overwrite replaces the previous version instead of keeping it (GET by the old version id: 404 NoSuchVersion)',
  caughtBy: 'http',
  expect: breaks('noncurrent-version-lost'),
  install: () =>
    patch(VersionRules.prototype, 'keep', () =>
      function (this: VersionRules): Promise<void> {
        // Deliberately keeps nothing.
        return Promise.resolve();
      },
    ),
};

export const governanceDeleteWithoutBypass: Mutant = {
  name: 'governance-delete-without-bypass',
  bugClass: 'a version under GOVERNANCE retention is removed without x-amz-bypass-governance-retention (S3: 403 AccessDenied)',
  caughtBy: 'http',
  expect: breaks('governance-delete-without-bypass'),
  install: () =>
    patch(LockRules.prototype, 'checkRemoval', (original) =>
      function (this: LockRules, s: ObjectLockState, nowMs: number): void {
        // Deliberately takes every request as bypassing GOVERNANCE.
        original.call(this, s, nowMs, true);
      },
    ),
};

export const complianceShortened: Mutant = {
  name: 'compliance-shortened',
  bugClass: 'a COMPLIANCE retention is shortened (or made GOVERNANCE) with the bypass header, as if it were GOVERNANCE (S3: 403 AccessDenied)',
  caughtBy: 'http',
  expect: breaks('compliance-shortened'),
  install: () =>
    patch(LockRules.prototype, 'checkRetentionChange', (original) =>
      function (this: LockRules, old: Retention | undefined, next: Retention | undefined, nowMs: number, bypass: boolean): void {
        // Deliberately checks the old retention as GOVERNANCE, whatever its mode.
        original.call(this, old === undefined ? old : { ...old, mode: 'GOVERNANCE' }, next, nowMs, bypass);
      },
    ),
};

/** The policy text without its Deny statements (what an evaluator that skips them sees). */
function withoutDeny(policy: string): string {
  if (policy === '') return policy;
  const doc = JSON.parse(policy) as { Statement?: unknown };
  const statements = Array.isArray(doc.Statement) ? (doc.Statement as unknown[]) : [doc.Statement];
  const kept = statements.filter((s) => !(typeof s === 'object' && s !== null && 'Effect' in s && s.Effect === 'Deny'));
  // A policy of Deny statements only becomes none at all.
  return kept.length === 0 ? '' : JSON.stringify({ ...doc, Statement: kept });
}

export const policyDenyIgnored: Mutant = {
  name: 'policy-deny-ignored',
  bugClass: 'a bucket policy\'s Deny statements are not evaluated: an object the Deny withholds is served by the Allow to everyone',
  caughtBy: 'http',
  expect: breaks('policy-deny-ignored'),
  install: () =>
    patch(Authorizer.prototype, 'check', (original) =>
      function (this: Authorizer, core: Core, q: CheckQuery): Promise<void> {
        return original.call(this, core, { ...q, access: { ...q.access, policy: withoutDeny(q.access.policy) } });
      },
    ),
};

export const postPolicyUnenforced: Mutant = {
  name: 'post-policy-unenforced',
  bugClass: "a POST form's signed policy is not enforced: its conditions, expiration and field list go unchecked",
  caughtBy: 'http',
  expect: breaks('post-policy-not-enforced'),
  install: () =>
    patch(PostPolicy.prototype, 'check', () =>
      function (this: PostPolicy): void {
        // Deliberately accepts every form whose signature verifies.
      },
    ),
};

export const otherUsersBucketReadable: Mutant = {
  name: 'other-users-bucket-readable',
  bugClass: 'any signed user counts as the bucket owner: a second user reads, overwrites and deletes the owner\'s objects',
  caughtBy: 'http',
  expect: breaks('cross-user-access'),
  install: () =>
    patch(Authorizer.prototype, 'check', (original) =>
      function (this: Authorizer, core: Core, q: CheckQuery): Promise<void> {
        const ownerId = q.principal.kind === 'user' ? q.principal.user.id : q.access.ownerId;
        return original.call(this, core, { ...q, access: { ...q.access, ownerId } });
      },
    ),
};

export const objectAclHeaderIgnored: Mutant = {
  name: 'object-acl-header-ignored',
  bugClass: 'x-amz-acl and x-amz-grant-* on an object write are accepted and dropped: an object written public-read is private',
  caughtBy: 'http',
  expect: breaks('object-acl-header-ignored'),
  install: () =>
    patch(ObjectAclHeaders.prototype, 'requested', (original) =>
      function (this: ObjectAclHeaders, headers: IncomingHttpHeaders, access: BucketAccess, writerId: string | undefined): WriteAcl {
        // Deliberately stores no ACL, whatever the headers ask.
        return { ...original.call(this, headers, access, writerId), grants: undefined };
      },
      3,
    ),
};

export const versionAclFromCurrent: Mutant = {
  name: 'version-acl-from-current',
  bugClass: 'a request naming a version is decided on the current version\'s ACL: a public current version opens a private old one',
  caughtBy: 'http',
  expect: breaks('version-acl-crossed'),
  install: () =>
    patch(
      Authorizer.prototype,
      'check',
      (original) =>
        function (this: Authorizer, core: Core, q: CheckQuery, seen?: Parameters<Authorizer['check']>[2]): Promise<void> {
          return original.call(this, core, { ...q, version: undefined }, seen);
        },
      3,
    ),
};

export const partNumberWrongRange: Mutant = {
  name: 'part-number-wrong-range',
  bugClass: 'a part number beyond the object\'s parts is not refused: the last part (the whole of a single-part object) is served instead of 416',
  caughtBy: 'http',
  expect: breaks('part-number-wrong-range'),
  install: () =>
    patch(PartRanges.prototype, 'rangeOf', (original) =>
      function (this: PartRanges, record: ObjectRecord, partNumber: number): ByteRange {
        return original.call(this, record, Math.min(partNumber, partsCountOf(record)));
      },
      2,
    ),
};

export const sseCKeyNotChecked: Mutant = {
  name: 'sse-c-key-not-checked',
  bugClass: 'the SSE-C key of a request is not checked against the object: a key is accepted and ignored on an object stored without one, and a wrong key reaches the decryption (issue 16)',
  caughtBy: 'http',
  expect: breaks('sse-c-key-not-checked'),
  install: () =>
    patch(KeyCheck.prototype, 'check', () =>
      function (this: KeyCheck): void {
        // Deliberately accepts every key, and none.
      },
    ),
};

export const sigv2AmzHeaderUnsigned: Mutant = {
  name: 'sigv2-amz-header-unsigned',
  bugClass: 'a Signature Version 2 string to sign leaves out the x-amz-* headers, so one added after signing (x-amz-copy-source) is acted on',
  caughtBy: 'http',
  expect: breaks('unsigned-header-honoured'),
  install: () =>
    patch(V2Canonical.prototype, 'amzHeaders', () =>
      function (this: V2Canonical): string {
        // Deliberately signs no x-amz-* header.
        return '';
      },
    ),
};

export const HTTP_CHECK_MUTANTS: readonly Mutant[] = [
  unsignedHeaderHonoured,
  subresourceFallsThrough,
  hostCheckSkipped,
  nativeAuthSkipped,
  guaranteeHeaderIgnored,
  corsWildcard,
  tagLimitsIgnored,
  corsAnyOrigin,
  postPolicyUnenforced,
  policyDenyIgnored,
  otherUsersBucketReadable,
  overwriteDropsVersion,
  governanceDeleteWithoutBypass,
  complianceShortened,
  sseCKeyNotChecked,
  objectAclHeaderIgnored,
  versionAclFromCurrent,
  partNumberWrongRange,
  sigv2AmzHeaderUnsigned,
];
