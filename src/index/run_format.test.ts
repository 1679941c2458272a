// tier: quick (npm run test:quick; docs/TESTING.md)
// Tests of the run format's encoders and decoders (docs/format/lsm_run.md).
//
// Strategy: for each decoder (IndexValue, block, run index body, root, part,
// descriptor), generate valid values, encode, decode, compare (round trip);
// then feed it random bytes and mutated encodings (bytes changed, cut,
// extended). Invariant: a decoder returns a value or throws CorruptionError,
// nothing else, and never hangs (every case ends).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AssertionError, BufReader, BufWriter, CorruptionError } from '../base/index.js';
import { CHUNK_OVERHEAD_BYTES } from '../chunk/index.js';
import type { Locator } from '../chunk/index.js';
import {
  BlockBuilder,
  BlockView,
  decodeBlock,
  decodeIndexValue,
  decodeRunDescriptor,
  decodeRunIndexBody,
  decodeRunIndexPart,
  decodeRunIndexRoot,
  descriptorProblem,
  encodeIndexValue,
  encodeRunDescriptor,
  encodeRunIndexBody,
  encodeRunIndexPart,
  encodeRunIndexRoot,
  indexValueProblem,
} from './run_format.js';
import type { ExtentBytes, IndexValue, RunDescriptor, RunIndexBody } from './run_format.js';

const RUNS = 300;

// ------------------------------------------------------------ arbitraries

const keyArb = fc.oneof(
  { weight: 20, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 12 }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1024, maxLength: 1024 }) },
).map((a) => Buffer.from(a));

const sortedKeysArb = (min: number, max: number): fc.Arbitrary<Buffer[]> =>
  fc
    .uniqueArray(keyArb, { minLength: min, maxLength: max, selector: (k) => k.toString('hex') })
    .map((keys) => keys.sort((a, b) => Buffer.compare(a, b)));

const locatorArb = (minLength = 36): fc.Arbitrary<Locator> =>
  fc
    .tuple(fc.nat(), fc.nat({ max: 0x1fffffff }), fc.integer({ min: minLength, max: 0xffffffff }))
    .map(([extent, offset, length]) => ({ extent, offset: offset * 8, length }));

const valueArb: fc.Arbitrary<IndexValue> = fc.array(locatorArb(), { maxLength: 5 }).chain((chunks) => {
  const capacity = chunks.reduce((s, c) => s + c.length - 36, 0);
  return fc.integer({ min: 0, max: Math.min(capacity, Number.MAX_SAFE_INTEGER) }).map((sizeBytes) => ({ sizeBytes, chunks }));
});

const bodyArb: fc.Arbitrary<RunIndexBody> = fc
  .tuple(
    sortedKeysArb(1, 8),
    fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 8, maxLength: 8 }),
    fc.uint8Array({ maxLength: 3 }),
    fc.integer({ min: 1, max: 30 }),
    fc.uint8Array({ minLength: 1, maxLength: 64 }),
    fc.array(locatorArb(), { minLength: 8, maxLength: 8 }),
  )
  .map(([firstKeys, counts, suffix, bloomK, bloom, locs]) => {
    const blocks = firstKeys.map((firstKey, i) => {
      const entryCount = counts[i] ?? 1;
      const loc = locs[i] ?? { extent: 0, offset: 0, length: 36 };
      return { firstKey, entryCount, locator: { ...loc, length: Math.max(loc.length, 36 + 5 + 8 * entryCount) } };
    });
    const last = firstKeys[firstKeys.length - 1] ?? Buffer.from('x');
    const lastKey = last.length + suffix.length <= 1024 ? Buffer.concat([last, suffix]) : last;
    const entryCount = blocks.reduce((s, b) => s + b.entryCount, 0);
    return { entryCount, blocks, lastKey, bloomK, bloom: Buffer.from(bloom) };
  });

const descriptorArb: fc.Arbitrary<RunDescriptor> = fc
  .record({
    id: fc.maxSafeNat(),
    level: fc.integer({ min: 0, max: 63 }),
    indexChunk: locatorArb(),
    mirrorIndexChunk: locatorArb(),
    entryCount: fc.integer({ min: 1, max: 1e12 }),
    tombstoneFraction: fc.double({ min: 0, max: 1, noNaN: true }),
    maxSeq: fc.maxSafeNat(),
    minKey: keyArb,
    suffix: fc.uint8Array({ minLength: 1, maxLength: 4 }),
    others: fc.uniqueArray(fc.tuple(fc.nat({ max: 0xffffffff }), fc.integer({ min: 36, max: 1e12 })), { maxLength: 4, selector: (e) => e[0] }),
    mirrorOthers: fc.uniqueArray(fc.tuple(fc.nat({ max: 0xffffffff }), fc.integer({ min: 36, max: 1e12 })), { maxLength: 4, selector: (e) => e[0] }),
  })
  .map((r) => {
    const maxKey = r.entryCount === 1 ? r.minKey : r.minKey.length < 1024 ? Buffer.concat([r.minKey, r.suffix]) : r.minKey;
    const entryCount = maxKey === r.minKey ? 1 : r.entryCount;
    const extentsOf = (others: ReadonlyArray<[number, number]>, root: Locator): ExtentBytes[] => {
      const extents = new Map<number, number>(others);
      extents.set(root.extent, (extents.get(root.extent) ?? 0) + root.length);
      return [...extents].sort((a, b) => a[0] - b[0]).map(([extent, bytes]) => ({ extent, bytes }));
    };
    return {
      id: r.id,
      level: r.level,
      indexChunk: r.indexChunk,
      entryCount,
      tombstoneCount: Math.floor(entryCount * r.tombstoneFraction),
      maxSeq: r.maxSeq,
      minKey: r.minKey,
      maxKey,
      extents: extentsOf(r.others, r.indexChunk),
      mirrorIndexChunk: r.mirrorIndexChunk,
      mirrorExtents: extentsOf(r.mirrorOthers, r.mirrorIndexChunk),
    };
  });

function encodeBlock(keys: readonly Buffer[], values: ReadonlyArray<IndexValue | null>): Buffer {
  const b = new BlockBuilder(64);
  keys.forEach((k, i) => b.add(k, values[i] ?? null));
  return Buffer.concat(b.finish());
}

const blockArb = sortedKeysArb(1, 30).chain((keys) =>
  fc.array(fc.option(valueArb, { nil: null }), { minLength: keys.length, maxLength: keys.length }).map((values) => ({ keys, values })),
);

// ------------------------------------------------------------ fuzz helpers

/** Run a decoder: its value, or undefined when it threw CorruptionError. Anything else fails the test. */
function decodeOrCorrupt<T>(decode: (buf: Buffer) => T, buf: Buffer): T | undefined {
  try {
    return decode(buf);
  } catch (err) {
    if (err instanceof CorruptionError) return undefined;
    throw err;
  }
}

const editsArb = fc.record({
  edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
  cut: fc.option(fc.nat(), { nil: undefined }),
  extra: fc.uint8Array({ maxLength: 8 }),
});

function mutate(buf: Buffer, m: { edits: Array<[number, number]>; cut: number | undefined; extra: Uint8Array }): Buffer {
  const out = Buffer.from(buf);
  for (const [pos, byte] of m.edits) if (out.length > 0) out[pos % out.length] = byte;
  const cut = m.cut === undefined ? out : out.subarray(0, m.cut % (out.length + 1));
  return Buffer.concat([cut, m.extra]);
}

/** Random bytes and mutated encodings give a value or CorruptionError. */
function fuzz<T>(name: string, valid: fc.Arbitrary<Buffer>, decode: (buf: Buffer) => T): void {
  // Checks: the decoder of `name` on arbitrary and on corrupted bytes. How: as the file header says.
  test(`${name}: random and mutated bytes give a value or CorruptionError`, () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        decodeOrCorrupt(decode, Buffer.from(bytes));
      }),
      { seed: 42, numRuns: RUNS },
    );
    fc.assert(
      fc.property(valid, editsArb, (buf, m) => {
        decodeOrCorrupt(decode, mutate(buf, m));
      }),
      { seed: 42, numRuns: RUNS },
    );
  });
}

// ------------------------------------------------------------ round trips

// Checks: IndexValue encode/decode round trip, and the decoder consumes
// exactly the encoding. How: random valid values.
test('IndexValue round trip', () => {
  fc.assert(
    fc.property(valueArb, (v) => {
      const w = new BufWriter();
      encodeIndexValue(w, v);
      const r = new BufReader(w.finish(), 'test');
      assert.deepStrictEqual(decodeIndexValue(r), v);
      r.expectEnd();
    }),
    { seed: 42, numRuns: RUNS },
  );
});

// Checks: a block decodes to the entries written, and lookups by lower
// bound find each key. How: random sorted keys (some 1024 bytes) and values.
test('block round trip', () => {
  fc.assert(
    fc.property(blockArb, ({ keys, values }) => {
      const buf = encodeBlock(keys, values);
      for (const b of [new BlockView(buf), decodeBlock(buf)]) {
        assert.equal(b.count, keys.length);
        keys.forEach((k, i) => {
          assert.ok(b.key(i).equals(k));
          assert.equal(b.lowerBound(k), i);
          assert.equal(b.isTombstone(i), values[i] === null);
          assert.deepStrictEqual(b.value(i), values[i] ?? null);
        });
      }
    }),
    { seed: 42, numRuns: RUNS },
  );
});

// Checks: lowerBound, which skips the bytes a probe shares with both ends
// of its range, answers as a plain count of the smaller keys, and
// compareKey as Buffer.compare, for probes in the block and not (prefixes
// and extensions of its keys, keys between them). How: sorted distinct keys
// over a small alphabet behind one of a few shared prefixes, so neighbours
// share long prefixes and probes end inside them.
test('block lowerBound and compareKey agree with a plain comparison', () => {
  const byte = fc.constantFrom(0x00, 0x61, 0x62, 0xff);
  const prefix = fc.constantFrom('', 'bucket/', 'bucket/photos/2024/', 'b');
  const keyArb = fc.tuple(prefix, fc.array(byte, { minLength: 0, maxLength: 6 })).map(([p, rest]) => Buffer.concat([Buffer.from(p), Buffer.from(rest)])).filter((k) => k.length >= 1);
  fc.assert(
    fc.property(fc.uniqueArray(keyArb, { minLength: 1, maxLength: 40, selector: (k) => k.toString('hex') }), fc.array(keyArb, { maxLength: 20 }), (unsorted, others) => {
      const keys = [...unsorted].sort((a, b) => Buffer.compare(a, b));
      const b = new BlockView(encodeBlock(keys, keys.map(() => null)));
      const probes = [...keys, ...others, ...keys.map((k) => k.subarray(0, Math.max(1, k.length - 1))), ...keys.map((k) => Buffer.concat([k, Buffer.from([0])]))];
      for (const probe of probes) {
        assert.equal(b.lowerBound(probe), keys.filter((k) => Buffer.compare(k, probe) < 0).length, `probe ${probe.toString('hex')}`);
        keys.forEach((k, i) => assert.equal(b.compareKey(i, probe), Buffer.compare(k, probe), `entry ${k.toString('hex')} against ${probe.toString('hex')}`));
      }
    }),
    { seed: 20261208, numRuns: 300 },
  );
});

// Checks: keys out of order or repeated inside a block are corruption. How:
// write two entries in the wrong order with the raw entry writer.
test('block with unsorted or duplicate keys is corrupt', () => {
  assert.throws(() => decodeBlock(encodeBlock([Buffer.from('b'), Buffer.from('a')], [null, null])), CorruptionError);
  assert.throws(() => decodeBlock(encodeBlock([Buffer.from('a'), Buffer.from('a')], [null, null])), CorruptionError);
  assert.throws(() => decodeBlock(Buffer.from([1, 0, 0, 0, 0])), CorruptionError);
  // The lazy view finds the order problem only when asked to check everything.
  const lazy = new BlockView(encodeBlock([Buffer.from('b'), Buffer.from('a')], [null, null]));
  assert.ok(lazy.key(1).equals(Buffer.from('a')));
  assert.throws(() => lazy.checkAll(), CorruptionError);
});

// Checks: run index body, root and part round trips. How: random valid ones.
test('run index round trips', () => {
  fc.assert(
    fc.property(bodyArb, (body) => {
      assert.deepStrictEqual(decodeRunIndexBody(Buffer.from(encodeRunIndexBody(body))), body);
    }),
    { seed: 42, numRuns: RUNS },
  );
  fc.assert(
    fc.property(fc.maxSafeNat(), fc.array(locatorArb(), { maxLength: 5 }), fc.uint8Array({ minLength: 1, maxLength: 40 }), (runId, parts, bytes) => {
      const inline = parts.length === 0 ? Buffer.from(bytes) : Buffer.alloc(0);
      const root = { runId, parts, inline };
      assert.deepStrictEqual(decodeRunIndexRoot(Buffer.concat(encodeRunIndexRoot(root))), root);
      const part = { runId, partIndex: parts.length, bytes: Buffer.from(bytes) };
      assert.deepStrictEqual(decodeRunIndexPart(Buffer.concat(encodeRunIndexPart(part))), part);
    }),
    { seed: 42, numRuns: RUNS },
  );
});

// Checks: descriptor round trip, and the encoder refuses invalid
// descriptors (pair assertion with the decoder's checks). How: random valid
// descriptors; then break one rule at a time.
test('run descriptor round trip and invalid descriptors', () => {
  fc.assert(
    fc.property(descriptorArb, (d) => {
      const w = new BufWriter();
      encodeRunDescriptor(w, d);
      const r = new BufReader(w.finish(), 'test');
      assert.deepStrictEqual(decodeRunDescriptor(r), d);
      r.expectEnd();
    }),
    { seed: 42, numRuns: RUNS },
  );
  const [d] = fc.sample(descriptorArb, { seed: 7, numRuns: 1 });
  assert.ok(d !== undefined);
  // Each broken descriptor breaks one rule, and descriptorProblem names that
  // rule (the decoder's CorruptionError carries it to fsck and open).
  const short = CHUNK_OVERHEAD_BYTES - 1;
  const [firstExtent] = d.extents;
  const [firstMirror] = d.mirrorExtents;
  assert.ok(firstExtent !== undefined && firstMirror !== undefined);
  const broken: Array<[string, RunDescriptor]> = [
    ['level 64', { ...d, level: 64 }],
    ['level -1', { ...d, level: -1 }],
    [`tombstone count ${d.entryCount + 1}`, { ...d, tombstoneCount: d.entryCount + 1 }],
    ['key length 0', { ...d, minKey: Buffer.alloc(0) }],
    ['entry count 0', { ...d, entryCount: 0 }],
    ['no extents', { ...d, extents: [] }],
    [`index chunk locator offset ${d.indexChunk.offset + 1} not aligned`, { ...d, indexChunk: { ...d.indexChunk, offset: d.indexChunk.offset + 1 } }],
    [`index chunk locator length ${short} below chunk overhead`, { ...d, indexChunk: { ...d.indexChunk, length: short } }],
    [`mirror index chunk locator length ${short} below chunk overhead`, { ...d, mirrorIndexChunk: { ...d.mirrorIndexChunk, length: short } }],
    [`extent ${firstExtent.extent} bytes ${short}`, { ...d, extents: [{ ...firstExtent, bytes: short }, ...d.extents.slice(1)] }],
    [`mirror extent ${firstMirror.extent} bytes ${short}`, { ...d, mirrorExtents: [{ ...firstMirror, bytes: short }, ...d.mirrorExtents.slice(1)] }],
  ];
  for (const [why, b] of broken) {
    assert.equal(descriptorProblem(b), why);
    assert.throws(() => encodeRunDescriptor(new BufWriter(), b), AssertionError, why);
  }
  assert.equal(descriptorProblem({ ...d, level: 63 }), undefined, 'level 63 is the last valid level');
});

// ------------------------------------------------------------ fuzzing

const validValue = valueArb.map((v) => {
  const w = new BufWriter();
  encodeIndexValue(w, v);
  return w.finish();
});
const validDescriptor = descriptorArb.map((d) => {
  const w = new BufWriter();
  encodeRunDescriptor(w, d);
  return w.finish();
});

fuzz('IndexValue', validValue, (buf) => decodeIndexValue(new BufReader(buf, 'fuzz')));
const validBlock = blockArb.map(({ keys, values }) => encodeBlock(keys, values));
fuzz('block', validBlock, decodeBlock);
fuzz('block (lazy view, every accessor)', validBlock, (buf) => {
  const b = new BlockView(buf);
  for (let i = 0; i < b.count; i++) {
    b.key(i);
    b.isTombstone(i);
    b.value(i);
    b.lowerBound(b.key(i));
  }
  b.lowerBound(Buffer.from([0x80]));
  return b.checkAll();
});
fuzz('run index body', bodyArb.map((b) => Buffer.from(encodeRunIndexBody(b))), decodeRunIndexBody);
fuzz(
  'run index root',
  fc.array(locatorArb(), { maxLength: 3 }).map((parts) => Buffer.concat(encodeRunIndexRoot({ runId: 9, parts, inline: parts.length === 0 ? Buffer.from('x') : Buffer.alloc(0) }))),
  decodeRunIndexRoot,
);
fuzz('run index part', fc.uint8Array({ minLength: 1, maxLength: 20 }).map((b) => Buffer.concat(encodeRunIndexPart({ runId: 3, partIndex: 1, bytes: Buffer.from(b) }))), decodeRunIndexPart);
fuzz('run descriptor', validDescriptor, (buf) => decodeRunDescriptor(new BufReader(buf, 'fuzz')));

test('a run index root read as a part, or a part read as a root, is refused by its role', () => {
  // Checks: both kinds of run index chunk share a chunk kind; the role byte
  // tells them apart, so a locator naming the wrong one is a CorruptionError
  // naming both roles, never a root made of a part's bytes. How: one root and
  // one part, each decoded as the other.
  const root = Buffer.concat(encodeRunIndexRoot({ runId: 9, parts: [], inline: Buffer.from('inline body') }));
  const part = Buffer.concat(encodeRunIndexPart({ runId: 9, partIndex: 1, bytes: Buffer.from('part bytes') }));
  assert.equal(decodeRunIndexRoot(root).runId, 9);
  assert.equal(decodeRunIndexPart(part).partIndex, 1);
  assert.throws(() => decodeRunIndexRoot(part), (err: unknown) => err instanceof CorruptionError && /role 2, expected 1/.test(err.message));
  assert.throws(() => decodeRunIndexPart(root), (err: unknown) => err instanceof CorruptionError && /role 1, expected 2/.test(err.message));
});

test('a run index body whose block first keys do not ascend is refused, naming the block', () => {
  // Checks: decodeRunIndexBody refuses blocks out of key order (a lookup
  // would binary-search the wrong block) with a CorruptionError naming the
  // first block out of order. How: a body of three blocks, the last two swapped.
  const block = (key: string, offset: number): { firstKey: Buffer; entryCount: number; locator: Locator } => ({
    firstKey: Buffer.from(key),
    entryCount: 1,
    locator: { extent: 4, offset, length: 64 },
  });
  const body = (keys: readonly string[]): Buffer =>
    Buffer.from(encodeRunIndexBody({ entryCount: 3, blocks: keys.map((k, i) => block(k, i * 64)), lastKey: Buffer.from('z'), bloomK: 1, bloom: Buffer.alloc(8) }));
  assert.equal(decodeRunIndexBody(body(['a', 'm', 't'])).blocks.length, 3);
  assert.throws(() => decodeRunIndexBody(body(['a', 't', 'm'])), (err: unknown) => err instanceof CorruptionError && /block first keys out of order at block 2/.test(err.message));
  assert.throws(() => decodeRunIndexBody(body(['a', 'm', 'm'])), (err: unknown) => err instanceof CorruptionError && /block first keys out of order at block 2/.test(err.message));
});

// Checks: each rule of an IndexValue refuses it on its own, in the decoder
// (CorruptionError naming the rule and the numbers) and in the encoder's
// pair check (indexValueProblem, the same rule): a locator shorter than a
// chunk's overhead, an unaligned offset, sizeBytes beyond the chunks'
// payloads (by one byte; exactly filling them is valid), a bad sizeBytes.
// How: raw encodings with u64/u32 writes, one rule broken at a time.
test('each IndexValue rule refuses a value on its own, naming the rule', () => {
  const raw = (sizeBytes: number, chunks: ReadonlyArray<[number, number, number]>): BufReader => {
    const w = new BufWriter().u64(sizeBytes).u32(chunks.length);
    for (const [extent, offset, length] of chunks) w.u32(extent).u32(offset).u32(length);
    return new BufReader(w.finish(), 'test value');
  };
  const ok: Array<[number, number, number]> = [[3, 64, CHUNK_OVERHEAD_BYTES + 10], [4, 0, CHUNK_OVERHEAD_BYTES + 5]];
  assert.deepStrictEqual(decodeIndexValue(raw(15, ok)), { sizeBytes: 15, chunks: ok.map(([extent, offset, length]) => ({ extent, offset, length })) });
  assert.deepStrictEqual(decodeIndexValue(raw(0, [])), { sizeBytes: 0, chunks: [] });
  const refuse = (r: BufReader, message: string): void => assert.throws(() => decodeIndexValue(r), { name: 'CorruptionError', message });
  refuse(raw(16, ok), 'index value: sizeBytes 16 exceeds chunk payloads 15');
  refuse(raw(1, []), 'index value: sizeBytes 1 exceeds chunk payloads 0');
  refuse(raw(0, [[3, 64, CHUNK_OVERHEAD_BYTES - 1]]), `index value: bad locator 3:64:${CHUNK_OVERHEAD_BYTES - 1}`);
  refuse(raw(0, [[3, 60, CHUNK_OVERHEAD_BYTES]]), `index value: bad locator 3:60:${CHUNK_OVERHEAD_BYTES}`);
  assert.deepStrictEqual(decodeIndexValue(raw(0, [[3, 8, CHUNK_OVERHEAD_BYTES]])).chunks, [{ extent: 3, offset: 8, length: CHUNK_OVERHEAD_BYTES }]);

  const loc = (offset: number, length: number): Locator => ({ extent: 3, offset, length });
  assert.equal(indexValueProblem({ sizeBytes: 15, chunks: [loc(64, CHUNK_OVERHEAD_BYTES + 10), loc(0, CHUNK_OVERHEAD_BYTES + 5)] }), undefined);
  assert.equal(indexValueProblem({ sizeBytes: 16, chunks: [loc(64, CHUNK_OVERHEAD_BYTES + 10), loc(0, CHUNK_OVERHEAD_BYTES + 5)] }), 'sizeBytes 16 exceeds chunk payloads 15');
  assert.equal(indexValueProblem({ sizeBytes: 0, chunks: [loc(64, CHUNK_OVERHEAD_BYTES - 1)] }), `locator length ${CHUNK_OVERHEAD_BYTES - 1} below chunk overhead`);
  assert.equal(indexValueProblem({ sizeBytes: 0, chunks: [loc(60, CHUNK_OVERHEAD_BYTES)] }), 'locator offset 60 not aligned');
  assert.equal(indexValueProblem({ sizeBytes: -1, chunks: [] }), 'bad sizeBytes -1');
  assert.equal(indexValueProblem({ sizeBytes: 0.5, chunks: [] }), 'bad sizeBytes 0.5');
  assert.throws(() => encodeIndexValue(new BufWriter(), { sizeBytes: 1, chunks: [] }), { name: 'AssertionError', message: 'writing invalid index value: sizeBytes 1 exceeds chunk payloads 0' });
});

test('every run decoder names its structure in the CorruptionError of a cut input', () => {
  // Checks: what fsck and open print for a damaged index chunk starts with
  // the structure that failed ("run block: ...", "run index root: ..."),
  // including the truncations a BufReader reports with the name it was
  // given. How: a valid encoding of each structure, cut at every length
  // from 0 to one byte short; each cut must throw a CorruptionError whose
  // message starts with the structure's name and a colon (for a block, or
  // the reader of one of its entries: "run block entry"), and the shortest
  // cut is the reader's own "truncated at byte 0". A block whose last live
  // value is cut inside its locators names the entry's reader ("run block
  // entry"). ("run block value", the reader of BlockView.value, never
  // throws: it parses a slice checkEntryValue has already checked.)
  const loc = (offset: number): Locator => ({ extent: 4, offset, length: 64 });
  const live: IndexValue = { sizeBytes: 50, chunks: [loc(0), loc(64)] };
  const cases: ReadonlyArray<{ readonly name: string; readonly bytes: Buffer; readonly decode: (buf: Buffer) => unknown }> = [
    { name: 'run block', bytes: encodeBlock([Buffer.from('a'), Buffer.from('b')], [live, null]), decode: decodeBlock },
    {
      name: 'run index',
      bytes: Buffer.from(encodeRunIndexBody({ entryCount: 2, blocks: [{ locator: loc(0), entryCount: 2, firstKey: Buffer.from('a') }], lastKey: Buffer.from('b'), bloomK: 1, bloom: Buffer.alloc(8) })),
      decode: decodeRunIndexBody,
    },
    { name: 'run index root', bytes: Buffer.concat(encodeRunIndexRoot({ runId: 9, parts: [loc(0), loc(64)], inline: Buffer.alloc(0) })), decode: decodeRunIndexRoot },
    { name: 'run index part', bytes: Buffer.concat(encodeRunIndexPart({ runId: 9, partIndex: 1, bytes: Buffer.from('x') })), decode: decodeRunIndexPart },
  ];
  for (const { name, bytes, decode } of cases) {
    assert.doesNotThrow(() => decode(bytes), `${name}: the whole encoding decodes`);
    for (let length = 0; length < bytes.length; length++) {
      assert.throws(
        () => decode(bytes.subarray(0, length)),
        (err: unknown) => err instanceof CorruptionError && (err.message.startsWith(`${name}: `) || (name === 'run block' && err.message.startsWith('run block entry: '))),
        `${name} cut to ${length} of ${bytes.length} bytes`,
      );
    }
    assert.throws(() => decode(Buffer.alloc(0)), (err: unknown) => err instanceof CorruptionError && err.message.startsWith(`${name}: truncated at byte 0 (need `), `${name}: empty`);
  }
  // Rules checked past the reader name the structure too: a body listing
  // no blocks (its u32 block count, after the u64 entry count, set to 0),
  // a block of an unknown format version (its first byte).
  const body = Buffer.from(cases[1]?.bytes ?? Buffer.alloc(0));
  body.writeUInt32LE(0, 8);
  assert.throws(() => decodeRunIndexBody(body), { name: 'CorruptionError', message: 'run index: no blocks' });
  const future = Buffer.from(cases[0]?.bytes ?? Buffer.alloc(0));
  future[0] = 0xee;
  assert.throws(() => decodeBlock(future), { name: 'CorruptionError', message: 'run block: unknown version 238' });
  // The block of one live entry cut one byte short: its value's reader finds too few bytes for its locators.
  const block = encodeBlock([Buffer.from('a')], [live]);
  assert.throws(() => decodeBlock(block.subarray(0, block.length - 1)), (err: unknown) => err instanceof CorruptionError && err.message.startsWith('run block entry: '));
});
