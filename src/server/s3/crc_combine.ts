// The CRC of two byte strings joined, from the CRC of each and the second's
// length, without reading the bytes again: what a full-object checksum of a
// multipart upload (FULL_OBJECT: CRC32, CRC32C, CRC64NVME) is made of at
// CompleteMultipartUpload, from the parts' verified checksums.
//
// The CRCs S3 uses (CRC32, CRC32C, CRC64NVME) are reflected, with the
// initial value equal to the final xor (all ones), so for the final values
// crc(A ++ B) = (crc(A) * x^(8 |B|) mod P) xor crc(B), the products taken
// in GF(2) with the reflected bit order (zlib's crc32_combine method:
// x^(2^k) mod P by repeated squaring, then one product per bit of the length).
// BigInt keeps one code for the 32- and 64-bit widths; it runs once per part.
import { assert } from '../../base/index.js';
import type { ChecksumAlgorithm } from './checksums.js';

interface CrcSpec {
  readonly widthBits: number;
  /** The reflected polynomial. */
  readonly poly: bigint;
}

const SPECS: Readonly<Partial<Record<ChecksumAlgorithm, CrcSpec>>> = {
  crc32: { widthBits: 32, poly: 0xedb88320n },
  crc32c: { widthBits: 32, poly: 0x82f63b78n },
  crc64nvme: { widthBits: 64, poly: 0x9a6c9329ac4bc9b5n },
};

/** True if the algorithm's checksums combine (a CRC). */
export function isCombinable(algorithm: ChecksumAlgorithm): boolean {
  return SPECS[algorithm] !== undefined;
}

/** a * b mod P, both reflected polynomials of the spec's width. */
function multModP(spec: CrcSpec, a: bigint, b: bigint): bigint {
  let m = 1n << BigInt(spec.widthBits - 1);
  let p = 0n;
  let bb = b;
  for (let i = 0; i < spec.widthBits; i++) {
    if ((a & m) !== 0n) p ^= bb;
    m >>= 1n;
    bb = (bb & 1n) !== 0n ? (bb >> 1n) ^ spec.poly : bb >> 1n;
  }
  return p;
}

/** x^(8 n) mod P: the operator that shifts a CRC past n zero bytes. */
function shiftOf(spec: CrcSpec, bytes: number): bigint {
  let p = 1n << BigInt(spec.widthBits - 1); // x^0
  let square = 1n << BigInt(spec.widthBits - 9); // x^8: one byte (x^k is bit width-1-k)
  for (let n = BigInt(bytes); n > 0n; n >>= 1n) {
    if ((n & 1n) !== 0n) p = multModP(spec, square, p);
    square = multModP(spec, square, square);
  }
  return p;
}

/**
 * The CRC of the concatenation of the pieces, each given by its checksum
 * (base64 of the big-endian digest, as S3 sends it) and its length.
 * REQUIRES: `algorithm` is combinable; at least one piece.
 */
export function combinedCrc(algorithm: ChecksumAlgorithm, pieces: ReadonlyArray<{ readonly value: string; readonly sizeBytes: number }>): string {
  const spec = SPECS[algorithm];
  assert(spec !== undefined && pieces.length > 0, 'a combined CRC of at least one piece');
  const bytes = spec.widthBits / 8;
  let crc: bigint | undefined;
  for (const piece of pieces) {
    const digest = Buffer.from(piece.value, 'base64');
    assert(digest.length === bytes, 'a CRC of its width');
    const value = BigInt(`0x${digest.toString('hex')}`);
    crc = crc === undefined ? value : multModP(spec, shiftOf(spec, piece.sizeBytes), crc) ^ value;
  }
  return Buffer.from((crc ?? 0n).toString(16).padStart(bytes * 2, '0'), 'hex').toString('base64');
}
