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
//   1. The object's owner is decided by the bucket's ownership setting
//      (object_owner.ts): its writer, or the bucket owner.
//   2. A write with no ACL header gets the default ACL (the owner's
//      FULL_CONTROL); so does CopyObject: the source's ACL is never copied.
//      A canned ACL is expanded for the object's owner and the bucket's;
//      grant headers give exactly their grants.
//   3. Under BucketOwnerEnforced ACLs are off: only
//      `x-amz-acl: bucket-owner-full-control` (or grant headers that name
//      nothing but the owner's own FULL_CONTROL) is accepted, as a no-op;
//      any other ACL header is 400 AccessControlListNotSupported.
//   4. Under BlockPublicAcls an ACL granting AllUsers or
//      AuthenticatedUsers is 403 AccessDenied.
// All are decided on the bucket's access record as the request starts
// (before the body is read); a change of the bucket's settings during the
// upload of the body, or between CreateMultipartUpload and Complete, does
// not undo the owner or the ACL (as with PutObjectAcl, whose ACL also stays when
// BlockPublicAcls is set later; IgnorePublicAcls is what disarms it).
import type { IncomingHttpHeaders } from 'node:http';
import type { BucketAccess, Grant } from './access_records.js';
import { readBucketAccess, withAclSection } from './access.js';
import { aclNotSupported, blockedPublicAcl } from './access_ops.js';
import { cannedAclHeader, grantsBeyondOwner, grantsOfHeaders, hasAclHeaders, isPublicAcl } from './acl.js';
import { requireBucket } from './buckets.js';
import type { Core } from './core.js';
import { ownerOfWrite, withOwnerSection } from './object_owner.js';
import type { ObjectRecord, RecordSections } from './records.js';

/** What an object write gives its object: an owner and, if the write asked for one, an ACL. */
export interface WriteAcl {
  readonly ownerId: string;
  readonly bucketOwnerId: string;
  /** Undefined: no ACL asked for (the owner's FULL_CONTROL, without an ACL section). */
  readonly grants: readonly Grant[] | undefined;
}

/** The check of a write's ACL headers, an object so that a broken variant can replace it (testing/mutants/http_check_mutants.ts). */
export class ObjectAclHeaders {
  /**
   * The owner and grants of an object `writerId` (undefined: anonymous)
   * writes with `headers`; grants undefined when it asks for none (or,
   * under BucketOwnerEnforced, for nothing but the owner's control).
   * Throws AccessControlListNotSupported, AccessDenied (BlockPublicAcls),
   * InvalidArgument, InvalidRequest, NotImplemented.
   */
  requested(headers: IncomingHttpHeaders, access: BucketAccess, writerId: string | undefined): WriteAcl {
    const ownerId = ownerOfWrite(access, writerId, cannedAclHeader(headers));
    const owners = { ownerId, bucketOwnerId: access.ownerId };
    if (!hasAclHeaders(headers)) return { ...owners, grants: undefined };
    const grants = grantsOfHeaders(headers, owners) ?? [];
    if (access.ownership === 'BucketOwnerEnforced') {
      const canned = cannedAclHeader(headers);
      const ownerOnly = canned === undefined ? !grantsBeyondOwner(grants, access.ownerId) : canned === 'bucket-owner-full-control';
      if (!ownerOnly) throw aclNotSupported();
      return { ...owners, grants: undefined };
    }
    if (access.publicAccessBlock?.blockPublicAcls === true && isPublicAcl(grants)) throw blockedPublicAcl();
    return { ...owners, grants };
  }
}

export const OBJECT_ACL_HEADERS = new ObjectAclHeaders();

/**
 * The owner and ACL of an object `writerId` writes (see
 * ObjectAclHeaders.requested); no read at all when the bucket owner
 * (`bucketOwnerId`, known from authorization) writes without ACL headers.
 * Throws NoSuchBucket.
 */
export async function requestedObjectAcl(core: Core, req: { bucket: string; bucketOwnerId: string; writerId: string | undefined; headers: IncomingHttpHeaders }): Promise<WriteAcl> {
  const plain = !hasAclHeaders(req.headers) && (req.writerId === undefined || req.writerId === req.bucketOwnerId);
  if (plain) return { ownerId: req.bucketOwnerId, bucketOwnerId: req.bucketOwnerId, grants: undefined };
  // readBucketAccess answers a missing bucket with the defaults: the bucket must exist first.
  await requireBucket(core, req.bucket);
  return OBJECT_ACL_HEADERS.requested(req.headers, await readBucketAccess(core, req.bucket), req.writerId);
}

/** `sections` with the owner and the ACL a write gives its object (or upload). */
export function withWriteAcl(sections: RecordSections | undefined, acl: WriteAcl): RecordSections | undefined {
  return withOwnerSection(withAclSection(sections, acl.grants), acl.ownerId, acl.bucketOwnerId);
}

/** `record` with the owner and ACL its write gives it. */
export function withRequestedAcl(record: ObjectRecord, acl: WriteAcl): ObjectRecord {
  const sections = withWriteAcl(record.sections, acl);
  return sections === record.sections ? record : { ...record, sections };
}
