// The bench's use of the project's one load generator (closedLoop in
// src/cli/closed_loop.ts, which `shardstore bench` uses too): the same
// closed loop, with the machine's load average recorded beside each result
// (docs/BENCHMARKS.md reports it), and the seeded key generators the
// workloads draw from.
//
// An operation that throws fails the whole measurement (a benchmark that
// hides errors measures something else): no onError is given.
import { loadavg } from 'node:os';
import { closedLoop as sharedClosedLoop } from '../../src/cli/index.js';
import type { ClosedLoopOptions, ClosedLoopResult } from '../../src/cli/index.js';

/** The shared loop's options, with an operation budget always given. */
export type LoopOptions = Pick<ClosedLoopOptions, 'inFlight' | 'durationMs' | 'op'> & { readonly maxOps: number };

/** The shared loop's result (errors always 0: a failure rejects) and the 1-minute load average at its end. */
export type LoopResult = Omit<ClosedLoopResult, 'errors'> & { readonly loadAvg1: number };

export async function closedLoop(o: LoopOptions): Promise<LoopResult> {
  const { ops, bytes, seconds, opsPerSec, mbPerSec, p50Ms, p99Ms } = await sharedClosedLoop(o);
  return { ops, bytes, seconds, opsPerSec, mbPerSec, p50Ms, p99Ms, loadAvg1: loadavg()[0] ?? 0 };
}

/** A seeded xorshift32 source: workloads replay the same key sequence on every system. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.state = x;
    return x / 0x1_0000_0000;
  }

  /** Uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Uint32Array {
    const out = new Uint32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const t = out[i] ?? 0;
      out[i] = out[j] ?? 0;
      out[j] = t;
    }
    return out;
  }
}

/**
 * Zipfian ranks over n items with skew theta (YCSB's generator, Gray et al.
 * "Quickly generating billion-record synthetic databases"): rank 0 is the
 * hottest. Ranks are scattered over the key space by a fixed permutation, so
 * hot keys are not neighbours.
 */
export class Zipf {
  private readonly zetan: number;
  private readonly alpha: number;
  private readonly eta: number;
  private readonly scatter: Uint32Array;

  constructor(
    private readonly n: number,
    private readonly rng: Rng,
    private readonly theta = 0.99,
  ) {
    let zetan = 0;
    for (let i = 1; i <= n; i++) zetan += 1 / Math.pow(i, theta);
    const zeta2 = 1 + 1 / Math.pow(2, theta);
    this.zetan = zetan;
    this.alpha = 1 / (1 - theta);
    this.eta = (1 - Math.pow(2 / n, 1 - theta)) / (1 - zeta2 / zetan);
    this.scatter = new Rng(0x5eed).permutation(n);
  }

  next(): number {
    const u = this.rng.next();
    const uz = u * this.zetan;
    let rank: number;
    if (uz < 1) rank = 0;
    else if (uz < 1 + Math.pow(0.5, this.theta)) rank = 1;
    else rank = Math.floor(this.n * Math.pow(this.eta * u - this.eta + 1, this.alpha));
    return this.scatter[Math.min(rank, this.n - 1)] ?? 0;
  }
}
