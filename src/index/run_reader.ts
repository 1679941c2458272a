// Reading a run: its index (sparse index of first keys per block, bloom
// filter) is loaded lazily from the RunIndex chunk(s) on first use and kept
// for the life of the handle; blocks are read through ChunkIo and kept, as
// decoded, in a shared LRU cache.
//
// Invariants:
// 1. What is read is checked against what the descriptor and the index say
//    (run id, entry counts, first and last keys, bytes per extent): a
//    mismatch is a CorruptionError, never a wrong answer.
// 2. A failed load is not cached: the next call reads again.
// 3. Handles are immutable views of immutable runs; any number of readers
//    may share one.
import { AssertionError, CorruptionError, assert } from '../base/index.js';
import { ChunkKind } from '../chunk/index.js';
import type { ChunkIo, Locator } from '../chunk/index.js';
import { bloomMayContain } from './bloom.js';
import { compareKeys } from './keys.js';
import type { MemValue } from './memtable.js';
import { BlockView, decodeRunIndexBody, decodeRunIndexPart, decodeRunIndexRoot } from './run_format.js';
import type { RunDescriptor, RunIndexBody } from './run_format.js';

/** Counters the read path bumps (shared by every handle of one index). */
export interface ReadCounters {
  indexLoads: number;
  blockReads: number;
  blockCacheHits: number;
  bloomNegatives: number;
  bloomFalsePositives: number;
}

export function newReadCounters(): ReadCounters {
  return { indexLoads: 0, blockReads: 0, blockCacheHits: 0, bloomNegatives: 0, bloomFalsePositives: 0 };
}

export interface LoadedIndex {
  readonly body: RunIndexBody;
  readonly parts: readonly Locator[];
}

/** Opened blocks, least recently used evicted first. Holds promises so concurrent readers share one read. */
export class BlockCache {
  private readonly map = new Map<string, CachedBlock>();

  constructor(private readonly capacity: number) {
    assert(Number.isInteger(capacity) && capacity >= 0, `block cache capacity ${capacity}`);
  }

  get size(): number {
    return this.map.size;
  }

  /** The cached block, or `load()`; `fill` says whether a miss is kept (compaction does not). */
  get(key: string, load: () => Promise<BlockView>, fill: boolean, counters: ReadCounters): Promise<BlockView> {
    const cached = this.map.get(key);
    if (cached !== undefined) {
      this.touch(key, cached, counters);
      return cached.loading;
    }
    const loading = load();
    if (!fill || this.capacity === 0) return loading;
    const slot: CachedBlock = { loading, block: undefined };
    this.map.set(key, slot);
    loading.then(
      (block) => {
        slot.block = block;
      },
      () => {
        if (this.map.get(key) === slot) this.map.delete(key);
      },
    );
    while (this.map.size > this.capacity) {
      const oldest = this.map.keys().next();
      if (oldest.done === true) break;
      this.map.delete(oldest.value);
    }
    return loading;
  }

  /** The block if it is cached and loaded, without waiting; undefined otherwise (nothing counted). */
  peek(key: string, counters: ReadCounters): BlockView | undefined {
    const cached = this.map.get(key);
    if (cached?.block === undefined) return undefined;
    this.touch(key, cached, counters);
    return cached.block;
  }

  /** A hit: most recently used now (Map order is insertion order), counted. */
  private touch(key: string, cached: CachedBlock, counters: ReadCounters): void {
    this.map.delete(key);
    this.map.set(key, cached);
    counters.blockCacheHits++;
  }
}

interface CachedBlock {
  readonly loading: Promise<BlockView>;
  /** Set once loading resolves. */
  block: BlockView | undefined;
}

/** What a synchronous lookup answers when the answer needs a read. */
export const NEEDS_READ: unique symbol = Symbol('needs a read');

/** Index of the block that may hold `key`: the last whose first key is <= key (0 if none). */
export function findBlock(body: RunIndexBody, key: Buffer): number {
  let lo = 0;
  let hi = body.blocks.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const first = body.blocks[mid]?.firstKey;
    assert(first !== undefined, 'block handle missing');
    if (compareKeys(first, key) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return Math.max(0, lo - 1);
}

export class RunHandle {
  private loaded: LoadedIndex | undefined;
  private loading: Promise<LoadedIndex> | undefined;

  constructor(
    readonly desc: RunDescriptor,
    private readonly io: ChunkIo,
    private readonly cache: BlockCache,
    private readonly counters: ReadCounters,
    preloaded?: LoadedIndex,
  ) {
    if (preloaded !== undefined) {
      checkIndex(desc, preloaded);
      this.loaded = preloaded;
    }
  }

  get id(): number {
    return this.desc.id;
  }

  /** The run's index, read on first use. */
  index(): Promise<LoadedIndex> {
    if (this.loaded !== undefined) return Promise.resolve(this.loaded);
    this.loading ??= this.readIndex().then(
      (idx) => {
        this.loaded = idx;
        this.loading = undefined;
        return idx;
      },
      (err: unknown) => {
        this.loading = undefined;
        throw err;
      },
    );
    return this.loading;
  }

  private async readIndex(): Promise<LoadedIndex> {
    this.counters.indexLoads++;
    const root = decodeRunIndexRoot(await this.io.read(this.desc.indexChunk, ChunkKind.RunIndex));
    if (root.runId !== this.desc.id) {
      throw new CorruptionError(`run ${this.desc.id}: index chunk belongs to run ${root.runId}`);
    }
    let bytes = root.inline;
    if (root.parts.length > 0) {
      const parts = await Promise.all(root.parts.map((loc) => this.io.read(loc, ChunkKind.RunIndex)));
      const pieces = parts.map((buf, i) => {
        const part = decodeRunIndexPart(buf);
        if (part.runId !== this.desc.id || part.partIndex !== i) {
          throw new CorruptionError(`run ${this.desc.id}: index part ${i} is part ${part.partIndex} of run ${part.runId}`);
        }
        return part.bytes;
      });
      bytes = Buffer.concat(pieces);
    }
    const loaded = { body: decodeRunIndexBody(bytes), parts: root.parts };
    checkIndex(this.desc, loaded);
    return loaded;
  }

  /**
   * Synchronous pre-check: false when the key cannot be in the run (outside
   * its key range, or the bloom filter says no), true when it may be,
   * undefined when that needs the index, not loaded yet.
   */
  mayContain(key: Buffer, hash: number): boolean | undefined {
    if (compareKeys(key, this.desc.minKey) < 0 || compareKeys(key, this.desc.maxKey) > 0) return false;
    if (this.loaded === undefined) return undefined;
    if (bloomMayContain(this.loaded.body.bloom, this.loaded.body.bloomK, hash)) return true;
    this.counters.bloomNegatives++;
    return false;
  }

  /** The key's value here (null: tombstone), or undefined when the run does not hold it. */
  async find(key: Buffer, hash: number): Promise<MemValue | undefined> {
    if (this.outsideRange(key)) return undefined;
    const { body } = await this.index();
    if (this.bloomExcludes(body, hash)) return undefined;
    return this.entryIn(await this.block(findBlock(body, key), true), key);
  }

  /**
   * find() without waiting: the answer if the index and the block it needs
   * are loaded, else NEEDS_READ.
   */
  findNow(key: Buffer, hash: number): MemValue | undefined | typeof NEEDS_READ {
    if (this.outsideRange(key)) return undefined;
    const loaded = this.loaded;
    if (loaded === undefined) return NEEDS_READ;
    const { body } = loaded;
    if (this.bloomExcludes(body, hash)) return undefined;
    const b = this.cache.peek(`${this.desc.id}/${findBlock(body, key)}`, this.counters);
    return b === undefined ? NEEDS_READ : this.entryIn(b, key);
  }

  private outsideRange(key: Buffer): boolean {
    return compareKeys(key, this.desc.minKey) < 0 || compareKeys(key, this.desc.maxKey) > 0;
  }

  /** The bloom filter rules the key out (counted). */
  private bloomExcludes(body: RunIndexBody, hash: number): boolean {
    if (bloomMayContain(body.bloom, body.bloomK, hash)) return false;
    this.counters.bloomNegatives++;
    return true;
  }

  /** The key's value in the block that may hold it; undefined (a bloom false positive, counted) if absent. */
  private entryIn(b: BlockView, key: Buffer): MemValue | undefined {
    const i = b.lowerBound(key);
    if (i < b.count && b.compareKey(i, key) === 0) return b.value(i);
    this.counters.bloomFalsePositives++;
    return undefined;
  }

  /**
   * Block `i`, its first and last keys and count checked against the index;
   * its entries are checked as they are read (BlockView). REQUIRES: the
   * index is loaded.
   */
  block(i: number, fillCache: boolean): Promise<BlockView> {
    const loaded = this.loaded;
    assert(loaded !== undefined, 'run block read before its index');
    if (!(i >= 0 && i < loaded.body.blocks.length)) throw new AssertionError(`run ${this.desc.id}: no block ${i}`);
    const load = async (): Promise<BlockView> => {
      this.counters.blockReads++;
      const handle = loaded.body.blocks[i];
      assert(handle !== undefined, 'block handle missing');
      const b = new BlockView(await this.io.read(handle.locator, ChunkKind.RunBlock));
      checkBlock(this.desc.id, loaded.body, i, b);
      return b;
    };
    return this.cache.get(`${this.desc.id}/${i}`, load, fillCache, this.counters);
  }

  /** Every chunk of the run: index root, index parts, blocks. */
  async chunks(): Promise<Locator[]> {
    const { body, parts } = await this.index();
    return [this.desc.indexChunk, ...parts, ...body.blocks.map((b) => b.locator)];
  }
}

function checkIndex(desc: RunDescriptor, loaded: LoadedIndex): void {
  const { body, parts } = loaded;
  const what = `run ${desc.id}`;
  if (body.entryCount !== desc.entryCount) {
    throw new CorruptionError(`${what}: index holds ${body.entryCount} entries, descriptor ${desc.entryCount}`);
  }
  const first = body.blocks[0];
  if (first === undefined || !first.firstKey.equals(desc.minKey) || !body.lastKey.equals(desc.maxKey)) {
    throw new CorruptionError(`${what}: index key range differs from the descriptor`);
  }
  const bytes = new Map<number, number>();
  const locators = [desc.indexChunk, ...parts, ...body.blocks.map((b) => b.locator)];
  for (const l of locators) bytes.set(l.extent, (bytes.get(l.extent) ?? 0) + l.length);
  const same =
    bytes.size === desc.extents.length && desc.extents.every((e) => bytes.get(e.extent) === e.bytes);
  if (!same) throw new CorruptionError(`${what}: chunk bytes per extent differ from the descriptor`);
}

function checkBlock(runId: number, body: RunIndexBody, i: number, b: BlockView): void {
  const what = `run ${runId} block ${i}`;
  const handle = body.blocks[i];
  assert(handle !== undefined, 'block handle missing');
  if (b.count !== handle.entryCount) {
    throw new CorruptionError(`${what}: ${b.count} entries, index says ${handle.entryCount}`);
  }
  if (!b.key(0).equals(handle.firstKey)) throw new CorruptionError(`${what}: first key differs from the index`);
  const last = b.key(b.count - 1);
  const next = body.blocks[i + 1];
  const ok = next === undefined ? last.equals(body.lastKey) : compareKeys(last, next.firstKey) < 0;
  if (!ok) throw new CorruptionError(`${what}: last key outside the block's range`);
}
