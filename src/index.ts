// The public entry point of the shardstore package: what a program that
// embeds the storage node may use (README.md, "Use it as a library").
// Everything else under src/ is internal and may change without notice.
//
// - The node: ShardNode.openOrCreate over data files (one store per disk,
//   a router over them, disks in and out of service, scrub, migration).
// - One disk's engine: formatDiskStore / openDiskStore over a Disk
//   (FileDisk for a data file or block device).
// - The server: createShardServer, the native shard API and the S3 front
//   over anything that speaks ShardApi (the node, one store).
// - What their calls return and throw: Dependency (awaitable durability),
//   the typed errors, the API's value types.
//
// Nothing in src/ imports this file (rule entry-point-imported, .dependency-cruiser.cjs).

// Errors (each with a stable `code`).
export {
  ShardStoreError,
  NotFoundError,
  CorruptionError,
  NoSpaceError,
  IoError,
  UnavailableError,
  InvalidArgumentError,
  ClosedError,
  LockedError,
  ReadOnlyError,
} from './base/index.js';
export type { ErrorCode, Clock } from './base/index.js';

// Disks.
export { FileDisk } from './disk/index.js';
export type { Disk, FileDiskOptions } from './disk/index.js';

// Durability.
export { Dependency } from './dependency/index.js';

// The request plane's types, shared by the node, one store and the server.
export { MAX_KEY_BYTES, MAX_LIST_LIMIT } from './store/index.js';
export type { ShardApi, ValueSource, ShardInfo, ByteRange, ShardReader, ListOptions, ListResult, StoreStats } from './store/index.js';

// One disk's engine.
export { DiskStore, formatDiskStore, openDiskStore } from './store/index.js';
export type { StoreOptions, OpenOptions, FormatOptions } from './store/index.js';

// The node and its control plane.
export { ShardNode } from './node/index.js';
export type {
  NodeOptions,
  NodeOpenOptions,
  ShardNodeOptions,
  AdminApi,
  DiskServiceState,
  DiskStatus,
  DiskStats,
  NodeStats,
  NodeListResult,
  BulkPutEntry,
  BulkResult,
  ScrubOptions,
  ScrubReport,
  ScrubStatus,
} from './node/index.js';

// The server.
export { createShardServer, jsonLineLogger, silentLogger, loadOrCreateCredentials } from './server/index.js';
export type { ShardServer, ShardServerOptions, Logger, LogLevel, LogFields, S3Options, S3Credentials, LoadedCredentials } from './server/index.js';
