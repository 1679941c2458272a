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
// - at open: the reserve again, in the background (`ready()` resolves when
//   done; log rolls, index flushes and reclamation wait for it), trying the
//   highest free extents first, at most `OPEN_ATTEMPTS_PER_TARGET` per
//   extent wanted: the allocator hands out prepared extents highest first
//   (extent_manager.ts), so on a full host those are the ones whose blocks
//   are allocated already, and writing zeros over them succeeds;
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
// Extension (the "prepare space ahead" issue): the same mechanism can zero
// free extents ahead of the data allocator, so that a put's first write
// overwrites allocated blocks: raise the target for the foreground class
// and let puts take prepared extents (pickForeground in extent_manager.ts).
//
// Invariants:
// 1. An extent being prepared is never handed out (ExtentManager skips it),
//    so zeros never land over an owner's bytes.
// 2. An extent is marked prepared only after all of its zeros are durable.
// 3. At most one extent is prepared at a time, and the number of prepared
//    plus preparing free extents never exceeds the target (the reserve):
//    the extra writes are bounded by what the reserve classes allocate.
import { assert, ClosedError, NoSpaceError } from '../base/index.js';
import type { Dependency, IoScheduler } from '../dependency/index.js';
import type { ExtentManager } from './extent_manager.js';

/** Zeros written per scheduler write: bounds how long a commit can wait behind preparation. */
export const PIECE_BYTES = 4 * 1024 * 1024;
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
}

export class HostSpace {
  private running: Promise<void> = Promise.resolve();
  private initial: Promise<void> = Promise.resolve();
  private busy = false;
  private wanted = false;
  private closed = false;
  private lastRetryMs = Number.NEGATIVE_INFINITY;
  readonly stats: HostSpaceStats = { extentsPrepared: 0, failures: 0, lastError: undefined };

  constructor(
    private readonly extents: ExtentManager,
    private readonly io: IoScheduler,
  ) {
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
   * Write zeros over `length` bytes at disk offset `offset`, once `after`
   * is persistent, and flush. Throws the write's typed error
   * (HostNoSpaceError on a full host).
   */
  async zeroFill(offset: number, length: number, after: Dependency): Promise<void> {
    const zeros = this.zeroBuffer();
    for (let at = 0; at < length; at += zeros.length) {
      // No write after stop(): close waits for the scheduler to go idle, then closes the disk.
      if (this.closed) throw new ClosedError('host space preparation stopped');
      const n = Math.min(zeros.length, length - at);
      await this.io.write(offset + at, zeros.subarray(0, n), after).persisted();
    }
  }

  /**
   * Prepare free extents, highest first, until `preparedTarget` are free and
   * prepared, trying at most `maxAttempts` extents. Failures are counted,
   * not thrown. Format awaits it; open does not (`ready()`).
   */
  fill(maxAttempts: number): Promise<void> {
    // A file allocated whole (preallocated) needs no zeros: every extent is prepared.
    if (this.io.disk.hostSpace?.().fileFullyAllocated === true) {
      this.extents.markAllPrepared();
      this.initial = Promise.resolve();
      return this.initial;
    }
    this.initial = this.round(maxAttempts, false);
    return this.initial;
  }

  /** Refill the reserve in the background (after an allocation). */
  kick(): void {
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
        if (!this.closed) void this.round(this.extents.preparedTarget, true);
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
    if (this.extents.countPreparedFree() >= this.extents.preparedTarget) return;
    this.lastRetryMs = nowMs;
    this.kick();
  }

  /** Stop starting preparations (close, abandon); one in flight ends as the scheduler decides. */
  stop(): void {
    this.closed = true;
  }

  /** `stopAtNoSpace`: a full host refuses the next hole too, so stop at the first refusal (bounded work). */
  private round(maxAttempts: number, stopAtNoSpace: boolean): Promise<void> {
    assert(!this.busy, 'one preparation round at a time');
    this.busy = true;
    const work = this.prepareUpTo(maxAttempts, stopAtNoSpace).catch((err: unknown) => {
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

  private async prepareUpTo(maxAttempts: number, stopAtNoSpace: boolean): Promise<void> {
    for (let attempt = 0; attempt < maxAttempts && !this.closed; attempt++) {
      if (this.extents.countPreparedFree() >= this.extents.preparedTarget) return;
      const extent = this.extents.highestUnpreparedFree();
      if (extent === undefined) return;
      const ok = await this.prepare(extent);
      if (!ok && stopAtNoSpace && this.stats.lastError instanceof NoSpaceError) return;
    }
  }

  private async prepare(extent: number): Promise<boolean> {
    const resetRecorded = this.extents.beginPrepare(extent);
    let ok = false;
    try {
      await this.zeroFill(this.extents.diskOffset(extent, 0), this.extents.extentSizeBytes, resetRecorded);
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

  private zeroBuffer(): Buffer {
    return sharedZeros(Math.min(PIECE_BYTES, this.extents.extentSizeBytes));
  }
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
