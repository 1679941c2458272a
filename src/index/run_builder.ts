// Writes one run (docs/format/lsm_run.md): entries arrive in strictly
// ascending key order and go into RunBlock chunks as blocks fill; finish()
// writes the run index (a root chunk, plus part chunks when the body does
// not fit in one) and returns the run's descriptor.
//
// Invariants:
// 1. Every block payload is <= maxBlockBytes, except a block holding a
//    single entry larger than that; no payload exceeds io.maxPayloadBytes.
// 2. Every chunk is appended with the same `after` dependency; the returned
//    dependency covers all of them (the metadata naming the run must wait
//    for it).
// 3. The in-memory index handed back is decoded from the bytes written
//    (pair assertion: the reader's view of the run is what is on disk).
//
// Memory: one block being built, 4 bytes per key for the bloom hashes, and
// one block handle per block.
import { AssertionError, assert } from '../base/index.js';
import { ChunkKind, framedBytes } from '../chunk/index.js';
import type { ChunkIo, Locator } from '../chunk/index.js';
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
import type { BlockHandle, ExtentBytes, IndexValue, RunDescriptor, RunIndexBody } from './run_format.js';

/** Smallest block size allowed: a block must fit a few small entries. */
export const MIN_BLOCK_BYTES = 64;

export interface RunBuilderOptions {
  readonly runId: number;
  readonly level: number;
  readonly maxSeq: number;
  readonly maxBlockBytes: number;
  readonly bloomBitsPerKey: number;
}

/** A run as written: its descriptor, its decoded index, and the dependency on all its chunks. */
export interface BuiltRun {
  readonly descriptor: RunDescriptor;
  readonly body: RunIndexBody;
  readonly parts: readonly Locator[];
  readonly dependency: Dependency;
}

export class RunBuilder {
  private block: BlockBuilder | undefined;
  private blockFirstKey: Buffer | undefined;
  private readonly blocks: BlockHandle[] = [];
  private hashes = new Uint32Array(256);
  private entries = 0;
  private tombstones = 0;
  private prevKey: Buffer | undefined;
  private minKey: Buffer | undefined;
  private readonly extentBytes = new Map<number, number>();
  private dependency = Dependency.none;
  private finished = false;

  constructor(
    private readonly io: ChunkIo,
    private readonly after: Dependency,
    private readonly options: RunBuilderOptions,
  ) {
    assert(options.maxBlockBytes >= MIN_BLOCK_BYTES, `maxBlockBytes ${options.maxBlockBytes} below ${MIN_BLOCK_BYTES}`);
    assert(options.maxBlockBytes <= io.maxPayloadBytes, 'maxBlockBytes above the chunk payload limit');
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
    if (BLOCK_HEADER_BYTES + bytes > this.io.maxPayloadBytes) {
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

  private append(kind: ChunkKind, payload: readonly Uint8Array[]): Locator {
    let bytes = 0;
    for (const p of payload) bytes += p.length;
    assert(bytes <= this.io.maxPayloadBytes, `run chunk of ${bytes} bytes exceeds the payload limit`);
    const appended = this.io.append(kind, payload, this.after);
    assert(appended.locator.length === framedBytes(bytes), 'chunk io returned a locator of the wrong length');
    this.dependency = this.dependency.and(appended.dependency);
    const e = appended.locator.extent;
    this.extentBytes.set(e, (this.extentBytes.get(e) ?? 0) + appended.locator.length);
    return appended.locator;
  }

  private writeBlock(): void {
    const b = this.block;
    const firstKey = this.blockFirstKey;
    assert(b !== undefined && firstKey !== undefined && b.count > 0, 'no block to write');
    const locator = this.append(ChunkKind.RunBlock, b.finish());
    this.blocks.push({ locator, entryCount: b.count, firstKey });
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
    const encoded = encodeRunIndexBody({
      entryCount: this.entries,
      blocks: this.blocks,
      lastKey: maxKey,
      bloomK: bloom.k,
      bloom: bloom.bits,
    });
    const body = decodeRunIndexBody(encoded);
    const { indexChunk, parts } = this.writeIndex(encoded);
    const descriptor = this.describe(indexChunk, minKey, maxKey);
    return { descriptor, body, parts, dependency: this.dependency };
  }

  private writeIndex(body: Buffer): { indexChunk: Locator; parts: Locator[] } {
    const runId = this.options.runId;
    if (INDEX_HEADER_BYTES + body.length <= this.io.maxPayloadBytes) {
      return { indexChunk: this.append(ChunkKind.RunIndex, encodeRunIndexRoot({ runId, parts: [], inline: body })), parts: [] };
    }
    const partBytes = this.io.maxPayloadBytes - INDEX_HEADER_BYTES;
    assert(partBytes > 0, 'chunk payload limit below the index header');
    const parts: Locator[] = [];
    for (let at = 0; at < body.length; at += partBytes) {
      const bytes = body.subarray(at, Math.min(body.length, at + partBytes));
      parts.push(this.append(ChunkKind.RunIndex, encodeRunIndexPart({ runId, partIndex: parts.length, bytes })));
    }
    const root = encodeRunIndexRoot({ runId, parts, inline: Buffer.alloc(0) });
    return { indexChunk: this.append(ChunkKind.RunIndex, root), parts };
  }

  private describe(indexChunk: Locator, minKey: Buffer, maxKey: Buffer): RunDescriptor {
    const extents: ExtentBytes[] = [...this.extentBytes]
      .sort((a, b) => a[0] - b[0])
      .map(([extent, bytes]) => ({ extent, bytes }));
    const d: RunDescriptor = {
      id: this.options.runId,
      level: this.options.level,
      indexChunk,
      entryCount: this.entries,
      tombstoneCount: this.tombstones,
      maxSeq: this.options.maxSeq,
      minKey,
      maxKey,
      extents,
    };
    const problem = descriptorProblem(d);
    assert(problem === undefined, `built an invalid run descriptor: ${problem ?? ''}`);
    return d;
  }
}
