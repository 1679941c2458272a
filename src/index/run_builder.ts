// Writes one run (docs/format/lsm_run.md): entries arrive in strictly
// ascending key order and go into RunBlock chunks as blocks fill; finish()
// writes the run index (a root chunk, plus part chunks when the body does
// not fit in one) and returns the run's descriptor.
//
// Every run is written twice: each chunk goes to the primary stream, then
// the same payload to the mirror stream (for index chunks, the mirror's
// index names the mirror's blocks). The two copies have the same block
// boundaries, so block i of one stands for block i of the other, and a
// reader that finds one copy of a chunk damaged reads the other.
//
// Invariants:
// 1. Every block payload is <= maxBlockBytes, except a block holding a
//    single entry larger than that; no payload exceeds io.maxPayloadBytes.
// 2. A run's chunks wait for nothing: every entry comes from a record or a
//    run that is durable already (a memtable holds only committed
//    mutations; compaction reads durable runs), and an extent is handed
//    out only once the record of its last reset is durable (the extent
//    manager adds that edge to every append). The returned dependency
//    covers every chunk: the record or checkpoint that names the run names
//    it as its `after` (commit_log.ts).
// 3. The in-memory index handed back is decoded from the bytes written
//    (pair assertion: the reader's view of the run is what is on disk).
// 4. The two copies of a chunk are never in one extent (asserted per chunk:
//    the streams are paired, neither appends to the other's open extent).
//
// Memory: one block being built, 4 bytes per key for the bloom hashes, and
// one block handle per block.
import { AssertionError, assert } from '../base/index.js';
import { ChunkKind, framedBytes } from '../chunk/index.js';
import type { ChunkAppend, ChunkIo, Locator } from '../chunk/index.js';
import { Dependency } from '../dependency/index.js';
import { buildBloom, keyHash } from './bloom.js';
import { assertKey, compareKeys } from './keys.js';
import {
  BLOCK_HEADER_BYTES,
  BlockBuilder,
  INDEX_HEADER_BYTES,
  MAX_LEVEL,
  VALUE_TAG_TOMBSTONE,
  decodeRunIndexBody,
  descriptorProblem,
  encodeRunIndexBody,
  encodeRunIndexPart,
  encodeRunIndexRoot,
  encodedValueBytes,
  entryBytes,
} from './run_format.js';
import type { BlockHandle, ExtentBytes, IndexValue, LoadedIndex, RunDescriptor } from './run_format.js';

/** Smallest block size allowed: a block must fit a few small entries. */
export const MIN_BLOCK_BYTES = 64;

export interface RunBuilderOptions {
  readonly runId: number;
  readonly level: number;
  readonly maxSeq: number;
  readonly maxBlockBytes: number;
  readonly bloomBitsPerKey: number;
}

/** Where a run's two copies go. REQUIRES: streams that never append to one extent at the same time. */
export interface RunStreams {
  readonly primary: ChunkIo;
  readonly mirror: ChunkIo;
}

/** A run as written: its descriptor, each copy's decoded index, and the dependency on all its chunks. */
export interface BuiltRun {
  readonly descriptor: RunDescriptor;
  readonly primary: LoadedIndex;
  readonly mirror: LoadedIndex;
  readonly dependency: Dependency;
}

/** One copy being written: its block handles and its bytes per extent. */
class CopyWriter {
  readonly blocks: BlockHandle[] = [];
  readonly extentBytes = new Map<number, number>();

  constructor(readonly io: ChunkIo) {}

  append(kind: ChunkKind, payload: readonly Uint8Array[], bytes: number): ChunkAppend {
    const appended = this.io.append(kind, payload);
    assert(appended.locator.length === framedBytes(bytes), 'chunk io returned a locator of the wrong length');
    const e = appended.locator.extent;
    this.extentBytes.set(e, (this.extentBytes.get(e) ?? 0) + appended.locator.length);
    return appended;
  }

  extents(): ExtentBytes[] {
    return [...this.extentBytes].sort((a, b) => a[0] - b[0]).map(([extent, bytes]) => ({ extent, bytes }));
  }
}

export class RunBuilder {
  private block: BlockBuilder | undefined;
  private blockFirstKey: Buffer | undefined;
  private readonly primary: CopyWriter;
  private readonly mirror: CopyWriter;
  private readonly maxPayloadBytes: number;
  private hashes = new Uint32Array(256);
  private entries = 0;
  private tombstones = 0;
  private prevKey: Buffer | undefined;
  private minKey: Buffer | undefined;
  private dependency = Dependency.none;
  private finished = false;

  constructor(
    streams: RunStreams,
    private readonly options: RunBuilderOptions,
  ) {
    assert(streams.primary !== streams.mirror, 'a run and its mirror go to two streams');
    this.primary = new CopyWriter(streams.primary);
    this.mirror = new CopyWriter(streams.mirror);
    this.maxPayloadBytes = Math.min(streams.primary.maxPayloadBytes, streams.mirror.maxPayloadBytes);
    assert(options.maxBlockBytes >= MIN_BLOCK_BYTES, `maxBlockBytes ${options.maxBlockBytes} below ${MIN_BLOCK_BYTES}`);
    assert(options.maxBlockBytes <= this.maxPayloadBytes, 'maxBlockBytes above the chunk payload limit');
    assert(Number.isSafeInteger(options.runId) && options.runId >= 0, `run id ${options.runId}`);
    assert(Number.isInteger(options.level) && options.level >= 0 && options.level <= MAX_LEVEL, 'run level');
    assert(Number.isSafeInteger(options.maxSeq) && options.maxSeq >= 0, `run maxSeq ${options.maxSeq}`);
  }

  get entryCount(): number {
    return this.entries;
  }

  /** REQUIRES: key above every key added before. */
  add(key: Buffer, value: IndexValue | null): void {
    this.reserve(key, entryBytes(key.length, encodedValueBytes(value))).add(key, value);
    this.added(key, value === null);
  }

  /** Add an entry whose value is still encoded (compaction copies it as is). */
  addRaw(key: Buffer, raw: Buffer): void {
    this.reserve(key, entryBytes(key.length, raw.length)).addRaw(key, raw);
    this.added(key, raw[0] === VALUE_TAG_TOMBSTONE);
  }

  private reserve(key: Buffer, bytes: number): BlockBuilder {
    assert(!this.finished, 'run builder already finished');
    assertKey(key);
    assert(this.prevKey === undefined || compareKeys(this.prevKey, key) < 0, 'run keys must strictly ascend');
    if (BLOCK_HEADER_BYTES + bytes > this.maxPayloadBytes) {
      throw new AssertionError(`index entry of ${bytes} bytes exceeds a chunk`);
    }
    if (this.block !== undefined && this.block.payloadBytes + bytes > this.options.maxBlockBytes) this.writeBlock();
    if (this.block === undefined) {
      this.block = new BlockBuilder(Math.max(bytes, Math.min(this.options.maxBlockBytes, 4096)));
      this.blockFirstKey = Buffer.from(key);
    }
    return this.block;
  }

  private added(key: Buffer, tombstone: boolean): void {
    if (this.entries === this.hashes.length) {
      const grown = new Uint32Array(this.hashes.length * 2);
      grown.set(this.hashes);
      this.hashes = grown;
    }
    this.hashes[this.entries] = keyHash(key);
    this.entries++;
    if (tombstone) this.tombstones++;
    this.minKey ??= Buffer.from(key);
    this.prevKey = key;
  }

  private append(copy: CopyWriter, kind: ChunkKind, payload: readonly Uint8Array[]): Locator {
    let bytes = 0;
    for (const p of payload) bytes += p.length;
    assert(bytes <= this.maxPayloadBytes, `run chunk of ${bytes} bytes exceeds the payload limit`);
    const appended = copy.append(kind, payload, bytes);
    this.dependency = this.dependency.and(appended.dependency);
    return appended.locator;
  }

  /** The chunk to both copies; returns [primary, mirror] locators, never in one extent. */
  private appendBoth(kind: ChunkKind, payload: readonly Uint8Array[]): [Locator, Locator] {
    return this.apart(this.append(this.primary, kind, payload), this.append(this.mirror, kind, payload));
  }

  private writeBlock(): void {
    const b = this.block;
    const firstKey = this.blockFirstKey;
    assert(b !== undefined && firstKey !== undefined && b.count > 0, 'no block to write');
    const [p, m] = this.appendBoth(ChunkKind.RunBlock, b.finish());
    this.primary.blocks.push({ locator: p, entryCount: b.count, firstKey });
    this.mirror.blocks.push({ locator: m, entryCount: b.count, firstKey });
    this.block = undefined;
    this.blockFirstKey = undefined;
  }

  /** Write the last block and the index. Undefined when no entry was added (nothing is written). */
  finish(): BuiltRun | undefined {
    assert(!this.finished, 'run builder finished twice');
    this.finished = true;
    if (this.entries === 0) return undefined;
    this.writeBlock();
    const lastKey = this.prevKey;
    const minKey = this.minKey;
    assert(lastKey !== undefined && minKey !== undefined, 'entries without keys');
    const maxKey = Buffer.from(lastKey);
    const bloom = buildBloom(this.hashes, this.entries, this.options.bloomBitsPerKey);
    const rest = { entryCount: this.entries, lastKey: maxKey, bloomK: bloom.k, bloom: bloom.bits };
    const primary = encodeRunIndexBody({ ...rest, blocks: this.primary.blocks });
    const mirror = encodeRunIndexBody({ ...rest, blocks: this.mirror.blocks });
    const { roots, parts } = this.writeIndexes(primary, mirror);
    const descriptor = this.describe(roots, minKey, maxKey);
    return {
      descriptor,
      primary: { body: decodeRunIndexBody(primary), parts: parts.map((p) => p[0]) },
      mirror: { body: decodeRunIndexBody(mirror), parts: parts.map((p) => p[1]) },
      dependency: this.dependency,
    };
  }

  /**
   * Both copies' indexes, chunk by chunk in step (so the copies of each
   * part, and of the root, land in two extents): the root holds the body
   * inline, or lists the parts written before it. The two bodies differ
   * only in their block locators, so they have one length and one split.
   */
  private writeIndexes(primary: Buffer, mirror: Buffer): { roots: [Locator, Locator]; parts: Array<[Locator, Locator]> } {
    assert(primary.length === mirror.length, 'the two copies of a run index differ in length');
    const runId = this.options.runId;
    if (INDEX_HEADER_BYTES + primary.length <= this.maxPayloadBytes) {
      const p = this.append(this.primary, ChunkKind.RunIndex, encodeRunIndexRoot({ runId, parts: [], inline: primary }));
      const m = this.append(this.mirror, ChunkKind.RunIndex, encodeRunIndexRoot({ runId, parts: [], inline: mirror }));
      return { roots: this.apart(p, m), parts: [] };
    }
    const partBytes = this.maxPayloadBytes - INDEX_HEADER_BYTES;
    assert(partBytes > 0, 'chunk payload limit below the index header');
    const parts: Array<[Locator, Locator]> = [];
    for (let at = 0; at < primary.length; at += partBytes) {
      const end = Math.min(primary.length, at + partBytes);
      const partIndex = parts.length;
      const p = this.append(this.primary, ChunkKind.RunIndex, encodeRunIndexPart({ runId, partIndex, bytes: primary.subarray(at, end) }));
      const m = this.append(this.mirror, ChunkKind.RunIndex, encodeRunIndexPart({ runId, partIndex, bytes: mirror.subarray(at, end) }));
      parts.push(this.apart(p, m));
    }
    const inline = Buffer.alloc(0);
    const p = this.append(this.primary, ChunkKind.RunIndex, encodeRunIndexRoot({ runId, parts: parts.map((x) => x[0]), inline }));
    const m = this.append(this.mirror, ChunkKind.RunIndex, encodeRunIndexRoot({ runId, parts: parts.map((x) => x[1]), inline }));
    return { roots: this.apart(p, m), parts };
  }

  /** The two copies of one chunk: asserted to be in two extents. */
  private apart(p: Locator, m: Locator): [Locator, Locator] {
    assert(p.extent !== m.extent, `both copies of a run chunk in extent ${p.extent}`);
    return [p, m];
  }

  private describe(roots: [Locator, Locator], minKey: Buffer, maxKey: Buffer): RunDescriptor {
    const d: RunDescriptor = {
      id: this.options.runId,
      level: this.options.level,
      indexChunk: roots[0],
      entryCount: this.entries,
      tombstoneCount: this.tombstones,
      maxSeq: this.options.maxSeq,
      minKey,
      maxKey,
      extents: this.primary.extents(),
      mirrorIndexChunk: roots[1],
      mirrorExtents: this.mirror.extents(),
    };
    const problem = descriptorProblem(d);
    assert(problem === undefined, `built an invalid run descriptor: ${problem ?? ''}`);
    return d;
  }
}
