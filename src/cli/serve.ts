// The one place the CLI names the store implementation: everything else in
// src/cli speaks ShardApi, so this file is also the only one that must change
// if how a node is opened changes. Loaded lazily, so `shardstore --help` and
// the other commands do not load the storage code.
import type { ShardApi } from '../store/index.js';
import type { AdminApi, NodeOpenOptions } from '../node/index.js';
import { ShardNode } from '../node/index.js';

/** The node: the shard API and its control plane (a disk that does not open is out of service). */
export async function openNode(options: NodeOpenOptions): Promise<ShardApi & AdminApi> {
  return ShardNode.openOrCreate(options);
}

/**
 * Open an existing node's data files (never creating them), for the offline
 * admin commands: `readOnly` for those that only look (nothing is written;
 * the others write and say so in their help). Either way the files' locks
 * are taken: refused (LockedError) while a server or another tool holds them.
 */
export async function openExistingNode(dataDir: string, paths: readonly string[], access: { readonly readOnly: boolean }): Promise<ShardApi & AdminApi> {
  return ShardNode.openOrCreate({ dataDir, paths, disks: paths.length, diskSizeBytes: 0, create: false, readOnly: access.readOnly });
}
