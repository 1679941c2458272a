// A bounded LRU cache of verified chunk payloads, keyed by where the chunk
// lives. It sits in front of the disk for reads; an extent reset must drop
// every entry of that extent (the paper's "cache not drained after reset"
// bug), which `invalidateExtent` does and ChunkStore wires to resets.
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
  readonly kind: ChunkKind;
  readonly payload: Buffer;
}

export class BufferCache {
  private readonly entries = new Map<number, Entry>();
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
    // Refresh recency: Map iteration order is insertion order.
    this.entries.delete(key);
    this.entries.set(key, hit);
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
    this.entries.set(key, { kind, payload });
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
    this.entries.delete(key);
  }

  private evictOldest(): void {
    const first = this.entries.keys().next();
    if (first.done === true) return;
    this.remove(first.value);
    this.counters.evictions++;
  }
}
