// Tagging operations: Put/Get/DeleteObjectTagging, Put/Get/DeleteBucketTagging.
// The tag sets live in the object and bucket records (records.ts), so they
// are as durable and crash-safe as the records: an answer is sent once the
// rewritten record is durable.
import { readBucket, retagBucket } from './buckets.js';
import { requireObject, retagObject } from './objects.js';
import type { OpContext, Operation } from './operation.js';
import { bucketOf, keyOf } from './operation.js';
import type { TagSet } from './records.js';
import { readXmlBody } from './request_body.js';
import { sendEmpty, sendXml } from './respond.js';
import { S3Error, noSuchBucket } from './s3_errors.js';
import type { TagOwner } from './tagging.js';
import { MAX_TAGGING_BODY_BYTES, tagsOfBody, taggingDocument } from './tagging.js';

const noSuchTagSet = (bucket: string): S3Error => new S3Error(404, 'NoSuchTagSet', 'The TagSet does not exist', { BucketName: bucket });

async function tagsOfRequest(c: OpContext, owner: TagOwner): Promise<TagSet> {
  return tagsOfBody(await readXmlBody(c.r.ex, c.auth, MAX_TAGGING_BODY_BYTES), owner);
}

export const putObjectTaggingOp: Operation = {
  name: 'PutObjectTagging',
  run: async (c) => {
    const [bucket, key] = [bucketOf(c), keyOf(c)];
    const tags = await tagsOfRequest(c, 'object');
    await retagObject(c.core, bucket, key, tags);
    sendEmpty(c.r.ex, c.r.requestId, 200);
  },
};

export const getObjectTaggingOp: Operation = {
  name: 'GetObjectTagging',
  run: async (c) => {
    const record = await requireObject(c.core, bucketOf(c), keyOf(c));
    sendXml(c.r.ex, c.r.requestId, 200, 'Tagging', taggingDocument(record.tags));
  },
};

export const deleteObjectTaggingOp: Operation = {
  name: 'DeleteObjectTagging',
  run: async (c) => {
    await retagObject(c.core, bucketOf(c), keyOf(c), []);
    sendEmpty(c.r.ex, c.r.requestId, 204);
  },
};

export const putBucketTaggingOp: Operation = {
  name: 'PutBucketTagging',
  run: async (c) => {
    const bucket = bucketOf(c);
    const tags = await tagsOfRequest(c, 'bucket');
    await retagBucket(c.core, bucket, tags);
    sendEmpty(c.r.ex, c.r.requestId, 204);
  },
};

export const getBucketTaggingOp: Operation = {
  name: 'GetBucketTagging',
  run: async (c) => {
    const bucket = bucketOf(c);
    const record = await readBucket(c.core, bucket);
    if (record === undefined) throw noSuchBucket(bucket);
    // S3 answers a bucket without tags with 404 NoSuchTagSet, not an empty set.
    if (record.tags.length === 0) throw noSuchTagSet(bucket);
    sendXml(c.r.ex, c.r.requestId, 200, 'Tagging', taggingDocument(record.tags));
  },
};

export const deleteBucketTaggingOp: Operation = {
  name: 'DeleteBucketTagging',
  run: async (c) => {
    await retagBucket(c.core, bucketOf(c), []);
    sendEmpty(c.r.ex, c.r.requestId, 204);
  },
};
