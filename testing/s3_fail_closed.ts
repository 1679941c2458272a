// The fail-closed walk: every S3 subresource and every header that asks for
// a guarantee the server does not give, sent signed to a real server, each
// must answer 501 NotImplemented and change nothing.
//
// Strategy: the lists below are written from the AWS S3 API reference, not
// imported from src/ (a check that reads the code's own list would pass
// whatever the list says). For each subresource, each method and each
// resource kind (an empty bucket, an existing object) that the server does
// not implement, one request; then each implemented row again with an
// unimplemented subresource added. For each header, one request per
// operation that could store, copy, read or delete. Before and after each
// request the whole store (every shard key and value) is hashed.
//
// Invariants (each failure is one Violation, with the request that broke it):
//   1. The answer is 501 with code NotImplemented ("answered S C, expected 501").
//   2. The store is byte-for-byte unchanged ("changed the store").
//   3. Headers whose value asks for what the server does (x-amz-acl:
//      private, ...) are accepted ("refused an accepted value").
import { createHash } from 'node:crypto';
import type { ShardApi } from '../src/store/types.js';
import type { Answer, RawRequest } from './s3_wire.js';
import { describe, sendSigned } from './s3_wire.js';

/** Every S3 subresource (the AWS S3 API reference's query parameters that name an operation). */
export const WALKED_SUBRESOURCES: readonly string[] = [
  'accelerate', 'acl', 'analytics', 'attributes', 'cors', 'delete', 'encryption', 'intelligent-tiering', 'inventory',
  'legal-hold', 'lifecycle', 'location', 'logging', 'metadataTable', 'metrics', 'notification', 'object-lock',
  'ownershipControls', 'partNumber', 'policy', 'policyStatus', 'publicAccessBlock', 'replication', 'requestPayment',
  'restore', 'retention', 'select', 'session', 'tagging', 'torrent', 'uploadId', 'uploads', 'versionId', 'versioning',
  'versions', 'website',
];

/** What the server implements, as docs/S3.md lists it: [method, kind, subresources]. */
const IMPLEMENTED: ReadonlyArray<readonly [string, Kind, string]> = [
  ['GET', 'bucket', 'acl'],
  ['GET', 'bucket', 'location'],
  ['GET', 'bucket', 'versioning'],
  ['PUT', 'bucket', 'versioning'],
  ['GET', 'bucket', 'versions'],
  ['GET', 'object', 'versionId'],
  ['HEAD', 'object', 'versionId'],
  ['DELETE', 'object', 'versionId'],
  ['GET', 'bucket', 'uploads'],
  ['POST', 'bucket', 'delete'],
  ['GET', 'object', 'acl'],
  ['POST', 'object', 'uploads'],
  ['PUT', 'object', 'uploadId'],
  ['POST', 'object', 'uploadId'],
  ['DELETE', 'object', 'uploadId'],
  ['GET', 'object', 'uploadId'],
  ['GET', 'bucket', 'tagging'],
  ['PUT', 'bucket', 'tagging'],
  ['DELETE', 'bucket', 'tagging'],
  ['GET', 'object', 'tagging'],
  ['PUT', 'object', 'tagging'],
  ['DELETE', 'object', 'tagging'],
  ['PUT', 'bucket', 'acl'],
  ['PUT', 'object', 'acl'],
  ['GET', 'bucket', 'policy'],
  ['PUT', 'bucket', 'policy'],
  ['DELETE', 'bucket', 'policy'],
  ['GET', 'bucket', 'policyStatus'],
  ['GET', 'bucket', 'publicAccessBlock'],
  ['PUT', 'bucket', 'publicAccessBlock'],
  ['DELETE', 'bucket', 'publicAccessBlock'],
  ['GET', 'bucket', 'ownershipControls'],
  ['PUT', 'bucket', 'ownershipControls'],
  ['DELETE', 'bucket', 'ownershipControls'],
  ['GET', 'bucket', 'cors'],
  ['PUT', 'bucket', 'cors'],
  ['DELETE', 'bucket', 'cors'],
  ['GET', 'bucket', 'object-lock'],
  ['PUT', 'bucket', 'object-lock'],
  ['GET', 'object', 'retention'],
  ['PUT', 'object', 'retention'],
  ['GET', 'object', 'legal-hold'],
  ['PUT', 'object', 'legal-hold'],
  ['GET', 'bucket', 'lifecycle'],
  ['PUT', 'bucket', 'lifecycle'],
  ['DELETE', 'bucket', 'lifecycle'],
  ['GET', 'bucket', 'encryption'],
  ['PUT', 'bucket', 'encryption'],
  ['DELETE', 'bucket', 'encryption'],
  ['GET', 'object', 'partNumber'],
  ['HEAD', 'object', 'partNumber'],
  ['GET', 'object', 'attributes'],
];

/** Headers asking for a guarantee the server does not give, with a value that asks for it. */
export const REFUSED_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['x-amz-server-side-encryption', 'aws:kms'],
  ['x-amz-server-side-encryption', 'aws:kms:dsse'],
  ['x-amz-server-side-encryption-aws-kms-key-id', 'arn:aws:kms:us-east-1:111122223333:key/k'],
  ['x-amz-server-side-encryption-context', 'e30='],
  ['x-amz-server-side-encryption-bucket-key-enabled', 'true'],
  // An object lock header the server does not know (the three it serves are operation-bound below).
  ['x-amz-object-lock-token', 'token'],
  ['x-amz-acl', 'aws-exec-read'],
  ['x-amz-acl', 'log-delivery-write'],
  ['x-amz-website-redirect-location', '/elsewhere'],
  ['x-amz-storage-class', 'GLACIER'],
  ['x-amz-storage-class', 'REDUCED_REDUNDANCY'],
  ['x-amz-storage-class', 'DEEP_ARCHIVE'],
  ['x-amz-mfa', 'SERIAL 123456'],
  ['x-amz-write-offset-bytes', '0'],
  ['x-amz-if-match-size', '1'],
  ['x-amz-if-match-last-modified-time', 'Wed, 01 Jan 2025 00:00:00 GMT'],
];

/** The carriers that store an ACL header: CreateBucket and the object writes (object_acl.ts). */
const ACL_CARRIERS: readonly Carrier[] = ['CreateBucket', 'PutObject', 'CopyObject', 'CreateMultipartUpload'];

/**
 * Headers served by some operations only (tagging): on every other
 * operation they would be ignored, so there they must be refused.
 * [name, value, the operations of headerCarriers that serve it].
 */
export const OPERATION_BOUND_HEADERS: ReadonlyArray<readonly [string, string, readonly Carrier[]]> = [
  // Encryption is served where S3 encrypts or reads an object (testing/s3_sse.test.ts); elsewhere it would be ignored.
  ['x-amz-server-side-encryption', 'AES256', ['PutObject', 'CopyObject', 'CreateMultipartUpload']],
  ['x-amz-server-side-encryption-customer-algorithm', 'AES256', ['PutObject', 'CopyObject', 'CreateMultipartUpload', 'GetObject']],
  ['x-amz-server-side-encryption-customer-key', Buffer.alloc(32, 7).toString('base64'), ['PutObject', 'CopyObject', 'CreateMultipartUpload', 'GetObject']],
  ['x-amz-server-side-encryption-customer-key-md5', createHash('md5').update(Buffer.alloc(32, 7)).digest('base64'), ['PutObject', 'CopyObject', 'CreateMultipartUpload', 'GetObject']],
  ['x-amz-copy-source-server-side-encryption-customer-algorithm', 'AES256', ['CopyObject']],
  ['x-amz-copy-source-server-side-encryption-customer-key', Buffer.alloc(32, 7).toString('base64'), ['CopyObject']],
  ['x-amz-tagging', 'owner=alice', ['PutObject', 'CopyObject', 'CreateMultipartUpload']],
  ['x-amz-tagging-directive', 'REPLACE', ['CopyObject']],
  // ACLs are stored by CreateBucket and the object writes (and Put*Acl, not carriers); a read or a delete would ignore them.
  ['x-amz-grant-read', 'uri="http://acs.amazonaws.com/groups/global/AllUsers"', ACL_CARRIERS],
  ['x-amz-grant-write', `id="${'a'.repeat(64)}"`, ACL_CARRIERS],
  ['x-amz-grant-read-acp', `id="${'a'.repeat(64)}"`, ACL_CARRIERS],
  ['x-amz-grant-write-acp', `id="${'a'.repeat(64)}"`, ACL_CARRIERS],
  ['x-amz-grant-full-control', `id="${'a'.repeat(64)}"`, ACL_CARRIERS],
  ['x-amz-acl', 'public-read', ACL_CARRIERS],
  ['x-amz-acl', 'public-read-write', ACL_CARRIERS],
  ['x-amz-acl', 'authenticated-read', ACL_CARRIERS],
  ['x-amz-object-ownership', 'BucketOwnerEnforced', ['CreateBucket']],
  ['x-amz-object-ownership', 'ObjectWriter', ['CreateBucket']],
  // Object lock: set by the writes, enabled by CreateBucket; the bypass serves DeleteObject with a versionId only (not a carrier).
  ['x-amz-object-lock-mode', 'COMPLIANCE', ['PutObject', 'CopyObject', 'CreateMultipartUpload']],
  ['x-amz-object-lock-retain-until-date', '2099-01-01T00:00:00Z', ['PutObject', 'CopyObject', 'CreateMultipartUpload']],
  ['x-amz-object-lock-legal-hold', 'ON', ['PutObject', 'CopyObject', 'CreateMultipartUpload']],
  ['x-amz-bucket-object-lock-enabled', 'true', ['CreateBucket']],
  ['x-amz-bypass-governance-retention', 'true', ['DeleteObject']],
];

/** Values that ask only for what the server does: must be accepted. */
export const ACCEPTED_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['x-amz-acl', 'private'],
  ['x-amz-acl', 'bucket-owner-full-control'],
  ['x-amz-storage-class', 'STANDARD'],
  ['x-amz-request-payer', 'requester'],
];

type Kind = 'bucket' | 'object';
const METHODS = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'] as const;
const BUCKET = 'walk';
const EMPTY_BUCKET = 'walk-empty';
const OBJECT = `/${BUCKET}/obj`;

export interface Violation {
  /** `METHOD /path?query [header: value]` */
  readonly request: string;
  readonly problem: string;
}

/** Creates the buckets and the object the walk works on. */
export async function prepareWalk(port: number): Promise<void> {
  for (const r of [
    { method: 'PUT', path: `/${BUCKET}` },
    { method: 'PUT', path: `/${EMPTY_BUCKET}` },
    { method: 'PUT', path: OBJECT, body: Buffer.from('walked object') },
  ]) {
    const a = await sendSigned(port, r);
    if (a.status !== 200) throw new Error(`walk setup ${describe(r)}: ${a.status} ${a.body}`);
  }
}

/**
 * What a walk request must get: 501 ('refused'), not 501 ('accepted'
 * headers), or AWS's 400 InvalidArgument ('invalid': x-amz-server-side-encryption
 * on a read, and an SSE-KMS key id without aws:kms on a write, which AWS
 * refuses so; fail_closed.ts HeaderGuard).
 */
type Expectation = 'refused' | 'accepted' | 'invalid';

/** The writes on which an SSE-KMS key id without aws:kms is AWS's 400 InvalidArgument. */
const KMS_KEY_ID_CARRIERS: readonly Carrier[] = ['PutObject', 'CopyObject', 'CreateMultipartUpload'];

const expectationOf = (carrier: Carrier, header: string): Expectation =>
  (carrier === 'GetObject' && header === 'x-amz-server-side-encryption') || (KMS_KEY_ID_CARRIERS.includes(carrier) && header === 'x-amz-server-side-encryption-aws-kms-key-id') ? 'invalid' : 'refused';

/** Every request the walk sends, each with what it must get (Expectation). */
export function walkRequests(): Array<{ readonly request: RawRequest; readonly label: string; readonly expect: Expectation }> {
  const out: Array<{ request: RawRequest; label: string; expect: Expectation }> = [];
  const implemented = (method: string, kind: Kind, sub: string): boolean => IMPLEMENTED.some(([m, k, s]) => m === method && k === kind && s === sub);
  const path = (kind: Kind): string => (kind === 'bucket' ? `/${EMPTY_BUCKET}` : OBJECT);
  const valueOf = (sub: string): string => (sub === 'versionId' ? '3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY' : sub === 'partNumber' ? '1' : sub === 'uploadId' ? '0'.repeat(32) : '');
  for (const sub of WALKED_SUBRESOURCES) {
    for (const method of METHODS) {
      for (const kind of ['bucket', 'object'] as const) {
        if (implemented(method, kind, sub)) continue;
        const request = { method, path: path(kind), query: { [sub]: valueOf(sub) }, ...(method === 'PUT' || method === 'POST' ? { body: Buffer.alloc(0) } : {}) };
        out.push({ request, label: describe(request), expect: 'refused' });
      }
    }
  }
  // An implemented subresource does not make an unimplemented one beside it acceptable.
  for (const [method, kind, sub] of IMPLEMENTED) {
    const request = { method, path: path(kind), query: { [sub]: valueOf(sub), torrent: '' }, ...(method === 'PUT' || method === 'POST' ? { body: Buffer.alloc(0) } : {}) };
    out.push({ request, label: describe(request), expect: 'refused' });
  }
  for (const [name, value] of REFUSED_HEADERS) {
    for (const [carrier, request] of headerCarriers({ [name]: value })) out.push({ request, label: `${describe(request)} [${name}: ${value}]`, expect: expectationOf(carrier, name) });
  }
  for (const [name, value, servedBy] of OPERATION_BOUND_HEADERS) {
    for (const [carrier, request] of headerCarriers({ [name]: value })) {
      if (!servedBy.includes(carrier)) out.push({ request, label: `${describe(request)} [${name}: ${value}]`, expect: expectationOf(carrier, name) });
    }
  }
  for (const [name, value] of ACCEPTED_HEADERS) {
    const request = { method: 'PUT', path: `/${BUCKET}/accepted`, headers: { [name]: value }, body: Buffer.from('accepted') };
    out.push({ request, label: `${describe(request)} [${name}: ${value}]`, expect: 'accepted' });
  }
  return out;
}

type Carrier = 'PutObject' | 'CopyObject' | 'CreateMultipartUpload' | 'CreateBucket' | 'GetObject' | 'DeleteObject';

/** The operations a header is tried on: store, copy, start an upload, create a bucket, read, delete. */
function headerCarriers(headers: Readonly<Record<string, string>>): Array<readonly [Carrier, RawRequest]> {
  return [
    ['PutObject', { method: 'PUT', path: `/${BUCKET}/new`, headers, body: Buffer.from('must not be stored') }],
    ['CopyObject', { method: 'PUT', path: `/${BUCKET}/copy`, headers: { ...headers, 'x-amz-copy-source': OBJECT }, body: Buffer.alloc(0) }],
    ['CreateMultipartUpload', { method: 'POST', path: `/${BUCKET}/upload`, query: { uploads: '' }, headers, body: Buffer.alloc(0) }],
    ['CreateBucket', { method: 'PUT', path: '/walk-new-bucket', headers, body: Buffer.alloc(0) }],
    ['GetObject', { method: 'GET', path: OBJECT, headers }],
    ['DeleteObject', { method: 'DELETE', path: OBJECT, headers }],
  ];
}

/** Send every walk request; returns what broke the invariants (empty: none). */
export async function walkFailClosed(port: number, store: ShardApi): Promise<Violation[]> {
  const violations: Violation[] = [];
  for (const { request, label, expect } of walkRequests()) {
    const before = await storeDigest(store);
    const answer = await sendSigned(port, request);
    const got = [answer.status, answer.code ?? ''].join(' ').trim();
    if (expect === 'accepted') {
      if (answer.status !== 200) violations.push({ request: label, problem: `refused an accepted value: ${got}` });
      continue;
    }
    if (expect === 'invalid') {
      if (got !== '400 InvalidArgument') violations.push({ request: label, problem: `answered ${got}, expected 400 InvalidArgument` });
    } else if (!isNotImplemented(answer)) {
      violations.push({ request: label, problem: `answered ${got}, expected 501 NotImplemented` });
    }
    if ((await storeDigest(store)) !== before) violations.push({ request: label, problem: 'changed the store' });
  }
  return violations;
}

function isNotImplemented(a: Answer): boolean {
  return a.status === 501 && a.code === 'NotImplemented';
}

/** SHA-256 over every shard key and value. */
export async function storeDigest(store: ShardApi): Promise<string> {
  const hash = createHash('sha256');
  let startAfter: Buffer | undefined;
  for (;;) {
    const page = await store.list(startAfter === undefined ? {} : { startAfter });
    for (const { key } of page.shards) hash.update(key).update('\0').update(await store.get(key)).update('\0');
    const last = page.shards.at(-1);
    if (!page.truncated || last === undefined) return hash.digest('hex');
    startAfter = last.key;
  }
}
