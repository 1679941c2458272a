// Metadata log records and the index manifest. Spec: docs/format/metadata.md.
// DO NOT CHANGE: on-disk.
//
// Each group commit appends one record, framed as a chunk of kind
// MetaRecord in the current log extent. One record carries everything the
// commit makes durable, so nothing in it can point at something that is not
// durable yet: the cycle's index mutations (a small sorted run), the new
// durable write pointers and owners of extents, and changes to the set of
// LSM runs.
//
// Record payload (version 2 of the log, superblock version 3):
//   seq u64
//   syncedThroughSeq u64 (every record <= this, and its data, was durable
//              when this record was built; recovery verifies the data of the
//              records above the highest such value it finds)
//   extent changes: count u32, then (extent u32, owner u8, writePointer u32)
//   mutations: count u32, then (key: u16 length + bytes, op u8 (1 put, 0 delete),
//              IndexValue if put) in ascending key order
//   runs added: count u32, then RunDescriptor
//   runs removed: count u32, then run id u64
//   flushedThroughSeq u64 (every mutation of records <= this is in a run; 0: none)
//   data names: count u32, then (extent u32, offset u32, length u32, id low u32,
//              id high u32): every data chunk the record's mutations name whose
//              write was not durable when the record was built (it shares the
//              record's flush), with its chunk id
//
// Replay reads a record in two steps: decodeMetaRecordHead (every field but
// the mutations, whose framing it checks while skipping them) and, only for
// records whose mutations are not in a run yet, decodeMutations.
//
// Manifest (inside a checkpoint):
//   runs: count u32, then RunDescriptor (newest first)
//   flushedThroughSeq u64
import { BufReader, BufWriter, CorruptionError } from '../base/index.js';
import { LOCATOR_BYTES } from '../chunk/index.js';
import type { ChunkId, Locator } from '../chunk/index.js';
import { isExtentOwner } from '../extent/index.js';
import type { ExtentRecord } from '../extent/index.js';
import { decodeIndexValue, decodeRunDescriptor, encodeIndexValue, encodeRunDescriptor } from '../index/index.js';
import type { IndexMutation, RunDescriptor } from '../index/index.js';
import { MAX_KEY_BYTES } from './types.js';

/** A data chunk a record names and whose write shared the record's flush: recovery checks it is this very chunk, whole. */
export interface DataName {
  readonly locator: Locator;
  readonly id: ChunkId;
}

/** Bytes of one data name. DO NOT CHANGE: on-disk. */
export const DATA_NAME_BYTES = 20;

export interface MetaRecord {
  readonly seq: number;
  /** Every record up to this one (and the data it names) was durable when this record was built. */
  readonly syncedThroughSeq: number;
  readonly extentChanges: readonly ExtentRecord[];
  readonly mutations: readonly IndexMutation[];
  readonly runsAdded: readonly RunDescriptor[];
  readonly runsRemoved: readonly number[];
  readonly flushedThroughSeq: number;
  readonly dataNames: readonly DataName[];
}

export interface Manifest {
  readonly runs: readonly RunDescriptor[];
  readonly flushedThroughSeq: number;
}

const OP_DELETE = 0;
const OP_PUT = 1;

export function encodeMetaRecord(rec: MetaRecord): Buffer {
  const w = new BufWriter(64 + rec.mutations.length * 64);
  w.u64(rec.seq);
  w.u64(rec.syncedThroughSeq);
  w.u32(rec.extentChanges.length);
  for (const e of rec.extentChanges) w.u32(e.extent).u8(e.owner).u32(e.writePointer);
  w.u32(rec.mutations.length);
  for (const m of rec.mutations) {
    w.shortBlob(m.key);
    if (m.value === null) w.u8(OP_DELETE);
    else encodeIndexValue(w.u8(OP_PUT), m.value);
  }
  w.u32(rec.runsAdded.length);
  for (const r of rec.runsAdded) encodeRunDescriptor(w, r);
  w.u32(rec.runsRemoved.length);
  for (const id of rec.runsRemoved) w.u64(id);
  w.u64(rec.flushedThroughSeq);
  w.u32(rec.dataNames.length);
  for (const d of rec.dataNames) w.u32(d.locator.extent).u32(d.locator.offset).u32(d.locator.length).u32(d.id.low).u32(d.id.high);
  return w.finish();
}

/**
 * A record with its mutations left encoded: replay needs the mutations only
 * of records past the manifest's flushedThroughSeq (most of a long log is
 * in runs already), so it decodes them on demand (decodeMutations) and
 * makes no object for the others.
 */
export interface MetaRecordHead extends Omit<MetaRecord, 'mutations'> {
  readonly mutationCount: number;
  /** The record payload and the offset of its first mutation. */
  readonly payload: Buffer;
  readonly mutationsAt: number;
}

export function decodeMetaRecord(buf: Buffer): MetaRecord {
  const { payload, mutationsAt, mutationCount, ...rest } = decodeMetaRecordHead(buf);
  return { ...rest, mutations: decodeMutations({ seq: rest.seq, payload, mutationsAt, mutationCount }) };
}

/**
 * Everything but the mutations; their framing (key lengths, ops, locator
 * counts) is checked while skipping them, their order and values only by
 * decodeMutations. The data names are decoded on first use.
 */
export function decodeMetaRecordHead(buf: Buffer): MetaRecordHead {
  const r = new BufReader(buf, 'metadata record');
  const seq = r.u64();
  const syncedThroughSeq = r.u64();
  if (syncedThroughSeq >= seq) throw new CorruptionError(`metadata record ${seq}: synced through ${syncedThroughSeq}`);
  const extentChanges: ExtentRecord[] = [];
  for (let n = r.count(9); n > 0; n--) {
    const extent = r.u32();
    const owner = r.u8();
    const writePointer = r.u32();
    if (!isExtentOwner(owner)) throw new CorruptionError(`metadata record ${seq}: extent ${extent} owner ${owner}`);
    extentChanges.push({ extent, owner, writePointer });
  }
  const mutationCount = r.count(4);
  const mutationsAt = r.offset;
  r.skip(mutationsEnd(buf, mutationsAt, mutationCount, seq) - mutationsAt);
  const runsAdded: RunDescriptor[] = [];
  for (let n = r.count(16); n > 0; n--) runsAdded.push(decodeRunDescriptor(r));
  const runsRemoved: number[] = [];
  for (let n = r.count(8); n > 0; n--) runsRemoved.push(r.u64());
  const flushedThroughSeq = r.u64();
  // Data names matter only for the records recovery verifies (the last
  // cycle): made into objects when first asked for. Any bytes decode as
  // data names, so the count checked here is all that can be wrong.
  const dataNameCount = r.count(DATA_NAME_BYTES);
  const dataNamesAt = r.offset;
  r.skip(dataNameCount * DATA_NAME_BYTES);
  r.expectEnd();
  let dataNames: readonly DataName[] | undefined;
  return {
    seq,
    syncedThroughSeq,
    extentChanges,
    mutationCount,
    payload: buf,
    mutationsAt,
    runsAdded,
    runsRemoved,
    flushedThroughSeq,
    get dataNames(): readonly DataName[] {
      dataNames ??= decodeDataNames(buf, dataNamesAt, dataNameCount);
      return dataNames;
    },
  };
}

function decodeDataNames(buf: Buffer, at: number, count: number): DataName[] {
  const r = new BufReader(buf, 'metadata record data names', at);
  const names: DataName[] = [];
  for (let n = count; n > 0; n--) {
    const locator = { extent: r.u32(), offset: r.u32(), length: r.u32() };
    names.push({ locator, id: { low: r.u32(), high: r.u32() } });
  }
  return names;
}

function readKey(r: BufReader, seq: number): Buffer {
  const key = r.shortBlob();
  if (key.length === 0 || key.length > MAX_KEY_BYTES) throw new CorruptionError(`metadata record ${seq}: key length ${key.length}`);
  return key;
}

/**
 * Where the `count` mutations from `at` end, checking their framing as
 * BufReader would (key length 1..MAX_KEY_BYTES, op, a value size below
 * 2^53, the locator count the bytes can hold); no object made. Replay
 * walks every record's mutations this way, so it reads the buffer with
 * plain offsets rather than a reader's calls per field (a third of an
 * open's time went to the walk, docs/BENCHMARKS.md 2026-12-06).
 */
function mutationsEnd(buf: Buffer, at: number, count: number, seq: number): number {
  const end = buf.length;
  let p = at;
  for (let n = count; n > 0; n--) {
    if (p + 2 > end) throw truncatedAt(seq, p);
    const keyBytes = buf.readUInt16LE(p);
    if (keyBytes === 0 || keyBytes > MAX_KEY_BYTES) throw new CorruptionError(`metadata record ${seq}: key length ${keyBytes}`);
    p += 2 + keyBytes;
    if (p + 1 > end) throw truncatedAt(seq, p);
    const op = buf[p] ?? -1;
    p += 1;
    if (op === OP_DELETE) continue;
    if (op !== OP_PUT) throw new CorruptionError(`metadata record ${seq}: op ${op}`);
    // The value: size u64 (below 2^53), locator count u32, the locators.
    if (p + 12 > end) throw truncatedAt(seq, p);
    if (buf.readUInt32LE(p + 4) > U64_HIGH_MAX) throw new CorruptionError(`metadata record ${seq}: value size beyond 2^53 at byte ${p}`);
    const locators = buf.readUInt32LE(p + 8);
    p += 12;
    if (locators * LOCATOR_BYTES > end - p) throw new CorruptionError(`metadata record ${seq}: locator count ${locators} exceeds remaining ${end - p} bytes`);
    p += locators * LOCATOR_BYTES;
  }
  return p;
}

/** The high word of the largest u64 BufReader accepts (2^53 - 1). */
const U64_HIGH_MAX = 0x1fffff;

function truncatedAt(seq: number, at: number): CorruptionError {
  return new CorruptionError(`metadata record ${seq}: truncated at byte ${at}`);
}

/**
 * A record's sequence number, read without decoding the rest (replay
 * skips stale records of an earlier life of the extent this way);
 * undefined if the payload is too short or the number beyond 2^53, which
 * decodeMetaRecordHead refuses too.
 */
export function peekMetaRecordSeq(payload: Buffer): number | undefined {
  if (payload.length < 8) return undefined;
  const high = payload.readUInt32LE(4);
  if (high > U64_HIGH_MAX) return undefined;
  return high * 0x100000000 + payload.readUInt32LE(0);
}

/** The mutations of a record head, checked (keys strictly ascending, valid values). Keys share the payload's memory. */
export function decodeMutations(head: Pick<MetaRecordHead, 'seq' | 'payload' | 'mutationsAt' | 'mutationCount'>): IndexMutation[] {
  const { seq } = head;
  const r = new BufReader(head.payload, 'metadata record', head.mutationsAt);
  const mutations: IndexMutation[] = [];
  let previous: Buffer | undefined;
  for (let n = head.mutationCount; n > 0; n--) {
    const key = readKey(r, seq);
    if (previous !== undefined && Buffer.compare(previous, key) >= 0) throw new CorruptionError(`metadata record ${seq}: keys out of order`);
    previous = key;
    const op = r.u8();
    if (op === OP_DELETE) mutations.push({ key, value: null });
    else if (op === OP_PUT) mutations.push({ key, value: decodeIndexValue(r) });
    else throw new CorruptionError(`metadata record ${seq}: op ${op}`);
  }
  return mutations;
}

export function encodeManifest(m: Manifest): Buffer {
  const w = new BufWriter(256);
  w.u32(m.runs.length);
  for (const run of m.runs) encodeRunDescriptor(w, run);
  w.u64(m.flushedThroughSeq);
  return w.finish();
}

export function decodeManifest(buf: Buffer): Manifest {
  const r = new BufReader(buf, 'index manifest');
  const runs: RunDescriptor[] = [];
  for (let n = r.count(16); n > 0; n--) runs.push(decodeRunDescriptor(r));
  const flushedThroughSeq = r.u64();
  r.expectEnd();
  return { runs, flushedThroughSeq };
}
