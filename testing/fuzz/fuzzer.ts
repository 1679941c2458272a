// A small byte-level fuzzer for deserializers (SYSTEM.md: "every
// deserializer is fuzzed; on any bytes it returns a value or a typed error,
// never crashes or hangs"). The targets are in decoders.ts.
//
// Strategy:
// - Each iteration feeds the target one input, drawn from the seeded Rng:
//   random bytes of a random length (short lengths favoured), a valid
//   sample unchanged, or a valid sample after 1..4 mutations: bit flips,
//   byte and little-endian u16/u32 overwrites with boundary values (0, 1,
//   0x7f.., 0x80.., 0xff.., the input's length), truncation, extension
//   (zeros, random bytes, or the input's own bytes), deletion and
//   duplication of a range, and splices of two samples. A target with
//   checksums may re-seal them (`fixup`) so mutations reach the structure
//   behind the checksum instead of dying at it.
// - A failure keeps the input as hex and is shrunk (bounded) by cutting
//   ranges and zeroing bytes while it fails the same way, so the report is
//   short enough to paste into a regression test.
//
// Invariants (a violation is a failure):
// 1. decode returns, or throws an error that is an instance of one of the
//    target's accepted types (default: ShardStoreError). RangeError,
//    TypeError, AssertionError and the like are failures.
// 2. One decode call takes at most `slowMs` (default 1000 ms). A decode that
//    truly never returns hangs the test; its timeout names the target.
// 3. An unmutated sample decodes without any error (the samples are valid).
// 4. Same target, seed and iterations -> the same inputs and the same report.
import { ShardStoreError } from '../../src/base/index.js';
import type { Rng } from '../rng.js';

/** A constructor an accepted error may be an instance of (abstract classes included). */
export type ErrorClass = abstract new (...args: never[]) => Error;

export interface DecoderTarget {
  readonly name: string;
  /** Errors the decoder documents; default [ShardStoreError]. */
  readonly accepts?: readonly ErrorClass[];
  /** Decode `bytes`; return anything, or throw an accepted error. */
  decode(bytes: Buffer): unknown;
  /** Valid encodings, the starting points of mutation. */
  samples(rng: Rng): Buffer[];
  /** Re-seal checksums (and the like) of a mutated input; may modify and return `bytes`. */
  fixup?(bytes: Buffer, rng: Rng): Buffer;
}

export type FailureKind = 'untyped-error' | 'slow' | 'sample-rejected';

export interface FuzzFailure {
  readonly target: string;
  readonly kind: FailureKind;
  /** The (shrunk) input, hex. */
  readonly inputHex: string;
  /** The input's length before shrinking. */
  readonly originalBytes: number;
  /** `Name: message` of the error, or the time taken. */
  readonly detail: string;
}

export interface FuzzReport {
  readonly target: string;
  readonly iterations: number;
  /** Inputs that decoded to a value. */
  readonly values: number;
  /** Inputs refused with an accepted error. */
  readonly typedErrors: number;
  readonly slowestMs: number;
  readonly failures: readonly FuzzFailure[];
}

export interface FuzzOptions {
  /** A decode slower than this is a failure (default 1000). */
  readonly slowMs?: number;
  /** Stop after this many failures (default 3). */
  readonly maxFailures?: number;
  /** Longest random input (default 4096). */
  readonly maxRandomBytes?: number;
}

type Outcome = { readonly ok: true; readonly ms: number; readonly value: boolean } | { readonly ok: false; readonly ms: number; readonly detail: string };

/** Run `iterations` inputs through `target` (see Strategy). */
export function fuzzOnce(target: DecoderTarget, rng: Rng, iterations: number, options: FuzzOptions = {}): FuzzReport {
  const slowMs = options.slowMs ?? 1000;
  const maxFailures = options.maxFailures ?? 3;
  const pool = target.samples(rng.fork('samples'));
  const failures: FuzzFailure[] = [];
  let values = 0;
  let typedErrors = 0;
  let slowestMs = 0;
  for (const sample of pool) {
    const outcome = run(target, sample);
    if (!outcome.ok || !outcome.value) failures.push(failure(target, 'sample-rejected', sample, outcome.ok ? 'threw an accepted error' : outcome.detail));
  }
  for (let i = 0; i < iterations && failures.length < maxFailures; i++) {
    const input = nextInput(target, pool, rng, options.maxRandomBytes ?? 4096);
    const outcome = run(target, input);
    slowestMs = Math.max(slowestMs, outcome.ms);
    if (!outcome.ok) {
      const sameFailure = (b: Buffer): boolean => {
        const o = run(target, b);
        return !o.ok && sameKind(o.detail, outcome.detail);
      };
      failures.push(failure(target, 'untyped-error', shrink(input, sameFailure), outcome.detail, input.length));
    } else if (outcome.ms > slowMs) {
      failures.push(failure(target, 'slow', input, `${outcome.ms.toFixed(0)} ms (limit ${slowMs} ms)`));
    } else if (outcome.value) values++;
    else typedErrors++;
  }
  return { target: target.name, iterations, values, typedErrors, slowestMs, failures };
}

/** One line per failure, for assertion messages. */
export function describeFailures(report: FuzzReport): string {
  return report.failures.map((f) => `${f.target}: ${f.kind}: ${f.detail}\n  input (${f.inputHex.length / 2} of ${f.originalBytes} bytes): ${f.inputHex}`).join('\n');
}

function failure(target: DecoderTarget, kind: FailureKind, input: Buffer, detail: string, originalBytes = input.length): FuzzFailure {
  return { target: target.name, kind, inputHex: input.toString('hex'), originalBytes, detail };
}

function run(target: DecoderTarget, input: Buffer): Outcome {
  const accepts = target.accepts ?? [ShardStoreError];
  // Decoders may keep views into their input: give each call its own copy.
  const bytes = Buffer.from(input);
  const started = performance.now();
  try {
    target.decode(bytes);
    return { ok: true, ms: performance.now() - started, value: true };
  } catch (err: unknown) {
    const ms = performance.now() - started;
    if (accepts.some((cls) => err instanceof cls)) return { ok: true, ms, value: false };
    return { ok: false, ms, detail: errorDetail(err) };
  }
}

function errorDetail(err: unknown): string {
  if (!(err instanceof Error)) return `non-Error thrown: ${String(err)}`;
  const code = (err as Error & { code?: unknown }).code;
  return `${err.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${err.message}`;
}

/** Two failures are the same kind when their error names match. */
function sameKind(a: string, b: string): boolean {
  return a.split(':')[0] === b.split(':')[0];
}

// ------------------------------------------------------------ inputs

function nextInput(target: DecoderTarget, pool: readonly Buffer[], rng: Rng, maxRandomBytes: number): Buffer {
  const roll = rng.float();
  if (pool.length === 0 || roll < 0.2) return rng.bytes(randomLength(rng, maxRandomBytes));
  const sample = rng.pick(pool);
  if (roll < 0.25) return Buffer.from(sample);
  let out: Buffer = Buffer.from(sample);
  for (let n = rng.int(1, 4); n > 0; n--) out = mutate(out, pool, rng);
  if (target.fixup !== undefined && rng.bool(0.5)) out = target.fixup(out, rng);
  return out;
}

function randomLength(rng: Rng, maxBytes: number): number {
  const cap = rng.pick([8, 32, 128, 1024, maxBytes]);
  return rng.int(0, Math.min(cap, maxBytes));
}

const MUTATIONS = ['flip', 'byte', 'u16', 'u32', 'truncate', 'extend', 'delete', 'duplicate', 'splice', 'insert'] as const;
type Mutation = (typeof MUTATIONS)[number];

/** One mutation of `b` (a fresh buffer; `b` may be reused). */
function mutate(b: Buffer, pool: readonly Buffer[], rng: Rng): Buffer {
  const kind: Mutation = rng.pick(MUTATIONS);
  const at = b.length === 0 ? 0 : rng.int(0, b.length - 1);
  switch (kind) {
    case 'flip':
      if (b.length > 0) b[at] = (b[at] ?? 0) ^ (1 << rng.int(0, 7));
      return b;
    case 'byte':
      if (b.length > 0) b[at] = rng.pick([0, 1, 0x7f, 0x80, 0xff, rng.int(0, 255)]);
      return b;
    case 'u16':
      if (b.length >= 2) b.writeUInt16LE(boundary(rng, b.length) & 0xffff, Math.min(at, b.length - 2));
      return b;
    case 'u32':
      if (b.length >= 4) b.writeUInt32LE(boundary(rng, b.length) >>> 0, Math.min(at, b.length - 4));
      return b;
    case 'truncate':
      return b.subarray(0, rng.int(0, b.length));
    case 'extend':
      return Buffer.concat([b, filler(rng, b, rng.int(1, 64))]);
    case 'delete':
      return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + rng.int(1, 16)))]);
    case 'duplicate':
      return Buffer.concat([b.subarray(0, at), b.subarray(at, at + rng.int(1, 16)), b.subarray(at)]);
    case 'splice': {
      const other = rng.pick(pool);
      return Buffer.concat([b.subarray(0, at), other.subarray(rng.int(0, other.length))]);
    }
    case 'insert':
      return Buffer.concat([b.subarray(0, at), filler(rng, b, rng.int(1, 16)), b.subarray(at)]);
  }
}

function boundary(rng: Rng, lengthBytes: number): number {
  return rng.pick([0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, lengthBytes, lengthBytes + 1, rng.nextU32()]);
}

function filler(rng: Rng, self: Buffer, n: number): Buffer {
  const choice = rng.int(0, 2);
  if (choice === 0) return Buffer.alloc(n);
  if (choice === 1 || self.length === 0) return rng.bytes(n);
  const from = rng.int(0, self.length - 1);
  return Buffer.from(self.subarray(from, from + n));
}

// ------------------------------------------------------------ shrinking

/** Smaller input that still fails the same way: cut ranges, then zero bytes. Bounded work. */
function shrink(input: Buffer, fails: (b: Buffer) => boolean): Buffer {
  let best = input;
  let budget = 400;
  for (let size = Math.max(1, best.length >> 1); size >= 1 && budget > 0; size >>= 1) {
    for (let at = 0; at + size <= best.length && budget > 0; budget--) {
      const candidate = Buffer.concat([best.subarray(0, at), best.subarray(at + size)]);
      if (fails(candidate)) best = candidate;
      else at += size;
    }
  }
  for (let at = 0; at < best.length && budget > 0; at++, budget--) {
    if (best[at] === 0) continue;
    const candidate = Buffer.from(best);
    candidate[at] = 0;
    if (fails(candidate)) best = candidate;
  }
  return best;
}
