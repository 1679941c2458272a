// Linearizability checker for histories of the key-value API (put, get,
// delete, list) against the sequential reference model's semantics
// (testing/model.ts): is there one total order of the operations, each
// placed at a point inside its [call, ret] interval, in which every result
// is what the model would have answered?
//
// References:
// - J. M. Wing and C. Gong, "Testing and verifying concurrent objects",
//   Journal of Parallel and Distributed Computing 17(1-2), 1993.
// - G. Lowe, "Testing for linearizability", Concurrency and Computation:
//   Practice and Experience 29(4), 2017.
// - A. Athalye, Porcupine, a fast linearizability checker in Go
//   (github.com/anishathalye/porcupine): P-compositionality, per-key
//   partitions.
//
// Strategy:
// - History format: one KvOperation per operation with its interval
//   (history.ts). Values are compared by SHA-256 digest; each distinct
//   digest becomes a small integer state.
// - Linearizability is local (Herlihy & Wing): a history is linearizable
//   iff each key's sub-history is. put/get/delete touch one key, so the
//   history is split by key and each part is searched on its own
//   (key_search.ts: Wing & Gong with Lowe's cache).
// - list spans keys. It is projected onto every key the history mentions
//   that lies in the list's window (prefix, startAfter, and up to the last
//   key returned when truncated): on each such key it becomes a read that
//   saw the key present (returned) or absent (not returned), at some point
//   of the list's interval. This is a sound relaxation: a real
//   linearization places the list at ONE point, the projection lets each
//   key pick its own. So a violation found is real, but a list that is
//   not a snapshot across keys (saw k2's put but missed k1's earlier put)
//   is not caught. The shape of a list result (order, prefix, startAfter,
//   limit, truncated) is checked directly.
// - Outcome unknown (IO error, in flight at a crash): the operation may
//   take effect at one point in [call, ret] or never (ret = Infinity after
//   an IO error; the crash time for a crash). A failed get or list says
//   nothing and is dropped.
// - Budget: one step and time allowance shared by all keys; when it runs
//   out the answer is 'unknown'. A violation is then explained: the
//   shortest prefix of the key's history that still violates (histories
//   are prefix-closed), then greedily: drop reads and turn completed
//   writes into unknown-outcome writes while the violation remains. Both
//   moves only relax the history, so what is left is still a proof.
//
// Invariants:
// 1. 'violation' only when the search refuted every order (no false alarm
//    from the budget or the list projection).
// 2. The check never runs past budgetMs + explainBudgetMs (clock read
//    every 256 steps) or past maxSteps search steps.
// 3. Malformed histories (ret before call, output not fitting the input,
//    duplicate ids) throw RangeError: they are harness bugs, not verdicts.
import { MAX_LIST_LIMIT } from '../../src/store/types.js';
import { formatKey, formatOperation, valueDigest } from './history.js';
import type { KvInput, KvOperation, KvOutput } from './history.js';
import { ABSENT, Budget, searchKey } from './key_search.js';
import type { KeyOp, KeyStep } from './key_search.js';

export interface CheckOptions {
  /** Time for the search over all keys (default 10 s). */
  readonly budgetMs?: number;
  /** Search steps over all keys (default 2,000,000; bounds memory too). */
  readonly maxSteps?: number;
  /** Extra time to minimize the explanation of a violation (default 1 s). */
  readonly explainBudgetMs?: number;
  /** Contents before the history began (default: empty). */
  readonly initial?: ReadonlyArray<{ readonly key: Buffer; readonly value: Buffer }>;
}

export interface Violation {
  readonly key: Buffer;
  /** Operations whose results no order explains together (minimized). */
  readonly ops: readonly KvOperation[];
  /** Writes kept as context, taken as may-or-may-not have taken effect. */
  readonly context: readonly KvOperation[];
  readonly message: string;
}

export interface CheckStats {
  readonly operations: number;
  readonly partitions: number;
  readonly steps: number;
  readonly elapsedMs: number;
}

export type CheckResult =
  | { readonly outcome: 'ok'; readonly stats: CheckStats }
  | { readonly outcome: 'violation'; readonly violation: Violation; readonly stats: CheckStats }
  | { readonly outcome: 'unknown'; readonly reason: string; readonly stats: CheckStats };

export const DEFAULT_BUDGET_MS = 10_000;
export const DEFAULT_MAX_STEPS = 2_000_000;
export const DEFAULT_EXPLAIN_BUDGET_MS = 1_000;
/** Search steps for one trial while minimizing an explanation. */
const EXPLAIN_TRIAL_STEPS = 100_000;
/** Context lines printed in a violation message. */
const MAX_CONTEXT_LINES = 12;

/** One operation's projection onto one key. */
interface PartOp extends KeyOp {
  readonly source: KvOperation;
}

/** Decide whether `history` is linearizable; see the header. */
export function checkLinearizable(history: readonly KvOperation[], options: CheckOptions = {}): CheckResult {
  const startMs = performance.now();
  validateHistory(history);
  const budget = new Budget(options.maxSteps ?? DEFAULT_MAX_STEPS, startMs + (options.budgetMs ?? DEFAULT_BUDGET_MS));
  const values = new ValueIds();
  const initial = new Map<string, number>();
  for (const { key, value } of options.initial ?? []) initial.set(key.toString('latin1'), values.id(value));
  const parts = [...partition(history, initial, values)].sort(([ka, a], [kb, b]) => a.length - b.length || compareStrings(ka, kb));
  const stats = (): CheckStats => ({
    operations: history.length,
    partitions: parts.length,
    steps: budget.steps,
    elapsedMs: performance.now() - startMs,
  });
  for (const op of history) {
    const shape = listShapeViolation(op);
    if (shape !== undefined) return { outcome: 'violation', violation: shape, stats: stats() };
  }
  for (const [index, [key, ops]] of parts.entries()) {
    const init = initial.get(key) ?? ABSENT;
    const outcome = searchKey(ops, init, budget);
    if (outcome === 'violation') {
      const violation = explain(key, ops, init, performance.now() + (options.explainBudgetMs ?? DEFAULT_EXPLAIN_BUDGET_MS));
      return { outcome: 'violation', violation, stats: stats() };
    }
    if (outcome === 'unknown') {
      const reason = `budget exhausted after ${budget.steps} steps on key ${formatKey(keyBuffer(key))} (${ops.length} ops; ${index} of ${parts.length} keys done)`;
      return { outcome: 'unknown', reason, stats: stats() };
    }
  }
  return { outcome: 'ok', stats: stats() };
}

/** Each distinct value digest as a small integer > 0 (0 is ABSENT). */
class ValueIds {
  private readonly ids = new Map<string, number>();

  id(value: Buffer): number {
    const digest = valueDigest(value);
    let id = this.ids.get(digest);
    if (id === undefined) {
      id = this.ids.size + 1;
      this.ids.set(digest, id);
    }
    return id;
  }
}

// ---- Validation ------------------------------------------------------------

const OUTPUTS: Readonly<Record<KvInput['kind'], readonly KvOutput['kind'][]>> = {
  put: ['ok', 'unknown'],
  get: ['value', 'not-found', 'unknown'],
  delete: ['ok', 'not-found', 'unknown'],
  list: ['keys', 'unknown'],
};

function validateHistory(history: readonly KvOperation[]): void {
  const ids = new Set<number>();
  for (const op of history) {
    const where = `history: operation #${op.id}`;
    if (ids.has(op.id)) throw new RangeError(`${where}: duplicate id`);
    ids.add(op.id);
    if (!Number.isFinite(op.call) || !(op.call < op.ret)) throw new RangeError(`${where}: interval [${op.call}, ${op.ret}] is not call < ret`);
    if (op.ret === Infinity && op.output.kind !== 'unknown') throw new RangeError(`${where}: only an unknown outcome may have ret = Infinity`);
    if (!OUTPUTS[op.input.kind].includes(op.output.kind)) throw new RangeError(`${where}: ${op.input.kind} cannot return ${op.output.kind}`);
    const limit = op.input.kind === 'list' ? op.input.limit : undefined;
    if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 1)) throw new RangeError(`${where}: list limit ${limit}`);
  }
}

// ---- Partition by key --------------------------------------------------------

function partition(history: readonly KvOperation[], initial: ReadonlyMap<string, number>, values: ValueIds): Map<string, PartOp[]> {
  const parts = new Map<string, PartOp[]>();
  const add = (key: string, op: PartOp): void => {
    const part = parts.get(key);
    if (part === undefined) parts.set(key, [op]);
    else part.push(op);
  };
  const universe = new Set<string>(initial.keys());
  for (const op of history) {
    const step = singleKeyStep(op.input, op.output, values);
    if (step !== undefined) add(step.key, { call: op.call, ret: op.ret, step: step.step, source: op });
    if (op.input.kind !== 'list') universe.add(op.input.key.toString('latin1'));
    if (op.output.kind === 'keys') for (const k of op.output.keys) universe.add(k.toString('latin1'));
  }
  const keys = [...universe].sort(compareStrings);
  for (const op of history) {
    if (op.input.kind !== 'list' || op.output.kind !== 'keys') continue;
    const returned = new Set(op.output.keys.map((k) => k.toString('latin1')));
    const window = listWindow(op.input, op.output);
    for (const key of keys) {
      if (!window(key)) continue;
      const step: KeyStep = returned.has(key) ? { kind: 'present' } : { kind: 'read', expect: ABSENT };
      add(key, { call: op.call, ret: op.ret, step, source: op });
    }
  }
  return parts;
}

function singleKeyStep(input: KvInput, output: KvOutput, values: ValueIds): { key: string; step: KeyStep } | undefined {
  if (input.kind === 'list') return undefined;
  const key = input.key.toString('latin1');
  const maybe = output.kind === 'unknown';
  switch (input.kind) {
    case 'put':
      return { key, step: { kind: 'put', value: values.id(input.value), maybe } };
    case 'delete':
      return { key, step: output.kind === 'not-found' ? { kind: 'read', expect: ABSENT } : { kind: 'delete', maybe } };
    case 'get':
      if (output.kind === 'value') return { key, step: { kind: 'read', expect: values.id(output.value) } };
      return output.kind === 'not-found' ? { key, step: { kind: 'read', expect: ABSENT } } : undefined;
  }
}

/** The keys a list result speaks about: matching its arguments and, when truncated, not past the last one returned. */
function listWindow(input: Extract<KvInput, { kind: 'list' }>, output: Extract<KvOutput, { kind: 'keys' }>): (key: string) => boolean {
  const prefix = input.prefix?.toString('latin1') ?? '';
  const after = input.startAfter?.toString('latin1');
  const last = output.keys.at(-1)?.toString('latin1');
  const upTo = output.truncated ? last : undefined;
  // latin1 strings hold one byte per UTF-16 unit, so string order is Buffer.compare order.
  return (key) => key.startsWith(prefix) && (after === undefined || key > after) && (upTo === undefined || key <= upTo);
}

function listShapeViolation(op: KvOperation): Violation | undefined {
  if (op.input.kind !== 'list' || op.output.kind !== 'keys') return undefined;
  const { prefix, startAfter } = op.input;
  const limit = Math.min(op.input.limit ?? MAX_LIST_LIMIT, MAX_LIST_LIMIT);
  const keys = op.output.keys;
  const fail = (key: Buffer | undefined, why: string): Violation => ({
    key: key ?? Buffer.alloc(0),
    ops: [op],
    context: [],
    message: `list result malformed: ${why}\n  ${formatOperation(op)}`,
  });
  if (keys.length > limit) return fail(keys[limit], `returned ${keys.length} keys, limit ${limit}`);
  if (op.output.truncated && keys.length < limit) return fail(undefined, `truncated with ${keys.length} keys, fewer than the limit ${limit}`);
  for (const [i, key] of keys.entries()) {
    const prev = keys[i - 1];
    if (prev !== undefined && Buffer.compare(prev, key) >= 0) return fail(key, `${formatKey(key)} not in ascending order`);
    if (prefix !== undefined && !key.subarray(0, prefix.length).equals(prefix)) return fail(key, `${formatKey(key)} lacks the prefix`);
    if (startAfter !== undefined && Buffer.compare(key, startAfter) <= 0) return fail(key, `${formatKey(key)} not after startAfter`);
  }
  return undefined;
}

// ---- Explanation -------------------------------------------------------------

/** Minimize a violating sub-history (see Strategy) and describe it. */
function explain(key: string, ops: readonly PartOp[], initial: number, deadlineMs: number): Violation {
  const violates = (candidate: readonly PartOp[]): boolean =>
    searchKey(candidate, initial, new Budget(EXPLAIN_TRIAL_STEPS, deadlineMs)) === 'violation';
  let current = shortestViolatingPrefix(ops, violates);
  for (let i = current.length - 1; i >= 0 && performance.now() < deadlineMs; i--) {
    const op = current[i];
    if (op === undefined) continue;
    const relaxed = relax(op);
    if (relaxed === op) continue;
    const candidate = relaxed === undefined ? current.filter((_, j) => j !== i) : current.map((o, j) => (j === i ? relaxed : o));
    if (violates(candidate)) current = candidate;
  }
  const isContext = (op: PartOp): boolean => (op.step.kind === 'put' || op.step.kind === 'delete') && op.step.maybe;
  const essential = current.filter((op) => !isContext(op));
  const context = current.filter(isContext);
  return {
    key: keyBuffer(key),
    ops: essential.map((op) => op.source),
    context: context.map((op) => op.source),
    message: describe(key, essential, context, initial),
  };
}

/** Histories are prefix-closed: find the earliest return time whose prefix already violates. */
function shortestViolatingPrefix(ops: readonly PartOp[], violates: (ops: readonly PartOp[]) => boolean): readonly PartOp[] {
  const times = [...new Set(ops.map((op) => op.ret).filter((t) => Number.isFinite(t)))].sort((a, b) => a - b);
  let best = ops;
  let lo = 0;
  let hi = times.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const prefix = prefixAt(ops, times[mid] ?? Infinity);
    if (violates(prefix)) {
      best = prefix;
      hi = mid - 1;
    } else {
      lo = mid + 1;
    }
  }
  return best;
}

/** The history as seen at time t: later calls gone, pending reads gone, pending writes of unknown outcome. */
function prefixAt(ops: readonly PartOp[], t: number): PartOp[] {
  const out: PartOp[] = [];
  for (const op of ops) {
    if (op.call > t) continue;
    if (op.ret <= t) out.push(op);
    else if (op.step.kind === 'put' || op.step.kind === 'delete') out.push({ ...op, ret: Infinity, step: { ...op.step, maybe: true } });
  }
  return out;
}

/** A weaker version of op: undefined to drop a read, the same op when nothing is weaker. */
function relax(op: PartOp): PartOp | undefined {
  switch (op.step.kind) {
    case 'read':
    case 'present':
      return undefined;
    case 'put':
    case 'delete':
      return op.step.maybe ? op : { ...op, step: { ...op.step, maybe: true } };
  }
}

function describe(key: string, essential: readonly PartOp[], context: readonly PartOp[], initial: number): string {
  const byCall = (a: PartOp, b: PartOp): number => a.call - b.call || a.source.id - b.source.id;
  const line = (op: PartOp): string => {
    const probe = op.source.input.kind === 'list' ? ` (saw ${formatKey(keyBuffer(key))} ${op.step.kind === 'present' ? 'present' : 'absent'})` : '';
    return `  ${formatOperation(op.source)}${probe}`;
  };
  const start = initial === ABSENT ? 'absent' : 'present';
  const lines = [`not linearizable on key ${formatKey(keyBuffer(key))} (initially ${start}): no order of these operations explains their results:`];
  lines.push(...[...essential].sort(byCall).map(line));
  if (context.length > 0) {
    lines.push('given these writes, each of which may or may not have taken effect:');
    // The latest writes are nearest the violation: show those.
    const shown = [...context].sort(byCall).slice(-MAX_CONTEXT_LINES);
    if (context.length > shown.length) lines.push(`  ... ${context.length - shown.length} earlier ones, then`);
    lines.push(...shown.map(line));
  }
  return lines.join('\n');
}

function keyBuffer(key: string): Buffer {
  return Buffer.from(key, 'latin1');
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
