// Tuning of one disk's store. Defaults suit a real disk; tests shrink them
// so that extent boundaries, chunk splits and cache misses are hit.
import { assert } from '../base/index.js';

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
  /** Runs merged by one compaction. */
  readonly compactionFanIn?: number;
}

export const DEFAULT_MAX_CHUNK_DATA_BYTES = 1024 * 1024;

export function resolveStoreOptions(o: StoreOptions, extentSizeBytes: number): Required<StoreOptions> {
  const resolved = {
    maxChunkDataBytes: o.maxChunkDataBytes ?? Math.min(DEFAULT_MAX_CHUNK_DATA_BYTES, Math.floor(extentSizeBytes / 4)),
    cacheBytes: o.cacheBytes ?? 64 * 1024 * 1024,
    memtableFlushBytes: o.memtableFlushBytes ?? 32 * 1024 * 1024,
    streamWindowChunks: o.streamWindowChunks ?? 8,
    reserveExtents: o.reserveExtents ?? 3,
    compactionFanIn: o.compactionFanIn ?? 8,
  };
  assert(resolved.maxChunkDataBytes >= 1, 'maxChunkDataBytes must be >= 1');
  assert(resolved.streamWindowChunks >= 1, 'streamWindowChunks must be >= 1');
  assert(resolved.reserveExtents >= 2, 'reserveExtents must be >= 2 (log roll and index flush)');
  assert(resolved.compactionFanIn >= 2, 'compactionFanIn must be >= 2');
  return resolved;
}
