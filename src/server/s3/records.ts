// The values of the S3 shards (docs/S3.md, "Records"): bucket, object,
// upload and part records. Little-endian, through base's bounded reader, and
// each ends in a CRC32C of the bytes before it, so a damaged record is a
// CorruptionError, never a wrong answer.
//
// DO NOT CHANGE: on-disk. Add a new format version instead.
//
// Version 2 (tagging, checksums, retried completes) adds fields; a record
// whose new fields are all empty is still written as version 1, byte for
// byte as before, and both versions are read.
//
// Version 3 of the object record (versioning, versioning.ts) is version 2
// and a version stamp; it is written only for objects of a bucket whose
// versioning was ever configured, so every other record keeps its version.
//
// Version 4 of the object record and version 3 of the upload record add
// sections: features that keep state with an object (object lock,
// encryption) each own one numbered section whose bytes their own module
// encodes; records holds only the frame. A record without sections keeps
// its older version, byte for byte. In v4 the version stamp is present only
// if flags bit 2 is set. Sections come in increasing number, each at most
// once; an unknown number is a CorruptionError (a reader never drops state
// it does not understand). With the encryption section present the parts'
// (or inline data's) sizes are stored sizes, larger than the object's:
// sse_format.ts checks them instead of the frame.
//
// object record (magic "S3OB"):
//   u32 magic, u8 version (1 to 4), u8 flags (bit 0: data inline; v2 bit 1: made by an upload; v4 bit 2: stamped),
//   u64 size, u64 mtimeMs, shortBlob etag, shortBlob contentType,
//   u16 n, n x (shortBlob name, shortBlob value)     stored headers
//   v2: tags (u8 n, n x (shortBlob key, shortBlob value))
//   v2: [16 bytes uploadId]                          if flags bit 1
//   v3 (v4 if flags bit 2): u8 stamp flags (bit 0: null version, bit 1: delete marker), 16 bytes rank
//   u32 n, n x (16 bytes version, u16 part, u64 size) data shards in order
//   [blob data]                                      if inline
//   v4: sections (u8 n, n x (u8 number, blob bytes))
//   u32 crc32c
// upload record (magic "S3UP"): u32 magic, u8 version, u64 initiatedMs,
//   shortBlob contentType, headers as above,
//   v2: tags as above, shortBlob checksum algorithm ('' for none),
//   v3: sections as in the object record, u32 crc32c
// part record (magic "S3PT"): u32 magic, u8 version, 16 bytes version,
//   u64 size, u64 mtimeMs, 16 bytes md5,
//   v2: shortBlob checksum algorithm, shortBlob checksum (base64 text), u32 crc32c
// bucket record (magic "S3BK"): u32 magic, u8 version, u64 createdMs,
//   v2 and v3: tags as above, v3: u8 flags (bit 0: created with the
//   LocationConstraint "EU"; any other bit, or none set, is corruption), u32 crc32c
import { BufReader, BufWriter, CorruptionError, assert, crc32c } from '../../base/index.js';
import { VERSION_BYTES } from './shard_keys.js';

const OBJECT_MAGIC = 0x424f3353; // "S3OB" little-endian
const UPLOAD_MAGIC = 0x50553353; // "S3UP"
const PART_MAGIC = 0x54503353; // "S3PT"
const BUCKET_MAGIC = 0x4b423353; // "S3BK"
const FORMAT_V1 = 1;
/** Adds tags, the upload an object came from, and checksums (see the header). */
const FORMAT_V2 = 2;
/** Object records: adds the version stamp. Upload records: adds sections. */
const FORMAT_V3 = 3;
/** Object records only: adds sections; the stamp becomes optional (FLAG_STAMPED). */
const FORMAT_V4 = 4;
const STAMP_NULL = 1;
const STAMP_DELETE_MARKER = 2;
const FLAG_INLINE = 1;
const FLAG_FROM_UPLOAD = 2;
const FLAG_STAMPED = 4;
/** More tags than any record may hold (a bucket holds at most 50). */
const MAX_STORED_TAGS = 64;
const MD5_BYTES = 16;
/** A part list entry: version, part number, size. */
const PART_ENTRY_BYTES = VERSION_BYTES + 2 + 8;

/**
 * The numbered sections of object (v4) and upload (v3) records. Each
 * feature owns its number and the encoding of its bytes; never reuse a
 * number. DO NOT CHANGE the numbers: on-disk.
 */
export const RecordSection = {
  /** Object lock: retention and legal hold (object_lock.ts). */
  lock: 1,
  /** Server-side encryption parameters (sse.ts). */
  encryption: 2,
  /** The object's ACL (access_records.ts, encodeAclSection): given with the write, or by PutObjectAcl. */
  acl: 3,
  /** Upload records only: the canonical id (utf8) of the user who created the upload; ListMultipartUploads and ListParts name it. Not given to the object. */
  initiator: 4,
  /**
   * The canonical id (utf8) of the object's owner when it is not the bucket's
   * owner (object_owner.ts): a user who wrote it (or, for a delete marker,
   * made it) in a bucket whose objects are their writer's. Absent: the bucket owner's. An upload record keeps
   * it for the object it makes.
   */
  owner: 5,
  /** Object records only: the additional checksum the object was uploaded with, and its parts' (checksum_section.ts). */
  checksum: 6,
  /**
   * Upload records only: the checksum type CreateMultipartUpload asked for when it is not its
   * algorithm's default (FULL_OBJECT with CRC32 or CRC32C; checksum_section.ts,
   * encodeUploadChecksumType). Not given to the object.
   */
  checksumType: 7,
} as const;
export type RecordSectionName = keyof typeof RecordSection;
/** Section bytes by name; an absent name is an absent section. */
export type RecordSections = Readonly<Partial<Record<RecordSectionName, Buffer>>>;
const SECTION_NAMES = Object.keys(RecordSection) as RecordSectionName[];

/** Headers kept with an object and sent back on GET: lower-case name, value. */
export type StoredHeaders = ReadonlyArray<readonly [string, string]>;

/** A tag set: key, value, in the order given (tagging.ts checks S3's limits before a record holds one). */
export type TagSet = ReadonlyArray<readonly [string, string]>;

/** An additional checksum of S3 (checksums.ts): the algorithm's name and the base64 value. */
export interface StoredChecksum {
  readonly algorithm: string;
  readonly value: string;
}

/** One data shard of an object: `\0D bucket/key\0 version part`. */
export interface DataRef {
  readonly version: Buffer;
  readonly part: number;
  readonly sizeBytes: number;
}

/**
 * Which version of its key a record is (versioning.ts). `rank` orders the
 * versions of one key: smaller is newer, and its hex is the version id
 * clients see (except for the null version, whose id is "null").
 */
export interface VersionStamp {
  readonly rank: Buffer;
  readonly isNull: boolean;
  /** A delete marker: no data, size 0, empty ETag. */
  readonly deleteMarker: boolean;
}

export interface ObjectRecord {
  readonly sizeBytes: number;
  readonly mtimeMs: number;
  /** Without quotes: hex MD5, or hex-N for a multipart object. */
  readonly etag: string;
  readonly contentType: string;
  readonly headers: StoredHeaders;
  /** The data, in order (empty when inline). */
  readonly parts: readonly DataRef[];
  /**
   * Small objects keep their bytes in the record itself. A decoded record's
   * inline bytes are a view of the bytes it was decoded from (a store
   * value, which nobody changes: ShardApi.get), not a copy: they are read,
   * never written.
   */
  readonly inline: Buffer | undefined;
  readonly tags: TagSet;
  /** The multipart upload that made the object (a retried Complete of it answers as the first did). */
  readonly uploadId: Buffer | undefined;
  /** Absent: written while the bucket was unversioned (a null version). */
  readonly version?: VersionStamp | undefined;
  /** Feature state kept with the object (see RecordSection); absent or empty: none. */
  readonly sections?: RecordSections | undefined;
}

export interface UploadRecord {
  readonly initiatedMs: number;
  readonly contentType: string;
  readonly headers: StoredHeaders;
  /** Tags the object gets when the upload completes. */
  readonly tags: TagSet;
  /** x-amz-checksum-algorithm of CreateMultipartUpload ('' for none). */
  readonly checksumAlgorithm: string;
  /** Feature state the object gets when the upload completes (see RecordSection). */
  readonly sections?: RecordSections | undefined;
}

export interface PartRecord {
  readonly version: Buffer;
  readonly sizeBytes: number;
  readonly mtimeMs: number;
  readonly md5: Buffer;
  /** The additional checksum the part was uploaded with, verified. */
  readonly checksum: StoredChecksum | undefined;
}

export interface BucketRecord {
  readonly createdMs: number;
  readonly tags: TagSet;
  /** The bucket was created with the LocationConstraint "EU" (S3's legacy name of eu-west-1), which GetBucketLocation answers (location.ts). */
  readonly legacyEu?: true;
}

/** Bucket records, version 3: the flags byte. */
const BUCKET_FLAG_EU = 1;

export function encodeObject(r: ObjectRecord): Buffer {
  // Encrypted data is larger than the object (sse_format.ts, invariant 1): sse_crypto.ts checks its sizes.
  const sized = r.sections?.encryption === undefined;
  assert(r.inline === undefined || (r.parts.length === 0 && (!sized || r.inline.length === r.sizeBytes)), 'inline object has no parts and its size');
  assert(r.inline !== undefined || !sized || r.parts.reduce((n, p) => n + p.sizeBytes, 0) === r.sizeBytes, 'parts add up to the size');
  assert(r.uploadId === undefined || r.uploadId.length === VERSION_BYTES, 'upload id length');
  assert(r.version === undefined || r.version.rank.length === VERSION_BYTES, 'version rank length');
  assert(r.version?.deleteMarker !== true || (r.sizeBytes === 0 && r.inline === undefined), 'a delete marker has no data');
  const v4 = hasSections(r.sections);
  const v3 = !v4 && r.version !== undefined;
  const v2 = v4 || v3 || r.tags.length > 0 || r.uploadId !== undefined;
  const flags =
    (r.inline === undefined ? 0 : FLAG_INLINE) | (r.uploadId === undefined ? 0 : FLAG_FROM_UPLOAD) | (v4 && r.version !== undefined ? FLAG_STAMPED : 0);
  const w = new BufWriter(128 + r.parts.length * PART_ENTRY_BYTES + (r.inline?.length ?? 0));
  w.u32(OBJECT_MAGIC).u8(v4 ? FORMAT_V4 : v3 ? FORMAT_V3 : v2 ? FORMAT_V2 : FORMAT_V1).u8(flags);
  w.u64(r.sizeBytes).u64(r.mtimeMs).shortBlob(Buffer.from(r.etag, 'latin1')).shortBlob(Buffer.from(r.contentType, 'utf8'));
  writeHeaders(w, r.headers);
  if (v2) {
    writeTags(w, r.tags);
    if (r.uploadId !== undefined) w.bytes(r.uploadId);
  }
  if (r.version !== undefined) w.u8((r.version.isNull ? STAMP_NULL : 0) | (r.version.deleteMarker ? STAMP_DELETE_MARKER : 0)).bytes(r.version.rank);
  w.u32(r.parts.length);
  for (const p of r.parts) {
    assert(p.version.length === VERSION_BYTES, 'version length');
    w.bytes(p.version).u16(p.part).u64(p.sizeBytes);
  }
  if (r.inline !== undefined) w.blob(r.inline);
  if (v4) writeSections(w, r.sections);
  return sealed(w);
}

export function decodeObject(bytes: Buffer): ObjectRecord {
  const { r, version } = opened(bytes, OBJECT_MAGIC, 'object record', FORMAT_V4);
  const flags = r.u8();
  if (version === FORMAT_V1 && (flags & FLAG_FROM_UPLOAD) !== 0) throw new CorruptionError('object record: version 1 with an upload id');
  if (version !== FORMAT_V4 && (flags & FLAG_STAMPED) !== 0) throw new CorruptionError(`object record: version ${version} with flags ${flags}`);
  if ((flags & ~(FLAG_INLINE | FLAG_FROM_UPLOAD | FLAG_STAMPED)) !== 0) throw new CorruptionError(`object record: unknown flags ${flags}`);
  const sizeBytes = r.u64();
  const mtimeMs = r.u64();
  const etag = r.shortBlob().toString('latin1');
  const contentType = r.shortBlob().toString('utf8');
  const headers = readHeaders(r);
  const tags = version >= FORMAT_V2 ? readTags(r) : [];
  const uploadId = (flags & FLAG_FROM_UPLOAD) !== 0 ? Buffer.from(r.bytes(VERSION_BYTES)) : undefined;
  const stamp = version === FORMAT_V3 || (flags & FLAG_STAMPED) !== 0 ? readStamp(r) : undefined;
  const count = r.count(PART_ENTRY_BYTES);
  const parts: DataRef[] = [];
  for (let i = 0; i < count; i++) {
    parts.push({ version: Buffer.from(r.bytes(VERSION_BYTES)), part: r.u16(), sizeBytes: r.u64() });
  }
  // A view, not a copy (ObjectRecord.inline): a copy of a 4 KiB body was a fresh zeroed ArrayBuffer per GET and per overwrite.
  const inline = (flags & FLAG_INLINE) !== 0 ? r.blob() : undefined;
  const sections = version === FORMAT_V4 ? readSections(r, 'object record') : undefined;
  r.expectEnd();
  const total = inline?.length ?? parts.reduce((n, p) => n + p.sizeBytes, 0);
  if (total !== sizeBytes && sections?.encryption === undefined) throw new CorruptionError(`object record: size ${sizeBytes} but data of ${total} bytes`);
  if (stamp?.deleteMarker === true && (sizeBytes !== 0 || inline !== undefined)) throw new CorruptionError('object record: a delete marker with data');
  return {
    sizeBytes, mtimeMs, etag, contentType, headers, parts, inline, tags, uploadId,
    ...(stamp === undefined ? {} : { version: stamp }),
    ...(sections === undefined ? {} : { sections }),
  };
}

function readStamp(r: BufReader): VersionStamp {
  const flags = r.u8();
  if ((flags & ~(STAMP_NULL | STAMP_DELETE_MARKER)) !== 0) throw new CorruptionError(`object record: unknown version stamp flags ${flags}`);
  return { isNull: (flags & STAMP_NULL) !== 0, deleteMarker: (flags & STAMP_DELETE_MARKER) !== 0, rank: Buffer.from(r.bytes(VERSION_BYTES)) };
}

export function encodeUpload(r: UploadRecord): Buffer {
  const v3 = hasSections(r.sections);
  const v2 = v3 || r.tags.length > 0 || r.checksumAlgorithm !== '';
  const w = new BufWriter();
  w.u32(UPLOAD_MAGIC).u8(v3 ? FORMAT_V3 : v2 ? FORMAT_V2 : FORMAT_V1).u64(r.initiatedMs).shortBlob(Buffer.from(r.contentType, 'utf8'));
  writeHeaders(w, r.headers);
  if (v2) writeTags(w, r.tags).shortBlob(Buffer.from(r.checksumAlgorithm, 'latin1'));
  if (v3) writeSections(w, r.sections);
  return sealed(w);
}

export function decodeUpload(bytes: Buffer): UploadRecord {
  const { r, version } = opened(bytes, UPLOAD_MAGIC, 'upload record', FORMAT_V3);
  const initiatedMs = r.u64();
  const contentType = r.shortBlob().toString('utf8');
  const headers = readHeaders(r);
  const tags = version >= FORMAT_V2 ? readTags(r) : [];
  const checksumAlgorithm = version >= FORMAT_V2 ? r.shortBlob().toString('latin1') : '';
  const sections = version === FORMAT_V3 ? readSections(r, 'upload record') : undefined;
  r.expectEnd();
  return { initiatedMs, contentType, headers, tags, checksumAlgorithm, ...(sections === undefined ? {} : { sections }) };
}

export function encodePart(r: PartRecord): Buffer {
  assert(r.version.length === VERSION_BYTES && r.md5.length === MD5_BYTES, 'part record field lengths');
  assert(r.checksum === undefined || r.checksum.algorithm !== '', 'a part checksum names its algorithm');
  const w = new BufWriter(64);
  w.u32(PART_MAGIC).u8(r.checksum === undefined ? FORMAT_V1 : FORMAT_V2).bytes(r.version).u64(r.sizeBytes).u64(r.mtimeMs).bytes(r.md5);
  if (r.checksum !== undefined) w.shortBlob(Buffer.from(r.checksum.algorithm, 'latin1')).shortBlob(Buffer.from(r.checksum.value, 'latin1'));
  return sealed(w);
}

export function decodePart(bytes: Buffer): PartRecord {
  const { r, version: format } = opened(bytes, PART_MAGIC, 'part record');
  const version = Buffer.from(r.bytes(VERSION_BYTES));
  const sizeBytes = r.u64();
  const mtimeMs = r.u64();
  const md5 = Buffer.from(r.bytes(MD5_BYTES));
  let checksum: StoredChecksum | undefined;
  if (format === FORMAT_V2) {
    checksum = { algorithm: r.shortBlob().toString('latin1'), value: r.shortBlob().toString('latin1') };
    if (checksum.algorithm === '') throw new CorruptionError('part record: a checksum without its algorithm');
  }
  r.expectEnd();
  return { version, sizeBytes, mtimeMs, md5, checksum };
}

export function encodeBucket(r: BucketRecord): Buffer {
  // The oldest version that holds the record, so a bucket without tags or flags keeps version 1 byte for byte.
  const version = r.legacyEu === true ? FORMAT_V3 : r.tags.length > 0 ? FORMAT_V2 : FORMAT_V1;
  const w = new BufWriter(32).u32(BUCKET_MAGIC).u8(version).u64(r.createdMs);
  if (version >= FORMAT_V2) writeTags(w, r.tags);
  if (version === FORMAT_V3) w.u8(BUCKET_FLAG_EU);
  return sealed(w);
}

export function decodeBucket(bytes: Buffer): BucketRecord {
  const { r, version } = opened(bytes, BUCKET_MAGIC, 'bucket record', FORMAT_V3);
  const createdMs = r.u64();
  const tags = version >= FORMAT_V2 ? readTags(r) : [];
  const flags = version === FORMAT_V3 ? r.u8() : 0;
  // Version 3 is written only for a flag: none set, or an unknown one, is damage.
  if (version === FORMAT_V3 && flags !== BUCKET_FLAG_EU) throw new CorruptionError(`bucket record: flags ${flags}`);
  r.expectEnd();
  return { createdMs, tags, ...(flags === BUCKET_FLAG_EU ? { legacyEu: true } : {}) };
}

function writeTags(w: BufWriter, tags: TagSet): BufWriter {
  assert(tags.length <= MAX_STORED_TAGS, 'too many tags');
  w.u8(tags.length);
  for (const [key, value] of tags) w.shortBlob(Buffer.from(key, 'utf8')).shortBlob(Buffer.from(value, 'utf8'));
  return w;
}

function readTags(r: BufReader): Array<[string, string]> {
  const n = r.u8();
  if (n > MAX_STORED_TAGS) throw new CorruptionError(`${n} tags is more than a record holds`);
  const out: Array<[string, string]> = [];
  for (let i = 0; i < n; i++) out.push([r.shortBlob().toString('utf8'), r.shortBlob().toString('utf8')]);
  return out;
}

function hasSections(sections: RecordSections | undefined): sections is RecordSections {
  return sections !== undefined && SECTION_NAMES.some((name) => sections[name] !== undefined);
}

function writeSections(w: BufWriter, sections: RecordSections | undefined): void {
  const present = SECTION_NAMES.filter((name) => sections?.[name] !== undefined).sort((a, b) => RecordSection[a] - RecordSection[b]);
  w.u8(present.length);
  for (const name of present) {
    const bytes = sections?.[name];
    assert(bytes !== undefined, 'a present section has bytes');
    w.u8(RecordSection[name]).blob(bytes);
  }
}

function readSections(r: BufReader, what: string): RecordSections {
  const n = r.u8();
  if (n === 0) throw new CorruptionError(`${what}: a sections list that is empty (the older version is written instead)`);
  const out: Partial<Record<RecordSectionName, Buffer>> = {};
  let last = 0;
  for (let i = 0; i < n; i++) {
    const number = r.u8();
    const name = SECTION_NAMES.find((k) => RecordSection[k] === number);
    if (name === undefined) throw new CorruptionError(`${what}: unknown section ${number}`);
    if (number <= last) throw new CorruptionError(`${what}: section ${number} out of order or repeated`);
    last = number;
    out[name] = Buffer.from(r.blob());
  }
  return out;
}

function writeHeaders(w: BufWriter, headers: StoredHeaders): void {
  assert(headers.length <= 0xffff, 'too many stored headers');
  w.u16(headers.length);
  for (const [name, value] of headers) w.shortBlob(Buffer.from(name, 'utf8')).shortBlob(Buffer.from(value, 'utf8'));
}

function readHeaders(r: BufReader): Array<[string, string]> {
  const n = r.u16();
  const out: Array<[string, string]> = [];
  for (let i = 0; i < n; i++) out.push([r.shortBlob().toString('utf8'), r.shortBlob().toString('utf8')]);
  return out;
}

/** Append the CRC32C of everything written. */
function sealed(w: BufWriter): Buffer {
  w.u32(crc32c(w.view()));
  return w.finish();
}

/** Check length, CRC, magic and version; a reader positioned after the version byte, bounded before the CRC. */
export function opened(bytes: Buffer, magic: number, what: string, newest: number = FORMAT_V2): { r: BufReader; version: number } {
  if (bytes.length < 9) throw new CorruptionError(`${what}: ${bytes.length} bytes is too short`);
  const body = bytes.subarray(0, bytes.length - 4);
  if (crc32c(body) !== bytes.readUInt32LE(bytes.length - 4)) throw new CorruptionError(`${what}: checksum mismatch`);
  const r = new BufReader(body, what);
  if (r.u32() !== magic) throw new CorruptionError(`${what}: bad magic`);
  const version = r.u8();
  if (version < FORMAT_V1 || version > newest) throw new CorruptionError(`${what}: unknown format version ${version}`);
  return { r, version };
}
