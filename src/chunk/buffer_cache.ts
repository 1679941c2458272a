// A bounded LRU cache of verified chunk payloads, keyed by where the chunk
// lives. It sits in front of the disk for reads; an extent reset must drop
// every entry of that extent (the paper's "cache not drained after reset"
// bug), which `invalidateExtent` does and ChunkStore wires to resets.
//
// Recency is a list threaded through the entries (newest to oldest), not
// the Map's insertion order: refreshing an entry by deleting it from the
// Map and setting it again leaves a deleted slot in its hash chain each
// time, so a key hit over and over (an S3 bucket's record, read three
// times per request) made its own lookups walk hundreds of them, and the
// oldest entry, found by iterating the Map, sat behind every slot evicted
// since the last rehash. Measured on node 20 with the cache itself, 2
// million lookups (docs/BENCHMARKS.md, 2026-12-07 (night)): 200 hot keys
// in a full cache of 60,000 / 100,000 entries, 1.9 / 5.9 us per hit
// before, 0.05 / 0.06 us with the list; 100,000 keys at random through
// 60,000 entries (40% misses, each an insert and an eviction), 4.2 us per
// lookup before, 0.56 us with the list. `peek` was the top self-time
// function of an S3 PUT server profile, 5.9%.
//
// Invariants:
// 1. Cached bytes never exceed capacityBytes; a cache of capacity 0 keeps
//    nothing.
// 2. After invalidateExtent(e) returns, no lookup in extent e hits until a
//    new insert.
// 3. A lookup hits only for the kind and framed length the payload was
//    inserted with: a locator that disagrees goes to the disk, whose
//    verification refuses it (a hit must not skip the read's checks).
// 4. The list of large first reads (admit) holds at most maxFirstReads
//    numbers. It is a hint, never bytes: a stale entry (its extent reset
//    since) only admits a verified payload one read early.
import { assert } from '../base/index.js';
import { CHUNK_OVERHEAD_BYTES } from './chunk_format.js';
import type { ChunkKind, Locator } from './chunk_format.js';

export interface BufferCacheStats {
  hits: number;
  misses: number;
  evictions: number;
  bytes: number;
  entries: number;
}

/**
 * A payload of at least this many bytes that its reader keeps (a get that
 * hands its caller the bytes read: ChunkStore.readHandOver) enters the
 * cache on its second read, not its first. Keeping it on the first would
 * cost that reader a copy of the payload into fresh memory (the cache keeps
 * the buffer read), and a value read once (a cold get, a scan of big
 * values) would push smaller, hotter entries out. Fresh memory is the cost
 * that counts: a cold 1 MiB get that the cache kept touched about 280
 * fresh pages and took 3.5 ms of main-thread CPU, garbage collection
 * included, against 90 pages and 1.7 ms handed over (docs/BENCHMARKS.md,
 * 2026-12-06, "cold 1 MiB gets at the disk's speed"). Below it, a copy is
 * cheap and a hit saves a read.
 */
export const SECOND_READ_ADMISSION_BYTES = 256 * 1024;

interface Entry {
  readonly key: number;
  readonly kind: ChunkKind;
  readonly payload: Buffer;
  /** The next entry toward the least recently used end, and toward the most. */
  older: Entry | undefined;
  newer: Entry | undefined;
}

export class BufferCache {
  private readonly entries = new Map<number, Entry>();
  /** Ends of the recency list: a hit moves its entry to `newest`, eviction takes `oldest`. */
  private newest: Entry | undefined;
  private oldest: Entry | undefined;
  private bytes = 0;
  /** Where large payloads were read once and not kept (admit), oldest first. */
  private readonly firstReads = new Set<number>();
  /** Bound of firstReads: as many large payloads as the cache could hold. */
  private readonly maxFirstReads: number;
  readonly counters = { hits: 0, misses: 0, evictions: 0 };

  constructor(
    readonly capacityBytes: number,
    private readonly extentSizeBytes: number,
  ) {
    assert(capacityBytes >= 0, 'cache capacity must be >= 0');
    this.maxFirstReads = Math.floor(capacityBytes / SECOND_READ_ADMISSION_BYTES);
  }

  get(loc: Locator, kind: ChunkKind): Buffer | undefined {
    const hit = this.peek(loc, kind);
    if (hit === undefined) this.counters.misses++;
    return hit;
  }

  /** get() that counts a hit but not a miss: a caller that will read on a miss counts it then. */
  peek(loc: Locator, kind: ChunkKind): Buffer | undefined {
    const key = this.key(loc);
    const hit = this.entries.get(key);
    if (hit === undefined || hit.kind !== kind || CHUNK_OVERHEAD_BYTES + hit.payload.length !== loc.length) return undefined;
    if (hit !== this.newest) {
      this.unlink(hit);
      this.linkNewest(hit);
    }
    this.counters.hits++;
    return hit.payload;
  }

  /**
   * Keep the verified `payload` of the chunk at `loc`; entries larger than
   * 1/4 of the cache are not kept. Returns whether it was kept.
   */
  insert(loc: Locator, kind: ChunkKind, payload: Buffer): boolean {
    if (this.capacityBytes === 0 || payload.length * 4 > this.capacityBytes) return false;
    const key = this.key(loc);
    this.remove(key);
    this.firstReads.delete(key);
    const entry: Entry = { key, kind, payload, older: undefined, newer: undefined };
    this.entries.set(key, entry);
    this.linkNewest(entry);
    this.bytes += payload.length;
    while (this.bytes > this.capacityBytes) this.evictOldest();
    return true;
  }

  /**
   * Whether a payload of `payloadBytes` just read at `loc`, for a reader
   * that keeps it, should enter the cache: below
   * SECOND_READ_ADMISSION_BYTES always; at or above it only on its second
   * read among the last maxFirstReads large first reads (this call
   * remembers the first).
   */
  admit(loc: Locator, payloadBytes: number): boolean {
    if (payloadBytes < SECOND_READ_ADMISSION_BYTES) return true;
    const key = this.key(loc);
    if (this.firstReads.delete(key)) return true;
    if (this.maxFirstReads === 0) return false;
    if (this.firstReads.size >= this.maxFirstReads) {
      const oldest = this.firstReads.values().next();
      if (oldest.done !== true) this.firstReads.delete(oldest.value);
    }
    this.firstReads.add(key);
    return false;
  }

  /**
   * One pass over every entry: resets are rare (reclamation, one per
   * extent it frees), puts are not, and a per-extent index of keys cost
   * each put a Set insertion that lived as long as its entry (garbage
   * collection of the cache's entries is a measured share of a put's CPU,
   * docs/BENCHMARKS.md 2026-12-06). About 1 ms for 65,536 entries.
   */
  invalidateExtent(extent: number): void {
    const first = extent * this.extentSizeBytes;
    const end = first + this.extentSizeBytes;
    for (const [key, entry] of this.entries) {
      if (key < first || key >= end) continue;
      this.bytes -= entry.payload.length;
      this.unlink(entry);
      this.entries.delete(key);
    }
  }

  /** Every cached payload with where it claims to live (coherence checks). */
  *cached(): Generator<{ extent: number; offset: number; kind: ChunkKind; payload: Buffer }> {
    for (const [key, { kind, payload }] of this.entries) {
      yield { extent: Math.floor(key / this.extentSizeBytes), offset: key % this.extentSizeBytes, kind, payload };
    }
  }

  stats(): BufferCacheStats {
    return { ...this.counters, bytes: this.bytes, entries: this.entries.size };
  }

  private key(loc: Locator): number {
    return loc.extent * this.extentSizeBytes + loc.offset;
  }

  private remove(key: number): void {
    const old = this.entries.get(key);
    if (old === undefined) return;
    this.bytes -= old.payload.length;
    this.unlink(old);
    this.entries.delete(key);
  }

  private evictOldest(): void {
    const oldest = this.oldest;
    if (oldest === undefined) return;
    this.remove(oldest.key);
    this.counters.evictions++;
  }

  private linkNewest(e: Entry): void {
    e.older = this.newest;
    e.newer = undefined;
    if (this.newest !== undefined) this.newest.newer = e;
    this.newest = e;
    this.oldest ??= e;
  }

  private unlink(e: Entry): void {
    if (e.newer !== undefined) e.newer.older = e.older;
    else this.newest = e.older;
    if (e.older !== undefined) e.older.newer = e.newer;
    else this.oldest = e.newer;
    e.older = undefined;
    e.newer = undefined;
  }
}
