// CRC32C (Castagnoli), the checksum of every on-disk format, in hardware:
// native/crc32c (this repository's addon, built by `npm ci`: SSE4.2 over
// three interleaved streams, 0.043 ms per MiB here) where it built and the
// CPU has SSE4.2, else @node-rs/crc32 (prebuilt, one stream: 0.16-0.21 ms
// per MiB). Both compute the same function; src/base/checksum.test.ts
// holds them to each other.
import { createRequire } from 'node:module';
import { crc32c as nodeRsCrc32c } from '@node-rs/crc32';

interface Crc32cAddon {
  readonly hardware: boolean;
  readonly crc32c?: (data: Uint8Array, initial: number) => number;
}

/** The addon's crc32c, if it built (an optional dependency) and this CPU runs it. */
function loadAddon(): ((data: Uint8Array, initial: number) => number) | undefined {
  try {
    const addon = createRequire(import.meta.url)('shardstore-crc32c') as Crc32cAddon;
    return addon.hardware ? addon.crc32c : undefined;
  } catch {
    // Not built (no compiler where `npm ci` ran): @node-rs/crc32 serves.
    return undefined;
  }
}

const addonCrc32c = loadAddon();

/** Which implementation crc32c runs (the bench reports it with the machine). */
export const CRC32C_IMPLEMENTATION: 'sse4.2 x3 (native/crc32c)' | '@node-rs/crc32' = addonCrc32c === undefined ? '@node-rs/crc32' : 'sse4.2 x3 (native/crc32c)';

/** @node-rs/crc32's crc32c, which a Buffer must be given. */
function viaNodeRs(data: Uint8Array, initial: number): number {
  return nodeRsCrc32c(Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength), initial) >>> 0;
}

/** The implementation in use; the fallback is exported for the tests that hold the two to each other. */
const implementation = addonCrc32c ?? viaNodeRs;
export const crc32cFallback: (data: Uint8Array, initial?: number) => number = (data, initial = 0) => viaNodeRs(data, initial);

/** CRC32C of `data`, continuing from `initial` (0 to start). Unsigned 32-bit. */
export function crc32c(data: Uint8Array, initial = 0): number {
  return implementation(data, initial);
}

/** CRC32C's polynomial, bit-reflected (the register shifts right). */
const POLY_REFLECTED = 0x82f63b78;

/** The byte-at-a-time table of CRC32C (reflected). */
const TABLE = ((): Int32Array => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? (c >>> 1) ^ POLY_REFLECTED : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/** Ranges up to this many bytes are hashed in JavaScript by crc32cRange. */
const RANGE_IN_JS_MAX_BYTES = 64;

/**
 * crc32c of `data[start, end)`, without a subarray view: a range of a few
 * dozen bytes (a chunk header's own checksum covers 20) is hashed here,
 * a table lookup per byte, which costs less than the call into the native
 * hash and the view it needs; a longer range goes to crc32c.
 * REQUIRES: 0 <= start <= end <= data.length.
 */
export function crc32cRange(data: Uint8Array, start: number, end: number): number {
  if (end - start > RANGE_IN_JS_MAX_BYTES) return crc32c(data.subarray(start, end));
  let c = ~0;
  for (let i = start; i < end; i++) c = (TABLE[(c ^ (data[i] ?? 0)) & 0xff] ?? 0) ^ (c >>> 8);
  return ~c >>> 0;
}

/** Where one flipped bit lies that explains a CRC32C mismatch: in the data (bit index, LSB first), or in the stored checksum. */
export type SingleBitError = { readonly in: 'data'; readonly bit: number } | { readonly in: 'checksum' };

/**
 * The one bit whose flip makes `data` match `stored`, if one does.
 * CRC32C is affine in the data, so a flip at byte j, bit b changes the CRC
 * by the register value 1 << b carried through 8 * (n - j) shift steps;
 * running the steps backwards from the difference finds j and b in O(n)
 * (CRC32C's Hamming distance makes the answer unique for the chunk sizes
 * the store writes). Media damage is one flipped bit; a torn write never is,
 * so recovery tells them apart with this (store/log_verify.ts).
 * Undefined when the CRC matches, or when no single bit explains it.
 */
export function crc32cSingleBitError(data: Uint8Array, stored: number): SingleBitError | undefined {
  const diff = (crc32c(data) ^ stored) >>> 0;
  if (diff === 0) return undefined;
  if ((diff & (diff - 1)) === 0) return { in: 'checksum' };
  let v = diff;
  for (let steps = 1; steps <= 8 * data.length; steps++) {
    // The inverse of one step: c -> (c >>> 1) ^ (c & 1 ? POLY : 0). The
    // polynomial's top bit tells which branch produced v.
    v = (v & 0x80000000) !== 0 ? (((v ^ POLY_REFLECTED) << 1) | 1) >>> 0 : (v << 1) >>> 0;
    if (steps % 8 === 0 && v !== 0 && v < 0x100 && (v & (v - 1)) === 0) {
      const byte = data.length - steps / 8;
      return { in: 'data', bit: byte * 8 + Math.log2(v) };
    }
  }
  return undefined;
}
