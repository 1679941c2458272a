// Objects: a record under \0O naming the object's data shards (or holding
// small data inline), and immutable data shards under \0D (docs/S3.md).
//
// Write: stream the body into a new data shard (a fresh version, so nothing
// a reader might be streaming is ever overwritten), then, under the
// object's lock, stage the record that names it. The record is the commit
// point: before it the object is unchanged, after it the new data is the
// object. The data the old record named is garbage once the new record is
// durable; the collector deletes it.
//
// One durable step where the store allows it (TogetherApi): the version is
// drawn so that the data shard lands on the record's disk, its chunks are
// written without staging it (prepare), and the data shard and the record
// are staged together under the lock: one commit record, one sync, kept or
// lost whole by a crash, failed whole by a failed data write. Otherwise
// (no such store, or no version placed in MAX_PLACEMENT_DRAWS draws) two
// steps: the data shard is made durable before the record is staged.
//
// Read: read the record, pin its data shards (so the collector waits for
// us), check that the first one still exists (a record read just before a
// replacement may name data already deleted: read the record again), then
// stream the shards of the range in order.
import { CorruptionError, NotFoundError } from '../../base/index.js';
import type { Dependency } from '../../dependency/index.js';
import type { ByteRange, PreparedValue, TogetherApi, TogetherPut } from '../../store/index.js';
import { requireBucket } from './buckets.js';
import type { Core } from './core.js';
import { bucketLock, objectLock } from './core.js';
import type { DataRef, ObjectRecord, TagSet } from './records.js';
import { encodeObject } from './records.js';
import { S3Error, noSuchKey } from './s3_errors.js';
import { dataShardKey, newVersion, objectShardKey } from './shard_keys.js';
import { VERSION_RULES, isDeleteMarker, readCurrent, versionIdOf } from './versioning.js';

/** A record read this many times if its data keeps being replaced under us. */
const MAX_READ_ATTEMPTS = 4;
/**
 * Versions drawn, at most, to place a data shard on its record's disk (each
 * draw lands there with probability 1/disks: on 16 disks all 64 miss 1.6%
 * of the time, and the put takes two steps).
 */
const MAX_PLACEMENT_DRAWS = 64;

export type WrittenData =
  | { readonly kind: 'inline'; readonly bytes: Buffer }
  | {
      readonly kind: 'shard';
      readonly shardKey: Buffer;
      readonly ref: DataRef;
      /** Written but not staged: it is staged with its record (stageNaming). Undefined: durable already. */
      readonly prepared: PreparedValue | undefined;
    };

/** Where a put's data goes: the object's key and part, and the key of the record that will name it. */
export interface DataTarget {
  readonly bucket: string;
  readonly key: Buffer;
  readonly part: number;
  readonly recordKey: Buffer;
}

/** The object's current version; undefined if there is none or it is a delete marker (versioning.ts). */
export async function readObject(core: Core, bucket: string, key: Buffer): Promise<ObjectRecord | undefined> {
  const record = await readCurrent(core, bucket, key);
  return isDeleteMarker(record) ? undefined : record;
}

/** A record that is present but fails to decode (docs/S3.md, "Damaged records"). */
const DAMAGED = 'damaged';

/**
 * The record a put or delete replaces. A damaged one is 'damaged' when the
 * change does not need to read it (a plain overwrite or delete repairs the
 * object; its data is handed to the collector, which keeps only what the
 * new record names), and a CorruptionError (500) when it does (conditions).
 */
async function readReplaced(core: Core, bucket: string, key: Buffer, mustRead: boolean): Promise<ObjectRecord | typeof DAMAGED | undefined> {
  try {
    return await readCurrent(core, bucket, key);
  } catch (err) {
    if (mustRead || !(err instanceof CorruptionError)) throw err;
    core.logDamaged(objectShardKey(bucket, key), err, 'replaced');
    return DAMAGED;
  }
}

/** The old record named data the collector may now take. */
function namedData(old: ObjectRecord | typeof DAMAGED | undefined): boolean {
  return old === DAMAGED || (old !== undefined && old.parts.length > 0);
}

/**
 * Stream `body` into storage: inline if `inlineAllowed` and it ends within
 * inlineMaxBytes, else into a new data shard registered as in flight (the
 * caller's commit ends that, or discardData on failure): prepared, to be
 * staged with its record, if it could be placed on the record's disk, else
 * durable.
 */
export async function writeData(core: Core, target: DataTarget, body: AsyncIterable<Buffer>, inlineAllowed: boolean): Promise<WrittenData> {
  const input = body[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headBytes = 0;
  while (inlineAllowed && headBytes <= core.options.inlineMaxBytes) {
    const next = await input.next();
    if (next.done === true) return { kind: 'inline', bytes: Buffer.concat(head) };
    head.push(next.value);
    headBytes += next.value.length;
  }
  const { version, shardKey, together } = placeData(core, target);
  core.liveness.beginWrite(shardKey);
  let sizeBytes = 0;
  async function* all(): AsyncGenerator<Buffer> {
    for (const piece of head) yield piece;
    for (let next = await input.next(); next.done !== true; next = await input.next()) yield next.value;
  }
  async function* counted(): AsyncGenerator<Buffer> {
    for await (const piece of all()) {
      sizeBytes += piece.length;
      yield piece;
    }
  }
  let prepared: PreparedValue | undefined;
  try {
    if (together !== undefined) prepared = await together.prepare(shardKey, counted());
    else await core.durable(await core.api.put(shardKey, counted()));
  } catch (err) {
    core.liveness.endWrite(shardKey);
    await input.return?.();
    throw err;
  }
  return { kind: 'shard', shardKey, ref: { version, part: target.part, sizeBytes }, prepared };
}

/** A fresh version for the data, drawn until its shard shares a disk with the record (see the header comment). */
function placeData(core: Core, target: DataTarget): { version: Buffer; shardKey: Buffer; together: TogetherApi | undefined } {
  let version = newVersion(core.now());
  let shardKey = dataShardKey(target.bucket, target.key, version, target.part);
  const together = core.together;
  if (together === undefined) return { version, shardKey, together: undefined };
  for (let draw = 1; draw <= MAX_PLACEMENT_DRAWS; draw++) {
    if (together.colocated([shardKey, target.recordKey])) return { version, shardKey, together };
    version = newVersion(core.now());
    shardKey = dataShardKey(target.bucket, target.key, version, target.part);
  }
  return { version, shardKey, together: undefined };
}

/**
 * Stage the record `recordKey` = `recordBytes` and the data it names that
 * is written but not staged yet: together, in one commit record, if there
 * is such data, else the record alone (its data is durable already).
 * Where the store offers it, the record is put with readBack (TogetherPut):
 * the next write of the object reads it (readReplaced) and so does a GET,
 * and a record holding a small object inline is larger than the engine
 * keeps in its cache by default: without the hint that read went to the
 * disk, one more IO round trip on every overwrite (docs/BENCHMARKS.md,
 * "S3 PUT of 4 KiB at 1 in flight").
 * REQUIRES: the caller holds the object's lock.
 */
export async function stageNaming(core: Core, recordKey: Buffer, recordBytes: Buffer, written: readonly WrittenData[]): Promise<Dependency> {
  const prepared: TogetherPut[] = written.flatMap((w) => (w.kind === 'shard' && w.prepared !== undefined ? [{ key: w.shardKey, value: w.prepared }] : []));
  const record: TogetherPut = { key: recordKey, value: recordBytes, readBack: true };
  if (core.together !== undefined) return core.together.putTogether([...prepared, record]);
  if (prepared.length > 0) throw new Error('unreachable: data prepared on a store that cannot put it together');
  return core.api.put(recordKey, recordBytes);
}

/** Give up data that no record will name: the collector may take it now. */
export function discardData(core: Core, target: { bucket: string; key: Buffer }, written: WrittenData): void {
  if (written.kind === 'inline') return;
  written.prepared?.release();
  core.liveness.endWrite(written.shardKey);
  core.collector.schedule(target.bucket, target.key);
}

export interface CommitOptions {
  /** Checks against the record being replaced (conditional writes); may throw. */
  readonly check?: ((old: ObjectRecord | undefined) => void) | undefined;
  /** Data shards the record names that were in flight until now. */
  readonly written?: readonly WrittenData[];
}

/**
 * Stage `record` for the object (under its lock; with its data if that is
 * only prepared) and wait until it is durable; in a versioned bucket the
 * version it replaces is kept first (versioning.ts). Returns the record
 * committed (with its version stamp). Throws NoSuchBucket.
 */
export async function commitObject(core: Core, bucket: string, key: Buffer, record: ObjectRecord, options: CommitOptions = {}): Promise<ObjectRecord> {
  const written = options.written ?? [];
  let replaced: ObjectRecord | typeof DAMAGED | undefined;
  let committed = record;
  // Durable before the object's lock is released (Core.writeDurably: the collector takes it).
  await core.locks.shared(bucketLock(bucket), () =>
    core.writeDurably(objectLock(bucket, key), async () => {
      try {
        await requireBucket(core, bucket);
        const old = await readReplaced(core, bucket, key, options.check !== undefined);
        replaced = old;
        if (old !== DAMAGED) options.check?.(isDeleteMarker(old) ? undefined : old);
        committed = await VERSION_RULES.stamp(core, { bucket, key }, old, record);
        const dependency = await stageNaming(core, objectShardKey(bucket, key), encodeObject(committed), written);
        for (const w of written) if (w.kind === 'shard') core.liveness.endWrite(w.shardKey);
        return { dependency, value: undefined };
      } catch (err) {
        for (const w of written) discardData(core, { bucket, key }, w);
        throw err;
      }
    }),
  );
  // A versioned write may leave a replaced null version for the collector (versioning.ts, invariant 3).
  if (namedData(replaced) || committed.version !== undefined) core.collector.schedule(bucket, key);
  return committed;
}

/**
 * Give the object the tag set `tags` (PutObjectTagging, DeleteObjectTagging):
 * the record is rewritten with the same data, ETag and mtime (tagging does
 * not change Last-Modified in S3), under the object's lock so no commit
 * slips in between. Resolves once durable. Throws NoSuchKey, NoSuchBucket.
 */
export async function retagObject(core: Core, bucket: string, key: Buffer, tags: TagSet): Promise<void> {
  const dependency = await core.locks.shared(bucketLock(bucket), () =>
    core.locks.exclusive(objectLock(bucket, key), async () => {
      const record = await requireObject(core, bucket, key);
      return core.api.put(objectShardKey(bucket, key), encodeObject({ ...record, tags }));
    }),
  );
  await core.durable(dependency);
}

/** Delete the object if it exists, and if `check` (run under the object's lock, on the object as it is) does not throw; resolves once the deletion is durable. */
export async function deleteObject(core: Core, bucket: string, key: Buffer, check?: (old: ObjectRecord | undefined) => void): Promise<void> {
  // Durable before the object's lock is released, as in commitObject.
  const old = await core.writeDurably(objectLock(bucket, key), async () => {
    // A conditional delete must see the record: a damaged one fails it (CorruptionError) rather than pass unchecked.
    const record = await readReplaced(core, bucket, key, check !== undefined);
    if (record !== DAMAGED) check?.(record);
    return { dependency: record === undefined ? undefined : await core.api.delete(objectShardKey(bucket, key)), value: record };
  });
  if (namedData(old)) core.collector.schedule(bucket, key);
}

export interface OpenedObject {
  readonly record: ObjectRecord;
  /** The range `choose` picked. */
  readonly range: ByteRange;
  /** The bytes of the range chosen, streamed. */
  readonly body: AsyncIterable<Buffer>;
  /** Idempotent; the body calls it when it ends, callers call it when they give up on the body. */
  release(): void;
}

/** The object's record. Throws NoSuchKey, or NoSuchBucket if the bucket is missing too. */
export async function requireObject(core: Core, bucket: string, key: Buffer): Promise<ObjectRecord> {
  const record = await readCurrent(core, bucket, key);
  if (record !== undefined && !isDeleteMarker(record)) return record;
  await requireBucket(core, bucket);
  if (record === undefined) throw noSuchKey(key.toString('utf8'));
  // S3 answers a delete marker as no object, and says it is one.
  throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key.toString('utf8') }, { 'x-amz-delete-marker': 'true', 'x-amz-version-id': versionIdOf(record) });
}

/**
 * Read the record (`read`: the current version, or another one), let
 * `choose` pick the range (it may throw: conditions, 416) and open it.
 * Throws NoSuchKey, NoSuchBucket.
 */
export async function openObject(
  core: Core,
  bucket: string,
  key: Buffer,
  choose: (record: ObjectRecord) => ByteRange,
  read: () => Promise<ObjectRecord> = () => requireObject(core, bucket, key),
): Promise<OpenedObject> {
  for (let attempt = 1; attempt <= MAX_READ_ATTEMPTS; attempt++) {
    const record = await read();
    const range = choose(record);
    if (record.inline !== undefined) {
      const bytes = record.inline.subarray(range.start, range.end);
      return { record, range, body: once(bytes), release: () => undefined };
    }
    const pieces = piecesOf(bucket, key, record, range);
    const shardKeys = record.parts.map((p) => dataShardKey(bucket, key, p.version, p.part));
    if (!core.liveness.pin(shardKeys)) continue;
    if (await firstPieceExists(core, pieces)) return { range, ...pinnedBody(core, record, pieces, shardKeys) };
    core.liveness.unpin(shardKeys);
  }
  throw new S3Error(503, 'SlowDown', 'The object is being replaced too often to read it; retry.');
}

interface Piece {
  readonly shardKey: Buffer;
  readonly range: ByteRange;
}

/** The parts of [range.start, range.end), each as a range within its shard. */
function piecesOf(bucket: string, key: Buffer, record: ObjectRecord, range: ByteRange): Piece[] {
  const pieces: Piece[] = [];
  let at = 0;
  for (const p of record.parts) {
    const start = Math.max(range.start, at);
    const end = Math.min(range.end, at + p.sizeBytes);
    if (start < end) pieces.push({ shardKey: dataShardKey(bucket, key, p.version, p.part), range: { start: start - at, end: end - at } });
    at += p.sizeBytes;
  }
  return pieces;
}

async function firstPieceExists(core: Core, pieces: readonly Piece[]): Promise<boolean> {
  const first = pieces[0];
  if (first === undefined) return true;
  try {
    return (await core.api.head(first.shardKey)).sizeBytes >= first.range.end;
  } catch (err) {
    if (err instanceof NotFoundError) return false;
    throw err;
  }
}

function pinnedBody(core: Core, record: ObjectRecord, pieces: readonly Piece[], shardKeys: Buffer[]): Omit<OpenedObject, 'range'> {
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    core.liveness.unpin(shardKeys);
  };
  async function* body(): AsyncGenerator<Buffer> {
    try {
      for (const piece of pieces) {
        const reader = await core.api.read(piece.shardKey, piece.range);
        yield* reader.body;
      }
    } finally {
      release();
    }
  }
  return { record, body: body(), release };
}

/** A body of one buffer (inline objects). */
function once(bytes: Buffer): AsyncIterable<Buffer> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<Buffer, undefined> {
      let given = false;
      return {
        next: (): Promise<IteratorResult<Buffer, undefined>> => {
          const result: IteratorResult<Buffer, undefined> = given ? { done: true, value: undefined } : { done: false, value: bytes };
          given = true;
          return Promise.resolve(result);
        },
      };
    },
  };
}
