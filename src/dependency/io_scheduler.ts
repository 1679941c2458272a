// The IO scheduler: the only way to write to the disk.
//
// Each write names a Dependency that must be persistent before the write
// may be issued. The scheduler runs one batch at a time: it takes every
// queued write whose dependency is persistent, issues them together, then
// flushes once (group commit). Writes queued while a batch is in flight wait
// for the next batch, so a burst of puts shares one fdatasync.
//
// Invariants:
// 1. A write is issued only after its `after` dependency is persistent.
// 2. A write's ticket becomes durable only after a flush that started after
//    the write completed.
// 3. If `after` fails, the write is never issued and its ticket fails.
// 4. `read` sees every queued or in-flight write (newest last), so data is
//    readable as soon as its write is queued.
// 5. At most one batch is in flight; a batch holds at most maxBatchBytes
//    (one write larger than that goes alone).
// 6. A batch's writes land (their tickets say so) before its flush is
//    issued; writes queued by those who waited for that may join the batch
//    in a later round, before the same flush (at most MAX_ROUNDS rounds).
// 7. A write may also name `sameFlushAfter`: writes it may share a flush
//    with. It is issued once `after` is persistent and `sameFlushAfter` has
//    landed in the current batch (the same flush makes both durable; a
//    crash before it returns may keep the one and not the other, which the
//    caller must tolerate: commit_log.ts verifies at recovery), or is
//    persistent; never if either failed. So one write can name both kinds
//    of predecessor: a metadata record shares the flush of the data it
//    names but is issued only after the LSM runs it names are durable.
// 8. Small writes may be done inline (Disk.writeInline: on this thread,
//    landed when the call returns) where the disk offers it: a write that
//    joins a batch after its first round naming `sameFlushAfter` (a
//    record), and a `recordFollows` write (a data chunk). A batch that
//    landed a `recordFollows` write inline waits one turn of the event
//    loop before it decides it has no more rounds, so the record naming
//    that data, staged meanwhile (a streamed put stages only after
//    awaits), joins it: its tickets stay joinable (Ticket.joinable) until
//    the batch closes for its flush. Nothing else is written inline (host
//    space's zero-fill must not hold the event loop), and a disk without
//    writeInline never waits.

import { assert, AssertionError, ClosedError, NoSpaceError, ReadOnlyError } from '../base/index.js';
import type { Disk } from '../disk/index.js';
import { Dependency, Ticket, ioFailure } from './dependency.js';

export interface IoSchedulerOptions {
  maxBatchBytes?: number;
  /** Refuse every write (a store opened read-only): the write's Dependency fails with ReadOnlyError. */
  readOnly?: boolean;
}

/**
 * The bytes of one write: one buffer, or parts written back to back (a
 * framed chunk: header, the caller's payload, trailer), so a payload is
 * never copied into a frame. The bytes must not change until the write's
 * ticket settles.
 */
export type WriteData = Uint8Array | readonly Uint8Array[];

export function writeDataLength(data: WriteData): number {
  if (data instanceof Uint8Array) return data.length;
  let n = 0;
  for (const p of data) n += p.length;
  return n;
}

interface PendingWrite {
  readonly sameFlushAfter: Dependency | undefined;
  readonly recordFollows: boolean;
  readonly offset: number;
  readonly parts: readonly Uint8Array[];
  readonly length: number;
  readonly after: Dependency;
  readonly ticket: Ticket;
}

export interface WriteOptions {
  /** Writes this one may share a flush with: it waits only until they have landed (invariant 7). */
  readonly sameFlushAfter?: Dependency;
  /**
   * A metadata record naming this write will follow it (a data chunk): it
   * may be written inline, and its batch then waits one turn of the event
   * loop before its flush, so that the record can join it (invariant 8).
   */
  readonly recordFollows?: boolean;
}

export interface IoSchedulerStats {
  batches: number;
  writes: number;
  bytesWritten: number;
  flushes: number;
  /** Writes the host file system refused for lack of space (ENOSPC, EDQUOT). */
  hostNoSpaceWrites: number;
}

export class IoScheduler {
  private readonly maxBatchBytes: number;
  private readonly readOnly: boolean;
  private queue: PendingWrite[] = [];
  private inFlight: PendingWrite[] = [];
  private running = false;
  private closedError: Error | undefined;
  private idleWaiters: Array<() => void> = [];
  private wakeWaiting: (() => void) | undefined;
  /** A queued write's dependency settled since the loop last looked at the queue. */
  private changed = false;
  readonly stats: IoSchedulerStats = { batches: 0, writes: 0, bytesWritten: 0, flushes: 0, hostNoSpaceWrites: 0 };

  constructor(
    readonly disk: Disk,
    options: IoSchedulerOptions = {},
  ) {
    this.maxBatchBytes = options.maxBatchBytes ?? 64 * 1024 * 1024;
    this.readOnly = options.readOnly === true;
    assert(this.maxBatchBytes > 0, 'maxBatchBytes must be positive');
  }

  /**
   * Queue `data` for `offset`, issued once `after` is persistent and
   * `options.sameFlushAfter` has landed (invariant 7). `after` is the
   * write's real predecessor (none by default: a write of format or a test).
   */
  write(offset: number, data: WriteData, after: Dependency = Dependency.none, options: WriteOptions = {}): Dependency {
    if (this.closedError !== undefined) return Dependency.failed(this.closedError);
    const refused = this.refuseWrite(offset);
    if (refused !== undefined) return Dependency.failed(refused);
    const parts = data instanceof Uint8Array ? [data] : data;
    const length = writeDataLength(data);
    // The message is built only on failure (this runs once per put: see assert.ts).
    if (!(offset >= 0 && offset + length <= this.disk.sizeBytes)) throw new AssertionError(`write out of disk: ${offset}+${length}`);
    const ticket = new WriteTicket(offset, length);
    const sameFlushAfter = options.sameFlushAfter;
    this.queue.push({ offset, parts, length, after, ticket, sameFlushAfter, recordFollows: options.recordFollows === true });
    // One wake-up registration per write and predecessor: re-registering
    // every queued write on each wait made a long stall cost O(n^2) closures.
    if (!after.isPersistent()) this.wakeOnSettled(after);
    // A record queued when its data landed is ready now: it needs no
    // wake-up (a failure of that data is found by takeReady, which runs
    // before the loop waits), and a registration on each of a cycle's
    // data tickets cost a closure per put.
    if (sameFlushAfter !== undefined && !(sameFlushAfter.failure() === undefined && sameFlushAfter.hasLanded())) this.wakeOnSettled(sameFlushAfter);
    this.kick();
    return Dependency.of(ticket);
  }

  private wakeOnSettled(d: Dependency): void {
    if (!d.isPersistent() && d.failure() === undefined) d.onSettled(this.dependencySettled);
  }

  /** Why a write is refused (read-only), or undefined. One method, so the broken variant that writes anyway patches one place. */
  refuseWrite(offset: number): Error | undefined {
    return this.readOnly ? new ReadOnlyError(`write at ${offset} refused: the disk is open read-only`) : undefined;
  }

  /** Persistent once every write queued so far is. */
  barrier(): Dependency {
    return Dependency.all([...this.inFlight, ...this.queue].map((w) => Dependency.of(w.ticket)));
  }

  /** Read through the queue: queued and in-flight writes overlay the disk's bytes. `into`: as Disk.read. */
  async read(offset: number, length: number, into?: Buffer): Promise<Buffer> {
    const overlaps = this.overlapping(offset, length);
    let buf: Buffer;
    try {
      buf = await this.disk.read(offset, length, into);
    } catch (err: unknown) {
      throw ioFailure(`read of ${length} bytes at ${offset}`, err);
    }
    // Writes queued or issued while the read ran must overlay too.
    for (const w of this.overlapping(offset, length)) if (!overlaps.includes(w)) overlaps.push(w);
    for (const w of overlaps) overlay(buf, offset, w);
    return buf;
  }

  /** Resolves when no write is queued or in flight. */
  idle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stop: fail every queued write with ClosedError (used by dirty reboots in
   * tests and by shutdown after an unrecoverable error). In-flight writes
   * finish as the disk decides.
   */
  abandon(reason = 'io scheduler closed'): void {
    this.closedError = new ClosedError(reason);
    const queued = this.queue;
    this.queue = [];
    for (const w of queued) w.ticket.markFailed(this.closedError);
    this.wakeWaiting?.();
  }

  get pendingWrites(): number {
    return this.queue.length + this.inFlight.length;
  }

  private overlapping(offset: number, length: number): PendingWrite[] {
    const out: PendingWrite[] = [];
    for (const list of [this.inFlight, this.queue]) {
      for (const w of list) {
        if (w.offset < offset + length && offset < w.offset + w.length) out.push(w);
      }
    }
    return out;
  }

  private kick(): void {
    if (this.running) {
      this.wakeWaiting?.();
      return;
    }
    this.running = true;
    // Start on a microtask, so that writes queued in the same synchronous
    // burst join the first batch instead of waiting for a second flush.
    void Promise.resolve()
      .then(() => this.loop())
      .finally(() => {
        this.running = false;
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const fn of waiters) fn();
        if (this.queue.length > 0 && this.closedError === undefined) this.kick();
      });
  }

  private async loop(): Promise<void> {
    while (this.queue.length > 0 && this.closedError === undefined) {
      this.changed = false;
      const batch = this.takeReady();
      if (batch.length === 0) {
        // takeReady may have emptied the queue by failing writes: then there is nothing to wait for.
        if (this.queue.length > 0) await this.waitForChange();
        continue;
      }
      await this.runBatch(batch);
    }
  }

  /** Remove and return the ready writes (dependency persistent), up to `maxBytes` (one write larger than that goes alone in a first round). */
  private takeReady(maxBytes = this.maxBatchBytes): PendingWrite[] {
    const batch: PendingWrite[] = [];
    const rest: PendingWrite[] = [];
    let bytes = 0;
    for (const w of this.queue) {
      const failure = w.after.failure() ?? w.sameFlushAfter?.failure();
      if (failure !== undefined) {
        w.ticket.markFailed(failure);
      } else if (isReady(w) && (bytes + w.length <= maxBytes || (batch.length === 0 && maxBytes === this.maxBatchBytes))) {
        batch.push(w);
        bytes += w.length;
      } else {
        rest.push(w);
      }
    }
    this.queue = rest;
    return batch;
  }

  private readonly dependencySettled = (): void => {
    this.changed = true;
    this.wakeWaiting?.();
  };

  /** Wait until a queued write's dependency settles or a new write arrives. */
  private waitForChange(): Promise<void> {
    // A dependency that settled while takeReady ran (it fails tickets) found no waiter.
    if (this.changed) return Promise.resolve();
    return new Promise((resolve) => {
      this.wakeWaiting = (): void => {
        this.wakeWaiting = undefined;
        resolve();
      };
    });
  }

  /**
   * Start the batch's writes: appends that follow each other on disk (the
   * common case: many chunks appended to one extent) go out as one
   * gathered write when the disk offers writev, so a group commit of N
   * chunks costs one system call per extent, not N. Returns each system
   * call with the writes it carries.
   */
  private issue(batch: readonly PendingWrite[], joiners: boolean): IssuedCall[] {
    const writev = this.disk.writev?.bind(this.disk);
    if (writev === undefined) return batch.map((w) => ({ writes: [w], done: this.disk.write(w.offset, joined(w)), inlineData: false }));
    return contiguousRuns(batch).map((run) => {
      const first = run[0];
      if (first === undefined) return { writes: run, done: Promise.resolve(), inlineData: false };
      const parts = run.flatMap((w) => w.parts);
      const inline = run.every((w) => w.recordFollows || (joiners && w.sameFlushAfter !== undefined)) ? this.writeInline(first.offset, parts) : undefined;
      const done = inline ?? (parts.length === 1 && parts[0] !== undefined ? this.disk.write(first.offset, parts[0]) : writev(first.offset, parts));
      return { writes: run, done, inlineData: inline !== undefined && run.some((w) => w.recordFollows) };
    });
  }

  /**
   * A write done on this thread where the disk can (Disk.writeInline: a
   * small write into the page cache costs less than a trip through the
   * thread pool); undefined where it cannot. Only for the writes invariant
   * 8 names; never host space's zero-fill pieces, which may go out in any
   * round and held up requests when written on the event loop
   * (docs/BENCHMARKS.md, "small writes on the calling thread", reverted).
   */
  private writeInline(offset: number, parts: readonly Uint8Array[]): Promise<void> | undefined {
    if (this.disk.writeInline === undefined) return undefined;
    try {
      return this.disk.writeInline(offset, parts) ? Promise.resolve() : undefined;
    } catch (err: unknown) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /**
   * One batch: its writes, then one flush. A write that fails fails only
   * the writes of its system call: the others did land and are flushed and
   * made durable as usual. (Failing the whole batch would fail a metadata
   * record that merely shared the batch with a data write the host file
   * system refused, and a failed record makes the store read-only.) A
   * failed flush fails every write.
   *
   * Once the writes of a round have landed, their tickets say so (landed,
   * not durable yet) and whoever waits for that may queue more writes
   * (the metadata record naming the data that just landed,
   * commit_log.ts): those, and any other ready write, go out in another
   * round before the flush, so the record shares its data's one flush. At
   * most MAX_ROUNDS rounds; what comes later waits for the next batch.
   */
  private async runBatch(batch: PendingWrite[]): Promise<void> {
    this.inFlight = batch;
    const failed = new Map<PendingWrite, Error>();
    try {
      let round = batch;
      let bytes = 0;
      // Invariant 8: whether the batch landed a `recordFollows` write inline, and waited a turn for its record.
      let landedInlineData = false;
      let waited = false;
      for (let n = 1; ; n++) {
        if (await this.issueRound(round, failed, n > 1)) landedInlineData = true;
        bytes += round.reduce((sum, w) => sum + w.length, 0);
        const more = n < MAX_ROUNDS && this.closedError === undefined;
        Ticket.landAll(
          round.filter((w) => !failed.has(w)).map((w) => w.ticket),
          more,
        );
        if (!more) break;
        round = this.takeReady(this.maxBatchBytes - bytes);
        if (round.length === 0 && landedInlineData && !waited) {
          // Invariant 8: the record of data landed inline may be a turn away.
          waited = true;
          await nextTurn();
          if (this.closedError === undefined) round = this.takeReady(this.maxBatchBytes - bytes);
        }
        if (round.length === 0) break;
        this.inFlight = [...this.inFlight, ...round];
      }
      for (const w of this.inFlight) w.ticket.closeJoin();
      await this.disk.flush();
      this.stats.batches++;
      this.stats.flushes++;
      const done = this.inFlight;
      this.inFlight = [];
      for (const w of done) {
        const error = failed.get(w);
        if (error !== undefined) {
          w.ticket.markFailed(error);
          continue;
        }
        this.stats.writes++;
        this.stats.bytesWritten += w.length;
        w.ticket.markDurable();
      }
    } catch (err: unknown) {
      const done = this.inFlight;
      this.inFlight = [];
      const error = ioFailure('write batch', err);
      for (const w of done) w.ticket.markFailed(failed.get(w) ?? error);
    }
  }

  /**
   * Issue one round of a batch's writes and wait for all of them; failed
   * ones go into `failed`. True if it wrote a `recordFollows` write inline.
   */
  private async issueRound(round: readonly PendingWrite[], failed: Map<PendingWrite, Error>, joiners: boolean): Promise<boolean> {
    // allSettled, not all: a failed batch must not end while its other
    // writes are still in flight, or they could land after the next batch.
    const calls = this.issue(round, joiners);
    const results = await Promise.allSettled(calls.map((c) => c.done));
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') return;
      const error = ioFailure('write batch', r.reason);
      for (const w of calls[i]?.writes ?? []) {
        failed.set(w, error);
        if (error instanceof NoSpaceError) this.stats.hostNoSpaceWrites++;
      }
    });
    return calls.some((c) => c.inlineData);
  }
}

/** One system call of a round: the writes it carries, its completion, and whether it wrote `recordFollows` data inline (invariant 8). */
interface IssuedCall {
  readonly writes: readonly PendingWrite[];
  readonly done: Promise<void>;
  readonly inlineData: boolean;
}

/** A write's ticket; its label (for assertion messages) is made only when asked for, not once per write. */
class WriteTicket extends Ticket {
  constructor(
    private readonly offset: number,
    private readonly length: number,
  ) {
    super('write');
  }

  override get label(): string {
    return `write@${this.offset}+${this.length}`;
  }
}

/**
 * Write rounds per batch before its flush: the first, and one for the
 * records queued when its writes landed (a third catches a record whose
 * data landed in the second round).
 */
const MAX_ROUNDS = 3;

/**
 * Whether a queued write may go out now. A landed, unfailed ticket that is
 * not durable belongs to the batch in flight (batches run one at a time,
 * and each settles its tickets before the next starts), so a `sameFlush`
 * write waiting on it shares that batch's flush.
 */
function isReady(w: PendingWrite): boolean {
  if (!w.after.isPersistent()) return false;
  const joined = w.sameFlushAfter;
  return joined === undefined || joined.isPersistent() || (joined.failure() === undefined && joined.hasLanded());
}

/** One turn of the event loop (invariant 8): what is ready by then, I/O callbacks included, has run. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

const MAX_GATHER = 512;
/**
 * Bytes a gathered write carries at most. A batch of large chunks (16 puts
 * of 1 MiB) goes out as several system calls, which libuv's threads run at
 * once, as a program issuing one write per value would: one 16 MiB
 * pwritev copies into the page cache on one thread.
 */
const MAX_GATHER_BYTES = 4 * 1024 * 1024;

/** Runs of writes where each starts where the previous one ends, in offset order. */
function contiguousRuns(batch: readonly PendingWrite[]): PendingWrite[][] {
  const sorted = [...batch].sort((a, b) => a.offset - b.offset);
  const runs: PendingWrite[][] = [];
  let run: PendingWrite[] = [];
  let parts = 0;
  let bytes = 0;
  let end = -1;
  for (const w of sorted) {
    // At most MAX_GATHER parts a gathered write (the kernel's IOV_MAX is 1024), and MAX_GATHER_BYTES.
    if ((w.offset !== end || parts + w.parts.length > MAX_GATHER || bytes + w.length > MAX_GATHER_BYTES) && run.length > 0) {
      runs.push(run);
      run = [];
      parts = 0;
      bytes = 0;
    }
    run.push(w);
    parts += w.parts.length;
    bytes += w.length;
    end = w.offset + w.length;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

/** Copy the part of `w` that overlaps `buf` (which holds the disk's bytes from `offset`) into it. */
function overlay(buf: Buffer, offset: number, w: PendingWrite): void {
  let at = w.offset;
  for (const p of w.parts) {
    const from = Math.max(offset, at);
    const to = Math.min(offset + buf.length, at + p.length);
    if (from < to) buf.set(p.subarray(from - at, to - at), from - offset);
    at += p.length;
  }
}

/** The bytes of `w` in one buffer, for a disk without gathered writes. */
function joined(w: PendingWrite): Uint8Array {
  const only = w.parts[0];
  return w.parts.length === 1 && only !== undefined ? only : Buffer.concat(w.parts, w.length);
}
