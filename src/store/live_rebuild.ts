// The live-byte rebuild after open, in the background.
//
// Why it need not hold up open, and why the result is still exact:
// reclaim/live_bytes.ts. Open starts it as its last step, synchronously
// taking the index snapshot and switching commits to the delta in one
// turn (nothing has been committed since replay). Then it walks the
// snapshot a page at a time, pausing between pages (clock.sleep(0)) so
// that requests run meanwhile.
//
// Who waits: reclamation (ReclaimHost.liveBytesReady, before it picks a
// victim; Reclaimer.victims() offers none meanwhile), and tools that print
// the counts (fsck, inspect). Everything else runs at once; stats() says
// `liveBytesReady: false` and the counts are partial.
//
// Invariants:
// 1. At most one walk at a time; it releases its snapshot when it ends,
//    however it ends (so compaction can reset the extents of old runs).
// 2. After cancel(), no walk starts and the current one stops at its next
//    page; settled() resolves once it has released its snapshot. close()
//    waits for that before it closes the disk, and never hangs on a walk.
// 3. A failed walk is reported (onBackgroundError) and leaves the counts
//    not ready; ready() starts one more walk, and throws if that fails
//    too (bounded: a damaged run does not make every call walk forever).
import { ClosedError, IoError } from '../base/index.js';
import type { Clock } from '../base/index.js';
import type { IndexSnapshot, LsmIndex } from '../index/index.js';
import type { LiveBytes, LiveBytesRebuild } from '../reclaim/index.js';

export interface LiveRebuildOptions {
  readonly pageEntries: number;
  readonly clock: Clock;
  readonly onError: (err: unknown) => void;
}

export class LiveBytesRebuilder {
  private running: Promise<void> | undefined;
  private cancelled = false;
  private failure: unknown;

  constructor(
    private readonly index: LsmIndex,
    private readonly live: LiveBytes,
    private readonly options: LiveRebuildOptions,
  ) {}

  /** Snapshot the index and start the walk. REQUIRES: no walk running, not cancelled. */
  start(): void {
    if (this.cancelled || this.running !== undefined) throw new ClosedError('live-byte rebuild started twice or after close');
    // One turn: the snapshot and the switch to the delta see the same index.
    const snapshot = this.index.snapshot();
    const rebuild = this.live.beginRebuild();
    this.failure = undefined;
    this.running = this.walk(snapshot, rebuild)
      .catch((err: unknown) => {
        this.failure = err;
        if (!this.cancelled) this.options.onError(err);
      })
      .finally(() => {
        this.running = undefined;
      });
  }

  private async walk(snapshot: IndexSnapshot, rebuild: LiveBytesRebuild): Promise<void> {
    try {
      while (!this.cancelled) {
        if (await snapshot.visit(this.options.pageEntries, rebuild)) {
          rebuild.finish();
          return;
        }
        await this.options.clock.sleep(0);
      }
    } finally {
      snapshot.release();
    }
  }

  /**
   * Resolves once the counts are complete. Starts one more walk if the last
   * failed; throws its error if that fails too, ClosedError once cancelled.
   */
  async ready(): Promise<void> {
    let restarted = false;
    while (!this.live.ready) {
      if (this.cancelled) throw new ClosedError('store closed before its live bytes were counted');
      if (this.running === undefined) {
        if (restarted) throw new IoError(`counting live bytes failed: ${String(this.failure)}`, { cause: this.failure });
        this.start();
        restarted = true;
      }
      await this.running;
    }
  }

  /** Stop: no new walk, and the current one ends at its next page. */
  cancel(): void {
    this.cancelled = true;
  }

  /** Resolves once no walk runs (its snapshot released). */
  async settled(): Promise<void> {
    await this.running;
  }
}
