// The Disk interface: the only way the engine touches storage (like
// LevelDB's Env). The file-backed disk below serves production; the
// validation tree (testing/) supplies a simulated disk with a volatile write
// cache, crash states and fault injection.
//
// Contract:
// 1. `write` may complete before the bytes are durable; only a later
//    `flush` that resolves makes every write completed before it durable.
// 2. `read` returns what the most recent completed write stored (durable
//    or not).
// 3. Offsets and lengths are byte-granular; callers keep within sizeBytes.
// 4. `read` without `into` returns a buffer of its own: nothing else holds
//    its memory, so the engine may hand it to a caller without a copy
//    (DiskStore.getOwned).

import type { HostSpace } from './host_fs.js';

export interface Disk {
  readonly sizeBytes: number;
  /** The atomic write unit: a crash may tear a write at this granularity. */
  readonly pageSizeBytes: number;
  /**
   * Read exactly `length` bytes at `offset`. Without `into`, into a buffer
   * no one else holds (contract 4). Given `into` (at least `length`
   * bytes), a disk may read into it and return a view of it rather than a
   * new buffer; the caller uses what is returned either way, and owns
   * nothing but what it gave.
   */
  read(offset: number, length: number, into?: Buffer): Promise<Buffer>;
  /** Write all of `data` at `offset`. */
  write(offset: number, data: Uint8Array): Promise<void>;
  /** Optional: write `parts` back to back from `offset` in one gathered write (same contract as write). */
  writev?(offset: number, parts: readonly Uint8Array[]): Promise<void>;
  /**
   * Optional: write `parts` back to back from `offset` on the calling
   * thread, done when it returns, if the disk can do that cheaply (a small
   * write into the host's page cache); false, writing nothing, if it
   * cannot. Throws what write would reject with. Same contract as write
   * otherwise (durable only after a later flush).
   */
  writeInline?(offset: number, parts: readonly Uint8Array[]): boolean;
  /** Make every completed write durable (fdatasync). */
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Optional: the room left on the host file system under a file-backed disk (stats, health). */
  hostSpace?(): HostSpace;
}

export const DEFAULT_PAGE_SIZE_BYTES = 4096;
