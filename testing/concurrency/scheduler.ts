// SimScheduler: the one oracle of a deterministic concurrent simulation.
// It decides the order in which IO completions resolve (it is the
// SimDisk's `scheduler` hook), which logical client runs its next step,
// when timers fire (a fake Clock), and hands out every random number. A
// schedule is fixed by its token (schedule_policy.ts), which replays it.
//
// Strategy:
// - JavaScript runs one thing at a time and interleaves only at awaits, so
//   a "step" is what runs between two awaits. The scheduler controls the
//   awaits that matter: an IO completion (queued by the SimDisk hook), a
//   client's explicit `ctx.yield()` (and its start), a timer
//   (`clock.sleep`). Each is an entity; parked entities are the
//   candidates, and the policy picks one per decision.
// - After every decision the scheduler lets the system quiesce: it waits
//   `drainRounds` setImmediate turns, by which time every promise chain the
//   decision set off has run until it parks on the scheduler again. Only
//   then does it look at the candidates, so what is a candidate never
//   depends on how fast microtasks happen to run.
// - Time is fake: `clock.nowMs()` moves only when a timer fires (to its due
//   time). With `timers: 'any'` (default) the earliest timer is a candidate
//   like any other, which models slow IO (a flush interval may elapse
//   before a write completes); with 'idle' timers fire only when nothing
//   else can run (discrete-event time).
// - Invariants between steps: an optional `invariant` callback runs after
//   every quiesce, before the next decision, so a harness can check the
//   state at every scheduling point (step_invariants.ts), not only after
//   whole calls; a message it returns fails the run there.
// - Stall detection: tasks unfinished, no candidate at all (no parked
//   task, no queued IO, no timer): a deadlock, reported with the token and
//   the blocked tasks. A run that keeps going past maxSteps is reported as
//   'step-limit' (livelock, or a background timer loop that never ends).
//
// Limits (what the code under test must respect for replay to be exact):
// - Every asynchronous source must be a scheduler entity or a microtask.
//   Real timers, real file or network IO, and setImmediate in the code
//   under test escape the oracle: work they delay lands outside the
//   quiescence window, breaks determinism and may look like a deadlock.
//   Raise `drainRounds` only as a stopgap for setImmediate.
// - Interleavings happen only at entities: two awaits on already-resolved
//   promises are not a scheduling point. Code that is racy only between
//   such microtasks is not explored (it cannot be in Node either, since
//   microtask order is deterministic).
// - One run per scheduler; explore by building one per token.
//
// Invariants:
// 1. Same token, same code under test -> same decisions (the `decisions`
//    log is equal), same clock, same random numbers.
// 2. At most one task runs between two decisions; a task parks at most
//    once at a time (yield while parked is a harness bug and fails it).
// 3. Every entity is admitted to the policy before it is a candidate and
//    retired once it has run (tasks: once finished).
import { assert } from '../../src/base/index.js';
import type { Clock } from '../../src/base/index.js';
import { tick } from '../progress.js';
import { Rng } from '../rng.js';
import type { SimIo, SimIoScheduler } from '../sim_disk.js';
import { formatSchedule, makePolicy, parseSchedule } from './schedule_policy.js';
import type { SchedulePolicy, ScheduleSpec } from './schedule_policy.js';

export interface SchedulerOptions {
  /** Stop with 'step-limit' after this many decisions (default 100,000). */
  readonly maxSteps?: number;
  /** setImmediate turns between decisions (default 1). */
  readonly drainRounds?: number;
  /** 'any' (default): the earliest timer competes with other work; 'idle': timers fire only when nothing else can. */
  readonly timers?: 'any' | 'idle';
  /**
   * Checked at every scheduling point, once the system has quiesced and
   * before the next decision: a message fails the run there ('failed', the
   * task named 'invariant'). Synchronous, and it must not start IO: it
   * looks at the state between two steps, where no step is half done.
   */
  readonly invariant?: () => string | undefined;
}

/** What a client task may do besides calling the system under test. */
export interface TaskContext {
  readonly name: string;
  /** A scheduling point: resolves when the scheduler picks this task again. */
  yield(): Promise<void>;
}

export type RunOutcome = 'ok' | 'deadlock' | 'failed' | 'step-limit';

export interface RunReport {
  readonly outcome: RunOutcome;
  /** Replays this run: `new SimScheduler(token)`. */
  readonly token: string;
  readonly steps: number;
  readonly nowMs: number;
  /** One label per decision, in order. */
  readonly decisions: readonly string[];
  /** Unfinished tasks that were neither parked nor runnable at the end. */
  readonly blocked: readonly string[];
  readonly error: Error | undefined;
  /** Empty for 'ok'; else a sentence naming the token. */
  readonly message: string;
}

export const DEFAULT_MAX_STEPS = 100_000;

type EntityKind = 'task' | 'io' | 'timer';

interface Entity {
  readonly kind: EntityKind;
  readonly id: number;
  readonly label: string;
  /** Timers: when due; others: 0. */
  readonly dueMs: number;
  readonly go: () => void;
}

interface TaskRecord {
  readonly id: number;
  readonly name: string;
  state: 'parked' | 'running' | 'done' | 'failed';
}

export class SimScheduler {
  readonly spec: ScheduleSpec;
  readonly token: string;
  /** The fake clock: hand it to the code under test wherever it takes a Clock. */
  readonly clock: Clock;
  /** Hand to SimDisk({ scheduler }): every IO completion becomes a scheduler decision. */
  readonly ioScheduler: SimIoScheduler;
  private readonly root: Rng;
  private readonly policy: SchedulePolicy;
  private readonly maxSteps: number;
  private readonly drainRounds: number;
  private readonly timerMode: 'any' | 'idle';
  private readonly invariant: (() => string | undefined) | undefined;
  private readonly ready = new Map<number, Entity>();
  private readonly tasks: TaskRecord[] = [];
  private readonly log: string[] = [];
  private failure: { readonly task: string; readonly error: Error } | undefined;
  private nextId = 0;
  private now = 0;
  private steps = 0;
  private started = false;

  constructor(schedule: ScheduleSpec | string, options: SchedulerOptions = {}) {
    this.spec = typeof schedule === 'string' ? parseSchedule(schedule) : schedule;
    this.token = formatSchedule(this.spec);
    this.root = new Rng(this.spec.seed);
    this.policy = makePolicy(this.spec, this.root.fork('schedule'));
    this.maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
    this.drainRounds = options.drainRounds ?? 1;
    this.timerMode = options.timers ?? 'any';
    this.invariant = options.invariant;
    assert(Number.isSafeInteger(this.maxSteps) && this.maxSteps > 0, `maxSteps ${this.maxSteps}`);
    assert(Number.isSafeInteger(this.drainRounds) && this.drainRounds >= 1, `drainRounds ${this.drainRounds}`);
    this.clock = { nowMs: () => this.now, sleep: (ms) => this.sleep(ms) };
    this.ioScheduler = (io, complete) => this.queueIo(io, complete);
  }

  /** An independent random stream for one component (same token, same numbers). */
  rng(label: string): Rng {
    return this.root.fork(label);
  }

  /** A logical client: `body` starts when the scheduler first picks it. Also callable from a running task. */
  spawn(name: string, body: (ctx: TaskContext) => Promise<void>): void {
    const task: TaskRecord = { id: this.admit(), name, state: 'parked' };
    this.tasks.push(task);
    const ctx: TaskContext = { name, yield: () => this.park(task) };
    this.ready.set(task.id, this.taskEntity(task, () => this.start(task, body, ctx)));
  }

  get decisions(): readonly string[] {
    return this.log;
  }

  /** IO completions and timers not yet released. */
  get pending(): { readonly io: number; readonly timers: number } {
    const all = [...this.ready.values()];
    return { io: all.filter((e) => e.kind === 'io').length, timers: all.filter((e) => e.kind === 'timer').length };
  }

  /** Drive until every task has finished, one failed, nothing can run, or maxSteps. */
  async run(): Promise<RunReport> {
    assert(!this.started, 'a SimScheduler runs once: build another from the token');
    this.started = true;
    for (;;) {
      await this.quiesce();
      this.checkInvariant();
      if (this.failure !== undefined) return this.report('failed');
      if (this.tasks.every((t) => t.state === 'done')) return this.report('ok');
      const candidates = this.candidates();
      if (candidates.length === 0) return this.report('deadlock');
      if (this.steps >= this.maxSteps) return this.report('step-limit');
      const pick = candidates[this.policy.choose(candidates.map((c) => c.id))];
      assert(pick !== undefined, 'policy chose outside the candidates');
      this.execute(pick);
    }
  }

  private admit(): number {
    const id = this.nextId++;
    this.policy.admit(id);
    return id;
  }

  private queueIo(io: SimIo, complete: () => void): void {
    const id = this.admit();
    this.ready.set(id, { kind: 'io', id, label: `io#${id} ${io.kind} ${io.offset}+${io.length}`, dueMs: 0, go: complete });
  }

  private sleep(ms: number): Promise<void> {
    assert(Number.isFinite(ms), `sleep(${ms})`);
    return new Promise<void>((resolve) => {
      const id = this.admit();
      const dueMs = this.now + Math.max(0, ms);
      this.ready.set(id, { kind: 'timer', id, label: `timer#${id} @${dueMs}ms`, dueMs, go: resolve });
    });
  }

  private taskEntity(task: TaskRecord, go: () => void): Entity {
    return {
      kind: 'task',
      id: task.id,
      label: `task#${task.id} ${task.name}`,
      dueMs: 0,
      go: () => {
        task.state = 'running';
        go();
      },
    };
  }

  private start(task: TaskRecord, body: (ctx: TaskContext) => Promise<void>, ctx: TaskContext): void {
    let promise: Promise<void>;
    try {
      promise = body(ctx);
    } catch (err: unknown) {
      this.finish(task, err);
      return;
    }
    void promise.then(
      () => this.finish(task, undefined),
      (err: unknown) => this.finish(task, err),
    );
  }

  private park(task: TaskRecord): Promise<void> {
    assert(task.state === 'running', `task ${task.name} yielded while ${task.state}: one yield at a time`);
    task.state = 'parked';
    return new Promise<void>((resolve) => this.ready.set(task.id, this.taskEntity(task, resolve)));
  }

  private finish(task: TaskRecord, err: unknown): void {
    task.state = err === undefined ? 'done' : 'failed';
    this.policy.retire(task.id);
    if (err !== undefined && this.failure === undefined) {
      this.failure = { task: task.name, error: asError(err) };
    }
  }

  /** Parked tasks and queued IO, plus the earliest timers (all of them when due together). */
  private candidates(): Entity[] {
    const all = [...this.ready.values()].sort((a, b) => a.id - b.id);
    const others = all.filter((e) => e.kind !== 'timer');
    const timers = all.filter((e) => e.kind === 'timer');
    if (timers.length === 0 || (this.timerMode === 'idle' && others.length > 0)) return others;
    const due = Math.min(...timers.map((t) => t.dueMs));
    return all.filter((e) => e.kind !== 'timer' || e.dueMs === due);
  }

  private execute(pick: Entity): void {
    this.ready.delete(pick.id);
    this.steps++;
    tick();
    this.log.push(pick.label);
    if (pick.kind === 'timer') this.now = Math.max(this.now, pick.dueMs);
    if (pick.kind !== 'task') this.policy.retire(pick.id);
    try {
      pick.go();
    } catch (err: unknown) {
      // A completion that throws is a harness bug (e.g. an IO completed twice): fail the run, do not hang it.
      this.failure ??= { task: pick.label, error: asError(err) };
    }
  }

  private checkInvariant(): void {
    if (this.invariant === undefined || this.failure !== undefined) return;
    const problem = this.invariant();
    if (problem !== undefined) this.failure = { task: 'invariant', error: new Error(`${problem} (at step ${this.steps})`) };
  }

  private async quiesce(): Promise<void> {
    for (let i = 0; i < this.drainRounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  private report(outcome: RunOutcome): RunReport {
    const blocked = this.tasks.filter((t) => t.state === 'running').map((t) => t.name);
    const where = `under ${this.token} after ${this.steps} steps`;
    const messages: Record<RunOutcome, string> = {
      ok: '',
      deadlock: `deadlock ${where}: ${blocked.join(', ')} wait(s) with no runnable task, IO or timer`,
      failed: `${this.failure?.task ?? '?'} failed ${where}: ${this.failure?.error.message ?? ''}`,
      'step-limit': `no end ${where}: ${this.maxSteps} steps and tasks still unfinished (livelock?)`,
    };
    return {
      outcome,
      token: this.token,
      steps: this.steps,
      nowMs: this.now,
      decisions: [...this.log],
      blocked,
      error: this.failure?.error,
      message: messages[outcome],
    };
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(`non-Error thrown: ${typeof err === 'string' ? err : typeof err}`, { cause: err });
}
