// Buckets: one record each under \0B. A bucket may be deleted only when no
// object record remains under it; uploads still in progress are aborted
// with it, and whatever data it held is handed to the collector.
import type { Core } from './core.js';
import { bucketLock } from './core.js';
import type { BucketRecord } from './records.js';
import { decodeBucket, encodeBucket } from './records.js';
import { S3Error, noSuchBucket } from './s3_errors.js';
import { NS_BUCKET, NS_DATA, NS_OBJECT, NS_UPLOAD, bucketPrefix, bucketShardKey, isValidBucketName, validateBucketName } from './shard_keys.js';

export interface BucketInfo {
  readonly name: string;
  readonly createdMs: number;
}

export async function readBucket(core: Core, bucket: string): Promise<BucketRecord | undefined> {
  const bytes = await core.getOptional(bucketShardKey(bucket));
  return bytes === undefined ? undefined : decodeBucket(bytes);
}

/** Throws NoSuchBucket. */
export async function requireBucket(core: Core, bucket: string): Promise<BucketRecord> {
  const record = await readBucket(core, bucket);
  if (record === undefined) throw noSuchBucket(bucket);
  return record;
}

export async function createBucket(core: Core, bucket: string): Promise<void> {
  validateBucketName(bucket);
  await core.locks.exclusive(bucketLock(bucket), async () => {
    if ((await readBucket(core, bucket)) !== undefined) {
      throw new S3Error(409, 'BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', { BucketName: bucket });
    }
    await core.putDurable(bucketShardKey(bucket), encodeBucket({ createdMs: core.now() }));
  });
}

/** Throws NoSuchBucket, BucketNotEmpty. `abortUploads` ends the uploads in progress (given their record keys). */
export async function deleteBucket(core: Core, bucket: string, abortUploads: (shardKeys: Buffer[]) => Promise<void>): Promise<void> {
  await core.locks.exclusive(bucketLock(bucket), async () => {
    await requireBucket(core, bucket);
    const objects = await core.api.list({ prefix: bucketPrefix(NS_OBJECT, bucket), limit: 1 });
    if (objects.shards.length > 0) {
      throw new S3Error(409, 'BucketNotEmpty', 'The bucket you tried to delete is not empty', { BucketName: bucket });
    }
    for await (const page of core.listAll(bucketPrefix(NS_UPLOAD, bucket))) await abortUploads(page.map((s) => s.key));
    const dependency = await core.deleteIfPresent(bucketShardKey(bucket));
    if (dependency !== undefined) await core.durable(dependency);
  });
}

/** Prefix of every data shard of the bucket (for the collector after a delete). */
export function bucketDataPrefix(bucket: string): Buffer {
  return bucketPrefix(NS_DATA, bucket);
}

/**
 * Every bucket. A bucket whose record is damaged is left out (and logged):
 * its own requests answer 500 InternalError, the others are not affected.
 * A `\0B` shard whose name is not a valid bucket name is no bucket of ours
 * (the native API cannot write there now; an old store may hold one): left out too.
 */
export async function listBuckets(core: Core): Promise<BucketInfo[]> {
  const out: BucketInfo[] = [];
  for await (const page of core.listAll(NS_BUCKET)) {
    for (const shard of page) {
      const name = shard.key.subarray(NS_BUCKET.length).toString('latin1');
      if (!isValidBucketName(name)) {
        core.options.logger.log('warn', 's3 bucket record with an invalid name left out of ListBuckets', { shardKey: shard.key.toString('hex') });
        continue;
      }
      const bytes = await core.getOptional(shard.key);
      if (bytes === undefined) continue; // deleted since the listing
      const record = core.decodeListed(shard.key, bytes, decodeBucket);
      if (record !== undefined) out.push({ name, createdMs: record.createdMs });
    }
  }
  return out;
}
