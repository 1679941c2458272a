// Which S3 operation a request is: by method, whether it names a bucket
// and a key, and its subresource query parameters (?uploads, ?uploadId,
// ?delete, ?location, ...). Subresources we do not implement answer
// 501 NotImplemented rather than being mistaken for a plain GET or PUT.
import {
  aclOp,
  createBucketOp,
  deleteBucketOp,
  getBucketLocationOp,
  getBucketVersioningOp,
  headBucketOp,
  listBucketsOp,
} from './bucket_ops.js';
import { requireBucket } from './buckets.js';
import { listMultipartUploadsOp, listObjectsV1Op, listObjectsV2Op, listPartsOp } from './list_ops.js';
import {
  abortMultipartUploadOp,
  completeMultipartUploadOp,
  createMultipartUploadOp,
  uploadPartCopyOp,
  uploadPartOp,
} from './multipart_ops.js';
import { copyObjectOp, deleteObjectOp, deleteObjectsOp, getObjectOp, headObjectOp, putObjectOp } from './object_ops.js';
import { readObject } from './objects.js';
import type { Operation } from './operation.js';
import { bucketOf, keyOf } from './operation.js';
import type { S3Request } from './request.js';
import { S3Error, noSuchKey, notImplemented } from './s3_errors.js';

const UNSUPPORTED = [
  'accelerate', 'analytics', 'attributes', 'cors', 'encryption', 'intelligent-tiering', 'inventory', 'legal-hold',
  'lifecycle', 'logging', 'metrics', 'notification', 'object-lock', 'ownershipControls', 'policy', 'policyStatus',
  'publicAccessBlock', 'replication', 'requestPayment', 'restore', 'retention', 'select', 'tagging', 'torrent',
  'versionId', 'versions', 'website', 'acl',
];

const getBucketAclOp = aclOp('GetBucketAcl', async (c) => {
  await requireBucket(c.core, bucketOf(c));
});
const getObjectAclOp = aclOp('GetObjectAcl', async (c) => {
  if ((await readObject(c.core, bucketOf(c), keyOf(c))) === undefined) throw noSuchKey(keyOf(c).toString('utf8'));
});

export function routeOf(r: S3Request): Operation {
  if (r.bucket === undefined) {
    if (r.method === 'GET') return listBucketsOp;
    throw methodNotAllowed();
  }
  return r.key === undefined ? bucketRoute(r) : objectRoute(r);
}

function bucketRoute(r: S3Request): Operation {
  const has = (name: string): boolean => r.query.has(name);
  if (r.method === 'GET') {
    if (has('acl')) return getBucketAclOp;
    if (has('location')) return getBucketLocationOp;
    if (has('versioning')) return getBucketVersioningOp;
    if (has('uploads')) return listMultipartUploadsOp;
  }
  if (r.method === 'POST' && has('delete')) return deleteObjectsOp;
  refuseUnsupported(r);
  switch (r.method) {
    case 'GET':
      if (!has('list-type')) return listObjectsV1Op;
      if (r.query.get('list-type') === '2') return listObjectsV2Op;
      throw new S3Error(400, 'InvalidArgument', 'list-type must be 2', { ArgumentName: 'list-type' });
    case 'PUT':
      return createBucketOp;
    case 'DELETE':
      return deleteBucketOp;
    case 'HEAD':
      return headBucketOp;
    default:
      throw methodNotAllowed();
  }
}

function objectRoute(r: S3Request): Operation {
  const has = (name: string): boolean => r.query.has(name);
  const copy = r.ex.req.headers['x-amz-copy-source'] !== undefined;
  if (has('uploads') && r.method === 'POST') return createMultipartUploadOp;
  if (has('uploadId')) {
    if (r.method === 'PUT') return copy ? uploadPartCopyOp : uploadPartOp;
    if (r.method === 'POST') return completeMultipartUploadOp;
    if (r.method === 'DELETE') return abortMultipartUploadOp;
    if (r.method === 'GET') return listPartsOp;
    throw methodNotAllowed();
  }
  if (r.method === 'GET' && has('acl')) return getObjectAclOp;
  refuseUnsupported(r);
  if ((r.method === 'GET' || r.method === 'HEAD') && has('partNumber')) throw notImplemented('partNumber on GetObject/HeadObject');
  switch (r.method) {
    case 'GET':
      return getObjectOp;
    case 'HEAD':
      return headObjectOp;
    case 'PUT':
      return copy ? copyObjectOp : putObjectOp;
    case 'DELETE':
      return deleteObjectOp;
    default:
      throw methodNotAllowed();
  }
}

function refuseUnsupported(r: S3Request): void {
  const name = UNSUPPORTED.find((n) => r.query.has(n));
  // versionId=null names the only version an unversioned bucket has.
  if (name === 'versionId' && r.query.get('versionId') === 'null') return;
  if (name !== undefined) throw notImplemented(`?${name}`);
}

function methodNotAllowed(): S3Error {
  return new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
}
