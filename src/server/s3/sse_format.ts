// The bytes of server-side encryption (docs/format/s3_records.md,
// "Section 2: encryption"): the `encryption` section of object and upload
// records, and the layout of encrypted data (sse_crypto.ts writes and reads
// it).
//
// DO NOT CHANGE: on-disk. Add a new section version instead.
//
// Section (version 1):
//   u8 version (1), u8 mode (1 SSE-S3, 2 SSE-C), u32 segmentBytes,
//   12 bytes wrap nonce, 48 bytes wrapped data key (32 + 16 GCM tag),
//   SSE-S3: 8 bytes node key id (the first 8 bytes of SHA-256 of the node key)
//   SSE-C:  16 bytes MAC salt, 32 bytes HMAC-SHA256(salt, customer key)
//
// Encrypted data (a data shard, or an inline object's bytes): n plaintext
// bytes as k = max(1, ceil(n / segmentBytes)) segments, each
//   12 bytes random nonce, ciphertext (segmentBytes, the last one the rest), 16 bytes GCM tag
// so a blob of n bytes is stored as n + k * SEGMENT_OVERHEAD_BYTES bytes, and
// byte b of the plaintext is in segment floor(b / segmentBytes): a range
// reads only the segments it needs. Each segment is authenticated with the
// AAD: u16 part number, u64 segment index, u8 last (1 for the blob's last
// segment), so a segment moved, dropped or cut off fails its tag.
//
// Invariants:
//   1. The object record's size is the plaintext size; each data shard's
//      size in its part list is the stored size: storedBytes(plainBytes(s)) = s.
//   2. An object has an encryption section iff its data is encrypted; an
//      object without one costs nothing more than before.
import { BufReader, BufWriter, CorruptionError, assert } from '../../base/index.js';

const SECTION_V1 = 1;
/** Plaintext bytes per segment. DO NOT CHANGE for existing data: stored in each section. */
export const DEFAULT_SEGMENT_BYTES = 64 * 1024;
/** Segment sizes a section may name (a damaged section must not make reads absurd). */
const MIN_SEGMENT_BYTES = 16;
const MAX_SEGMENT_BYTES = 16 * 1024 * 1024;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
export const SEGMENT_OVERHEAD_BYTES = NONCE_BYTES + TAG_BYTES;
export const DATA_KEY_BYTES = 32;
export const WRAPPED_KEY_BYTES = DATA_KEY_BYTES + TAG_BYTES;
export const KEY_ID_BYTES = 8;
export const MAC_SALT_BYTES = 16;
export const MAC_BYTES = 32;

export type SseMode = 'sse-s3' | 'sse-c';
const MODES: readonly SseMode[] = ['sse-s3', 'sse-c'];

export interface WrappedKey {
  readonly nonce: Buffer;
  /** The data key encrypted under the node key (SSE-S3) or the customer key (SSE-C), with its tag. */
  readonly sealed: Buffer;
}

export type EncryptionParams =
  | { readonly mode: 'sse-s3'; readonly segmentBytes: number; readonly dataKey: WrappedKey; readonly nodeKeyId: Buffer }
  | { readonly mode: 'sse-c'; readonly segmentBytes: number; readonly dataKey: WrappedKey; readonly macSalt: Buffer; readonly keyMac: Buffer };

export function encodeEncryption(p: EncryptionParams): Buffer {
  assert(p.segmentBytes >= MIN_SEGMENT_BYTES && p.segmentBytes <= MAX_SEGMENT_BYTES, 'segment size');
  assert(p.dataKey.nonce.length === NONCE_BYTES && p.dataKey.sealed.length === WRAPPED_KEY_BYTES, 'wrapped key lengths');
  const w = new BufWriter(128).u8(SECTION_V1).u8(MODES.indexOf(p.mode) + 1).u32(p.segmentBytes).bytes(p.dataKey.nonce).bytes(p.dataKey.sealed);
  if (p.mode === 'sse-s3') {
    assert(p.nodeKeyId.length === KEY_ID_BYTES, 'node key id length');
    w.bytes(p.nodeKeyId);
  } else {
    assert(p.macSalt.length === MAC_SALT_BYTES && p.keyMac.length === MAC_BYTES, 'key MAC lengths');
    w.bytes(p.macSalt).bytes(p.keyMac);
  }
  return w.finish();
}

/** Throws CorruptionError for bytes that are not a section this version wrote. */
export function decodeEncryption(bytes: Buffer): EncryptionParams {
  const r = new BufReader(bytes, 'encryption section');
  const version = r.u8();
  if (version !== SECTION_V1) throw new CorruptionError(`encryption section: unknown version ${version}`);
  const mode = MODES[r.u8() - 1];
  if (mode === undefined) throw new CorruptionError('encryption section: unknown mode');
  const segmentBytes = r.u32();
  if (segmentBytes < MIN_SEGMENT_BYTES || segmentBytes > MAX_SEGMENT_BYTES) throw new CorruptionError(`encryption section: segment size ${segmentBytes}`);
  const dataKey = { nonce: Buffer.from(r.bytes(NONCE_BYTES)), sealed: Buffer.from(r.bytes(WRAPPED_KEY_BYTES)) };
  const params: EncryptionParams =
    mode === 'sse-s3'
      ? { mode, segmentBytes, dataKey, nodeKeyId: Buffer.from(r.bytes(KEY_ID_BYTES)) }
      : { mode, segmentBytes, dataKey, macSalt: Buffer.from(r.bytes(MAC_SALT_BYTES)), keyMac: Buffer.from(r.bytes(MAC_BYTES)) };
  r.expectEnd();
  return params;
}

/** Segments of a blob of `plainBytes` (an empty blob is one empty segment, so it cannot be cut off unseen). */
export function segmentCount(plainBytes: number, segmentBytes: number): number {
  return Math.max(1, Math.ceil(plainBytes / segmentBytes));
}

/** Stored size of a blob of `plainBytes`. */
export function storedBytes(plainBytes: number, segmentBytes: number): number {
  return plainBytes + segmentCount(plainBytes, segmentBytes) * SEGMENT_OVERHEAD_BYTES;
}

/** Plaintext size of a stored blob of `stored` bytes. Throws CorruptionError if no plaintext size is stored as that. */
export function plainBytes(stored: number, segmentBytes: number): number {
  const k = Math.ceil(stored / (segmentBytes + SEGMENT_OVERHEAD_BYTES));
  const plain = stored - k * SEGMENT_OVERHEAD_BYTES;
  if (plain < 0 || storedBytes(plain, segmentBytes) !== stored) throw new CorruptionError(`encrypted data of ${stored} bytes is no whole number of segments`);
  return plain;
}
