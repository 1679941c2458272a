// The closed-loop load driver, the one load generator of the project: used
// by `shardstore bench` (bench_run.ts, against a running node over HTTP) and
// by `npm run bench` (bench/lib/loop.ts: engines, raw disk, servers).
//
// `inFlight` workers each issue their next operation as soon as the
// previous one settled, until the time budget or the operation budget runs
// out, or `keepGoing` says stop. Throughput is completed operations over
// wall time; latency is per operation, from issue to resolution.
//
// Invariants:
// 1. At most `inFlight` operations are outstanding at any time.
// 2. Operation indexes 0..issued-1 are each issued exactly once.
// 3. Without `onError`, an operation that throws fails the whole loop (no
//    worker issues another; a benchmark that hides errors measures
//    something else). With it, a failed operation is passed to it and
//    counted in `errors`, never in `ops`, `bytes` or the latencies.

export interface ClosedLoopOptions {
  readonly inFlight: number;
  readonly durationMs: number;
  /** Stop after issuing this many operations even if time is left (default: no limit). */
  readonly maxOps?: number;
  /** Checked before each operation: false stops the worker (too many errors, Ctrl-C). */
  readonly keepGoing?: () => boolean;
  /** Run operation `i` on worker `worker` (0..inFlight-1); resolves with the bytes it moved. */
  readonly op: (i: number, worker: number) => Promise<number>;
  /** A failed operation; without it the loop rejects with the first failure. */
  readonly onError?: (err: unknown, worker: number) => void;
  /** Where latency samples go (overwritten; reuse one across loops); its length caps the samples kept. */
  readonly latencies?: Float64Array;
}

export interface ClosedLoopResult {
  /** Operations that succeeded. */
  readonly ops: number;
  readonly errors: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly opsPerSec: number;
  readonly mbPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Latency samples kept by default (8 MiB of doubles). */
export const MAX_LATENCY_SAMPLES = 1 << 20;

export async function closedLoop(o: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const maxOps = o.maxOps ?? Number.MAX_SAFE_INTEGER;
  if (!(o.inFlight >= 1 && maxOps >= 1)) throw new RangeError('inFlight and maxOps must be >= 1');
  const latencies = o.latencies ?? new Float64Array(Math.min(maxOps, MAX_LATENCY_SAMPLES));
  let next = 0;
  let done = 0;
  let errors = 0;
  let bytes = 0;
  let failed = false;
  const start = performance.now();
  const deadline = start + o.durationMs;
  const running = (): boolean => !failed && next < maxOps && performance.now() < deadline && (o.keepGoing?.() ?? true);
  const worker = async (w: number): Promise<void> => {
    while (running()) {
      const i = next++;
      const t0 = performance.now();
      let moved: number;
      try {
        moved = await o.op(i, w);
      } catch (err: unknown) {
        if (o.onError === undefined) {
          failed = true;
          throw err;
        }
        errors++;
        o.onError(err, w);
        continue;
      }
      // Not `bytes += await ...`: that reads `bytes` before the await and loses other workers' additions.
      bytes += moved;
      if (done < latencies.length) latencies[done] = performance.now() - t0;
      done++;
    }
  };
  await Promise.all(Array.from({ length: o.inFlight }, (_, w) => worker(w)));
  const seconds = (performance.now() - start) / 1000;
  const sorted = latencies.subarray(0, Math.min(done, latencies.length)).sort();
  return {
    ops: done,
    errors,
    bytes,
    seconds,
    opsPerSec: done / seconds,
    mbPerSec: bytes / seconds / 1e6,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
  };
}

/** The q-quantile of ascending `sorted` (0 when empty). */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const at = Math.min(sorted.length - 1, Math.floor(q * sorted.length));
  return sorted[at] ?? 0;
}
