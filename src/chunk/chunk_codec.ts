// Encoding and verification of one framed chunk (layout in chunk_format.ts).
// Both the writer (frame) and every reader (verifyChunk, parseHeader) use
// these functions, so the two cannot drift apart.
import { CorruptionError, crc32c, crc32cRange } from '../base/index.js';
import {
  CHUNK_HEADER_BYTES,
  CHUNK_MAGIC,
  CHUNK_OVERHEAD_BYTES,
  CHUNK_TRAILER_BYTES,
  CHUNK_VERSION,
  alignUp,
  isChunkKind,
} from './chunk_format.js';
import type { ChunkKind } from './chunk_format.js';

export interface ChunkHeader {
  readonly kind: ChunkKind;
  readonly idLow: number;
  readonly idHigh: number;
  readonly payloadBytes: number;
}

/** A chunk framed for a gathered write: the caller's parts between a header and a trailer. */
export interface FramedParts {
  /** Header, the payload parts as given (not copied), trailer with the padding. */
  readonly parts: Uint8Array[];
  /** Header + payload + trailer, without the padding. */
  readonly framedBytes: number;
  /** framedBytes rounded up to the alignment: what the chunk occupies. */
  readonly alignedBytes: number;
}

/**
 * Frame `parts` as one chunk without copying them: the result is the
 * header, the payload parts themselves and the trailer (zero-padded to the
 * alignment so the next chunk starts aligned), written with one gathered
 * write. The parts must not change until that write has completed.
 */
export function frameChunkParts(
  kind: ChunkKind,
  parts: readonly Uint8Array[],
  id: { low: number; high: number },
  /** Memory for a chunk framed in one buffer (FrameSlab.take); its own allocation by default. */
  alloc: (bytes: number) => Buffer = ownMemory,
): FramedParts {
  let payloadBytes = 0;
  for (const p of parts) payloadBytes += p.length;
  const framedBytes = CHUNK_OVERHEAD_BYTES + payloadBytes;
  const alignedBytes = alignUp(framedBytes);
  const trailerBytes = alignedBytes - CHUNK_HEADER_BYTES - payloadBytes;
  if (payloadBytes <= COPY_BELOW_BYTES) {
    // Small chunks are framed in one buffer (the payload copied): a
    // gathered write pays per part, and a copy of a few KiB costs less than
    // three more parts. One allocation, header and trailer written in place.
    const out = alloc(alignedBytes);
    writeHeader(out, kind, id, payloadBytes);
    let at = CHUNK_HEADER_BYTES;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    // The padding is under CHUNK_ALIGN_BYTES bytes: a loop costs less than fill's checks.
    for (let i = at + CHUNK_TRAILER_BYTES; i < alignedBytes; i++) out[i] = 0;
    writeTrailer(out, at, crc32c(out.subarray(0, at)), id);
    return { parts: [out], framedBytes, alignedBytes };
  }
  const header = Buffer.allocUnsafe(CHUNK_HEADER_BYTES);
  writeHeader(header, kind, id, payloadBytes);
  // The payload checksum covers the header and the payload, chained part by part.
  let crc = crc32c(header);
  for (const p of parts) crc = crc32c(p, crc);
  const trailer = Buffer.alloc(trailerBytes);
  writeTrailer(trailer, 0, crc, id);
  return { parts: [header, ...parts.filter((p) => p.length > 0), trailer], framedBytes, alignedBytes };
}

function writeHeader(buf: Buffer, kind: ChunkKind, id: { low: number; high: number }, payloadBytes: number): void {
  buf.writeUInt32LE(CHUNK_MAGIC, 0);
  buf[4] = kind;
  buf[5] = CHUNK_VERSION;
  buf.writeUInt16LE(0, 6);
  buf.writeUInt32LE(id.low >>> 0, 8);
  buf.writeUInt32LE(id.high >>> 0, 12);
  buf.writeUInt32LE(payloadBytes, 16);
  buf.writeUInt32LE(crc32cRange(buf, 0, 20), 20);
}

/** The trailer (CHUNK_TRAILER_BYTES) at `at`; `crc` covers the header and the payload (the same value chained part by part or in one pass). */
function writeTrailer(buf: Buffer, at: number, crc: number, id: { low: number; high: number }): void {
  buf.writeUInt32LE(crc, at);
  buf.writeUInt32LE(id.low >>> 0, at + 4);
  buf.writeUInt32LE(id.high >>> 0, at + 8);
}

/** A frame's own memory (frameChunkParts' default). */
const ownMemory = (bytes: number): Buffer => Buffer.allocUnsafe(bytes);

/** Payloads up to this size are framed in one buffer (copied); larger ones are not copied. */
const COPY_BELOW_BYTES = 64 * 1024;

/**
 * Frame `parts` as one chunk in one contiguous buffer, zero-padded to the
 * alignment. Returns the padded buffer and the framed length.
 */
export function frameChunk(
  kind: ChunkKind,
  parts: readonly Uint8Array[],
  id: { low: number; high: number },
): { bytes: Buffer; framedBytes: number } {
  const framed = frameChunkParts(kind, parts, id);
  return { bytes: Buffer.concat(framed.parts, framed.alignedBytes), framedBytes: framed.framedBytes };
}

/** Parse and check a header (magic, version, kind, header CRC); undefined if not a valid header. */
export function parseHeader(buf: Buffer, at = 0): ChunkHeader | undefined {
  if (at + CHUNK_HEADER_BYTES > buf.length) return undefined;
  if (buf.readUInt32LE(at) !== CHUNK_MAGIC) return undefined;
  const kind = buf[at + 4] ?? 0;
  if (!isChunkKind(kind) || buf[at + 5] !== CHUNK_VERSION) return undefined;
  if (buf.readUInt16LE(at + 6) !== 0) return undefined;
  if (crc32c(buf.subarray(at, at + 20)) !== buf.readUInt32LE(at + 20)) return undefined;
  return {
    kind,
    idLow: buf.readUInt32LE(at + 8),
    idHigh: buf.readUInt32LE(at + 12),
    payloadBytes: buf.readUInt32LE(at + 16),
  };
}

/**
 * Verify a whole framed chunk held in `buf[at, at + framed)`: header, payload
 * CRC and the trailing id. Returns the payload (shares memory with `buf`) or
 * a description of the first mismatch.
 */
export function checkChunk(buf: Buffer, at = 0): { header: ChunkHeader; payload: Buffer } | string {
  const header = parseHeader(buf, at);
  if (header === undefined) return 'bad header';
  const end = at + CHUNK_OVERHEAD_BYTES + header.payloadBytes;
  if (end > buf.length) return `payload length ${header.payloadBytes} beyond the bytes read`;
  const payloadEnd = at + CHUNK_HEADER_BYTES + header.payloadBytes;
  if (crc32c(buf.subarray(at, payloadEnd)) !== buf.readUInt32LE(payloadEnd)) return 'payload checksum mismatch';
  if (buf.readUInt32LE(payloadEnd + 4) !== header.idLow || buf.readUInt32LE(payloadEnd + 8) !== header.idHigh) {
    return 'trailing chunk id mismatch (torn or stale chunk)';
  }
  return { header, payload: buf.subarray(at + CHUNK_HEADER_BYTES, payloadEnd) };
}

/** Verify a chunk read through a locator; throws CorruptionError naming `where`. */
export function verifyChunk(buf: Buffer, expectKind: ChunkKind, where: string): Buffer {
  const result = checkChunk(buf);
  if (typeof result === 'string') throw new CorruptionError(`chunk at ${where}: ${result}`);
  if (result.header.kind !== expectKind) {
    throw new CorruptionError(`chunk at ${where}: kind ${result.header.kind}, expected ${expectKind}`);
  }
  if (CHUNK_OVERHEAD_BYTES + result.header.payloadBytes !== buf.length) {
    throw new CorruptionError(`chunk at ${where}: length ${buf.length} does not match its header`);
  }
  return result.payload;
}
