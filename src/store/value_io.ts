// Values as chunks. A value is split into data chunks of at most
// maxChunkDataBytes; each data chunk's payload is (u16 key length, key,
// data), so a scan of an extent can ask the index whether the chunk is
// still live (reclamation's reverse lookup), and a read can check that the
// chunk belongs to the key it was asked for.
//
// Writes stream: at most `windowChunks` chunks are queued and not yet
// durable at a time, so a 5 GiB put holds a few MiB in memory.
import { CorruptionError, NoSpaceError } from '../base/index.js';
import { ChunkKind, chunkDataBytes, dataHeader, splitDataPayload } from '../chunk/index.js';
import type { ChunkStore, ChunkStream, Locator } from '../chunk/index.js';
import { Dependency } from '../dependency/index.js';
import type { IndexValue } from '../index/index.js';
import type { ByteRange } from './types.js';

/** Splits a value into data chunks as bytes arrive. */
export class ValueWriter {
  private readonly header: Buffer;
  private readonly chunks: Locator[] = [];
  private sizeBytes = 0;
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private dependency = Dependency.none;
  private readonly window: Dependency[] = [];
  private readonly append: { readonly cacheOnWrite?: boolean };
  private readonly room: (() => Promise<boolean>) | undefined;

  constructor(
    private readonly stream: ChunkStream,
    key: Buffer,
    private readonly maxChunkDataBytes: number,
    private readonly windowChunks: number,
    options: {
      /** Its chunks enter the buffer cache once durable, whatever their size (ChunkStore, AppendOptions). */
      readonly cacheOnWrite?: boolean;
      /**
       * Called when no extent is free for the next chunk: resolves true once
       * one was freed (the append is tried again), false if none can be
       * (the NoSpaceError is thrown). Background.makeRoom.
       */
      readonly room?: () => Promise<boolean>;
    } = {},
  ) {
    this.header = dataHeader(key);
    this.append = options.cacheOnWrite === true ? { cacheOnWrite: true } : {};
    this.room = options.room;
  }

  /**
   * Locators of the chunks written so far. Until the value is staged they
   * are in no index entry and no overlay, so reclamation must not pick
   * their extents (it would take the chunks for garbage).
   */
  get written(): readonly Locator[] {
    return this.chunks;
  }

  /** Bytes taken so far (written, or buffered for the next chunk). */
  get takenBytes(): number {
    return this.sizeBytes + this.bufferedBytes;
  }

  /**
   * Take more bytes; resolves when the window has room again. A full chunk
   * is written once more bytes come (or at finish), so the last chunk of a
   * value waits for finish: a value prepared ahead of its commit
   * (DiskStore.prepare) writes its last chunk in the commit's own batch.
   */
  async push(bytes: Uint8Array): Promise<void> {
    let at = 0;
    while (at < bytes.length) {
      if (this.bufferedBytes === this.maxChunkDataBytes) await this.emit();
      const take = Math.min(bytes.length - at, this.maxChunkDataBytes - this.bufferedBytes);
      const piece = bytes.subarray(at, at + take);
      this.buffered.push(Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength));
      this.bufferedBytes += take;
      at += take;
    }
  }

  /** Write what is buffered; the value's index entry and the dependency on all its chunks. */
  async finish(): Promise<{ value: IndexValue; dependency: Dependency }> {
    if (this.bufferedBytes > 0) await this.emit();
    return { value: { sizeBytes: this.sizeBytes, chunks: this.chunks }, dependency: this.dependency };
  }

  private async emit(): Promise<void> {
    const parts = [this.header, ...this.buffered];
    let appended: { locator: Locator; dependency: Dependency };
    try {
      appended = this.stream.append(ChunkKind.Data, parts, this.append);
    } catch (err: unknown) {
      appended = await this.appendAfterRoom(parts, err);
    }
    const { locator, dependency } = appended;
    this.chunks.push(locator);
    this.sizeBytes += this.bufferedBytes;
    this.dependency = this.dependency.and(dependency);
    this.buffered = [];
    this.bufferedBytes = 0;
    this.window.push(dependency);
    if (this.window.length > this.windowChunks) {
      const oldest = this.window.shift();
      if (oldest !== undefined) await oldest.persisted();
    }
  }

  /**
   * The append of `parts` once it failed with `failure`: while that is a
   * NoSpaceError and options.room frees an extent, try again. (Not on the
   * common path: an append that succeeds at once awaits nothing.)
   */
  private async appendAfterRoom(parts: readonly Uint8Array[], failure: unknown): Promise<{ locator: Locator; dependency: Dependency }> {
    for (;;) {
      if (!(failure instanceof NoSpaceError) || this.room === undefined || !(await this.room())) throw failure;
      try {
        return this.stream.append(ChunkKind.Data, parts, this.append);
      } catch (err: unknown) {
        failure = err;
      }
    }
  }
}

/** Read the data of chunk `loc`, checking that it belongs to `key`. */
export async function readDataChunk(chunks: ChunkStore, loc: Locator, key: Buffer): Promise<Buffer> {
  return dataOf(await chunks.read(loc, ChunkKind.Data), loc, key);
}

/** The data of a data chunk's verified payload, checking that it belongs to `key` and its size. */
function dataOf(payload: Buffer, loc: Locator, key: Buffer): Buffer {
  const { key: owner, data } = splitDataPayload(payload);
  if (!owner.equals(key)) throw new CorruptionError(`data chunk at ${loc.extent}:${loc.offset} belongs to another key`);
  return data;
}

/**
 * The whole value if every chunk of it is in the buffer cache, without
 * waiting (a hot get); undefined if one is not (then read it). The same
 * checks as readWholeValue.
 */
export function cachedWholeValue(chunks: ChunkStore, key: Buffer, value: IndexValue): Buffer | undefined {
  const parts: Buffer[] = [];
  for (const loc of value.chunks) {
    const payload = chunks.readCached(loc, ChunkKind.Data);
    if (payload === undefined) return undefined;
    parts.push(dataOf(payload, loc, key));
  }
  return checkedWhole(parts, value, key);
}

/** The value from its chunks' data, each checked against its locator's size and the total against the value's. */
function checkedWhole(parts: readonly Buffer[], value: IndexValue, key: Buffer): Buffer {
  let total = 0;
  parts.forEach((data, i) => {
    const loc = value.chunks[i];
    if (loc === undefined || data.length !== chunkDataBytes(loc, key)) throw new CorruptionError(`data chunk at ${loc?.extent}:${loc?.offset}: size mismatch`);
    total += data.length;
  });
  if (total !== value.sizeBytes) throw new CorruptionError(`value of ${value.sizeBytes} bytes has ${total} bytes of chunks`);
  const only = parts[0];
  return parts.length === 1 && only !== undefined ? only : Buffer.concat(parts, total);
}

/**
 * The whole value in one buffer (a get): the same checks as
 * readValueRange without an async generator per call, which cost a 4 KiB
 * get more than the cache lookup. One chunk returns its data as is.
 */
export async function readWholeValue(chunks: ChunkStore, key: Buffer, value: IndexValue): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const loc of value.chunks) parts.push(await readDataChunk(chunks, loc, key));
  return checkedWhole(parts, value, key);
}

/**
 * The whole value in memory the caller owns (DiskStore.getOwned), with the
 * checks of readWholeValue. A one-chunk value read from the disk is the
 * buffer read, handed over without a copy; one the buffer cache holds is
 * copied once; several chunks are joined into one new buffer (that join is
 * their only copy).
 */
export async function readWholeValueOwned(chunks: ChunkStore, key: Buffer, value: IndexValue): Promise<Buffer> {
  const parts: Buffer[] = [];
  let shared = false;
  for (const loc of value.chunks) {
    const { payload, cached } = await chunks.readHandOver(loc, ChunkKind.Data);
    parts.push(dataOf(payload, loc, key));
    shared ||= cached;
  }
  const whole = checkedWhole(parts, value, key);
  return parts.length === 1 && shared ? Buffer.from(whole) : whole;
}

/** Yield the bytes of `range` of the value, chunk by chunk. */
export async function* readValueRange(
  chunks: ChunkStore,
  key: Buffer,
  value: IndexValue,
  range: ByteRange,
): AsyncGenerator<Buffer> {
  let chunkStart = 0;
  for (const loc of value.chunks) {
    const dataBytes = chunkDataBytes(loc, key);
    const chunkEnd = chunkStart + dataBytes;
    if (chunkEnd > range.start && chunkStart < range.end) {
      const data = await readDataChunk(chunks, loc, key);
      if (data.length !== dataBytes) throw new CorruptionError(`data chunk at ${loc.extent}:${loc.offset}: size mismatch`);
      yield data.subarray(Math.max(0, range.start - chunkStart), Math.min(dataBytes, range.end - chunkStart));
    }
    chunkStart = chunkEnd;
    if (chunkStart >= range.end) break;
  }
  if (chunkStart < Math.min(range.end, value.sizeBytes)) {
    throw new CorruptionError(`value of ${value.sizeBytes} bytes has only ${chunkStart} bytes of chunks`);
  }
}
