// The superblock: what a disk needs to boot. A label written once at format
// (geometry, slot positions, node identity) and two checkpoint slots written
// alternately, so a torn checkpoint write can only damage the slot being
// written, never the previous good one. Open picks the valid slot with the
// highest sequence.
//
// Size and write rate stay bounded as the disk grows: a slot holds 5 bytes
// per extent plus a bounded manifest, and a checkpoint is written only when
// the metadata log rolls to a new extent (see docs/format/superblock.md),
// not on every commit.
import { CorruptionError, InvalidArgumentError } from '../base/index.js';
import type { Disk } from '../disk/index.js';
import type { Dependency, IoScheduler } from '../dependency/index.js';
import type { Geometry } from '../extent/index.js';
import { LABEL_BYTES, decodeCheckpoint, decodeLabel, encodeCheckpoint, encodeLabel, slotBytesFor } from './superblock_format.js';
import type { Checkpoint, Label } from './superblock_format.js';

export interface LayoutOptions {
  readonly diskSizeBytes: number;
  readonly pageSizeBytes: number;
  readonly extentSizeBytes: number;
  readonly maxManifestBytes: number;
  readonly nodeId: { readonly low: number; readonly high: number };
  readonly diskIndex: number;
  readonly diskCount: number;
}

/** Compute the label of a new disk: geometry and slot placement. */
export function planLayout(o: LayoutOptions): Label {
  const { pageSizeBytes, extentSizeBytes } = o;
  if (extentSizeBytes % pageSizeBytes !== 0) throw new InvalidArgumentError('extent size must be a multiple of the page size');
  const extentCount = Math.floor(o.diskSizeBytes / extentSizeBytes);
  const slotBytes = slotBytesFor(extentCount, o.maxManifestBytes, pageSizeBytes);
  const superblockBytes = pageSizeBytes + 2 * slotBytes;
  const superblockExtents = Math.ceil(superblockBytes / extentSizeBytes);
  // Room for the superblock, a log extent, and a few extents to work with.
  if (extentCount < superblockExtents + 4) {
    throw new InvalidArgumentError(
      `disk of ${o.diskSizeBytes} bytes holds ${extentCount} extents of ${extentSizeBytes}; need at least ${superblockExtents + 4}`,
    );
  }
  const geometry: Geometry = { pageSizeBytes, extentSizeBytes, extentCount, superblockExtents };
  return {
    geometry,
    diskSizeBytes: o.diskSizeBytes,
    slotBytes,
    slotOffsets: [pageSizeBytes, pageSizeBytes + slotBytes],
    maxManifestBytes: o.maxManifestBytes,
    nodeId: o.nodeId,
    diskIndex: o.diskIndex,
    diskCount: o.diskCount,
  };
}

export class Superblock {
  private nextSlot: 0 | 1;
  private sequenceValue: number;
  /** The previous checkpoint write: the next one may not start before it is durable. */
  private last: Dependency | undefined;

  private constructor(
    readonly label: Label,
    private readonly io: IoScheduler,
    lastSlot: 0 | 1,
    sequence: number,
  ) {
    this.nextSlot = lastSlot === 0 ? 1 : 0;
    this.sequenceValue = sequence;
  }

  get sequence(): number {
    return this.sequenceValue;
  }

  /** Write the label and the first checkpoint (slot 0). Durable when the dependency is. */
  static format(io: IoScheduler, label: Label, first: Omit<Checkpoint, 'sequence'>): { superblock: Superblock; dependency: Dependency } {
    const labelDep = io.write(0, padTo(encodeLabel(label), label.geometry.pageSizeBytes));
    const sb = new Superblock(label, io, 1, 0);
    const dependency = sb.write(first, labelDep);
    return { superblock: sb, dependency };
  }

  static async readLabel(disk: Disk): Promise<Label> {
    if (disk.sizeBytes < LABEL_BYTES) throw new CorruptionError('disk too small for a superblock label');
    const label = decodeLabel(await disk.read(0, LABEL_BYTES));
    if (label.diskSizeBytes > disk.sizeBytes) {
      throw new CorruptionError(`label says ${label.diskSizeBytes} bytes, disk has ${disk.sizeBytes}`);
    }
    return label;
  }

  /** Read both slots and keep the newest valid checkpoint. */
  static async load(io: IoScheduler, label: Label): Promise<{ superblock: Superblock; checkpoint: Checkpoint }> {
    const candidates: Array<{ slot: 0 | 1; checkpoint: Checkpoint }> = [];
    const errors: string[] = [];
    for (const slot of [0, 1] as const) {
      try {
        const buf = await io.read(label.slotOffsets[slot], label.slotBytes);
        candidates.push({ slot, checkpoint: decodeCheckpoint(buf, label) });
      } catch (err: unknown) {
        if (!(err instanceof CorruptionError)) throw err;
        errors.push(`slot ${slot}: ${err.message}`);
      }
    }
    candidates.sort((a, b) => b.checkpoint.sequence - a.checkpoint.sequence);
    const best = candidates[0];
    if (best === undefined) throw new CorruptionError(`no valid superblock checkpoint (${errors.join('; ')})`);
    return { superblock: new Superblock(label, io, best.slot, best.checkpoint.sequence), checkpoint: best.checkpoint };
  }

  /** Write the next checkpoint to the slot not holding the newest one, after `after`. */
  write(cp: Omit<Checkpoint, 'sequence'>, after: Dependency): Dependency {
    // Overwriting the older slot is safe only once the newer one is durable:
    // otherwise one torn write could leave no valid slot.
    const previous = this.last;
    const start = previous === undefined ? after : after.and(previous);
    this.sequenceValue++;
    const bytes = encodeCheckpoint({ ...cp, sequence: this.sequenceValue }, this.label);
    const slot = this.nextSlot;
    this.nextSlot = slot === 0 ? 1 : 0;
    this.last = this.io.write(this.label.slotOffsets[slot], padTo(bytes, this.label.geometry.pageSizeBytes), start);
    return this.last;
  }
}

function padTo(buf: Buffer, multiple: number): Buffer {
  const size = Math.ceil(buf.length / multiple) * multiple;
  if (size === buf.length) return buf;
  const out = Buffer.alloc(size);
  buf.copy(out);
  return out;
}
