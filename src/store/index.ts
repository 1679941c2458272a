// store: the ShardStore API over one disk, and the node over several, with
// the node's control plane (bulk calls, disks in and out of service, scrub,
// migration, stats).
export * from './types.js';
export * from './admin_types.js';
export * from './node_options.js';
export * from './store_options.js';
export * from './metalog_format.js';
export * from './disk_store.js';
export * from './open.js';
export * from './node.js';
export { checkBulkKeys, bulkPut, bulkDelete } from './bulk.js';
export * from './migration_format.js';
export { MigrationReader } from './migration_reader.js';
export type { MigrationRecordIn } from './migration_reader.js';
export { exportRange, importStream, keysInRange, checkRange, DEFAULT_IMPORT_WINDOW } from './migration.js';
export type { ExportProgress, ImportOptions, ImportProgress } from './migration.js';
export { MAX_REPORTED_DAMAGE, RateLimiter } from './scrub.js';
export { scrubNode, Scrubber } from './scrub_runner.js';
export type { ScrubTarget } from './scrub_runner.js';
export { diskStats } from './disk_stats.js';
export { fsckClean, fsckNode, fsckDisk, fsckOpenDisk, MAX_FSCK_PROBLEMS } from './fsck.js';
export type { FsckDiskReport, FsckOptions, FsckProgress, SlotReport } from './fsck.js';
export { extentMap, inspectNode, inspectDisk } from './inspect.js';
export type { DiskExtentMap, ExtentCell, OwnerName } from './inspect.js';
export { salvageDiskStore } from './salvage.js';
export type { SalvageReport } from './salvage.js';
