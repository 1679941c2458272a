// IndexSnapshot: one pinned view of the whole index, walked page by page
// over many turns while the index goes on changing (the live-byte rebuild
// after open walks every entry this way).
//
// A paged scan (scan({from, limit}) again and again) resolves each page on
// the index as it is then: a key committed during the walk past the walk's
// position is seen by a later page, one committed behind it is not, so a
// count built from pages is of no single moment. The snapshot is of one
// moment, taken synchronously by LsmIndex.snapshot():
//   - the active memtable, copied (key and value references, no bytes);
//   - the frozen memtable, if any (immutable; kept alive by the cursor);
//   - the current version of the runs, acquired: compaction may go on, but
//     the extents of runs it replaces are not reset before release()
//     (VersionSet.whenUnused), so the walk's reads stay valid.
// So what the walk visits is exactly the index at that moment; a caller
// that also records every change committed after it (in the same turn as
// the snapshot) can add the two up to the present, exactly.
//
// Invariants:
// 1. visit() calls do not overlap; release() comes after the last one has
//    settled (asserted), exactly once in effect (later calls do nothing).
// 2. Run blocks are read without filling the block cache: a whole pass
//    would evict every block the readers use.
import { assert } from '../base/index.js';
import { RunCursor, mergeVisit } from './merge.js';
import type { Cursor } from './merge.js';
import type { ChunkVisitor } from './run_format.js';
import type { Version } from './version.js';

export class IndexSnapshot {
  private sources: Cursor[] | undefined;
  private visiting = false;
  private released = false;
  private exhausted = false;

  constructor(
    private readonly memtables: readonly Cursor[],
    private readonly version: Version,
    private readonly onRelease: (version: Version) => void,
  ) {}

  /** Every entry was visited. */
  get done(): boolean {
    return this.exhausted;
  }

  /**
   * The values of the next `entries` entries in key order (tombstones
   * count, and are not handed on) to `visitor`. Resolves true once every
   * entry has been visited. REQUIRES: not released; no visit in flight.
   */
  async visit(entries: number, visitor: ChunkVisitor): Promise<boolean> {
    assert(!this.released && !this.visiting, 'snapshot visited after release or twice at once');
    assert(Number.isInteger(entries) && entries > 0, `snapshot visit of ${entries} entries`);
    if (this.exhausted) return true;
    this.visiting = true;
    try {
      if (this.sources === undefined) {
        const runs = this.version.runs.map((r) => new RunCursor(r, false));
        await Promise.all(runs.map((c) => c.seek(undefined)));
        this.sources = [...this.memtables, ...runs];
      }
      this.exhausted = await mergeVisit(this.sources, entries, visitor);
      return this.exhausted;
    } finally {
      this.visiting = false;
    }
  }

  /** Let the runs go (their extents may then be reset). REQUIRES: no visit in flight. */
  release(): void {
    assert(!this.visiting, 'snapshot released during a visit');
    if (this.released) return;
    this.released = true;
    this.sources = undefined;
    this.onRelease(this.version);
  }
}
