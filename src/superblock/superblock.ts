// The superblock: what a disk needs to boot. A label written once at format
// (geometry, slot positions, node identity) and two checkpoint slots written
// alternately, so a torn checkpoint write can only damage the slot being
// written, never the previous good one. Open picks the valid slot with the
// highest sequence.
//
// Everything is kept in two copies: the label at page 0 and page 1, and each
// checkpoint in both copies of its slot, one copy written only once the
// other is durable (copy 0 first, unless copy 1 is the slot's only bad one). One bad sector therefore costs one copy, and open reads the
// other: a damaged copy of the newest checkpoint must never make open fall
// back to the older slot, whose log extent may already have been reused. A
// crash tears at most one copy of a slot (the other holds this checkpoint
// or that slot's previous one), so a slot bad in both copies is damage, and
// open refuses rather than guess which slot was the newest.
//
// Size and write rate stay bounded as the disk grows: a slot holds 5 bytes
// per extent plus a bounded manifest, and a checkpoint is written only when
// the metadata log rolls to a new extent (see docs/format/superblock.md),
// not on every commit.
import { CorruptionError, InvalidArgumentError, IoError, isAllZero } from '../base/index.js';
import type { Disk } from '../disk/index.js';
import { Dependency } from '../dependency/index.js';
import type { IoScheduler } from '../dependency/index.js';
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
  const firstSlot = 2 * pageSizeBytes;
  const superblockBytes = firstSlot + 4 * slotBytes;
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
    slotOffsets: [firstSlot, firstSlot + slotBytes],
    slotCopyOffsets: [firstSlot + 2 * slotBytes, firstSlot + 3 * slotBytes],
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
  /**
   * Per slot, whether copy 1 is bad (torn, damaged or never written) while
   * copy 0 is whole, as load found them (a write makes both whole). write()
   * then writes copy 1 first, so that a crash during it leaves copy 0.
   */
  private readonly onlyCopy0Whole: [boolean, boolean] = [false, false];

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
    const page = padTo(encodeLabel(label), label.geometry.pageSizeBytes);
    // Slot 1 is written empty (zeros), so that whatever the device held
    // before reads as never written, not as a slot damaged in both copies.
    const empty = Buffer.alloc(label.slotBytes);
    const labelDep = Dependency.all([
      io.write(0, page),
      io.write(labelCopyOffset(label.geometry.pageSizeBytes), page),
      io.write(label.slotOffsets[1], empty),
      io.write(label.slotCopyOffsets[1], empty),
    ]);
    const sb = new Superblock(label, io, 1, 0);
    const dependency = sb.write(first, labelDep);
    return { superblock: sb, dependency };
  }

  /** The label, from its first copy or, if that is damaged, its second. */
  static async readLabel(disk: Disk): Promise<Label> {
    const { label } = await Superblock.readLabelCopies(disk);
    return label;
  }

  /** Both copies of the label: the first valid one, and what was wrong with each. */
  static async readLabelCopies(disk: Disk): Promise<{ label: Label; copies: readonly [CopyState, CopyState] }> {
    if (disk.sizeBytes < 2 * LABEL_BYTES) throw new CorruptionError('disk too small for a superblock label');
    const first = await readCopy(() => Superblock.labelAt(disk, 0));
    // The copy sits one page in, but the page size is in the label: try the
    // label's own, else every page size a label may have.
    const guesses = first.value === undefined ? LABEL_PAGE_SIZES : [first.value.geometry.pageSizeBytes];
    let second: Copy<Label> = { state: { ok: false, error: 'not found' } };
    const misses = new Map<string, number[]>(); // each bad copy's error, with the page sizes that gave it
    for (const pageSize of guesses) {
      if (2 * pageSize > disk.sizeBytes) break;
      second = await readCopy(() => Superblock.labelAt(disk, pageSize));
      if (second.value !== undefined && second.value.geometry.pageSizeBytes === pageSize) break;
      if (!second.state.ok) misses.set(second.state.error, [...(misses.get(second.state.error) ?? []), pageSize]);
    }
    if (guesses.length > 1 && second.value === undefined && misses.size > 0) {
      // No guess held copy 1: say what each place held (an unreadable page, a bad label), not only the last one tried.
      second = { state: { ok: false, error: `no copy at any page size (${[...misses].map(([error, sizes]) => `at ${sizes.join(', ')}: ${error}`).join('; ')})` } };
    }
    const label = first.value ?? second.value;
    if (label === undefined) {
      throw new CorruptionError(`no valid superblock label: copy 0: ${errorOf(first.state)}; copy 1: ${errorOf(second.state)}`);
    }
    if (first.value !== undefined && second.value !== undefined && !encodeLabel(first.value).equals(encodeLabel(second.value))) {
      second = { state: { ok: false, error: 'differs from copy 0' } };
    }
    return { label, copies: [first.state, second.state] };
  }

  private static async labelAt(disk: Disk, offset: number): Promise<Label> {
    let bytes: Buffer;
    try {
      bytes = await disk.read(offset, LABEL_BYTES);
    } catch (err: unknown) {
      // An unreadable sector is a bad copy, whatever error the device gives.
      throw new IoError(`label copy at ${offset} unreadable: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const label = decodeLabel(bytes);
    if (label.diskSizeBytes > disk.sizeBytes) {
      throw new CorruptionError(`label says ${label.diskSizeBytes} bytes, disk has ${disk.sizeBytes}`);
    }
    return label;
  }

  /** Rewrite the label copies that `copies` says are bad (open repairs them; the label is otherwise written once). */
  static repairLabel(io: IoScheduler, label: Label, copies: readonly [CopyState, CopyState]): Dependency | undefined {
    const page = padTo(encodeLabel(label), label.geometry.pageSizeBytes);
    const offsets = [0, labelCopyOffset(label.geometry.pageSizeBytes)] as const;
    const writes = offsets.filter((_, i) => copies[i]?.ok !== true).map((offset) => io.write(offset, page));
    return writes.length === 0 ? undefined : Dependency.all(writes);
  }

  /**
   * Read every copy of both slots and keep the newest valid checkpoint. The
   * report says what each copy held, so fsck can name a damaged one and open
   * can repair it.
   */
  static async load(io: IoScheduler, label: Label, options: { readonly salvage?: boolean } = {}): Promise<{ superblock: Superblock; checkpoint: Checkpoint; slots: readonly SlotCopyReport[] }> {
    const slots: SlotCopyReport[] = [];
    let best: { slot: 0 | 1; checkpoint: Checkpoint } | undefined;
    for (const slot of [0, 1] as const) {
      // A slot's second copy almost always holds the first one's bytes, and
      // decoding is a function of the bytes: decode those once (a crash
      // check opens thousands of times, and each decode builds the table).
      let decoded: { buf: Buffer; checkpoint: Checkpoint } | undefined;
      for (const copy of [0, 1] as const) {
        const offset = (copy === 0 ? label.slotOffsets : label.slotCopyOffsets)[slot];
        let empty = false;
        const read = await readCopy(async () => {
          const buf = await io.read(offset, label.slotBytes);
          empty = isAllZero(buf);
          if (decoded !== undefined && buf.equals(decoded.buf)) return decoded.checkpoint;
          const checkpoint = decodeCheckpoint(buf, label);
          decoded = { buf, checkpoint };
          return checkpoint;
        });
        const checkpoint = read.value;
        slots.push({ slot, copy, offset, state: read.state, ...(checkpoint === undefined ? {} : { sequence: checkpoint.sequence }), ...(empty ? { empty } : {}) });
        if (checkpoint !== undefined && (best === undefined || checkpoint.sequence > best.checkpoint.sequence)) best = { slot, checkpoint };
      }
    }
    if (best === undefined) {
      throw new CorruptionError(`no valid superblock checkpoint (${slots.map((s) => `slot ${s.slot} copy ${s.copy}: ${errorOf(s.state)}`).join('; ')})`);
    }
    // The copies of a slot are written one after the other (write()), so a
    // crash tears at most one, and the other still holds a whole checkpoint
    // (this one, or the one before it in that slot). Both bad is damage, and
    // the slot may have held the newest checkpoint: taking the other slot's
    // could silently go back past commits whose log is gone.
    const damaged = ([0, 1] as const).filter((slot) => slots.every((c) => c.slot !== slot || (!c.state.ok && c.empty !== true)));
    if (damaged.length > 0 && options.salvage !== true) {
      const what = slots.filter((c) => damaged.includes(c.slot)).map((c) => `slot ${c.slot} copy ${c.copy}: ${errorOf(c.state)}`);
      throw new CorruptionError(
        `superblock checkpoint slot ${damaged.join(' and ')} damaged in both copies (${what.join('; ')}): it may have held the newest checkpoint, so the store was not opened; \`shardstore repair\` opens it from the newest readable one`,
      );
    }
    const superblock = new Superblock(label, io, best.slot, best.checkpoint.sequence);
    for (const slot of [0, 1] as const) {
      const ok = (copy: 0 | 1): boolean => slots.some((c) => c.slot === slot && c.copy === copy && c.state.ok);
      superblock.onlyCopy0Whole[slot] = ok(0) && !ok(1);
    }
    return { superblock, checkpoint: best.checkpoint, slots };
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
    const page = padTo(bytes, this.label.geometry.pageSizeBytes);
    // One copy only once the other is durable: a crash then tears at most
    // one copy of a slot, so a slot bad in both copies is damage, never a
    // crash (load() refuses it). The copy written first is one whose loss
    // leaves the other whole: copy 0, unless copy 1 is the slot's only bad
    // copy. A crash that tore copy 1 leaves it bad until the slot is written
    // again (open's repair rolls the log into the other slot), and tearing
    // copy 0 then would leave no whole copy after two crashes and no damage:
    // found by the faults check (`shardstore check --time 10m`, seed
    // 20261205; its replay is a test in testing/faults.test.ts). Copy 0 first when
    // both are bad: a slot never written (zeros) or damaged in both.
    // It costs one more flush per checkpoint, and a checkpoint is written
    // only when the log rolls.
    const order = this.onlyCopy0Whole[slot] ? ([1, 0] as const) : ([0, 1] as const);
    this.onlyCopy0Whole[slot] = false;
    const offsetOf = (copy: 0 | 1): number => (copy === 0 ? this.label.slotOffsets : this.label.slotCopyOffsets)[slot];
    const first = this.io.write(offsetOf(order[0]), page, start);
    this.last = this.io.write(offsetOf(order[1]), page, first);
    return this.last;
  }
}

/** Page sizes a label may have (decodeLabel accepts powers of two from 512 to 64 KiB). */
const LABEL_PAGE_SIZES = [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536];

/** Where the label's second copy is: the second page. */
export function labelCopyOffset(pageSizeBytes: number): number {
  return pageSizeBytes;
}

/** What one copy of a label or a checkpoint held. */
export type CopyState = { readonly ok: true } | { readonly ok: false; readonly error: string };

export interface SlotCopyReport {
  readonly slot: 0 | 1;
  readonly copy: 0 | 1;
  readonly offset: number;
  readonly state: CopyState;
  readonly sequence?: number;
  /** All zeros: a slot never written yet (a disk checkpointed once), not damage. */
  readonly empty?: boolean;
}

interface Copy<T> {
  readonly value?: T;
  readonly state: CopyState;
}

/** Read one copy; corruption and read errors make a bad copy, anything else is thrown. */
async function readCopy<T>(read: () => Promise<T>): Promise<Copy<T>> {
  try {
    return { value: await read(), state: { ok: true } };
  } catch (err: unknown) {
    if (err instanceof CorruptionError || err instanceof IoError) return { state: { ok: false, error: err.message } };
    throw err;
  }
}

function errorOf(state: CopyState): string {
  return state.ok ? 'valid' : state.error;
}

function padTo(buf: Buffer, multiple: number): Buffer {
  const size = Math.ceil(buf.length / multiple) * multiple;
  if (size === buf.length) return buf;
  const out = Buffer.alloc(size);
  buf.copy(out);
  return out;
}
