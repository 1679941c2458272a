// Host space: make the blocks that deletes and reclamation need allocated
// on the host file system before they are needed.
//
// Model. A data file is sparse: the host file system allocates a block on
// the first write to it, and a full host file system refuses that write
// (ENOSPC). Writes over blocks already allocated go through (on file
// systems that overwrite in place: ext4, xfs; not on copy-on-write ones,
// btrfs or zfs, where any write may need a new block). So a store on a full
// host can still write wherever it wrote before. What frees space (a
// delete's metadata record, a log roll's checkpoint, an index flush, a
// reclamation copy) must therefore only ever write into *prepared*
// extents: each block written once (zeros) and flushed, ahead of need.
//
// What is prepared:
// - at format: the superblock (label and both checkpoint slots, whole) and
//   the first metadata log extent, before anything else is written, and
//   `preparedTarget` free extents (the reserve), all before format returns;
// - at open: what the last checkpoint does not mark host-allocated (see
//   "Persisted" below) of the reserve, in the background (`ready()`
//   resolves when done; log rolls, index flushes and reclamation wait for
//   it), trying the highest free extents first, at most
//   `OPEN_ATTEMPTS_PER_TARGET` per extent wanted: the allocator hands out
//   prepared extents highest first (extent_manager.ts), so on a full host
//   those are the ones whose blocks are allocated already, and writing
//   zeros over them succeeds;
// - after each allocation: the reserve is refilled in the background, once
//   the writes queued by the allocating work have settled (a log roll's
//   checkpoint is not delayed by it), one extent at a time, in pieces of
//   `PIECE_BYTES` (each a write and a flush
//   through the IO scheduler, so a commit never waits behind a whole
//   extent of zeros). A piece refused by the host ends the round (the host
//   is full); the next allocation tries again, and so do puts, deletes and
//   health checks, at most once a second (retryIfShort), so a reserve left
//   short by a full host is made whole once the host has room again.
// Log extents come from the reserve (class 'log'), so every log extent the
// store writes is prepared, the mirrored log too once there is one (it
// allocates with the same class). A store formatted before this existed
// gets the guarantee for its log from its first log roll on.
//
// A data file allocated whole (created with --preallocate on, or a block
// device) needs none of this: fill() marks every extent prepared and
// writes nothing.
//
// Ahead of the data allocator (`prepareAhead`, the store option
// prepareAheadExtents; serve's --prepare-ahead): beyond the reserve, up to
// `aheadExtents` more free extents are prepared in the background, so that
// a put's first write overwrites allocated blocks (a sparse file's first
// writes pay for block allocation and a journal commit at each fdatasync).
// Puts take them: pickForeground (extent_manager.ts) hands out prepared
// extents once more than the reserve are free, lowest first. The ahead
// extents are prepared by the same rounds as the reserve, after it (open's
// `ready()` waits for the reserve only; format waits for them too, so that
// a new store's first puts do not share their flushes with 256 MiB of
// zeros). Rate: one piece in flight at a time, each waiting for its flush,
// which it shares with the commits of that cycle. Format and open's fill
// of the reserve (which log rolls, index flushes and reclamation wait for)
// write whole pieces (PIECE_BYTES), and so does `finish()` (format's ahead
// extents, close). A refill of the reserve paces its pieces
// (pacedPieceBytes): about what the store wrote during the last piece, so
// a commit cycle carries about as many zeros as its own bytes.
//
// When the ahead extents are refilled (issue 14, "fast by default"). While
// at least one ahead extent is still prepared for puts, a refill writes
// only when the store is idle: no other write for `idleMs` of the store's
// clock (DEFAULT_IDLE_MS), then pieces of IDLE_PIECE_BYTES for as long as
// nothing else writes, so a burst of puts runs on prepared extents with no
// zeros in its commit cycles, and its first commit waits behind at most
// one such piece. Once the puts have taken every ahead extent (only the
// reserve is prepared), the refill paces its pieces beside the commits as
// the reserve's does: under a load that outlasts the ahead extents, puts
// share their flushes with about their own bytes of zeros, or fall back to
// unprepared extents (slower, never refused for it). Measured before the
// change, the bench's 4 KiB put cells on the default (sparse) file
// against a run with no refill during the puts: 21.5-26.2k puts/s at 64 in
// flight against 39-40k (docs/BENCHMARKS.md, 2026-12-07 (night)).
//
// Everything ahead (`prepareAhead('all')`, serve's default since
// 2026-12-07). The ahead extents are every free extent: a new store's file
// is zero-filled once, in the background, while the store is idle, so
// that after its first minutes every put overwrites allocated blocks, as
// on a preallocated file, however large the burst (with 4 ahead extents, a
// burst of large puts past their 256 MiB ran at the sparse file's speed:
// 0.4-0.6 of the preallocated file's on the bench machine). The file still
// appears at once: format and close prepare at most
// HURRIED_AHEAD_EXTENTS ahead extents in whole pieces (`finish()`), the
// rest comes in idle pieces, and a burst of puts while ahead extents are
// left writes no zeros (above). It is one-time work: an extent stays
// prepared when it is used, freed and reclaimed (never hole-punched), and
// its mark is persisted by the next checkpoint (below: a log roll, or a
// clean close); a crash before one forgets the marks since, and the next
// open prepares those extents again (zeros over zeros: time, not data;
// no checkpoint is forced for them). What it costs: the file takes its whole
// size on the host, and reads that run while the store is otherwise idle
// share the disk with the zeros until it is done. Headroom: an ahead
// extent is prepared only while the host file system keeps
// `hostHeadroomBytes` free after it (5% of it, at most 4 GiB), whatever
// the count asked for, so preparation never fills the host for other
// programs; the reserve is prepared regardless (the store needs it to
// delete).
//
// Persisted (issue 14): an extent is *host-allocated* once every block of
// it was written with zeros and flushed (invariant 2; ExtentManager marks
// it in endPrepare). The data file is never hole-punched, so on an
// overwrite-in-place host the mark stays true when the extent is used,
// freed and reclaimed. Every checkpoint records the marks (the owner
// byte's top bit, docs/format/superblock.md), and open counts the marked
// extents as prepared without writing them. Before, open re-derived the
// set by preparing the reserve and the ahead extents again: 768 MiB of
// zeros per restart with the defaults, each 4 MiB piece with its
// fdatasync, while the first gets ran. Measured with bench/get_probe.ts
// (256 x 1 MiB loaded, closed, reopened, cold gets; strace of the 4 MiB
// pwrite64 after the first get's pread64): 144 pieces before, none after;
// cold gets 52 -> 67 per second (median of 6 rounds, load 8-10 on the
// shared machine: docs/BENCHMARKS.md, 2026-12-06, branch prepared). How
// stale the marks can be: a checkpoint is
// written at format (after the reserve and the ahead extents are
// prepared), at each log roll, and at a clean close if anything was
// prepared since the last one (DiskStore.close: the refill under way
// finishes first, so its zeros are not left to the next open; then the
// memtable out, host space refills what that took, then a roll, whose new
// log extents come from the reserve while the old ones return to it
// prepared). A
// crash forgets the marks made since the last checkpoint: those extents
// are prepared again. Never the reverse: a mark follows durable zeros,
// and a checkpoint of the old version (3) marks nothing. A copy of the
// data file made sparse (cp --sparse=always, rsync -S) has holes where
// the zeros were: open compares the file's allocated bytes with what the
// marks (and the other extents' write pointers) imply and, short, trusts
// no mark (open.ts, trustedHostMarks).
//
// Invariants:
// 1. An extent being prepared is never handed out (ExtentManager skips it),
//    so zeros never land over an owner's bytes.
// 2. An extent is marked prepared only after all of its zeros are durable.
// 3. At most one extent is prepared at a time (one piece of it in flight),
//    and the number of prepared plus preparing free extents never exceeds
//    the target (the reserve, plus `aheadExtents` once prepareAhead ran):
//    the extra writes are bounded by what the store allocates.
import { assert, ClosedError, NoSpaceError, sleepOrAbort, systemClock } from '../base/index.js';
import type { Clock } from '../base/index.js';
import type { Dependency, IoScheduler } from '../dependency/index.js';
import type { ExtentManager } from './extent_manager.js';

/** Zeros written per scheduler write: bounds how long a commit can wait behind preparation. */
export const PIECE_BYTES = 4 * 1024 * 1024;
/**
 * The smallest paced piece (see `pacedPieceBytes`): below it the zeros of
 * one extent would take more flushes than a busy store has cycles to give.
 */
export const MIN_PACED_PIECE_BYTES = 64 * 1024;
/**
 * The pieces of an ahead extent's refill while the store is idle: the
 * first commit of a burst waits behind at most one (about 1.2 ms of
 * writing on the bench machine's disk, plus its flush).
 */
export const IDLE_PIECE_BYTES = 1024 * 1024;
/** No other write for this long (the store's clock) and the store counts as idle: ahead extents are refilled. */
export const DEFAULT_IDLE_MS = 20;
/**
 * Ahead extents that format and close prepare in whole pieces before they
 * return (`finish()`); more are prepared in the background while the store
 * is idle. 4 x 64 MiB: about 0.3 s on top of the reserve at format.
 */
export const HURRIED_AHEAD_EXTENTS = 4;
/** Free space kept on the host by the ahead preparation: this fraction of the host file system, */
export const HOST_HEADROOM_FRACTION = 0.05;
/** and at most this much. */
export const HOST_HEADROOM_MAX_BYTES = 4 * 1024 * 1024 * 1024;

/** Bytes the ahead preparation leaves free on a host file system of `totalBytes`. */
export function hostHeadroomBytes(totalBytes: number): number {
  return Math.min(HOST_HEADROOM_MAX_BYTES, Math.ceil(totalBytes * HOST_HEADROOM_FRACTION));
}

/** After a refusal, the reserve is refilled again at most this often (retryIfShort). */
export const RETRY_INTERVAL_MS = 1000;
/** Open tries at most this many free extents per prepared extent wanted (a full host refuses holes). */
export const OPEN_ATTEMPTS_PER_TARGET = 2;

export interface HostSpaceStats {
  /** Extents prepared by this process (zeros written and flushed). */
  extentsPrepared: number;
  /** Preparations the host refused (ENOSPC, EDQUOT) or that failed otherwise. */
  failures: number;
  /** Why the last preparation failed, if the last one did. */
  lastError: Error | undefined;
  /** The last round stopped preparing ahead extents to leave the host its headroom (hostHeadroomBytes). */
  heldForHeadroom: boolean;
}

export interface HostSpaceOptions {
  /** The store's clock: idle time is measured on it (default the system's). */
  readonly clock?: Clock;
  /** No other write for this long and the ahead extents are refilled (DEFAULT_IDLE_MS). */
  readonly idleMs?: number;
}

/**
 * How a preparation sizes its pieces: whole PIECE_BYTES (format, open's
 * fill, finish()); paced by what the store wrote meanwhile (a refill of
 * the reserve); ahead (a refill of the extents ahead of puts: idle pieces
 * while an ahead extent is left, paced once none is).
 */
export type Pace = 'whole' | 'paced' | 'ahead';

export class HostSpace {
  private running: Promise<void> = Promise.resolve();
  private initial: Promise<void> = Promise.resolve();
  private busy = false;
  private wanted = false;
  private closed = false;
  private lastRetryMs = Number.NEGATIVE_INFINITY;
  private aheadExtents = 0;
  private fullyAllocated = false;
  /** finish() runs: whole pieces, no waiting for idle. */
  private hurry = false;
  /** Ends the wait of untilIdle early (an allocation, finish(), stop()). */
  private wakeIdle: (() => void) | undefined;
  private readonly clock: Clock;
  private readonly idleMs: number;
  readonly stats: HostSpaceStats = { extentsPrepared: 0, failures: 0, lastError: undefined, heldForHeadroom: false };

  constructor(
    private readonly extents: ExtentManager,
    private readonly io: IoScheduler,
    options: HostSpaceOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
    assert(this.idleMs >= 0, `idleMs ${this.idleMs}`);
    extents.onAllocate(() => this.kick());
  }

  /**
   * Resolves when the fill of format or open is over (never rejects): what
   * the reserve classes wait for before allocating after a restart.
   */
  ready(): Promise<void> {
    return this.initial;
  }

  /** Resolves when no preparation runs (the background refill included, and rounds it asked for). */
  async settled(): Promise<void> {
    while (this.busy) await this.running;
  }

  /**
   * Prepare what is wanted now, in whole pieces, without waiting for the
   * store to be idle, and resolve when no preparation runs: format (its
   * ahead extents) and close (the refill under way, so that the next open
   * writes no zeros). At most HURRIED_AHEAD_EXTENTS ahead extents: what
   * more is wanted ('all') is left to the next round (format starts one,
   * kick(); close stops).
   */
  async finish(): Promise<void> {
    this.hurry = true;
    this.wakeIdle?.();
    try {
      await this.settled();
    } finally {
      this.hurry = false;
    }
  }

  /**
   * Write zeros over `length` bytes at disk offset `offset`, once `after`
   * is persistent, and flush. `pace` (Pace): 'whole', every piece
   * PIECE_BYTES; 'paced', each piece sized by what the rest of the store
   * wrote meanwhile (pacedPieceBytes); 'ahead', while an ahead extent is
   * left for puts (aheadLeft), pieces of at most IDLE_PIECE_BYTES, each
   * after the first waiting until the store is idle again if anything
   * else wrote during the last (the caller waited before the first), and
   * paced once no ahead extent is left. Throws the write's typed
   * error (HostNoSpaceError on a full host).
   */
  async zeroFill(offset: number, length: number, after: Dependency, pace: Pace = 'whole'): Promise<void> {
    const zeros = this.zeroBuffer();
    let paced = pace === 'whole' ? zeros.length : Math.min(zeros.length, MIN_PACED_PIECE_BYTES);
    // The round waited for idle before it set this extent aside (prepareUpTo).
    let othersWrote = false;
    for (let at = 0; at < length; ) {
      // No write after stop(): close waits for the scheduler to go idle, then closes the disk.
      if (this.closed) throw new ClosedError('host space preparation stopped');
      let piece = pace === 'whole' || this.hurry ? zeros.length : paced;
      if (pace === 'ahead' && !this.hurry && this.aheadLeft()) {
        if (othersWrote) await this.untilIdle();
        piece = this.hurry ? zeros.length : Math.min(zeros.length, IDLE_PIECE_BYTES);
      }
      if (this.closed) throw new ClosedError('host space preparation stopped');
      const n = Math.min(piece, length - at);
      const writtenBefore = this.io.stats.bytesWritten;
      await this.io.write(offset + at, zeros.subarray(0, n), after).persisted();
      at += n;
      const others = this.io.stats.bytesWritten - writtenBefore - n;
      othersWrote = others > 0;
      paced = pacedPieceBytes(others, zeros.length);
    }
  }

  /** Puts still have a prepared extent beyond the reserve (pickForeground takes those first). */
  private aheadLeft(): boolean {
    return this.extents.countPreparedFree() > this.extents.preparedTarget;
  }

  /**
   * Resolves once nothing else wrote for `idleMs`, or once waiting no
   * longer applies: closing, finish(), or no ahead extent left. A clock
   * whose sleeps move no time (a test's) counts as idle at once rather
   * than spin.
   */
  private async untilIdle(): Promise<void> {
    for (;;) {
      if (this.closed || this.hurry || !this.aheadLeft()) return;
      const writes = this.io.stats.writes;
      const before = this.clock.nowMs();
      // An allocation (kick) ends the wait early: the puts may just have
      // taken the last ahead extent, and then the refill is paced now. So
      // do finish() and stop(), and the timer goes with the wait: a close
      // leaves none behind (testing/first_hour.test.ts, "nothing keeps the
      // process alive").
      const wake = new AbortController();
      this.wakeIdle = () => wake.abort();
      const slept = await sleepOrAbort(this.clock, this.idleMs, wake.signal);
      this.wakeIdle = undefined;
      if (slept && (this.io.stats.writes === writes || this.clock.nowMs() <= before)) return;
    }
  }

  /**
   * Prepare free extents, highest first, until `preparedTarget` are free and
   * prepared, trying at most `maxAttempts` extents. Failures are counted,
   * not thrown. Format awaits it; open does not (`ready()`).
   */
  fill(maxAttempts: number, options: { readonly paced: boolean }): Promise<void> {
    // A file allocated whole (preallocated) needs no zeros: every extent is prepared.
    if (this.io.disk.hostSpace?.().fileFullyAllocated === true) {
      this.fullyAllocated = true;
      this.extents.markAllPrepared();
      this.initial = Promise.resolve();
      return this.initial;
    }
    this.initial = this.round({ maxAttempts, stopAtNoSpace: false, target: this.extents.preparedTarget, pace: options.paced ? 'paced' : 'whole' });
    return this.initial;
  }

  /**
   * Keep `extents` more free extents prepared beyond the reserve, for puts,
   * from now on, in the background (after a fill under way: `ready()`
   * does not wait for them). A data file allocated whole needs none.
   * REQUIRES: `extents` >= 0.
   */
  prepareAhead(extents: number | 'all'): void {
    assert(extents === 'all' || (Number.isInteger(extents) && extents >= 0), `prepare-ahead of ${extents} extents`);
    if (this.fullyAllocated || this.io.disk.hostSpace?.().fileFullyAllocated === true) return;
    // 'all': a target no disk reaches; the rounds end when no free extent is left unprepared.
    this.aheadExtents = extents === 'all' ? this.extents.geometry.extentCount : extents;
    if (this.aheadExtents > 0) this.kick();
  }

  /** Free extents kept prepared: the reserve, and those prepared ahead of puts. */
  get target(): number {
    return this.extents.preparedTarget + this.aheadExtents;
  }

  /** Refill the reserve in the background (after an allocation). */
  kick(): void {
    this.wakeIdle?.();
    if (this.closed) return;
    if (this.busy) {
      this.wanted = true;
      return;
    }
    // After the writes the allocating work queued in this turn (a log
    // roll's checkpoint, an index run) have settled: a refill does not join
    // their batches or delay them. Not "once the scheduler is idle": under
    // steady load it never is.
    this.busy = true;
    this.running = Promise.resolve()
      .then(() => this.io.barrier().persisted())
      .catch((err: unknown) => err) // a failed write is its writer's to report; the refill goes on
      .then(() => {
        this.busy = false;
        // 'ahead': the reserve's pieces are paced (no ahead extent is left while it is short), the ahead extents' wait for idle.
        if (!this.closed) void this.round({ maxAttempts: this.target, stopAtNoSpace: true, target: this.target, pace: 'ahead' });
      });
  }

  /**
   * After the host refused a preparation, try again at most once per
   * `RETRY_INTERVAL_MS` (of the caller's clock): nothing else tells the
   * store that the host has room again. The store calls it after puts and
   * deletes and when asked for its health.
   */
  retryIfShort(nowMs: number): void {
    if (this.stats.lastError === undefined || this.busy || nowMs - this.lastRetryMs < RETRY_INTERVAL_MS) return;
    if (this.extents.countPreparedFree() >= this.target) return;
    this.lastRetryMs = nowMs;
    this.kick();
  }

  /** Stop starting preparations (close, abandon); one in flight ends as the scheduler decides. */
  stop(): void {
    this.closed = true;
    this.wakeIdle?.();
  }

  /**
   * Prepare until `target` free extents are prepared. `stopAtNoSpace`: a
   * full host refuses the next hole too, so stop at the first refusal
   * (bounded work).
   */
  private round(r: RoundOptions): Promise<void> {
    assert(!this.busy, 'one preparation round at a time');
    this.busy = true;
    const work = this.prepareUpTo(r).catch((err: unknown) => {
      // prepare() counts refusals itself; this is a broken invariant (assert).
      this.stats.failures++;
      this.stats.lastError = err instanceof Error ? err : new Error(String(err));
    });
    this.running = work.finally(() => {
      this.busy = false;
      if (this.wanted) {
        this.wanted = false;
        this.kick();
      }
    });
    return this.running;
  }

  private async prepareUpTo(r: RoundOptions): Promise<void> {
    this.stats.heldForHeadroom = false;
    for (let attempt = 0; attempt < r.maxAttempts && !this.closed; attempt++) {
      if (this.extents.countPreparedFree() >= this.roundTarget(r)) return;
      // Idle before an extent is set aside, not only before its pieces: a
      // refill that waits out a long burst holds no free extent meanwhile.
      // (Only awaited when it may wait: a store with no ahead extents keeps its old interleavings.)
      if (r.pace === 'ahead' && this.aheadLeft() && !this.hurry) await this.untilIdle();
      if (this.closed || this.extents.countPreparedFree() >= this.roundTarget(r)) return;
      // An ahead extent (the reserve is whole): only while the host keeps its headroom.
      const ahead = this.extents.countPreparedFree() >= this.extents.preparedTarget;
      if (ahead && this.hostShort()) {
        this.stats.heldForHeadroom = true;
        return;
      }
      const extent = this.extents.highestUnpreparedFree();
      if (extent === undefined) return;
      const ok = await this.prepare(extent, r.pace);
      if (!ok && r.stopAtNoSpace && this.stats.lastError instanceof NoSpaceError) return;
      // A failed ahead extent ends the round, whatever the error: the next
      // would most likely fail too, and with 'all' the round would try every
      // free extent. retryIfShort tries again, at most once a second.
      if (!ok && ahead) return;
    }
  }

  private async prepare(extent: number, pace: Pace): Promise<boolean> {
    const resetRecorded = this.extents.beginPrepare(extent);
    let ok = false;
    try {
      await this.zeroFill(this.extents.diskOffset(extent, 0), this.extents.extentSizeBytes, resetRecorded, pace);
      ok = true;
      this.stats.extentsPrepared++;
      this.stats.lastError = undefined;
    } catch (err: unknown) {
      this.stats.failures++;
      this.stats.lastError = err instanceof Error ? err : new Error(String(err));
    } finally {
      this.extents.endPrepare(extent, ok);
    }
    return ok;
  }

  /** A round's target now: finish() stops at HURRIED_AHEAD_EXTENTS ahead extents. */
  private roundTarget(r: RoundOptions): number {
    return this.hurry ? Math.min(r.target, this.extents.preparedTarget + HURRIED_AHEAD_EXTENTS) : r.target;
  }

  /** One more extent of zeros would leave the host file system less than its headroom (hostHeadroomBytes). */
  private hostShort(): boolean {
    const host = this.io.disk.hostSpace?.();
    if (host?.freeBytes === undefined || host.totalBytes === undefined) return false;
    return host.freeBytes - this.extents.extentSizeBytes < hostHeadroomBytes(host.totalBytes);
  }

  private zeroBuffer(): Buffer {
    return sharedZeros(Math.min(PIECE_BYTES, this.extents.extentSizeBytes));
  }
}

/** One preparation round: how many extents to try, when to stop, how big the pieces. */
interface RoundOptions {
  readonly maxAttempts: number;
  /** A full host refuses the next hole too: stop at the first refusal (bounded work). */
  readonly stopAtNoSpace: boolean;
  /** Stop once this many free extents are prepared. */
  readonly target: number;
  /** How the pieces are sized (Pace): 'ahead' for refills, 'whole' for format and open's fill of the reserve. */
  readonly pace: Pace;
}

/**
 * The next piece of a paced preparation, from `othersBytes`: what the rest
 * of the store made durable while the last piece was written and flushed
 * (its commit cycles). Nothing: the store is idle and nothing waits on the
 * flush, so a whole PIECE_BYTES. Else as much as they wrote, rounded up to
 * MIN_PACED_PIECE_BYTES and at most `maxBytes`: a commit cycle's fdatasync
 * writes back at most about as many zeros as its own bytes (the puts of a
 * fresh sparse file pay at most twice their write-back, never a 4 MiB
 * piece behind a 4 KiB put: 2.1 ms p50 instead of 0.37 measured,
 * docs/BENCHMARKS.md 2026-12-06), and the preparation still keeps pace
 * with the puts that consume prepared extents (a piece per cycle, at least
 * the cycle's bytes).
 */
export function pacedPieceBytes(othersBytes: number, maxBytes: number): number {
  if (othersBytes <= 0) return maxBytes;
  const rounded = Math.ceil(othersBytes / MIN_PACED_PIECE_BYTES) * MIN_PACED_PIECE_BYTES;
  return Math.min(maxBytes, rounded);
}

/**
 * One buffer of zeros for every piece of every store in the process (a
 * store opened in a crash check allocated its own 64 KiB at each open): the
 * scheduler requires written bytes not to change until the write settles,
 * and zeros never do.
 */
let zeros = Buffer.alloc(0);

function sharedZeros(length: number): Buffer {
  if (zeros.length < length) zeros = Buffer.alloc(length);
  return zeros.subarray(0, length);
}
