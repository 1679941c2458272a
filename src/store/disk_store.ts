// ShardStore over one disk: the ShardApi on top of extents, chunks, the LSM
// index and the commit log. Each disk of a node is an independent store
// (its own failure domain); ShardNode routes keys to them.
//
// Life of a put: split the value into data chunks appended to the data
// stream (queued in the IO scheduler, readable at once through its
// overlay); stage the index mutation in the commit log (readable at once);
// the next group commit waits for the chunks to be durable, appends one
// metadata record with the mutation and the write pointers covering the
// chunks, and settles the put's Dependency when that record is durable.
//
// Life of a get: the commit log's overlay (staged or committing), then the
// index (memtable, runs newest first); then the data chunks, each verified
// and checked to belong to the key.
import { ClosedError, InvalidArgumentError, NotFoundError } from '../base/index.js';
import { ChunkStream } from '../chunk/index.js';
import type { ChunkStore } from '../chunk/index.js';
import { Dependency } from '../dependency/index.js';
import type { IoScheduler } from '../dependency/index.js';
import type { Disk } from '../disk/index.js';
import type { ExtentManager} from '../extent/index.js';
import { ExtentOwner } from '../extent/index.js';
import type { LsmIndex } from '../index/index.js';
import type { IndexValue } from '../index/index.js';
import type { Superblock } from '../superblock/index.js';
import type { Label } from '../superblock/index.js';
import { CommitLog } from './commit_log.js';
import type { CommitLogState } from './commit_log.js';
import { listMerged } from './list.js';
import type { StoreOptions } from './store_options.js';
import { resolveStoreOptions } from './store_options.js';
import { ValueWriter, readValueRange } from './value_io.js';
import { MAX_KEY_BYTES } from './types.js';
import type { ByteRange, ListOptions, ListResult, ShardApi, ShardInfo, ShardReader, StoreStats, ValueSource } from './types.js';

export interface DiskStoreParts {
  readonly disk: Disk;
  readonly io: IoScheduler;
  readonly label: Label;
  readonly extents: ExtentManager;
  readonly chunks: ChunkStore;
  readonly index: LsmIndex;
  readonly superblock: Superblock;
  readonly state: CommitLogState;
}

export class DiskStore implements ShardApi {
  private readonly dataStream: ChunkStream;
  readonly log: CommitLog;
  private closed = false;
  private readonly options: Required<StoreOptions>;

  constructor(
    readonly parts: DiskStoreParts,
    options: StoreOptions,
  ) {
    this.options = resolveStoreOptions(options, parts.label.geometry.extentSizeBytes);
    this.dataStream = new ChunkStream(parts.chunks, ExtentOwner.Data);
    this.log = new CommitLog(parts.extents, parts.chunks, parts.index, parts.superblock, parts.state, this.options.memtableFlushBytes);
  }

  get label(): Label {
    return this.parts.label;
  }

  async put(key: Buffer, value: ValueSource): Promise<Dependency> {
    this.checkOpen();
    checkKey(key);
    this.log.throwIfFailed();
    const writer = new ValueWriter(this.dataStream, key, this.maxChunkDataBytes(key), this.options.streamWindowChunks);
    if (value instanceof Uint8Array) await writer.push(value);
    else for await (const piece of value) await writer.push(piece);
    const { value: indexValue, dependency } = await writer.finish();
    this.checkOpen();
    return this.log.stage(keyString(key), { key, value: indexValue, dataDependency: dependency });
  }

  async get(key: Buffer): Promise<Buffer> {
    const reader = await this.read(key);
    const parts: Buffer[] = [];
    for await (const part of reader.body) parts.push(part);
    return parts.length === 1 && parts[0] !== undefined ? parts[0] : Buffer.concat(parts);
  }

  async read(key: Buffer, range?: ByteRange): Promise<ShardReader> {
    const value = await this.lookup(key);
    const r = range ?? { start: 0, end: value.sizeBytes };
    if (!(r.start >= 0 && r.start <= r.end && r.end <= value.sizeBytes)) {
      throw new InvalidArgumentError(`range [${r.start}, ${r.end}) outside value of ${value.sizeBytes} bytes`);
    }
    return { sizeBytes: value.sizeBytes, body: readValueRange(this.parts.chunks, key, value, r) };
  }

  async head(key: Buffer): Promise<ShardInfo> {
    const value = await this.lookup(key);
    return { key, sizeBytes: value.sizeBytes };
  }

  async delete(key: Buffer): Promise<Dependency> {
    await this.lookup(key);
    this.checkOpen();
    return this.log.stage(keyString(key), { key, value: null, dataDependency: Dependency.none });
  }

  async list(options: ListOptions = {}): Promise<ListResult> {
    this.checkOpen();
    return listMerged(this.parts.index, this.log.overlayEntries(), options);
  }

  async flush(): Promise<void> {
    this.checkOpen();
    await this.log.flushIndex();
  }

  /** Merge runs until no level holds fanIn runs. */
  async compact(): Promise<void> {
    this.checkOpen();
    for (;;) {
      const job = this.parts.index.pickCompaction();
      if (job === undefined) return;
      const { run, dependency } = await job.write(Dependency.none);
      await dependency.persisted();
      const index = this.parts.index;
      await this.log
        .stageRunChange({
          added: run === undefined ? [] : [run],
          removed: job.inputs.map((r) => r.id),
          onDurable: () => index.finishCompaction(job, run),
        })
        .persisted();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.log.failed === undefined) await this.log.drain();
    this.closed = true;
    await this.parts.io.idle();
    await this.parts.disk.close();
  }

  /** Drop all volatile state without flushing (tests: a crash of the process). */
  abandon(): void {
    this.closed = true;
    this.parts.io.abandon('store abandoned');
  }

  stats(): StoreStats {
    const e = this.parts.extents;
    const g = this.parts.label.geometry;
    return {
      disks: 1,
      capacityBytes: g.extentCount * g.extentSizeBytes,
      extentSizeBytes: g.extentSizeBytes,
      extentsFree: e.countFree(),
      extentsData: e.extentsOwnedBy(ExtentOwner.Data).length,
      extentsIndex: e.extentsOwnedBy(ExtentOwner.Index).length,
      extentsMeta: e.extentsOwnedBy(ExtentOwner.Meta).length,
      commits: this.log.counters.commits,
      flushes: this.parts.io.stats.flushes,
    };
  }

  private async lookup(key: Buffer): Promise<IndexValue> {
    this.checkOpen();
    checkKey(key);
    const staged = this.log.overlay(keyString(key));
    const value = staged !== undefined ? staged.value : await this.parts.index.lookup(key);
    if (value === null || value === undefined) throw new NotFoundError(`no shard ${printableKey(key)}`);
    return value;
  }

  private maxChunkDataBytes(key: Buffer): number {
    return Math.min(this.options.maxChunkDataBytes, this.parts.chunks.maxPayloadBytes - 2 - key.length);
  }

  private checkOpen(): void {
    if (this.closed) throw new ClosedError('store is closed');
  }
}

export function keyString(key: Buffer): string {
  return key.toString('latin1');
}

export function checkKey(key: Buffer): void {
  if (key.length === 0 || key.length > MAX_KEY_BYTES) {
    throw new InvalidArgumentError(`key length ${key.length} outside 1..${MAX_KEY_BYTES}`);
  }
}

export function printableKey(key: Buffer): string {
  const text = key.toString('utf8');
  return Buffer.from(text, 'utf8').equals(key) && key.length <= 64 ? JSON.stringify(text) : `0x${key.subarray(0, 32).toString('hex')}`;
}
