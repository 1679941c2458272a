// Where the metadata of a disk image lies: the byte ranges of every copy of
// each structure that recovery needs (label, checkpoints, metadata-log
// records, the chunks of installed LSM runs), found from the store's own
// state so that the metadata-faults check can damage them.
//
// Strategy: open the undamaged image (the caller's probe store) and read
// what the store offers: the label's geometry, the extent map of `inspect`
// (owner and write pointer of every extent), the installed run
// descriptors, and chunk scans of the extents they name. Copies are found
// by content, not by layout, so the same code finds one copy of each
// structure today and two once the metadata is mirrored:
// - label: every page of the superblock extents that decodes as a label;
// - checkpoint: every page there that decodes as a checkpoint slot,
//   grouped by sequence (the newest, and the older ones);
// - log record: every MetaRecord chunk in a metadata extent, grouped by
//   sequence, among the records recovery replayed;
// - run index chunk: RunIndex chunks of an installed run (by run id, role
//   and part), at most one per extent the run's descriptor names;
// - run block: a block the run names, and one chunk of equal bytes in each
//   other extent of the run (the mirror keeps identical block boundaries).
// Each copy is the range of bytes actually written (a label's encoded bytes, a
// slot's header and payload, a chunk's frame), never the padding after it.
import { ChunkKind } from '../src/chunk/index.js';
import type { Locator } from '../src/chunk/index.js';
import type { RunDescriptor } from '../src/index/index.js';
import { LABEL_BYTES, LABEL_MAGIC, SLOT_HEADER_BYTES, SLOT_MAGIC, decodeCheckpoint, decodeLabel, encodeLabel } from '../src/superblock/index.js';
import type { Label } from '../src/superblock/index.js';
import { decodeMetaRecordHead } from '../src/store/index.js';
import type { DiskStore } from '../src/store/index.js';
import { extentMap } from '../src/tools/inspect.js';
import type { SimDisk } from './sim_disk.js';

export type MetaTarget = 'label' | 'checkpoint-newest' | 'checkpoint-older' | 'log-middle' | 'log-last' | 'run-block' | 'run-index';
// The trial's case first: a failing sequence shrinks towards the first target.
export const META_TARGETS: readonly MetaTarget[] = ['log-middle', 'log-last', 'checkpoint-newest', 'checkpoint-older', 'label', 'run-block', 'run-index'];

/** One copy: absolute disk bytes [offset, offset + length), all written. */
export interface MetaCopy {
  readonly offset: number;
  readonly length: number;
  /** Readable: "log record 7 at extent 5:4096+231". */
  readonly what: string;
}

/** One structure recovery needs, and every copy of it found on the image. */
export interface MetaStructure {
  readonly target: MetaTarget;
  readonly copies: readonly MetaCopy[];
  /**
   * Fewer copies than the other structures of its kind: a copy was torn by
   * the crash before this image (the write of the last record or
   * checkpoint did not complete, so it was never acknowledged). Damage to
   * what is left is damage to every copy.
   */
  readonly partial: boolean;
}

/** RunIndex payload: version u8, role u8, run id u64, part count or index u32 (docs/format/lsm_run.md). */
const RUN_INDEX_ID_AT = 2;
const RUN_INDEX_PART_AT = 10;
const RUN_INDEX_ROLE_ROOT = 1;

/** Every metadata structure of the image under `probe` (opened on a clone of `image`, nothing written since). */
export async function locateMetadata(probe: DiskStore, image: SimDisk): Promise<MetaStructure[]> {
  return [...superblockStructures(probe.label, image), ...(await logStructures(probe)), ...(await runStructures(probe))];
}

function superblockStructures(label: Label, image: SimDisk): MetaStructure[] {
  const g = label.geometry;
  const ps = g.pageSizeBytes;
  const end = g.superblockExtents * g.extentSizeBytes;
  const labels: MetaCopy[] = [];
  const slots = new Map<number, MetaCopy[]>();
  for (let at = 0; at + ps <= end; at += ps) {
    const magic = image.peek(at, 4).readUInt32LE(0);
    const copy = magic === LABEL_MAGIC ? decoded(() => decodeLabel(image.peek(at, LABEL_BYTES))) : undefined;
    if (copy !== undefined) {
      // The encoded label is shorter than the LABEL_BYTES read: the rest is padding no check covers.
      labels.push({ offset: at, length: encodeLabel(copy).length, what: `label copy at byte ${at}` });
    } else if (magic === SLOT_MAGIC) {
      const header = image.peek(at, SLOT_HEADER_BYTES);
      const length = Math.min(end - at, SLOT_HEADER_BYTES + header.readUInt32LE(16));
      const sequence = header.readUInt32LE(8) + header.readUInt32LE(12) * 0x100000000;
      if (!decodes(() => decodeCheckpoint(image.peek(at, length), label))) continue;
      const copies = slots.get(sequence) ?? [];
      copies.push({ offset: at, length, what: `checkpoint ${sequence} copy at byte ${at}` });
      slots.set(sequence, copies);
    }
  }
  const sequences = [...slots.keys()].sort((a, b) => b - a);
  const out: MetaStructure[] = labels.length > 0 ? [{ target: 'label', copies: labels, partial: false }] : [];
  const most = Math.max(2, ...[...slots.values()].map((c) => c.length)); // two copies of each checkpoint
  sequences.forEach((seq, i) => {
    const copies = slots.get(seq) ?? [];
    out.push({ target: i === 0 ? 'checkpoint-newest' : 'checkpoint-older', copies, partial: copies.length < most });
  });
  return out;
}

function decodes(decode: () => unknown): boolean {
  return decoded(decode) !== undefined;
}

function decoded<T>(decode: () => T): T | undefined {
  try {
    return decode();
  } catch (err: unknown) {
    void err; // not a valid copy: nothing recovery would use, so nothing to damage
    return undefined;
  }
}

/** Records recovery replayed, by sequence; every copy in every written metadata extent. */
async function logStructures(probe: DiskStore): Promise<MetaStructure[]> {
  const replayedBelow = replayedRecordsEnd(probe);
  const bySeq = new Map<number, MetaCopy[]>();
  for (const cell of extentMap(probe, 0, 'sim').cells) {
    if (cell.owner !== 'meta' || cell.writePointerBytes === 0) continue;
    for await (const chunk of probe.parts.chunks.scan(cell.extent)) {
      if (chunk.kind !== ChunkKind.MetaRecord) continue;
      const seq = decodeMetaRecordHead(chunk.payload).seq;
      if (seq >= replayedBelow) continue;
      const copies = bySeq.get(seq) ?? [];
      copies.push(copyAt(probe, chunk.locator, `log record ${seq}`));
      bySeq.set(seq, copies);
    }
  }
  const seqs = [...bySeq.keys()].sort((a, b) => a - b);
  const last = seqs.at(-1);
  // Every record is written to two log extents: one found in fewer is a
  // record a crash left short of a copy (never acknowledged).
  const most = Math.max(2, ...[...bySeq.values()].map((c) => c.length));
  return seqs.map((seq) => {
    const copies = bySeq.get(seq) ?? [];
    return { target: seq === last ? 'log-last' : 'log-middle', copies, partial: copies.length < most };
  });
}

/**
 * The sequence after the last record recovery replayed. The one place this
 * check reaches inside the store (its commit-log state): records past it
 * (after a torn one) are not part of the log, and damage there loses
 * nothing, so they are no target. A store that offered "records replayed"
 * in its stats would replace this.
 */
function replayedRecordsEnd(probe: DiskStore): number {
  return probe.parts.state.nextSeq;
}

async function runStructures(probe: DiskStore): Promise<MetaStructure[]> {
  const out: MetaStructure[] = [];
  for (const run of probe.parts.index.runs()) {
    const chunks = await runExtentChunks(probe, run);
    const named = await probe.parts.index.chunksOf(run);
    out.push(...runIndexStructures(probe, run, chunks));
    for (const loc of named) {
      const primary = chunks.find((c) => sameLocator(c.locator, loc));
      if (primary === undefined || primary.kind !== ChunkKind.RunBlock) continue;
      const copies = onePerExtent(chunks.filter((c) => c.kind === ChunkKind.RunBlock && c.payload.equals(primary.payload)), loc);
      out.push({ target: 'run-block', copies: copies.map((c) => copyAt(probe, c.locator, `run ${run.id} block`)), partial: false });
    }
  }
  return out;
}

interface FoundChunk {
  readonly locator: Locator;
  readonly kind: ChunkKind;
  readonly payload: Buffer;
}

async function runExtentChunks(probe: DiskStore, run: RunDescriptor): Promise<FoundChunk[]> {
  const out: FoundChunk[] = [];
  for (const { extent } of run.extents) {
    for await (const c of probe.parts.chunks.scan(extent)) {
      if (c.kind === ChunkKind.RunBlock || c.kind === ChunkKind.RunIndex) out.push(c);
    }
  }
  return out;
}

/** The run's index root and parts: per (role, part), every copy (one per extent). */
function runIndexStructures(probe: DiskStore, run: RunDescriptor, chunks: readonly FoundChunk[]): MetaStructure[] {
  const groups = new Map<string, FoundChunk[]>();
  for (const c of chunks) {
    if (c.kind !== ChunkKind.RunIndex || c.payload.length < RUN_INDEX_PART_AT + 4) continue;
    const id = c.payload.readUInt32LE(RUN_INDEX_ID_AT) + c.payload.readUInt32LE(RUN_INDEX_ID_AT + 4) * 0x100000000;
    if (id !== run.id) continue;
    const role = c.payload.readUInt8(1);
    const key = role === RUN_INDEX_ROLE_ROOT ? 'root' : `part ${c.payload.readUInt32LE(RUN_INDEX_PART_AT)}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  return [...groups].map(([key, list]) => ({
    target: 'run-index',
    partial: false,
    copies: onePerExtent(list, run.indexChunk).map((c) => copyAt(probe, c.locator, `run ${run.id} index ${key}`)),
  }));
}

/** At most one chunk per extent: the one at `named` if there, else the newest (a dead run may have left equal bytes). */
function onePerExtent(list: readonly FoundChunk[], named: Locator): FoundChunk[] {
  const perExtent = new Map<number, FoundChunk>();
  for (const c of list) {
    const kept = perExtent.get(c.locator.extent);
    if (kept === undefined || !sameLocator(kept.locator, named)) perExtent.set(c.locator.extent, c);
  }
  return [...perExtent.values()];
}

function sameLocator(a: Locator, b: Locator): boolean {
  return a.extent === b.extent && a.offset === b.offset && a.length === b.length;
}

function copyAt(probe: DiskStore, loc: Locator, what: string): MetaCopy {
  const size = probe.label.geometry.extentSizeBytes;
  return { offset: loc.extent * size + loc.offset, length: loc.length, what: `${what} at extent ${loc.extent}:${loc.offset}+${loc.length}` };
}
