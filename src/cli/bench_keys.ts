// The keys `shardstore bench` writes, and what their values hold.
//
// Keys: "shardstore-bench/<run id>/<size>/<n>", one key space per API and
// value size; the run id is unique per run, so no key of a user (or of
// another run) is ever written, read or deleted. A cell of N workers gives
// each worker its own slice of the space, and worker w's PUTs overwrite its
// slice in turn: a worker runs one request at a time, so a key's last value
// is always known.
//
// Values: the same random fill for every key of a size, with a 64-byte
// stamp naming the key at the start and again at the end (when the value
// has room for both). So a GET that answers another key's value, a stale
// or shifted one, or a short one, differs from what was put: GETs compare
// every byte.
//
// Invariants:
// 1. Every id handed out is < keyCount, and its key was marked touched
//    before its PUT was sent (so cleanup deletes every key that may exist).
// 2. Stamps are exactly STAMP_BYTES long.
import { randomBytes } from 'node:crypto';
import { BenchFatalError } from './bench_http.js';

/** The APIs a benchmark can drive. */
export type BenchApi = 'native' | 's3';

export const KEY_ROOT = 'shardstore-bench/';
export const MAX_BENCH_KEYS = 8192;
/** Keys of a space times the value size stay under this (large values: fewer keys)... */
export const KEY_BUDGET_BYTES = 64 * 1024 * 1024;
const STAMP_BYTES = 64;

/** A run id: time (base 36) and 4 random bytes; only [0-9a-z-], so keys need no escaping. */
export function newRunId(nowMs: number = Date.now()): string {
  return `${nowMs.toString(36)}-${randomBytes(4).toString('hex')}`;
}

export class KeySpace {
  /** ...but a space always has one key per worker of the largest cell. */
  readonly keyCount: number;
  readonly prefix: string;
  private readonly touched: Uint8Array;

  constructor(
    readonly api: BenchApi,
    readonly sizeBytes: number,
    readonly runId: string,
    maxInFlight: number,
  ) {
    this.keyCount = Math.max(maxInFlight, Math.min(MAX_BENCH_KEYS, Math.floor(KEY_BUDGET_BYTES / sizeBytes)));
    this.prefix = `${KEY_ROOT}${runId}/${sizeBytes}/`;
    this.touched = new Uint8Array(this.keyCount);
  }

  /** The key of worker `worker`'s `seq`-th PUT in a cell of `inFlight` workers; marks it touched. */
  putId(worker: number, seq: number, inFlight: number): number {
    const perWorker = Math.floor(this.keyCount / inFlight);
    if (!(worker < inFlight && perWorker >= 1)) throw new RangeError(`worker ${worker} of ${inFlight}, ${this.keyCount} keys`);
    const id = worker * perWorker + (seq % perWorker);
    this.touched[id] = 1;
    return id;
  }

  key(id: number): string {
    return `${this.prefix}${id}`;
  }

  touchedIds(): number[] {
    const ids: number[] = [];
    this.touched.forEach((t, id) => t === 1 && ids.push(id));
    return ids;
  }

  /** A value buffer of this space's size: the shared fill (stamp it before use). */
  newValue(fill: Buffer): Buffer {
    if (fill.length !== this.sizeBytes) throw new RangeError(`fill of ${fill.length} bytes for ${this.sizeBytes}-byte values`);
    return Buffer.from(fill);
  }

  /** Write key `id`'s stamp into `value` (a value of this space), at both ends if it fits. */
  stamp(value: Buffer, id: number): void {
    const text = `${this.api} ${this.key(id)} `.padEnd(STAMP_BYTES, '#').slice(0, STAMP_BYTES);
    value.write(text, 0, Math.min(STAMP_BYTES, value.length), 'latin1');
    if (value.length >= 2 * STAMP_BYTES) value.write(text, value.length - STAMP_BYTES, STAMP_BYTES, 'latin1');
  }
}

/**
 * Checks a GET's body chunk by chunk against `expected` (the stamped value
 * the worker put), without copying. One per worker; `expect` before each GET.
 */
export class BodyCheck {
  private key = '';
  private expected: Buffer = Buffer.alloc(0);
  /** Bound once: the BodySink handed to every GET of this worker. */
  readonly sink = (chunk: Buffer, offset: number): void => {
    const end = offset + chunk.length;
    if (end <= this.expected.length && this.expected.compare(chunk, 0, chunk.length, offset, end) === 0) return;
    throw new BenchFatalError(`wrong answer: GET ${this.key} returned ${describeDifference(this.expected, chunk, offset)}, not the value this run put`);
  };

  expect(key: string, value: Buffer): void {
    this.key = key;
    this.expected = value;
  }

  /** After the body ended: the whole value arrived. */
  complete(received: number): void {
    if (received !== this.expected.length) {
      throw new BenchFatalError(`wrong answer: GET ${this.key} returned ${received} bytes, not the ${this.expected.length} this run put`);
    }
  }
}

function describeDifference(expected: Buffer, chunk: Buffer, offset: number): string {
  for (let i = 0; i < chunk.length; i++) {
    if (offset + i >= expected.length) return `more than ${expected.length} bytes`;
    if (chunk[i] !== expected[offset + i]) return `a different byte at offset ${offset + i}`;
  }
  return 'different bytes';
}
