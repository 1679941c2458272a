// The linearizability search for the operations on ONE key: Wing & Gong's
// backtracking search with Lowe's memoization, as Porcupine runs it per
// partition. linearizability.ts splits a history by key and calls this.
//
// References:
// - J. M. Wing and C. Gong, "Testing and verifying concurrent objects",
//   Journal of Parallel and Distributed Computing 17(1-2), 1993.
// - G. Lowe, "Testing for linearizability", Concurrency and Computation:
//   Practice and Experience 29(4), 2017 (the (linearized set, state) cache).
// - A. Athalye, Porcupine (github.com/anishathalye/porcupine): the
//   doubly-linked entry list, lift/unlift, and the per-partition check.
//
// Strategy:
// - The operations' call and return events, sorted by time (a call before
//   a return at equal times, so touching intervals count as concurrent),
//   form a doubly-linked list. Walking it from the head, a call entry is a
//   candidate to linearize next; reaching a return entry means the
//   operation it closes must already have been linearized, so the search
//   backtracks (pops the last choice and tries the next candidate).
// - Linearizing a call applies it to the per-key model (state 0 = absent,
//   n > 0 = the n-th distinct value); if the result is consistent, the
//   call and its return are lifted out of the list. An operation whose
//   outcome is unknown has two successor states (took effect, or never
//   did); the stack frame remembers which one was tried.
// - Lowe's cache: a (linearized set, state) pair seen before has had its
//   whole subtree explored, so it is pruned. The set is a bitset with an
//   incremental Zobrist hash.
//
// Invariants:
// 1. Every search step spends one unit of the Budget; when it runs out the
//    answer is 'unknown', never a guess.
// 2. The list always holds exactly the entries of unlinearized
//    operations, in time order; lift/unlift are exact inverses.
// 3. 'violation' only when every consistent order has been refuted: the
//    stack emptied at a return entry.
import { assert } from '../../src/base/index.js';
import { Rng } from '../rng.js';

export const ABSENT = 0;

/** What one operation does to, or says about, the key's state. */
export type KeyStep =
  /** Sets the value; `maybe`: outcome unknown (or no effect at all). */
  | { readonly kind: 'put'; readonly value: number; readonly maybe: boolean }
  /** A successful delete needs the key present; a `maybe` delete has no precondition. */
  | { readonly kind: 'delete'; readonly maybe: boolean }
  /** Observed exactly this state (ABSENT for not-found). */
  | { readonly kind: 'read'; readonly expect: number }
  /** Observed the key present, value unseen (a list that returned it). */
  | { readonly kind: 'present' };

export interface KeyOp {
  readonly call: number;
  readonly ret: number;
  readonly step: KeyStep;
}

export type SearchOutcome = 'ok' | 'violation' | 'unknown';

/** A shared step and time allowance; `spend` reads the clock every 256 steps only. */
export class Budget {
  private stepsUsed = 0;
  private out = false;

  constructor(
    private readonly maxSteps: number,
    private readonly deadlineMs: number,
  ) {}

  spend(): boolean {
    if (this.out) return false;
    this.stepsUsed++;
    if (this.stepsUsed > this.maxSteps || ((this.stepsUsed & 0xff) === 0 && performance.now() > this.deadlineMs)) this.out = true;
    return !this.out;
  }

  get steps(): number {
    return this.stepsUsed;
  }

  get exhausted(): boolean {
    return this.out;
  }
}

/** The states the key may be in after `step` from `state`; empty when the step's result contradicts it. */
export function nextStates(state: number, step: KeyStep): number[] {
  switch (step.kind) {
    case 'put':
      return step.maybe && state !== step.value ? [step.value, state] : [step.value];
    case 'delete':
      if (state === ABSENT) return step.maybe ? [ABSENT] : [];
      return step.maybe ? [ABSENT, state] : [ABSENT];
    case 'read':
      return state === step.expect ? [state] : [];
    case 'present':
      return state === ABSENT ? [] : [state];
  }
}

/** Decide whether `ops` (one key's sub-history) is linearizable from `initial`. */
export function searchKey(ops: readonly KeyOp[], initial: number, budget: Budget): SearchOutcome {
  return new Search(ops, initial, budget).run();
}

/** A node of the event list; a call entry points at its return entry. */
class Entry {
  prev: Entry;
  next: Entry | null = null;

  constructor(
    readonly op: number,
    readonly ret: Entry | null,
  ) {
    this.prev = this;
  }
}

interface Frame {
  readonly entry: Entry;
  /** The state before this entry was linearized. */
  readonly state: number;
  /** Which of nextStates(state, step) was taken. */
  readonly alt: number;
}

class Search {
  private readonly head = new Entry(-1, null);
  private readonly bits: BitSet;
  private readonly cache = new StateCache();
  private readonly stack: Frame[] = [];
  private state: number;

  constructor(
    private readonly ops: readonly KeyOp[],
    initial: number,
    private readonly budget: Budget,
  ) {
    this.state = initial;
    this.bits = new BitSet(ops.length);
    buildList(this.head, ops);
  }

  run(): SearchOutcome {
    let entry = this.head.next;
    let firstAlt = 0;
    while (entry !== null) {
      if (!this.budget.spend()) return 'unknown';
      if (entry.ret !== null) {
        entry = this.tryLinearize(entry, firstAlt) ? this.head.next : entry.next;
        firstAlt = 0;
        continue;
      }
      // A return entry: its operation cannot wait any longer, and was not linearized yet.
      const frame = this.stack.pop();
      if (frame === undefined) return 'violation';
      this.bits.clear(frame.entry.op);
      this.state = frame.state;
      unlift(frame.entry);
      entry = frame.entry;
      firstAlt = frame.alt + 1;
    }
    return 'ok';
  }

  private tryLinearize(entry: Entry, firstAlt: number): boolean {
    const op = this.ops[entry.op];
    assert(op !== undefined, `no operation ${entry.op}`);
    const alts = nextStates(this.state, op.step);
    for (let alt = firstAlt; alt < alts.length; alt++) {
      const next = alts[alt] ?? ABSENT;
      this.bits.set(entry.op);
      if (this.cache.add(this.bits, next)) {
        this.stack.push({ entry, state: this.state, alt });
        this.state = next;
        lift(entry);
        return true;
      }
      this.bits.clear(entry.op);
    }
    return false;
  }
}

function buildList(head: Entry, ops: readonly KeyOp[]): void {
  const events: Array<{ time: number; isCall: boolean; op: number }> = [];
  ops.forEach((op, i) => {
    assert(op.call <= op.ret, `operation ${i} returns before its call`);
    events.push({ time: op.call, isCall: true, op: i }, { time: op.ret, isCall: false, op: i });
  });
  // Calls before returns at equal times: touching intervals are concurrent (the permissive reading).
  events.sort((a, b) => a.time - b.time || Number(b.isCall) - Number(a.isCall) || a.op - b.op);
  const returns = new Map<number, Entry>();
  for (const e of events) if (!e.isCall) returns.set(e.op, new Entry(e.op, null));
  let tail = head;
  for (const e of events) {
    const entry = e.isCall ? new Entry(e.op, returns.get(e.op) ?? null) : returns.get(e.op);
    assert(entry !== undefined, `no return entry for ${e.op}`);
    entry.prev = tail;
    tail.next = entry;
    tail = entry;
  }
}

function retOf(call: Entry): Entry {
  assert(call.ret !== null, `entry ${call.op} is not a call`);
  return call.ret;
}

/** Take a call entry and its return out of the list. */
function lift(call: Entry): void {
  call.prev.next = call.next;
  if (call.next !== null) call.next.prev = call.prev;
  const ret = retOf(call);
  ret.prev.next = ret.next;
  if (ret.next !== null) ret.next.prev = ret.prev;
}

/** Put them back, in the reverse order. */
function unlift(call: Entry): void {
  const ret = retOf(call);
  ret.prev.next = ret;
  if (ret.next !== null) ret.next.prev = ret;
  call.prev.next = call;
  if (call.next !== null) call.next.prev = call;
}

const ZOBRIST_SEED = 'linearizability/zobrist';

class BitSet {
  readonly words: Uint32Array;
  readonly keys: Uint32Array;
  hash = 0;

  constructor(n: number) {
    this.words = new Uint32Array(Math.ceil(n / 32));
    const rng = new Rng(ZOBRIST_SEED);
    this.keys = Uint32Array.from({ length: n }, () => rng.nextU32());
  }

  set(i: number): void {
    const w = i >>> 5;
    const bit = 1 << (i & 31);
    assert(((this.words[w] ?? 0) & bit) === 0, `bit ${i} already set`);
    this.words[w] = (this.words[w] ?? 0) | bit;
    this.hash = (this.hash ^ (this.keys[i] ?? 0)) >>> 0;
  }

  clear(i: number): void {
    const w = i >>> 5;
    const bit = 1 << (i & 31);
    assert(((this.words[w] ?? 0) & bit) !== 0, `bit ${i} not set`);
    this.words[w] = (this.words[w] ?? 0) & ~bit;
    this.hash = (this.hash ^ (this.keys[i] ?? 0)) >>> 0;
  }
}

/** Lowe's cache of visited (linearized set, state) configurations. */
class StateCache {
  private readonly buckets = new Map<number, Array<{ readonly words: Uint32Array; readonly state: number }>>();

  /** Adds the configuration; false if it was already there. */
  add(bits: BitSet, state: number): boolean {
    const h = (bits.hash ^ Math.imul(state + 1, 0x9e3779b1)) >>> 0;
    let bucket = this.buckets.get(h);
    if (bucket === undefined) {
      bucket = [];
      this.buckets.set(h, bucket);
    }
    for (const seen of bucket) if (seen.state === state && sameWords(seen.words, bits.words)) return false;
    bucket.push({ words: bits.words.slice(), state });
    return true;
  }
}

function sameWords(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
