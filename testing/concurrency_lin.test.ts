// Checks the linearizability checker (testing/concurrency/linearizability.ts).
// How: (1) histories recorded from real executions against the sequential
// ModelStore, each operation applied at a random point inside its interval
// (with IO failures, late effects and crashes), must all be accepted;
// (2) hand-built broken histories (stale read, value never put, lost
// delete, puts read out of order, list of a deleted key, ...) must be
// rejected with a minimal explanation; (3) on small random single-key
// histories the checker must agree with a brute-force enumeration of all
// orders; (4) the budget turns a pathological history into 'unknown'
// quickly; (5) the time on 1,000-operation histories is reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NotFoundError } from '../src/base/index.js';
import { HistoryRecorder, formatOperation } from './concurrency/history.js';
import type { KvInput, KvOperation, KvOutput } from './concurrency/history.js';
import { checkLinearizable } from './concurrency/linearizability.js';
import type { CheckResult } from './concurrency/linearizability.js';
import { ModelStore } from './model.js';
import { Rng } from './rng.js';

// ---- Building histories by hand ------------------------------------------------

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const put = (key: string, value: string): KvInput => ({ kind: 'put', key: b(key), value: b(value) });
const get = (key: string): KvInput => ({ kind: 'get', key: b(key) });
const del = (key: string): KvInput => ({ kind: 'delete', key: b(key) });
const list = (prefix?: string): KvInput => ({ kind: 'list', ...(prefix === undefined ? {} : { prefix: b(prefix) }) });
const OK: KvOutput = { kind: 'ok' };
const NF: KvOutput = { kind: 'not-found' };
const UNKNOWN: KvOutput = { kind: 'unknown' };
const val = (value: string): KvOutput => ({ kind: 'value', value: b(value) });
const keys = (...ks: string[]): KvOutput => ({ kind: 'keys', keys: ks.map(b), truncated: false });

/** Operations given as [call, ret, input, output]; ids and clients in order. */
function history(...ops: Array<[number, number, KvInput, KvOutput]>): KvOperation[] {
  return ops.map(([call, ret, input, output], id) => ({ id, clientId: id, call, ret, input, output }));
}

function expectViolation(result: CheckResult, key: string, essential: number[], context?: number[]): void {
  assert.equal(result.outcome, 'violation', `expected a violation, got ${JSON.stringify(result)}`);
  if (result.outcome !== 'violation') return;
  const v = result.violation;
  assert.equal(v.key.toString('latin1'), key, v.message);
  assert.deepEqual(v.ops.map((o) => o.id).sort((x, y) => x - y), essential, v.message);
  if (context !== undefined) assert.deepEqual(v.context.map((o) => o.id).sort((x, y) => x - y), context, v.message);
  assert.match(v.message, /not linearizable|malformed/);
}

// ---- Generating real linearizable executions --------------------------------------

interface GenOptions {
  readonly clients: number;
  readonly ops: number;
  readonly keys: readonly string[];
  readonly failRate: number;
  readonly crashRate: number;
  readonly listRate: number;
}

interface InFlight {
  readonly id: number;
  readonly input: KvInput;
  readonly failing: boolean;
  output?: KvOutput;
}

function randomInput(rng: Rng, o: GenOptions): KvInput {
  const key = rng.pick(o.keys);
  const r = rng.float();
  if (r < o.listRate) {
    const prefix = rng.pick([undefined, 'a', 'b']);
    const limit = rng.bool(0.3) ? rng.int(1, 3) : undefined;
    const startAfter = rng.bool(0.2) ? rng.pick(o.keys) : undefined;
    return {
      kind: 'list',
      ...(prefix === undefined ? {} : { prefix: b(prefix) }),
      ...(limit === undefined ? {} : { limit }),
      ...(startAfter === undefined ? {} : { startAfter: b(startAfter) }),
    };
  }
  if (r < o.listRate + 0.35) return put(key, `v${rng.int(0, 5)}`);
  if (r < o.listRate + 0.55) return del(key);
  return get(key);
}

function listOptions(input: Extract<KvInput, { kind: 'list' }>): { prefix?: Buffer; startAfter?: Buffer; limit?: number } {
  return {
    ...(input.prefix === undefined ? {} : { prefix: input.prefix }),
    ...(input.startAfter === undefined ? {} : { startAfter: input.startAfter }),
    ...(input.limit === undefined ? {} : { limit: input.limit }),
  };
}

/** Apply one operation to the sequential model: this instant is its linearization point. */
async function apply(model: ModelStore, input: KvInput): Promise<KvOutput> {
  try {
    switch (input.kind) {
      case 'put':
        await model.put(input.key, input.value);
        return OK;
      case 'get':
        return { kind: 'value', value: await model.get(input.key) };
      case 'delete':
        await model.delete(input.key);
        return OK;
      case 'list': {
        const r = await model.list(listOptions(input));
        return { kind: 'keys', keys: r.shards.map((s) => s.key), truncated: r.truncated };
      }
    }
  } catch (err: unknown) {
    if (err instanceof NotFoundError) return NF;
    throw err;
  }
}

/**
 * Clients step at random: invoke, take effect on the model (or, for a
 * failing op, maybe never), respond. A failing op may also report its
 * failure first and take effect later; a crash drops every effect not yet
 * applied. So the recorded history is linearizable by construction.
 */
async function generate(seed: number, o: GenOptions): Promise<KvOperation[]> {
  const rng = new Rng(seed);
  const model = new ModelStore();
  const rec = new HistoryRecorder();
  const active = new Map<number, InFlight>();
  let late: KvInput[] = [];
  let issued = 0;
  while (issued < o.ops || active.size > 0) {
    if (rng.bool(o.crashRate)) {
      rec.crash();
      active.clear();
      late = [];
      continue;
    }
    if (late.length > 0 && rng.bool(0.2)) {
      const [effect] = late.splice(rng.int(0, late.length - 1), 1);
      if (effect !== undefined) await apply(model, effect);
    }
    const c = rng.int(0, o.clients - 1);
    const cur = active.get(c);
    if (cur === undefined) {
      if (issued >= o.ops) continue;
      issued++;
      const input = randomInput(rng, o);
      active.set(c, { id: rec.invoke(c, input), input, failing: rng.bool(o.failRate) });
    } else if (cur.output === undefined) {
      const skip = cur.failing && rng.bool(0.5);
      if (skip) {
        rec.fail(cur.id);
        active.delete(c);
        if (rng.bool(0.5)) late.push(cur.input);
      } else {
        cur.output = await apply(model, cur.input);
      }
    } else {
      if (cur.failing) rec.fail(cur.id);
      else rec.respond(cur.id, cur.output);
      active.delete(c);
    }
  }
  return rec.history();
}

const SMALL: GenOptions = { clients: 4, ops: 120, keys: ['a1', 'a2', 'a3', 'b1', 'b2', 'c'], failRate: 0.06, crashRate: 0.005, listRate: 0.15 };

void test('accepts histories of real executions with random linearization points', async () => {
  let unknowns = 0;
  let lists = 0;
  for (let seed = 1; seed <= 60; seed++) {
    const h = await generate(seed, SMALL);
    unknowns += h.filter((op) => op.output.kind === 'unknown').length;
    lists += h.filter((op) => op.input.kind === 'list').length;
    const result = checkLinearizable(h);
    assert.equal(result.outcome, 'ok', `seed ${seed}: ${result.outcome === 'violation' ? result.violation.message : JSON.stringify(result)}`);
  }
  // The generator really exercised the hard cases.
  assert.ok(unknowns > 100 && lists > 500, `unknowns ${unknowns}, lists ${lists}`);
});

// ---- Known violations ----------------------------------------------------------------

void test('rejects a stale read after a completed put, explaining it minimally', () => {
  const h = history([0, 1, put('k', 'A'), OK], [2, 3, put('k', 'B'), OK], [4, 5, get('k'), val('A')]);
  // put A can only be context (may or may not have taken effect): it must have done so before put B began.
  expectViolation(checkLinearizable(h), 'k', [1, 2], [0]);
  const absent = history([0, 1, put('k', 'A'), OK], [2, 3, get('k'), NF]);
  expectViolation(checkLinearizable(absent), 'k', [0, 1]);
});

void test('rejects a get of a value never put', () => {
  const h = history([0, 5, put('k', 'A'), OK], [1, 6, get('k'), val('Z')], [7, 8, get('other'), NF]);
  expectViolation(checkLinearizable(h), 'k', [1], [0]);
});

void test('rejects a lost delete', () => {
  const h = history([0, 1, put('k', 'A'), OK], [2, 3, del('k'), OK], [4, 5, get('k'), val('A')]);
  expectViolation(checkLinearizable(h), 'k', [1, 2], [0]);
  // Two deletes that both succeed with no put between them: one of them deleted nothing.
  const twice = history([0, 1, put('k', 'A'), OK], [2, 3, del('k'), OK], [4, 5, del('k'), OK]);
  expectViolation(checkLinearizable(twice), 'k', [1, 2], [0]);
});

void test('rejects two sequential puts read in the wrong order', () => {
  const h = history(
    [0, 1, put('k', 'A'), OK],
    [2, 3, put('k', 'B'), OK],
    [0, 10, get('k'), val('B')], // a concurrent reader sees B first...
    [11, 12, get('k'), val('A')], // ...then A: A would have to follow B
  );
  expectViolation(checkLinearizable(h), 'k', [1, 3], [0]);
  // The same reads, concurrent with both puts, are fine.
  const fine = history([0, 3, put('k', 'A'), OK], [1, 4, put('k', 'B'), OK], [0, 10, get('k'), val('B')], [11, 12, get('k'), val('A')]);
  assert.equal(checkLinearizable(fine).outcome, 'ok');
});

void test('rejects a list returning a key deleted before the list began', () => {
  const h = history([0, 1, put('a1', 'A'), OK], [0, 1, put('a2', 'B'), OK], [2, 3, del('a1'), OK], [4, 5, list('a'), keys('a1', 'a2')]);
  expectViolation(checkLinearizable(h), 'a1', [2, 3], [0]);
  // A list concurrent with the delete may still see the key.
  const racing = history([0, 1, put('a1', 'A'), OK], [2, 6, del('a1'), OK], [4, 5, list('a'), keys('a1')]);
  assert.equal(checkLinearizable(racing).outcome, 'ok');
  // And a list must not miss a key present for its whole interval.
  const missed = history([0, 1, put('a1', 'A'), OK], [0, 1, put('a2', 'B'), OK], [4, 5, list('a'), keys('a2')]);
  expectViolation(checkLinearizable(missed), 'a1', [0, 2]);
});

void test('rejects malformed list results and histories', () => {
  const unsorted = history([0, 1, put('a', '1'), OK], [0, 1, put('b', '2'), OK], [2, 3, list(), keys('b', 'a')]);
  expectViolation(checkLinearizable(unsorted), 'a', [2]);
  const prefix = history([0, 1, put('b', '2'), OK], [2, 3, list('a'), keys('b')]);
  expectViolation(checkLinearizable(prefix), 'b', [1]);
  const limited = history([0, 1, { kind: 'list', limit: 1 }, { kind: 'keys', keys: [b('a'), b('b')], truncated: false }]);
  assert.equal(checkLinearizable(limited).outcome, 'violation');
  assert.throws(() => checkLinearizable(history([3, 2, get('k'), NF])), RangeError);
  assert.throws(() => checkLinearizable(history([0, 1, get('k'), OK])), RangeError);
  assert.throws(() => checkLinearizable(history([0, Infinity, get('k'), NF])), RangeError);
});

// ---- Outcome unknown ------------------------------------------------------------------

void test('an unknown-outcome write may have taken effect, or not', () => {
  // Failed put, later read: it took effect (after the read that missed it).
  const tookEffect = history([0, Infinity, put('k', 'A'), UNKNOWN], [1, 2, get('k'), NF], [3, 4, get('k'), val('A')]);
  assert.equal(checkLinearizable(tookEffect).outcome, 'ok');
  // Failed put never seen: it did not.
  const didNot = history([0, 1, put('k', 'A'), OK], [2, Infinity, put('k', 'B'), UNKNOWN], [3, 4, get('k'), val('A')], [5, 6, get('k'), val('A')]);
  assert.equal(checkLinearizable(didNot).outcome, 'ok');
  // Unknown delete, both ways.
  const delGone = history([0, 1, put('k', 'A'), OK], [2, Infinity, del('k'), UNKNOWN], [3, 4, get('k'), NF]);
  const delKept = history([0, 1, put('k', 'A'), OK], [2, Infinity, del('k'), UNKNOWN], [3, 4, get('k'), val('A')]);
  assert.equal(checkLinearizable(delGone).outcome, 'ok');
  assert.equal(checkLinearizable(delKept).outcome, 'ok');
  // But it takes effect at most once: seen, then unseen, then seen again is impossible.
  const flicker = history([0, Infinity, put('k', 'A'), UNKNOWN], [1, 2, get('k'), val('A')], [3, 4, del('k'), OK], [5, 6, get('k'), val('A')]);
  // Minimal core: the successful delete proves the put took effect before it, so the last read is stale.
  expectViolation(checkLinearizable(flicker), 'k', [2, 3], [0]);
});

void test('an operation cut short by a crash takes effect before the crash or never', () => {
  const rec = new HistoryRecorder();
  const p = rec.invoke(0, put('k', 'A'));
  rec.crash(); // p: unknown, deadline = the crash
  rec.respond(rec.invoke(1, get('k')), NF);
  rec.respond(rec.invoke(1, get('k')), val('A'));
  const h = rec.history();
  assert.equal(h[p]?.ret, 2);
  expectViolation(checkLinearizable(h), 'k', [1, 2], [0]);
  // With no deadline (an IO error, not a crash) the same reads are fine.
  const noDeadline = h.map((op) => (op.id === p ? { ...op, ret: Infinity } : op));
  assert.equal(checkLinearizable(noDeadline).outcome, 'ok');
  // A failed get or list says nothing.
  const failedRead = history([0, 1, get('k'), UNKNOWN], [2, 3, list(), UNKNOWN]);
  assert.equal(checkLinearizable(failedRead).outcome, 'ok');
});

void test('initial contents are respected', () => {
  const h = history([0, 1, get('k'), val('A')], [2, 3, del('k'), OK]);
  assert.equal(checkLinearizable(h).outcome, 'violation');
  assert.equal(checkLinearizable(h, { initial: [{ key: b('k'), value: b('A') }] }).outcome, 'ok');
});

// ---- Agreement with brute force ---------------------------------------------------------

/** Is there an order (respecting a.ret < b.call) of the completed ops plus some unknown ones that replays? */
function bruteForce(ops: readonly KvOperation[]): boolean {
  const unknown = ops.filter((op) => op.output.kind === 'unknown');
  const known = ops.filter((op) => op.output.kind !== 'unknown');
  for (let mask = 0; mask < 1 << unknown.length; mask++) {
    const chosen = [...known, ...unknown.filter((_, i) => (mask >> i) & 1)];
    if (orders(chosen, undefined)) return true;
  }
  return false;
}

function orders(remaining: readonly KvOperation[], state: string | undefined): boolean {
  if (remaining.length === 0) return true;
  return remaining.some((op, i) => {
    if (remaining.some((other) => other.ret < op.call)) return false;
    const next = replay(op, state);
    return next !== null && orders(remaining.filter((_, j) => j !== i), next);
  });
}

/** The model, written out again independently of the checker: the next state (undefined: absent), or null if the result is impossible. */
function replay(op: KvOperation, state: string | undefined): string | undefined | null {
  const out = op.output;
  switch (op.input.kind) {
    case 'put':
      return op.input.value.toString('latin1');
    case 'get':
      if (out.kind === 'value') return out.value.toString('latin1') === state ? state : null;
      return state === undefined ? state : null;
    case 'delete':
      if (out.kind === 'unknown') return undefined;
      if (out.kind === 'ok') return state === undefined ? null : undefined;
      return state === undefined ? state : null;
    case 'list':
      return null;
  }
}

function randomSmallHistory(rng: Rng): KvOperation[] {
  const n = rng.int(1, 6);
  return Array.from({ length: n }, (_, id) => {
    const call = rng.int(0, 10);
    const ret = call + rng.int(1, 6);
    const kind = rng.pick(['put', 'get', 'delete'] as const);
    const value = rng.pick(['A', 'B']);
    const input: KvInput = kind === 'put' ? put('k', value) : kind === 'get' ? get('k') : del('k');
    const outputs: KvOutput[] = kind === 'put' ? [OK, UNKNOWN] : kind === 'get' ? [val('A'), val('B'), NF] : [OK, NF, UNKNOWN];
    const output = rng.pick(outputs);
    return { id, clientId: id, call, ret: output.kind === 'unknown' && rng.bool(0.5) ? Infinity : ret, input, output };
  });
}

void test('agrees with brute-force enumeration on small random histories', () => {
  const rng = new Rng('lin-brute-force');
  let violations = 0;
  for (let i = 0; i < 1500; i++) {
    const h = randomSmallHistory(rng);
    const expected = bruteForce(h);
    const got = checkLinearizable(h).outcome;
    assert.equal(got, expected ? 'ok' : 'violation', `history ${i}:\n${h.map(formatOperation).join('\n')}`);
    if (!expected) violations++;
  }
  assert.ok(violations > 200 && violations < 1300, `violations ${violations}: both answers must be exercised`);
});

// ---- Budget and scale ----------------------------------------------------------------------

void test('a pathological history gives unknown within the budget, not a hang', () => {
  // 40 mutually concurrent puts of distinct values, then a read of a value never put:
  // refuting it means visiting every subset of the puts (2^40 states).
  const ops: Array<[number, number, KvInput, KvOutput]> = [];
  for (let i = 0; i < 40; i++) ops.push([0, 100, put('k', `v${i}`), OK]);
  ops.push([101, 102, get('k'), val('never')]);
  const started = performance.now();
  const result = checkLinearizable(history(...ops), { budgetMs: 150 });
  const elapsedMs = performance.now() - started;
  assert.equal(result.outcome, 'unknown');
  assert.ok(elapsedMs < 1_000, `took ${elapsedMs} ms`);
  const bySteps = checkLinearizable(history(...ops), { maxSteps: 10_000 });
  assert.equal(bySteps.outcome, 'unknown');
  assert.equal(bySteps.stats.steps, 10_001);
});

void test('time on 1,000-operation histories (reported)', async (t) => {
  const spread = await generate(1000, { ...SMALL, clients: 8, ops: 1000, keys: ['a1', 'a2', 'a3', 'a4', 'b1', 'b2', 'b3', 'c1', 'c2', 'c3'] });
  const oneKey = await generate(1001, { ...SMALL, clients: 8, ops: 1000, keys: ['k'], listRate: 0.05, crashRate: 0 });
  for (const [name, h] of [['8 clients, 10 keys, lists, failures, crashes', spread], ['8 clients, one key', oneKey]] as const) {
    const result = checkLinearizable(h);
    assert.equal(result.outcome, 'ok', JSON.stringify(result.stats));
    t.diagnostic(`1,000-op history (${name}): ${result.stats.elapsedMs.toFixed(1)} ms, ${result.stats.steps} search steps, ${result.stats.partitions} partitions`);
    assert.ok(result.stats.elapsedMs < 5_000);
  }
  // The same history with one read corrupted is caught and explained.
  const victim = spread.findIndex((op) => op.input.kind === 'get' && op.output.kind === 'value' && op.id > 500);
  const broken = spread.map((op, i) => (i === victim ? { ...op, output: val('corrupted') } : op));
  const result = checkLinearizable(broken);
  assert.equal(result.outcome, 'violation');
  if (result.outcome === 'violation') {
    assert.ok(result.violation.ops.some((op) => op.id === spread[victim]?.id), result.violation.message);
    t.diagnostic(`corrupted read found in ${result.stats.elapsedMs.toFixed(1)} ms:\n${result.violation.message}`);
  }
});

void test('the recorder copies buffers and reports open operations as unknown', () => {
  const rec = new HistoryRecorder();
  const key = b('k');
  const value = b('A');
  const a = rec.invoke(0, { kind: 'put', key, value });
  key[0] = 0x7a;
  value[0] = 0x5a;
  rec.respond(a, OK);
  const g = rec.invoke(1, get('k'));
  rec.fail(g);
  rec.invoke(2, get('k'));
  const h = rec.history();
  assert.equal(h.length, 3);
  const first = h[0];
  assert.ok(first !== undefined && first.input.kind === 'put');
  assert.equal(first.input.key.toString(), 'k');
  assert.equal(first.input.value.toString(), 'A');
  assert.deepEqual(h.map((op) => [op.output.kind, op.ret]), [['ok', 2], ['unknown', Infinity], ['unknown', Infinity]]);
  assert.equal(rec.openCount, 1);
});
