// What a fleet wants to know about one disk: capacity, used, live and
// reclaimable bytes, extents by owner, shard count.
//
// The shard count is kept incrementally at no extra IO: the commit path
// already tells live-byte accounting, for every committed mutation, the
// value it replaces and the new one (both null for "no value"), and open
// rebuilds it with one walk of the index. CountingLiveBytes counts values
// coming and going there. The rest is read off the extent table and the
// live-byte map in memory: stats() does no IO.
import { ExtentOwner } from '../extent/index.js';
import type { IndexValue } from '../index/index.js';
import { LiveBytes } from '../reclaim/index.js';
import type { DiskStats } from './admin_types.js';
import type { DiskStore } from './disk_store.js';

/** Live-byte accounting that also counts committed values (shards). */
export class CountingLiveBytes extends LiveBytes {
  private shards = 0;

  override add(value: IndexValue | null | undefined, sign: 1 | -1 = 1): void {
    if (value !== null && value !== undefined) this.shards += sign;
    super.add(value, sign);
  }

  override clear(): void {
    this.shards = 0;
    super.clear();
  }

  get shardCount(): number {
    return this.shards;
  }
}

export function diskStats(store: DiskStore, disk: number, path: string | undefined): DiskStats {
  const e = store.parts.extents;
  const g = store.parts.label.geometry;
  const count = (o: ExtentOwner): number => e.extentsOwnedBy(o).length;
  let usedBytes = 0;
  for (const o of [ExtentOwner.Data, ExtentOwner.Index, ExtentOwner.Meta]) for (const x of e.extentsOwnedBy(o)) usedBytes += e.writePointer(x);
  let liveDataBytes = 0;
  let reclaimableBytes = 0;
  for (const x of e.extentsOwnedBy(ExtentOwner.Data)) {
    const live = store.live.of(x);
    liveDataBytes += live;
    reclaimableBytes += Math.max(0, e.writePointer(x) - live);
  }
  let liveIndexBytes = 0;
  for (const bytes of store.parts.index.liveIndexBytesByExtent().values()) liveIndexBytes += bytes;
  const extents = { free: e.countFree(), data: count(ExtentOwner.Data), index: count(ExtentOwner.Index), meta: count(ExtentOwner.Meta), superblock: count(ExtentOwner.Superblock) };
  return {
    disk,
    ...(path === undefined ? {} : { path }),
    state: 'in-service',
    capacityBytes: g.extentCount * g.extentSizeBytes,
    extentSizeBytes: g.extentSizeBytes,
    usedBytes,
    freeBytes: extents.free * g.extentSizeBytes,
    liveBytes: liveDataBytes + liveIndexBytes,
    liveDataBytes,
    liveIndexBytes,
    reclaimableBytes,
    extents,
    shardCount: store.live.shardCount,
  };
}
