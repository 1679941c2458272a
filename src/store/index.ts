// store: the ShardStore engine over one disk (docs/ARCHITECTURE.md): the
// chunk store, the commit log and its replay, the LSM index, reclamation
// hooks, open and recovery, and the per-disk scrub pass.
export * from './types.js';
export * from './store_options.js';
export * from './metalog_format.js';
export * from './disk_store.js';
export * from './open.js';
export { MAX_REPORTED_DAMAGE, RateLimiter, ScrubStoppedError, emptyScrubCounters, scrubBytesEstimate, scrubDiskStore } from './scrub.js';
export type { DiskScrubContext } from './scrub.js';
export { listLimit } from './list.js';
export type { DamagedIndexChunk, DamagedShard, ScrubCounters, ScrubProblem } from './scrub.js';
export { DiskView } from './disk_view.js';
export { reattachIndexedExtents } from './reattach.js';
export type { RecoveryReport } from './recovery_report.js';
