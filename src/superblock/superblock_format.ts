// Superblock formats: the label (written once at format) and the checkpoint
// slots (rewritten alternately). Spec: docs/format/superblock.md.
// DO NOT CHANGE: on-disk.
//
// Every structure here is kept twice, so that one bad sector is repaired from
// the other copy instead of losing the disk (docs/format/superblock.md).
//
// Disk layout of the superblock extents (0 .. superblockExtents-1):
//   [0, pageSize)                     label
//   [pageSize, 2 * pageSize)          label, second copy
//   [slot0Offset, +slotBytes)         checkpoint slot 0, copy 0
//   [slot1Offset, +slotBytes)         checkpoint slot 1, copy 0
//   [slot0CopyOffset, +slotBytes)     checkpoint slot 0, copy 1
//   [slot1CopyOffset, +slotBytes)     checkpoint slot 1, copy 1
// The two copies of a slot are never adjacent: a fault that spans a slot's
// boundary can hurt one copy of each slot, never both copies of one.
//
// Label:   magic "SSLB" u32 | version u32 | pageSize u32 | extentSize u32 |
//          extentCount u32 | superblockExtents u32 | diskSize u64 |
//          slotBytes u32 | slot0Offset u64 | slot1Offset u64 |
//          slot0CopyOffset u64 | slot1CopyOffset u64 | maxManifestBytes u32 |
//          nodeIdLow u32 | nodeIdHigh u32 | diskIndex u32 | diskCount u32 | crc32c u32
// Slot:    magic "SSSB" u32 | version u32 | sequence u64 | payloadLength u32 |
//          crc32c u32 (over the 20 header bytes before it and the payload) | payload
// Payload: extentCount u32 | (owner u8, writePointer u32) x extentCount |
//          logExtent u32 | mirrorLogExtent u32 | nextRecordSeq u64 |
//          manifest (u32 length + bytes)
//          In a checkpoint of version 4 the owner byte's top bit
//          (HOST_ALLOCATED_BIT) says the extent is allocated on the host
//          (host_space.ts); version 3 has no such bit (nothing known).
import { BufReader, BufWriter, CorruptionError, assert, crc32c } from '../base/index.js';
import { MAX_EXTENT_SIZE_BYTES, MIN_EXTENT_SIZE_BYTES, isExtentOwner } from '../extent/index.js';
import type { ExtentRecord, Geometry } from '../extent/index.js';

export const LABEL_MAGIC = 0x424c5353; // "SSLB"
export const SLOT_MAGIC = 0x42535353; // "SSSB"
/**
 * 3: metadata log records of version 2 (one flush per commit cycle: a
 * record names the data that shares its flush, and says which records were
 * synced before it; docs/format/metadata.md). 2: label and checkpoints in
 * two copies, the metadata log mirrored. Older stores are refused.
 */
export const SUPERBLOCK_VERSION = 3;
/**
 * The checkpoint slot's own version, apart from the label's since 4 (the
 * label still says 3: the log records did not change). 4: the owner byte's
 * top bit marks an extent allocated on the host. A checkpoint of version 3
 * (written by a release before it) is read with no extent marked.
 */
export const CHECKPOINT_VERSION = 4;
/** The oldest checkpoint version read (the label's version 3 began with it). */
export const OLDEST_CHECKPOINT_VERSION = 3;
/** In the owner byte of a checkpoint of version 4: every block of the extent is allocated on the host (its zeros were durable). */
export const HOST_ALLOCATED_BIT = 0x80;
export const LABEL_BYTES = 96;
export const SLOT_HEADER_BYTES = 24;
const EXTENT_ENTRY_BYTES = 5;

export interface Label {
  readonly geometry: Geometry;
  readonly diskSizeBytes: number;
  readonly slotBytes: number;
  /** Copy 0 of checkpoint slots 0 and 1. */
  readonly slotOffsets: readonly [number, number];
  /** Copy 1 of checkpoint slots 0 and 1. */
  readonly slotCopyOffsets: readonly [number, number];
  readonly maxManifestBytes: number;
  readonly nodeId: { readonly low: number; readonly high: number };
  readonly diskIndex: number;
  readonly diskCount: number;
}

export interface Checkpoint {
  readonly sequence: number;
  readonly extents: readonly ExtentRecord[];
  /** The metadata log: every record is written to both extents (two copies). */
  readonly logExtent: number;
  readonly mirrorLogExtent: number;
  readonly nextRecordSeq: number;
  /** The index manifest, encoded by the store (opaque here). */
  readonly manifest: Buffer;
  /**
   * Extents every block of which was written with zeros and flushed
   * (host_space.ts): allocated on the host, so writing them needs no new
   * block. Ascending. Knowledge, not state: one missing only costs its
   * preparation again at the next open.
   */
  readonly hostAllocated: readonly number[];
}

/** Bytes one slot needs for `extentCount` extents and a manifest of at most `maxManifestBytes`. */
export function slotBytesFor(extentCount: number, maxManifestBytes: number, pageSizeBytes: number): number {
  const raw = SLOT_HEADER_BYTES + 4 + EXTENT_ENTRY_BYTES * extentCount + 4 + 4 + 8 + 4 + maxManifestBytes;
  return Math.ceil(raw / pageSizeBytes) * pageSizeBytes;
}

export function encodeLabel(label: Label): Buffer {
  const g = label.geometry;
  const w = new BufWriter(LABEL_BYTES);
  w.u32(LABEL_MAGIC).u32(SUPERBLOCK_VERSION).u32(g.pageSizeBytes).u32(g.extentSizeBytes);
  w.u32(g.extentCount).u32(g.superblockExtents).u64(label.diskSizeBytes).u32(label.slotBytes);
  w.u64(label.slotOffsets[0]).u64(label.slotOffsets[1]);
  w.u64(label.slotCopyOffsets[0]).u64(label.slotCopyOffsets[1]).u32(label.maxManifestBytes);
  w.u32(label.nodeId.low).u32(label.nodeId.high).u32(label.diskIndex).u32(label.diskCount);
  w.u32(crc32c(w.view()));
  return w.finish();
}

export function decodeLabel(buf: Buffer): Label {
  const r = new BufReader(buf, 'superblock label');
  if (r.u32() !== LABEL_MAGIC) throw new CorruptionError('superblock label: bad magic (disk not formatted?)');
  const version = r.u32();
  if (version === 1 || version === 2) {
    const made = version === 1 ? 'before metadata was kept in two copies' : 'before a commit cycle took one flush (its log records name no data)';
    throw new CorruptionError(
      `superblock label: version ${version} (a store formatted ${made}); this release opens version ${SUPERBLOCK_VERSION} only: export its shards with the release that made it (shardstore export), and import them into a new store`,
    );
  }
  if (version !== SUPERBLOCK_VERSION) throw new CorruptionError(`superblock label: unknown version ${version}`);
  const geometry = {
    pageSizeBytes: r.u32(),
    extentSizeBytes: r.u32(),
    extentCount: r.u32(),
    superblockExtents: r.u32(),
  };
  const diskSizeBytes = r.u64();
  const slotBytes = r.u32();
  const slotOffsets: [number, number] = [r.u64(), r.u64()];
  const slotCopyOffsets: [number, number] = [r.u64(), r.u64()];
  const maxManifestBytes = r.u32();
  const nodeId = { low: r.u32(), high: r.u32() };
  const diskIndex = r.u32();
  const diskCount = r.u32();
  const crcEnd = r.offset;
  if (crc32c(buf.subarray(0, crcEnd)) !== r.u32()) throw new CorruptionError('superblock label: checksum mismatch');
  const label = { geometry, diskSizeBytes, slotBytes, slotOffsets, slotCopyOffsets, maxManifestBytes, nodeId, diskIndex, diskCount };
  checkLabel(label);
  return label;
}

/** Relations between the label's numbers; a label that breaks one is corrupt. */
function checkLabel(l: Label): void {
  const g = l.geometry;
  const bad = (why: string): never => {
    throw new CorruptionError(`superblock label: ${why}`);
  };
  if (g.pageSizeBytes < 512 || g.pageSizeBytes > 65536 || (g.pageSizeBytes & (g.pageSizeBytes - 1)) !== 0) bad('page size');
  if (g.extentSizeBytes < MIN_EXTENT_SIZE_BYTES || g.extentSizeBytes > MAX_EXTENT_SIZE_BYTES) bad('extent size');
  if (g.extentSizeBytes % g.pageSizeBytes !== 0) bad('extent size not a page multiple');
  if (g.extentCount * g.extentSizeBytes > l.diskSizeBytes) bad('extents exceed the disk');
  if (g.superblockExtents < 1 || g.superblockExtents >= g.extentCount) bad('superblock extents');
  // In order, without overlap: label copies, slot 0, slot 1, slot 0 copy, slot 1 copy.
  const [s0, s1] = l.slotOffsets;
  const [c0, c1] = l.slotCopyOffsets;
  if (s0 < 2 * g.pageSizeBytes || s1 < s0 + l.slotBytes || c0 < s1 + l.slotBytes || c1 < c0 + l.slotBytes) bad('slot offsets');
  if (l.slotCopyOffsets[1] + l.slotBytes > g.superblockExtents * g.extentSizeBytes) bad('slots exceed superblock extents');
  if (l.slotBytes < slotBytesFor(g.extentCount, l.maxManifestBytes, g.pageSizeBytes)) bad('slot too small');
  if (l.diskCount < 1 || l.diskIndex >= l.diskCount) bad('disk index');
}

export function encodeCheckpoint(cp: Checkpoint, label: Label): Buffer {
  const w = new BufWriter(SLOT_HEADER_BYTES + cp.extents.length * EXTENT_ENTRY_BYTES + cp.manifest.length + 64);
  w.u32(SLOT_MAGIC).u32(CHECKPOINT_VERSION).u64(cp.sequence).u32(0).u32(0);
  w.u32(cp.extents.length);
  const marked = new Uint8Array(cp.extents.length);
  let previous = -1;
  for (const extent of cp.hostAllocated) {
    assert(Number.isInteger(extent) && extent > previous && extent < cp.extents.length, `host-allocated extent ${extent} after ${previous} of ${cp.extents.length}`);
    marked[extent] = 1;
    previous = extent;
  }
  for (const e of cp.extents) w.u8(marked[e.extent] === 1 ? e.owner | HOST_ALLOCATED_BIT : e.owner).u32(e.writePointer);
  w.u32(cp.logExtent).u32(cp.mirrorLogExtent).u64(cp.nextRecordSeq).blob(cp.manifest);
  const payloadBytes = w.length - SLOT_HEADER_BYTES;
  w.patchU32(16, payloadBytes);
  const bytes = w.finish();
  const crc = crc32c(bytes.subarray(SLOT_HEADER_BYTES), crc32c(bytes.subarray(0, 20)));
  bytes.writeUInt32LE(crc, 20);
  if (bytes.length > label.slotBytes) {
    throw new RangeError(`checkpoint of ${bytes.length} bytes exceeds the slot (${label.slotBytes})`);
  }
  return bytes;
}

/** Decode a slot; any defect is a CorruptionError (the caller falls back to the other slot). */
export function decodeCheckpoint(buf: Buffer, label: Label): Checkpoint {
  const r = new BufReader(buf, 'superblock slot');
  if (r.u32() !== SLOT_MAGIC) throw new CorruptionError('superblock slot: bad magic');
  const version = r.u32();
  if (version < OLDEST_CHECKPOINT_VERSION || version > CHECKPOINT_VERSION) throw new CorruptionError('superblock slot: unknown version');
  // Version 3 has no mark: a byte with the bit set names no owner there.
  const markBit = version >= 4 ? HOST_ALLOCATED_BIT : 0;
  const sequence = r.u64();
  const payloadBytes = r.u32();
  const crc = r.u32();
  const payload = r.bytes(payloadBytes);
  if (crc32c(payload, crc32c(buf.subarray(0, 20))) !== crc) throw new CorruptionError('superblock slot: checksum mismatch');
  const p = new BufReader(payload, 'superblock checkpoint');
  const count = p.count(EXTENT_ENTRY_BYTES);
  if (count !== label.geometry.extentCount) throw new CorruptionError(`superblock checkpoint: ${count} extents, label says ${label.geometry.extentCount}`);
  const extents: ExtentRecord[] = [];
  const hostAllocated: number[] = [];
  for (let extent = 0; extent < count; extent++) {
    const byte = p.u8();
    const owner = byte & ~markBit;
    if ((byte & markBit) !== 0) hostAllocated.push(extent);
    const writePointer = p.u32();
    if (!isExtentOwner(owner)) throw new CorruptionError(`superblock checkpoint: extent ${extent} owner ${owner}`);
    if (writePointer > label.geometry.extentSizeBytes) throw new CorruptionError(`superblock checkpoint: extent ${extent} write pointer ${writePointer}`);
    extents.push({ extent, owner, writePointer });
  }
  const logExtent = p.u32();
  if (logExtent >= count) throw new CorruptionError(`superblock checkpoint: log extent ${logExtent}`);
  const mirrorLogExtent = p.u32();
  if (mirrorLogExtent >= count || mirrorLogExtent === logExtent) throw new CorruptionError(`superblock checkpoint: mirror log extent ${mirrorLogExtent}`);
  const nextRecordSeq = p.u64();
  const manifest = Buffer.from(p.blob());
  p.expectEnd();
  return { sequence, extents, logExtent, mirrorLogExtent, nextRecordSeq, manifest, hostAllocated };
}
