// Live-byte accounting of data extents: for each extent, the framed bytes of
// the data chunks that the committed index references. Kept in memory,
// updated by every commit (a mutation adds its value's chunks and removes
// those of the value it replaces), rebuilt at open by one ordered walk of
// the index. Reclamation picks victims by live bytes / written bytes.
//
// The numbers only steer the choice of victims: evacuation asks the index
// about every chunk it finds, so an error here costs efficiency, never data.
import type { IndexValue } from '../index/index.js';

export class LiveBytes {
  private readonly bytes = new Map<number, number>();

  add(value: IndexValue | null | undefined, sign: 1 | -1 = 1): void {
    if (value === null || value === undefined) return;
    for (const loc of value.chunks) {
      const next = (this.bytes.get(loc.extent) ?? 0) + sign * loc.length;
      if (next <= 0) this.bytes.delete(loc.extent);
      else this.bytes.set(loc.extent, next);
    }
  }

  /** A committed change of one key from `before` to `after`. */
  replace(before: IndexValue | null | undefined, after: IndexValue | null | undefined): void {
    this.add(before, -1);
    this.add(after, 1);
  }

  of(extent: number): number {
    return this.bytes.get(extent) ?? 0;
  }

  clear(): void {
    this.bytes.clear();
  }

  /** Every extent with live bytes. */
  entries(): IterableIterator<[number, number]> {
    return this.bytes.entries();
  }
}
