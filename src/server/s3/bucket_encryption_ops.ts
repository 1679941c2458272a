// Put/Get/DeleteBucketEncryption (docs/S3.md, "Encryption at rest"): the
// configuration is written under the bucket's lock and answered once
// durable, so it is as crash-safe as any record; DeleteBucket removes it
// after the bucket record, CreateBucket removes one a crash left behind.
// A bucket without a configuration answers GetBucketEncryption with 404
// ServerSideEncryptionConfigurationNotFoundError (S3 before 2023): this
// server does not encrypt by default, and says so.
import { bucketEncryptionOfBody, encodeBucketEncryption, readBucketEncryption } from './bucket_encryption.js';
import { requireBucket } from './buckets.js';
import { bucketLock } from './core.js';
import type { Operation } from './operation.js';
import { bucketOf } from './operation.js';
import { readXmlBody } from './request_body.js';
import { sendEmpty, sendXml } from './respond.js';
import { S3Error, notImplemented } from './s3_errors.js';
import { encryptionShardKey } from './shard_keys.js';

/** A configuration document is a few hundred bytes; S3 caps bucket configurations far lower than this. */
const MAX_BODY_BYTES = 64 * 1024;

export const putBucketEncryptionOp: Operation = {
  name: 'PutBucketEncryption',
  run: async (c) => {
    const bucket = bucketOf(c);
    const config = bucketEncryptionOfBody(await readXmlBody(c.r.ex, c.auth, MAX_BODY_BYTES));
    // A default no write could follow is refused now, not at each write.
    if (c.core.options.nodeKey === undefined) throw notImplemented('default encryption (SSE-S3) on a server without a node key');
    await c.core.locks.exclusive(bucketLock(bucket), async () => {
      await requireBucket(c.core, bucket);
      await c.core.putDurable(encryptionShardKey(bucket), encodeBucketEncryption(config));
    });
    sendEmpty(c.r.ex, c.r.requestId, 200);
  },
};

export const getBucketEncryptionOp: Operation = {
  name: 'GetBucketEncryption',
  run: async (c) => {
    const bucket = bucketOf(c);
    await requireBucket(c.core, bucket);
    const config = await readBucketEncryption(c.core, bucket);
    if (config === undefined) {
      throw new S3Error(404, 'ServerSideEncryptionConfigurationNotFoundError', 'The server side encryption configuration was not found', { BucketName: bucket });
    }
    sendXml(c.r.ex, c.r.requestId, 200, 'ServerSideEncryptionConfiguration', {
      Rule: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: config.algorithm }, BucketKeyEnabled: config.bucketKeyEnabled },
    });
  },
};

export const deleteBucketEncryptionOp: Operation = {
  name: 'DeleteBucketEncryption',
  run: async (c) => {
    const bucket = bucketOf(c);
    await c.core.locks.exclusive(bucketLock(bucket), async () => {
      await requireBucket(c.core, bucket);
      const dependency = await c.core.deleteIfPresent(encryptionShardKey(bucket));
      if (dependency !== undefined) await c.core.durable(dependency);
    });
    sendEmpty(c.r.ex, c.r.requestId, 204);
  },
};
