// Bloom filter of a run's keys (stored in the run index body).
//
// One 32-bit hash per key (murmur3 x86_32, fixed seed); the k probe positions
// are derived from it by double hashing as LevelDB does: h, h + d, h + 2d, ...
// modulo the bit count, where d is h rotated right by 17 bits.
// DO NOT CHANGE: on-disk (the hash, its seed and the probe sequence give the
// stored bits their meaning; a change needs a new run format version).
//
// Invariants:
// 1. A filter built over a set of keys answers "may contain" for every one of them.
// 2. Any bytes are a valid filter (a decoder cannot make a probe fail): the
//    bit count is the buffer's length times 8 and at least 8.
import { assert } from '../base/index.js';
import { MAX_BLOOM_BYTES, MAX_BLOOM_K } from './run_format.js';

/** DO NOT CHANGE: on-disk. */
export const BLOOM_HASH_SEED = 0x9747b28c;
const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function mixK(k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
}

/** murmur3 x86_32 of `key` with BLOOM_HASH_SEED, unsigned. */
export function keyHash(key: Buffer): number {
  const n = key.length;
  const tail = n & ~3;
  let h = BLOOM_HASH_SEED;
  for (let i = 0; i < tail; i += 4) {
    h ^= mixK(key.readUInt32LE(i));
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rem = n & 3;
  if (rem > 0) {
    let k = key[tail] ?? 0;
    if (rem > 1) k |= (key[tail + 1] ?? 0) << 8;
    if (rem > 2) k |= (key[tail + 2] ?? 0) << 16;
    h ^= mixK(k);
  }
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Probes per key: bitsPerKey × ln 2, the optimum, within 1..MAX_BLOOM_K. */
export function bloomKFor(bitsPerKey: number): number {
  return Math.min(MAX_BLOOM_K, Math.max(1, Math.round(bitsPerKey * 0.69)));
}

export function bloomBytesFor(keys: number, bitsPerKey: number): number {
  return Math.min(MAX_BLOOM_BYTES, Math.max(8, Math.ceil((keys * bitsPerKey) / 8)));
}

/** Build a filter over the first `count` hashes. */
export function buildBloom(hashes: Uint32Array, count: number, bitsPerKey: number): { k: number; bits: Buffer } {
  assert(count <= hashes.length, 'more hashes counted than held');
  assert(bitsPerKey > 0 && bitsPerKey <= 64, `bloom bits per key ${bitsPerKey}`);
  const bits = Buffer.alloc(bloomBytesFor(count, bitsPerKey));
  const k = bloomKFor(bitsPerKey);
  const bitCount = bits.length * 8;
  for (let i = 0; i < count; i++) {
    let h = hashes[i] ?? 0;
    const delta = ((h >>> 17) | (h << 15)) >>> 0;
    for (let j = 0; j < k; j++) {
      const pos = h % bitCount;
      bits[pos >>> 3] = (bits[pos >>> 3] ?? 0) | (1 << (pos & 7));
      h = (h + delta) >>> 0;
    }
  }
  return { k, bits };
}

/** False only if no key hashing to `hash` was added. */
export function bloomMayContain(bits: Buffer, k: number, hash: number): boolean {
  const bitCount = bits.length * 8;
  if (bitCount === 0) return true;
  let h = hash;
  const delta = ((h >>> 17) | (h << 15)) >>> 0;
  for (let j = 0; j < k; j++) {
    const pos = h % bitCount;
    if (((bits[pos >>> 3] ?? 0) & (1 << (pos & 7))) === 0) return false;
    h = (h + delta) >>> 0;
  }
  return true;
}
