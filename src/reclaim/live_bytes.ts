// Live-byte accounting of data extents: for each extent, the framed bytes of
// the data chunks that the committed index references, and the number of
// committed values (shards). Kept in memory, updated by every commit (a
// mutation adds its value's chunks and removes those of the value it
// replaces), rebuilt after open by one walk of the index. Reclamation picks
// victims by live bytes / written bytes.
//
// The numbers only steer the choice of victims: evacuation asks the index
// about every chunk it finds, so an error here costs efficiency, never data.
// That is why the rebuild does not hold up open (docs/ARCHITECTURE.md, life
// of a recovery): it runs in the background, and until it is done the
// numbers are partial (`ready` false) and reclamation waits.
//
// The rebuild is exact, not an estimate. beginRebuild() is called in the
// same turn as the index snapshot the walk reads (IndexSnapshot, one
// moment T0). From then on the walk's values go to the base (the index at
// T0) and every committed change goes to a signed delta (the changes after
// T0): a change may remove bytes the walk has not counted yet, so the
// delta goes below zero where the base would clamp. finish() adds the
// delta to the base: index(T0) + changes since T0 = the index now.
//
// Invariants:
// 1. Ready: every count is >= 0, extents with none are absent, and the
//    counts equal a recount of the committed index (the commit path calls
//    replace() in the same turn as it applies the mutations).
// 2. Rebuilding: only the current rebuild (the latest beginRebuild) adds
//    to the base; a superseded one adds to counts no longer read, and its
//    finish() is refused (asserted).
import { assert } from '../base/index.js';
import type { ChunkVisitor, IndexValue } from '../index/index.js';

/** Signed live bytes per extent, and a signed value count. */
class Counts {
  readonly bytes = new Map<number, number>();
  values = 0;

  /** Add `delta` bytes to `extent`; drop it at zero (and, when `clamp`, below zero). */
  addBytes(extent: number, delta: number, clamp: boolean): void {
    const next = (this.bytes.get(extent) ?? 0) + delta;
    if (next === 0 || (clamp && next < 0)) this.bytes.delete(extent);
    else this.bytes.set(extent, next);
  }
}

export class LiveBytes {
  /** Ready: the counts. Rebuilding: the base the walk adds to. */
  private base = new Counts();
  /** Rebuilding only: changes committed since the walk's snapshot. */
  private delta: Counts | undefined;
  private generation = 0;

  /** The counts are complete (no rebuild in progress). */
  get ready(): boolean {
    return this.delta === undefined;
  }

  add(value: IndexValue | null | undefined, sign: 1 | -1 = 1): void {
    if (value === null || value === undefined) return;
    const to = this.delta ?? this.base;
    const clamp = this.delta === undefined;
    to.values += sign;
    for (const loc of value.chunks) to.addBytes(loc.extent, sign * loc.length, clamp);
  }

  /** A committed change of one key from `before` to `after`. */
  replace(before: IndexValue | null | undefined, after: IndexValue | null | undefined): void {
    this.add(before, -1);
    this.add(after, 1);
  }

  /** Live bytes of `extent` (partial while rebuilding). */
  of(extent: number): number {
    const d = this.delta?.bytes.get(extent) ?? 0;
    return Math.max(0, (this.base.bytes.get(extent) ?? 0) + d);
  }

  /** Committed values (partial while rebuilding). */
  get shardCount(): number {
    return Math.max(0, this.base.values + (this.delta?.values ?? 0));
  }

  /** Every extent with live bytes (ready counts only; partial while rebuilding). */
  entries(): IterableIterator<[number, number]> {
    return this.base.bytes.entries();
  }

  /**
   * Start over from zero: the returned rebuild receives the walk of an
   * index snapshot taken in this same turn, and changes committed from now
   * on are kept apart until it finishes. Supersedes any rebuild before
   * (whose visits then go to counts no longer used).
   */
  beginRebuild(): LiveBytesRebuild {
    const base = new Counts();
    const generation = ++this.generation;
    this.base = base;
    this.delta = new Counts();
    return {
      entry: () => {
        base.values++;
      },
      // The base only grows during the walk: nothing to clamp.
      chunk: (extent, lengthBytes) => base.addBytes(extent, lengthBytes, false),
      finish: () => this.finishRebuild(generation),
    };
  }

  /** Fold the delta into the base: the counts are complete. */
  private finishRebuild(generation: number): void {
    const delta = this.delta;
    assert(generation === this.generation && delta !== undefined, 'a superseded live-byte rebuild finished');
    this.delta = undefined;
    this.base.values += delta.values;
    for (const [extent, bytes] of delta.bytes) this.base.addBytes(extent, bytes, true);
    assert(this.base.values >= 0, `live values ${this.base.values} below zero after a rebuild`);
  }
}

/** The walk's side of a rebuild: it visits every live value of the snapshot, then finishes. */
export interface LiveBytesRebuild extends ChunkVisitor {
  /** The walk visited the whole snapshot: the counts become complete. REQUIRES: the latest rebuild. */
  finish(): void;
}
