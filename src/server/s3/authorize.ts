// Who may do what (docs/S3.md, "Access control"), decided before an
// operation runs, as AWS evaluates a request against one bucket:
//
//   1. An explicit Deny in the bucket policy refuses (the owner too, except
//      for the policy operations themselves, so an owner cannot lock itself
//      out for good).
//   2. An operation on an object's own state (GetObject, HeadObject,
//      GetObjectAttributes, Get/PutObjectAcl, Put/Get/DeleteObjectTagging,
//      Put/GetObjectRetention, Put/GetObjectLegalHold) on an object that
//      is not the bucket owner's (object_owner.ts) is decided by that
//      object alone, as AWS decides it (the object context: the object's
//      owner grants through its ACL): its owner may read and write its ACL
//      (READ_ACP and WRITE_ACP are the owner's whatever the ACL says) and
//      its tags, retention and legal hold, which no ACL permission grants
//      to anyone else; its ACL grants the rest, to the bucket owner too;
//      the bucket's policy cannot grant what the bucket owner does not own.
//   3. The bucket owner may do anything else (it may delete or overwrite
//      any object: that is the bucket's WRITE).
//   4. An Allow in the policy permits (unless RestrictPublicBuckets is set
//      and the policy is public: then only the owner).
//   5. An ACL grant permits, where the operation has an ACL permission and
//      the bucket's ACLs are enabled (not BucketOwnerEnforced); public grants
//      count for nothing under IgnorePublicAcls. An object's grants are
//      those of the version the request names (versionId), else the
//      current version's.
//   6. Otherwise 403 AccessDenied (default deny).
//
// Anonymous (unsigned) requests go through the same steps as a principal
// with no id; a request refused at 5 answers exactly what it answered
// before users existed. Operations this file does not know (added later by
// another change) are the bucket owner's alone: fail closed.
import type { IncomingHttpHeaders } from 'node:http';
import type { BucketAccess, Grant, Permission } from './access_records.js';
import type { ObjectAclView } from './access.js';
import type { ObjectRecord } from './records.js';
import { readBucketAccess, readObjectAcl } from './access.js';
import { aclAllows, isPublicAcl } from './acl.js';
import { readBucket } from './buckets.js';
import { expectedOwnerRefusal } from './fail_closed.js';
import type { Core } from './core.js';
import { readObject } from './objects.js';
import { writersOwnObjects } from './object_owner.js';
import type { VersionSelector } from './versioning.js';
import { findVersion, isDeleteMarker, parseVersionId } from './versioning.js';
import type { Policy, PolicyRequest } from './policy.js';
import { CONDITION_HEADERS, EXISTING_OBJECT_TAG_PREFIX, evaluatePolicy, isPublicPolicy, parsePolicy, usesExistingObjectTags } from './policy.js';
import type { S3Request } from './request.js';
import { S3Error, accessDenied, noSuchBucket, noSuchKey } from './s3_errors.js';
import type { SIGV2_VERSION } from './sigv2.js';
import { v2CarrierOf } from './sigv2.js';
import type { SIGV4_ALGORITHM } from './sigv4.js';
import { queryPairs } from './sigv4.js';
import type { User, UserSet } from './users.js';

/**
 * How a user's request was authenticated: the condition keys
 * s3:signatureversion ("AWS" for Signature Version 2, "AWS4-HMAC-SHA256")
 * and s3:authType ("REST-HEADER", "REST-QUERY-STRING", "POST"), as AWS names them.
 */
export interface SignedWith {
  readonly version: typeof SIGV2_VERSION | typeof SIGV4_ALGORITHM;
  readonly authType: 'REST-HEADER' | 'REST-QUERY-STRING' | 'POST';
}

export type Principal = { readonly kind: 'anonymous' } | { readonly kind: 'user'; readonly user: User; readonly signedWith: SignedWith };

export const ANONYMOUS: Principal = { kind: 'anonymous' };

/** What an operation needs: its IAM action, what it acts on, and the ACL permission that can grant it. */
interface ActionSpec {
  readonly action: string;
  readonly on: 'bucket' | 'object';
  readonly acl?: { readonly of: 'bucket' | 'object'; readonly permission: Permission };
  /** Only the bucket owner's account, whatever the policy says (405 for others it allows). */
  readonly ownerAccountOnly?: boolean;
  /** Decided per object by the operation (RequestAccess.checkObject), not for the bucket. */
  readonly perKey?: boolean;
  /** State of the object itself that no ACL permission grants (tags, retention, legal hold): on an object another user owns, its owner's alone (step 2). */
  readonly objectOwners?: boolean;
}

const bucketRead = { of: 'bucket', permission: 'READ' } as const;
const bucketWrite = { of: 'bucket', permission: 'WRITE' } as const;
/** What tells a missing key from a forbidden one (Authorizer.mayList). */
const LIST_BUCKET: ActionSpec = { action: 's3:ListBucket', on: 'bucket', acl: bucketRead };

/** Operation name -> what it needs. Service-level operations (ListBuckets, CreateBucket) are decided by their own rules. */
export const ACTIONS: ReadonlyMap<string, ActionSpec> = new Map<string, ActionSpec>([
  ['ListObjects', { action: 's3:ListBucket', on: 'bucket', acl: bucketRead }],
  ['ListObjectsV2', { action: 's3:ListBucket', on: 'bucket', acl: bucketRead }],
  ['HeadBucket', { action: 's3:ListBucket', on: 'bucket', acl: bucketRead }],
  ['ListMultipartUploads', { action: 's3:ListBucketMultipartUploads', on: 'bucket', acl: bucketRead }],
  ['GetBucketAcl', { action: 's3:GetBucketAcl', on: 'bucket', acl: { of: 'bucket', permission: 'READ_ACP' } }],
  ['PutBucketAcl', { action: 's3:PutBucketAcl', on: 'bucket', acl: { of: 'bucket', permission: 'WRITE_ACP' } }],
  ['GetBucketLocation', { action: 's3:GetBucketLocation', on: 'bucket' }],
  ['GetBucketVersioning', { action: 's3:GetBucketVersioning', on: 'bucket' }],
  ['PutBucketVersioning', { action: 's3:PutBucketVersioning', on: 'bucket' }],
  ['ListObjectVersions', { action: 's3:ListBucketVersions', on: 'bucket', acl: bucketRead }],
  ['DeleteBucket', { action: 's3:DeleteBucket', on: 'bucket' }],
  ['GetBucketTagging', { action: 's3:GetBucketTagging', on: 'bucket' }],
  ['PutBucketTagging', { action: 's3:PutBucketTagging', on: 'bucket' }],
  ['DeleteBucketTagging', { action: 's3:PutBucketTagging', on: 'bucket' }],
  ['GetBucketPolicy', { action: 's3:GetBucketPolicy', on: 'bucket', ownerAccountOnly: true }],
  ['PutBucketPolicy', { action: 's3:PutBucketPolicy', on: 'bucket', ownerAccountOnly: true }],
  ['DeleteBucketPolicy', { action: 's3:DeleteBucketPolicy', on: 'bucket', ownerAccountOnly: true }],
  ['GetBucketPolicyStatus', { action: 's3:GetBucketPolicyStatus', on: 'bucket' }],
  ['GetPublicAccessBlock', { action: 's3:GetBucketPublicAccessBlock', on: 'bucket' }],
  ['PutPublicAccessBlock', { action: 's3:PutBucketPublicAccessBlock', on: 'bucket' }],
  ['DeletePublicAccessBlock', { action: 's3:PutBucketPublicAccessBlock', on: 'bucket' }],
  ['GetBucketOwnershipControls', { action: 's3:GetBucketOwnershipControls', on: 'bucket' }],
  ['PutBucketOwnershipControls', { action: 's3:PutBucketOwnershipControls', on: 'bucket' }],
  ['DeleteBucketOwnershipControls', { action: 's3:PutBucketOwnershipControls', on: 'bucket' }],
  // CORS (cors_ops.ts): AWS has one action for put and delete. The preflight is not authorized: it acts on nothing.
  ['GetBucketCors', { action: 's3:GetBucketCORS', on: 'bucket' }],
  ['PutBucketCors', { action: 's3:PutBucketCORS', on: 'bucket' }],
  ['DeleteBucketCors', { action: 's3:PutBucketCORS', on: 'bucket' }],
  // Lifecycle (lifecycle_ops.ts): AWS has one action for put and delete.
  ['GetBucketLifecycleConfiguration', { action: 's3:GetLifecycleConfiguration', on: 'bucket' }],
  ['PutBucketLifecycleConfiguration', { action: 's3:PutLifecycleConfiguration', on: 'bucket' }],
  ['DeleteBucketLifecycle', { action: 's3:PutLifecycleConfiguration', on: 'bucket' }],
  // Default encryption (bucket_encryption.ts): AWS has one action for put and delete.
  ['GetBucketEncryption', { action: 's3:GetEncryptionConfiguration', on: 'bucket' }],
  ['PutBucketEncryption', { action: 's3:PutEncryptionConfiguration', on: 'bucket' }],
  ['DeleteBucketEncryption', { action: 's3:PutEncryptionConfiguration', on: 'bucket' }],
  ['GetObject', { action: 's3:GetObject', on: 'object', acl: { of: 'object', permission: 'READ' } }],
  ['HeadObject', { action: 's3:GetObject', on: 'object', acl: { of: 'object', permission: 'READ' } }],
  ['GetObjectAcl', { action: 's3:GetObjectAcl', on: 'object', acl: { of: 'object', permission: 'READ_ACP' } }],
  // The operation also checks s3:GetObject (object_attributes.ts): S3 requires both.
  ['GetObjectAttributes', { action: 's3:GetObjectAttributes', on: 'object', acl: { of: 'object', permission: 'READ' } }],
  ['PutObjectAcl', { action: 's3:PutObjectAcl', on: 'object', acl: { of: 'object', permission: 'WRITE_ACP' } }],
  ['PutObject', { action: 's3:PutObject', on: 'object', acl: bucketWrite }],
  // A POST form upload (post_object.ts): authorized by the operation once the form names its signer and key.
  ['PostObject', { action: 's3:PutObject', on: 'object', acl: bucketWrite }],
  ['CopyObject', { action: 's3:PutObject', on: 'object', acl: bucketWrite }],
  ['CreateMultipartUpload', { action: 's3:PutObject', on: 'object', acl: bucketWrite }],
  ['UploadPart', { action: 's3:PutObject', on: 'object', acl: bucketWrite }],
  ['UploadPartCopy', { action: 's3:PutObject', on: 'object', acl: bucketWrite }],
  ['CompleteMultipartUpload', { action: 's3:PutObject', on: 'object', acl: bucketWrite }],
  ['AbortMultipartUpload', { action: 's3:AbortMultipartUpload', on: 'object', acl: bucketWrite }],
  ['ListParts', { action: 's3:ListMultipartUploadParts', on: 'object' }],
  ['DeleteObject', { action: 's3:DeleteObject', on: 'object', acl: bucketWrite }],
  // Each key is decided by the operation (RequestAccess.checkObject) and refused in the answer's Error list, as S3 does.
  ['DeleteObjects', { action: 's3:DeleteObject', on: 'bucket', acl: bucketWrite, perKey: true }],
  ['GetObjectTagging', { action: 's3:GetObjectTagging', on: 'object', objectOwners: true }],
  ['PutObjectTagging', { action: 's3:PutObjectTagging', on: 'object', objectOwners: true }],
  ['DeleteObjectTagging', { action: 's3:DeleteObjectTagging', on: 'object', objectOwners: true }],
  // Object lock (object_lock_ops.ts): AWS names the same actions with or without a versionId.
  ['GetObjectLockConfiguration', { action: 's3:GetBucketObjectLockConfiguration', on: 'bucket' }],
  ['PutObjectLockConfiguration', { action: 's3:PutBucketObjectLockConfiguration', on: 'bucket' }],
  ['GetObjectRetention', { action: 's3:GetObjectRetention', on: 'object', objectOwners: true }],
  ['PutObjectRetention', { action: 's3:PutObjectRetention', on: 'object', objectOwners: true }],
  ['GetObjectLegalHold', { action: 's3:GetObjectLegalHold', on: 'object', objectOwners: true }],
  ['PutObjectLegalHold', { action: 's3:PutObjectLegalHold', on: 'object', objectOwners: true }],
]);

/**
 * What an operation needs when the request names one version (versionId in
 * the query, or in x-amz-copy-source / a DeleteObjects entry): S3's
 * *Version actions. An operation not listed here needs what ACTIONS says.
 */
export const VERSION_ACTIONS: ReadonlyMap<string, ActionSpec> = new Map<string, ActionSpec>([
  ['GetObject', { action: 's3:GetObjectVersion', on: 'object', acl: { of: 'object', permission: 'READ' } }],
  ['HeadObject', { action: 's3:GetObjectVersion', on: 'object', acl: { of: 'object', permission: 'READ' } }],
  ['DeleteObject', { action: 's3:DeleteObjectVersion', on: 'object', acl: bucketWrite }],
  ['GetObjectAttributes', { action: 's3:GetObjectVersionAttributes', on: 'object', acl: { of: 'object', permission: 'READ' } }],
  ['GetObjectAcl', { action: 's3:GetObjectVersionAcl', on: 'object', acl: { of: 'object', permission: 'READ_ACP' } }],
  ['PutObjectAcl', { action: 's3:PutObjectVersionAcl', on: 'object', acl: { of: 'object', permission: 'WRITE_ACP' } }],
  ['GetObjectTagging', { action: 's3:GetObjectVersionTagging', on: 'object', objectOwners: true }],
  ['PutObjectTagging', { action: 's3:PutObjectVersionTagging', on: 'object', objectOwners: true }],
  ['DeleteObjectTagging', { action: 's3:DeleteObjectVersionTagging', on: 'object', objectOwners: true }],
]);

/** The spec of `opName`, for a request that names a version or not. */
function specOf(opName: string, versioned: boolean): ActionSpec | undefined {
  return (versioned ? VERSION_ACTIONS.get(opName) : undefined) ?? ACTIONS.get(opName);
}

/** Reads of one key that answer 404 rather than 403 to a requester who may list the bucket (see Authorizer.authorize). */
const MISSING_KEY_OPS = new Set(['GetObject', 'HeadObject']);

/** No current object under the key (none, or a delete marker). */
async function isMissing(core: Core, bucket: string, key: Buffer): Promise<boolean> {
  const record = await readObject(core, bucket, key);
  return record === undefined || isDeleteMarker(record);
}

/** The operations decided before any bucket is read. */
const SERVICE_OPS = new Set(['ListBuckets', 'CreateBucket']);

/** What authorization found, for the operation to use. */
export interface Granted {
  /** The bucket's access record (undefined: no such bucket, or a service operation). */
  readonly access: BucketAccess | undefined;
  /**
   * The current record of the request's object, if the decision read it
   * (an object ACL or owner counted): the operation serves this record
   * rather than read it again (RequestAccess.decidedRecord), so what it
   * answers is what was authorized.
   */
  readonly decided?: DecidedRecord | undefined;
}

/** An object's current record as an authorization decision read it. */
export interface DecidedRecord {
  readonly bucket: string;
  readonly key: Buffer;
  readonly record: ObjectRecord;
}

/** Unsigned: no Authorization header and no presigned query, SigV4's or Signature Version 2's (the tests verifyRequest and v2CarrierOf make). */
export function isUnsigned(rawHeaders: readonly string[], rawQuery: string): boolean {
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]?.toLowerCase() === 'authorization') return false;
  if (v2CarrierOf(rawHeaders, rawQuery) !== undefined) return false;
  return !queryPairs(rawQuery).some(([name]) => name === 'X-Amz-Algorithm');
}

export const anonymousRefusal = (): S3Error => accessDenied('Anonymous access is not allowed: sign requests with AWS Signature Version 4.');

function denied(principal: Principal): S3Error {
  return principal.kind === 'anonymous' ? anonymousRefusal() : accessDenied();
}

/** The grants that count: without public ones under IgnorePublicAcls (step 5). */
function countedGrants(grants: readonly Grant[], access: BucketAccess): readonly Grant[] {
  return access.publicAccessBlock?.ignorePublicAcls === true ? grants.filter((g) => !isPublicAcl([g])) : grants;
}

function principalId(p: Principal): string | undefined {
  return p.kind === 'user' ? p.user.id : undefined;
}

/** Condition keys of the request (policy.ts CONDITION_KEYS). */
function contextOf(r: S3Request, principal: Principal): Map<string, string> {
  const req = r.ex.req;
  const headers: IncomingHttpHeaders = req.headers;
  const context = new Map<string, string>([
    ['aws:securetransport', 'encrypted' in req.socket && req.socket.encrypted === true ? 'true' : 'false'],
    ['aws:principaltype', principal.kind === 'user' ? 'Account' : 'Anonymous'],
    ['aws:userid', principal.kind === 'user' ? principal.user.id : 'anonymous'],
  ]);
  if (req.socket.remoteAddress !== undefined) context.set('aws:sourceip', req.socket.remoteAddress);
  if (principal.kind === 'user') {
    context.set('s3:signatureversion', principal.signedWith.version);
    context.set('s3:authtype', principal.signedWith.authType);
  }
  if (typeof headers.referer === 'string') context.set('aws:referer', headers.referer);
  if (typeof headers['user-agent'] === 'string') context.set('aws:useragent', headers['user-agent']);
  for (const name of ['prefix', 'delimiter', 'max-keys']) {
    const value = r.query.get(name);
    if (value !== undefined) context.set(`s3:${name}`, value);
  }
  for (const name of CONDITION_HEADERS) {
    const value = headers[name];
    if (typeof value === 'string') context.set(`s3:${name}`, name === 'x-amz-copy-source' ? copySourceKeyValue(value) : value);
  }
  return context;
}

/** s3:x-amz-copy-source as policies compare it: `bucket/key` (decoded, no leading slash, no ?versionId). */
function copySourceKeyValue(header: string): string {
  const path = header.split('?')[0] ?? '';
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // Not percent-encoding: compared as sent (the copy itself answers the malformed source).
  }
  return decoded.startsWith('/') ? decoded.slice(1) : decoded;
}

/** The version a versionId names, 'unparsable' if it names none (the operation answers 400; no grant applies meanwhile). */
function namedVersion(versionId: string | undefined): VersionSelector | 'unparsable' | undefined {
  if (versionId === undefined) return undefined;
  try {
    return parseVersionId(versionId);
  } catch (err) {
    if (err instanceof S3Error) return 'unparsable';
    throw err;
  }
}

/** A stored policy parses (it was checked when put): one that does not is damage, answered 500, never skipped. */
function storedPolicy(access: BucketAccess, bucket: string): Policy | undefined {
  if (access.policy === '') return undefined;
  try {
    return parsePolicy(access.policy, bucket);
  } catch (err) {
    throw new Error(`the stored policy of bucket ${bucket} does not parse: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * The checks of one request, an object so that a broken variant can stand
 * in for it (testing/mutants/s3_access_mutants.ts).
 */
export class Authorizer {
  /** Decide `opName` on `r` for `principal`. Throws AccessDenied (or 405 for owner-account-only operations). */
  /** `key`: the object acted on, when the request's path does not name it (a POST form's key field). */
  async authorize(core: Core, r: S3Request, opName: string, principal: Principal, key: Buffer | undefined = r.key): Promise<Granted> {
    if (SERVICE_OPS.has(opName) || r.bucket === undefined) {
      if (principal.kind === 'anonymous') throw anonymousRefusal();
      return { access: undefined };
    }
    const bucket = r.bucket;
    if ((await readBucket(core, bucket)) === undefined) {
      // The operation answers NoSuchBucket to a user. S3 answers it to an
      // anonymous request too (bucket names are public: any name can be
      // probed by CreateBucket); it is thrown here, so no operation runs.
      if (principal.kind === 'anonymous') throw noSuchBucket(bucket);
      return { access: undefined };
    }
    const access = await readBucketAccess(core, bucket);
    const spec = specOf(opName, r.query.get('versionId') !== undefined);
    if (spec?.perKey === true) return { access };
    const objectKey = spec?.on === 'object' ? key : undefined;
    const version = objectKey === undefined ? undefined : namedVersion(r.query.get('versionId'));
    const context = contextOf(r, principal);
    const q = { bucket, access, principal, context };
    // Named field by field (a spread followed by more fields is slow in V8, and this runs on every request).
    const seen: SeenRecord = {};
    await this.check(core, { bucket, access, principal, context, key: objectKey, version, spec: spec ?? { action: `s3:${opName}`, on: 'bucket' }, known: spec !== undefined }, seen);
    // S3's rule for a read of a key that does not exist: 404 to a requester
    // who may list the bucket, 403 to any other. A refused read is answered
    // by refusal() below; a read a policy allowed (an ACL grant needs an
    // object) must still tell a requester who may not list nothing of a
    // missing key.
    const readOfKey = objectKey !== undefined && version === undefined && MISSING_KEY_OPS.has(opName) ? objectKey : undefined;
    if (readOfKey !== undefined && principalId(principal) !== access.ownerId && !(await this.mayList(core, q)) && (await isMissing(core, bucket, readOfKey))) throw denied(principal);
    const decided = objectKey !== undefined && version === undefined && seen.record !== undefined ? { bucket, key: objectKey, record: seen.record } : undefined;
    return { access, decided };
  }

  /** True if `q.principal` may list the bucket (s3:ListBucket, by policy or bucket READ). The listing permission is asked before the key's record is read, so a requester without it learns nothing of the key (not even a damaged record). */
  private async mayList(core: Core, q: Omit<CheckQuery, 'key' | 'spec' | 'known'>): Promise<boolean> {
    try {
      await this.check(core, { bucket: q.bucket, access: q.access, principal: q.principal, context: q.context, key: undefined, spec: LIST_BUCKET, known: true });
      return true;
    } catch (err) {
      if (err instanceof S3Error) return false;
      throw err;
    }
  }

  /** One decision: steps 1-6 of the header. `seen` is told the object record the decision read, if it read one. */
  async check(core: Core, q: CheckQuery, seen?: SeenRecord): Promise<void> {
    const id = principalId(q.principal);
    const isOwner = id !== undefined && id === q.access.ownerId;
    const policy = storedPolicy(q.access, q.bucket);
    const resource = q.key === undefined ? `arn:aws:s3:::${q.bucket}` : `arn:aws:s3:::${q.bucket}/${q.key.toString('utf8')}`;
    const context = policy === undefined ? q.context : await this.withObjectTags(core, q, policy);
    const request: PolicyRequest = { principalId: id, action: q.spec.action, resource, context };
    const decision = policy === undefined ? 'none' : evaluatePolicy(policy, request);
    if (decision === 'deny' && !(isOwner && q.spec.ownerAccountOnly === true)) throw denied(q.principal);
    // The object's owner and ACL, read once: step 2 needs them where
    // objects may be their writer's, step 5 for an object ACL grant.
    let objectAcl: Promise<ObjectAclView | undefined> | undefined;
    const readAcl = (): Promise<ObjectAclView | undefined> => (objectAcl ??= this.objectAcl(core, q, seen));
    const ofObject = q.spec.acl?.of === 'object' || q.spec.objectOwners === true;
    const foreign = ofObject && writersOwnObjects(q.access) ? await readAcl() : undefined;
    if (foreign !== undefined && foreign.ownerId !== q.access.ownerId) {
      if (q.spec.objectOwners === true) {
        if (id === foreign.ownerId) return;
        throw await this.refusal(core, q);
      }
      const permission = q.spec.acl?.permission ?? 'FULL_CONTROL';
      if (id === foreign.ownerId && (permission === 'READ_ACP' || permission === 'WRITE_ACP')) return;
      if (aclAllows(countedGrants(foreign.grants, q.access), id, permission)) return;
      throw await this.refusal(core, q);
    }
    if (isOwner) return;
    if (!q.known) throw denied(q.principal);
    const pab = q.access.publicAccessBlock;
    const restricted = pab?.restrictPublicBuckets === true && policy !== undefined && isPublicPolicy(policy);
    if (decision === 'allow' && !restricted) {
      if (q.spec.ownerAccountOnly === true) throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
      return;
    }
    if (q.spec.acl === undefined || q.access.ownership === 'BucketOwnerEnforced') throw await this.refusal(core, q);
    const grants = q.spec.acl.of === 'bucket' ? q.access.grants : ((await readAcl())?.grants ?? []);
    if (!aclAllows(countedGrants(grants, q.access), id, q.spec.acl.permission)) throw await this.refusal(core, q);
  }

  /**
   * The refusal of a request no deny refused and nothing allowed. A read of
   * a key with no current object is 404 NoSuchKey for a principal who may
   * list the bucket (s3:ListBucket), as S3 documents: it could learn that
   * by listing. Otherwise 403, which tells nothing.
   */
  private async refusal(core: Core, q: CheckQuery): Promise<S3Error> {
    if (q.spec.action !== 's3:GetObject' || q.key === undefined || q.version !== undefined) return denied(q.principal);
    if (!(await isMissing(core, q.bucket, q.key)) || !(await this.mayList(core, { ...q, version: undefined }))) return denied(q.principal);
    return noSuchKey(q.key.toString('utf8'));
  }

  /** The request's condition keys, with s3:ExistingObjectTag/* of the object (or version) acted on when the policy asks for them. */
  private async withObjectTags(core: Core, q: CheckQuery, policy: Policy): Promise<ReadonlyMap<string, string>> {
    if (q.key === undefined || q.version === 'unparsable' || !usesExistingObjectTags(policy, q.spec.action)) return q.context;
    const record = q.version === undefined ? await readObject(core, q.bucket, q.key) : (await findVersion(core, q.bucket, q.key, q.version))?.record;
    if (record === undefined || isDeleteMarker(record)) return q.context;
    const context = new Map(q.context);
    for (const [key, value] of record.tags) context.set(EXISTING_OBJECT_TAG_PREFIX + key, value);
    return context;
  }

  /** The owner and grants of the object, or of the version named (undefined: none): an ACL belongs to its version, as in S3 (a public current version opens no private old one). */
  private async objectAcl(core: Core, q: Pick<CheckQuery, 'bucket' | 'key' | 'version' | 'access'>, seen?: SeenRecord): Promise<ObjectAclView | undefined> {
    if (q.key === undefined || q.version === 'unparsable') return undefined;
    const record = q.version === undefined ? await readObject(core, q.bucket, q.key) : (await findVersion(core, q.bucket, q.key, q.version))?.record;
    if (seen !== undefined && q.version === undefined) seen.record = record;
    return record === undefined || isDeleteMarker(record) ? undefined : readObjectAcl(core, q.bucket, q.key, record, q.access);
  }
}

/** Where check() leaves the current object record it read (objectAcl). */
interface SeenRecord {
  record?: ObjectRecord | undefined;
}

export interface CheckQuery {
  readonly bucket: string;
  readonly key: Buffer | undefined;
  /** The version of the object the request names (its ACL is that version's); 'unparsable': an id that names none. */
  readonly version?: VersionSelector | 'unparsable' | undefined;
  readonly access: BucketAccess;
  readonly spec: ActionSpec;
  /** False for an operation ACTIONS does not list: the owner's alone. */
  readonly known: boolean;
  readonly principal: Principal;
  readonly context: ReadonlyMap<string, string>;
}

export const AUTHORIZER = new Authorizer();

/** What operations use to check further resources of one request (copy sources, the keys of DeleteObjects). */
export class RequestAccess {
  constructor(
    private readonly core: Core,
    private readonly r: S3Request,
    readonly principal: Principal,
    readonly users: UserSet,
    private readonly decided: DecidedRecord | undefined = undefined,
  ) {}

  /**
   * The current record of `bucket`/`key` that authorization decided on, if
   * it read one: GET and HEAD serve it (one read of the record, not two),
   * so the answer is the object the decision allowed, not one written
   * between the two reads.
   */
  decidedRecord(bucket: string, key: Buffer): ObjectRecord | undefined {
    const d = this.decided;
    return d !== undefined && d.bucket === bucket && d.key.equals(key) ? d.record : undefined;
  }

  /** Throws AccessDenied unless the principal may do `opName`'s action (its *Version action if `versioned`) on the object (which may be in another bucket). */
  async checkObject(opName: 'GetObject' | 'DeleteObject', bucket: string, key: Buffer, versioned = false, version?: VersionSelector): Promise<void> {
    if ((await readBucket(this.core, bucket)) === undefined) {
      if (this.principal.kind === 'anonymous') throw anonymousRefusal();
      return;
    }
    const spec = specOf(opName, versioned);
    if (spec === undefined) throw new Error(`no action for ${opName}`);
    const access = await readBucketAccess(this.core, bucket);
    const refusal = opName === 'GetObject' ? expectedOwnerRefusal(this.r.ex.req.headers, access.ownerId, 'x-amz-source-expected-bucket-owner') : undefined;
    if (refusal !== undefined) throw refusal;
    await AUTHORIZER.check(this.core, { bucket, key, version, access, spec, known: true, principal: this.principal, context: contextOf(this.r, this.principal) });
  }

  /**
   * Throws AccessDenied unless the principal may do IAM action `action` on
   * the object, beyond what its operation needed: s3:BypassGovernanceRetention,
   * and s3:PutObjectRetention / s3:PutObjectLegalHold for lock headers on a write (object_lock.ts).
   */
  async checkObjectAction(action: string, bucket: string, key: Buffer): Promise<void> {
    if ((await readBucket(this.core, bucket)) === undefined) {
      if (this.principal.kind === 'anonymous') throw anonymousRefusal();
      return;
    }
    const access = await readBucketAccess(this.core, bucket);
    await AUTHORIZER.check(this.core, { bucket, key, access, spec: { action, on: 'object' }, known: true, principal: this.principal, context: contextOf(this.r, this.principal) });
  }

  /** The requester's canonical id (undefined: anonymous). */
  get requesterId(): string | undefined {
    return principalId(this.principal);
  }
}
