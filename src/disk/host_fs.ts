// The host file system under data files: how much room it has, and whether
// sparse data files can still grow to their size there. A data file is
// sparse unless preallocated: its apparent size is promised, not reserved,
// so a host file system smaller than the data files fills up before the
// store does (docs/ARCHITECTURE.md "Disk full: host and store").
import { statSync, statfsSync } from 'node:fs';
import { stat, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface FileSystemSpace {
  /** Bytes an unprivileged writer may still allocate on the file system (statfs bavail * bsize). */
  readonly freeBytes: number;
  /** Size of the file system. */
  readonly totalBytes: number;
}

/** The host under one data file: its file system's room (absent for a block device), and whether the file has holes. */
export interface HostSpace extends Partial<FileSystemSpace> {
  /** Every block of the data file is allocated (preallocated, written whole, or a block device): no write to it can need a new one. */
  readonly fileFullyAllocated: boolean;
  /** Bytes the host has allocated to the file (stat blocks * 512); absent for a block device. */
  readonly allocatedBytes?: number;
}

export interface DataFileSpace extends FileSystemSpace {
  readonly path: string;
  /** The file's size (what the store may write up to). */
  readonly apparentBytes: number;
  /** Blocks the host has allocated to the file (stat blocks * 512). */
  readonly allocatedBytes: number;
  /** The file system's device: files on one device share its free bytes. */
  readonly device: number;
}

/** The file system's room for writes at the data file `path`, and whether the file is allocated whole. Synchronous: two system calls. */
export function hostSpaceSync(path: string, sizeBytes: number): HostSpace {
  const st = statSync(path);
  // A block device has no holes and no file system under it.
  if (st.isBlockDevice()) return { fileFullyAllocated: true };
  const s = statfsSync(path);
  return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize, fileFullyAllocated: st.blocks * 512 >= sizeBytes, allocatedBytes: st.blocks * 512 };
}

/** Size, allocation and file system room of each data file. */
export async function dataFileSpace(paths: readonly string[]): Promise<DataFileSpace[]> {
  return Promise.all(
    paths.map(async (path) => {
      const [st, fs] = await Promise.all([stat(path), statfs(path)]);
      return {
        path,
        apparentBytes: st.size,
        allocatedBytes: st.blocks * 512,
        device: st.dev,
        freeBytes: fs.bavail * fs.bsize,
        totalBytes: fs.blocks * fs.bsize,
      };
    }),
  );
}

export interface Shortfall {
  /** The data files on one file system. */
  readonly paths: readonly string[];
  /** What the files may still grow by: apparent minus allocated bytes, summed. */
  readonly unallocatedBytes: number;
  readonly freeBytes: number;
}

/**
 * File systems where the data files cannot grow to their size: their
 * unallocated bytes exceed the free space. Block devices and preallocated
 * files have none.
 */
export function shortfalls(files: readonly DataFileSpace[]): Shortfall[] {
  const byDevice = new Map<number, DataFileSpace[]>();
  for (const f of files) byDevice.set(f.device, [...(byDevice.get(f.device) ?? []), f]);
  const out: Shortfall[] = [];
  for (const group of byDevice.values()) {
    let unallocatedBytes = 0;
    for (const f of group) unallocatedBytes += Math.max(0, f.apparentBytes - f.allocatedBytes);
    const freeBytes = group[0]?.freeBytes ?? 0;
    if (unallocatedBytes > freeBytes) out.push({ paths: group.map((f) => f.path), unallocatedBytes, freeBytes });
  }
  return out;
}

/**
 * REQUIRES: none of `paths` exists. The file systems where `sizeBytes` per
 * file, written whole (preallocated), would not fit: each path's directory's
 * free bytes against the files that would go there.
 */
export async function preallocationShortfalls(paths: readonly string[], sizeBytes: number): Promise<Shortfall[]> {
  const files = await Promise.all(
    paths.map(async (path) => {
      const dir = dirname(path);
      const [st, fs] = await Promise.all([stat(dir), statfs(dir)]);
      return { path, apparentBytes: sizeBytes, allocatedBytes: 0, device: st.dev, freeBytes: fs.bavail * fs.bsize, totalBytes: fs.blocks * fs.bsize };
    }),
  );
  return shortfalls(files);
}
