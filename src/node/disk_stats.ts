// What a fleet wants to know about one disk: capacity, used, live and
// reclaimable bytes, extents by owner, shard count, and whether it is
// writable: read-only and why, the host file system's free bytes, the
// prepared reserve (docs/ARCHITECTURE.md "Disk full: host and store").
//
// The shard count is kept incrementally at no extra IO: the commit path
// already tells live-byte accounting, for every committed mutation, the
// value it replaces and the new one (both null for "no value"), and a walk
// of the index in the background after open recounts it (LiveBytes counts
// values coming and going). Until that walk is done, live and reclaimable
// bytes and the shard count are partial: `liveBytesReady` says so. The rest
// is read off the extent table and the live-byte map in memory: stats()
// does no IO.
import { ExtentOwner } from '../extent/index.js';
import type { DiskStats } from './admin_types.js';
import type { DiskStore } from '../store/index.js';

export function diskStats(store: DiskStore, disk: number, path: string | undefined): DiskStats {
  const e = store.view;
  const g = e.geometry;
  const count = (o: ExtentOwner): number => e.extentsOwnedBy(o).length;
  let usedBytes = 0;
  for (const o of [ExtentOwner.Data, ExtentOwner.Index, ExtentOwner.Meta]) for (const x of e.extentsOwnedBy(o)) usedBytes += e.writePointer(x);
  let liveDataBytes = 0;
  let reclaimableBytes = 0;
  for (const x of e.extentsOwnedBy(ExtentOwner.Data)) {
    const live = e.liveBytes(x);
    liveDataBytes += live;
    reclaimableBytes += Math.max(0, e.writePointer(x) - live);
  }
  const liveIndexBytes = e.liveIndexBytes();
  const health = store.stats();
  const failed = e.failure;
  const extents = { free: e.freeExtents(), data: count(ExtentOwner.Data), index: count(ExtentOwner.Index), meta: count(ExtentOwner.Meta), superblock: count(ExtentOwner.Superblock) };
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
    shardCount: e.shardCount,
    liveBytesReady: e.liveBytesReady,
    // freeBytes counts free extents; on a sparse data file the host may have
    // less room than that: hostFreeBytes and degraded say so.
    ...(failed === undefined ? {} : { readOnly: failed.message }),
    degraded: health.degraded ?? [],
    ...(health.hostFreeBytes === undefined ? {} : { hostFreeBytes: health.hostFreeBytes }),
    preparedExtents: health.preparedExtents ?? 0,
    hostNoSpaceWrites: health.hostNoSpaceWrites ?? 0,
  };
}
