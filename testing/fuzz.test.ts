// Runs every decoder target of testing/fuzz/decoders.ts through the fuzzer
// (testing/fuzz/fuzzer.ts) with a fixed seed and a fixed number of inputs,
// and shows the fuzzer's checks have teeth: deliberately broken decoders
// (an unchecked count that reads past the end, a decode that stalls) are
// reported with their input. Also pins the request parsers' worst case: a
// header of the server's maximum size parses in linear time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BufReader, BufWriter, CorruptionError } from '../src/base/index.js';
import { parseRangeHeader } from '../src/server/range.js';
import type { RangeSpec } from '../src/server/range.js';
import { DEFAULT_SERVER_OPTIONS } from '../src/server/index.js';
import { DECODER_TARGETS } from './fuzz/decoders.js';
import { describeFailures, fuzzOnce } from './fuzz/fuzzer.js';
import type { DecoderTarget } from './fuzz/fuzzer.js';
import { Rng } from './rng.js';

const SEED = 20240611;
const ITERATIONS = 5000;
/** Targets that answer every input with a value (a description, undefined, or a spec). */
const TOTAL = new Set(['chunk: checkChunk', 'chunk: checkChunk at an offset', 'chunk: parseHeader at every aligned offset', 'server: Range header']);

for (const target of DECODER_TARGETS) {
  // Checks: `target` on random and mutated inputs gives a value or a typed
  // error, within the time limit; its valid samples decode. How: fuzzOnce.
  test(`fuzz ${target.name}`, () => {
    const report = fuzzOnce(target, new Rng(`${SEED}/${target.name}`), ITERATIONS);
    assert.equal(report.failures.length, 0, describeFailures(report));
    // The inputs reach both outcomes: the mutations are neither all fatal nor all harmless.
    if (!TOTAL.has(target.name)) assert.ok(report.typedErrors > 0, `${target.name}: no input was refused`);
    assert.ok(report.values > 0, `${target.name}: no input decoded`);
  });
}

// ------------------------------------------------------------ the fuzzer finds bugs

/** The manifest decoder as it would be without BufReader's bounds: it trusts the count. */
function brokenCountDecoder(buf: Buffer): number[] {
  const n = buf.readUInt32LE(0);
  const ids: number[] = [];
  for (let i = 0; i < n; i++) ids.push(buf.readUInt32LE(4 + 8 * i) + buf.readUInt32LE(8 + 8 * i) * 2 ** 32);
  return ids;
}

function encodeIds(ids: readonly number[]): Buffer {
  const w = new BufWriter();
  w.u32(ids.length);
  for (const id of ids) w.u64(id);
  return w.finish();
}

const broken: DecoderTarget = {
  name: 'broken: unchecked count',
  decode: brokenCountDecoder,
  samples: (rng) => Array.from({ length: 8 }, () => encodeIds(Array.from({ length: rng.int(0, 5) }, () => rng.int(0, 1e12)))),
};

test('the fuzzer reports a decoder that reads past the end (RangeError), with a short input', () => {
  // Checks: an unchecked count makes Buffer.readUInt32LE throw RangeError on
  // some input; fuzzOnce reports it as an untyped error with the input hex,
  // shrunk to a few bytes. How: the broken decoder above, fixed seed.
  const report = fuzzOnce(broken, new Rng(SEED), 2000);
  const first = report.failures[0];
  assert.ok(first !== undefined, 'the fuzzer missed the out-of-bounds read');
  assert.equal(first.kind, 'untyped-error');
  assert.match(first.detail, /^RangeError/);
  assert.ok(first.inputHex.length <= 2 * 8, `not shrunk: ${first.inputHex}`);
  // The reported input replays the failure.
  assert.throws(() => brokenCountDecoder(Buffer.from(first.inputHex, 'hex')), RangeError);
  // The same decoder written with BufReader passes.
  const fixed: DecoderTarget = {
    ...broken,
    name: 'fixed: checked count',
    decode: (b) => {
      const r = new BufReader(b, 'ids');
      const ids = Array.from({ length: r.count(8) }, () => r.u64());
      r.expectEnd();
      return ids;
    },
  };
  assert.deepEqual(fuzzOnce(fixed, new Rng(SEED), 2000).failures, []);
});

test('the fuzzer reports a decoder that takes too long', () => {
  // Checks: a decode slower than the limit is a failure. How: a decoder that
  // spins 30 ms when its first byte is odd, against a 10 ms limit.
  const slow: DecoderTarget = {
    name: 'broken: slow',
    decode: (b) => {
      if (((b[0] ?? 0) & 1) === 1) {
        const until = performance.now() + 30;
        while (performance.now() < until);
      }
      if (b.length > 100) throw new CorruptionError('too long');
      return b.length;
    },
    samples: () => [Buffer.from([2, 3])],
  };
  const report = fuzzOnce(slow, new Rng(SEED), 200, { slowMs: 10, maxFailures: 1 });
  assert.equal(report.failures[0]?.kind, 'slow', describeFailures(report));
});

test('the fuzzer rejects samples that do not decode', () => {
  // Checks: invalid samples are reported, so a target cannot silently fuzz garbage only.
  const report = fuzzOnce({ name: 'bad samples', decode: () => { throw new CorruptionError('no'); }, samples: () => [Buffer.from('x')] }, new Rng(1), 0);
  assert.equal(report.failures[0]?.kind, 'sample-rejected');
});

// ------------------------------------------------------------ request parsers: linear time

test('Range header parsing is linear: a maximal header of whitespace parses at once', () => {
  // Checks: parseRangeHeader on inputs built to make a backtracking regex
  // quadratic (long runs of spaces where two `\s*` meet around an empty
  // number), at the server's maximum header size. How: time each call; the
  // regex before the fix took ~0.4 s each at 16 KiB (and ~6 s at 64 KiB).
  const n = DEFAULT_SERVER_OPTIONS.maxHeaderSizeBytes;
  const spaces = ' '.repeat(n);
  for (const header of [`bytes=${spaces}x`, `bytes=-${spaces}x`, `bytes=1${spaces}x`, `${spaces}bytes=${spaces}-${spaces}`, `bytes${spaces}=${spaces}1${spaces}-${spaces}2${spaces}x`]) {
    const started = performance.now();
    parseRangeHeader(header);
    const ms = performance.now() - started;
    assert.ok(ms < 50, `parseRangeHeader took ${ms.toFixed(0)} ms on ${header.length} characters`);
  }
});

/** The Range grammar as first written (a backtracking regex), kept as the reference. */
function referenceRange(header: string): RangeSpec | undefined {
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (m === null) return undefined;
  const [, firstText = '', lastText = ''] = m;
  if (firstText === '') return lastText === '' ? undefined : { kind: 'suffix', length: Number(lastText) };
  const first = Number(firstText);
  const last = lastText === '' ? undefined : Number(lastText);
  if (last !== undefined && last < first) return undefined;
  return { kind: 'from', first, last };
}

test('Range header parsing accepts exactly the original grammar', () => {
  // Checks: the linear parser agrees with the original regex on short
  // strings over the grammar's alphabet. How: fast-check, fixed seed.
  const piece = fc.constantFrom('bytes', 'BYTES', 'Bytes', '=', '-', ' ', '\t', '0', '1', '9', '12', ',', 'x', '\n', '\u00a0');
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
      const header = pieces.join('');
      assert.deepEqual(parseRangeHeader(header), referenceRange(header));
    }),
    { seed: SEED, numRuns: 5000 },
  );
  for (const h of ['bytes=0-9', ' bytes = 3 - ', 'bytes=-4', 'bytes= -  ', '\tbytes=1-1\n', 'bytes=\u00a01-2']) {
    assert.deepEqual(parseRangeHeader(h), referenceRange(h), h);
  }
});
