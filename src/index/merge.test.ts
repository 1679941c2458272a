// tier: quick (npm run test:quick; docs/TESTING.md)
// Tests of the merge of memtable sources (merge.ts): the cursors over a
// copied memtable (ArrayCursor) and over a frozen one (MemtableCursor), and
// the merges built on them, against a model (a Map, newest source wins).
// The merges over runs are tested through the index (lsm_index.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ArrayCursor, MemtableCursor, copyForScan, mergeLive, mergeVisit } from './merge.js';
import type { Cursor } from './merge.js';
import { Memtable } from './memtable.js';
import type { MemValue } from './memtable.js';
import { visitIndexValue } from './run_format.js';
import type { ChunkVisitor } from './run_format.js';

const hex = (b: Buffer): string => b.toString('hex');

/** A value that names its source and key, so the winner is visible. */
function valueOf(source: number, key: Buffer): MemValue {
  return { sizeBytes: key.length, chunks: [{ extent: source, offset: 0, length: 36 + key.length }] };
}

/** One source: sorted unique keys, some of them tombstones. */
interface Source {
  readonly keys: Buffer[];
  readonly values: MemValue[];
}

const keyArb = fc.array(fc.constantFrom(0x00, 0x01, 0x61, 0x62, 0xff), { minLength: 1, maxLength: 3 }).map((a) => Buffer.from(a));
const sourcesArb = fc.array(fc.array(fc.record({ key: keyArb, tomb: fc.boolean() }), { maxLength: 30 }), { minLength: 1, maxLength: 4 });

function toSources(raw: ReadonlyArray<ReadonlyArray<{ key: Buffer; tomb: boolean }>>): Source[] {
  return raw.map((entries, s) => {
    const byKey = new Map<string, MemValue>();
    for (const e of entries) byKey.set(hex(e.key), e.tomb ? null : valueOf(s, e.key));
    const keys = [...byKey.keys()].map((k) => Buffer.from(k, 'hex')).sort((a, b) => Buffer.compare(a, b));
    return { keys, values: keys.map((k) => byKey.get(hex(k)) ?? null) };
  });
}

/** Even sources as copied arrays, odd ones as frozen memtables; each positioned at the first key >= from. */
function cursors(sources: readonly Source[], from: Buffer | undefined): Cursor[] {
  return sources.map((src, s) => {
    if (s % 2 === 0) {
      const at = from === undefined ? 0 : src.keys.findIndex((k) => Buffer.compare(k, from) >= 0);
      const i = at < 0 ? src.keys.length : at;
      return new ArrayCursor(src.keys.slice(i), src.values.slice(i));
    }
    const m = new Memtable();
    src.keys.forEach((k, i) => m.put(k, src.values[i] ?? null, i));
    return new MemtableCursor(m.cursor(from));
  });
}

/** The winning entry of every key (newest source first), ascending, tombstones included. */
function winners(sources: readonly Source[]): Array<{ key: Buffer; value: MemValue }> {
  const won = new Map<string, MemValue>();
  for (const src of sources) src.keys.forEach((k, i) => won.has(hex(k)) || won.set(hex(k), src.values[i] ?? null));
  return [...won.keys()].sort().map((k) => ({ key: Buffer.from(k, 'hex'), value: won.get(k) ?? null }));
}

function recorder(): { visitor: ChunkVisitor; seen: string[] } {
  const seen: string[] = [];
  return { seen, visitor: { entry: () => seen.push('entry'), chunk: (extent, length) => seen.push(`${extent}:${length}`) } };
}

// Checks: both cursor kinds report, at every position, the key, whether it
// is a tombstone, the value, and the chunks a visitor sees (none for a
// tombstone), and end with an undefined key that further advances keep.
// How: walk each kind over random sources and compare with the arrays.
test('array and memtable cursors agree with their entries at every position', () => {
  fc.assert(
    fc.property(sourcesArb, (raw) => {
      const sources = toSources(raw);
      const all = cursors([...sources, ...sources], undefined);
      all.forEach((c, n) => {
        const src = sources[n % sources.length];
        assert.ok(src !== undefined);
        src.keys.forEach((key, i) => {
          const v = src.values[i] ?? null;
          assert.deepStrictEqual(c.key, key);
          assert.equal(c.isTombstone(), v === null);
          assert.deepStrictEqual(c.value(), v);
          const { visitor, seen } = recorder();
          c.visitValue(visitor);
          assert.deepStrictEqual(seen, v === null ? [] : ['entry', ...v.chunks.map((l) => `${l.extent}:${l.length}`)]);
          assert.equal(c.advance(), undefined);
        });
        assert.equal(c.key, undefined);
        assert.equal(c.advance(), undefined);
        assert.equal(c.key, undefined);
      });
    }),
    { seed: 11, numRuns: 300 },
  );
});

// Checks: mergeLive returns, from `from` and within a prefix, at most
// `limit` live entries ascending, each with the newest source's value
// (a newer tombstone hides an older value); mergeVisit, called page by
// page, visits exactly the winners' values and says when the sources are
// exhausted; copyForScan copies every entry (tombstones too) up to the
// limit-th live one, and stops at the prefix's end. How: random sources
// against the winners of a Map model.
test('mergeLive, mergeVisit and copyForScan agree with a newest-wins model', async () => {
  await fc.assert(
    fc.asyncProperty(sourcesArb, fc.option(keyArb, { nil: undefined }), fc.boolean(), fc.integer({ min: 1, max: 12 }), async (raw, from, usePrefix, limit) => {
      const sources = toSources(raw);
      const prefix = usePrefix && from !== undefined ? from.subarray(0, 1) : undefined;
      const start = prefix ?? from;
      const inRange = (k: Buffer): boolean => (start === undefined || Buffer.compare(k, start) >= 0) && (prefix === undefined || k.subarray(0, prefix.length).equals(prefix));
      const want = winners(sources).filter((w) => inRange(w.key));
      const live = want.filter((w) => w.value !== null).slice(0, limit);
      const got = await mergeLive(cursors(sources, start), prefix, limit);
      assert.deepStrictEqual(got.map((e) => [hex(e.key), e.value]), live.map((w) => [hex(w.key), w.value]));

      if (start === undefined) {
        const page = recorder();
        const walk = cursors(sources, undefined);
        let done = false;
        for (let pages = 0; !done; pages++) {
          assert.ok(pages <= want.length + 1, 'mergeVisit did not finish');
          done = await mergeVisit(walk, limit, page.visitor);
        }
        const all = recorder();
        for (const w of want) if (w.value !== null) visitIndexValue(w.value, all.visitor);
        assert.deepStrictEqual(page.seen, all.seen);
      }

      const first = sources[0];
      assert.ok(first !== undefined);
      const m = new Memtable();
      first.keys.forEach((k, i) => m.put(k, first.values[i] ?? null, i));
      const copied = copyForScan(m.cursor(start), prefix, limit);
      const entries = first.keys.map((k, i) => ({ key: k, value: first.values[i] ?? null })).filter((e) => inRange(e.key));
      let lastLive = -1;
      for (let i = 0, n = 0; i < entries.length && n < limit; i++) if (entries[i]?.value !== null) [lastLive, n] = [i, n + 1];
      const liveCount = entries.filter((e) => e.value !== null).length;
      const expectCopied = liveCount >= limit ? entries.slice(0, lastLive + 1) : entries;
      const copiedKeys: string[] = [];
      for (; copied.key !== undefined; copied.advance()) copiedKeys.push(hex(copied.key));
      assert.deepStrictEqual(copiedKeys, expectCopied.map((e) => hex(e.key)));
    }),
    { seed: 12, numRuns: 400 },
  );
});

// Checks: an array cursor refuses keys and values of different lengths.
test('an array cursor refuses keys and values of different lengths', () => {
  assert.throws(() => new ArrayCursor([Buffer.from('a')], []), /keys and values differ/);
});
