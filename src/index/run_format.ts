// LSM run format: what the index writes in its chunks, and the run
// descriptor the store embeds in its metadata. Spec: docs/format/lsm_run.md.
// Both the run writer and the run reader import this file. DO NOT CHANGE:
// on-disk (every constant and layout here).
//
// A run is an immutable list of entries (key -> IndexValue or tombstone) in
// strictly ascending key order, stored as chunks (docs/format/chunk.md), in
// two complete copies (primary and mirror: same blocks, each its own run
// index; the descriptor names both roots):
//
//   RunBlock payload                   RunIndex root payload
//   0    1   version (1)               0   1  version (1)
//   1    4   entry count n >= 1        1   1  role (1 = root)
//   5    4n  entry offsets, from the   2   8  run id
//            entries area; first 0     10  4  part count P
//   5+4n ..  entries area: n entries   14  .. P part locators (12 bytes each)
//            2  key length 1..1024     ..  .. inline body (P = 0) or nothing (P > 0)
//            k  key
//            1  tag: 0 tombstone, 1 live
//            .. IndexValue if live
//   Entry i runs from its offset to the next one (the last to the payload's end).
//
//   IndexValue: 8 sizeBytes, 4 chunk count c, c locators (12 bytes each)
//
//   RunIndex part payload: 1 version, 1 role (2 = part), 8 run id,
//   4 part index, then body bytes. The index body is the inline bytes, or the
//   concatenation of the parts in order:
//
//   body: 8 entry count, 4 block count B >= 1, B block handles (locator,
//         4 entry count, 2+k first key), 2+k last key, 1 bloom k, 4+m bloom bits
//
// Invariants every decoder checks (it throws CorruptionError, nothing else):
// 1. Keys are 1..MAX_KEY_BYTES bytes and strictly ascending within a block
//    and across the block handles' first keys. (A BlockView checks the
//    entries a lookup touches; checkAll, used before scans and compaction
//    read a block, checks every entry and the order.)
// 2. Counts fit in the bytes that remain; nothing trails a payload.
// 3. Locators are plausible chunks: 8-byte aligned, at least a chunk's overhead.
// 4. A live value's sizeBytes fits in its chunks' payloads; no chunks, no bytes.
import { AssertionError, BufReader, BufWriter, CorruptionError, assert } from '../base/index.js';
import { CHUNK_ALIGN_BYTES, CHUNK_OVERHEAD_BYTES, LOCATOR_BYTES, readLocator, writeLocator } from '../chunk/index.js';
import type { Locator } from '../chunk/index.js';

/**
 * Keys are 1..MAX_KEY_BYTES bytes: the one definition, for runs, metadata
 * records, the store's API, migration streams and the servers (each
 * imports it). DO NOT CHANGE: on-disk (u16 key lengths).
 */
export const MAX_KEY_BYTES = 1024;
export const RUN_FORMAT_VERSION = 1;
export const VALUE_TAG_TOMBSTONE = 0;
export const VALUE_TAG_LIVE = 1;
/** sizeBytes (u64), chunk count (u32). */
export const INDEX_VALUE_HEADER_BYTES = 8 + 4;
/** An entry's tag byte (tombstone or live) before its IndexValue. */
export const VALUE_TAG_BYTES = 1;
/** Version (u8), entry count (u32); the entry offsets follow. */
export const BLOCK_HEADER_BYTES = 1 + 4;
/** One u32 offset per entry, from the start of the entries area. */
export const BLOCK_OFFSET_BYTES = 4;
/** Key length (u16); the key and value follow. */
export const ENTRY_HEADER_BYTES = 2;
/** Smallest entry: its offset, key length, a 1-byte key, a tombstone tag. */
export const ENTRY_MIN_BYTES = BLOCK_OFFSET_BYTES + ENTRY_HEADER_BYTES + 1 + VALUE_TAG_BYTES;
export const INDEX_ROLE_ROOT = 1;
export const INDEX_ROLE_PART = 2;
/** Version, role, run id (u64), part count or part index (u32). */
export const INDEX_HEADER_BYTES = 1 + 1 + 8 + 4;
/** Locator, entry count (u32), first key length (u16), at least one key byte. */
export const BLOCK_HANDLE_MIN_BYTES = LOCATOR_BYTES + 4 + 2 + 1;
export const MAX_BLOOM_K = 30;
/** 2^28 bytes = 2^31 bits: bit positions stay within u32 arithmetic. */
export const MAX_BLOOM_BYTES = 1 << 28;
export const MAX_LEVEL = 63;
/** 2: the descriptor names the mirror copy too (every run is written twice). */
export const DESCRIPTOR_VERSION = 2;
/** Extent number (u32), bytes (u64). */
export const EXTENT_BYTES_ENTRY_BYTES = 4 + 8;

// Relations between compile-time constants, checked once at load: no input
// changes their outcome, so a mutant that only weakens one (`<=` to `<`,
// the condition to `true`) is equivalent (docs/TESTING.md).
// Stryker disable next-line all: an assert over compile-time constants
assert(ENTRY_MIN_BYTES === 8, 'entry minimum is offset, length, one key byte, one tag byte');
// Stryker disable next-line all: an assert over compile-time constants
assert(BLOCK_HEADER_BYTES + ENTRY_MIN_BYTES <= 64, 'a tiny block must hold one entry');

// ---------------------------------------------------------------- values

/** A shard's data chunk locators, in order, and its size. */
export interface IndexValue {
  readonly sizeBytes: number;
  readonly chunks: readonly Locator[];
}

/** Receives live values chunk by chunk, with no object per value (a walk of the whole index). */
export interface ChunkVisitor {
  /** A live value begins (its chunks follow). */
  entry(): void;
  chunk(extent: number, lengthBytes: number): void;
}

/** `v` to `visitor` as BlockView.visitValue reports a live entry. */
export function visitIndexValue(v: IndexValue, visitor: ChunkVisitor): void {
  visitor.entry();
  for (const c of v.chunks) visitor.chunk(c.extent, c.length);
}

export function locatorProblem(loc: Locator): string | undefined {
  if (loc.length < CHUNK_OVERHEAD_BYTES) return `locator length ${loc.length} below chunk overhead`;
  if (loc.offset % CHUNK_ALIGN_BYTES !== 0) return `locator offset ${loc.offset} not aligned`;
  return undefined;
}

function readCheckedLocator(r: BufReader, what: string): Locator {
  const loc = readLocator(r);
  const problem = locatorProblem(loc);
  if (problem !== undefined) throw new CorruptionError(`${what}: ${problem}`);
  return loc;
}

/** Why `v` cannot be stored, or undefined. The decoder enforces the same rules. */
export function indexValueProblem(v: IndexValue): string | undefined {
  if (!Number.isSafeInteger(v.sizeBytes) || v.sizeBytes < 0) return `bad sizeBytes ${v.sizeBytes}`;
  let capacity = 0;
  for (const c of v.chunks) {
    const problem = locatorProblem(c);
    if (problem !== undefined) return problem;
    capacity += c.length - CHUNK_OVERHEAD_BYTES;
  }
  if (v.sizeBytes > capacity) return `sizeBytes ${v.sizeBytes} exceeds chunk payloads ${capacity}`;
  return undefined;
}

/** Bytes of a block entry's value: the tag, and the IndexValue when live. */
export function encodedValueBytes(v: IndexValue | null): number {
  return v === null ? VALUE_TAG_BYTES : VALUE_TAG_BYTES + INDEX_VALUE_HEADER_BYTES + LOCATOR_BYTES * v.chunks.length;
}

/** REQUIRES: indexValueProblem(v) === undefined (asserted). */
export function encodeIndexValue(w: BufWriter, v: IndexValue): void {
  const problem = indexValueProblem(v);
  if (problem !== undefined) throw new AssertionError(`writing invalid index value: ${problem}`);
  w.u64(v.sizeBytes).u32(v.chunks.length);
  for (const c of v.chunks) writeLocator(w, c);
}

/** Parse and check one IndexValue; collect its locators into `out` when given. Returns sizeBytes. */
function parseValue(r: BufReader, out: Locator[] | undefined): number {
  const sizeBytes = r.u64();
  const n = r.count(LOCATOR_BYTES);
  let capacity = 0;
  for (let i = 0; i < n; i++) {
    // Read the fields, not a Locator: checking a block allocates nothing per entry.
    const extent = r.u32();
    const offset = r.u32();
    const length = r.u32();
    if (length < CHUNK_OVERHEAD_BYTES || offset % CHUNK_ALIGN_BYTES !== 0) {
      throw new CorruptionError(`index value: bad locator ${extent}:${offset}:${length}`);
    }
    capacity += length - CHUNK_OVERHEAD_BYTES;
    if (out !== undefined) out.push({ extent, offset, length });
  }
  if (sizeBytes > capacity) {
    throw new CorruptionError(`index value: sizeBytes ${sizeBytes} exceeds chunk payloads ${capacity}`);
  }
  return sizeBytes;
}

/** Throws CorruptionError. */
export function decodeIndexValue(r: BufReader): IndexValue {
  const chunks: Locator[] = [];
  const sizeBytes = parseValue(r, chunks);
  return { sizeBytes, chunks };
}

/** A block entry's value: tag, then the IndexValue if live. null: tombstone. */
function writeEntryValue(w: BufWriter, v: IndexValue | null): void {
  if (v === null) {
    w.u8(VALUE_TAG_TOMBSTONE);
    return;
  }
  w.u8(VALUE_TAG_LIVE);
  encodeIndexValue(w, v);
}




function checkKeyLength(key: Buffer, what: string): void {
  if (key.length < 1 || key.length > MAX_KEY_BYTES) {
    throw new CorruptionError(`${what}: key length ${key.length} out of 1..${MAX_KEY_BYTES}`);
  }
}

// ---------------------------------------------------------------- blocks

/** Payload bytes one entry adds to a block: its offset slot, key length, key, value. */
export function entryBytes(keyBytes: number, valueBytes: number): number {
  return BLOCK_OFFSET_BYTES + ENTRY_HEADER_BYTES + keyBytes + valueBytes;
}

/** Builds one block payload: entries go to the entries area, their offsets to the header. */
export class BlockBuilder {
  private readonly entries: BufWriter;
  private readonly offsets: number[] = [];

  constructor(capacityBytes: number) {
    this.entries = new BufWriter(capacityBytes);
  }

  get count(): number {
    return this.offsets.length;
  }

  get payloadBytes(): number {
    return BLOCK_HEADER_BYTES + BLOCK_OFFSET_BYTES * this.offsets.length + this.entries.length;
  }

  add(key: Buffer, value: IndexValue | null): void {
    this.startEntry(key);
    writeEntryValue(this.entries, value);
  }

  /** REQUIRES: `raw` is an entry value read from a checked block (tag and IndexValue). */
  addRaw(key: Buffer, raw: Buffer): void {
    assert(raw.length >= VALUE_TAG_BYTES, 'raw value is empty');
    this.startEntry(key);
    this.entries.bytes(raw);
  }

  private startEntry(key: Buffer): void {
    if (key.length < 1 || key.length > MAX_KEY_BYTES) throw new AssertionError(`block key length ${key.length}`);
    this.offsets.push(this.entries.length);
    this.entries.shortBlob(key);
  }

  /** The payload, as pieces for ChunkIo.append (the entries are not copied). */
  finish(): Uint8Array[] {
    assert(this.offsets.length >= 1, 'a block holds at least one entry');
    const header = new BufWriter(BLOCK_HEADER_BYTES + BLOCK_OFFSET_BYTES * this.offsets.length);
    header.u8(RUN_FORMAT_VERSION).u32(this.offsets.length);
    for (const o of this.offsets) header.u32(o);
    return [header.view(), this.entries.view()];
  }
}

/** BlockView.compareKeyFrom's answer for equal keys (above any count of common bytes: keys are at most MAX_KEY_BYTES). */
const EQUAL_KEYS = Number.MAX_SAFE_INTEGER;

/**
 * A block read lazily: opening checks only the header; each access checks
 * the entry it touches (bounds, key length, value encoding), so a point
 * lookup costs a binary search, not a decode of the block. `checkAll`
 * checks every entry and the key order once (scans and compaction call it).
 * Keys and values are views into `buf`, never copies.
 */
export class BlockView {
  readonly count: number;
  private readonly base: number;
  private checked = false;

  constructor(readonly buf: Buffer) {
    const r = new BufReader(buf, 'run block');
    const version = r.u8();
    if (version !== RUN_FORMAT_VERSION) throw new CorruptionError(`run block: unknown version ${version}`);
    this.count = r.count(ENTRY_MIN_BYTES);
    if (this.count === 0) throw new CorruptionError('run block: no entries');
    this.base = BLOCK_HEADER_BYTES + BLOCK_OFFSET_BYTES * this.count;
    if (buf.readUInt32LE(BLOCK_HEADER_BYTES) !== 0) throw new CorruptionError('run block: first entry not at offset 0');
  }

  /** Entry i spans [start, end) of buf. Throws CorruptionError. */
  private span(i: number): { start: number; end: number } {
    if (!(i >= 0 && i < this.count)) throw new AssertionError(`block entry ${i} of ${this.count}`);
    const start = this.base + this.buf.readUInt32LE(BLOCK_HEADER_BYTES + BLOCK_OFFSET_BYTES * i);
    const end = i + 1 < this.count ? this.base + this.buf.readUInt32LE(BLOCK_HEADER_BYTES + BLOCK_OFFSET_BYTES * (i + 1)) : this.buf.length;
    if (start + ENTRY_HEADER_BYTES + 1 + VALUE_TAG_BYTES > end || end > this.buf.length) {
      throw new CorruptionError(`run block: entry ${i} spans [${start}, ${end}) of ${this.buf.length} bytes`);
    }
    return { start, end };
  }

  /** Where entry i's key ends and its value starts. */
  private keyEnd(start: number, end: number, i: number): number {
    const length = this.buf.readUInt16LE(start);
    const keyEnd = start + ENTRY_HEADER_BYTES + length;
    if (length < 1 || length > MAX_KEY_BYTES || keyEnd + VALUE_TAG_BYTES > end) {
      throw new CorruptionError(`run block: entry ${i} key length ${length} does not fit`);
    }
    return keyEnd;
  }

  key(i: number): Buffer {
    const { start, end } = this.span(i);
    return this.buf.subarray(start + ENTRY_HEADER_BYTES, this.keyEnd(start, end, i));
  }

  /** Compare entry i's key with `key` (Buffer.compare's sign) without allocating. */
  compareKey(i: number, key: Buffer): number {
    const r = this.compareKeyFrom(i, key, 0);
    return r < 0 ? -1 : r === EQUAL_KEYS ? 0 : 1;
  }

  /**
   * Entry i's key against `key`, both known to share their first `skip`
   * bytes (not compared again). The answer holds the order and where the
   * two first differ: -(n + 1) if the entry's key is smaller and n bytes
   * are common, n + 1 if it is larger, EQUAL_KEYS if the keys are equal.
   * A JS loop: for the short keys of a binary search it beats the native
   * compare's call cost.
   */
  private compareKeyFrom(i: number, key: Buffer, skip: number): number {
    const { start, end } = this.span(i);
    const keyStart = start + ENTRY_HEADER_BYTES;
    const length = this.keyEnd(start, end, i) - keyStart;
    const buf = this.buf;
    const n = length < key.length ? length : key.length;
    let j = skip < n ? skip : n;
    for (; j < n; j++) {
      const d = (buf[keyStart + j] ?? 0) - (key[j] ?? 0);
      if (d !== 0) return d < 0 ? -(j + 1) : j + 1;
    }
    if (length === key.length) return EQUAL_KEYS;
    return length < key.length ? -(n + 1) : n + 1;
  }

  /**
   * First entry whose key is >= `key` (count if none). A binary search that
   * skips the bytes `key` is known to share with every entry still in range:
   * with the entries in order, an entry between two that share their first
   * p and q bytes with `key` shares at least min(p, q) (the keys of a block
   * often share a long prefix: a bucket's name, a common path).
   */
  lowerBound(key: Buffer): number {
    let lo = 0;
    let hi = this.count;
    // Bytes `key` shares with entry lo - 1 and with entry hi (0 past either end).
    let commonLo = 0;
    let commonHi = 0;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const r = this.compareKeyFrom(mid, key, commonLo < commonHi ? commonLo : commonHi);
      if (r < 0) {
        lo = mid + 1;
        commonLo = -r - 1;
      } else {
        hi = mid;
        commonHi = r === EQUAL_KEYS ? key.length : r - 1;
      }
    }
    return lo;
  }

  /** Entry i's value as stored (tag, then IndexValue if live), checked. */
  rawValue(i: number): Buffer {
    const { start, end } = this.span(i);
    const raw = this.buf.subarray(this.keyEnd(start, end, i), end);
    if (!this.checked) checkEntryValue(raw, i);
    return raw;
  }

  isTombstone(i: number): boolean {
    return this.rawValue(i)[0] === VALUE_TAG_TOMBSTONE;
  }

  /**
   * Entry i's value to `visitor`, read in place: one entry() call when it
   * is live, then one chunk() call per locator. Allocates nothing: a walk
   * of the whole index (live bytes at open) makes no object per entry.
   */
  visitValue(i: number, visitor: ChunkVisitor): void {
    const { start, end } = this.span(i);
    let at = this.keyEnd(start, end, i);
    if (!this.checked) checkEntryValue(this.buf.subarray(at, end), i);
    if (this.buf[at] === VALUE_TAG_TOMBSTONE) return;
    visitor.entry();
    at += VALUE_TAG_BYTES + INDEX_VALUE_HEADER_BYTES;
    const n = this.buf.readUInt32LE(at - 4);
    // Locator: extent u32, offset u32, length u32 (chunk_format.ts).
    for (let j = 0; j < n; j++, at += LOCATOR_BYTES) visitor.chunk(this.buf.readUInt32LE(at), this.buf.readUInt32LE(at + 8));
  }

  /** null: tombstone. */
  value(i: number): IndexValue | null {
    const r = new BufReader(this.rawValue(i), 'run block value');
    if (r.u8() === VALUE_TAG_TOMBSTONE) return null;
    return decodeIndexValue(r);
  }

  /** Check every entry and that keys strictly ascend (once; later calls are free). */
  checkAll(): this {
    if (this.checked) return this;
    let prevStart = 0;
    let prevEnd = 0;
    for (let i = 0; i < this.count; i++) {
      const { start, end } = this.span(i);
      const keyEnd = this.keyEnd(start, end, i);
      const keyStart = start + ENTRY_HEADER_BYTES;
      if (i > 0 && compareRanges(this.buf, prevStart, prevEnd, keyStart, keyEnd) >= 0) {
        throw new CorruptionError(`run block: keys out of order at entry ${i}`);
      }
      checkEntryValue(this.buf.subarray(keyEnd, end), i);
      prevStart = keyStart;
      prevEnd = keyEnd;
    }
    this.checked = true;
    return this;
  }
}

/** buf[aStart, aEnd) against buf[bStart, bEnd), as Buffer.compare orders them. */
function compareRanges(buf: Buffer, aStart: number, aEnd: number, bStart: number, bEnd: number): number {
  const aLength = aEnd - aStart;
  const bLength = bEnd - bStart;
  const n = aLength < bLength ? aLength : bLength;
  for (let j = 0; j < n; j++) {
    const d = (buf[aStart + j] ?? 0) - (buf[bStart + j] ?? 0);
    if (d !== 0) return d;
  }
  return aLength - bLength;
}

/** A stored entry value must be a tag and, if live, exactly one IndexValue. */
function checkEntryValue(raw: Buffer, i: number): void {
  const r = new BufReader(raw, 'run block entry');
  const tag = r.u8();
  if (tag === VALUE_TAG_LIVE) parseValue(r, undefined);
  else if (tag !== VALUE_TAG_TOMBSTONE) throw new CorruptionError(`run block: entry ${i} value tag ${tag}`);
  r.expectEnd();
}

/** Open a RunBlock payload and check all of it. Throws CorruptionError. */
export function decodeBlock(buf: Buffer): BlockView {
  return new BlockView(buf).checkAll();
}

// ---------------------------------------------------------------- run index

export interface BlockHandle {
  readonly locator: Locator;
  readonly entryCount: number;
  readonly firstKey: Buffer;
}

/** The run index body: the sparse index (first key per block) and the bloom filter. */
export interface RunIndexBody {
  readonly entryCount: number;
  readonly blocks: readonly BlockHandle[];
  readonly lastKey: Buffer;
  readonly bloomK: number;
  readonly bloom: Buffer;
}

export function encodeRunIndexBody(body: RunIndexBody): Buffer {
  assert(body.blocks.length >= 1, 'a run has at least one block');
  const w = new BufWriter(64 + body.bloom.length + body.blocks.length * 48);
  w.u64(body.entryCount).u32(body.blocks.length);
  for (const b of body.blocks) {
    writeLocator(w, b.locator);
    w.u32(b.entryCount).shortBlob(b.firstKey);
  }
  w.shortBlob(body.lastKey).u8(body.bloomK).blob(body.bloom);
  return w.view();
}

/** Throws CorruptionError unless every rule of the body holds. */
export function decodeRunIndexBody(buf: Buffer): RunIndexBody {
  const what = 'run index';
  const r = new BufReader(buf, what);
  const entryCount = r.u64();
  const blocks = readBlockHandles(r);
  let sum = 0;
  for (const b of blocks) sum += b.entryCount;
  if (sum !== entryCount) throw new CorruptionError(`${what}: blocks hold ${sum} entries, header says ${entryCount}`);
  const lastKey = r.shortBlob();
  checkKeyLength(lastKey, what);
  const lastFirst = blocks[blocks.length - 1];
  if (lastFirst === undefined || Buffer.compare(lastKey, lastFirst.firstKey) < 0) {
    throw new CorruptionError(`${what}: last key below the last block's first key`);
  }
  const bloomK = r.u8();
  if (bloomK < 1 || bloomK > MAX_BLOOM_K) throw new CorruptionError(`${what}: bloom k ${bloomK}`);
  const bloom = r.blob();
  if (bloom.length < 1 || bloom.length > MAX_BLOOM_BYTES) {
    throw new CorruptionError(`${what}: bloom of ${bloom.length} bytes`);
  }
  r.expectEnd();
  return { entryCount, blocks, lastKey, bloomK, bloom };
}

function readBlockHandles(r: BufReader): BlockHandle[] {
  const what = 'run index';
  const n = r.count(BLOCK_HANDLE_MIN_BYTES);
  if (n === 0) throw new CorruptionError(`${what}: no blocks`);
  const blocks: BlockHandle[] = [];
  let prev: Buffer | undefined;
  for (let i = 0; i < n; i++) {
    const locator = readCheckedLocator(r, what);
    const entryCount = r.u32();
    const most = Math.floor((locator.length - CHUNK_OVERHEAD_BYTES - BLOCK_HEADER_BYTES) / ENTRY_MIN_BYTES);
    if (entryCount < 1 || entryCount > most) {
      throw new CorruptionError(`${what}: block ${i} of ${locator.length} bytes cannot hold ${entryCount} entries`);
    }
    const firstKey = r.shortBlob();
    checkKeyLength(firstKey, what);
    if (prev !== undefined && Buffer.compare(prev, firstKey) >= 0) {
      throw new CorruptionError(`${what}: block first keys out of order at block ${i}`);
    }
    prev = firstKey;
    blocks.push({ locator, entryCount, firstKey });
  }
  return blocks;
}

/** One copy's run index as read (or written): the body and the root's part locators. */
export interface LoadedIndex {
  readonly body: RunIndexBody;
  readonly parts: readonly Locator[];
}

export interface RunIndexRoot {
  readonly runId: number;
  /** Part chunks whose bodies, concatenated, form the index body (empty: the body is inline). */
  readonly parts: readonly Locator[];
  readonly inline: Buffer;
}

/** Payload pieces of a root chunk. REQUIRES: exactly one of parts and inline is non-empty. */
export function encodeRunIndexRoot(root: RunIndexRoot): Uint8Array[] {
  assert((root.parts.length === 0) !== (root.inline.length === 0), 'root holds the body inline or lists parts');
  const w = new BufWriter(INDEX_HEADER_BYTES + LOCATOR_BYTES * root.parts.length);
  w.u8(RUN_FORMAT_VERSION).u8(INDEX_ROLE_ROOT).u64(root.runId).u32(root.parts.length);
  for (const p of root.parts) writeLocator(w, p);
  return [w.view(), root.inline];
}

export function decodeRunIndexRoot(buf: Buffer): RunIndexRoot {
  const what = 'run index root';
  const r = new BufReader(buf, what);
  readIndexHeader(r, what, INDEX_ROLE_ROOT);
  const runId = r.u64();
  const n = r.count(LOCATOR_BYTES);
  const parts: Locator[] = [];
  for (let i = 0; i < n; i++) parts.push(readCheckedLocator(r, what));
  const inline = r.bytes(r.remaining);
  if ((n === 0) === (inline.length === 0)) {
    throw new CorruptionError(`${what}: needs an inline body or parts, not ${n} parts and ${inline.length} bytes`);
  }
  return { runId, parts, inline };
}

export interface RunIndexPart {
  readonly runId: number;
  readonly partIndex: number;
  readonly bytes: Buffer;
}

export function encodeRunIndexPart(part: RunIndexPart): Uint8Array[] {
  assert(part.bytes.length >= 1, 'empty index part');
  const w = new BufWriter(INDEX_HEADER_BYTES);
  w.u8(RUN_FORMAT_VERSION).u8(INDEX_ROLE_PART).u64(part.runId).u32(part.partIndex);
  return [w.view(), part.bytes];
}

export function decodeRunIndexPart(buf: Buffer): RunIndexPart {
  const what = 'run index part';
  const r = new BufReader(buf, what);
  readIndexHeader(r, what, INDEX_ROLE_PART);
  const runId = r.u64();
  const partIndex = r.u32();
  const bytes = r.bytes(r.remaining);
  if (bytes.length === 0) throw new CorruptionError(`${what}: empty`);
  return { runId, partIndex, bytes };
}

function readIndexHeader(r: BufReader, what: string, role: number): void {
  const version = r.u8();
  if (version !== RUN_FORMAT_VERSION) throw new CorruptionError(`${what}: unknown version ${version}`);
  const got = r.u8();
  if (got !== role) throw new CorruptionError(`${what}: role ${got}, expected ${role}`);
}

// ---------------------------------------------------------------- descriptor

export interface ExtentBytes {
  readonly extent: number;
  /** Framed bytes (locator lengths, padding excluded) of the run's chunks in this extent. */
  readonly bytes: number;
}

/** What the store's metadata records say about one run. */
export interface RunDescriptor {
  /** Unique among the runs of one index (u64). */
  readonly id: number;
  readonly level: number;
  /** The RunIndex root chunk. */
  readonly indexChunk: Locator;
  readonly entryCount: number;
  readonly tombstoneCount: number;
  /** Highest metadata sequence number whose mutations the run holds. */
  readonly maxSeq: number;
  readonly minKey: Buffer;
  readonly maxKey: Buffer;
  /** Bytes of all the run's chunks (blocks, index root and parts), ascending by extent. */
  readonly extents: readonly ExtentBytes[];
  /**
   * The mirror: a second, complete copy of the run (same block boundaries,
   * its own index chunks), written through a second stream so that no
   * extent holds both copies of one chunk. Its RunIndex root chunk.
   */
  readonly mirrorIndexChunk: Locator;
  /** Bytes of the mirror's chunks per extent, as `extents` for the primary. */
  readonly mirrorExtents: readonly ExtentBytes[];
}

function isU64(v: number): boolean {
  return Number.isSafeInteger(v) && v >= 0;
}

/** Why `d` is not a valid descriptor, or undefined. Encoder asserts it, decoder throws on it. */
export function descriptorProblem(d: RunDescriptor): string | undefined {
  if (!isU64(d.id) || !isU64(d.maxSeq)) return 'id or maxSeq out of range';
  if (!Number.isInteger(d.level) || d.level < 0 || d.level > MAX_LEVEL) return `level ${d.level}`;
  const loc = locatorProblem(d.indexChunk);
  if (loc !== undefined) return `index chunk ${loc}`;
  const mirrorLoc = locatorProblem(d.mirrorIndexChunk);
  if (mirrorLoc !== undefined) return `mirror index chunk ${mirrorLoc}`;
  if (!isU64(d.entryCount) || d.entryCount < 1) return `entry count ${d.entryCount}`;
  if (!isU64(d.tombstoneCount) || d.tombstoneCount > d.entryCount) return `tombstone count ${d.tombstoneCount}`;
  for (const k of [d.minKey, d.maxKey]) {
    if (k.length < 1 || k.length > MAX_KEY_BYTES) return `key length ${k.length}`;
  }
  const order = Buffer.compare(d.minKey, d.maxKey);
  if (order > 0) return 'minKey above maxKey';
  if ((order === 0) !== (d.entryCount === 1)) return 'one entry iff minKey equals maxKey';
  return extentsProblem(d.extents, d.indexChunk, '') ?? extentsProblem(d.mirrorExtents, d.mirrorIndexChunk, 'mirror ');
}

function extentsProblem(extents: readonly ExtentBytes[], indexChunk: Locator, what: string): string | undefined {
  if (extents.length === 0) return `no ${what}extents`;
  let prev = -1;
  let indexExtentBytes = 0;
  for (const e of extents) {
    if (!Number.isInteger(e.extent) || e.extent <= prev || e.extent > 0xffffffff) return `${what}extents not ascending`;
    if (!isU64(e.bytes) || e.bytes < CHUNK_OVERHEAD_BYTES) return `${what}extent ${e.extent} bytes ${e.bytes}`;
    if (e.extent === indexChunk.extent) indexExtentBytes = e.bytes;
    prev = e.extent;
  }
  if (indexExtentBytes < indexChunk.length) return `${what}index chunk extent not counted`;
  return undefined;
}

function writeExtents(w: BufWriter, extents: readonly ExtentBytes[]): void {
  w.u32(extents.length);
  for (const e of extents) w.u32(e.extent).u64(e.bytes);
}

function readExtents(r: BufReader): ExtentBytes[] {
  const n = r.count(EXTENT_BYTES_ENTRY_BYTES);
  const extents: ExtentBytes[] = [];
  for (let i = 0; i < n; i++) extents.push({ extent: r.u32(), bytes: r.u64() });
  return extents;
}

/** REQUIRES: descriptorProblem(d) === undefined (asserted). */
export function encodeRunDescriptor(w: BufWriter, d: RunDescriptor): void {
  const problem = descriptorProblem(d);
  assert(problem === undefined, `encoding invalid run descriptor: ${problem ?? ''}`);
  w.u8(DESCRIPTOR_VERSION).u64(d.id).u8(d.level);
  writeLocator(w, d.indexChunk);
  w.u64(d.entryCount).u64(d.tombstoneCount).u64(d.maxSeq);
  w.shortBlob(d.minKey).shortBlob(d.maxKey);
  writeExtents(w, d.extents);
  writeLocator(w, d.mirrorIndexChunk);
  writeExtents(w, d.mirrorExtents);
}

/** Keys are copied (a descriptor outlives the record it came from). Throws CorruptionError. */
export function decodeRunDescriptor(r: BufReader): RunDescriptor {
  const version = r.u8();
  if (version !== DESCRIPTOR_VERSION) throw new CorruptionError(`run descriptor: unknown version ${version}`);
  const id = r.u64();
  const level = r.u8();
  const indexChunk = readLocator(r);
  const entryCount = r.u64();
  const tombstoneCount = r.u64();
  const maxSeq = r.u64();
  const minKey = Buffer.from(r.shortBlob());
  const maxKey = Buffer.from(r.shortBlob());
  const extents = readExtents(r);
  const mirrorIndexChunk = readLocator(r);
  const mirrorExtents = readExtents(r);
  const d: RunDescriptor = { id, level, indexChunk, entryCount, tombstoneCount, maxSeq, minKey, maxKey, extents, mirrorIndexChunk, mirrorExtents };
  const problem = descriptorProblem(d);
  if (problem !== undefined) throw new CorruptionError(`run descriptor: ${problem}`);
  return d;
}
