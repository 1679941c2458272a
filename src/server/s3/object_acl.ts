// ACL headers on object writes (docs/S3.md, "ACLs"): x-amz-acl and
// x-amz-grant-* on PutObject, CopyObject and CreateMultipartUpload.
//
// The ACL asked for is kept in the object's own record (the ACL section,
// access_records.ts invariant 3), committed with it in one durable step
// (an upload keeps it in its record and gives it to the object at
// Complete). So there is no order to argue about: before the commit the
// object is the old one with its old ACL, after it the new one with
// exactly the ACL its write asked for, and a crash leaves one or the other.
//
// As S3 decides it:
//   1. A write with no ACL header gets the default ACL (the owner only); so
//      does CopyObject: the source's ACL is never copied.
//   2. Under BucketOwnerEnforced ACLs are off: only
//      `x-amz-acl: bucket-owner-full-control` (or grant headers that name
//      nothing but the owner's own FULL_CONTROL) is accepted, as a no-op;
//      any other ACL header is 400 AccessControlListNotSupported.
//   3. Under BlockPublicAcls an ACL granting AllUsers or
//      AuthenticatedUsers is 403 AccessDenied.
// Both are decided on the bucket's access record as the request starts
// (before the body is read); a change of the bucket's settings during the
// upload of the body, or between CreateMultipartUpload and Complete, does
// not undo the ACL (as with PutObjectAcl, whose ACL also stays when
// BlockPublicAcls is set later; IgnorePublicAcls is what disarms it).
import type { IncomingHttpHeaders } from 'node:http';
import type { BucketAccess, Grant } from './access_records.js';
import { readBucketAccess, withAclSection } from './access.js';
import { aclNotSupported, blockedPublicAcl } from './access_ops.js';
import { grantsOfHeaders, hasAclHeaders, isPublicAcl } from './acl.js';
import { requireBucket } from './buckets.js';
import type { Core } from './core.js';
import type { ObjectRecord } from './records.js';

/** The check of a write's ACL headers, an object so that a broken variant can replace it (testing/mutants/http_check_mutants.ts). */
export class ObjectAclHeaders {
  /**
   * The grants the write's ACL headers ask for; undefined when it asks for
   * none (or, under BucketOwnerEnforced, for nothing but the owner's
   * control). Throws AccessControlListNotSupported, AccessDenied
   * (BlockPublicAcls), InvalidArgument, InvalidRequest, NotImplemented.
   */
  requested(headers: IncomingHttpHeaders, access: BucketAccess): readonly Grant[] | undefined {
    if (!hasAclHeaders(headers)) return undefined;
    const grants = grantsOfHeaders(headers, access.ownerId) ?? [];
    if (access.ownership === 'BucketOwnerEnforced') {
      const canned = headers['x-amz-acl'];
      const ownerOnly = canned === undefined ? grants.length === 0 : String(canned).trim() === 'bucket-owner-full-control';
      if (!ownerOnly) throw aclNotSupported();
      return undefined;
    }
    if (access.publicAccessBlock?.blockPublicAcls === true && isPublicAcl(grants)) throw blockedPublicAcl();
    return grants;
  }
}

export const OBJECT_ACL_HEADERS = new ObjectAclHeaders();

/** The grants the write asks for (see ObjectAclHeaders.requested); no read at all without ACL headers. Throws NoSuchBucket. */
export async function requestedObjectGrants(core: Core, bucket: string, headers: IncomingHttpHeaders): Promise<readonly Grant[] | undefined> {
  if (!hasAclHeaders(headers)) return undefined;
  // readBucketAccess answers a missing bucket with the defaults: the bucket must exist first.
  await requireBucket(core, bucket);
  return OBJECT_ACL_HEADERS.requested(headers, await readBucketAccess(core, bucket));
}

/** `record` with the ACL its write asked for (unchanged when it asked for none). */
export function withRequestedAcl(record: ObjectRecord, grants: readonly Grant[] | undefined): ObjectRecord {
  return grants === undefined ? record : { ...record, sections: withAclSection(record.sections, grants) };
}
