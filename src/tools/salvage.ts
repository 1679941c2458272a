// Salvage (`shardstore repair`): make a store whose metadata is damaged
// beyond its two copies open again, keeping everything that can be read, and
// say what could not.
//
// Strategy, per disk:
// 1. Recover as open does, but skip log records lost in both copies
//    (recoverDiskStore with salvage) instead of refusing. The commits of a
//    skipped record are lost: its puts and deletes, and the extent changes
//    it carried. Later records are applied.
// 2. Reattach: every chunk the index still names (data chunks of values,
//    chunks of runs) must lie in an extent of the right owner below its
//    write pointer. An extent a lost record had allocated may read as free,
//    and a write pointer it had advanced may be short: restore them, so no
//    later allocation overwrites reachable data. A chunk in an extent that
//    now belongs to another owner cannot be reattached: its key is damaged.
// 3. Verify every chunk (the scrub pass) and list the damaged keys.
// 4. Checkpoint (a log roll): from now on the store opens normally.
//
// What it cannot tell: the keys a lost record changed. A lost record held
// one group-commit cycle; the values those keys had before it (or their
// absence) are what the store now holds. The report says how many records
// were lost, so the operator knows a cycle's worth of changes is gone.
import type { Disk } from '../disk/index.js';
import { recoverDiskStore } from '../store/index.js';
import type { DamagedIndexChunk, DamagedShard, OpenOptions } from '../store/index.js';
import { RateLimiter, emptyScrubCounters, reattachIndexedExtents, scrubDiskStore } from '../store/index.js';

export interface SalvageReport {
  /** Metadata log records lost in both copies: their commits are gone. */
  readonly lostRecords: readonly number[];
  /** Extents whose owner or write pointer was restored so that reachable chunks stay reachable. */
  readonly reattached: readonly string[];
  /** Keys whose value cannot be read (a chunk damaged or in an extent that is no longer theirs). */
  readonly damaged: readonly DamagedShard[];
  readonly indexDamage: readonly DamagedIndexChunk[];
  readonly shardsVerified: number;
  /** What open would have repaired anyway (copies restored). */
  readonly repaired: readonly string[];
}

/** Salvage one disk's store in place; the store is closed on return. */
export async function salvageDiskStore(disk: Disk, diskIndex: number, options: OpenOptions = {}): Promise<SalvageReport> {
  let recovered;
  try {
    recovered = await recoverDiskStore(disk, { ...options, background: false }, { salvage: true });
  } catch (err: unknown) {
    await disk.close();
    throw err;
  }
  const { store, lostRecords } = recovered;
  try {
    const reattached = await reattachIndexedExtents(store);
    const counters = emptyScrubCounters();
    const damaged: DamagedShard[] = [];
    const indexDamage: DamagedIndexChunk[] = [];
    await scrubDiskStore(store, { disk: diskIndex, limiter: new RateLimiter(0), counters, damaged, indexDamage });
    // A fresh checkpoint and log: the lost records are behind us for good,
    // and so is any copy recovery had to read from its twin.
    await store.checkpoint();
    const r = store.view.recovery;
    const repaired = [...r.repaired];
    if (r.log.copyDamage.length > 0 || r.checkpointCopyDamaged || lostRecords.length > 0) repaired.push('wrote a fresh checkpoint and metadata log');
    return { lostRecords, reattached, damaged, indexDamage, shardsVerified: counters.shardsVerified, repaired };
  } finally {
    await store.close();
  }
}

