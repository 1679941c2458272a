// The S3 front's shared state over one ShardApi: locks, liveness, the
// collector, the clock, and the few helpers every operation uses.
//
// Durability rule (docs/S3.md, "Ordering"): a record may only be staged
// once every shard it names is durable, and a shard a record named may only
// be deleted once the record that stopped naming it is durable. Shards can
// sit on different disks, whose commits are independent, so "staged after"
// is not "durable after": each step awaits the previous step's Dependency.
// Where the store can commit a record and the data it names together
// (TogetherApi: same disk, one commit record, all or none), they are put
// together instead, and durable in one step (objects.ts). A write that the
// collector could undo waits for its durability under the object's lock
// (writeDurably).
import { CorruptionError, NotFoundError } from '../../base/index.js';
import type { Dependency } from '../../dependency/index.js';
import type { ListOptions, ShardApi, ShardInfo, TogetherApi } from '../../store/index.js';
import { MAX_LIST_LIMIT, offersTogether } from '../../store/index.js';
import type { Logger } from '../logger.js';
import { describeS3Key, s3KeyName } from './key_names.js';
import { LockTable } from './locks.js';
import { Liveness } from './liveness.js';
import type { NodeKeySource } from './node_key.js';

export interface CoreOptions {
  readonly logger: Logger;
  readonly now: () => number;
  /** Objects up to this size live inside their record (one shard, one commit). */
  readonly inlineMaxBytes: number;
  /** Multipart uploads idle longer than this are aborted by the collector. */
  readonly uploadExpiryMs: number;
  /** Observes how long each wait for durability took (metrics). */
  readonly onDurableWait?: (ms: number) => void;
  /** The node key of SSE-S3 (node_key.ts); absent: SSE-S3 answers 501. */
  readonly nodeKey?: NodeKeySource;
}

/** What a write staged under a lock: its Dependency (undefined: nothing was staged), and what the caller gets back. */
export interface Staged<T> {
  readonly dependency: Dependency | undefined;
  readonly value: T;
}

/** What operations need of the collector (collector.ts): a key to look at soon. */
export interface CollectorHandle {
  schedule(bucket: string, key: Buffer): void;
}

export class Core {
  readonly locks = new LockTable();
  readonly liveness = new Liveness();
  /** The store's puts-together, if it offers them (the node and one disk's store do; the model does not). */
  readonly together: TogetherApi | undefined;

  constructor(
    readonly api: ShardApi,
    readonly options: CoreOptions,
    /** The collector, which itself works on this Core (so it is handed in, not made here). */
    readonly collector: CollectorHandle,
  ) {
    this.together = offersTogether(api) ? api : undefined;
  }

  now(): number {
    return this.options.now();
  }

  /** The value of `key`, or undefined if it has none (ShardApi.find: no exception for the absent settings every request reads). */
  getOptional(key: Buffer): Promise<Buffer | undefined> {
    return this.api.find(key);
  }

  /**
   * `decode(bytes)` of a record met in a listing, or undefined if the record
   * is damaged (CorruptionError): the listing leaves that one entry out and
   * logs it, so one bad record breaks its own object, never the listing
   * (docs/S3.md, "Damaged records"). Other errors pass.
   */
  decodeListed<T>(shardKey: Buffer, bytes: Buffer, decode: (bytes: Buffer) => T, outcome = 'left out of a listing'): T | undefined {
    try {
      return decode(bytes);
    } catch (err) {
      if (!(err instanceof CorruptionError)) throw err;
      this.logDamaged(shardKey, err, outcome);
      return undefined;
    }
  }

  /** Log a damaged record by its S3 name. */
  logDamaged(shardKey: Buffer, err: CorruptionError, outcome: string): void {
    const name = s3KeyName(shardKey);
    this.options.logger.log('warn', `s3 damaged record ${outcome}`, {
      record: name === undefined ? shardKey.toString('hex') : describeS3Key(name),
      error: err.message,
    });
  }

  /** Put and wait until durable. */
  async putDurable(key: Buffer, value: Buffer): Promise<void> {
    await this.durable(await this.api.put(key, value));
  }

  async durable(dependency: Dependency): Promise<void> {
    const startedMs = performance.now();
    await dependency.persisted();
    this.options.onDurableWait?.(performance.now() - startedMs);
  }

  /**
   * Run `stage` under the exclusive lock `name` (an object's) and wait,
   * before the lock is released, until what it staged is durable. The
   * collector takes the object's lock and reads records as staged: were
   * the lock released first, it could delete the data that the durable
   * record (the one being replaced) still names, and a crash would bring
   * that record back without its data wherever the data lives on another
   * disk than the record (docs/S3.md, "Ordering", rule 3).
   */
  async writeDurably<T>(name: string, stage: () => Promise<Staged<T>>): Promise<T> {
    return this.locks.exclusive(name, async () => {
      const { dependency, value } = await stage();
      if (dependency !== undefined) await this.durable(dependency);
      return value;
    });
  }

  /** Delete if present; the Dependency of the delete, or undefined if there was nothing. */
  async deleteIfPresent(key: Buffer): Promise<Dependency | undefined> {
    try {
      return await this.api.delete(key);
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  /** Every shard under `prefix`, page by page (pages are not a snapshot). */
  async *listAll(prefix: Buffer, pageSize: number = MAX_LIST_LIMIT): AsyncGenerator<ShardInfo[]> {
    let startAfter: Buffer | undefined;
    for (;;) {
      const options: ListOptions = { prefix, limit: pageSize, ...(startAfter !== undefined ? { startAfter } : {}) };
      const page = await this.api.list(options);
      if (page.shards.length > 0) yield page.shards;
      const last = page.shards.at(-1);
      if (!page.truncated || last === undefined) return;
      startAfter = last.key;
    }
  }
}

export const bucketLock = (bucket: string): string => `bucket:${bucket}`;
export const objectLock = (bucket: string, key: Buffer): string => `object:${bucket}/${key.toString('latin1')}`;

/** Map with at most `concurrency` calls of `fn` in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) {
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}
