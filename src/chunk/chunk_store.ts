// The chunk store: put(bytes) -> locator, get(locator) -> bytes, over
// extents. Reads verify every byte (CRC32C and the id at both ends) and go
// through the buffer cache; a mismatch is a CorruptionError, never data.
//
// A ChunkStream is one append target: it keeps an open extent of one owner
// and takes a new one when the next chunk does not fit. Data, index runs and
// reclamation each write through their own stream.
//
// Invariants:
// 1. A chunk never spans extents; chunks start 8-byte aligned.
// 2. The cache is dropped for an extent whenever that extent is reset.
// 3. scan() yields only chunks that verify whole; after a bad header or a
//    torn chunk it resumes at the next aligned offset, never trusting a
//    length field it could not verify.
// 4. scanHeads() yields every chunk whose header verifies (the header has
//    its own CRC, so its length is trusted to step to the next chunk); its
//    payload is verified only when asked for (ScannedHead.payload), which
//    throws CorruptionError for a payload that does not verify.
import { assert, AssertionError, CorruptionError } from '../base/index.js';
import type { RandomSource } from '../base/index.js';
import { Dependency, writeDataLength } from '../dependency/index.js';
import type { WriteOptions } from '../dependency/index.js';
import type { AllocateOptions, ExtentManager, ExtentOwner } from '../extent/index.js';
import type { BufferCache } from './buffer_cache.js';
import { checkChunk, frameChunkParts, parseHeader, verifyChunk } from './chunk_codec.js';
import { CHUNK_ALIGN_BYTES, CHUNK_HEADER_BYTES, CHUNK_OVERHEAD_BYTES, alignUp } from './chunk_format.js';
import { ChunkKind } from './chunk_format.js';
import type { ChunkId, Locator } from './chunk_format.js';
import type { ChunkAppend, ChunkIo } from './chunk_io.js';
import { FrameSlab } from './frame_slab.js';

export interface ScannedChunk {
  readonly locator: Locator;
  readonly kind: ChunkKind;
  readonly payload: Buffer;
}

/** A chunk found by scanHeads: its header verified, its payload not yet. */
export interface ScannedHead {
  readonly locator: Locator;
  readonly kind: ChunkKind;
  /** The payload's first bytes (at most SCAN_HEAD_BYTES), as read: NOT verified. */
  readonly head: Buffer;
  /** Payload bytes per the (verified) header. */
  readonly payloadBytes: number;
  /**
   * The verified payload: copied from the bytes the scan read if they hold
   * the whole chunk (a view would pin the scan's whole window for as long
   * as the caller holds it: a relocation's write of a large live chunk),
   * else one read of the chunk. Not cached. Throws CorruptionError if it
   * does not verify (torn, damaged).
   */
  payload(): Promise<Buffer>;
}

/** Bytes of a payload's start that scanHeads reads with its header (a data chunk's key header fits: 2 + MAX_KEY_BYTES). */
export const SCAN_HEAD_BYTES = 2048;
/** scanHeads reads this much first and after a chunk too large for its window: the next header and its head, not the next payload. */
const SCAN_HEAD_WINDOW_BYTES = 64 * 1024;

export interface ScanOptions {
  /** Stop at the first bad chunk instead of resynchronising (metadata log replay). */
  readonly stopAtDamage?: boolean;
  /** Bytes read per disk read. */
  readonly windowBytes?: number;
  /** Told the offset where each stretch of bytes that holds no whole chunk begins. */
  readonly onDamage?: (offset: number) => void;
}

/**
 * Data chunks whose payload is at most this many bytes enter the buffer
 * cache when their write is durable (write-through); larger ones enter it
 * when first read, unless their writer asks for it (AppendOptions
 * `cacheOnWrite`: the S3 front's object records, which the next overwrite
 * and every GET read back). Keeping every put's framed chunk cost a 4 KiB put at 64
 * in flight about 20 of its 45-50 us of main-thread CPU (each entry its own
 * ArrayBuffer in fresh memory, surviving into the old generation:
 * docs/BENCHMARKS.md, "Write-through only for small chunks"). A record of
 * the S3 front for an object stored as a data shard (its metadata, no body)
 * is below this, so an overwrite still reads the record it replaces from
 * memory; a 4 KiB value read right after its put comes from the disk (the
 * page cache) and is cached then.
 */
export const WRITE_THROUGH_MAX_PAYLOAD_BYTES = 2048;

/** How a chunk is appended, beyond the IO scheduler's ordering. */
export interface AppendOptions extends WriteOptions {
  /**
   * A data chunk framed in one buffer (payload below the gathered-write
   * size) enters the buffer cache once durable whatever its size: its
   * writer reads it back soon. Ignored for a chunk written as several
   * buffers (the frame is not in hand as one).
   */
  readonly cacheOnWrite?: boolean;
}

/** The write options of every data chunk (one object, not one per put). */
const RECORD_FOLLOWS = { recordFollows: true } as const;

export class ChunkStore {
  readonly maxPayloadBytes: number;
  readonly counters = { appends: 0, reads: 0, corrupt: 0 };
  /** Resets per extent, so a chunk cached on write is not cached into a later life of its extent. */
  private readonly resets = new Map<number, number>();
  /** Ids of data chunks whose write is neither durable nor failed, by locator (unsyncedKey). */
  private readonly unsynced = new Map<number, ChunkId>();
  private readonly frames = new FrameSlab();
  /** Memory for a frame the cache will not keep (frame_slab.ts). */
  private readonly takeFrame = (bytes: number): Buffer => this.frames.take(bytes);

  constructor(
    readonly extents: ExtentManager,
    readonly cache: BufferCache,
    private readonly random: RandomSource,
  ) {
    this.maxPayloadBytes = extents.extentSizeBytes - CHUNK_OVERHEAD_BYTES - CHUNK_ALIGN_BYTES;
    extents.onReset((extent) => {
      cache.invalidateExtent(extent);
      this.resets.set(extent, (this.resets.get(extent) ?? 0) + 1);
    });
  }

  /** Whether a chunk of `payloadBytes` fits at the extent's write pointer. */
  fits(extent: number, payloadBytes: number): boolean {
    return alignUp(CHUNK_OVERHEAD_BYTES + payloadBytes) <= this.extents.freeBytes(extent);
  }

  /**
   * Append a chunk to `extent`, issued once `after` is persistent (or, with
   * `sameFlush`, landed in the batch in flight: io_scheduler.ts).
   * REQUIRES: fits(extent, payload bytes).
   */
  appendTo(extent: number, kind: ChunkKind, parts: readonly Uint8Array[], after: Dependency, options: AppendOptions = {}): ChunkAppend {
    const id = { low: this.random.nextU32(), high: this.random.nextU32() };
    const payloadBytes = writeDataLength(parts);
    // A frame the cache will keep gets its own memory; the others share slabs (frame_slab.ts).
    const cacheable = kind === ChunkKind.Data && (options.cacheOnWrite === true || payloadBytes <= WRITE_THROUGH_MAX_PAYLOAD_BYTES);
    const framed = cacheable ? frameChunkParts(kind, parts, id) : frameChunkParts(kind, parts, id, this.takeFrame);
    const framedBytes = framed.framedBytes;
    if (framed.alignedBytes > this.extents.freeBytes(extent)) throw new AssertionError(`chunk of ${framedBytes} bytes does not fit extent ${extent}`);
    // A data chunk is named by a record that follows it (io_scheduler.ts, invariant 8); a record names sameFlushAfter.
    const { offset, dependency } = this.extents.append(extent, framed.parts, after, kind === ChunkKind.Data ? RECORD_FOLLOWS : options);
    this.counters.appends++;
    const locator = { extent, offset, length: framedBytes };
    if (kind === ChunkKind.Data) this.whileUnsynced(locator, id, cacheable && framed.parts.length === 1 ? framed.parts[0] : undefined, dependency);
    return { locator, dependency };
  }

  /**
   * The id of the data chunk at `loc` while its write is not durable (nor
   * failed): a metadata record written before it is durable names it, so
   * recovery can tell that exact chunk from a torn one or a stale one of an
   * earlier life of the extent (log_verify.ts). Undefined once durable.
   */
  unsyncedId(loc: Locator): ChunkId | undefined {
    return this.unsynced.get(this.unsyncedKey(loc));
  }

  /** A number, not an "extent:offset" string: two strings built and hashed per put showed in the profile. */
  private unsyncedKey(loc: Locator): number {
    return loc.extent * this.extents.extentSizeBytes + loc.offset;
  }

  /**
   * What a data chunk's write needs until it settles, with one callback on
   * its dependency (two per put, a cost of the profile, before):
   * - its id is kept for unsyncedId while the write is neither durable nor
   *   failed;
   * - a small chunk (`frame`: framed in one buffer, payload at most
   *   WRITE_THROUGH_MAX_PAYLOAD_BYTES, or any size its writer asked to
   *   cache) enters the buffer cache once its
   *   write is durable (write-through), so reading what was just written
   *   (an S3 overwrite reads the record it replaces) does not go to the
   *   disk. Not before: a failed write must not leave bytes in the cache
   *   that the disk does not hold, and not if the extent was reset in
   *   between.
   */
  private whileUnsynced(loc: Locator, id: ChunkId, frame: Uint8Array | undefined, dependency: Dependency): void {
    const key = this.unsyncedKey(loc);
    const track = !dependency.isPersistent() && dependency.failure() === undefined;
    if (track) this.unsynced.set(key, id);
    if (frame === undefined) {
      // Nothing to cache (a 4 KiB put): a closure that holds only what forgetting the id needs.
      if (track) dependency.onSettled(this.forgetWhenSettled(key, id));
      return;
    }
    const epoch = this.resets.get(loc.extent) ?? 0;
    dependency.onSettled(() => {
      if (track && this.unsynced.get(key) === id) this.unsynced.delete(key);
      if (dependency.failure() !== undefined || (this.resets.get(loc.extent) ?? 0) !== epoch) return;
      this.cache.insert(loc, ChunkKind.Data, Buffer.from(frame.buffer, frame.byteOffset + CHUNK_HEADER_BYTES, loc.length - CHUNK_OVERHEAD_BYTES));
    });
  }

  /** Forgets the id of the unsynced chunk at `key` once its write settles (unless another chunk took that place since). */
  private forgetWhenSettled(key: number, id: ChunkId): () => void {
    return () => {
      if (this.unsynced.get(key) === id) this.unsynced.delete(key);
    };
  }

  /** The chunk's verified payload if the buffer cache holds it; undefined otherwise (no read). */
  readCached(loc: Locator, kind: ChunkKind): Buffer | undefined {
    return this.cache.peek(loc, kind);
  }

  /** Read and verify a chunk's payload. Throws CorruptionError. */
  async read(loc: Locator, kind: ChunkKind): Promise<Buffer> {
    const cached = this.cache.get(loc, kind);
    if (cached !== undefined) return cached;
    const payload = await this.readFromDisk(loc, kind);
    if (this.cacheable(loc)) this.cache.insert(loc, kind, payload);
    return payload;
  }

  /**
   * Read and verify a chunk's payload for a reader that keeps it or hands
   * it on (DiskStore.getOwned). `cached` says whether `payload` is the
   * buffer cache's own bytes (the reader copies what it hands out) or
   * memory nothing else holds (the reader may hand it out as is). A payload
   * read from the disk is handed over as read, and kept by the cache only
   * if the cache admits it (a large one on its second read:
   * BufferCache.admit), since keeping it would cost the reader a copy.
   * Throws CorruptionError.
   */
  async readHandOver(loc: Locator, kind: ChunkKind): Promise<{ payload: Buffer; cached: boolean }> {
    const hit = this.cache.get(loc, kind);
    if (hit !== undefined) return { payload: hit, cached: true };
    const payload = await this.readFromDisk(loc, kind);
    const cached = this.cacheable(loc) && this.cache.admit(loc, payload.length) && this.cache.insert(loc, kind, payload);
    return { payload, cached };
  }

  /** One read of the framed chunk, verified whole; the payload shares the buffer read. */
  private async readFromDisk(loc: Locator, kind: ChunkKind): Promise<Buffer> {
    if (loc.length < CHUNK_OVERHEAD_BYTES) throw new CorruptionError(`locator length ${loc.length} below chunk overhead`);
    this.counters.reads++;
    return this.verifyRead(await this.extents.read(loc.extent, loc.offset, loc.length), loc, kind);
  }

  /** The payload of the framed chunk `buf` read at `loc`, verified whole (a view of `buf`); counts and throws CorruptionError. */
  private verifyRead(buf: Buffer, loc: Locator, kind: ChunkKind): Buffer {
    try {
      return verifyChunk(buf, kind, `${loc.extent}:${loc.offset}`);
    } catch (err: unknown) {
      this.counters.corrupt++;
      throw err;
    }
  }

  /**
   * Cache only what the disk holds for good, the rule whileUnsynced
   * follows: a get racing its put reads the chunk through the IO
   * scheduler's queue before the write is durable, and that write may
   * still fail (the cache would then keep bytes the disk never got); an
   * extent reset while the read ran holds none of it any more.
   */
  private cacheable(loc: Locator): boolean {
    return loc.offset + loc.length <= this.extents.durableWritePointer(loc.extent);
  }

  /** Every whole chunk below the write pointer of `extent`, in order. */
  async *scan(extent: number, options: ScanOptions = {}): AsyncGenerator<ScannedChunk> {
    const end = this.extents.writePointer(extent);
    const windowBytes = options.windowBytes ?? 4 * 1024 * 1024;
    let window: Buffer = Buffer.alloc(0);
    let windowStart = 0;
    const ensure = async (at: number, n: number): Promise<boolean> => {
      if (at + n > end) return false;
      if (at >= windowStart && at + n <= windowStart + window.length) return true;
      windowStart = at;
      window = await this.extents.read(extent, at, Math.min(end - at, Math.max(n, windowBytes)));
      return true;
    };
    let pos = 0;
    let inDamage = false;
    while (pos + CHUNK_OVERHEAD_BYTES <= end) {
      const found = await this.tryChunkAt(pos, ensure, () => ({ window, windowStart }));
      if (found !== undefined) {
        inDamage = false;
        yield { locator: { extent, offset: pos, length: found.length }, kind: found.kind, payload: found.payload };
        pos = alignUp(pos + found.length);
      } else {
        if (options.stopAtDamage === true) return;
        if (!inDamage) options.onDamage?.(pos);
        inDamage = true;
        pos += CHUNK_ALIGN_BYTES;
      }
    }
  }

  /**
   * Every chunk below the write pointer of `extent` whose header verifies,
   * in order, with the first bytes of its payload; the payload is read and
   * verified only if the caller asks (ScannedHead.payload). For a reader
   * that needs few payloads (reclamation needs only the live chunks'): a
   * chunk larger than the window is stepped over, not read, and the read
   * after it is a small one (SCAN_HEAD_WINDOW_BYTES). After a bad header it
   * resumes at the next aligned offset (onDamage told where the stretch
   * begins), as scan() does.
   */
  async *scanHeads(extent: number, options: Pick<ScanOptions, 'windowBytes' | 'onDamage'> = {}): AsyncGenerator<ScannedHead> {
    const end = this.extents.writePointer(extent);
    const windowBytes = options.windowBytes ?? 4 * 1024 * 1024;
    // Small until a chunk shows the window holds whole chunks. At most
    // 1/16 of an extent: the small extents of the checks' configurations
    // (64 KiB) get chunks the window does not hold, and their path.
    const headWindowBytes = Math.min(SCAN_HEAD_WINDOW_BYTES, Math.floor(this.extents.extentSizeBytes / 16));
    let readBytes = headWindowBytes;
    let window: Buffer = Buffer.alloc(0);
    let windowStart = 0;
    let pos = 0;
    let inDamage = false;
    const damage = (): void => {
      if (!inDamage) options.onDamage?.(pos);
      inDamage = true;
      pos += CHUNK_ALIGN_BYTES;
    };
    while (pos + CHUNK_OVERHEAD_BYTES <= end) {
      // The window holds a header and its head (or all that is left below the write pointer).
      const wanted = Math.min(end - pos, CHUNK_HEADER_BYTES + SCAN_HEAD_BYTES);
      if (pos < windowStart || pos + wanted > windowStart + window.length) {
        windowStart = pos;
        window = await this.extents.read(extent, pos, Math.max(wanted, Math.min(end - pos, readBytes)));
      }
      const header = parseHeader(window, pos - windowStart);
      const length = header === undefined ? 0 : CHUNK_OVERHEAD_BYTES + header.payloadBytes;
      if (header === undefined || pos + length > end) {
        damage();
        continue;
      }
      inDamage = false;
      const headBytes = Math.min(header.payloadBytes, SCAN_HEAD_BYTES);
      const at = pos - windowStart;
      const read = window;
      const locator = { extent, offset: pos, length };
      const whole = at + length <= read.length;
      yield {
        locator,
        kind: header.kind,
        head: read.subarray(at + CHUNK_HEADER_BYTES, at + CHUNK_HEADER_BYTES + headBytes),
        payloadBytes: header.payloadBytes,
        // A copy out of the window (ScannedHead.payload says why), or a read of its own.
        payload: whole ? () => Promise.resolve(Buffer.from(this.verifyRead(read.subarray(at, at + length), locator, header.kind))) : () => this.readFromDisk(locator, header.kind),
      };
      // Past a chunk the window did not hold, read small (the next header,
      // not the next payload); after one it held, read whole windows.
      readBytes = whole ? windowBytes : headWindowBytes;
      pos = alignUp(pos + length);
    }
  }

  private async tryChunkAt(
    pos: number,
    ensure: (at: number, n: number) => Promise<boolean>,
    view: () => { window: Buffer; windowStart: number },
  ): Promise<{ kind: ChunkKind; length: number; payload: Buffer } | undefined> {
    if (!(await ensure(pos, CHUNK_HEADER_BYTES))) return undefined;
    let { window, windowStart } = view();
    const header = parseHeader(window, pos - windowStart);
    if (header === undefined) return undefined;
    const length = CHUNK_OVERHEAD_BYTES + header.payloadBytes;
    if (!(await ensure(pos, length))) return undefined;
    ({ window, windowStart } = view());
    const checked = checkChunk(window, pos - windowStart);
    if (typeof checked === 'string') return undefined;
    return { kind: header.kind, length, payload: Buffer.from(checked.payload) };
  }
}

/** Appends chunks of one owner, taking a new extent when the open one is full. */
export class ChunkStream implements ChunkIo {
  private open: number | undefined;
  /** A stream whose open extent this one never appends to (the two copies of the index's runs). */
  private sibling: ChunkStream | undefined;
  readonly maxPayloadBytes: number;

  constructor(
    private readonly store: ChunkStore,
    readonly owner: ExtentOwner,
    private readonly options: AllocateOptions = {},
  ) {
    this.maxPayloadBytes = store.maxPayloadBytes;
  }

  get openExtent(): number | undefined {
    return this.open;
  }

  /**
   * Append a chunk to the open extent. No `after`: what a stream writes
   * (data chunks, copies by reclamation, LSM run chunks) waits for nothing
   * but the record of its extent's last reset, and the extent manager adds
   * that edge to every append (extent_manager.ts, invariant 3). What must
   * follow a stream's chunks names their dependency instead (a record, a
   * checkpoint: commit_log.ts).
   */
  append(kind: ChunkKind, parts: readonly Uint8Array[], options: Pick<AppendOptions, 'cacheOnWrite'> = {}): ChunkAppend {
    const bytes = writeDataLength(parts);
    if (bytes > this.maxPayloadBytes) throw new AssertionError(`chunk payload ${bytes} above ${this.maxPayloadBytes}`);
    const extent = this.extentFor(bytes);
    return this.store.appendTo(extent, kind, parts, Dependency.none, options);
  }

  read(loc: Locator, kind: ChunkKind): Promise<Buffer> {
    return this.store.read(loc, kind);
  }

  /**
   * Make `this` and `other` keep apart: neither appends to the extent the
   * other has open. The index writes each run chunk to one stream, then its
   * copy to the other, so the two copies of a chunk never share an extent.
   */
  pairWith(other: ChunkStream): void {
    assert(other !== this && other.owner === this.owner, 'pair two distinct streams of one owner');
    this.sibling = other;
    other.sibling = this;
  }

  /** Stop appending to the open extent (it is being reclaimed or was reset). */
  release(extent: number): void {
    if (this.open === extent) this.open = undefined;
  }

  private extentFor(payloadBytes: number): number {
    if (this.open !== undefined && this.usable(this.open, payloadBytes)) return this.open;
    const extents = this.store.extents;
    // Reuse a partly filled extent of ours before taking a fresh one, so a
    // reopen does not strand the free tail of every open extent.
    let best: number | undefined;
    for (const e of extents.extentsOwnedBy(this.owner)) {
      if (this.usable(e, payloadBytes) && (best === undefined || extents.freeBytes(e) > extents.freeBytes(best))) {
        best = e;
      }
    }
    this.open = best ?? extents.allocate(this.owner, this.options);
    return this.open;
  }

  /** Whether this stream may append a chunk of `payloadBytes` to `e` (a method, not a closure made per append). */
  private usable(e: number, payloadBytes: number): boolean {
    const extents = this.store.extents;
    return e !== this.sibling?.open && extents.owner(e) === this.owner && !extents.isSealed(e) && this.store.fits(e, payloadBytes);
  }
}
