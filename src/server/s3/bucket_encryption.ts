// Bucket default encryption (docs/S3.md, "Encryption at rest"): the record
// that keeps it, one shard per bucket (`\0E bucket`, shard_keys.ts), and
// the configuration document (bucket_encryption_ops.ts serves them). New
// objects of a bucket with one get SSE-S3 unless their request asks for
// SSE-C or SSE-S3 itself (sse.ts).
//
// Only AES256 (SSE-S3) is served; aws:kms and aws:kms:dsse answer 501, as
// SSE-KMS does everywhere.
//
// Record (magic "S3BE"; DO NOT CHANGE: on-disk):
//   u32 magic, u8 version (1), u8 algorithm (1 AES256), u8 flags (bit 0: BucketKeyEnabled), u32 crc32c
import { BufReader, BufWriter, CorruptionError, crc32c } from '../../base/index.js';
import type { Core } from './core.js';
import { invalidArgument, malformedXml, notImplemented } from './s3_errors.js';
import { encryptionShardKey } from './shard_keys.js';
import { asNode, child, children, optionalText, parseXml, text } from './xml.js';

const MAGIC = 0x45423353; // "S3BE" little-endian
const FORMAT_V1 = 1;
const AES256 = 1;
const FLAG_BUCKET_KEY = 1;
const RECORD_BYTES = 4 + 1 + 1 + 1 + 4;

export interface BucketEncryption {
  /** The only algorithm served: SSE-S3. */
  readonly algorithm: 'AES256';
  /** Stored and echoed as given; it changes nothing for SSE-S3, as in S3. */
  readonly bucketKeyEnabled: boolean;
}

export function encodeBucketEncryption(e: BucketEncryption): Buffer {
  const w = new BufWriter(RECORD_BYTES).u32(MAGIC).u8(FORMAT_V1).u8(AES256).u8(e.bucketKeyEnabled ? FLAG_BUCKET_KEY : 0);
  w.u32(crc32c(w.view()));
  return w.finish();
}

export function decodeBucketEncryption(bytes: Buffer): BucketEncryption {
  if (bytes.length !== RECORD_BYTES) throw new CorruptionError(`bucket encryption record: ${bytes.length} bytes, expected ${RECORD_BYTES}`);
  const body = bytes.subarray(0, RECORD_BYTES - 4);
  if (crc32c(body) !== bytes.readUInt32LE(RECORD_BYTES - 4)) throw new CorruptionError('bucket encryption record: checksum mismatch');
  const r = new BufReader(body, 'bucket encryption record');
  if (r.u32() !== MAGIC) throw new CorruptionError('bucket encryption record: bad magic');
  const version = r.u8();
  if (version !== FORMAT_V1) throw new CorruptionError(`bucket encryption record: unknown format version ${version}`);
  if (r.u8() !== AES256) throw new CorruptionError('bucket encryption record: unknown algorithm');
  const flags = r.u8();
  if ((flags & ~FLAG_BUCKET_KEY) !== 0) throw new CorruptionError(`bucket encryption record: unknown flags ${flags}`);
  r.expectEnd();
  return { algorithm: 'AES256', bucketKeyEnabled: (flags & FLAG_BUCKET_KEY) !== 0 };
}

/** The bucket's default encryption, or undefined. A damaged record is a CorruptionError (a write must not go out unencrypted by mistake). */
export async function readBucketEncryption(core: Core, bucket: string): Promise<BucketEncryption | undefined> {
  const bytes = await core.getOptional(encryptionShardKey(bucket));
  return bytes === undefined ? undefined : decodeBucketEncryption(bytes);
}

/** The configuration of a PutBucketEncryption body. Throws MalformedXML, InvalidArgument, 501 for SSE-KMS. */
export function bucketEncryptionOfBody(body: Buffer): BucketEncryption {
  const doc = asNode(child(parseXml(body), 'ServerSideEncryptionConfiguration'), 'ServerSideEncryptionConfiguration');
  const rules = children(doc, 'Rule');
  if (rules.length !== 1) throw malformedXml('exactly one Rule is allowed');
  const rule = asNode(rules[0] ?? '', 'Rule');
  const apply = asNode(child(rule, 'ApplyServerSideEncryptionByDefault'), 'ApplyServerSideEncryptionByDefault');
  const algorithm = text(child(apply, 'SSEAlgorithm'), 'SSEAlgorithm').trim();
  if (algorithm === 'aws:kms' || algorithm === 'aws:kms:dsse') throw notImplemented(`default encryption with ${algorithm} (SSE-KMS)`);
  if (algorithm !== 'AES256') throw malformedXml(`unknown SSEAlgorithm ${JSON.stringify(algorithm)}`);
  if (optionalText(apply, 'KMSMasterKeyID') !== undefined) throw invalidArgument('a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse', { ArgumentName: 'ApplyServerSideEncryptionByDefault' });
  const bucketKey = optionalText(rule, 'BucketKeyEnabled')?.trim();
  if (bucketKey !== undefined && bucketKey !== 'true' && bucketKey !== 'false') throw malformedXml('BucketKeyEnabled is true or false');
  return { algorithm: 'AES256', bucketKeyEnabled: bucketKey === 'true' };
}
