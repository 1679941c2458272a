// tier: quick (npm run test:quick; docs/TESTING.md)
// BufferCache.invalidateExtent without a per-extent index of keys: one pass
// over the entries, dropping exactly those whose key falls in the extent.
//
// Strategy: entries at both ends of three neighbouring extents (offset 0
// and the last aligned offset, where a key of one extent is next to a key
// of the next), then random inserts, hits and invalidations against a
// model (a map of what each extent holds), with fixed seeds.
// Invariants (buffer_cache.ts 1-2): after invalidateExtent(e) no lookup in
// e hits, every entry of another extent still hits, and the byte count
// equals the model's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { BufferCache, SECOND_READ_ADMISSION_BYTES } from './buffer_cache.js';
import { CHUNK_OVERHEAD_BYTES, ChunkKind } from './chunk_format.js';
import type { Locator } from './chunk_format.js';

const EXTENT_BYTES = 64 * 1024;

function loc(extent: number, offset: number, payloadBytes: number): Locator {
  return { extent, offset, length: CHUNK_OVERHEAD_BYTES + payloadBytes };
}

void test('invalidateExtent drops its extent to the last byte and nothing of its neighbours', () => {
  // Checks the boundaries: an entry at offset 0 of the next extent has the
  // key first + EXTENT_BYTES, one past the invalidated range (a `<=` there
  // would drop it), and one at the last offset of the previous extent is
  // one below it.
  const cache = new BufferCache(1024 * 1024, EXTENT_BYTES);
  const ends = [0, EXTENT_BYTES - 8];
  for (let e = 0; e < 3; e++) for (const o of ends) cache.insert(loc(e, o, 16), ChunkKind.Data, Buffer.alloc(16, e + 1));
  cache.invalidateExtent(1);
  for (const o of ends) {
    assert.equal(cache.peek(loc(1, o, 16), ChunkKind.Data), undefined, `extent 1 offset ${o} still cached`);
    assert.deepEqual(cache.peek(loc(0, o, 16), ChunkKind.Data), Buffer.alloc(16, 1), `extent 0 offset ${o} lost`);
    assert.deepEqual(cache.peek(loc(2, o, 16), ChunkKind.Data), Buffer.alloc(16, 3), `extent 2 offset ${o} lost`);
  }
  assert.equal(cache.stats().bytes, 4 * 16);
  assert.equal(cache.stats().entries, 4);
});

void test('random inserts and invalidations agree with a model of what each extent holds', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: EXTENT_BYTES / 8 - 1 })), { maxLength: 60 }),
      (steps) => {
        const cache = new BufferCache(1024 * 1024, EXTENT_BYTES);
        const model = new Map<string, number>();
        for (const [insert, extent, slot] of steps) {
          if (insert) {
            cache.insert(loc(extent, slot * 8, 8), ChunkKind.Data, Buffer.alloc(8, extent));
            model.set(`${extent}:${slot * 8}`, extent);
          } else {
            cache.invalidateExtent(extent);
            for (const k of [...model.keys()]) if (model.get(k) === extent) model.delete(k);
          }
        }
        let bytes = 0;
        for (const [k, extent] of model) {
          const offset = Number(k.split(':')[1]);
          assert.ok(cache.peek(loc(extent, offset, 8), ChunkKind.Data) !== undefined, `${k} lost`);
          bytes += 8;
        }
        assert.equal(cache.stats().entries, model.size);
        assert.equal(cache.stats().bytes, bytes);
      },
    ),
    { seed: 14, numRuns: 300 },
  );
});

/**
 * Runs random inserts (a cache of 8 payloads, so most insert evicts), hits
 * and invalidations against a model that keeps keys from most to least
 * recently used, and returns the first disagreement about which keys are
 * cached, or undefined. `make` builds the cache (the broken variant below).
 */
function lruDisagreement(make: () => BufferCache, seed: number): string | undefined {
  const PAYLOAD = 8;
  let found: string | undefined;
  const property = fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 11 }), fc.integer({ min: 0, max: 1 })), { minLength: 20, maxLength: 80 }), (steps) => {
      const cache = make();
      let model: string[] = []; // newest first
      const at = (slot: number, extent: number): Locator => loc(extent, slot * PAYLOAD, PAYLOAD);
      for (const [op, slot, extent] of steps) {
        const k = `${extent}:${slot}`;
        if (op < 5) {
          cache.insert(at(slot, extent), ChunkKind.Data, Buffer.alloc(PAYLOAD, slot));
          model = [k, ...model.filter((m) => m !== k)].slice(0, 8);
        } else if (op < 9) {
          const hit = cache.peek(at(slot, extent), ChunkKind.Data) !== undefined;
          if (hit !== model.includes(k)) {
            found = `step ${op}/${slot}/${extent}: peek ${k} ${hit ? 'hit' : 'missed'}, the model ${model.includes(k) ? 'holds' : 'does not hold'} it`;
            return false;
          }
          if (hit) model = [k, ...model.filter((m) => m !== k)];
        } else {
          cache.invalidateExtent(extent);
          model = model.filter((m) => !m.startsWith(`${extent}:`));
        }
      }
      const held = [...cache.cached()].map((c) => `${c.extent}:${c.offset / PAYLOAD}`).sort();
      if (held.join(',') !== [...model].sort().join(',')) {
        found = `cached ${held.join(',')}, the model ${[...model].sort().join(',')}`;
        return false;
      }
      if (cache.stats().bytes !== model.length * PAYLOAD) {
        found = `${cache.stats().bytes} bytes cached, the model ${model.length * PAYLOAD}`;
        return false;
      }
      return true;
    });
  // fast-check shrinks a failure; `found` holds the last (smallest) one it saw.
  return fc.check(property, { seed, numRuns: 300 }).failed ? (found ?? 'failed') : undefined;
}

void test('eviction takes the least recently used entry: inserts, hits and invalidations against a model of recency', () => {
  // Checks the recency list (buffer_cache.ts header): a hit protects its
  // entry from the next evictions, an insert over a key refreshes it, an
  // invalidation unlinks what it drops. The broken variant (hits do not
  // refresh recency: a FIFO cache) is caught by a hit on an entry the
  // model still holds and the cache evicted.
  const capacity = 8 * 8;
  assert.equal(lruDisagreement(() => new BufferCache(capacity, EXTENT_BYTES), 21), undefined);
  class FifoCache extends BufferCache {
    override peek(l: Locator, kind: ChunkKind): Buffer | undefined {
      const own = this as unknown as { entries: Map<number, { kind: ChunkKind; payload: Buffer }>; counters: { hits: number } };
      const hit = own.entries.get(l.extent * EXTENT_BYTES + l.offset);
      if (hit === undefined || hit.kind !== kind || CHUNK_OVERHEAD_BYTES + hit.payload.length !== l.length) return undefined;
      own.counters.hits++;
      return hit.payload;
    }
  }
  const broken = lruDisagreement(() => new FifoCache(capacity, EXTENT_BYTES), 21);
  assert.match(broken ?? 'not caught', /peek \d+:\d+ missed, the model holds it|cached .*, the model/, 'the FIFO variant was not caught');
});

void test('admit: a small payload at once, a large one on its second read among the last large first reads', () => {
  // Checks BufferCache.admit (invariant 4): below SECOND_READ_ADMISSION_BYTES
  // every read is admitted; at or above it the first read is not and the
  // second is; the list of first reads keeps only the newest
  // capacity / SECOND_READ_ADMISSION_BYTES, so a first read pushed out by
  // that many others counts as a first read again; an insert forgets the
  // first read; a cache of capacity 0 admits no large payload.
  const large = SECOND_READ_ADMISSION_BYTES;
  const cache = new BufferCache(4 * large, EXTENT_BYTES * 64);
  assert.equal(cache.admit(loc(0, 0, 100), 100), true);
  assert.equal(cache.admit(loc(0, 0, large - 1), large - 1), true, 'one byte below the bound');
  assert.equal(cache.admit(loc(1, 0, large), large), false, 'first read of a large payload');
  assert.equal(cache.admit(loc(1, 0, large), large), true, 'its second read');
  assert.equal(cache.admit(loc(1, 0, large), large), false, 'admitted once: remembered again from its next read');
  // Four first reads fit (capacity / bound); a fifth pushes out the oldest.
  for (let e = 2; e <= 6; e++) assert.equal(cache.admit(loc(e, 0, large), large), false);
  assert.equal(cache.admit(loc(2, 0, large), large), false, 'pushed out: a first read again');
  assert.equal(cache.admit(loc(6, 0, large), large), true, 'the newest is still remembered');
  assert.equal(cache.admit(loc(5, 0, large), large), true);
  cache.admit(loc(7, 0, large), large);
  assert.equal(cache.insert(loc(7, 0, 8), ChunkKind.Data, Buffer.alloc(8)), true);
  cache.invalidateExtent(7);
  assert.equal(cache.admit(loc(7, 0, large), large), false, 'an insert forgets the first read');
  const none = new BufferCache(0, EXTENT_BYTES);
  assert.equal(none.admit(loc(0, 0, large), large), false);
  assert.equal(none.admit(loc(0, 0, large), large), false, 'no list of first reads without room');
});
