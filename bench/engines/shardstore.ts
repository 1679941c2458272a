// Our engine as the bench drives it: one DiskStore on a FileDisk, default
// options (group commit, background compaction and reclamation), a put
// acknowledged only once its Dependency is persisted.
//
// Two disks: as shipped (FileDisk creates the data file sparse, so every
// first write to a block also allocates it), and a preallocated file
// (written whole once, so writes overwrite allocated blocks, as the raw
// limit does). The difference between the two rows is the file system's
// allocation cost, not the engine's. Both open with serve's default
// --prepare-ahead (extents zeroed ahead of puts in the background,
// host_space.ts; a preallocated file needs none and writes none). Since
// that default became `all` (every free extent zeroed once, while the store
// is idle), the sparse variant is timed once that preparation is over, as
// a store started by `npm start` is after its first minute (16 GiB: about
// a minute on the bench machine; docs/BENCHMARKS.md "Every extent prepared
// ahead", which gives a fresh store's rate beside it). The wait is not
// timed.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { NotFoundError } from '../../dist/src/base/index.js';
import type { Dependency } from '../../dist/src/dependency/index.js';
import { FileDisk } from '../../dist/src/disk/index.js';
import { DEFAULT_PREPARE_AHEAD_EXTENTS, formatDiskStore, openDiskStore } from '../../dist/src/store/index.js';
import type { DiskStore } from '../../dist/src/store/index.js';
import type { EngineOpenOptions, EngineSpec, KvEngine } from './engine.js';

const MiB = 1024 * 1024;
const DEFAULT_EXTENT_BYTES = 64 * MiB;
/**
 * Extents beyond the workload's bytes: the superblock, the metadata log and
 * its mirror, the index streams, and the prepared reserve that puts never
 * take (ExtentManager.preparedTarget: 8 by default; puts are refused once no
 * more than that many extents are free). With 8 spare, a small workload
 * (the sync check's 64 MiB: a 10-extent disk) was refused its first put
 * ("no free extent for Data outside the prepared reserve"). The file is
 * sparse: spare extents cost nothing until written.
 */
const SPARE_EXTENTS = 16;
/** Puts issued at once while loading (each resolves when staged, not durable). */
const LOAD_WINDOW = 256;

/**
 * The data file our engine needs to hold `capacityBytes` of puts: a quarter
 * more, plus the spare extents. The preallocated variant's shared file must
 * be at least this for the largest put cell (a full run's 1 GiB of 1 MiB
 * puts was refused at 1.5 GiB once puts got faster: "no free extent for Data
 * outside the prepared reserve").
 */
export function shardStoreFileBytes(capacityBytes: number, extentSizeBytes = DEFAULT_EXTENT_BYTES): number {
  return roundUp(Math.ceil(capacityBytes * 1.25) + SPARE_EXTENTS * extentSizeBytes, extentSizeBytes);
}

export function shardStoreSpec(variant: 'sparse' | 'preallocated'): EngineSpec {
  return {
    name: variant === 'sparse' ? 'shardstore' : 'shardstore (prealloc file)',
    kind: 'ours',
    durability:
      variant === 'sparse'
        ? 'DiskStore on FileDisk (sparse file, as `shardstore serve` creates it), the defaults of serve (--prepare-ahead all included), timed once its background preparation of the file is over; put acknowledged after `await dependency.persisted()`'
        : 'as shardstore, on a preallocated (fully written) data file; reformatted for each put cell',
    open: (dir, options) => openShardStore(dir, options),
  };
}

async function openShardStore(dir: string, o: EngineOpenOptions): Promise<KvEngine> {
  const extentSizeBytes = o.extentSizeBytes ?? DEFAULT_EXTENT_BYTES;
  let disk: FileDisk;
  if (o.preallocatedPath !== undefined) {
    disk = await FileDisk.open(o.preallocatedPath);
  } else {
    const path = join(dir, 'disk-0.dat');
    if (o.format) await rm(path, { force: true });
    const sizeBytes = o.diskBytes ?? shardStoreFileBytes(o.capacityBytes, extentSizeBytes);
    disk = await FileDisk.open(path, { createSizeBytes: sizeBytes });
  }
  const prepareAheadExtents = DEFAULT_PREPARE_AHEAD_EXTENTS;
  const store = o.format ? await formatDiskStore(disk, { extentSizeBytes, prepareAheadExtents }) : await openDiskStore(disk, { prepareAheadExtents });
  // The background preparation of a sparse file, over before the cell is timed (see the head of this file).
  await store.parts.space.settled();
  return new ShardStoreEngine(store);
}

class ShardStoreEngine implements KvEngine {
  constructor(private readonly store: DiskStore) {}

  async put(key: Buffer, value: Buffer): Promise<void> {
    const dependency = await this.store.put(key, value);
    await dependency.persisted();
  }

  async get(key: Buffer): Promise<Buffer | undefined> {
    try {
      // The bench's contract is a buffer the caller owns (KvEngine.get), as
      // every peer and the raw pread give. get() may hand back the buffer
      // cache's own bytes; getOwned copies those (the copy is part of the
      // measured get) and hands over a value read from the disk as read.
      return await this.store.getOwned(key);
    } catch (err: unknown) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  async del(key: Buffer): Promise<void> {
    const dependency = await this.store.delete(key);
    await dependency.persisted();
  }

  async load(keys: readonly Buffer[], value: (i: number) => Buffer): Promise<void> {
    for (let base = 0; base < keys.length; base += LOAD_WINDOW) {
      const staged: Array<Promise<Dependency>> = [];
      for (let i = base; i < Math.min(keys.length, base + LOAD_WINDOW); i++) {
        const key = keys[i];
        if (key !== undefined) staged.push(this.store.put(key, value(i)));
      }
      const dependencies = await Promise.all(staged);
      for (const d of dependencies) await d.persisted();
    }
  }

  async close(): Promise<void> {
    await this.store.close();
  }

  engineBytesWritten(): number {
    return this.store.parts.io.stats.bytesWritten;
  }

  counters(): Record<string, number> {
    const s = this.store.stats();
    return {
      commits: s.commits,
      flushes: s.flushes,
      reclaimedExtents: s.reclaimedExtents,
      reclaimedBytes: s.reclaimedBytes,
      movedBytes: s.movedBytes,
      extentsFree: s.extentsFree,
    };
  }
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
