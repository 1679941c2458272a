// Background work of one disk: compaction when a level holds fanIn runs,
// and reclamation when free extents run low, one extent at a time with a
// pause between (the rate limit). Reclamation waits for the live-byte
// recount after open (live_rebuild.ts); until then no extent looks nearly
// dead (Reclaimer.victims offers none). Kicked by puts and deletes; runs until
// there is nothing to do. Errors are reported, never thrown into callers.
import { ClosedError, NoSpaceError } from '../base/index.js';
import type { Clock } from '../base/index.js';

export interface BackgroundHost {
  needsCompaction(): boolean;
  /** Some data extent is almost all dead (worth reclaiming even without space pressure). */
  hasNearlyDeadExtent(maxLiveRatio: number): boolean;
  compact(): Promise<void>;
  reclaim(options: { maxExtents: number; maxLiveRatio: number }): Promise<number>;
  /** Resolves once the resets of extents reclaimed so far are durable (the extents can be handed out). */
  resetsDurable(): Promise<void>;
  readonly freeExtents: number;
}

export interface BackgroundPolicy {
  /** Run background work at all (tests drive it by hand instead). */
  readonly background: boolean;
  /** Reclaim while fewer extents than this are free. */
  readonly reclaimBelowFreeExtents: number;
  /** Only extents at most this live (0..1) are worth evacuating. */
  readonly reclaimMaxLiveRatio: number;
  /** Pause between two reclaimed extents. */
  readonly reclaimPauseMs: number;
  readonly onBackgroundError: (err: unknown) => void;
  readonly clock: Clock;
}

/** Extents at most this live are reclaimed even when space is plentiful (deleted data comes back). */
export const IDLE_RECLAIM_MAX_LIVE_RATIO = 0.1;
/** Puts and deletes between two looks at whether background work is wanted (the look costs O(extents)). */
const KICKS_PER_LOOK = 32;

export class Background {
  private running: Promise<void> | undefined;
  private stopped = false;
  private kicks = 0;
  readonly counters = { runs: 0, errors: 0, roomWaits: 0 };

  constructor(
    private readonly host: BackgroundHost,
    private readonly policy: BackgroundPolicy,
  ) {}

  /** A put or delete happened (`force`: space ran out); start background work if it is wanted. */
  kick(force = false): void {
    if (!this.policy.background || this.stopped || this.running !== undefined) return;
    if (!force && this.kicks++ % KICKS_PER_LOOK !== 0) return;
    if (!this.wanted()) return;
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  /**
   * A put found no free extent: reclaim one now, without the pause, at the
   * live ratio of space pressure, and wait until its reset is durable.
   * True once an extent was freed (a retry of the put may take it); false
   * when none could be: no extent is dead enough (the disk holds live
   * data: NoSpace is the answer), the store is closing, or reclamation
   * failed (reported as the loop reports it). It runs with background
   * work off too: it is the put's own work, started by the put and
   * awaited by it, so a simulation that drives background work by hand
   * still replays exactly, and fills its disk with overwrites (the space
   * suite, testing/space.ts) without a refusal the engine could avoid. Puts that wait
   * here are the back-pressure of an overwrite load that outruns the
   * paced loop: before, they were refused NoSpace with most of the disk
   * dead (testing/churn_space.test.ts).
   */
  async makeRoom(): Promise<boolean> {
    if (this.stopped) return false;
    this.counters.roomWaits++;
    try {
      const freed = await this.host.reclaim({ maxExtents: 1, maxLiveRatio: this.policy.reclaimMaxLiveRatio });
      if (freed === 0) return false;
      await this.host.resetsDurable();
      return true;
    } catch (err: unknown) {
      this.counters.errors++;
      // Stopped meanwhile (abandoned: the process is going away): the put fails, nothing to report.
      if (!this.stopped && !(err instanceof NoSpaceError || err instanceof ClosedError)) this.policy.onBackgroundError(err);
      return false;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  abandon(): void {
    this.stopped = true;
  }

  private wanted(): boolean {
    return this.host.needsCompaction() || this.underPressure() || this.host.hasNearlyDeadExtent(IDLE_RECLAIM_MAX_LIVE_RATIO);
  }

  private underPressure(): boolean {
    return this.host.freeExtents < this.policy.reclaimBelowFreeExtents;
  }

  private async loop(): Promise<void> {
    await Promise.resolve();
    this.counters.runs++;
    while (!this.stopped && this.wanted()) {
      try {
        if (this.host.needsCompaction()) await this.host.compact();
        const ratio = this.underPressure() ? this.policy.reclaimMaxLiveRatio : IDLE_RECLAIM_MAX_LIVE_RATIO;
        if (this.underPressure() || this.host.hasNearlyDeadExtent(ratio)) {
          const n = await this.host.reclaim({ maxExtents: 1, maxLiveRatio: ratio });
          if (n === 0 && !this.host.needsCompaction()) return;
          await this.policy.clock.sleep(this.policy.reclaimPauseMs);
        }
      } catch (err: unknown) {
        this.counters.errors++;
        // ClosedError: the store closed while a reclamation waited for live bytes.
        if (!(err instanceof NoSpaceError || err instanceof ClosedError)) this.policy.onBackgroundError(err);
        return;
      }
    }
  }
}
