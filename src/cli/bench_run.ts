// One cell of `shardstore bench`: a closed loop of N workers (closedLoop,
// closed_loop.ts, the load generator `npm run bench` uses too), each issuing
// its next request as soon as the previous one was answered in full, for a
// fixed time, on a keep-alive agent of N sockets. Throughput is answered
// requests over wall time; latency is per request, from issue to the last
// byte of the answer.
//
// PUT cells write the worker's keys (bench_keys.ts); the GET cell after one
// reads exactly the keys it wrote, comparing every byte. A wrong answer, a
// 403 or an unreachable node end the run (BenchFatalError); other failed
// requests (a 5xx, a reset) are counted as errors, and a cell stops early
// after MAX_ERRORS of them.
//
// Invariants:
// 1. At most N requests of a cell are outstanding; each worker reuses one
//    value buffer, stamped before each request (nothing else per request
//    but what node:http allocates).
// 2. A key is read only after a PUT of it in the same cell was answered 2xx.
import http from 'node:http';
import type { BenchEndpoint } from './bench_http.js';
import { BenchFatalError, describeAnswer, exchange } from './bench_http.js';
import type { KeySpace } from './bench_keys.js';
import { BodyCheck } from './bench_keys.js';
import type { ApiTarget } from './bench_targets.js';
import { closedLoop, MAX_LATENCY_SAMPLES } from './closed_loop.js';
import type { ClosedLoopResult } from './closed_loop.js';

export type BenchOp = 'PUT' | 'GET';

const MAX_ERRORS = 100;

export interface CellResult {
  readonly api: string;
  readonly op: BenchOp;
  readonly sizeBytes: number;
  readonly inFlight: number;
  /** Answered 2xx (GET: and every byte checked). */
  readonly requests: number;
  readonly errors: number;
  readonly firstError?: string;
  readonly seconds: number;
  readonly requestsPerSec: number;
  readonly mbPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface CellPlan {
  readonly endpoint: BenchEndpoint;
  readonly target: ApiTarget;
  readonly keys: KeySpace;
  readonly op: BenchOp;
  readonly inFlight: number;
  readonly durationMs: number;
  /** One value buffer per worker (at least inFlight), of keys.sizeBytes. */
  readonly values: readonly Buffer[];
  /** GET: the ids the PUT cell wrote. */
  readonly readIds: readonly number[];
  /** From newLatencyBuffer(); overwritten. */
  readonly latencies: Float64Array;
  /** True once the user asked to stop (Ctrl-C). */
  readonly stopped: () => boolean;
}

/** Latency samples: one array for all the cells of a run (8 MiB, not allocated per cell). */
export function newLatencyBuffer(): Float64Array {
  return new Float64Array(MAX_LATENCY_SAMPLES);
}

interface Tally {
  firstError: string | undefined;
  fatal: BenchFatalError | undefined;
  readonly written: Set<number>;
}

/** Runs the cell; resolves with its result and, for PUT, the ids written. Rejects with BenchFatalError. */
export async function runCell(p: CellPlan): Promise<{ readonly result: CellResult; readonly written: readonly number[] }> {
  if (p.op === 'GET' && p.readIds.length === 0) throw new BenchFatalError(`${p.target.api} GET: no PUT of the cell before succeeded, nothing to read`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: p.inFlight });
  const t: Tally = { firstError: undefined, fatal: undefined, written: new Set() };
  const seqs = new Array<number>(p.inFlight).fill(0);
  const checks = Array.from({ length: p.inFlight }, () => new BodyCheck());
  let errors = 0;
  const op = async (i: number, w: number): Promise<number> => {
    const value = p.values[w];
    const check = checks[w];
    if (value === undefined || check === undefined) throw new RangeError(`no value buffer for worker ${w}`);
    const seq = seqs[w] ?? 0;
    seqs[w] = seq + 1;
    const id = p.op === 'PUT' ? p.keys.putId(w, seq, p.inFlight) : (p.readIds[i % p.readIds.length] ?? 0);
    p.keys.stamp(value, id);
    await (p.op === 'PUT' ? put(p, agent, id, value) : get(p, agent, id, value, check));
    if (p.op === 'PUT') t.written.add(id);
    return value.length;
  };
  let loop: ClosedLoopResult;
  try {
    loop = await closedLoop({
      inFlight: p.inFlight,
      durationMs: p.durationMs,
      latencies: p.latencies,
      keepGoing: () => t.fatal === undefined && errors < MAX_ERRORS && !p.stopped(),
      op,
      onError: (err) => {
        if (err instanceof BenchFatalError) t.fatal ??= err;
        errors++;
        t.firstError ??= err instanceof Error ? err.message : String(err);
      },
    });
  } finally {
    agent.destroy();
  }
  if (t.fatal !== undefined) throw t.fatal;
  return { result: summarize(p, t, loop), written: [...t.written] };
}

async function put(p: CellPlan, agent: http.Agent, id: number, value: Buffer): Promise<void> {
  const path = p.target.objectPath(p.keys.key(id));
  const answer = await exchange(p.endpoint, agent, { method: 'PUT', path, headers: p.target.headers('PUT', path, value.length), body: value });
  if (answer.status < 200 || answer.status > 299) throw failed('PUT', path, answer.status, describeAnswer(answer));
}

async function get(p: CellPlan, agent: http.Agent, id: number, value: Buffer, check: BodyCheck): Promise<void> {
  const path = p.target.objectPath(p.keys.key(id));
  check.expect(path, value);
  const answer = await exchange(p.endpoint, agent, { method: 'GET', path, headers: p.target.headers('GET', path) }, check.sink);
  if (answer.status === 404) throw new BenchFatalError(`wrong answer: GET ${path} is 404, but this run's PUT of it was acknowledged`);
  if (answer.status < 200 || answer.status > 299) throw failed('GET', path, answer.status, describeAnswer(answer));
  if (answer.status !== 200 || answer.contentLength !== String(value.length)) {
    throw new BenchFatalError(`wrong answer: GET ${path} answered ${answer.status} with Content-Length ${answer.contentLength ?? 'none'}, expected 200 and ${value.length}`);
  }
  check.complete(answer.bytes);
}

function failed(method: string, path: string, status: number, description: string): Error {
  const message = `${method} ${path}: ${description}`;
  return status === 403 ? new BenchFatalError(`the node refused the request (check the key pair): ${message}`) : new Error(message);
}

function summarize(p: CellPlan, t: Tally, loop: ClosedLoopResult): CellResult {
  return {
    api: p.target.api,
    op: p.op,
    sizeBytes: p.keys.sizeBytes,
    inFlight: p.inFlight,
    requests: loop.ops,
    errors: loop.errors,
    ...(t.firstError === undefined ? {} : { firstError: t.firstError }),
    seconds: loop.seconds,
    requestsPerSec: loop.opsPerSec,
    mbPerSec: loop.mbPerSec,
    p50Ms: loop.p50Ms,
    p99Ms: loop.p99Ms,
  };
}

export interface CleanupResult {
  readonly deleted: number;
  readonly failed: number;
  readonly firstError?: string;
}

const CLEANUP_IN_FLIGHT = 16;

/** Deletes every key of `keys` that a PUT may have written (a 404 counts as deleted). */
export async function deleteTouched(endpoint: BenchEndpoint, target: ApiTarget, keys: KeySpace): Promise<CleanupResult> {
  const ids = keys.touchedIds();
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLEANUP_IN_FLIGHT });
  let next = 0;
  let deleted = 0;
  let failedCount = 0;
  let firstError: string | undefined;
  const worker = async (): Promise<void> => {
    while (next < ids.length) {
      const path = target.objectPath(keys.key(ids[next++] ?? 0));
      try {
        const answer = await exchange(endpoint, agent, { method: 'DELETE', path, headers: target.headers('DELETE', path) });
        if ((answer.status >= 200 && answer.status <= 299) || answer.status === 404) deleted++;
        else throw new Error(`DELETE ${path}: ${describeAnswer(answer)}`);
      } catch (err) {
        failedCount++;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: CLEANUP_IN_FLIGHT }, worker));
  } finally {
    agent.destroy();
  }
  return { deleted, failed: failedCount, ...(firstError === undefined ? {} : { firstError }) };
}
