// A host file system with a space limit, under any Disk: the data file is
// sparse, a block is allocated on the first write to it, and a write that
// needs more new blocks than the host has free is refused with an error
// shaped exactly like Node's (code 'ENOSPC', errno -28, syscall 'write').
// Writes over allocated blocks always go through (ext4, xfs, tmpfs do
// that; a copy-on-write file system would not, see src/extent/host_space.ts).
//
// Strategy: the host outlives the disks it wraps, as a real file system
// outlives a process: a crash or a restart wraps the next disk (the
// SimDisk of the crash image, or the reopened file) with the same
// HostFs, which keeps the set of allocated blocks and the free count.
// Allocation happens when a write is issued, before the inner disk sees
// it, so a refused write stores nothing (like SimDisk's injected faults).
// A crash keeps the allocation of writes it drops (a legal outcome for a
// journaling file system: the block is allocated, its bytes are old).
//
// Invariants:
// 1. A write is refused only if it needs a block not yet allocated while
//    the host has fewer free blocks than it needs; then nothing is written.
// 2. Bytes freed by `setFreeBytes` become available to the next write.
import type { Disk } from '../src/disk/index.js';

export const HOST_BLOCK_BYTES = 4096;

/** The error Node's fs raises when a write finds the file system full. */
export function enospcError(syscall: 'write' | 'writev' = 'write'): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`ENOSPC: no space left on device, ${syscall}`);
  err.code = 'ENOSPC';
  err.errno = -28;
  err.syscall = syscall;
  return err;
}

export interface HostFsStats {
  /** Writes refused for lack of space. */
  refused: number;
  /** Blocks allocated (first writes). */
  allocatedBlocks: number;
}

export class HostFs {
  private readonly allocated = new Set<number>();
  /** Free blocks; undefined: unlimited. */
  private freeBlocks: number | undefined;
  readonly stats: HostFsStats = { refused: 0, allocatedBlocks: 0 };

  /** Free bytes of the host; undefined: unlimited. */
  get freeBytes(): number | undefined {
    return this.freeBlocks === undefined ? undefined : this.freeBlocks * HOST_BLOCK_BYTES;
  }

  /** The host fills up (0), gets room back (n), or has no limit (undefined). */
  setFreeBytes(bytes: number | undefined): void {
    this.freeBlocks = bytes === undefined ? undefined : Math.floor(bytes / HOST_BLOCK_BYTES);
  }

  /** Is every block of [offset, offset+length) allocated? */
  isAllocated(offset: number, length: number): boolean {
    return this.newBlocks(offset, length).length === 0;
  }

  /**
   * Take the blocks of [offset, offset+length) as allocated without a
   * write (what a copy of a file puts on its new host: a sparse copy only
   * its blocks that are not all zeros).
   */
  adopt(offset: number, length: number): void {
    for (const b of this.newBlocks(offset, length)) this.allocated.add(b);
  }

  /** `disk` as a file on this host. */
  wrap(disk: Disk): Disk {
    const inner = disk;
    const wrapped: Disk = {
      sizeBytes: inner.sizeBytes,
      pageSizeBytes: inner.pageSizeBytes,
      read: (offset, length) => inner.read(offset, length),
      write: async (offset, data) => {
        this.allocate(offset, data.length, 'write');
        return inner.write(offset, data);
      },
      flush: () => inner.flush(),
      close: () => inner.close(),
      // What FileDisk says of its file (stat blocks): open checks the
      // checkpoint's host-allocated marks against the allocated bytes.
      hostSpace: () => {
        const allocatedBytes = this.allocated.size * HOST_BLOCK_BYTES;
        return { fileFullyAllocated: allocatedBytes >= inner.sizeBytes, allocatedBytes };
      },
    };
    const writev = inner.writev?.bind(inner);
    if (writev === undefined) return wrapped;
    return {
      ...wrapped,
      writev: async (offset, parts) => {
        let length = 0;
        for (const p of parts) length += p.length;
        this.allocate(offset, length, 'writev');
        return writev(offset, parts);
      },
    };
  }

  private allocate(offset: number, length: number, syscall: 'write' | 'writev'): void {
    const wanted = this.newBlocks(offset, length);
    if (this.freeBlocks !== undefined) {
      if (wanted.length > this.freeBlocks) {
        this.stats.refused++;
        throw enospcError(syscall);
      }
      this.freeBlocks -= wanted.length;
    }
    for (const b of wanted) this.allocated.add(b);
    this.stats.allocatedBlocks += wanted.length;
  }

  private newBlocks(offset: number, length: number): number[] {
    const out: number[] = [];
    if (length === 0) return out;
    const last = Math.floor((offset + length - 1) / HOST_BLOCK_BYTES);
    for (let b = Math.floor(offset / HOST_BLOCK_BYTES); b <= last; b++) if (!this.allocated.has(b)) out.push(b);
    return out;
  }
}
