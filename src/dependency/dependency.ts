// Dependency: the soft-updates ordering primitive (SYSTEM.md section 1).
//
// A Dependency is a set of tickets. A ticket stands for one event that makes
// something durable: a batch of writes followed by a flush, or the commit of
// a metadata record. The Dependency is persistent when every ticket is
// durable; it fails as soon as one ticket fails.
//
// A write's ticket also *lands* before it is durable: its bytes reached the
// disk (the write call returned) and the flush that makes them durable has
// not returned yet. A metadata record may be written once the data it names
// has landed, to share that data's flush (commit_log.ts): the record is not
// believed at recovery before that data is verified (log_verify.ts).
//
// Invariants:
// 1. A ticket settles once: pending -> durable, or pending -> failed.
// 2. `and` never drops a pending or failed ticket; it drops durable ones,
//    so long chains stay short.
// 3. `persisted()` resolves only when isPersistent() is true.
// 4. A durable ticket counts as landed; a failed one never does.
import { AssertionError, HostNoSpaceError, IoError, NoSpaceError, isHostNoSpace } from '../base/index.js';

type TicketState = 'pending' | 'durable' | 'failed';

export class Ticket {
  private stateValue: TicketState = 'pending';
  private errorValue: Error | undefined;
  private landedValue = false;
  /** Landed in a batch that may still take writes before its flush (io_scheduler.ts, invariant 8). */
  private joinOpen = false;
  // Made on the first waiter: most tickets of a put have one or two, some none.
  private waiters: Array<() => void> | undefined;
  private landWaiters: Array<(joinable: boolean) => void> | undefined;

  constructor(private readonly name: string) {}

  /** What the ticket stands for, in assertion messages. */
  get label(): string {
    return this.name;
  }

  get state(): TicketState {
    return this.stateValue;
  }

  get error(): Error | undefined {
    return this.errorValue;
  }

  /** Landed (its write returned) or durable; never once failed. */
  get landed(): boolean {
    return this.stateValue === 'durable' || (this.stateValue === 'pending' && this.landedValue);
  }

  markDurable(): void {
    if (this.stateValue !== 'pending') throw new AssertionError(`ticket ${this.label} settled twice`);
    this.stateValue = 'durable';
    this.landedValue = true;
    this.wake();
  }

  markFailed(error: Error): void {
    if (this.stateValue !== 'pending') return;
    this.stateValue = 'failed';
    this.errorValue = error;
    this.wake();
  }

  /**
   * The write's bytes reached the disk; durable after the next flush.
   * Waiters are not called here (see landAll): every ticket of a batch is
   * marked first, so a waiter sees the whole batch landed.
   */
  private setLanded(): void {
    if (this.stateValue !== 'pending') throw new AssertionError(`ticket ${this.label} landed after it settled`);
    this.landedValue = true;
  }

  /**
   * Mark every ticket landed, then wake the waiters of each (one batch's
   * writes, before its flush). `joinable`: a write queued by a waiter now,
   * with `sameFlush`, may still go out before that flush (io_scheduler.ts).
   */
  static landAll(tickets: readonly Ticket[], joinable: boolean): void {
    for (const t of tickets) {
      t.setLanded();
      t.joinOpen = joinable;
    }
    for (const t of tickets) t.wakeLanded(joinable);
  }

  /** The batch it landed in takes no more writes: its flush is next. */
  closeJoin(): void {
    this.joinOpen = false;
  }

  /** Landed, not settled, and its batch still takes writes before its flush: a write queued now with `sameFlush` shares that flush. */
  get joinable(): boolean {
    return this.stateValue === 'pending' && this.landedValue && this.joinOpen;
  }

  /**
   * Call `fn` once the ticket has landed or settled; at once if it has
   * (joinable if its batch still takes writes, io_scheduler.ts invariant 8).
   */
  onLandedOrSettled(fn: (joinable: boolean) => void): void {
    if (this.stateValue !== 'pending' || this.landedValue) fn(this.joinable);
    // A literal for the first: an array grown by push from empty reserves 17 slots.
    else if (this.landWaiters === undefined) this.landWaiters = [fn];
    else this.landWaiters.push(fn);
  }

  private wakeLanded(joinable: boolean): void {
    const waiters = this.landWaiters;
    if (waiters === undefined) return;
    this.landWaiters = undefined;
    for (const fn of waiters) fn(joinable);
  }

  /** Call `fn` once when the ticket settles (at once if it has). */
  onSettled(fn: () => void): void {
    if (this.stateValue !== 'pending') fn();
    else if (this.waiters === undefined) this.waiters = [fn];
    else this.waiters.push(fn);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = undefined;
    if (waiters !== undefined) for (const fn of waiters) fn();
    this.wakeLanded(false);
  }
}

export class Dependency {
  /** Already persistent: nothing to wait for. */
  static readonly none = new Dependency([]);

  private constructor(private readonly tickets: readonly Ticket[]) {}

  static of(ticket: Ticket): Dependency {
    return ticket.state === 'durable' ? Dependency.none : new Dependency([ticket]);
  }

  /** A dependency that fails at once (used when a write could not be queued). */
  static failed(error: Error): Dependency {
    const ticket = new Ticket('failed');
    ticket.markFailed(error);
    return new Dependency([ticket]);
  }

  /** Persistent when both this and `other` are. */
  and(other: Dependency): Dependency {
    if (other.tickets.length === 0) return this.compact();
    if (this.tickets.length === 0) return other.compact();
    const set = new Set<Ticket>();
    for (const t of this.tickets) if (t.state !== 'durable') set.add(t);
    for (const t of other.tickets) if (t.state !== 'durable') set.add(t);
    return set.size === 0 ? Dependency.none : new Dependency([...set]);
  }

  /**
   * Persistent when every one of `deps` is. One pass into one set: a commit
   * cycle joins the dependencies of all its puts, and pairwise `and` would
   * copy the growing set once per put (quadratic in the cycle's size).
   */
  static all(deps: Iterable<Dependency>): Dependency {
    let only: Dependency | undefined;
    let set: Set<Ticket> | undefined;
    for (const d of deps) {
      if (d.tickets.length === 0) continue;
      if (only === undefined) {
        only = d;
        continue;
      }
      if (set === undefined) {
        set = new Set<Ticket>();
        for (const t of only.tickets) if (t.state !== 'durable') set.add(t);
      }
      for (const t of d.tickets) if (t.state !== 'durable') set.add(t);
    }
    if (only === undefined) return Dependency.none;
    if (set === undefined) return only.compact();
    return set.size === 0 ? Dependency.none : new Dependency([...set]);
  }

  isPersistent(): boolean {
    for (const t of this.tickets) if (t.state !== 'durable') return false;
    return true;
  }

  /** Every ticket has landed (or is durable): durable after the flush under way, unless that flush fails. */
  hasLanded(): boolean {
    for (const t of this.tickets) if (!t.landed) return false;
    return true;
  }

  /**
   * Call `fn` once, synchronously, when every ticket has landed or settled.
   * `joinable` is true when the last one landed in a batch that a write
   * queued now (with `sameFlush`) may still join before its flush
   * (commit_log.ts queues the record naming the data right then), or, if
   * all had landed already, when that batch still takes writes (a batch
   * that landed data inline waits a turn for its record: io_scheduler.ts,
   * invariant 8); false once its flush may be under way, or one failed.
   */
  onLanded(fn: (joinable: boolean) => void): void {
    const only = this.single();
    if (only !== undefined) {
      // One ticket (a put's data write): no array, no counting closure.
      only.onLandedOrSettled(fn);
      return;
    }
    const waiting = this.tickets.filter((t) => t.state === 'pending' && !t.landed);
    if (waiting.length === 0) {
      // All landed already: joinable if every one not durable is still in an open batch.
      fn(this.tickets.every((t) => t.state === 'durable' || t.joinable));
      return;
    }
    // One counting closure for all of them (a commit cycle waits on every put's data here).
    let left = waiting.length;
    const landed = (joinable: boolean): void => {
      left--;
      if (left === 0) fn(joinable);
    };
    for (const t of waiting) t.onLandedOrSettled(landed);
  }

  /** Call `fn` once every ticket is durable or failed (not at the first failure, unlike onSettled). */
  onAllSettled(fn: () => void): void {
    const only = this.single();
    if (only !== undefined) {
      only.onSettled(fn);
      return;
    }
    const pending = this.tickets.filter((t) => t.state === 'pending');
    if (pending.length === 0) {
      fn();
      return;
    }
    let left = pending.length;
    const settled = (): void => {
      left--;
      if (left === 0) fn();
    };
    for (const t of pending) t.onSettled(settled);
  }

  /** The error of a failed ticket, if any: such a dependency never becomes persistent. */
  failure(): Error | undefined {
    for (const t of this.tickets) if (t.state === 'failed') return t.error;
    return undefined;
  }

  /** Call `fn` once every ticket has settled or one has failed. */
  onSettled(fn: () => void): void {
    const only = this.single();
    if (only !== undefined) {
      // One ticket settles once, durable or failed: fn runs then (at once if
      // it has). Most dependencies are one write or one latch, and this runs
      // several times per put.
      only.onSettled(fn);
      return;
    }
    const pending = this.tickets.filter((t) => t.state === 'pending');
    if (pending.length === 0 || this.failure() !== undefined) {
      fn();
      return;
    }
    let left = pending.length;
    let called = false;
    const step = (t: Ticket): void => {
      left--;
      if (called) return;
      if (left === 0 || t.state === 'failed') {
        called = true;
        fn();
      }
    };
    for (const t of pending) t.onSettled(() => step(t));
  }

  /** Resolves when persistent; rejects with the first failure. */
  persisted(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.onSettled(() => {
        const err = this.failure();
        if (err !== undefined) reject(err);
        else resolve();
      });
    });
  }

  /** The ticket of a one-ticket dependency, else undefined. */
  private single(): Ticket | undefined {
    return this.tickets.length === 1 ? this.tickets[0] : undefined;
  }

  private compact(): Dependency {
    if (this.tickets.every((t) => t.state !== 'durable')) return this;
    const rest = this.tickets.filter((t) => t.state !== 'durable');
    return rest.length === 0 ? Dependency.none : new Dependency(rest);
  }
}

/**
 * A ticket settled by its owner rather than by the IO scheduler: the commit
 * of a metadata record, or "the next group commit", handed out before the
 * writes that will make it durable exist.
 */
export class Latch {
  readonly ticket: Ticket;
  readonly dependency: Dependency;

  constructor(label: string) {
    this.ticket = new Ticket(label);
    this.dependency = Dependency.of(this.ticket);
  }

  resolve(): void {
    this.ticket.markDurable();
  }

  reject(error: Error): void {
    this.ticket.markFailed(error);
  }

  /** Settle like `dep`: durable when it is, failed when it fails. */
  follow(dep: Dependency): void {
    dep.onSettled(() => {
      const err = dep.failure();
      if (err !== undefined) this.reject(err);
      else this.resolve();
    });
  }
}

/** The typed error for a failed IO: IoError, or NoSpaceError when the host file system is full. */
export function ioFailure(context: string, err: unknown): IoError | NoSpaceError {
  if (err instanceof IoError || err instanceof NoSpaceError) return err;
  // A full host file system is no IO error: the disk is fine, the write
  // found no free block. Callers answer NoSpace (507), not Io (500).
  if (isHostNoSpace(err)) {
    return new HostNoSpaceError(`${context}: host file system full: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return new IoError(`${context}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
