// The seeded random source of the validation harness: every choice a check
// makes (operations, arguments, IO completion order, crash survivors, torn
// pages, faults) draws from an Rng, so one printed seed replays a run
// exactly.
//
// Strategy: xoshiro128** (Blackman & Vigna): four 32-bit words of state,
// period 2^128 - 1, a few ns a draw with Math.imul. Seeds (a number or a
// string) are hashed to 32 bits and expanded with splitmix32, so nearby seeds
// give unrelated streams and the state is never all zero.
//
// Invariants:
// 1. Same seed, same calls -> same results, on every platform (pure 32-bit
//    integer arithmetic, no Math.random, no floats in the state).
// 2. `fork(label)` depends only on this Rng's seed path, the label and how
//    many forks with that label came before, never on how many numbers were
//    drawn: adding a draw in one component does not perturb another's stream.
// 3. `int`, `pick` and `shuffle` are unbiased (rejection sampling).
import { assert } from '../src/base/index.js';
import type { RandomSource } from '../src/base/index.js';

export type Seed = number | string;

const TWO_POW_32 = 0x100000000;
const TWO_POW_53 = 2 ** 53;
/** Typed arrays use the platform's byte order; `bytes` promises little-endian words. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export class Rng implements RandomSource {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private readonly forkCounts = new Map<string, number>();

  /** `path` names this stream for replay logs: the seed, then fork labels. */
  constructor(
    seed: Seed,
    readonly path: string = String(seed),
  ) {
    let x = hashSeed(seed);
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      return mix32(x);
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    // splitmix32 never yields four zero words in a row, but xoshiro dies on an all-zero state.
    assert((this.s0 | this.s1 | this.s2 | this.s3) !== 0, 'rng state all zero');
  }

  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A uniform integer in [lo, hiInclusive]; both safe integers. */
  int(lo: number, hiInclusive: number): number {
    assert(Number.isSafeInteger(lo) && Number.isSafeInteger(hiInclusive), `int bounds not integers: ${lo}, ${hiInclusive}`);
    assert(lo <= hiInclusive, `int: empty range [${lo}, ${hiInclusive}]`);
    const span = hiInclusive - lo + 1;
    assert(span <= TWO_POW_53, `int: range wider than 2^53: [${lo}, ${hiInclusive}]`);
    return lo + (span <= TWO_POW_32 ? this.below32(span) : this.below53(span));
  }

  /** A uniform float in [0, 1) with 53 random bits. */
  float(): number {
    return this.u53() / TWO_POW_53;
  }

  /** True with probability `p`. */
  bool(p = 0.5): boolean {
    assert(p >= 0 && p <= 1, `bool: probability ${p} outside [0, 1]`);
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    assert(items.length > 0, 'pick from an empty array');
    const item = items[this.int(0, items.length - 1)];
    // noUncheckedIndexedAccess: the index is in range, so undefined means the caller stored it.
    return item as T;
  }

  /** Fisher-Yates, in place; returns `items`. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      const a = items[i] as T;
      items[i] = items[j] as T;
      items[j] = a;
    }
    return items;
  }

  /**
   * n bytes: the next ceil(n/4) words, each little-endian, the last one cut
   * short. Fills the disk's never-written pages, so it stores whole words.
   */
  bytes(n: number): Buffer {
    assert(Number.isInteger(n) && n >= 0, `bytes: bad length ${n}`);
    const words = new Uint32Array(Math.ceil(n / 4));
    if (LITTLE_ENDIAN) {
      this.fillWords(words);
    } else {
      const view = new DataView(words.buffer);
      for (let i = 0; i < words.length; i++) view.setUint32(4 * i, this.nextU32(), true);
    }
    return Buffer.from(words.buffer, 0, n);
  }

  /**
   * An independent stream for one component (see invariant 2). The k-th
   * fork with the same label differs from the (k-1)-th, so forking in a
   * loop gives distinct streams.
   */
  fork(label: string): Rng {
    const k = this.forkCounts.get(label) ?? 0;
    this.forkCounts.set(label, k + 1);
    const name = k === 0 ? label : `${label}#${k}`;
    return new Rng(`${this.path}/${name}`, `${this.path}/${name}`);
  }

  /** A copy at the current position: both continue with the same numbers. */
  clone(): Rng {
    const copy = new Rng(0, this.path);
    copy.s0 = this.s0;
    copy.s1 = this.s1;
    copy.s2 = this.s2;
    copy.s3 = this.s3;
    for (const [label, k] of this.forkCounts) copy.forkCounts.set(label, k);
    return copy;
  }

  /** `nextU32` into every word, the state in locals (same numbers, no call per word). */
  private fillWords(words: Uint32Array): void {
    let s0 = this.s0;
    let s1 = this.s1;
    let s2 = this.s2;
    let s3 = this.s3;
    for (let i = 0; i < words.length; i++) {
      words[i] = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = rotl(s3, 11);
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
  }

  /** Uniform in [0, span) for span <= 2^32: reject the top partial bucket. */
  private below32(span: number): number {
    const limit = TWO_POW_32 - (TWO_POW_32 % span);
    for (;;) {
      const x = this.nextU32();
      if (x < limit) return x % span;
    }
  }

  private below53(span: number): number {
    const limit = TWO_POW_53 - (TWO_POW_53 % span);
    for (;;) {
      const x = this.u53();
      if (x < limit) return x % span;
    }
  }

  private u53(): number {
    return (this.nextU32() >>> 11) * TWO_POW_32 + this.nextU32();
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** The splitmix32 / murmur3 finalizer: a bijection on 32 bits with full avalanche. */
function mix32(x: number): number {
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/** Numbers map by their 32-bit value; strings by FNV-1a over UTF-16 units, then mixed. */
function hashSeed(seed: Seed): number {
  if (typeof seed === 'number') {
    assert(Number.isInteger(seed), `seed must be an integer: ${seed}`);
    return seed >>> 0;
  }
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193);
  }
  return mix32(h >>> 0);
}
