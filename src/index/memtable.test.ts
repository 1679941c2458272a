// Tests of the memtable B+ tree and the bloom filter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildBloom, bloomMayContain, keyHash } from './bloom.js';
import { Memtable } from './memtable.js';
import type { MemValue } from './memtable.js';
import { encodedValueBytes, entryBytes } from './run_format.js';

const hex = (b: Buffer): string => b.toString('hex');

// Checks: the B+ tree agrees with a Map on get, ordered iteration from any
// key, the copy of every entry, entry count and byte accounting, through
// many leaf and inner splits.
// How: thousands of puts / putIfAbsents over keys from a tiny alphabet (so
// they share prefixes and collide), then compare everything with the model.
test('memtable matches a sorted Map model', () => {
  const keyArb = fc.array(fc.constantFrom(0x00, 0x01, 0x7f, 0x80, 0xff), { minLength: 1, maxLength: 8 }).map((a) => Buffer.from(a));
  const opArb = fc.record({ key: keyArb, tomb: fc.boolean(), ifAbsent: fc.boolean() });
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 0, maxLength: 6000, size: 'max' }), fc.array(keyArb, { maxLength: 20 }), (ops, probes) => {
      const m = new Memtable();
      const model = new Map<string, MemValue>();
      ops.forEach((op, i) => {
        const v: MemValue = op.tomb ? null : { sizeBytes: 0, chunks: [{ extent: i, offset: 0, length: 36 }] };
        if (op.ifAbsent) {
          const inserted = m.putIfAbsent(op.key, v, i);
          assert.equal(inserted, !model.has(hex(op.key)));
          if (inserted) model.set(hex(op.key), v);
        } else {
          m.put(op.key, v, i);
          model.set(hex(op.key), v);
        }
      });
      assert.equal(m.entries, model.size);
      let bytes = 0;
      for (const [k, v] of model) bytes += entryBytes(k.length / 2, encodedValueBytes(v));
      assert.equal(m.approxBytes, bytes);
      assert.equal(m.maxSeq, ops.length - 1);
      const sorted = [...model.keys()].map((k) => Buffer.from(k, 'hex')).sort((a, b) => Buffer.compare(a, b));
      for (const p of [...probes, ...sorted.slice(0, 50)]) {
        assert.deepStrictEqual(m.get(p), model.get(hex(p)));
        const want = sorted.filter((k) => Buffer.compare(k, p) >= 0).slice(0, 30).map(hex);
        const got: string[] = [];
        for (const c = m.cursor(p); c.key !== undefined && got.length < 30; c.step()) got.push(hex(c.key));
        assert.deepStrictEqual(got, want);
      }
      const all: string[] = [];
      for (const c = m.cursor(undefined); c.key !== undefined; c.step()) all.push(hex(c.key));
      assert.deepStrictEqual(all, sorted.map(hex));
      // copyAll (a snapshot's copy) is that same walk, values and tombstones included.
      const copied = m.copyAll();
      assert.deepStrictEqual(
        copied.skeys.map((k) => hex(Buffer.from(k, 'latin1'))),
        sorted.map(hex),
      );
      assert.deepStrictEqual(
        copied.values,
        sorted.map((k) => model.get(hex(k))),
      );
    }),
    { seed: 42, numRuns: 60 },
  );
});

// Checks: a cursor refuses to step after the memtable changed (its leaf may
// have split). How: put after making a cursor, then step.
test('memtable cursor asserts the memtable did not change', () => {
  const m = new Memtable();
  m.put(Buffer.from('a'), null, 1);
  const c = m.cursor(undefined);
  m.put(Buffer.from('b'), null, 2);
  assert.throws(() => c.step(), /changed under a cursor/);
});

// Checks: the bloom filter never says no for an added key, and says yes for
// about 1% of absent keys at 10 bits per key. How: 20,000 keys in, 20,000 out.
test('bloom filter: no false negatives, about 1% false positives', () => {
  const n = 20_000;
  const hashes = new Uint32Array(n);
  for (let i = 0; i < n; i++) hashes[i] = keyHash(Buffer.from(`present-${i}`));
  const { k, bits } = buildBloom(hashes, n, 10);
  for (let i = 0; i < n; i++) assert.ok(bloomMayContain(bits, k, keyHash(Buffer.from(`present-${i}`))));
  let falsePositives = 0;
  for (let i = 0; i < n; i++) if (bloomMayContain(bits, k, keyHash(Buffer.from(`absent-${i}`)))) falsePositives++;
  assert.ok(falsePositives / n < 0.02, `false positive rate ${falsePositives / n}`);
});

// Checks: the key hash is murmur3 x86_32 with seed 0x9747b28c (on-disk:
// stored filters depend on it). How: the published test vectors for that
// seed, and values of this implementation for short tails.
test('bloom key hash is stable', () => {
  const vectors: Array<[string, number]> = [
    ['The quick brown fox jumps over the lazy dog', 0x2fa826cd],
    ['Hello, world!', 0x24884cba],
    ['', 0xebb6c228],
    ['a', 0x7fa09ea6],
    ['abc', 0xc84a62dd],
    ['abcd', 0xf0478627],
  ];
  for (const [s, h] of vectors) assert.equal(keyHash(Buffer.from(s)), h, s);
});
