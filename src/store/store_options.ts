// Tuning of one disk's store. Defaults suit a real disk; tests shrink them
// so that extent boundaries, chunk splits and cache misses are hit.
import { assert, systemClock } from '../base/index.js';
import type { Clock } from '../base/index.js';
import { putsRefusedAtFreeExtents } from '../extent/index.js';

/** Index entries the live-byte rebuild visits between two pauses (live_rebuild.ts). */
export const DEFAULT_LIVE_REBUILD_PAGE_ENTRIES = 8192;

/**
 * Buffer cache per disk: verified chunk payloads, so a hot get neither goes
 * to the file system (a thread-pool round trip) nor re-checks a CRC. 256
 * MiB: a warm set of 4 KiB shards that fits it is served at twice the rate
 * of one that misses 5% of the time (measured with 16,384 x 4 KiB).
 */
export const DEFAULT_CACHE_BYTES = 256 * 1024 * 1024;

export interface StoreOptions {
  /** Largest value bytes in one data chunk (a value is split into such chunks). */
  readonly maxChunkDataBytes?: number;
  /** Buffer cache capacity. */
  readonly cacheBytes?: number;
  /** Write the memtable out as a run once it holds this many bytes. */
  readonly memtableFlushBytes?: number;
  /** Chunks of one streaming put that may be queued and not yet durable. */
  readonly streamWindowChunks?: number;
  /** Free extents kept back for the log, index flushes and reclamation. */
  readonly reserveExtents?: number;
  /**
   * Free extents kept prepared on the host (zeros written and flushed)
   * ahead of the data allocator, beyond the reserve, so puts on a sparse
   * data file overwrite allocated blocks (host_space.ts). 0: none; 'all':
   * every free extent, in the background while the store is idle, until
   * the host's headroom (host_space.ts, "Everything ahead"). Serve passes
   * DEFAULT_PREPARE_AHEAD_EXTENTS; a data file allocated whole ignores it.
   */
  readonly prepareAheadExtents?: PrepareAhead;
  /** Runs merged by one compaction. */
  readonly compactionFanIn?: number;
  /** Roll the metadata log to a new extent (with a checkpoint) past this many bytes (default: the extent size). */
  readonly maxLogBytes?: number;
  /** Run compaction and reclamation in the background (tests drive them by hand instead). */
  readonly background?: boolean;
  /** Reclaim while fewer extents than this are free (default: 1/8 of the extents, at least reserve + 2). */
  readonly reclaimBelowFreeExtents?: number;
  /** Only extents at most this live (0..1) are evacuated by background reclamation. */
  readonly reclaimMaxLiveRatio?: number;
  /** Pause between two extents reclaimed in the background. */
  readonly reclaimPauseMs?: number;
  /** Errors of background work (the store stays usable). */
  readonly onBackgroundError?: (err: unknown) => void;
  /** Time for background pauses and the confirmation timer (the simulation passes its own). */
  readonly clock?: Clock;
  /**
   * After a commit cycle whose record named data, if no other cycle
   * follows within this many milliseconds (of `clock`), an empty cycle
   * confirms it (one extra flush, only when the store is idle; under load
   * the next cycle confirms for free): commit_log.ts, "Confirmation".
   * Infinity: never (tests that drive the store step by step and count its
   * flushes). Default 10.
   */
  readonly confirmIdleMs?: number;
  /** Index entries the live-byte rebuild after open walks between two pauses (tests shrink it). */
  readonly liveRebuildPageEntries?: number;
  /**
   * Open for looking only (the offline tools): recovery runs in memory
   * (no repair of damaged copies), nothing is ever written (no record at
   * close, no background work, the IO scheduler refuses writes), and every
   * mutation throws ReadOnlyError.
   */
  readonly readOnly?: boolean;
}

export const DEFAULT_MAX_CHUNK_DATA_BYTES = 1024 * 1024;

/**
 * Idle time before a confirmation cycle (store option confirmIdleMs). Short
 * against the confirmation window it bounds, long against the gap between
 * two cycles of a client that waits for each put (well under a millisecond
 * on the bench's disk), so a busy store never pays for it.
 */
export const DEFAULT_CONFIRM_IDLE_MS = 10;

/** Free extents prepared ahead of puts: a count, or every free extent ('all'). */
export type PrepareAhead = number | 'all';

/**
 * serve's --prepare-ahead: every free extent, the first few before a new
 * store starts and the rest in the background while it is idle
 * (host_space.ts, "Everything ahead"; it was 4 extents until 2026-12-07:
 * a burst of large puts past 256 MiB then ran at the sparse file's speed,
 * docs/BENCHMARKS.md "Every extent prepared ahead"). The library's default
 * is 0, so tests and tools write no zeros they did not ask for.
 */
export const DEFAULT_PREPARE_AHEAD_EXTENTS: PrepareAhead = 'all';

export function resolveStoreOptions(o: StoreOptions, extentSizeBytes: number, extentCount = 0): Required<StoreOptions> {
  const reserveExtents = o.reserveExtents ?? 5;
  const resolved = {
    maxChunkDataBytes: o.maxChunkDataBytes ?? Math.min(DEFAULT_MAX_CHUNK_DATA_BYTES, Math.floor(extentSizeBytes / 4)),
    cacheBytes: o.cacheBytes ?? DEFAULT_CACHE_BYTES,
    memtableFlushBytes: o.memtableFlushBytes ?? 8 * 1024 * 1024,
    streamWindowChunks: o.streamWindowChunks ?? 8,
    reserveExtents,
    prepareAheadExtents: o.prepareAheadExtents ?? 0,
    compactionFanIn: o.compactionFanIn ?? 8,
    maxLogBytes: o.maxLogBytes ?? Math.min(extentSizeBytes, 16 * 1024 * 1024),
    // A read-only store runs no compaction or reclamation: both write.
    background: o.readOnly !== true && (o.background ?? true),
    // Above the level where puts are refused (two extents of room): below
    // it, a small disk (64 extents: 1/8 is 8) refused puts with 9 extents
    // free and never reclaimed, its dead data waiting (testing/churn_space.test.ts).
    reclaimBelowFreeExtents: o.reclaimBelowFreeExtents ?? Math.max(putsRefusedAtFreeExtents(reserveExtents) + 2, Math.floor(extentCount / 8)),
    reclaimMaxLiveRatio: o.reclaimMaxLiveRatio ?? 0.8,
    reclaimPauseMs: o.reclaimPauseMs ?? 10,
    onBackgroundError: o.onBackgroundError ?? ((err: unknown): void => console.error('shardstore background work failed:', err)),
    clock: o.clock ?? systemClock,
    confirmIdleMs: o.confirmIdleMs ?? DEFAULT_CONFIRM_IDLE_MS,
    liveRebuildPageEntries: o.liveRebuildPageEntries ?? DEFAULT_LIVE_REBUILD_PAGE_ENTRIES,
    readOnly: o.readOnly ?? false,
  };
  assert(resolved.maxChunkDataBytes >= 1, 'maxChunkDataBytes must be >= 1');
  assert(resolved.streamWindowChunks >= 1, 'streamWindowChunks must be >= 1');
  // Below the foreground reserve: reclamation down to 4, index work (two
  // streams) to 2, a log roll takes the last 2 (extent_manager.ts, RESERVE_FLOOR).
  assert(resolved.reserveExtents >= 5, 'reserveExtents must be >= 5 (a log roll takes 2, the two index streams 2, reclamation 1)');
  const ahead = resolved.prepareAheadExtents;
  assert(ahead === 'all' || (Number.isSafeInteger(ahead) && ahead >= 0), "prepareAheadExtents must be an integer >= 0 or 'all'");
  assert(resolved.compactionFanIn >= 2, 'compactionFanIn must be >= 2');
  assert(resolved.confirmIdleMs >= 0, 'confirmIdleMs must be >= 0 (Infinity: never)');
  assert(Number.isInteger(resolved.liveRebuildPageEntries) && resolved.liveRebuildPageEntries >= 1, 'liveRebuildPageEntries must be an integer >= 1');
  return resolved;
}
