// A bounded LRU cache of verified chunk payloads, keyed by where the chunk
// lives. It sits in front of the disk for reads; an extent reset must drop
// every entry of that extent (the paper's "cache not drained after reset"
// bug), which `invalidateExtent` does and ChunkStore wires to resets.
//
// Invariants:
// 1. Cached bytes never exceed capacityBytes.
// 2. After invalidateExtent(e) returns, no lookup in extent e hits until a
//    new insert.
import { assert } from '../base/index.js';
import type { Locator } from './chunk_format.js';

export interface BufferCacheStats {
  hits: number;
  misses: number;
  evictions: number;
  bytes: number;
  entries: number;
}

export class BufferCache {
  private readonly entries = new Map<number, Buffer>();
  private readonly byExtent = new Map<number, Set<number>>();
  private bytes = 0;
  readonly counters = { hits: 0, misses: 0, evictions: 0 };

  constructor(
    readonly capacityBytes: number,
    private readonly extentSizeBytes: number,
  ) {
    assert(capacityBytes >= 0, 'cache capacity must be >= 0');
  }

  get(loc: Locator): Buffer | undefined {
    const key = this.key(loc);
    const hit = this.entries.get(key);
    if (hit === undefined || hit.length > loc.length) {
      this.counters.misses++;
      return undefined;
    }
    // Refresh recency: Map iteration order is insertion order.
    this.entries.delete(key);
    this.entries.set(key, hit);
    this.counters.hits++;
    return hit;
  }

  /** Keep `payload` for `loc`; entries larger than 1/4 of the cache are not kept. */
  insert(loc: Locator, payload: Buffer): void {
    if (payload.length * 4 > this.capacityBytes) return;
    const key = this.key(loc);
    this.remove(key, loc.extent);
    this.entries.set(key, payload);
    this.bytes += payload.length;
    let set = this.byExtent.get(loc.extent);
    if (set === undefined) this.byExtent.set(loc.extent, (set = new Set()));
    set.add(key);
    while (this.bytes > this.capacityBytes) this.evictOldest();
  }

  invalidateExtent(extent: number): void {
    const set = this.byExtent.get(extent);
    if (set === undefined) return;
    for (const key of set) {
      const buf = this.entries.get(key);
      if (buf !== undefined) this.bytes -= buf.length;
      this.entries.delete(key);
    }
    this.byExtent.delete(extent);
  }

  stats(): BufferCacheStats {
    return { ...this.counters, bytes: this.bytes, entries: this.entries.size };
  }

  private key(loc: Locator): number {
    return loc.extent * this.extentSizeBytes + loc.offset;
  }

  private remove(key: number, extent: number): void {
    const old = this.entries.get(key);
    if (old === undefined) return;
    this.bytes -= old.length;
    this.entries.delete(key);
    this.byExtent.get(extent)?.delete(key);
  }

  private evictOldest(): void {
    const first = this.entries.keys().next();
    if (first.done === true) return;
    const key = first.value;
    this.remove(key, Math.floor(key / this.extentSizeBytes));
    this.counters.evictions++;
  }
}
