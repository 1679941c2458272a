// What a shard key of the S3 front's range (shard_keys.ts) means to a
// person: which bucket and object it belongs to, and which kind of record
// it is. Used where a shard is reported by key (scrub, fsck, warnings of a
// damaged record), so an operator reads `photos/2024/cat.jpg (object data)`,
// not `%00Dphotos%2F2024%2Fcat.jpg%00...`.
import { encodeKey } from '../key_codec.js';
import { NS_BUCKET, NS_CORS, NS_DATA, NS_ENCRYPTION, NS_LIFECYCLE, NS_LOCK_CONFIG, NS_OBJECT, NS_PART, NS_SETTINGS, NS_UPLOAD, NS_VERSION, objectOfVersionedKey, splitVersionedTail } from './shard_keys.js';

/**
 * bucket: bucket record; settings: bucket settings record; cors: a
 * bucket's CORS configuration; lifecycle: its lifecycle configuration; encryption: its default encryption; object: object record; version: noncurrent
 * version record; data: an object's data; upload, part: a multipart
 * upload's record and part; lock-config: a bucket's object lock configuration.
 */
export type S3RecordType = 'bucket' | 'settings' | 'cors' | 'lifecycle' | 'encryption' | 'object' | 'version' | 'data' | 'upload' | 'part' | 'lock-config';

export interface S3KeyName {
  readonly type: S3RecordType;
  readonly bucket: string;
  /** The object key as text (UTF-8, or percent-encoded if its bytes are not UTF-8); absent for a bucket record. */
  readonly key?: string;
  /** `bucket/key` (or `bucket`): how S3 users name it. */
  readonly name: string;
}

/** The S3 name of a shard key of the front's range, or undefined if it is not one the front lays out. */
export function s3KeyName(shardKey: Buffer): S3KeyName | undefined {
  const ns = shardKey.subarray(0, 2);
  if (ns.equals(NS_BUCKET)) return named('bucket', shardKey.subarray(2).toString('latin1'), undefined);
  if (ns.equals(NS_CORS)) return named('cors', shardKey.subarray(2).toString('latin1'), undefined);
  if (ns.equals(NS_LIFECYCLE)) return named('lifecycle', shardKey.subarray(2).toString('latin1'), undefined);
  if (ns.equals(NS_ENCRYPTION)) return named('encryption', shardKey.subarray(2).toString('latin1'), undefined);
  if (ns.equals(NS_SETTINGS)) return named('settings', shardKey.subarray(2).toString('latin1'), undefined);
  if (ns.equals(NS_LOCK_CONFIG)) return named('lock-config', shardKey.subarray(2).toString('latin1'), undefined);
  if (ns.equals(NS_OBJECT)) {
    const slash = shardKey.indexOf(0x2f, 2);
    return slash < 0 ? undefined : named('object', shardKey.subarray(2, slash).toString('latin1'), shardKey.subarray(slash + 1));
  }
  if (ns.equals(NS_DATA) || ns.equals(NS_PART)) {
    const object = objectOfVersionedKey(ns, shardKey);
    return object === undefined ? undefined : named(ns.equals(NS_DATA) ? 'data' : 'part', object.bucket, object.key);
  }
  if (ns.equals(NS_UPLOAD) || ns.equals(NS_VERSION)) {
    const slash = shardKey.indexOf(0x2f, 2);
    const tail = slash < 0 ? undefined : splitVersionedTail(shardKey.subarray(slash + 1), 0);
    return slash < 0 || tail === undefined ? undefined : named(ns.equals(NS_UPLOAD) ? 'upload' : 'version', shardKey.subarray(2, slash).toString('latin1'), tail.key);
  }
  return undefined;
}

function named(type: S3RecordType, bucket: string, key: Buffer | undefined): S3KeyName {
  if (key === undefined) return { type, bucket, name: bucket };
  const text = key.toString('utf8');
  const shown = Buffer.from(text, 'utf8').equals(key) ? text : encodeKey(key);
  return { type, bucket, key: shown, name: `${bucket}/${shown}` };
}

/** `bucket/key (object data)`: a one-line description for logs and reports. */
export function describeS3Key(name: S3KeyName): string {
  const what: Record<S3RecordType, string> = {
    bucket: 'bucket record',
    settings: 'bucket settings record',
    object: 'object record',
    version: 'noncurrent version record',
    data: 'object data',
    upload: 'multipart upload record',
    part: 'multipart upload part',
    cors: 'CORS configuration',
    'lock-config': 'object lock configuration',
    lifecycle: 'lifecycle configuration',
    encryption: 'default encryption configuration',
  };
  return `${name.name} (${what[name.type]})`;
}
