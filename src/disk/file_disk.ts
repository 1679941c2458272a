// A Disk over a regular file (created at its full size, sparse) or a block
// device. flush is fdatasync.
//
// Exclusive access: open takes the disk's lock (disk_lock.ts) before it
// opens the file, by default, so every opener is covered (serve, fsck,
// scrub, inspect, export, import, stats...): a second one is refused with
// LockedError naming the holder. close releases it. A block device is
// also opened with O_EXCL: Linux refuses it if another process holds it
// exclusively or it is mounted (EBUSY, also a LockedError).
//
// Small writes on the calling thread (writeInline: writevSync): a write of
// up to INLINE_WRITE_MAX_BYTES only copies into the page cache, which
// costs less than handing it to libuv's thread pool and being woken when
// it is done (measured on the 2-core VM, 4 KiB: 7 us inline against 50 us
// of wall time and of CPU through the pool; 64 KiB: 14 against 55;
// 256 KiB: 44-48 against 83-92; 1 MiB: 175 against 210-225). The IO
// scheduler uses it for data chunks and the metadata records naming them
// (io_scheduler.ts, invariant 8), never for host space's zero-fill.
// write and writev, reads and fdatasync stay on the pool: a 1 MiB copy or
// a read that may wait on the device must not stop the event loop
// (docs/BENCHMARKS.md, "the records of a commit cycle written inline").
// The cost of the choice: a small write the kernel makes wait (dirty-page throttling,
// which starts at gigabytes of dirty pages; we fdatasync every batch)
// waits on the event loop.
//
// Early writeback (writeback.ts): once a write of at least
// EARLY_WRITEBACK_MIN_BYTES has landed in the page cache, the device is
// asked to start writing it (sync_file_range, SYNC_FILE_RANGE_WRITE, on a
// thread of native/writeback's own), so that the flush closing the cycle
// finds most of it on its way. A hint, never awaited: its failure is only
// counted (the flush that follows reports the device's errors), and close
// first drops the descriptor's queued hints and waits (on the pool, not
// the event loop) for a running one, so none touches a closed (or reused)
// descriptor. `earlyWriteback: false` turns it off (A/B measurements).
//
// Read-only: opens the file with O_RDONLY; write and writev throw
// ReadOnlyError (the offline tools that only look). The lock is the same
// exclusive one: a tool must not read a file a server is changing, and a
// server must not start under a tool. Where no lock file can be created
// (a read-only file system), a read-only opener goes on without one unless
// a live holder's lock file is there (DiskLock.acquireForReading).
import { constants, writevSync } from 'node:fs';
import { open, stat, readFile, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { assert, AssertionError, HostNoSpaceError, IoError, InvalidArgumentError, LockedError, ReadOnlyError, isHostNoSpace, withContext } from '../base/index.js';
import { DEFAULT_PAGE_SIZE_BYTES } from './disk.js';
import type { Disk } from './disk.js';
import { DiskLock, FileLockRecords, currentHolder } from './disk_lock.js';
import { hostSpaceSync } from './host_fs.js';
import { writeback } from './writeback.js';
import type { HostSpace } from './host_fs.js';

export interface FileDiskOptions {
  /** Create the file at this size if it does not exist (regular files only). */
  createSizeBytes?: number;
  /**
   * When creating, write the whole file once (zeros) instead of leaving it
   * sparse. Slower to create (the file's size at the disk's write rate),
   * but every later write overwrites allocated blocks: a sparse file
   * allocates on first write, and fdatasync then commits the file system's
   * journal too (1 MiB durable writes: about 2x slower sparse, measured
   * here). fallocate does not help: its unwritten extents are converted on
   * first write, at the same cost.
   */
  preallocate?: boolean;
  pageSizeBytes?: number;
  /** Open O_RDONLY: writes throw ReadOnlyError. */
  readOnly?: boolean;
  /**
   * Take the disk's exclusive lock (default true). Only a caller that
   * already holds it, or a test of the lock itself, passes false.
   */
  lock?: boolean;
  /** Start the writeback of large writes as they land (default true where native/writeback built; see the head of this file). */
  earlyWriteback?: boolean;
}

/** writeInline takes writes of at most this many bytes (see the head of this file). */
export const INLINE_WRITE_MAX_BYTES = 128 * 1024;

/** Writes of at least this many bytes have their writeback started as they land (see the head of this file). */
export const EARLY_WRITEBACK_MIN_BYTES = 512 * 1024;

export class FileDisk implements Disk {
  private closed = false;
  /** Early writebacks asked for (tests and probes). */
  earlyWritebacks = 0;

  private constructor(
    private readonly handle: FileHandle,
    readonly path: string,
    readonly sizeBytes: number,
    readonly pageSizeBytes: number,
    readonly readOnly: boolean,
    private readonly lock: DiskLock | undefined,
    private readonly earlyWriteback: boolean,
  ) {}

  /** Open (or create) the file or block device at `path`; throws LockedError if another process holds it. */
  static async open(path: string, options: FileDiskOptions = {}): Promise<FileDisk> {
    const lock = await takeLock(path, options);
    try {
      return await FileDisk.openLocked(path, options, lock);
    } catch (err: unknown) {
      await lock?.release();
      throw err;
    }
  }

  private static async openLocked(path: string, options: FileDiskOptions, lock: DiskLock | undefined): Promise<FileDisk> {
    const pageSizeBytes = options.pageSizeBytes ?? DEFAULT_PAGE_SIZE_BYTES;
    const readOnly = options.readOnly === true;
    const existing = await stat(path).catch((err: unknown) => {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw new IoError(`stat ${path}: ${String(err)}`, { cause: err });
    });
    if (existing === undefined) {
      const size = options.createSizeBytes;
      if (size === undefined) throw new IoError(`${path} does not exist`);
      if (readOnly) throw new InvalidArgumentError(`${path}: cannot create a disk read-only`);
      if (size <= 0 || size % pageSizeBytes !== 0) {
        throw new InvalidArgumentError(`disk size ${size} must be a positive multiple of ${pageSizeBytes}`);
      }
      const handle = await open(path, 'wx+');
      try {
        await handle.truncate(size);
        if (options.preallocate === true) await writeZeros(handle, size);
        await handle.sync();
      } catch (err: unknown) {
        // Nothing half made stays behind: a later start would take the
        // partial file for a data file.
        await handle.close();
        await unlink(path);
        if (isHostNoSpace(err)) throw new HostNoSpaceError(`cannot create ${path} (${size} bytes, preallocated): host file system full: ${String(err)}`, { cause: err });
        throw new IoError(`cannot create ${path}: ${String(err)}`, { cause: err });
      }
      return new FileDisk(handle, path, size, pageSizeBytes, false, lock, options.earlyWriteback !== false);
    }
    const device = existing.isBlockDevice();
    const handle = await openExisting(path, readOnly, device);
    const size = device ? await blockDeviceSize(path) : existing.size;
    return new FileDisk(handle, path, size, pageSizeBytes, readOnly, lock, options.earlyWriteback !== false);
  }

  async read(offset: number, length: number, into?: Buffer): Promise<Buffer> {
    this.checkRange(offset, length);
    const buf = into !== undefined && into.length >= length ? into.subarray(0, length) : Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(buf, done, length - done, offset + done);
      if (bytesRead === 0) throw new IoError(`${this.path}: short read at ${offset + done}`);
      done += bytesRead;
    }
    return buf;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    this.checkWritable();
    this.checkRange(offset, data.length);
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.handle.write(data, done, data.length - done, offset + done);
      done += bytesWritten;
    }
    this.startWriteback(offset, data.length);
  }

  async writev(offset: number, parts: readonly Uint8Array[]): Promise<void> {
    let total = 0;
    for (const p of parts) total += p.length;
    this.checkWritable();
    this.checkRange(offset, total);
    let pending = parts.filter((p) => p.length > 0);
    let at = offset;
    while (pending.length > 0) {
      const { bytesWritten } = await this.handle.writev(pending, at);
      at += bytesWritten;
      pending = dropWritten(pending, bytesWritten);
    }
    this.startWriteback(offset, total);
  }

  writeInline(offset: number, parts: readonly Uint8Array[]): boolean {
    let total = 0;
    for (const p of parts) total += p.length;
    if (total > INLINE_WRITE_MAX_BYTES) return false;
    this.checkWritable();
    this.checkRange(offset, total);
    let pending = parts.filter((p) => p.length > 0);
    let at = offset;
    while (pending.length > 0) {
      const bytesWritten = writevSync(this.handle.fd, pending, at);
      at += bytesWritten;
      pending = dropWritten(pending, bytesWritten);
    }
    return true;
  }

  async flush(): Promise<void> {
    assert(!this.closed, 'flush after close');
    await this.handle.datasync();
  }

  hostSpace(): HostSpace {
    return hostSpaceSync(this.path, this.sizeBytes);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.earlyWritebacks > 0) await writeback?.forget(this.handle.fd);
      await this.handle.close();
    } finally {
      await this.lock?.release();
    }
  }

  /** Start the device's writeback of a large write that just landed (see the head of this file). */
  private startWriteback(offset: number, length: number): void {
    if (length < EARLY_WRITEBACK_MIN_BYTES || !this.earlyWriteback || writeback === undefined || this.closed) return;
    this.earlyWritebacks++;
    writeback.startWriteback(this.handle.fd, offset, length);
  }

  private checkWritable(): void {
    if (this.readOnly) throw new ReadOnlyError(`${this.path} is open read-only: write refused`);
  }

  private checkRange(offset: number, length: number): void {
    assert(!this.closed, 'io after close');
    // The message is built only on failure (this runs for every read and write: see assert.ts).
    if (!(offset >= 0 && length >= 0 && offset + length <= this.sizeBytes)) throw new AssertionError(`io out of range: ${offset}+${length}`);
  }
}

/** What is left of `parts` after the first `n` bytes were written. */
function dropWritten(parts: readonly Uint8Array[], n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let skip = n;
  for (const p of parts) {
    if (skip >= p.length) {
      skip -= p.length;
      continue;
    }
    out.push(skip > 0 ? p.subarray(skip) : p);
    skip = 0;
  }
  return out;
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && err.code === code;
}

/** The disk's lock (none if `options.lock` is false; a read-only opener may go on without one where none can be created). */
async function takeLock(path: string, options: FileDiskOptions): Promise<DiskLock | undefined> {
  if (options.lock === false) return undefined;
  const records = new FileLockRecords(path);
  return options.readOnly === true ? DiskLock.acquireForReading(records, currentHolder()) : DiskLock.acquire(records, currentHolder());
}

/** Open an existing file or device; a device exclusively (EBUSY: held or mounted). */
async function openExisting(path: string, readOnly: boolean, device: boolean): Promise<FileHandle> {
  const mode = readOnly ? constants.O_RDONLY : constants.O_RDWR;
  try {
    return await open(path, device ? mode | constants.O_EXCL : mode);
  } catch (err: unknown) {
    if (device && isErrno(err, 'EBUSY')) throw new LockedError(`${path} is busy: another process holds the device exclusively, or it is mounted: refused`, { cause: err });
    throw withContext(err, `opening ${path}`);
  }
}

/** Block devices report size 0 through stat; sysfs gives it in 512-byte sectors. */
async function blockDeviceSize(path: string): Promise<number> {
  const text = await readFile(`/sys/class/block/${basename(path)}/size`, 'utf8');
  return Number.parseInt(text.trim(), 10) * 512;
}

const ZERO_BLOCK_BYTES = 16 * 1024 * 1024;

/** Write zeros over the first `size` bytes (allocating every block). */
async function writeZeros(handle: FileHandle, size: number): Promise<void> {
  const zeros = Buffer.alloc(Math.min(ZERO_BLOCK_BYTES, size));
  for (let at = 0; at < size; ) {
    const { bytesWritten } = await handle.write(zeros, 0, Math.min(zeros.length, size - at), at);
    at += bytesWritten;
  }
}
