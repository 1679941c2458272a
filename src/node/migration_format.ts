// The migration stream: shards of a key range moving between nodes.
// Spec: docs/format/migration.md. Writer (export) and reader (import) both
// use this file. DO NOT CHANGE: on the wire (bump MIGRATION_VERSION instead).
//
// Stream = Header, Shard record*, End record. Little-endian throughout.
//
// Header:
//   0   4  magic "SSMG" (0x474d5353)
//   4   2  version (1)
//   6   2  flags, zero
//   8   2  prefix length P      10  2  start length S
//   12  2  end length E         14  2  startAfter length A   (0: bound absent)
//   16  P+S+E+A  the bounds' bytes, in that order
//   ..  4  CRC32C of every header byte before it
//
// Shard record:
//   0   1  type 1                1   1  reserved, zero
//   2   2  key length K (1..1024)
//   4   8  value size V (u64, at most 2^53 - 1)
//   12  K  key
//   ..  4  header CRC32C over bytes 0..12+K
//   ..  V  value bytes
//   ..  4  CRC32C of the V value bytes
//
// End record:
//   0   1  type 2                1   3  reserved, zero
//   4   8  record count          12  8  total value bytes
//   20  4  stream CRC: CRC32C over (header CRC, value CRC) of every record, in order
//   24  4  CRC32C over bytes 0..23
//
// Invariants a reader enforces: keys strictly ascending and inside the
// header's range; every checksum matches; the end record's counts and stream
// CRC match the records read; nothing follows the end record. A stream cut
// anywhere fails with TruncatedStreamError; its records before the cut are
// whole and verified.
import { CorruptionError, crc32c } from '../base/index.js';
import { MAX_KEY_BYTES } from '../store/index.js';

export const MIGRATION_MAGIC = 0x474d5353;
export const MIGRATION_VERSION = 1;
export const MIGRATION_HEADER_FIXED_BYTES = 16;
export const RECORD_FIXED_BYTES = 12;
export const END_RECORD_BYTES = 28;
export const CRC_BYTES = 4;
export enum RecordType {
  Shard = 1,
  End = 2,
}
export const MIGRATION_CONTENT_TYPE = 'application/x-shardstore-migration';

export interface MigrationHeader {
  readonly prefix?: Buffer;
  readonly start?: Buffer;
  readonly end?: Buffer;
  readonly startAfter?: Buffer;
}

export interface MigrationEnd {
  readonly records: number;
  readonly bytes: number;
  readonly streamCrc: number;
}

/** The stream stops inside the header, a record, or before the end record. */
export class TruncatedStreamError extends CorruptionError {}

const BOUNDS = ['prefix', 'start', 'end', 'startAfter'] as const;

export function encodeHeader(h: MigrationHeader): Buffer {
  const parts = BOUNDS.map((b) => h[b] ?? Buffer.alloc(0));
  for (const [i, p] of parts.entries()) {
    if (p.length > MAX_KEY_BYTES) throw new RangeError(`${BOUNDS[i] ?? ''} of ${p.length} bytes exceeds ${MAX_KEY_BYTES}`);
  }
  const fixed = Buffer.alloc(MIGRATION_HEADER_FIXED_BYTES);
  fixed.writeUInt32LE(MIGRATION_MAGIC, 0);
  fixed.writeUInt16LE(MIGRATION_VERSION, 4);
  parts.forEach((p, i) => fixed.writeUInt16LE(p.length, 8 + 2 * i));
  return withCrc(Buffer.concat([fixed, ...parts]));
}

export function encodeRecordHeader(key: Buffer, sizeBytes: number): Buffer {
  if (key.length < 1 || key.length > MAX_KEY_BYTES) throw new RangeError(`key length ${key.length}`);
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 0) throw new RangeError(`value size ${sizeBytes}`);
  const fixed = Buffer.alloc(RECORD_FIXED_BYTES);
  fixed[0] = RecordType.Shard;
  fixed.writeUInt16LE(key.length, 2);
  writeU64(fixed, 4, sizeBytes);
  return withCrc(Buffer.concat([fixed, key]));
}

export function encodeEnd(end: MigrationEnd): Buffer {
  const buf = Buffer.alloc(END_RECORD_BYTES - CRC_BYTES);
  buf[0] = RecordType.End;
  writeU64(buf, 4, end.records);
  writeU64(buf, 12, end.bytes);
  buf.writeUInt32LE(end.streamCrc >>> 0, 20);
  return withCrc(buf);
}

export function encodeCrc(crc: number): Buffer {
  const buf = Buffer.alloc(CRC_BYTES);
  buf.writeUInt32LE(crc >>> 0, 0);
  return buf;
}

/** The running stream CRC after one more record. */
export function nextStreamCrc(streamCrc: number, headerCrc: number, valueCrc: number): number {
  const pair = Buffer.alloc(8);
  pair.writeUInt32LE(headerCrc >>> 0, 0);
  pair.writeUInt32LE(valueCrc >>> 0, 4);
  return crc32c(pair, streamCrc);
}

function withCrc(body: Buffer): Buffer {
  return Buffer.concat([body, encodeCrc(crc32c(body))]);
}

function writeU64(buf: Buffer, at: number, v: number): void {
  buf.writeUInt32LE(v % 0x100000000, at);
  buf.writeUInt32LE(Math.floor(v / 0x100000000), at + 4);
}

export function readU64(buf: Buffer, at: number): number {
  const v = buf.readUInt32LE(at) + buf.readUInt32LE(at + 4) * 0x100000000;
  if (!Number.isSafeInteger(v)) throw new CorruptionError(`migration stream: u64 at ${at} above 2^53`);
  return v;
}

/** Whether `key` lies in the header's range. */
export function inRange(h: MigrationHeader, key: Buffer): boolean {
  if (h.prefix !== undefined && !key.subarray(0, h.prefix.length).equals(h.prefix)) return false;
  if (h.start !== undefined && Buffer.compare(key, h.start) < 0) return false;
  if (h.end !== undefined && Buffer.compare(key, h.end) >= 0) return false;
  return h.startAfter === undefined || Buffer.compare(key, h.startAfter) > 0;
}

/** Decode the header's fixed part and bounds from `buf` (which holds them and the CRC). */
export function decodeHeaderBounds(fixed: Buffer, rest: Buffer): MigrationHeader {
  const out: Record<string, Buffer> = {};
  let at = 0;
  BOUNDS.forEach((b, i) => {
    const n = fixed.readUInt16LE(8 + 2 * i);
    if (n > 0) out[b] = Buffer.from(rest.subarray(at, at + n));
    at += n;
  });
  return out;
}

/** Check the fixed header bytes; returns the length of the bounds that follow. */
export function headerBoundsBytes(fixed: Buffer): number {
  if (fixed.readUInt32LE(0) !== MIGRATION_MAGIC) throw new CorruptionError('not a migration stream (bad magic)');
  const version = fixed.readUInt16LE(4);
  if (version !== MIGRATION_VERSION) throw new CorruptionError(`migration stream version ${version}, this build reads ${MIGRATION_VERSION}`);
  if (fixed.readUInt16LE(6) !== 0) throw new CorruptionError('migration stream: unknown header flags');
  let n = 0;
  for (let i = 0; i < BOUNDS.length; i++) {
    const len = fixed.readUInt16LE(8 + 2 * i);
    if (len > MAX_KEY_BYTES) throw new CorruptionError(`migration stream: bound of ${len} bytes`);
    n += len;
  }
  return n;
}
