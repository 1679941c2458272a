// Chunk framing: every byte the engine persists is inside a chunk.
// Spec: docs/format/chunk.md. DO NOT CHANGE: on-disk.
//
//   offset  size  field
//   0       4     magic "SSCK" (0x4b435353 little-endian)
//   4       1     kind (ChunkKind)
//   5       1     format version (1)
//   6       2     reserved, zero
//   8       8     chunk id (random)
//   16      4     payload length N
//   20      4     header CRC32C over bytes 0..19
//   24      N     payload
//   24+N    4     CRC32C over bytes 0..23 and the payload
//   28+N    8     chunk id again (a torn tail cannot repeat it)
//
// Chunks start at 8-byte aligned offsets within an extent; the gap after a
// chunk to the next aligned offset is padding and carries no meaning.
import type { BufReader, BufWriter } from '../base/index.js';

export const CHUNK_MAGIC = 0x4b435353;
export const CHUNK_VERSION = 1;
export const CHUNK_HEADER_BYTES = 24;
export const CHUNK_TRAILER_BYTES = 12;
export const CHUNK_OVERHEAD_BYTES = CHUNK_HEADER_BYTES + CHUNK_TRAILER_BYTES;
export const CHUNK_ALIGN_BYTES = 8;

/** What a chunk holds. DO NOT CHANGE: on-disk values. */
export enum ChunkKind {
  /** A piece of a shard's value: u16 key length, key, data bytes. */
  Data = 1,
  /** A block of sorted index entries of an LSM run. */
  RunBlock = 2,
  /** An LSM run's footer: block locators, first keys, bloom filter. */
  RunIndex = 3,
  /** A metadata log record. */
  MetaRecord = 4,
}

export function isChunkKind(v: number): v is ChunkKind {
  return v >= 1 && v <= 4;
}

/** Where a chunk lives: `length` is the framed length (overhead + payload, no padding). */
export interface Locator {
  readonly extent: number;
  readonly offset: number;
  readonly length: number;
}

/** A chunk's random id (bytes 8..15 of its header, and again after its payload). */
export interface ChunkId {
  readonly low: number;
  readonly high: number;
}

/** DO NOT CHANGE: on-disk (u32 extent, u32 offset, u32 length). */
export const LOCATOR_BYTES = 12;

export function writeLocator(w: BufWriter, loc: Locator): void {
  w.u32(loc.extent).u32(loc.offset).u32(loc.length);
}

export function readLocator(r: BufReader): Locator {
  return { extent: r.u32(), offset: r.u32(), length: r.u32() };
}

export function locatorEquals(a: Locator, b: Locator): boolean {
  return a.extent === b.extent && a.offset === b.offset && a.length === b.length;
}

export function framedBytes(payloadBytes: number): number {
  return CHUNK_OVERHEAD_BYTES + payloadBytes;
}

export function alignUp(n: number): number {
  return Math.ceil(n / CHUNK_ALIGN_BYTES) * CHUNK_ALIGN_BYTES;
}
