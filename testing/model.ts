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
import { ClosedError, InvalidArgumentError, NotFoundError, ShardStoreError, UnavailableError, crc32c } from '../src/base/index.js';
import { Dependency } from '../src/dependency/index.js';
// types.js, not index.js: the spec depends on the API alone, never on the implementation.
import { MAX_KEY_BYTES, MAX_LIST_LIMIT } from '../src/store/types.js';
import { MAX_BULK_KEYS, MAX_BULK_VALUE_BYTES } from '../src/node/admin_types.js';
import type { BulkKeyOutcome, BulkPutEntry, BulkResult, KeyRange, NodeListResult } from '../src/node/admin_types.js';
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

  async find(key: Buffer): Promise<Buffer | undefined> {
    await turn();
    this.checkOpen();
    checkKey(key);
    const value = this.values.get(key.toString('latin1'));
    return value === undefined ? undefined : Buffer.from(value);
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
    // Latin1 strings have one code unit per byte, so comparing them (and
    // sort's default order) is Buffer.compare's byte order.
    const prefix = options.prefix?.toString('latin1') ?? '';
    const startAfter = options.startAfter?.toString('latin1');
    const keys = [...this.values.keys()].filter((k) => k.startsWith(prefix) && (startAfter === undefined || k > startAfter)).sort();
    const shards = keys.slice(0, limit).map((k) => ({ key: Buffer.from(k, 'latin1'), sizeBytes: this.values.get(k)?.length ?? 0 }));
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
      liveBytesReady: true,
    };
  }

  private lookup(key: Buffer): Buffer {
    this.checkOpen();
    checkKey(key);
    const value = this.values.get(key.toString('latin1'));
    if (value === undefined) throw new NotFoundError(`no shard ${key.toString('hex')}`);
    return value;
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

// ---------------------------------------------------------------- the node

// ModelNode: the reference model of a node's control plane
// (docs/CONTROL_PLANE.md) over a ModelStore of its values.
//
// Semantics (the node mirrors each line exactly):
// 7. A key belongs to disk crc32c(key) % diskCount. A call on a key is
//    first checked for its length (InvalidArgumentError), then for its
//    disk: a disk out of service fails it with UnavailableError.
// 8. list fails with UnavailableError while any disk is out of service;
//    listAvailable lists the keys of the disks in service and names the
//    others.
// 9. bulkPut / bulkDelete validate the whole request first (1..MAX_BULK_KEYS
//    distinct keys of 1..MAX_KEY_BYTES bytes, at most MAX_BULK_VALUE_BYTES
//    of values) or throw InvalidArgumentError with nothing changed; then
//    each key is applied on its own: applied, absent (delete of a key with
//    no value) or failed with the code the single call would give.
// 10. takeOutOfService / returnToService are idempotent; a disk returned
//    holds exactly what it held when it left.
// 11. exportRecords gives the keys of a range in ascending order with
//    their values (Unavailable while any disk is out); importRecords puts
//    records in order and stops at the first that fails.
export class ModelNode implements ShardApi {
  readonly store = new ModelStore();
  private readonly out = new Set<number>();

  constructor(readonly diskCount: number) {}

  diskOf(key: Buffer): number {
    return crc32c(key) % this.diskCount;
  }

  isOut(disk: number): boolean {
    return this.out.has(disk);
  }

  outDisks(): number[] {
    return [...this.out].sort((a, b) => a - b);
  }

  private admit(key: Buffer): void {
    checkKey(key);
    const disk = this.diskOf(key);
    if (this.out.has(disk)) throw new UnavailableError(`disk ${disk} is out of service`);
  }

  async put(key: Buffer, value: ValueSource): Promise<Dependency> {
    await turn();
    this.admit(key);
    return this.store.put(key, value);
  }

  async get(key: Buffer): Promise<Buffer> {
    await turn();
    this.admit(key);
    return this.store.get(key);
  }

  async find(key: Buffer): Promise<Buffer | undefined> {
    await turn();
    this.admit(key);
    return this.store.find(key);
  }

  async read(key: Buffer, range?: ByteRange): Promise<ShardReader> {
    await turn();
    this.admit(key);
    return this.store.read(key, range);
  }

  async head(key: Buffer): Promise<ShardInfo> {
    await turn();
    this.admit(key);
    return this.store.head(key);
  }

  async delete(key: Buffer): Promise<Dependency> {
    await turn();
    this.admit(key);
    return this.store.delete(key);
  }

  async list(options: ListOptions = {}): Promise<ListResult> {
    await turn();
    if (this.out.size > 0) throw new UnavailableError(`disk(s) ${this.outDisks().join(', ')} out of service`);
    return this.store.list(options);
  }

  async listAvailable(options: ListOptions = {}): Promise<NodeListResult> {
    const limit = checkLimit(options.limit);
    const all = await this.store.list({ ...options, limit: MAX_LIST_LIMIT });
    const shards = all.shards.filter((s) => !this.out.has(this.diskOf(s.key)));
    return { shards: shards.slice(0, limit), truncated: shards.length > limit, unavailableDisks: this.outDisks() };
  }

  flush(): Promise<void> {
    return this.store.flush();
  }

  close(): Promise<void> {
    return this.store.close();
  }

  stats(): StoreStats {
    return this.store.stats();
  }

  async bulkPut(entries: readonly BulkPutEntry[]): Promise<BulkResult> {
    checkBulk(entries.map((e) => e.key), entries.reduce((n, e) => n + e.value.length, 0));
    const outcomes: BulkKeyOutcome[] = [];
    for (const e of entries) outcomes.push(await this.outcome(e.key, () => this.put(e.key, e.value)));
    return { outcomes, dependency: Dependency.none };
  }

  async bulkDelete(keys: readonly Buffer[]): Promise<BulkResult> {
    checkBulk(keys, 0);
    const outcomes: BulkKeyOutcome[] = [];
    for (const key of keys) outcomes.push(await this.outcome(key, () => this.delete(key)));
    return { outcomes, dependency: Dependency.none };
  }

  private async outcome(key: Buffer, fn: () => Promise<Dependency>): Promise<BulkKeyOutcome> {
    try {
      return { key, status: 'applied', dependency: await fn() };
    } catch (err: unknown) {
      if (!(err instanceof ShardStoreError)) throw err;
      return err.code === 'NotFound' ? { key, status: 'absent' } : { key, status: 'failed', code: err.code };
    }
  }

  takeOutOfService(disk: number): void {
    this.out.add(disk);
  }

  returnToService(disk: number): void {
    this.out.delete(disk);
  }

  /** The shards of `range`, ascending, with their values. */
  async exportRecords(range: KeyRange): Promise<Array<{ key: Buffer; value: Buffer }>> {
    if (range.start !== undefined && range.end !== undefined && Buffer.compare(range.start, range.end) > 0) throw new InvalidArgumentError('start after end');
    const page = await this.list({ ...(range.prefix === undefined ? {} : { prefix: range.prefix }) });
    const keys = page.shards.map((s) => s.key).filter((k) => inKeyRange(range, k));
    return Promise.all(keys.map(async (key) => ({ key, value: await this.store.get(key) })));
  }

  /** Put records in order until one fails; returns how many were applied and the failure. */
  async importRecords(records: ReadonlyArray<{ key: Buffer; value: Buffer }>): Promise<{ applied: number; error?: string }> {
    let applied = 0;
    for (const r of records) {
      try {
        await this.put(r.key, r.value);
      } catch (err: unknown) {
        if (err instanceof ShardStoreError) return { applied, error: err.code };
        throw err;
      }
      applied++;
    }
    return { applied };
  }

  /** Keys per disk (the node's shard counts). */
  async shardCounts(): Promise<number[]> {
    const counts = new Array<number>(this.diskCount).fill(0);
    for (const s of (await this.store.list({})).shards) {
      const d = this.diskOf(s.key);
      counts[d] = (counts[d] ?? 0) + 1;
    }
    return counts;
  }
}

function checkBulk(keys: readonly Buffer[], valueBytes: number): void {
  if (keys.length < 1 || keys.length > MAX_BULK_KEYS) throw new InvalidArgumentError(`bulk of ${keys.length} keys`);
  const seen = new Set<string>();
  for (const key of keys) {
    checkKey(key);
    if (seen.has(key.toString('latin1'))) throw new InvalidArgumentError('key twice in a bulk');
    seen.add(key.toString('latin1'));
  }
  if (valueBytes > MAX_BULK_VALUE_BYTES) throw new InvalidArgumentError(`bulk of ${valueBytes} value bytes`);
}

function inKeyRange(r: KeyRange, key: Buffer): boolean {
  if (r.prefix !== undefined && !key.subarray(0, r.prefix.length).equals(r.prefix)) return false;
  if (r.start !== undefined && Buffer.compare(key, r.start) < 0) return false;
  if (r.end !== undefined && Buffer.compare(key, r.end) >= 0) return false;
  return r.startAfter === undefined || Buffer.compare(key, r.startAfter) > 0;
}
