// Bucket operations: ListBuckets, CreateBucket, DeleteBucket, HeadBucket,
// GetBucketLocation. Versioning: versioning_ops.ts. Owners and ACLs: access_ops.ts.
import { abortUpload } from './multipart.js';
import { bucketDataPrefix, createBucket, deleteBucket, listBuckets, requireBucket } from './buckets.js';
import type { Operation } from './operation.js';
import { bucketOf, intParam } from './operation.js';
import { S3Error, invalidArgument } from './s3_errors.js';
import { deleteBucketAccessIfGone, readBucketAccess, writeBucketAccessLocked } from './access.js';
import { createBucketAccess, recreatedBucketAccess } from './access_ops.js';
import { enableLockAtCreate, lockAtCreate } from './object_lock.js';
import { DEFAULT_REGION, checkLocationConstraint, locationOf } from './location.js';

const bucketAlreadyExists = (bucket: string): S3Error =>
  new S3Error(409, 'BucketAlreadyExists', 'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.', { BucketName: bucket });
import { readXmlBody } from './request_body.js';
import { isoTime, sendEmpty, sendXml } from './respond.js';
import { NS_UPLOAD, isValidBucketName, splitVersionedTail } from './shard_keys.js';
import { asNode, child, optionalText, parseXml } from './xml.js';

/** CreateBucketConfiguration is a few hundred bytes. */
const MAX_CREATE_CONFIG_BYTES = 64 * 1024;

/** S3's largest max-buckets. */
const MAX_BUCKETS_PER_PAGE = 10_000;

/**
 * ListBuckets with S3's paging: max-buckets (1..10000; without it, every
 * bucket), continuation-token (the answer's ContinuationToken: base64url of
 * the last name listed; empty is none), prefix, and bucket-region (every
 * bucket is in the node's region, so any other region lists none).
 */
export const listBucketsOp: Operation = {
  name: 'ListBuckets',
  run: async (c) => {
    const q = c.r.query;
    const prefix = q.get('prefix') ?? '';
    const region = q.get('bucket-region');
    const max = q.has('max-buckets') ? intParam(c, 'max-buckets', MAX_BUCKETS_PER_PAGE, 1, MAX_BUCKETS_PER_PAGE) : Number.MAX_SAFE_INTEGER;
    const token = q.get('continuation-token');
    const after = token === undefined || token === '' ? undefined : bucketToken(token);
    const { buckets, truncated } = region !== undefined && region !== '' && region !== c.region ? { buckets: [], truncated: false } : await listBuckets(c.core, { prefix, after, max, include: async (name) => (await readBucketAccess(c.core, name)).ownerId === c.owner.id });
    const last = buckets.at(-1);
    sendXml(c.r.ex, c.r.requestId, 200, 'ListAllMyBucketsResult', {
      Owner: { ID: c.owner.id, DisplayName: c.owner.displayName },
      Buckets: { Bucket: buckets.map((b) => ({ Name: b.name, CreationDate: isoTime(b.createdMs), BucketRegion: c.region })) },
      ...(truncated && last !== undefined ? { ContinuationToken: Buffer.from(last.name, 'latin1').toString('base64url') } : {}),
      ...(q.has('prefix') ? { Prefix: prefix } : {}),
    });
  },
};

/** The bucket name a ListBuckets continuation token resumes after. Throws InvalidArgument. */
function bucketToken(token: string): string {
  const name = Buffer.from(token, 'base64url').toString('latin1');
  if (Buffer.from(name, 'latin1').toString('base64url') !== token || !isValidBucketName(name)) {
    throw invalidArgument('The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
  }
  return name;
}

export const createBucketOp: Operation = {
  name: 'CreateBucket',
  run: async (c) => {
    const bucket = bucketOf(c);
    const body = await readXmlBody(c.r.ex, c.auth, MAX_CREATE_CONFIG_BYTES);
    const constraint = body.length > 0 ? optionalText(asNode(child(parseXml(body), 'CreateBucketConfiguration'), 'CreateBucketConfiguration'), 'LocationConstraint') : undefined;
    checkLocationConstraint(constraint, c.region);
    const requesterId = c.access.requesterId;
    if (requesterId === undefined) throw new Error('CreateBucket reached without a user');
    const access = createBucketAccess(c, requesterId);
    const withLock = lockAtCreate(c.r.ex.req.headers);
    // Re-creating one's own bucket: us-east-1 answers 200 and resets the bucket's ACL to the one asked for (as AWS documents;
    // nothing else changes), every other region 409; another's: 409 BucketAlreadyExists.
    await createBucket(c.core, bucket, { existingIsError: c.region !== DEFAULT_REGION, legacyEu: constraint === 'EU' }, async (exists) => {
      if (!exists) {
        if (withLock) await enableLockAtCreate(c.core, bucket);
        return writeBucketAccessLocked(c.core, bucket, access);
      }
      const existing = await readBucketAccess(c.core, bucket);
      if (existing.ownerId !== requesterId) throw bucketAlreadyExists(bucket);
      if (c.region === 'us-east-1') await writeBucketAccessLocked(c.core, bucket, recreatedBucketAccess(c, existing));
    });
    sendEmpty(c.r.ex, c.r.requestId, 200, { Location: `/${bucket}` });
  },
};

export const deleteBucketOp: Operation = {
  name: 'DeleteBucket',
  run: async (c) => {
    const bucket = bucketOf(c);
    await deleteBucket(c.core, bucket, async (uploadKeys) => {
      for (const shardKey of uploadKeys) {
        const tail = splitVersionedTail(shardKey.subarray(NS_UPLOAD.length + bucket.length + 1), 0);
        if (tail !== undefined) await abortUpload(c.core, bucket, tail.key, tail.id, true);
      }
    });
    await deleteBucketAccessIfGone(c.core, bucket);
    await c.collector.scheduleAll(bucketDataPrefix(bucket));
    sendEmpty(c.r.ex, c.r.requestId, 204);
  },
};

export const headBucketOp: Operation = {
  name: 'HeadBucket',
  run: async (c) => {
    await requireBucket(c.core, bucketOf(c));
    sendEmpty(c.r.ex, c.r.requestId, 200, { 'x-amz-bucket-region': c.region });
  },
};

export const getBucketLocationOp: Operation = {
  name: 'GetBucketLocation',
  run: async (c) => {
    const record = await requireBucket(c.core, bucketOf(c));
    sendXml(c.r.ex, c.r.requestId, 200, 'LocationConstraint', { '#text': locationOf(c.region, record) });
  },
};

