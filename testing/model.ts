// ModelStore: the executable reference model of the whole store (SYSTEM.md
// section 2). It is the specification: the store must give the same answers
// to the same calls. It is also the mock behind the server tests.
//
// The model is a Map from key bytes to value bytes. Everything is durable at
// once, so every mutating call returns Dependency.none.
//
// Semantics (the store mirrors each line exactly):
// 1. A key is 1..MAX_KEY_BYTES bytes, else InvalidArgumentError (checked
//    before a streamed value is read).
// 2. put stores a copy of the value; a streamed value is the concatenation of
//    its chunks. The new value becomes visible only when put resolves; if the
//    stream throws, put rejects with that error and the key keeps its old
//    value (or stays absent).
// 3. get, read, head and delete of an absent key throw NotFoundError.
// 4. read(key, {start, end}) returns bytes [start, end) and requires safe
//    integers with 0 <= start <= end <= size (so start === end is an empty
//    read, also on an empty value), else InvalidArgumentError. A reader is a
//    snapshot: a later put or delete does not change what it yields.
// 5. list returns keys in ascending Buffer.compare order that start with
//    `prefix` (default: all) and are strictly greater than `startAfter`
//    (default: none); `limit` must be an integer >= 1 (else
//    InvalidArgumentError), defaults to MAX_LIST_LIMIT and is clamped to it.
//    `truncated` says that more keys match after the last one returned.
// 6. After close, every call but stats throws ClosedError; close is idempotent.
import { ClosedError, InvalidArgumentError, NotFoundError } from '../src/base/index.js';
import { Dependency } from '../src/dependency/index.js';
// types.js, not index.js: the spec depends on the API alone, never on the implementation.
import { MAX_KEY_BYTES, MAX_LIST_LIMIT } from '../src/store/types.js';
import type {
  ByteRange,
  ListOptions,
  ListResult,
  ShardApi,
  ShardInfo,
  ShardReader,
  StoreStats,
  ValueSource,
} from '../src/store/types.js';

/** Readers yield at most this many bytes per chunk, so consumers see a real stream. */
const READ_CHUNK_BYTES = 1 << 20;

export class ModelStore implements ShardApi {
  // Keyed by the latin1 string of the key bytes: a bijection, so no two keys collide.
  private readonly values = new Map<string, Buffer>();
  private closed = false;

  async put(key: Buffer, value: ValueSource): Promise<Dependency> {
    await turn();
    this.checkOpen();
    checkKey(key);
    const bytes = await collect(value);
    this.checkOpen();
    this.values.set(key.toString('latin1'), bytes);
    return Dependency.none;
  }

  async get(key: Buffer): Promise<Buffer> {
    await turn();
    return Buffer.from(this.lookup(key));
  }

  async read(key: Buffer, range?: ByteRange): Promise<ShardReader> {
    await turn();
    const value = this.lookup(key);
    const { start, end } = range ?? { start: 0, end: value.length };
    checkRange(start, end, value.length);
    return { sizeBytes: value.length, body: chunksOf(value.subarray(start, end)) };
  }

  async head(key: Buffer): Promise<ShardInfo> {
    await turn();
    const value = this.lookup(key);
    return { key: Buffer.from(key), sizeBytes: value.length };
  }

  async delete(key: Buffer): Promise<Dependency> {
    await turn();
    this.lookup(key);
    this.values.delete(key.toString('latin1'));
    return Dependency.none;
  }

  async list(options: ListOptions = {}): Promise<ListResult> {
    await turn();
    this.checkOpen();
    const limit = checkLimit(options.limit);
    const { prefix, startAfter } = options;
    const keys = [...this.values.keys()]
      .map((k) => Buffer.from(k, 'latin1'))
      .filter((k) => prefix === undefined || k.subarray(0, prefix.length).equals(prefix))
      .filter((k) => startAfter === undefined || Buffer.compare(k, startAfter) > 0)
      .sort((a, b) => Buffer.compare(a, b));
    const shards = keys.slice(0, limit).map((key) => ({ key, sizeBytes: this.sizeOf(key) }));
    return { shards, truncated: keys.length > limit };
  }

  async flush(): Promise<void> {
    await turn();
    this.checkOpen();
  }

  async close(): Promise<void> {
    await turn();
    this.closed = true;
  }

  stats(): StoreStats {
    return {
      disks: 1,
      capacityBytes: 0,
      extentSizeBytes: 0,
      extentsFree: 0,
      extentsData: 0,
      extentsIndex: 0,
      extentsMeta: 0,
      commits: 0,
      flushes: 0,
      reclaimedExtents: 0,
      reclaimedBytes: 0,
      movedBytes: 0,
    };
  }

  private lookup(key: Buffer): Buffer {
    this.checkOpen();
    checkKey(key);
    const value = this.values.get(key.toString('latin1'));
    if (value === undefined) throw new NotFoundError(`no shard ${key.toString('hex')}`);
    return value;
  }

  private sizeOf(key: Buffer): number {
    return this.values.get(key.toString('latin1'))?.length ?? 0;
  }

  private checkOpen(): void {
    if (this.closed) throw new ClosedError('store is closed');
  }
}

function checkKey(key: Buffer): void {
  if (key.length < 1 || key.length > MAX_KEY_BYTES) {
    throw new InvalidArgumentError(`key must be 1..${MAX_KEY_BYTES} bytes, got ${key.length}`);
  }
}

function checkRange(start: number, end: number, sizeBytes: number): void {
  const ok = Number.isSafeInteger(start) && Number.isSafeInteger(end) && 0 <= start && start <= end && end <= sizeBytes;
  if (!ok) throw new InvalidArgumentError(`range [${start}, ${end}) is not within a value of ${sizeBytes} bytes`);
}

function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return MAX_LIST_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new InvalidArgumentError(`list limit must be >= 1, got ${limit}`);
  return Math.min(limit, MAX_LIST_LIMIT);
}

async function collect(value: ValueSource): Promise<Buffer> {
  if (value instanceof Uint8Array) return Buffer.from(value);
  const parts: Buffer[] = [];
  for await (const chunk of value) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

// The value is never mutated (put replaces it), so yielding views is a snapshot.
async function* chunksOf(bytes: Buffer): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += READ_CHUNK_BYTES) {
    await turn();
    yield bytes.subarray(at, at + READ_CHUNK_BYTES);
  }
}

/** Every call completes asynchronously, as the store's do: callers cannot rely on sync effects. */
function turn(): Promise<void> {
  return Promise.resolve();
}
