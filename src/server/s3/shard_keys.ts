// Where S3 state lives in the shard key space (docs/S3.md, "Shard keys").
//
// Every S3 key starts with a NUL byte and a namespace letter, so it sorts
// apart from, and cannot be produced by, ordinary text keys of the native
// API (which should not start with 0x00: that range is reserved for us).
//
//   \0B bucket                                   bucket record
//   \0O bucket / key                             object record (metadata, part list, small data inline)
//   \0D bucket / key \0 version(16) part(u16 BE) object data (one shard per part; never overwritten)
//   \0U bucket / key \0 uploadId(16)             multipart upload in progress
//   \0P bucket / key \0 uploadId(16) part(u16 BE) uploaded part (its data shard, size, MD5)
//   \0V bucket / key \0 rank(16)                noncurrent version of an object (versioning.ts)
//   \0S bucket                                   bucket settings: versioning (settings_record.ts)
//   \0R bucket                                   the bucket's CORS configuration (cors.ts)
//   \0K bucket                                   the bucket's object lock configuration (object_lock_records.ts)
//   \0Y bucket                                   the bucket's lifecycle configuration (lifecycle.ts)
//   \0E bucket                                   the bucket's default encryption (bucket_encryption.ts)
//
// Invariants:
// 1. An object key holds no NUL byte, so `\0D bucket/key\0` prefixes the
//    data of that key and of no other key.
// 2. Versions and upload ids are 16 bytes: a 6-byte big-endian millisecond
//    time, then 10 random bytes. Unique, and sorted by creation time, which
//    is the order S3 lists uploads of one key in.
// 3. Bucket names are ASCII [a-z0-9.-] and hold no '/', so `bucket/` ends
//    the bucket part unambiguously.
// 4. Raw key byte order (the store's list order) is UTF-8 binary order,
//    which is S3's listing order.
import { randomBytes } from 'node:crypto';
import { MAX_KEY_BYTES } from '../../store/index.js';
import { S3Error } from './s3_errors.js';

export const VERSION_BYTES = 16;
const PART_BYTES = 2;
/** `\0D` + '/' + '\0' + version + part: what a data key adds to bucket and object key. */
const DATA_KEY_OVERHEAD_BYTES = 2 + 1 + 1 + VERSION_BYTES + PART_BYTES;

export const NS_BUCKET = Buffer.from([0, 0x42]); // \0B
export const NS_OBJECT = Buffer.from([0, 0x4f]); // \0O
export const NS_DATA = Buffer.from([0, 0x44]); // \0D
export const NS_UPLOAD = Buffer.from([0, 0x55]); // \0U
export const NS_PART = Buffer.from([0, 0x50]); // \0P
export const NS_VERSION = Buffer.from([0, 0x56]); // \0V
export const NS_SETTINGS = Buffer.from([0, 0x53]); // \0S
export const NS_CORS = Buffer.from([0, 0x52]); // \0R
export const NS_LOCK_CONFIG = Buffer.from([0, 0x4b]); // \0K
export const NS_LIFECYCLE = Buffer.from([0, 0x59]); // \0Y
export const NS_ENCRYPTION = Buffer.from([0, 0x45]); // \0E

const SLASH = Buffer.from('/');
const NUL = Buffer.from([0]);

/** Bucket names that would shadow the node's own paths in path-style requests. */
const RESERVED_BUCKETS = new Set(['v1', 'healthz', 'metrics']);

export function isValidBucketName(name: string): boolean {
  try {
    validateBucketName(name);
    return true;
  } catch (err) {
    if (err instanceof S3Error) return false;
    throw err;
  }
}

export function validateBucketName(name: string): void {
  const ok =
    name.length >= 3 &&
    name.length <= 63 &&
    /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name) &&
    !name.includes('..') &&
    !name.includes('.-') &&
    !name.includes('-.') &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(name);
  if (!ok) throw new S3Error(400, 'InvalidBucketName', 'The specified bucket is not valid.', { BucketName: name });
  if (RESERVED_BUCKETS.has(name)) {
    throw new S3Error(400, 'InvalidBucketName', `The bucket name ${name} is reserved by this server.`, { BucketName: name });
  }
}

/** Longest object key (bytes) in `bucket`: its data keys must fit in MAX_KEY_BYTES. */
export function maxObjectKeyBytes(bucket: string): number {
  return MAX_KEY_BYTES - DATA_KEY_OVERHEAD_BYTES - Buffer.byteLength(bucket);
}

/** REQUIRES: `key` came from a request. Throws KeyTooLongError, InvalidArgument. */
export function validateObjectKey(bucket: string, key: Buffer): void {
  if (key.length === 0) throw new S3Error(400, 'InvalidArgument', 'Object key must not be empty.');
  if (key.length > maxObjectKeyBytes(bucket)) {
    throw new S3Error(400, 'KeyTooLongError', `Your key is too long: at most ${maxObjectKeyBytes(bucket)} bytes in this bucket.`);
  }
  if (key.includes(0)) throw new S3Error(400, 'InvalidArgument', 'Object keys may not contain the NUL character.');
}

export function bucketShardKey(bucket: string): Buffer {
  return Buffer.concat([NS_BUCKET, Buffer.from(bucket, 'latin1')]);
}

/** `\0R bucket`: the CORS configuration of `bucket` (absent: none). */
export function corsShardKey(bucket: string): Buffer {
  return Buffer.concat([NS_CORS, Buffer.from(bucket, 'latin1')]);
}

/** `\0Y bucket`: the lifecycle configuration of `bucket` (absent: none). */
export function lifecycleShardKey(bucket: string): Buffer {
  return Buffer.concat([NS_LIFECYCLE, Buffer.from(bucket, 'latin1')]);
}

/** `\0E bucket`: the default encryption of `bucket` (absent: none). */
export function encryptionShardKey(bucket: string): Buffer {
  return Buffer.concat([NS_ENCRYPTION, Buffer.from(bucket, 'latin1')]);
}

/** `ns bucket/`: the prefix of everything of `bucket` in namespace `ns`. */
export function bucketPrefix(ns: Buffer, bucket: string): Buffer {
  return Buffer.concat([ns, Buffer.from(bucket, 'latin1'), SLASH]);
}

export function objectShardKey(bucket: string, key: Buffer): Buffer {
  return Buffer.concat([bucketPrefix(NS_OBJECT, bucket), key]);
}

/** `\0D bucket/key\0`: the prefix of every data shard of `key`. */
export function dataPrefix(bucket: string, key: Buffer): Buffer {
  return Buffer.concat([bucketPrefix(NS_DATA, bucket), key, NUL]);
}

export function dataShardKey(bucket: string, key: Buffer, version: Buffer, part: number): Buffer {
  return Buffer.concat([dataPrefix(bucket, key), version, partBytes(part)]);
}

export function uploadPrefix(bucket: string, key: Buffer): Buffer {
  return Buffer.concat([bucketPrefix(NS_UPLOAD, bucket), key, NUL]);
}

export function uploadShardKey(bucket: string, key: Buffer, uploadId: Buffer): Buffer {
  return Buffer.concat([uploadPrefix(bucket, key), uploadId]);
}

/** `\0P bucket/key\0`: the prefix of the parts of every upload of `key`. */
export function partsOfKeyPrefix(bucket: string, key: Buffer): Buffer {
  return Buffer.concat([bucketPrefix(NS_PART, bucket), key, NUL]);
}

/** The bucket and object key of a data or part shard key (`ns bucket/key\0 id(16) u16`). */
export function objectOfVersionedKey(ns: Buffer, shardKey: Buffer): { bucket: string; key: Buffer } | undefined {
  const slash = shardKey.indexOf(0x2f, ns.length);
  if (slash < 0) return undefined;
  const tail = splitVersionedTail(shardKey.subarray(slash + 1), PART_BYTES);
  return tail === undefined ? undefined : { bucket: shardKey.subarray(ns.length, slash).toString('latin1'), key: tail.key };
}

/** `\0V bucket/key\0`: the prefix of every noncurrent version of `key`, newest first. */
export function versionPrefix(bucket: string, key: Buffer): Buffer {
  return Buffer.concat([bucketPrefix(NS_VERSION, bucket), key, NUL]);
}

export function versionShardKey(bucket: string, key: Buffer, rank: Buffer): Buffer {
  return Buffer.concat([versionPrefix(bucket, key), rank]);
}

export function settingsShardKey(bucket: string): Buffer {
  return Buffer.concat([NS_SETTINGS, Buffer.from(bucket, 'latin1')]);
}

/** `\0K bucket`: the object lock configuration of `bucket` (absent: object lock not enabled). */
export function lockConfigShardKey(bucket: string): Buffer {
  return Buffer.concat([NS_LOCK_CONFIG, Buffer.from(bucket, 'latin1')]);
}

/** `\0P bucket/key\0 uploadId`: the prefix of the parts of one upload. */
export function partPrefix(bucket: string, key: Buffer, uploadId: Buffer): Buffer {
  return Buffer.concat([bucketPrefix(NS_PART, bucket), key, NUL, uploadId]);
}

export function partShardKey(bucket: string, key: Buffer, uploadId: Buffer, part: number): Buffer {
  return Buffer.concat([partPrefix(bucket, key, uploadId), partBytes(part)]);
}

/** Split a `key \0 id(16) [suffix]` tail (of a data, upload or part key) into its parts. */
export function splitVersionedTail(tail: Buffer, suffixBytes: number): { key: Buffer; id: Buffer; suffix: Buffer } | undefined {
  const idAt = tail.length - suffixBytes - VERSION_BYTES;
  if (idAt < 2 || tail[idAt - 1] !== 0) return undefined;
  return { key: tail.subarray(0, idAt - 1), id: tail.subarray(idAt, idAt + VERSION_BYTES), suffix: tail.subarray(idAt + VERSION_BYTES) };
}

export const DATA_SUFFIX_BYTES = PART_BYTES;

/** A new version (or upload id): time-ordered, unique. */
export function newVersion(nowMs: number): Buffer {
  const id = Buffer.alloc(VERSION_BYTES);
  id.writeUIntBE(Math.max(0, Math.min(nowMs, 2 ** 48 - 1)), 0, 6);
  randomBytes(VERSION_BYTES - 6).copy(id, 6);
  return id;
}

/** Upload ids travel as 32 lower-case hex digits. */
export function uploadIdText(id: Buffer): string {
  return id.toString('hex');
}

/** Throws NoSuchUpload for anything that cannot be an upload id of ours. */
export function parseUploadId(text: string): Buffer {
  if (!/^[0-9a-f]{32}$/.test(text)) {
    throw new S3Error(404, 'NoSuchUpload', 'The specified upload does not exist.', { UploadId: text });
  }
  return Buffer.from(text, 'hex');
}

function partBytes(part: number): Buffer {
  const b = Buffer.alloc(PART_BYTES);
  b.writeUInt16BE(part, 0);
  return b;
}
