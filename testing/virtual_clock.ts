// A virtual clock for tests (the Clock of src/base/clock.ts): time moves
// only when the test says, so a rate limit or a pause is tested without
// waiting on real time, and the test can wait for the moment code under
// test starts to sleep (a latch) instead of guessing it with a timer.
//
// Two modes:
// - held (the default): every sleep stays pending until advance() moves
//   time past its end, or release() ends them all;
// - free (after release()): a sleep moves time forward by its length at
//   once and resolves on the next turn of the event loop (a macrotask, so
//   other work interleaves as it would with a real pause).
//
// Invariants:
// 1. nowMs() never goes backwards.
// 2. A sleep resolves only once nowMs() has reached its end.
// 3. sleeps counts every sleep() call; nextSleep() resolves at the next one.
import type { Clock } from '../src/base/index.js';

interface Sleeper {
  readonly untilMs: number;
  readonly wake: () => void;
}

export class VirtualClock implements Clock {
  private now = 0;
  private free = false;
  private pending: Sleeper[] = [];
  private watchers: Array<{ atLeast: number; resolve: () => void }> = [];
  private nextWatchers: Array<() => void> = [];
  /** sleep() calls so far. */
  sleeps = 0;

  constructor(startMs = 0) {
    this.now = startMs;
  }

  nowMs(): number {
    return this.now;
  }

  sleep(ms: number): Promise<void> {
    this.sleeps++;
    const untilMs = this.now + Math.max(0, ms);
    const slept = new Promise<void>((wake) => {
      if (this.free) {
        this.now = Math.max(this.now, untilMs);
        setImmediate(wake);
      } else {
        this.pending.push({ untilMs, wake });
      }
    });
    this.notify();
    return slept;
  }

  /** Sleeps not yet woken (held mode). */
  get sleeping(): number {
    return this.pending.length;
  }

  /** Resolves once at least `count` sleeps are pending (held mode): the code under test has reached its pause. */
  whenSleeping(count = 1): Promise<void> {
    if (this.pending.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.watchers.push({ atLeast: count, resolve }));
  }

  /** Resolves at the next sleep() call. */
  nextSleep(): Promise<void> {
    return new Promise((resolve) => this.nextWatchers.push(resolve));
  }

  /** Move time forward by `ms`, waking every sleep that is due. */
  advance(ms: number): void {
    this.now += Math.max(0, ms);
    const due = this.pending.filter((s) => s.untilMs <= this.now);
    this.pending = this.pending.filter((s) => s.untilMs > this.now);
    for (const s of due) s.wake();
  }

  /** Switch to free mode: wake every pending sleep (time jumps to the latest end), and let later ones end at once. */
  release(): void {
    this.free = true;
    const latest = this.pending.reduce((m, s) => Math.max(m, s.untilMs), this.now);
    this.advance(latest - this.now);
  }

  private notify(): void {
    const next = this.nextWatchers;
    this.nextWatchers = [];
    for (const resolve of next) resolve();
    const ready = this.watchers.filter((w) => this.pending.length >= w.atLeast);
    this.watchers = this.watchers.filter((w) => this.pending.length < w.atLeast);
    for (const w of ready) w.resolve();
  }
}
