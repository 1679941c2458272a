// Reading the two copies of the metadata log back at open.
//
// Model: every record was appended to the log extent and to its mirror at
// the same offset, and the next record only once both copies were durable
// (commit_log.ts). So, for the sequence numbers from the checkpoint's
// nextRecordSeq on:
// - a record whole in at least one copy is believed (the copies are equal by
//   construction; which one is read does not matter);
// - the first sequence number whole in neither copy ends the log, IF no
//   copy holds a whole record with a higher sequence number: that is a
//   torn tail (a crash during the append of the last record), normal;
// - if some copy does hold a higher one, the log was damaged, not torn:
//   the missing record was durable (its successor was appended only after
//   it), and both of its copies are now unreadable. Replay refuses: ending
//   the log there would silently drop every commit after it.
// Stale records of an earlier life of an extent always carry lower sequence
// numbers (sequence numbers only grow, and an extent is reused only after a
// checkpoint past its records), so they are ignored.
//
// Reads are tolerant: an unreadable page costs the records on it, in that
// copy only; the rest of the extent is still searched.
//
// REQUIRES: the caller has set both extents' write pointers to the extent
// size (the log's end is what this finds).
import { CorruptionError, IoError } from '../base/index.js';
import { CHUNK_ALIGN_BYTES, CHUNK_HEADER_BYTES, CHUNK_MAGIC, CHUNK_OVERHEAD_BYTES, ChunkKind, alignUp, checkChunk, parseHeader } from '../chunk/index.js';
import type { ExtentManager } from '../extent/index.js';
import { decodeMetaRecordHead, peekMetaRecordSeq } from './metalog_format.js';
import type { MetaRecordHead } from './metalog_format.js';

/** Bytes read at once; a window that fails is read again page by page. */
const READ_WINDOW_BYTES = 1024 * 1024;

export interface LogCopyDamage {
  /** 0: the log extent, 1: its mirror. */
  readonly copy: 0 | 1;
  readonly extent: number;
  readonly seq: number;
}

export interface LogReplay {
  /** The log's records, in order, each from a copy where it is whole. */
  readonly records: readonly MetaRecordHead[];
  /** Salvage only: sequence numbers lost in both copies and skipped. */
  readonly lost: readonly number[];
  /** Where the next record goes (in both copies). */
  readonly end: number;
  /** Where the log ends after each record of `records` (the end if the records after it are dropped: log_verify.ts). */
  readonly ends: readonly number[];
  /** Records of the log missing in one copy (repaired by rewriting the log: a roll). */
  readonly copyDamage: readonly LogCopyDamage[];
  /** Pages that could not be read, per copy (disk offsets within the extent). */
  readonly unreadable: readonly { copy: 0 | 1; extent: number; offset: number }[];
}

/** The log is damaged beyond what its two copies repair: both copies of a durable record are gone. */
export class LogDamageError extends CorruptionError {
  constructor(
    message: string,
    readonly seq: number,
    readonly laterSeqs: number,
  ) {
    super(message);
  }
}

interface FoundRecord {
  readonly record: MetaRecordHead;
  readonly end: number;
}

interface CopyImage {
  readonly records: Map<number, FoundRecord>;
  readonly unreadable: number[];
}

export interface ReplayOptions {
  /**
   * Skip records lost in both copies and go on with the later ones instead
   * of refusing (`shardstore repair`): the commits of a skipped record are
   * lost, and the caller must say so.
   */
  readonly salvage?: boolean;
}

/**
 * The replay of one store's log, as an object open uses: the seam where a
 * test puts a broken variant of replay (testing/mutants), since src/ has
 * no test hooks.
 */
export class LogReader {
  constructor(private readonly extents: ExtentManager) {}

  replay(logExtents: readonly [number, number], firstSeq: number, options: ReplayOptions = {}): Promise<LogReplay> {
    return replayLog(this.extents, logExtents, firstSeq, options);
  }
}

/**
 * Read both copies of the log from `firstSeq` on. Throws LogDamageError
 * when a record is lost in both copies with a valid record after it (unless
 * salvaging).
 */
export async function replayLog(extents: ExtentManager, logExtents: readonly [number, number], firstSeq: number, options: ReplayOptions = {}): Promise<LogReplay> {
  // One window's memory for both copies: 128 fresh 1 MiB buffers per copy
  // cost more in page faults and collections than the reads themselves.
  const window = Buffer.allocUnsafe(Math.min(READ_WINDOW_BYTES, extents.extentSizeBytes));
  const first = await readCopy(extents, logExtents[0], { firstSeq, window });
  const copies = [first, await readCopy(extents, logExtents[1], { firstSeq, window, twin: first })] as const;
  const lastSeq = highest([copies[0].records.keys(), copies[1].records.keys()], firstSeq - 1);
  const records: MetaRecordHead[] = [];
  const ends: number[] = [];
  const copyDamage: LogCopyDamage[] = [];
  const lost: number[] = [];
  let end = 0;
  let seq = firstSeq;
  for (;; seq++) {
    const found = [copies[0].records.get(seq), copies[1].records.get(seq)] as const;
    const whole = found[0] ?? found[1];
    if (whole === undefined && options.salvage === true && seq < lastSeq) {
      lost.push(seq);
      continue;
    }
    if (whole === undefined) break;
    records.push(whole.record);
    end = Math.max(found[0]?.end ?? 0, found[1]?.end ?? 0);
    ends.push(end);
    for (const copy of [0, 1] as const) {
      if (found[copy] === undefined) copyDamage.push({ copy, extent: logExtents[copy], seq });
    }
  }
  if (lastSeq > seq) {
    const later = new Set([...copies[0].records.keys(), ...copies[1].records.keys()].filter((s) => s > seq));
    const unreadable = copies.flatMap((c, i) => c.unreadable.map((o) => `copy ${i} page at ${o} unreadable`));
    throw new LogDamageError(
      `metadata log damaged: record ${seq} is unreadable in both copies (extents ${logExtents[0]} and ${logExtents[1]}) ` +
        `but ${later.size} later record(s) up to ${lastSeq} are whole: the commits from ${seq} on would be lost` +
        (unreadable.length > 0 ? ` (${unreadable.slice(0, 4).join(', ')})` : ''),
      seq,
      later.size,
    );
  }
  // From the page where the next record would start on, a page neither
  // copy can read: a crash never makes a page unreadable, so this is
  // damage, and it may have swallowed the rest of the log (records are
  // small: one page holds many). The next record may start on a readable
  // page and run into the damaged one, so every page from there on counts,
  // not only the first. Ending the log here would be a silent loss.
  const page = extents.geometry.pageSizeBytes;
  const nextPage = Math.floor(end / page) * page;
  const lostPage = copies[0].unreadable.filter((o) => o >= nextPage && copies[1].unreadable.includes(o)).sort((x, y) => x - y)[0];
  if (options.salvage !== true && lostPage !== undefined) {
    throw new LogDamageError(
      `metadata log damaged: record ${seq} is unreadable in both copies (the page at offset ${lostPage} of extents ${logExtents[0]} and ${logExtents[1]} cannot be read; ` +
        `a crash never leaves an unreadable page, so later records may be lost with it)`,
      seq,
      0,
    );
  }
  const unreadable = copies.flatMap((c, i) => c.unreadable.map((offset) => ({ copy: i === 0 ? (0 as const) : (1 as const), extent: logExtents[i] ?? -1, offset })));
  return { records, lost, end, ends, copyDamage, unreadable };
}

/** The highest of several sequences of numbers, or `floor`; a loop, since a log may hold more records than a call has arguments. */
function highest(sources: ReadonlyArray<Iterable<number>>, floor: number): number {
  let max = floor;
  for (const source of sources) for (const n of source) if (n > max) max = n;
  return max;
}

/**
 * Every whole record of one copy with a sequence number from `firstSeq` on.
 *
 * What it decodes is what replay needs, once: a stale record (below
 * `firstSeq`: an earlier life of the extent) is passed by its sequence
 * number alone, and a record of the second copy whose payload is byte for
 * byte the one `twin` (the first copy) already decoded for that sequence
 * number is that record: the same bytes decode the same. Only a record
 * that differs from its twin, or has none, is decoded on its own. Each
 * record decoded gets its own copy of the payload: the window's memory is
 * read over by the next window.
 */
async function readCopy(extents: ExtentManager, extent: number, how: CopyReading): Promise<CopyImage> {
  const { firstSeq, twin } = how;
  const unreadable: number[] = [];
  const records = new Map<number, FoundRecord>();
  for await (const chunk of chunksOf(extents, extent, how.window, unreadable)) {
    if (chunk.kind !== ChunkKind.MetaRecord) continue;
    // A payload too short for a sequence number does not decode either: a bad copy, like a bad checksum.
    const seq = peekMetaRecordSeq(chunk.payload);
    if (seq === undefined || seq < firstSeq || records.has(seq)) continue;
    const record = sameAsTwin(twin, seq, chunk.payload) ?? decodeHead(chunk.payload);
    if (record === undefined) continue;
    records.set(seq, { record, end: alignUp(chunk.offset + chunk.length) });
  }
  return { records, unreadable };
}

interface CopyReading {
  readonly firstSeq: number;
  /** Memory for the read windows (READ_WINDOW_BYTES, or the extent if smaller). */
  readonly window: Buffer;
  /** The first copy, read already (when this is the second). */
  readonly twin?: CopyImage;
}

/** The first copy's record for `seq` if its payload is exactly `payload`. */
function sameAsTwin(twin: CopyImage | undefined, seq: number, payload: Buffer): MetaRecordHead | undefined {
  const found = twin?.records.get(seq);
  return found !== undefined && found.record.payload.equals(payload) ? found.record : undefined;
}

/** The record head of a copy of `payload`, or undefined if it does not decode (a bad copy, like a bad checksum). */
function decodeHead(payload: Buffer): MetaRecordHead | undefined {
  // Every byte is copied over: no zero-fill first (Buffer.from's would be).
  const own = Buffer.allocUnsafe(payload.length);
  payload.copy(own);
  try {
    return decodeMetaRecordHead(own);
  } catch (err: unknown) {
    if (err instanceof CorruptionError || err instanceof RangeError) return undefined;
    throw err;
  }
}

const MAGIC_BYTES = ((): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(CHUNK_MAGIC);
  return b;
})();

/**
 * Whole chunks of one extent, found by their magic at aligned offsets
 * (every aligned candidate is checked), read a window at a time. Unreadable
 * pages of the windows read are listed in `unreadable` (and searched as
 * zeros); a chunk running past its window is read whole on its own.
 *
 * No image of the whole extent is assembled: on this machine's VM the first
 * touch of fresh memory costs about 5 ms per MiB, and copying the windows
 * into a 64 MiB image was 70% of an open (two log copies: 1.0 of 1.5 s,
 * docs/BENCHMARKS.md, 2026-12-06). Every window is read into the same
 * memory, `window`: a chunk's payload is a view of it, good until the next
 * chunk is asked for.
 */
async function* chunksOf(
  extents: ExtentManager,
  extent: number,
  window: Buffer,
  unreadable: number[],
): AsyncGenerator<{ offset: number; kind: ChunkKind; length: number; payload: Buffer }> {
  const size = extents.extentSizeBytes;
  let pos = 0;
  for (let winAt = 0; winAt < size; winAt += READ_WINDOW_BYTES) {
    const winEnd = Math.min(size, winAt + READ_WINDOW_BYTES);
    if (pos >= winEnd) continue; // inside a chunk found whole
    const win = await readWindow(extents, extent, { at: winAt, n: winEnd - winAt, into: window }, unreadable);
    while (pos < winEnd) {
      const local = win.indexOf(MAGIC_BYTES, pos - winAt);
      if (local < 0) {
        pos = winEnd;
        break;
      }
      const at = winAt + local;
      if (at % CHUNK_ALIGN_BYTES !== 0) {
        pos = at + 1;
        continue;
      }
      const found = await chunkAt(extents, extent, win, local, at);
      if (found === undefined) {
        pos = at + CHUNK_ALIGN_BYTES;
        continue;
      }
      yield found;
      pos = alignUp(at + found.length);
    }
  }
}

/** The chunk starting at `at` (`local` in the window), checked whole; undefined if there is none. */
async function chunkAt(
  extents: ExtentManager,
  extent: number,
  win: Buffer,
  local: number,
  at: number,
): Promise<{ offset: number; kind: ChunkKind; length: number; payload: Buffer } | undefined> {
  let bytes = win;
  let from = local;
  const headerInWindow = local + CHUNK_HEADER_BYTES <= win.length;
  const header = headerInWindow ? parseHeader(win, local) : parseHeader(await readOrEmpty(extents, extent, at, CHUNK_HEADER_BYTES));
  if (header === undefined) return undefined;
  const length = CHUNK_OVERHEAD_BYTES + header.payloadBytes;
  if (at + length > extents.extentSizeBytes) return undefined;
  if (local + length > win.length) {
    // Runs past the window: read it whole (unreadable: not a chunk; the
    // windows after this one list its pages).
    bytes = await readOrEmpty(extents, extent, at, length);
    from = 0;
  }
  const checked = checkChunk(bytes, from);
  if (typeof checked === 'string') return undefined;
  // Shares the window's memory: whoever keeps it copies it (readCopy).
  return { offset: at, kind: checked.header.kind, length, payload: checked.payload };
}

/** `length` bytes at `offset`, or an empty buffer where they cannot be read. */
async function readOrEmpty(extents: ExtentManager, extent: number, offset: number, length: number): Promise<Buffer> {
  try {
    return await extents.read(extent, offset, length);
  } catch (err: unknown) {
    if (!(err instanceof IoError)) throw err;
    return Buffer.alloc(0);
  }
}

/**
 * One window (`n` bytes at `at`, read into `into`: what is returned may be
 * a view of it); if it cannot be read whole, its pages one by one, the
 * unreadable ones as zeros (and listed).
 */
async function readWindow(extents: ExtentManager, extent: number, w: { at: number; n: number; into: Buffer }, unreadable: number[]): Promise<Buffer> {
  const { at, n } = w;
  try {
    return await extents.read(extent, at, n, w.into);
  } catch (err: unknown) {
    if (!(err instanceof IoError)) throw err;
  }
  const page = extents.geometry.pageSizeBytes;
  const win = w.into.subarray(0, n).fill(0);
  for (let p = at; p < at + n; p += page) {
    try {
      (await extents.read(extent, p, page)).copy(win, p - at);
    } catch (pageErr: unknown) {
      if (!(pageErr instanceof IoError)) throw pageErr;
      unreadable.push(p);
    }
  }
  return win;
}
