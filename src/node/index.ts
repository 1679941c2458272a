// node: the storage node over several disks (docs/CONTROL_PLANE.md): the
// router over disks, service state, bulk calls, scrub across disks,
// migration, stats, and the control plane's types.
export * from './admin_types.js';
export * from './node_options.js';
export * from './node.js';
export { checkBulkKeys, bulkPut, bulkDelete } from './bulk.js';
export * from './migration_format.js';
export { MigrationReader } from './migration_reader.js';
export type { MigrationRecordIn } from './migration_reader.js';
export { exportRange, importStream, keysInRange, checkRange, DEFAULT_IMPORT_WINDOW } from './migration.js';
export type { ExportProgress, ImportOptions, ImportProgress } from './migration.js';
export { scrubNode, Scrubber } from './scrub_runner.js';
export type { ScrubTarget } from './scrub_runner.js';
export { diskStats } from './disk_stats.js';
