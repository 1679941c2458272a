// Reading a run: its index (sparse index of first keys per block, bloom
// filter) is loaded lazily from the RunIndex chunk(s) on first use and kept
// for the life of the handle; blocks are read through ChunkIo and kept, as
// decoded, in a shared LRU cache.
//
// Every run has two copies (run_builder.ts): the primary and the mirror,
// with the same block boundaries. A read of the primary's index or of a
// block that fails (CorruptionError or IoError) is served from the mirror,
// whose index is loaded then, on the first failure; each read so served is
// counted (`mirrorRepairs`). When both copies fail, a CorruptionError names
// the run, both copies and their locators: never wrong bytes, never a key
// silently missing.
//
// Invariants:
// 1. What is read is checked against what the descriptor and the index say
//    (run id, entry counts, first and last keys, bytes per extent): a
//    mismatch is a CorruptionError, never a wrong answer.
// 2. A failed load is not cached: the next call reads again.
// 3. Handles are immutable views of immutable runs; any number of readers
//    may share one.
// 4. The copies agree: a second copy's index must have the shape of the
//    first loaded (counts, keys, bloom), else CorruptionError.
import { AssertionError, CorruptionError, IoError, assert } from '../base/index.js';
import { ChunkKind } from '../chunk/index.js';
import type { ChunkIo, Locator } from '../chunk/index.js';
import { bloomMayContain } from './bloom.js';
import { compareKeys } from './keys.js';
import type { MemValue } from './memtable.js';
import { BlockView, decodeRunIndexBody, decodeRunIndexPart, decodeRunIndexRoot } from './run_format.js';
import type { ExtentBytes, LoadedIndex, RunDescriptor, RunIndexBody } from './run_format.js';
import type { RunStreams } from './run_builder.js';

/** Counters the read path bumps (shared by every handle of one index). */
export interface ReadCounters {
  indexLoads: number;
  blockReads: number;
  blockCacheHits: number;
  bloomNegatives: number;
  bloomFalsePositives: number;
  /** Run index or block reads served by the mirror after the primary failed. */
  mirrorRepairs: number;
}

export function newReadCounters(): ReadCounters {
  return { indexLoads: 0, blockReads: 0, blockCacheHits: 0, bloomNegatives: 0, bloomFalsePositives: 0, mirrorRepairs: 0 };
}

export type { LoadedIndex };

/** A read of a run chunk that another copy may serve instead. */
export function isReadFailure(err: unknown): err is CorruptionError | IoError {
  return err instanceof CorruptionError || err instanceof IoError;
}

export type CopyName = 'primary' | 'mirror';

/** One copy of a run: where it is and, once read, its index. */
class RunCopy {
  loaded: LoadedIndex | undefined;
  loading: Promise<LoadedIndex> | undefined;

  constructor(
    readonly name: CopyName,
    readonly io: ChunkIo,
    readonly root: Locator,
    readonly extents: readonly ExtentBytes[],
  ) {}
}

/** The chunks of one copy: all of them, or only the root when its index does not load (`error` says why). */
export interface CopyChunks {
  readonly copy: CopyName;
  readonly root: Locator;
  /** Root, index parts, blocks, in that order (just the root when `error` is set). */
  readonly chunks: readonly Locator[];
  /** The blocks alone, in key order (block i of one copy stands for block i of the other). */
  readonly blocks: readonly Locator[];
  readonly error?: CorruptionError | IoError;
}

export function locatorText(l: Locator): string {
  return `${l.extent}:${l.offset}+${l.length}`;
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
  /** The index lookups use: the first copy's that loaded (both have the same shape). */
  private loaded: LoadedIndex | undefined;
  private loading: Promise<LoadedIndex> | undefined;
  private readonly copies: readonly [RunCopy, RunCopy];

  constructor(
    readonly desc: RunDescriptor,
    streams: RunStreams,
    private readonly cache: BlockCache,
    private readonly counters: ReadCounters,
    preloaded?: { readonly primary: LoadedIndex; readonly mirror: LoadedIndex },
  ) {
    this.copies = [
      new RunCopy('primary', streams.primary, desc.indexChunk, desc.extents),
      new RunCopy('mirror', streams.mirror, desc.mirrorIndexChunk, desc.mirrorExtents),
    ];
    if (preloaded !== undefined) {
      const [primary, mirror] = this.copies;
      this.accept(primary, preloaded.primary);
      this.accept(mirror, preloaded.mirror);
      this.loaded = preloaded.primary;
    }
  }

  get id(): number {
    return this.desc.id;
  }

  /** The run's index, read on first use: the primary's, or the mirror's when the primary's fails. */
  index(): Promise<LoadedIndex> {
    if (this.loaded !== undefined) return Promise.resolve(this.loaded);
    this.loading ??= this.fromEitherCopy('index', async (copy) => (await this.copyIndex(copy)).body).then(
      () => {
        const idx = this.copies[0].loaded ?? this.copies[1].loaded;
        assert(idx !== undefined, 'a copy loaded but holds no index');
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

  /**
   * `read` on the primary, then on the mirror if that failed with a read
   * failure (counted as a repair). Both failed: a CorruptionError naming
   * the run, `what`, each copy and why.
   */
  private async fromEitherCopy<T>(what: string, read: (copy: RunCopy, where: { chunk?: Locator }) => Promise<T>): Promise<T> {
    const failures: string[] = [];
    for (const copy of this.copies) {
      // The chunk `read` was at when it failed (its index root until it says).
      const where: { chunk?: Locator } = {};
      try {
        const v = await read(copy, where);
        if (copy.name === 'mirror') this.counters.mirrorRepairs++;
        return v;
      } catch (err: unknown) {
        if (!isReadFailure(err)) throw err;
        failures.push(`${copy.name} at ${locatorText(where.chunk ?? copy.root)}: ${err.message}`);
      }
    }
    throw new CorruptionError(`run ${this.desc.id}: ${what}: both copies failed: ${failures.join('; ')}`);
  }

  /** One copy's index, read once (a failed read is not kept: the next call reads again). */
  private copyIndex(copy: RunCopy): Promise<LoadedIndex> {
    if (copy.loaded !== undefined) return Promise.resolve(copy.loaded);
    copy.loading ??= this.readIndex(copy).then(
      (idx) => {
        this.accept(copy, idx);
        copy.loading = undefined;
        return idx;
      },
      (err: unknown) => {
        copy.loading = undefined;
        throw err;
      },
    );
    return copy.loading;
  }

  /** Check `idx` against the descriptor and the other copy's index, if loaded; keep it. */
  private accept(copy: RunCopy, idx: LoadedIndex): void {
    checkIndex(this.desc, copy, idx);
    const other = this.copies.find((c) => c !== copy)?.loaded;
    if (other !== undefined) {
      const diff = shapeDifference(other.body, idx.body);
      if (diff !== undefined) throw new CorruptionError(`run ${this.desc.id}: the copies disagree: ${diff}`);
    }
    copy.loaded = idx;
  }

  private async readIndex(copy: RunCopy): Promise<LoadedIndex> {
    this.counters.indexLoads++;
    const root = decodeRunIndexRoot(await copy.io.read(copy.root, ChunkKind.RunIndex));
    if (root.runId !== this.desc.id) {
      throw new CorruptionError(`run ${this.desc.id}: ${copy.name} index chunk belongs to run ${root.runId}`);
    }
    let bytes = root.inline;
    if (root.parts.length > 0) {
      const parts = await Promise.all(root.parts.map((loc) => copy.io.read(loc, ChunkKind.RunIndex)));
      const pieces = parts.map((buf, i) => {
        const part = decodeRunIndexPart(buf);
        if (part.runId !== this.desc.id || part.partIndex !== i) {
          throw new CorruptionError(`run ${this.desc.id}: ${copy.name} index part ${i} is part ${part.partIndex} of run ${part.runId}`);
        }
        return part.bytes;
      });
      bytes = Buffer.concat(pieces);
    }
    return { body: decodeRunIndexBody(bytes), parts: root.parts };
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
   * its entries are checked as they are read (BlockView). From the primary,
   * or the mirror when the primary's index or block fails. A failed read is
   * not cached. REQUIRES: the index is loaded.
   */
  block(i: number, fillCache: boolean): Promise<BlockView> {
    const loaded = this.loaded;
    assert(loaded !== undefined, 'run block read before its index');
    if (!(i >= 0 && i < loaded.body.blocks.length)) throw new AssertionError(`run ${this.desc.id}: no block ${i}`);
    const load = (): Promise<BlockView> => {
      this.counters.blockReads++;
      return this.fromEitherCopy(`block ${i}`, async (copy, where) => {
        const { body } = await this.copyIndex(copy);
        const handle = body.blocks[i];
        assert(handle !== undefined, 'block handle missing');
        where.chunk = handle.locator;
        const b = new BlockView(await copy.io.read(handle.locator, ChunkKind.RunBlock));
        checkBlock(this.desc.id, body, i, b);
        return b;
      });
    };
    return this.cache.get(`${this.desc.id}/${i}`, load, fillCache, this.counters);
  }

  /**
   * Each copy's chunks: index root, index parts, blocks; a copy whose index
   * does not load lists only its root, with the error. Throws (the
   * CorruptionError of index()) only when neither copy's index loads.
   */
  async copyChunks(): Promise<CopyChunks[]> {
    await this.index();
    const out: CopyChunks[] = [];
    for (const copy of this.copies) {
      try {
        const { body, parts } = await this.copyIndex(copy);
        const blocks = body.blocks.map((b) => b.locator);
        out.push({ copy: copy.name, root: copy.root, chunks: [copy.root, ...parts, ...blocks], blocks });
      } catch (err: unknown) {
        if (!isReadFailure(err)) throw err;
        out.push({ copy: copy.name, root: copy.root, chunks: [copy.root], blocks: [], error: err });
      }
    }
    return out;
  }

  /** Every chunk of both copies (copyChunks, flattened). */
  async chunks(): Promise<Locator[]> {
    return (await this.copyChunks()).flatMap((c) => c.chunks);
  }
}

/** Where two copies' index bodies differ (block locators aside), or undefined. */
export function shapeDifference(a: RunIndexBody, b: RunIndexBody): string | undefined {
  if (a.entryCount !== b.entryCount || a.blocks.length !== b.blocks.length) {
    return `${a.entryCount} entries in ${a.blocks.length} blocks against ${b.entryCount} in ${b.blocks.length}`;
  }
  for (let i = 0; i < a.blocks.length; i++) {
    const x = a.blocks[i];
    const y = b.blocks[i];
    if (x === undefined || y === undefined || x.entryCount !== y.entryCount || !x.firstKey.equals(y.firstKey)) return `block ${i} differs`;
  }
  if (!a.lastKey.equals(b.lastKey)) return 'last keys differ';
  if (a.bloomK !== b.bloomK || !a.bloom.equals(b.bloom)) return 'bloom filters differ';
  return undefined;
}

function checkIndex(desc: RunDescriptor, copy: RunCopy, loaded: LoadedIndex): void {
  const { body, parts } = loaded;
  const what = `run ${desc.id} ${copy.name}`;
  if (body.entryCount !== desc.entryCount) {
    throw new CorruptionError(`${what}: index holds ${body.entryCount} entries, descriptor ${desc.entryCount}`);
  }
  const first = body.blocks[0];
  if (first === undefined || !first.firstKey.equals(desc.minKey) || !body.lastKey.equals(desc.maxKey)) {
    throw new CorruptionError(`${what}: index key range differs from the descriptor`);
  }
  const bytes = new Map<number, number>();
  const locators = [copy.root, ...parts, ...body.blocks.map((b) => b.locator)];
  for (const l of locators) bytes.set(l.extent, (bytes.get(l.extent) ?? 0) + l.length);
  const same =
    bytes.size === copy.extents.length && copy.extents.every((e) => bytes.get(e.extent) === e.bytes);
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
