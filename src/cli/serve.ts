// The one place the CLI names the store implementation: everything else in
// src/cli speaks ShardApi, so this file is also the only one that must change
// if how a node is opened changes. Loaded lazily, so `shardstore --help` and
// the other commands do not load the storage code.
import type { NodeOptions, ShardApi } from '../store/index.js';
import { ShardNode } from '../store/index.js';

export async function openNode(options: NodeOptions): Promise<ShardApi> {
  return ShardNode.openOrCreate(options);
}
