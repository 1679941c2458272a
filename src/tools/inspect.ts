// inspect: the extent map of each data file, for a picture of a disk's
// layout (cli/inspect_command.ts draws it). Each extent: its owner, its
// write pointer, and for data extents the live bytes that the store's
// live-byte accounting (rebuilt at open from the index) holds there.
// Offline: opens each file read-only (holding its lock: refused while a
// server runs), recovers in memory, reads the tables, closes. Nothing is
// written.
import type { Disk } from '../disk/index.js';
import { FileDisk } from '../disk/index.js';
import { ExtentOwner } from '../extent/index.js';
import type { DiskStore } from '../store/index.js';
import { openDiskStore } from '../store/index.js';

export type OwnerName = 'free' | 'data' | 'index' | 'meta' | 'superblock';

export interface ExtentCell {
  readonly extent: number;
  readonly owner: OwnerName;
  readonly writePointerBytes: number;
  /** Data extents: live bytes; others 0. */
  readonly liveBytes: number;
}

export interface DiskExtentMap {
  readonly disk: number;
  readonly path: string;
  readonly extentSizeBytes: number;
  readonly cells: readonly ExtentCell[];
  /** Extents by owner. */
  readonly counts: Readonly<Record<OwnerName, number>>;
  readonly writtenBytes: number;
  readonly liveDataBytes: number;
  readonly shardCount: number;
}

const OWNER_NAMES: Readonly<Record<ExtentOwner, OwnerName>> = {
  [ExtentOwner.Free]: 'free',
  [ExtentOwner.Data]: 'data',
  [ExtentOwner.Index]: 'index',
  [ExtentOwner.Meta]: 'meta',
  [ExtentOwner.Superblock]: 'superblock',
};

/** The extent map of an open store (no IO). */
export function extentMap(store: DiskStore, disk: number, path: string): DiskExtentMap {
  const e = store.view;
  const g = e.geometry;
  const counts: Record<OwnerName, number> = { free: 0, data: 0, index: 0, meta: 0, superblock: 0 };
  const cells: ExtentCell[] = [];
  let writtenBytes = 0;
  let liveDataBytes = 0;
  for (let x = 0; x < g.extentCount; x++) {
    const owner = OWNER_NAMES[e.owner(x)];
    const writePointerBytes = e.writePointer(x);
    const liveBytes = owner === 'data' ? e.liveBytes(x) : 0;
    counts[owner]++;
    writtenBytes += writePointerBytes;
    liveDataBytes += liveBytes;
    cells.push({ extent: x, owner, writePointerBytes, liveBytes });
  }
  return { disk, path, extentSizeBytes: g.extentSizeBytes, cells, counts, writtenBytes, liveDataBytes, shardCount: e.shardCount };
}

/** Open each data file read-only (paths in disk order), take its extent map, close it. */
export async function inspectNode(paths: readonly string[]): Promise<DiskExtentMap[]> {
  const maps: DiskExtentMap[] = [];
  for (const [i, path] of paths.entries()) maps.push(await inspectDisk(await FileDisk.open(path, { readOnly: true }), i, path));
  return maps;
}

/** The extent map of a disk the caller opened (and holds), recovered read-only; closes `file`. */
export async function inspectDisk(file: Disk, disk: number, path: string): Promise<DiskExtentMap> {
  let store: DiskStore;
  try {
    store = await openDiskStore(file, { readOnly: true });
  } catch (err: unknown) {
    await file.close();
    throw err;
  }
  try {
    // The map draws live bytes: wait for their recount after open.
    await store.liveBytesReady();
    return extentMap(store, disk, path);
  } finally {
    await store.close();
  }
}
