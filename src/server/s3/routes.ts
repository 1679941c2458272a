// Which S3 operation a request is: a table keyed by method, resource kind
// (service, bucket, object) and the set of S3 subresources the query names
// (fail_closed.ts has the full list S3 knows). A request whose key has no
// row never falls through to another operation: with a subresource it
// answers 501 NotImplemented (PUT /bucket?versioning is not CreateBucket),
// without one 405 MethodNotAllowed. Headers asking for a guarantee we do
// not give are refused here too (501), so routing a request is also
// deciding that nothing it asks for is silently ignored.
//
// Two choices are made inside a row, not by the key: x-amz-copy-source
// makes a PUT a copy (CopyObject, UploadPartCopy), and GET on a bucket is
// ListObjects v1 or v2 by its list-type parameter.
import type { IncomingHttpHeaders } from 'node:http';
import {
  deleteBucketPolicyOp,
  deletePublicAccessBlockOp,
  getBucketAclOp,
  getBucketOwnershipControlsOp,
  getBucketPolicyOp,
  getBucketPolicyStatusOp,
  getObjectAclOp,
  getPublicAccessBlockOp,
  putBucketAclOp,
  putBucketOwnershipControlsOp,
  deleteBucketOwnershipControlsOp,
  putBucketPolicyOp,
  putObjectAclOp,
  putPublicAccessBlockOp,
} from './access_ops.js';
import {
  createBucketOp,
  deleteBucketOp,
  getBucketLocationOp,
  headBucketOp,
  listBucketsOp,
} from './bucket_ops.js';
import { HEADER_GUARD, S3_SUBRESOURCES } from './fail_closed.js';
import { listMultipartUploadsOp, listObjectsV1Op, listObjectsV2Op, listPartsOp } from './list_ops.js';
import {
  abortMultipartUploadOp,
  completeMultipartUploadOp,
  createMultipartUploadOp,
  uploadPartCopyOp,
  uploadPartOp,
} from './multipart_ops.js';
import { deleteBucketEncryptionOp, getBucketEncryptionOp, putBucketEncryptionOp } from './bucket_encryption_ops.js';
import { deleteBucketCorsOp, getBucketCorsOp, preflightOp, putBucketCorsOp } from './cors_ops.js';
import { deleteBucketLifecycleOp, getBucketLifecycleOp, putBucketLifecycleOp } from './lifecycle_ops.js';
import { copyObjectOp, deleteObjectOp, deleteObjectsOp, getObjectOp, headObjectOp, putObjectOp } from './object_ops.js';
import { getObjectAttributesOp } from './object_attributes.js';
import { getObjectPartOp, headObjectPartOp } from './object_parts.js';
import { postObjectOp } from './post_object.js';
import type { Operation, UnsignedOperation } from './operation.js';
import type { S3Request } from './request.js';
import { S3Error, notImplemented } from './s3_errors.js';
import {
  deleteBucketTaggingOp,
  deleteObjectTaggingOp,
  getBucketTaggingOp,
  getObjectTaggingOp,
  putBucketTaggingOp,
  putObjectTaggingOp,
} from './tagging_ops.js';
import { getBucketVersioningOp, listObjectVersionsOp, putBucketVersioningOp } from './versioning_ops.js';
import {
  getObjectLegalHoldOp,
  getObjectLockConfigurationOp,
  getObjectRetentionOp,
  putObjectLegalHoldOp,
  putObjectLockConfigurationOp,
  putObjectRetentionOp,
} from './object_lock_ops.js';

type Resource = 'service' | 'bucket' | 'object';
type Routed = Operation | UnsignedOperation;
type Chooser = Routed | ((r: S3Request) => Routed);

const isCopy = (r: S3Request): boolean => r.ex.req.headers['x-amz-copy-source'] !== undefined;

function listObjects(r: S3Request): Operation {
  const listType = r.query.get('list-type');
  if (listType === undefined) return listObjectsV1Op;
  if (listType === '2') return listObjectsV2Op;
  throw new S3Error(400, 'InvalidArgument', 'list-type must be 2', { ArgumentName: 'list-type' });
}

/** [method, resource, subresources (sorted, joined by &), operation]. */
const ROWS: ReadonlyArray<readonly [string, Resource, string, Chooser]> = [
  ['GET', 'service', '', listBucketsOp],
  ['GET', 'bucket', '', listObjects],
  ['GET', 'bucket', 'acl', getBucketAclOp],
  ['GET', 'bucket', 'location', getBucketLocationOp],
  ['GET', 'bucket', 'versioning', getBucketVersioningOp],
  ['PUT', 'bucket', 'versioning', putBucketVersioningOp],
  ['GET', 'bucket', 'versions', listObjectVersionsOp],
  ['GET', 'bucket', 'uploads', listMultipartUploadsOp],
  ['HEAD', 'bucket', '', headBucketOp],
  ['PUT', 'bucket', '', createBucketOp],
  ['DELETE', 'bucket', '', deleteBucketOp],
  ['POST', 'bucket', 'delete', deleteObjectsOp],
  ['GET', 'object', '', getObjectOp],
  ['GET', 'object', 'acl', getObjectAclOp],
  ['HEAD', 'object', '', headObjectOp],
  ['PUT', 'object', '', (r) => (isCopy(r) ? copyObjectOp : putObjectOp)],
  ['DELETE', 'object', '', deleteObjectOp],
  // A versionId names one version of the object (versioning_ops.ts).
  ['GET', 'object', 'versionId', getObjectOp],
  ['HEAD', 'object', 'versionId', headObjectOp],
  ['DELETE', 'object', 'versionId', deleteObjectOp],
  // One part of the object (object_parts.ts), of a version too; its attributes (object_attributes.ts).
  ['GET', 'object', 'partNumber', getObjectPartOp],
  ['HEAD', 'object', 'partNumber', headObjectPartOp],
  ['GET', 'object', 'partNumber&versionId', getObjectPartOp],
  ['HEAD', 'object', 'partNumber&versionId', headObjectPartOp],
  ['GET', 'object', 'attributes', getObjectAttributesOp],
  ['GET', 'object', 'attributes&versionId', getObjectAttributesOp],
  ['POST', 'object', 'uploads', createMultipartUploadOp],
  // Without partNumber the part operation answers 400 for the missing parameter.
  ['PUT', 'object', 'partNumber&uploadId', (r) => (isCopy(r) ? uploadPartCopyOp : uploadPartOp)],
  ['PUT', 'object', 'uploadId', (r) => (isCopy(r) ? uploadPartCopyOp : uploadPartOp)],
  ['POST', 'object', 'uploadId', completeMultipartUploadOp],
  ['DELETE', 'object', 'uploadId', abortMultipartUploadOp],
  ['GET', 'object', 'uploadId', listPartsOp],
  ['GET', 'object', 'tagging', getObjectTaggingOp],
  ['PUT', 'object', 'tagging', putObjectTaggingOp],
  ['DELETE', 'object', 'tagging', deleteObjectTaggingOp],
  ['GET', 'bucket', 'tagging', getBucketTaggingOp],
  ['PUT', 'bucket', 'tagging', putBucketTaggingOp],
  ['DELETE', 'bucket', 'tagging', deleteBucketTaggingOp],
  ['PUT', 'bucket', 'acl', putBucketAclOp],
  ['PUT', 'object', 'acl', putObjectAclOp],
  // The ACL of one version (access_ops.ts).
  ['GET', 'object', 'acl&versionId', getObjectAclOp],
  ['PUT', 'object', 'acl&versionId', putObjectAclOp],
  ['GET', 'bucket', 'policy', getBucketPolicyOp],
  ['PUT', 'bucket', 'policy', putBucketPolicyOp],
  ['DELETE', 'bucket', 'policy', deleteBucketPolicyOp],
  ['GET', 'bucket', 'policyStatus', getBucketPolicyStatusOp],
  ['GET', 'bucket', 'publicAccessBlock', getPublicAccessBlockOp],
  ['PUT', 'bucket', 'publicAccessBlock', putPublicAccessBlockOp],
  ['DELETE', 'bucket', 'publicAccessBlock', deletePublicAccessBlockOp],
  ['GET', 'bucket', 'ownershipControls', getBucketOwnershipControlsOp],
  ['PUT', 'bucket', 'ownershipControls', putBucketOwnershipControlsOp],
  ['DELETE', 'bucket', 'ownershipControls', deleteBucketOwnershipControlsOp],
  ['GET', 'bucket', 'cors', getBucketCorsOp],
  ['PUT', 'bucket', 'cors', putBucketCorsOp],
  ['DELETE', 'bucket', 'cors', deleteBucketCorsOp],
  ['GET', 'bucket', 'lifecycle', getBucketLifecycleOp],
  ['PUT', 'bucket', 'lifecycle', putBucketLifecycleOp],
  ['DELETE', 'bucket', 'lifecycle', deleteBucketLifecycleOp],
  ['GET', 'bucket', 'encryption', getBucketEncryptionOp],
  ['PUT', 'bucket', 'encryption', putBucketEncryptionOp],
  ['DELETE', 'bucket', 'encryption', deleteBucketEncryptionOp],
  // A preflight names no subresource S3 acts on: OPTIONS on a bucket or an object, whatever its query.
  ['OPTIONS', 'bucket', '', preflightOp],
  ['OPTIONS', 'object', '', preflightOp],
  ['POST', 'bucket', '', postObjectOp],
  // Object lock (object_lock_ops.ts); retention and legal hold of one version with a versionId.
  ['GET', 'bucket', 'object-lock', getObjectLockConfigurationOp],
  ['PUT', 'bucket', 'object-lock', putObjectLockConfigurationOp],
  ['GET', 'object', 'retention', getObjectRetentionOp],
  ['PUT', 'object', 'retention', putObjectRetentionOp],
  ['GET', 'object', 'retention&versionId', getObjectRetentionOp],
  ['PUT', 'object', 'retention&versionId', putObjectRetentionOp],
  ['GET', 'object', 'legal-hold', getObjectLegalHoldOp],
  ['PUT', 'object', 'legal-hold', putObjectLegalHoldOp],
  ['GET', 'object', 'legal-hold&versionId', getObjectLegalHoldOp],
  ['PUT', 'object', 'legal-hold&versionId', putObjectLegalHoldOp],
];

/** The route table as an object, so that a broken variant can replace one step (testing/mutants/s3_mutants.ts). */
export class RouteTable {
  private readonly rows = new Map<string, Chooser>(ROWS.map(([method, resource, subs, op]) => [`${method} ${resource} ${subs}`, op]));

  /** The S3 subresources `r` names, sorted. */
  subresourcesOf(r: S3Request): string[] {
    return S3_SUBRESOURCES.filter((name) => r.query.has(name));
  }

  /** REQUIRES: nothing of the request was acted on yet. Throws the S3Error that answers it otherwise. */
  route(r: S3Request): Routed {
    const resource: Resource = r.bucket === undefined ? 'service' : r.key === undefined ? 'bucket' : 'object';
    const subs = r.method === 'OPTIONS' ? [] : this.subresourcesOf(r);
    const chooser = this.rows.get(`${r.method} ${resource} ${subs.join('&')}`);
    if (chooser === undefined) throw unrouted(r.method, resource, subs);
    const op = typeof chooser === 'function' ? chooser(r) : chooser;
    refuseHeaders(r.ex.req.headers, op.name);
    return op;
  }
}

export const ROUTES = new RouteTable();

export function routeOf(r: S3Request): Routed {
  return ROUTES.route(r);
}

function refuseHeaders(headers: IncomingHttpHeaders, opName: string): void {
  const refusal = HEADER_GUARD.refusal(headers, opName);
  if (refusal !== undefined) throw refusal;
}

function unrouted(method: string, resource: Resource, subs: readonly string[]): S3Error {
  if (subs.length > 0) return notImplemented(`${method} ?${subs.join('&')} on a ${resource}`);
  return new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
}
