// A Disk over a regular file (created at its full size, sparse) or a block
// device. flush is fdatasync.
import { open, stat, readFile, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { assert, HostNoSpaceError, IoError, InvalidArgumentError, isHostNoSpace } from '../base/index.js';
import { DEFAULT_PAGE_SIZE_BYTES } from './disk.js';
import type { Disk } from './disk.js';
import { hostSpaceSync } from './host_fs.js';
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
}

export class FileDisk implements Disk {
  private closed = false;

  private constructor(
    private readonly handle: FileHandle,
    readonly path: string,
    readonly sizeBytes: number,
    readonly pageSizeBytes: number,
  ) {}

  /** Open (or create) the file or block device at `path`. */
  static async open(path: string, options: FileDiskOptions = {}): Promise<FileDisk> {
    const pageSizeBytes = options.pageSizeBytes ?? DEFAULT_PAGE_SIZE_BYTES;
    const existing = await stat(path).catch((err: unknown) => {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw new IoError(`stat ${path}: ${String(err)}`, { cause: err });
    });
    if (existing === undefined) {
      const size = options.createSizeBytes;
      if (size === undefined) throw new IoError(`${path} does not exist`);
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
      return new FileDisk(handle, path, size, pageSizeBytes);
    }
    const handle = await open(path, 'r+');
    const size = existing.isBlockDevice() ? await blockDeviceSize(path) : existing.size;
    return new FileDisk(handle, path, size, pageSizeBytes);
  }

  async read(offset: number, length: number): Promise<Buffer> {
    this.checkRange(offset, length);
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(buf, done, length - done, offset + done);
      if (bytesRead === 0) throw new IoError(`${this.path}: short read at ${offset + done}`);
      done += bytesRead;
    }
    return buf;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    this.checkRange(offset, data.length);
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.handle.write(data, done, data.length - done, offset + done);
      done += bytesWritten;
    }
  }

  async writev(offset: number, parts: readonly Uint8Array[]): Promise<void> {
    let total = 0;
    for (const p of parts) total += p.length;
    this.checkRange(offset, total);
    let pending = parts.filter((p) => p.length > 0);
    let at = offset;
    while (pending.length > 0) {
      const { bytesWritten } = await this.handle.writev(pending, at);
      at += bytesWritten;
      pending = dropWritten(pending, bytesWritten);
    }
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
    await this.handle.close();
  }

  private checkRange(offset: number, length: number): void {
    assert(!this.closed, 'io after close');
    assert(offset >= 0 && length >= 0 && offset + length <= this.sizeBytes, `io out of range: ${offset}+${length}`);
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
