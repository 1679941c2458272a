// A node: several disks, each an independent DiskStore, and a thin router
// that sends each key to one disk by a stable hash (CRC32C of the key
// modulo the disk count, fixed when the node is created and recorded in
// every disk's label).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CorruptionError, CryptoRandom, InvalidArgumentError, crc32c } from '../base/index.js';
import type { Dependency } from '../dependency/index.js';
import type { Disk } from '../disk/index.js';
import { FileDisk } from '../disk/index.js';
import type { DiskStore } from './disk_store.js';
import type { ReclaimOptions } from '../reclaim/index.js';
import { listLimit } from './list.js';
import type { NodeOptions } from './node_options.js';
import { formatDiskStore, openDiskStore } from './open.js';
import type { FormatOptions } from './open.js';
import type { ByteRange, ListOptions, ListResult, ShardApi, ShardInfo, ShardReader, StoreStats, ValueSource } from './types.js';

export class ShardNode implements ShardApi {
  constructor(readonly stores: readonly DiskStore[]) {
    if (stores.length === 0) throw new InvalidArgumentError('a node needs at least one disk');
  }

  /** Open the node's data files, creating and formatting any that do not exist yet. */
  static async openOrCreate(options: NodeOptions & FormatOptions): Promise<ShardNode> {
    const paths = options.paths ?? Array.from({ length: options.disks }, (_, i) => join(options.dataDir, `disk-${i}.dat`));
    if (paths.length < 1) throw new InvalidArgumentError('a node needs at least one disk');
    if (options.paths === undefined) mkdirSync(options.dataDir, { recursive: true });
    const fresh = paths.map((p) => !existsSync(p));
    if (fresh.some((f) => f) && !fresh.every((f) => f)) {
      throw new CorruptionError(`some data files exist and some do not: ${paths.join(', ')}; refusing to mix a new disk into a node`);
    }
    const random = options.random ?? new CryptoRandom();
    const nodeId = { low: random.nextU32(), high: random.nextU32() };
    const stores: DiskStore[] = [];
    try {
      for (const [i, path] of paths.entries()) {
        const disk = await FileDisk.open(path, { createSizeBytes: options.diskSizeBytes });
        stores.push(await openOrFormat(disk, fresh[i] === true, { ...options, nodeId, diskIndex: i, diskCount: paths.length }));
      }
    } catch (err: unknown) {
      for (const s of stores) await s.close();
      throw err;
    }
    checkMembership(stores, paths);
    return new ShardNode(stores);
  }

  route(key: Buffer): DiskStore {
    const store = this.stores[crc32c(key) % this.stores.length];
    if (store === undefined) throw new RangeError('route out of range');
    return store;
  }

  put(key: Buffer, value: ValueSource): Promise<Dependency> {
    return this.route(key).put(key, value);
  }

  get(key: Buffer): Promise<Buffer> {
    return this.route(key).get(key);
  }

  read(key: Buffer, range?: ByteRange): Promise<ShardReader> {
    return this.route(key).read(key, range);
  }

  head(key: Buffer): Promise<ShardInfo> {
    return this.route(key).head(key);
  }

  delete(key: Buffer): Promise<Dependency> {
    return this.route(key).delete(key);
  }

  /** Each disk lists up to `limit`; the merged, ordered first `limit` are returned. */
  async list(options: ListOptions = {}): Promise<ListResult> {
    const limit = listLimit(options.limit);
    const parts = await Promise.all(this.stores.map((s) => s.list({ ...options, limit })));
    const all = parts.flatMap((p) => p.shards).sort((a, b) => Buffer.compare(a.key, b.key));
    const truncated = all.length > limit || parts.some((p) => p.truncated);
    return { shards: all.slice(0, limit), truncated };
  }

  async flush(): Promise<void> {
    await Promise.all(this.stores.map((s) => s.flush()));
  }

  async compact(): Promise<void> {
    await Promise.all(this.stores.map((s) => s.compact()));
  }

  /** Reclaim on every disk; returns the extents reset. */
  async reclaim(options: ReclaimOptions = {}): Promise<number> {
    const n = await Promise.all(this.stores.map((s) => s.reclaim(options)));
    return n.reduce((a, b) => a + b, 0);
  }

  async close(): Promise<void> {
    const results = await Promise.allSettled(this.stores.map((s) => s.close()));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed !== undefined && failed.status === 'rejected') throw failed.reason;
  }

  stats(): StoreStats {
    const all = this.stores.map((s) => s.stats());
    const sum = (f: (s: StoreStats) => number): number => all.reduce((n, s) => n + f(s), 0);
    return {
      disks: this.stores.length,
      capacityBytes: sum((s) => s.capacityBytes),
      extentSizeBytes: all[0]?.extentSizeBytes ?? 0,
      extentsFree: sum((s) => s.extentsFree),
      extentsData: sum((s) => s.extentsData),
      extentsIndex: sum((s) => s.extentsIndex),
      extentsMeta: sum((s) => s.extentsMeta),
      commits: sum((s) => s.commits),
      flushes: sum((s) => s.flushes),
      reclaimedExtents: sum((s) => s.reclaimedExtents),
      reclaimedBytes: sum((s) => s.reclaimedBytes),
      movedBytes: sum((s) => s.movedBytes),
    };
  }
}

async function openOrFormat(disk: Disk, fresh: boolean, options: FormatOptions): Promise<DiskStore> {
  try {
    return fresh ? await formatDiskStore(disk, options) : await openDiskStore(disk, options);
  } catch (err: unknown) {
    await disk.close();
    throw err;
  }
}

/** Every disk must carry the same node id and disk count, and sit at its own index. */
function checkMembership(stores: readonly DiskStore[], paths: readonly string[]): void {
  const first = stores[0]?.label;
  for (const [i, s] of stores.entries()) {
    const l = s.label;
    if (first === undefined || l.nodeId.low !== first.nodeId.low || l.nodeId.high !== first.nodeId.high) {
      throw new CorruptionError(`${paths[i]} belongs to another node`);
    }
    if (l.diskCount !== stores.length || l.diskIndex !== i) {
      throw new CorruptionError(`${paths[i]} is disk ${l.diskIndex} of ${l.diskCount}, opened as ${i} of ${stores.length}`);
    }
  }
}
