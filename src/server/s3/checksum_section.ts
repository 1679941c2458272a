// The checksum section of an object record (RecordSection.checksum,
// docs/format/s3_records.md "Checksum section"): the additional checksum an
// object was uploaded with, verified then, kept so that GetObjectAttributes
// (and GET and HEAD with x-amz-checksum-mode) answer it as S3 does. A PutObject with an x-amz-checksum-* value (header
// or trailer) keeps it as FULL_OBJECT, as does a POST form with a checksum
// field, and a CopyObject the one it computes (object_ops.ts); a multipart upload created with
// x-amz-checksum-algorithm keeps the COMPOSITE checksum (the checksum of the
// parts' binary checksums, without S3's `-N` suffix) and every part's own;
// one of type FULL_OBJECT (CRC32, CRC32C, CRC64NVME), or one without an algorithm whose Complete claimed a CRC its parts carry, the FULL_OBJECT CRC of the whole (multipart.ts).
// An object stored without one (or before this section) has no section.
//
// DO NOT CHANGE: on-disk. Add a new format version instead.
//
// checksum section (no magic, no CRC: the object record that holds it has both):
//   u8 version (1), u8 algorithm (1 crc32, 2 crc32c, 3 crc64nvme, 4 sha1, 5 sha256),
//   u8 type (1 FULL_OBJECT, 2 COMPOSITE), digest (4, 4, 8, 20, 32 bytes by algorithm),
//   COMPOSITE only: u16 n (1..10000), n x digest    the parts' checksums, in the object's order
// Invariants (checked on encode and on decode):
//   1. A digest is exactly its algorithm's size.
//   2. FULL_OBJECT has no part list; COMPOSITE has 1..10000 parts.
import { BufReader, BufWriter, CorruptionError, assert } from '../../base/index.js';
import type { ChecksumAlgorithm } from './checksums.js';
import type { ObjectRecord, StoredChecksum } from './records.js';

const SECTION_V1 = 1;
/** Algorithm codes: DO NOT CHANGE (on-disk); the index + 1 is the code. */
const ALGORITHMS: readonly ChecksumAlgorithm[] = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'];
const DIGEST_BYTES: Readonly<Record<ChecksumAlgorithm, number>> = { crc32: 4, crc32c: 4, crc64nvme: 8, sha1: 20, sha256: 32 };
const TYPES = ['FULL_OBJECT', 'COMPOSITE'] as const;
export type ChecksumType = (typeof TYPES)[number];
/** S3's most parts in one object (multipart.ts MAX_PART_NUMBER; asserted equal there would be a cycle). */
const MAX_PARTS = 10_000;

/** The checksum an object keeps (see the header). Values are base64 of the digest, as S3 sends them. */
export interface ObjectChecksum {
  readonly algorithm: ChecksumAlgorithm;
  readonly type: ChecksumType;
  /** The object's checksum; COMPOSITE: the checksum of the parts' digests, without `-N`. */
  readonly value: string;
  /** COMPOSITE: each part's checksum, in the object's order; FULL_OBJECT: empty. */
  readonly parts: readonly string[];
}

export function encodeChecksumSection(c: ObjectChecksum): Buffer {
  assert(c.type === 'COMPOSITE' ? c.parts.length >= 1 && c.parts.length <= MAX_PARTS : c.parts.length === 0, 'part checksums only for a composite checksum');
  const size = DIGEST_BYTES[c.algorithm];
  const w = new BufWriter(8 + size * (1 + c.parts.length)).u8(SECTION_V1).u8(ALGORITHMS.indexOf(c.algorithm) + 1).u8(TYPES.indexOf(c.type) + 1);
  w.bytes(digestOf(c.value, size));
  if (c.type === 'COMPOSITE') {
    w.u16(c.parts.length);
    for (const part of c.parts) w.bytes(digestOf(part, size));
  }
  return w.finish();
}

export function decodeChecksumSection(bytes: Buffer): ObjectChecksum {
  const r = new BufReader(bytes, 'checksum section');
  const version = r.u8();
  if (version !== SECTION_V1) throw new CorruptionError(`checksum section: unknown format version ${version}`);
  const algorithm = ALGORITHMS[r.u8() - 1];
  const type = TYPES[r.u8() - 1];
  if (algorithm === undefined || type === undefined) throw new CorruptionError('checksum section: unknown algorithm or type');
  const size = DIGEST_BYTES[algorithm];
  const value = r.bytes(size).toString('base64');
  const parts: string[] = [];
  if (type === 'COMPOSITE') {
    const n = r.u16();
    if (n < 1 || n > MAX_PARTS) throw new CorruptionError(`checksum section: ${n} parts`);
    for (let i = 0; i < n; i++) parts.push(r.bytes(size).toString('base64'));
  }
  r.expectEnd();
  return { algorithm, type, value, parts };
}

/** REQUIRES: `base64` is the canonical base64 of `size` bytes (a verified or computed checksum). */
function digestOf(base64: string, size: number): Buffer {
  const digest = Buffer.from(base64, 'base64');
  assert(digest.length === size && digest.toString('base64') === base64, 'a checksum is its algorithm\'s digest, in base64');
  return digest;
}

/** The checksum `record` keeps, if any. Throws CorruptionError. */
export function checksumOf(record: Pick<ObjectRecord, 'sections'>): ObjectChecksum | undefined {
  const bytes = record.sections?.checksum;
  return bytes === undefined ? undefined : decodeChecksumSection(bytes);
}

/** `record` keeping `checksum` (none: unchanged); other sections are kept. */
export function withChecksum(record: ObjectRecord, checksum: ObjectChecksum | undefined): ObjectRecord {
  return checksum === undefined ? record : { ...record, sections: { ...record.sections, checksum: encodeChecksumSection(checksum) } };
}

/** The FULL_OBJECT checksum of a body verified against `verified` (a PutObject's x-amz-checksum-*). */
export function fullObjectChecksum(verified: StoredChecksum | undefined): ObjectChecksum | undefined {
  if (verified === undefined) return undefined;
  const algorithm = ALGORITHMS.find((a) => a === verified.algorithm);
  assert(algorithm !== undefined, 'a verified checksum names a known algorithm');
  return { algorithm, type: 'FULL_OBJECT', value: verified.value, parts: [] };
}

// The upload checksum type section (RecordSection.checksumType, upload
// records only): the x-amz-checksum-type a CreateMultipartUpload asked for
// when it is not its algorithm's default (COMPOSITE for CRC32, CRC32C, SHA-1,
// SHA-256; FULL_OBJECT for CRC64NVME). Written only for FULL_OBJECT with
// CRC32 or CRC32C, so every other upload record keeps its bytes.
//
// DO NOT CHANGE: on-disk.
//   u8 version (1), u8 type (1 FULL_OBJECT, 2 COMPOSITE: the codes above)
const UPLOAD_TYPE_V1 = 1;

export function encodeUploadChecksumType(type: ChecksumType): Buffer {
  return Buffer.from([UPLOAD_TYPE_V1, TYPES.indexOf(type) + 1]);
}

export function decodeUploadChecksumType(bytes: Buffer): ChecksumType {
  const r = new BufReader(bytes, 'upload checksum type section');
  const version = r.u8();
  if (version !== UPLOAD_TYPE_V1) throw new CorruptionError(`upload checksum type section: unknown format version ${version}`);
  const type = TYPES[r.u8() - 1];
  if (type === undefined) throw new CorruptionError('upload checksum type section: unknown type');
  r.expectEnd();
  return type;
}
