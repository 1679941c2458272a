// Buckets: one record each under \0B. A bucket may be deleted only when no
// object record remains under it; uploads still in progress are aborted
// with it, and whatever data it held is handed to the collector.
import { MAX_LIST_LIMIT } from '../../store/index.js';
import type { Core } from './core.js';
import { bucketLock } from './core.js';
import type { BucketRecord, TagSet } from './records.js';
import { decodeBucket, encodeBucket } from './records.js';
import { S3Error, noSuchBucket } from './s3_errors.js';
import { NS_BUCKET, NS_DATA, NS_OBJECT, NS_UPLOAD, NS_VERSION, bucketPrefix, bucketShardKey, corsShardKey, encryptionShardKey, isValidBucketName, lifecycleShardKey, lockConfigShardKey, settingsShardKey, validateBucketName } from './shard_keys.js';

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

export interface CreateBucketOptions {
  /** An existing bucket of the requester's is 409 BucketAlreadyOwnedByYou (every region but us-east-1). */
  readonly existingIsError: boolean;
  /** The request's LocationConstraint was "EU" (kept for GetBucketLocation). */
  readonly legacyEu?: boolean;
}

/**
 * Create the bucket. If it exists and is the requester's, S3's answer
 * depends on the region: us-east-1 answers 200 and changes nothing
 * ('exists'), every other region 409 BucketAlreadyOwnedByYou
 * (`existingIsError`). `prepare(exists)` runs first under the bucket's
 * lock: it refuses another owner's bucket, and writes the new bucket's
 * access record before its bucket record (access_records.ts, invariant 2),
 * and its object lock configuration and settings if asked (object_lock.ts).
 * Either way they are durable before the bucket record exists.
 */
export async function createBucket(core: Core, bucket: string, how: CreateBucketOptions, prepare: (exists: boolean) => Promise<void>): Promise<'created' | 'exists'> {
  const { existingIsError } = how;
  validateBucketName(bucket);
  return core.locks.exclusive(bucketLock(bucket), async () => {
    const exists = (await readBucket(core, bucket)) !== undefined;
    // Settings and configurations a crash left behind when a bucket of this name was deleted are not the new bucket's;
    // they go before `prepare`, which may write the new bucket's own (object lock: its configuration and versioning).
    if (!exists) {
      await deleteDurably(core, settingsShardKey(bucket));
      await deleteDurably(core, corsShardKey(bucket));
      await deleteDurably(core, lockConfigShardKey(bucket));
      await deleteDurably(core, lifecycleShardKey(bucket));
      await deleteDurably(core, encryptionShardKey(bucket));
    }
    await prepare(exists);
    if (exists) {
      if (!existingIsError) return 'exists';
      throw new S3Error(409, 'BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', { BucketName: bucket });
    }
    await core.putDurable(bucketShardKey(bucket), encodeBucket({ createdMs: core.now(), tags: [], ...(how.legacyEu === true ? { legacyEu: true } : {}) }));
    return 'created';
  });
}

/** Replace the bucket's tag set (empty: no tags), durably, under the bucket's lock. Throws NoSuchBucket. */
export async function retagBucket(core: Core, bucket: string, tags: TagSet): Promise<void> {
  await core.locks.exclusive(bucketLock(bucket), async () => {
    const record = await requireBucket(core, bucket);
    await core.putDurable(bucketShardKey(bucket), encodeBucket({ ...record, tags }));
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
    await deleteDurably(core, bucketShardKey(bucket));
    // After the bucket record: a crash in between leaves settings and a configuration of no bucket, which createBucket removes.
    await deleteDurably(core, settingsShardKey(bucket));
    await deleteDurably(core, corsShardKey(bucket));
    await deleteDurably(core, lockConfigShardKey(bucket));
    await deleteDurably(core, lifecycleShardKey(bucket));
    await deleteDurably(core, encryptionShardKey(bucket));
    for await (const page of core.listAll(bucketPrefix(NS_VERSION, bucket))) for (const s of page) await core.deleteIfPresent(s.key);
  });
}

async function deleteDurably(core: Core, shardKey: Buffer): Promise<void> {
  const dependency = await core.deleteIfPresent(shardKey);
  if (dependency !== undefined) await core.durable(dependency);
}

/** Prefix of every data shard of the bucket (for the collector after a delete). */
export function bucketDataPrefix(bucket: string): Buffer {
  return bucketPrefix(NS_DATA, bucket);
}

export interface BucketQuery {
  /** Only names starting with this. */
  readonly prefix: string;
  /** Only names after this one (the continuation point). */
  readonly after: string | undefined;
  /** At most this many. */
  readonly max: number;
  /** Only buckets this says yes to (ListBuckets: the requester's own). */
  readonly include?: (name: string) => Promise<boolean>;
}

/**
 * The buckets `q` asks for, in name order, and whether more follow. A
 * bucket whose record is damaged is left out (and logged): its own
 * requests answer 500 InternalError, the others are not affected.
 * A `\0B` shard whose name is not a valid bucket name is no bucket of ours
 * (the native API cannot write there now; an old store may hold one): left out too.
 */
export async function listBuckets(core: Core, q: BucketQuery): Promise<{ buckets: BucketInfo[]; truncated: boolean }> {
  const out: BucketInfo[] = [];
  const prefix = Buffer.concat([NS_BUCKET, Buffer.from(q.prefix, 'latin1')]);
  let startAfter = q.after === undefined ? undefined : bucketShardKey(q.after);
  for (;;) {
    const page = await core.api.list({ prefix, limit: MAX_LIST_LIMIT, ...(startAfter === undefined ? {} : { startAfter }) });
    for (const shard of page.shards) {
      const bucket = await listedBucket(core, shard.key);
      if (bucket === undefined || (q.include !== undefined && !(await q.include(bucket.name)))) continue;
      if (out.length === q.max) return { buckets: out, truncated: true };
      out.push(bucket);
    }
    startAfter = page.shards.at(-1)?.key;
    if (!page.truncated || startAfter === undefined) return { buckets: out, truncated: false };
  }
}

/** The bucket of a `\0B` shard met in a listing, or undefined if it is not one (logged), damaged (logged) or gone. */
async function listedBucket(core: Core, shardKey: Buffer): Promise<BucketInfo | undefined> {
  const name = shardKey.subarray(NS_BUCKET.length).toString('latin1');
  if (!isValidBucketName(name)) {
    core.options.logger.log('warn', 's3 bucket record with an invalid name left out of ListBuckets', { shardKey: shardKey.toString('hex') });
    return undefined;
  }
  const bytes = await core.getOptional(shardKey);
  if (bytes === undefined) return undefined; // deleted since the listing
  const record = core.decodeListed(shardKey, bytes, decodeBucket);
  return record === undefined ? undefined : { name, createdMs: record.createdMs };
}
