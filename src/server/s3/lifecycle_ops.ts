// Lifecycle operations (docs/S3.md, "Lifecycle"):
// Put/Get/DeleteBucketLifecycleConfiguration. The rules themselves are
// lifecycle.ts; the background pass that applies them is lifecycle_pass.ts.
//
// The configuration is one shard per bucket (`\0Y bucket`, shard_keys.ts),
// written under the bucket's lock and answered once durable, like the CORS
// configuration. DeleteBucket removes it after the bucket record;
// CreateBucket removes one a crash left between the two.
import type { Core } from './core.js';
import { bucketLock } from './core.js';
import type { LifecycleConfig } from './lifecycle.js';
import { MAX_LIFECYCLE_BODY_BYTES, encodeLifecycle, lifecycleDocument, lifecycleOfBody } from './lifecycle.js';
import { readLifecycle } from './lifecycle_headers.js';
import { requireBucket } from './buckets.js';
import { requireIntegrityHeader } from './object_ops.js';
import type { Operation } from './operation.js';
import { bucketOf } from './operation.js';
import { readXmlBody } from './request_body.js';
import { sendEmpty, sendXml } from './respond.js';
import { S3Error } from './s3_errors.js';
import { lifecycleShardKey } from './shard_keys.js';

const noSuchLifecycle = (bucket: string): S3Error =>
  new S3Error(404, 'NoSuchLifecycleConfiguration', 'The lifecycle configuration does not exist', { BucketName: bucket });

/** Replace the bucket's lifecycle configuration, durably, under the bucket's lock. Throws NoSuchBucket. */
export async function setLifecycle(core: Core, bucket: string, config: LifecycleConfig): Promise<void> {
  await core.locks.exclusive(bucketLock(bucket), async () => {
    await requireBucket(core, bucket);
    await core.putDurable(lifecycleShardKey(bucket), encodeLifecycle(config));
  });
}

export const putBucketLifecycleOp: Operation = {
  name: 'PutBucketLifecycleConfiguration',
  run: async (c) => {
    const bucket = bucketOf(c);
    // S3 requires an integrity header on this body, as on DeleteObjects.
    requireIntegrityHeader(c.r.ex.req.headers);
    await requireBucket(c.core, bucket);
    const config = lifecycleOfBody(await readXmlBody(c.r.ex, c.auth, MAX_LIFECYCLE_BODY_BYTES));
    await setLifecycle(c.core, bucket, config);
    sendEmpty(c.r.ex, c.r.requestId, 200);
  },
};

export const getBucketLifecycleOp: Operation = {
  name: 'GetBucketLifecycleConfiguration',
  run: async (c) => {
    const bucket = bucketOf(c);
    await requireBucket(c.core, bucket);
    const config = await readLifecycle(c.core, bucket);
    if (config === undefined) throw noSuchLifecycle(bucket);
    sendXml(c.r.ex, c.r.requestId, 200, 'LifecycleConfiguration', lifecycleDocument(config));
  },
};

export const deleteBucketLifecycleOp: Operation = {
  name: 'DeleteBucketLifecycle',
  run: async (c) => {
    const bucket = bucketOf(c);
    await c.core.locks.exclusive(bucketLock(bucket), async () => {
      await requireBucket(c.core, bucket);
      const dependency = await c.core.deleteIfPresent(lifecycleShardKey(bucket));
      if (dependency !== undefined) await c.core.durable(dependency);
    });
    sendEmpty(c.r.ex, c.r.requestId, 204);
  },
};

