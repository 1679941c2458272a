// The closed-loop load driver: `inFlight` workers, each issuing its next
// operation as soon as the previous one resolved, until the time budget or
// the operation budget runs out. Throughput is completed operations over
// wall time; latency is per operation, from issue to resolution.
//
// Invariants:
// 1. At most `inFlight` operations are outstanding at any time.
// 2. Operation indexes 0..ops-1 are each issued exactly once.
// 3. An operation that throws fails the whole measurement (a benchmark that
//    hides errors measures something else).
import { loadavg } from 'node:os';

export interface LoopOptions {
  readonly inFlight: number;
  readonly durationMs: number;
  /** Stop after this many operations even if time is left. */
  readonly maxOps: number;
  /** Run operation `i` on worker `worker` (0..inFlight-1); resolves with the bytes it moved. */
  readonly op: (i: number, worker: number) => Promise<number>;
}

export interface LoopResult {
  readonly ops: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly opsPerSec: number;
  readonly mbPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly loadAvg1: number;
}

const MAX_LATENCY_SAMPLES = 1 << 20;

export async function closedLoop(o: LoopOptions): Promise<LoopResult> {
  if (!(o.inFlight >= 1 && o.maxOps >= 1)) throw new RangeError('inFlight and maxOps must be >= 1');
  const latencies = new Float64Array(Math.min(o.maxOps, MAX_LATENCY_SAMPLES));
  let next = 0;
  let done = 0;
  let bytes = 0;
  const start = performance.now();
  const deadline = start + o.durationMs;
  const worker = async (_: unknown, w: number): Promise<void> => {
    while (next < o.maxOps && performance.now() < deadline) {
      const i = next++;
      const t0 = performance.now();
      // Not `bytes += await ...`: that reads `bytes` before the await and loses other workers' additions.
      const moved = await o.op(i, w);
      const t1 = performance.now();
      bytes += moved;
      if (done < latencies.length) latencies[done] = t1 - t0;
      done++;
    }
  };
  await Promise.all(Array.from({ length: o.inFlight }, worker));
  const seconds = (performance.now() - start) / 1000;
  const sorted = latencies.subarray(0, Math.min(done, latencies.length)).sort();
  return {
    ops: done,
    bytes,
    seconds,
    opsPerSec: done / seconds,
    mbPerSec: bytes / seconds / 1e6,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    loadAvg1: loadavg()[0] ?? 0,
  };
}

/** The q-quantile of ascending `sorted` (0 when empty). */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const at = Math.min(sorted.length - 1, Math.floor(q * sorted.length));
  return sorted[at] ?? 0;
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
