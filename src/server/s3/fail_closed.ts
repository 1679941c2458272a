// Fail closed: what S3 can ask for that this server does not do.
//
// Two lists, both checked before any operation runs (after authentication,
// so an unsigned request learns nothing):
//
// 1. S3_SUBRESOURCES: every query parameter S3 treats as a subresource
//    (it selects an operation, e.g. `PUT /b?versioning` is
//    PutBucketVersioning, not CreateBucket). The route table (routes.ts)
//    keys on the set of these a request carries; a set it has no row for
//    answers 501 NotImplemented, never the operation without it.
// 2. HEADER_RULES: request headers that ask for a guarantee we do not give
//    (encryption, object lock, tagging, grants, public ACLs, website
//    redirects, other storage classes, MFA delete, appends, directory-bucket
//    conditions). Storing the object anyway would be a silent lie (an "SSE-C"
//    object kept in plaintext and served without its key; a "locked" object
//    that can be deleted), so such a request answers 501 before anything is
//    read or stored, on every operation.
//
// Object lock headers are served by the operations that act on them
// (object_lock.ts) and refused elsewhere, like tagging headers.
//
// Decisions (docs/S3.md, "Refused"): values that ask for exactly what the
// server does are accepted: `x-amz-acl: private` and
// `bucket-owner-full-control` on the other object writes (UploadPart...:
// the upload's owner and ACL were decided by CreateMultipartUpload),
// `x-amz-storage-class: STANDARD`, `x-amz-bucket-object-lock-enabled:
// false`. ACL headers and `x-amz-object-ownership` are served by the
// operations that store them (CreateBucket, Put*Acl, and PutObject,
// CopyObject, CreateMultipartUpload: object_acl.ts). Tagging headers are
// served, but only by the operations that act on them (`x-amz-tagging` on
// PutObject, CreateMultipartUpload and CopyObject, `x-amz-tagging-directive`
// on CopyObject); on any other operation they would be ignored, so they
// are refused there. `x-amz-request-payer` is accepted
// (nothing is billed) and `x-amz-checksum-mode` too (current SDKs send it on
// every GET; the answer carries no checksum and the client sees none).
// `x-amz-expected-bucket-owner` is honoured: any other owner is 403 (s3_front.ts, authorize.ts).
// Query parameters S3 does not know are ignored, as S3 ignores them.
import type { IncomingHttpHeaders } from 'node:http';
import { accessDenied, invalidArgument, notImplemented } from './s3_errors.js';
import type { S3Error } from './s3_errors.js';

/** Every S3 subresource (query parameter that names an operation), implemented or not. */
export const S3_SUBRESOURCES: readonly string[] = [
  'abac', 'accelerate', 'acl', 'analytics', 'attributes', 'cors', 'delete', 'encryption', 'intelligent-tiering',
  'inventory', 'legal-hold', 'lifecycle', 'location', 'logging', 'metadataConfiguration', 'metadataTable', 'metrics',
  'notification', 'object-lock', 'ownershipControls', 'partNumber', 'policy', 'policyStatus', 'publicAccessBlock',
  'renameObject', 'replication', 'requestPayment', 'restore', 'retention', 'select', 'session', 'tagging', 'torrent',
  'uploadId', 'uploads', 'versionId', 'versioning', 'versions', 'website',
];

/** The operations that store what x-amz-acl and x-amz-grant-* ask for (access_ops.ts, bucket_ops.ts, object_acl.ts). */
const ACL_HEADER_OPS: readonly string[] = ['CreateBucket', 'PutBucketAcl', 'PutObjectAcl', 'PutObject', 'CopyObject', 'CreateMultipartUpload'];

/** The operations that encrypt a new object (sse.ts): x-amz-server-side-encryption (AES256; aws:kms is their 501). */
const SSE_WRITE_OPS: readonly string[] = ['PutObject', 'CopyObject', 'CreateMultipartUpload'];
/** The operations that take an SSE-C key: to encrypt, or to read or extend what it encrypted. */
const SSE_C_OPS: readonly string[] = [...SSE_WRITE_OPS, 'GetObject', 'HeadObject', 'GetObjectAttributes', 'UploadPart', 'UploadPartCopy', 'CompleteMultipartUpload', 'ListParts'];

/** The SSE-KMS key id header: on a write without aws:kms, AWS's 400 (HeaderGuard). */
const KMS_KEY_ID = 'x-amz-server-side-encryption-aws-kms-key-id';

/** The object reads that answer x-amz-server-side-encryption with AWS's 400 (HeaderGuard). */
const READ_OPS: ReadonlySet<string> = new Set(['GetObject', 'HeadObject']);

interface HeaderRule {
  /** Lower-case header name, or a prefix of names if `prefix`. */
  readonly name: string;
  readonly prefix?: boolean;
  /** Values that ask only for what the server does (compared case-insensitively). */
  readonly accepted?: readonly string[];
  /** The guarantee the header asks for (the 501 message). */
  readonly asks: string;
  /** Operations that serve the header (any value): on these it is not refused. */
  readonly servedBy?: readonly string[];
}

export const HEADER_RULES: readonly HeaderRule[] = [
  // Encryption (sse.ts): SSE-S3 and SSE-C on the operations that write or read objects; SSE-KMS (its values, key id, context, bucket key) stays 501.
  { name: 'x-amz-server-side-encryption', asks: 'server-side encryption from an operation that does not encrypt', servedBy: SSE_WRITE_OPS },
  { name: 'x-amz-server-side-encryption-customer-', prefix: true, asks: 'an SSE-C key on an operation that does not use it', servedBy: SSE_C_OPS },
  { name: 'x-amz-copy-source-server-side-encryption-customer-', prefix: true, asks: 'an SSE-C key of a copy source outside a copy', servedBy: ['CopyObject', 'UploadPartCopy'] },
  { name: 'x-amz-server-side-encryption', prefix: true, asks: 'server-side encryption (SSE-KMS)' },
  { name: 'x-amz-copy-source-server-side-encryption', prefix: true, asks: 'server-side encryption of the copy source (SSE-KMS)' },
  // Object lock (object_lock.ts): served by the writes that set it, CreateBucket, and the removals it guards.
  { name: 'x-amz-object-lock-', prefix: true, asks: 'object lock (retention, legal hold) outside a write', servedBy: ['PutObject', 'CopyObject', 'CreateMultipartUpload'] },
  { name: 'x-amz-bucket-object-lock-enabled', accepted: ['false'], asks: 'object lock outside CreateBucket', servedBy: ['CreateBucket'] },
  { name: 'x-amz-bucket-object-lock-token', asks: 'an object lock token (buckets with replication)' },
  { name: 'x-amz-bypass-governance-retention', asks: 'a governance bypass outside a removal or retention change', servedBy: ['DeleteObject', 'DeleteObjects', 'PutObjectRetention'] },
  { name: 'x-amz-tagging', asks: 'tags from an operation that does not set them', servedBy: ['PutObject', 'CreateMultipartUpload', 'CopyObject'] },
  { name: 'x-amz-tagging-directive', asks: 'a tagging directive outside CopyObject', servedBy: ['CopyObject'] },
  { name: 'x-amz-grant-', prefix: true, asks: 'access control grants on an object write', servedBy: ACL_HEADER_OPS },
  { name: 'x-amz-acl', accepted: ['private', 'bucket-owner-full-control'], asks: 'a canned ACL other than private on an object write', servedBy: ACL_HEADER_OPS },
  { name: 'x-amz-object-ownership', asks: 'object ownership outside CreateBucket', servedBy: ['CreateBucket'] },
  { name: 'x-amz-website-redirect-location', asks: 'website redirects' },
  { name: 'x-amz-storage-class', accepted: ['STANDARD'], asks: 'a storage class other than STANDARD' },
  { name: 'x-amz-mfa', asks: 'MFA delete' },
  { name: 'x-amz-write-offset-bytes', asks: 'appending to an object' },
  { name: 'x-amz-if-match-', prefix: true, asks: 'directory-bucket conditions (size, times)' },
];

/**
 * The header check, an object so that a broken variant can replace it
 * (testing/mutants/s3_mutants.ts).
 */
export class HeaderGuard {
  /**
   * The 501 for the first header asking operation `opName` for an
   * unimplemented guarantee, or undefined. x-amz-server-side-encryption on
   * a read is AWS's 400 InvalidArgument instead (a read decrypts what the
   * object's own record says; AWS refuses the header there), and so is an
   * SSE-KMS key id on a write that does not ask for aws:kms.
   */
  refusal(headers: IncomingHttpHeaders, opName: string): S3Error | undefined {
    if (READ_OPS.has(opName) && headers['x-amz-server-side-encryption'] !== undefined) {
      return invalidArgument('x-amz-server-side-encryption header is not supported for this operation.', { ArgumentName: 'x-amz-server-side-encryption' });
    }
    // A KMS key id on a write that does not ask for aws:kms is AWS's 400 (with aws:kms it is the 501 below: no KMS here).
    const sse = headers['x-amz-server-side-encryption'];
    const asksKms = typeof sse === 'string' && sse.trim().startsWith('aws:kms');
    if (SSE_WRITE_OPS.includes(opName) && headers[KMS_KEY_ID] !== undefined && !asksKms) {
      return invalidArgument('Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms', { ArgumentName: KMS_KEY_ID });
    }
    for (const [name, value] of Object.entries(headers)) {
      if (!name.startsWith('x-amz-')) continue;
      const rule = HEADER_RULES.find((r) => (r.prefix === true ? name.startsWith(r.name) : name === r.name));
      if (rule === undefined) continue;
      if (rule.servedBy?.includes(opName) === true) continue;
      const text = (Array.isArray(value) ? value.join(',') : (value ?? '')).trim().toLowerCase();
      if (rule.accepted?.some((a) => a.toLowerCase() === text) === true) continue;
      return notImplemented(`${name} (${rule.asks})`);
    }
    return undefined;
  }
}

export const HEADER_GUARD = new HeaderGuard();

/** x-amz-expected-bucket-owner (of the request's bucket) or x-amz-source-expected-bucket-owner (of a copy source): any other owner is 403. */
export function expectedOwnerRefusal(headers: IncomingHttpHeaders, ownerId: string, name: 'x-amz-expected-bucket-owner' | 'x-amz-source-expected-bucket-owner'): S3Error | undefined {
  const value = headers[name];
  if (typeof value === 'string' && value.trim() !== ownerId) return accessDenied(`The bucket is not owned by ${value.trim()}`);
  return undefined;
}
