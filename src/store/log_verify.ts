// Verifying the data of the metadata records no completed flush is known
// to cover, at open.
//
// Model: a commit cycle writes its data chunks and its record, then flushes
// once (commit_log.ts). A crash before that flush returns can leave the
// record durable and some of its data lost or torn: the record must not be
// believed then. Each record says which records were durable when it was
// built (syncedThroughSeq); a record at or below the highest such value
// found in the log, or below the checkpoint's first sequence number, was
// covered by a completed flush, data included. Only the records above it
// (with one cycle at a time: the last record) are checked: every data
// chunk a record names (those not durable when it was written) must be
// there, whole (both checksums, the id at both ends) and the very chunk
// named (its id), not a stale chunk of an earlier life of the extent.
//
// Verdicts:
// - every named chunk whole: the record is believed;
// - a readable named chunk not whole: the log ends before this record (a
//   torn tail: its flush never returned, so nothing in it was
//   acknowledged), silently but reported in DiskStore.recovery;
// - a named chunk damaged, and every other one whole: the record is
//   believed and the chunk reported; reads of it fail with a typed error,
//   as for any bad data sector. Damaged is what a crash never leaves: an
//   unreadable page (an IO error), or a chunk one flipped bit away from
//   whole (bit rot: found through the CRC, crc32cSingleBitError; a torn
//   page is old bytes or garbage, never the new bytes but one bit). Without
//   this, a bit flipped in the data of the last acknowledged cycle would
//   drop the whole record, and with it acknowledged values of other keys.
// A record covered by a completed flush is never dropped: bad data under it
// is damage, found by reads, scrub and fsck (which report it), never a
// reason to end the log silently.
//
// What this cannot do: tell a torn chunk from one damaged in more than one
// bit after its flush returned (two flips are neither whole nor one bit
// from whole; a tear is page-granular, and a chunk of a few KiB spans
// pages, so matching ids at both ends prove nothing; two-bit correction
// through CRC32C is ambiguous on chunks past ~5,000 bits and would accept
// garbage often). Such damage to an unconfirmed record's data drops the
// record and its cycle's acknowledged values. So the store keeps the
// unconfirmed stretch short instead: an idle store confirms its last
// record within confirmIdleMs, close and open confirm
// (commit_log.ts, "Confirmation"); the window left is stated in
// docs/ARCHITECTURE.md, "The confirmation window".
//
// Cost: reads of the last cycle's data only (a cycle's worth), so open
// stays proportional to metadata.
import { CorruptionError, IoError, crc32c, crc32cSingleBitError } from '../base/index.js';
import { CHUNK_HEADER_BYTES, CHUNK_OVERHEAD_BYTES, CHUNK_TRAILER_BYTES, ChunkKind, checkChunk } from '../chunk/index.js';
import type { Locator } from '../chunk/index.js';
import type { ExtentManager } from '../extent/index.js';
import type { DataName, MetaRecordHead } from './metalog_format.js';

/** Named chunks read at once by checkRecord. */
const VERIFY_READS_IN_FLIGHT = 32;

export interface VerifiedLog {
  /** The records to believe: a prefix of the replayed records. */
  readonly records: readonly MetaRecordHead[];
  /** Records whose data was checked (those no completed flush covers). */
  readonly verified: number;
  /** The first record dropped (the log ends before it) and why. */
  readonly dropped?: { readonly seq: number; readonly count: number; readonly reason: string };
  /** Named chunks of believed records that are damaged (unreadable, or a flipped bit), and why. */
  readonly damagedData: readonly DamagedData[];
}

export interface DamagedData {
  readonly locator: Locator;
  readonly reason: string;
}

/** What one named chunk holds: whole; not whole, as a crash leaves it (why); or damaged, as a crash never leaves it (why). */
export type DataCheck =
  | { readonly state: 'whole' }
  | { readonly state: 'torn'; readonly reason: string }
  | { readonly state: 'damaged'; readonly reason: string };

/**
 * The verification of a store's log tail, as an object open uses: the seam
 * where a test puts a broken variant (testing/mutants), since src/ has no
 * test hooks.
 */
export class LogVerifier {
  constructor(private readonly extents: ExtentManager) {}

  /**
   * The records to believe of `records` (the replayed log, in order);
   * `syncedBefore`: the records up to it are covered by the checkpoint.
   */
  async verify(records: readonly MetaRecordHead[], syncedBefore: number): Promise<VerifiedLog> {
    let synced = syncedBefore;
    for (const r of records) synced = Math.max(synced, r.syncedThroughSeq);
    const damagedData: DamagedData[] = [];
    let verified = 0;
    for (const [i, record] of records.entries()) {
      if (record.seq <= synced) continue;
      verified++;
      const { torn, damaged } = await this.checkRecord(record);
      if (torn !== undefined) {
        const count = records.length - i;
        return { records: records.slice(0, i), verified, dropped: { seq: record.seq, count, reason: torn }, damagedData };
      }
      damagedData.push(...damaged);
    }
    return { records, verified, damagedData };
  }

  /**
   * The first named chunk of `record` that is not whole (why), and the
   * damaged ones before it. The chunks are read VERIFY_READS_IN_FLIGHT at a
   * time (a cycle of 1,024 small puts names 1,024 chunks: one read at a
   * time was a thread-pool round trip each) and judged in order, as one by
   * one: a failure of a read past the first torn chunk is not seen.
   */
  async checkRecord(record: MetaRecordHead): Promise<{ torn?: string; damaged: DamagedData[] }> {
    const damaged: DamagedData[] = [];
    const names = record.dataNames;
    for (let from = 0; from < names.length; from += VERIFY_READS_IN_FLIGHT) {
      const batch = names.slice(from, from + VERIFY_READS_IN_FLIGHT);
      const checks = await Promise.allSettled(batch.map((name) => this.checkData(name)));
      for (const [i, settled] of checks.entries()) {
        if (settled.status === 'rejected') throw settled.reason;
        const check = settled.value;
        if (check.state === 'torn') return { torn: `record ${record.seq}: ${check.reason}`, damaged };
        const locator = batch[i]?.locator;
        if (check.state === 'damaged' && locator !== undefined) damaged.push({ locator, reason: check.reason });
      }
    }
    return { damaged };
  }

  /** Whether the chunk `name` says is at its locator is there, whole. */
  async checkData(name: DataName): Promise<DataCheck> {
    const { extent, offset, length } = name.locator;
    const where = `data chunk ${extent}:${offset}+${length}`;
    let bytes: Buffer;
    try {
      bytes = await this.extents.readForVerification(extent, offset, length);
    } catch (err: unknown) {
      if (err instanceof IoError) return { state: 'damaged', reason: `${where}: unreadable (${err.message})` };
      if (err instanceof CorruptionError) return { state: 'torn', reason: `${where}: ${err.message}` };
      throw err;
    }
    const problem = notTheNamedChunk(bytes, name);
    if (problem === undefined) return { state: 'whole' };
    if (oneBitFromWhole(bytes, name)) return { state: 'damaged', reason: `${where}: one bit flipped (${problem})` };
    return { state: 'torn', reason: `${where}: ${problem}` };
  }
}

/** Why `bytes` is not the whole chunk `name` names; undefined if it is. */
function notTheNamedChunk(bytes: Buffer, name: DataName): string | undefined {
  const checked = checkChunk(bytes, 0);
  if (typeof checked === 'string') return checked;
  const { header } = checked;
  if (CHUNK_OVERHEAD_BYTES + header.payloadBytes !== bytes.length) return `a chunk of ${CHUNK_OVERHEAD_BYTES + header.payloadBytes} bytes`;
  if (header.kind !== ChunkKind.Data) return `a chunk of kind ${header.kind}`;
  if (header.idLow !== name.id.low >>> 0 || header.idHigh !== name.id.high >>> 0) return 'another chunk (a stale one of an earlier write)';
  return undefined;
}

/**
 * Whether flipping one bit of `bytes` makes it the whole named chunk. The
 * bit is found from the frame's CRC (header and payload), or is in the
 * stored CRC, or in the trailing id (which no CRC covers: compared with the
 * named id).
 */
function oneBitFromWhole(bytes: Buffer, name: DataName): boolean {
  const crcAt = bytes.length - CHUNK_TRAILER_BYTES;
  if (crcAt < CHUNK_HEADER_BYTES) return false;
  const fixed = Buffer.from(bytes);
  const error = crc32cSingleBitError(fixed.subarray(0, crcAt), fixed.readUInt32LE(crcAt));
  if (error?.in === 'data') fixed[error.bit >> 3] = (fixed[error.bit >> 3] ?? 0) ^ (1 << (error.bit & 7));
  else if (error?.in === 'checksum') fixed.writeUInt32LE(crc32c(fixed.subarray(0, crcAt)), crcAt);
  else if (crc32c(fixed.subarray(0, crcAt)) === fixed.readUInt32LE(crcAt)) {
    // Header and payload whole: the flip may be in the trailing id.
    const low = (fixed.readUInt32LE(crcAt + 4) ^ name.id.low) >>> 0;
    const high = (fixed.readUInt32LE(crcAt + 8) ^ name.id.high) >>> 0;
    if (!((low === 0 && isOneBit(high)) || (high === 0 && isOneBit(low)))) return false;
    fixed.writeUInt32LE(name.id.low >>> 0, crcAt + 4);
    fixed.writeUInt32LE(name.id.high >>> 0, crcAt + 8);
  } else return false;
  return notTheNamedChunk(fixed, name) === undefined;
}

function isOneBit(n: number): boolean {
  return n !== 0 && (n & (n - 1)) >>> 0 === 0;
}

