// Dependency: the soft-updates ordering primitive (SYSTEM.md section 1).
//
// A Dependency is a set of tickets. A ticket stands for one event that makes
// something durable: a batch of writes followed by a flush, or the commit of
// a metadata record. The Dependency is persistent when every ticket is
// durable; it fails as soon as one ticket fails.
//
// Invariants:
// 1. A ticket settles once: pending -> durable, or pending -> failed.
// 2. `and` never drops a pending or failed ticket; it drops durable ones,
//    so long chains stay short.
// 3. `persisted()` resolves only when isPersistent() is true.
import { assert, HostNoSpaceError, IoError, NoSpaceError, isHostNoSpace } from '../base/index.js';

type TicketState = 'pending' | 'durable' | 'failed';

export class Ticket {
  private stateValue: TicketState = 'pending';
  private errorValue: Error | undefined;
  private waiters: Array<() => void> = [];

  constructor(readonly label: string) {}

  get state(): TicketState {
    return this.stateValue;
  }

  get error(): Error | undefined {
    return this.errorValue;
  }

  markDurable(): void {
    assert(this.stateValue === 'pending', `ticket ${this.label} settled twice`);
    this.stateValue = 'durable';
    this.wake();
  }

  markFailed(error: Error): void {
    if (this.stateValue !== 'pending') return;
    this.stateValue = 'failed';
    this.errorValue = error;
    this.wake();
  }

  /** Call `fn` once when the ticket settles (at once if it has). */
  onSettled(fn: () => void): void {
    if (this.stateValue === 'pending') this.waiters.push(fn);
    else fn();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const fn of waiters) fn();
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

  static all(deps: Iterable<Dependency>): Dependency {
    let out = Dependency.none;
    for (const d of deps) out = out.and(d);
    return out;
  }

  isPersistent(): boolean {
    for (const t of this.tickets) if (t.state !== 'durable') return false;
    return true;
  }

  /** The error of a failed ticket, if any: such a dependency never becomes persistent. */
  failure(): Error | undefined {
    for (const t of this.tickets) if (t.state === 'failed') return t.error;
    return undefined;
  }

  /** Call `fn` once every ticket has settled or one has failed. */
  onSettled(fn: () => void): void {
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
