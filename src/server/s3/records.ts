// The values of the S3 shards (docs/S3.md, "Records"): bucket, object,
// upload and part records. Little-endian, through base's bounded reader, and
// each ends in a CRC32C of the bytes before it, so a damaged record is a
// CorruptionError, never a wrong answer.
//
// DO NOT CHANGE: on-disk. Add a new format version instead.
//
// object record (magic "S3OB"):
//   u32 magic, u8 version=1, u8 flags (bit 0: data inline),
//   u64 size, u64 mtimeMs, shortBlob etag, shortBlob contentType,
//   u16 n, n x (shortBlob name, shortBlob value)     stored headers
//   u32 n, n x (16 bytes version, u16 part, u64 size) data shards in order
//   [blob data]                                      if inline
//   u32 crc32c
// upload record (magic "S3UP"): u32 magic, u8 version=1, u64 initiatedMs,
//   shortBlob contentType, headers as above, u32 crc32c
// part record (magic "S3PT"): u32 magic, u8 version=1, 16 bytes version,
//   u64 size, u64 mtimeMs, 16 bytes md5, u32 crc32c
// bucket record (magic "S3BK"): u32 magic, u8 version=1, u64 createdMs, u32 crc32c
import { BufReader, BufWriter, CorruptionError, assert, crc32c } from '../../base/index.js';
import { VERSION_BYTES } from './shard_keys.js';

const OBJECT_MAGIC = 0x424f3353; // "S3OB" little-endian
const UPLOAD_MAGIC = 0x50553353; // "S3UP"
const PART_MAGIC = 0x54503353; // "S3PT"
const BUCKET_MAGIC = 0x4b423353; // "S3BK"
const FORMAT_VERSION = 1;
const FLAG_INLINE = 1;
const MD5_BYTES = 16;
/** A part list entry: version, part number, size. */
const PART_ENTRY_BYTES = VERSION_BYTES + 2 + 8;

/** Headers kept with an object and sent back on GET: lower-case name, value. */
export type StoredHeaders = ReadonlyArray<readonly [string, string]>;

/** One data shard of an object: `\0D bucket/key\0 version part`. */
export interface DataRef {
  readonly version: Buffer;
  readonly part: number;
  readonly sizeBytes: number;
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
  /** Small objects keep their bytes in the record itself. */
  readonly inline: Buffer | undefined;
}

export interface UploadRecord {
  readonly initiatedMs: number;
  readonly contentType: string;
  readonly headers: StoredHeaders;
}

export interface PartRecord {
  readonly version: Buffer;
  readonly sizeBytes: number;
  readonly mtimeMs: number;
  readonly md5: Buffer;
}

export interface BucketRecord {
  readonly createdMs: number;
}

export function encodeObject(r: ObjectRecord): Buffer {
  assert(r.inline === undefined || (r.parts.length === 0 && r.inline.length === r.sizeBytes), 'inline object has no parts and its size');
  assert(r.inline !== undefined || r.parts.reduce((n, p) => n + p.sizeBytes, 0) === r.sizeBytes, 'parts add up to the size');
  const w = new BufWriter(128 + r.parts.length * PART_ENTRY_BYTES + (r.inline?.length ?? 0));
  w.u32(OBJECT_MAGIC).u8(FORMAT_VERSION).u8(r.inline === undefined ? 0 : FLAG_INLINE);
  w.u64(r.sizeBytes).u64(r.mtimeMs).shortBlob(Buffer.from(r.etag, 'latin1')).shortBlob(Buffer.from(r.contentType, 'utf8'));
  writeHeaders(w, r.headers);
  w.u32(r.parts.length);
  for (const p of r.parts) {
    assert(p.version.length === VERSION_BYTES, 'version length');
    w.bytes(p.version).u16(p.part).u64(p.sizeBytes);
  }
  if (r.inline !== undefined) w.blob(r.inline);
  return sealed(w);
}

export function decodeObject(bytes: Buffer): ObjectRecord {
  const r = opened(bytes, OBJECT_MAGIC, 'object record');
  const flags = r.u8();
  const sizeBytes = r.u64();
  const mtimeMs = r.u64();
  const etag = r.shortBlob().toString('latin1');
  const contentType = r.shortBlob().toString('utf8');
  const headers = readHeaders(r);
  const count = r.count(PART_ENTRY_BYTES);
  const parts: DataRef[] = [];
  for (let i = 0; i < count; i++) {
    parts.push({ version: Buffer.from(r.bytes(VERSION_BYTES)), part: r.u16(), sizeBytes: r.u64() });
  }
  const inline = (flags & FLAG_INLINE) !== 0 ? Buffer.from(r.blob()) : undefined;
  r.expectEnd();
  const total = inline?.length ?? parts.reduce((n, p) => n + p.sizeBytes, 0);
  if (total !== sizeBytes) throw new CorruptionError(`object record: size ${sizeBytes} but data of ${total} bytes`);
  return { sizeBytes, mtimeMs, etag, contentType, headers, parts, inline };
}

export function encodeUpload(r: UploadRecord): Buffer {
  const w = new BufWriter();
  w.u32(UPLOAD_MAGIC).u8(FORMAT_VERSION).u64(r.initiatedMs).shortBlob(Buffer.from(r.contentType, 'utf8'));
  writeHeaders(w, r.headers);
  return sealed(w);
}

export function decodeUpload(bytes: Buffer): UploadRecord {
  const r = opened(bytes, UPLOAD_MAGIC, 'upload record');
  const initiatedMs = r.u64();
  const contentType = r.shortBlob().toString('utf8');
  const headers = readHeaders(r);
  r.expectEnd();
  return { initiatedMs, contentType, headers };
}

export function encodePart(r: PartRecord): Buffer {
  assert(r.version.length === VERSION_BYTES && r.md5.length === MD5_BYTES, 'part record field lengths');
  const w = new BufWriter(64);
  w.u32(PART_MAGIC).u8(FORMAT_VERSION).bytes(r.version).u64(r.sizeBytes).u64(r.mtimeMs).bytes(r.md5);
  return sealed(w);
}

export function decodePart(bytes: Buffer): PartRecord {
  const r = opened(bytes, PART_MAGIC, 'part record');
  const version = Buffer.from(r.bytes(VERSION_BYTES));
  const sizeBytes = r.u64();
  const mtimeMs = r.u64();
  const md5 = Buffer.from(r.bytes(MD5_BYTES));
  r.expectEnd();
  return { version, sizeBytes, mtimeMs, md5 };
}

export function encodeBucket(r: BucketRecord): Buffer {
  return sealed(new BufWriter(32).u32(BUCKET_MAGIC).u8(FORMAT_VERSION).u64(r.createdMs));
}

export function decodeBucket(bytes: Buffer): BucketRecord {
  const r = opened(bytes, BUCKET_MAGIC, 'bucket record');
  const createdMs = r.u64();
  r.expectEnd();
  return { createdMs };
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

/** Check length, CRC and magic; a reader positioned after the version byte, bounded before the CRC. */
function opened(bytes: Buffer, magic: number, what: string): BufReader {
  if (bytes.length < 9) throw new CorruptionError(`${what}: ${bytes.length} bytes is too short`);
  const body = bytes.subarray(0, bytes.length - 4);
  if (crc32c(body) !== bytes.readUInt32LE(bytes.length - 4)) throw new CorruptionError(`${what}: checksum mismatch`);
  const r = new BufReader(body, what);
  if (r.u32() !== magic) throw new CorruptionError(`${what}: bad magic`);
  const version = r.u8();
  if (version !== FORMAT_VERSION) throw new CorruptionError(`${what}: unknown format version ${version}`);
  return r;
}
