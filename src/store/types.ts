// The ShardStore API as callers see it: one disk's store and the node
// (several disks) offer the same interface, so the server, the reference
// model and the checkers all speak it.
import type { Dependency } from '../dependency/index.js';

/** Keys are 1..MAX_KEY_BYTES bytes (defined by the index's run format, which stores them). */
export { MAX_KEY_BYTES } from '../index/index.js';

/** A value given whole, or streamed (bounded memory: chunks are written as they arrive). */
export type ValueSource = Uint8Array | AsyncIterable<Uint8Array>;

export interface ShardInfo {
  readonly key: Buffer;
  readonly sizeBytes: number;
}

/** Byte range [start, end) of a value. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export interface ShardReader {
  /** The whole value's size (not the range's). */
  readonly sizeBytes: number;
  /** The bytes of the requested range (the whole value by default), chunk by chunk. */
  readonly body: AsyncIterable<Buffer>;
}

export interface ListOptions {
  readonly prefix?: Buffer;
  /** Only keys strictly greater than this. */
  readonly startAfter?: Buffer;
  /** At most this many shards (default and maximum: MAX_LIST_LIMIT). */
  readonly limit?: number;
}

export const MAX_LIST_LIMIT = 10_000;

export interface ListResult {
  /** In ascending byte order of key. */
  readonly shards: ShardInfo[];
  /** More keys match after the last one returned. */
  readonly truncated: boolean;
}

export interface StoreStats {
  readonly disks: number;
  readonly capacityBytes: number;
  readonly extentSizeBytes: number;
  readonly extentsFree: number;
  readonly extentsData: number;
  readonly extentsIndex: number;
  readonly extentsMeta: number;
  readonly commits: number;
  readonly flushes: number;
  readonly reclaimedExtents: number;
  readonly reclaimedBytes: number;
  readonly movedBytes: number;
  /**
   * Puts (and chunks of streamed values) that found no free extent and
   * waited for reclamation to free one, since open (absent in a model).
   */
  readonly putsWaitedForRoom?: number;
  /** Live bytes and shard counts are complete (false while they are counted after open). */
  readonly liveBytesReady: boolean;
  /**
   * Why the store is degraded, one line per cause: a disk turned read-only
   * (a failed metadata write), the host file system refused to prepare the
   * reserve, the host file system is full. Empty or absent when healthy.
   */
  readonly degraded?: readonly string[];
  /** Disks whose store turned read-only. */
  readonly readOnlyDisks?: number;
  /** Writes the host file system refused for lack of space since open. */
  readonly hostNoSpaceWrites?: number;
  /** Free extents prepared on the host (written once, so a full host cannot refuse them). */
  readonly preparedExtents?: number;
  /** Free bytes of the fullest host file system under a file-backed disk (absent for other disks). */
  readonly hostFreeBytes?: number;
}

/**
 * Every mutating call returns the Dependency that becomes persistent when
 * the change is durable. Calls resolve as soon as the change is visible to
 * reads (read-your-writes), before it is durable.
 *
 * A put does not copy large values: the store writes the caller's buffers
 * (or the stream's chunks) as they are, so they must not be modified until
 * the returned Dependency has settled, as with `fs.write`.
 */
export interface ShardApi {
  put(key: Buffer, value: ValueSource): Promise<Dependency>;
  /** The whole value, which the caller must not change (it may be a cache's own bytes). Throws NotFoundError. */
  get(key: Buffer): Promise<Buffer>;
  /**
   * get, but a key with no value answers undefined instead of throwing
   * NotFoundError: for callers that expect absence often (the S3 front's
   * optional bucket settings, read on every request), where an exception
   * per absent key costs its stack trace. Every other error throws as get's.
   */
  find(key: Buffer): Promise<Buffer | undefined>;
  /** Stream a value or a range of it. Throws NotFoundError, InvalidArgumentError (range). */
  read(key: Buffer, range?: ByteRange): Promise<ShardReader>;
  /** Size of the value. Throws NotFoundError. */
  head(key: Buffer): Promise<ShardInfo>;
  /** Throws NotFoundError if the key has no value. */
  delete(key: Buffer): Promise<Dependency>;
  list(options?: ListOptions): Promise<ListResult>;
  /** Make everything so far durable, and write the index memtable out as a run. */
  flush(): Promise<void>;
  /** Clean shutdown: every Dependency handed out is persistent when this resolves. */
  close(): Promise<void>;
  stats(): StoreStats;
}

/**
 * A value whose chunks are written (prepare) but that no key holds yet:
 * putTogether stages it, or release() gives it up (its chunks are garbage
 * for reclamation). Until one of them, its extents are not reclaimed.
 */
export interface PreparedValue {
  readonly key: Buffer;
  readonly sizeBytes: number;
  /** Give the value up: it is never staged. Idempotent; a no-op once staged. */
  release(): void;
}

/** One put of putTogether: a value given whole, or prepared before. */
export interface TogetherPut {
  readonly key: Buffer;
  readonly value: Uint8Array | PreparedValue;
  /**
   * The caller reads this value back soon (the S3 front's object record:
   * the next overwrite of the object reads the record it replaces, a GET
   * reads it): its chunks are kept in the buffer cache once durable,
   * whatever their size, instead of only the smallest (the write-through
   * bound, src/chunk/chunk_store.ts). A cache policy, not a semantic: gets
   * answer the same either way. A value given whole only: a prepared
   * value's chunks are written already (InvalidArgumentError).
   */
  readonly readBack?: boolean;
}

/**
 * Puts committed together (the S3 front's object record and its data):
 * one commit cycle, one metadata record, one sync. Offered by the store of
 * one disk and by the node for keys of one disk; not part of ShardApi, so
 * callers that can do without it (the reference model, wrappers) need not.
 */
export interface TogetherApi {
  /** Write a value's chunks without making it visible. Throws as put does. */
  prepare(key: Buffer, value: ValueSource): Promise<PreparedValue>;
  /**
   * Stage every put as one change: visible at once, all in one commit
   * record, so a crash keeps all or none of them and a failed data write
   * fails them all. The Dependency is persistent once all are durable.
   * REQUIRES: colocated(keys), distinct keys, each prepared value from this
   * api, for its key, and not staged or released. Throws InvalidArgumentError
   * otherwise. Every prepared value given is released on return, staged or not.
   */
  putTogether(puts: readonly TogetherPut[]): Promise<Dependency>;
  /** True if putTogether can take these keys together (they are on one disk). */
  colocated(keys: readonly Buffer[]): boolean;
}

export function offersTogether(api: ShardApi): api is ShardApi & TogetherApi {
  const a = api as Partial<TogetherApi>;
  return typeof a.prepare === 'function' && typeof a.putTogether === 'function' && typeof a.colocated === 'function';
}
