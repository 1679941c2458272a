// tier: quick (npm run test:quick; docs/TESTING.md)
// Tests of the compaction policy (a pure function of the run list).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_FAN_IN, MIN_FAN_IN, pickFull, pickTiered } from './compaction_policy.js';
import type { Pick, RunSlot } from './compaction_policy.js';
import { MAX_LEVEL } from './run_format.js';

const slotsArb = fc.array(
  fc.record({ level: fc.integer({ min: 0, max: 4 }), busy: fc.boolean(), tombstones: fc.integer({ min: 0, max: 2 }) }),
  { maxLength: 40 },
);

function checkSlice(runs: readonly RunSlot[], start: number, end: number, fanIn: number, minRuns: number): void {
  assert.ok(start >= 0 && end <= runs.length && end - start >= minRuns && end - start <= fanIn, `slice [${start}, ${end})`);
  for (let i = start; i < end; i++) assert.equal(runs[i]?.busy, false, 'busy run picked');
}

// Checks: every pick is a contiguous slice of free runs of size 2..fanIn;
// a tiered pick happens exactly when some level has >= fanIn free runs, and
// takes a level's oldest adjacent same-level runs when they exist. How:
// random run lists with levels, busy flags and fan-ins.
test('tiered picks are adjacent free runs, triggered by a full level', () => {
  fc.assert(
    fc.property(slotsArb, fc.integer({ min: 2, max: 8 }), (runs, fanIn) => {
      const pick = pickTiered(runs, fanIn);
      const counts = new Map<number, number>();
      for (const r of runs) if (!r.busy) counts.set(r.level, (counts.get(r.level) ?? 0) + 1);
      const full = [...counts.values()].some((n) => n >= fanIn);
      if (pick === undefined) {
        // Only when, for each full level, its oldest free run has no free newer neighbour.
        for (const [level, n] of counts) {
          if (n < fanIn) continue;
          const oldest = runs.findLastIndex((r) => !r.busy && r.level === level);
          assert.ok(oldest === 0 || runs[oldest - 1]?.busy === true, `level ${level} is full but nothing was picked`);
        }
        return;
      }
      assert.ok(full, 'picked without a full level');
      checkSlice(runs, pick.start, pick.end, fanIn, 2);
      const levels = runs.slice(pick.start, pick.end).map((r) => r.level);
      assert.ok(pick.outputLevel > Math.min(...levels) || pick.outputLevel === 63);
    }),
    { seed: 42, numRuns: 2000 },
  );
});

// Checks: with levels ascending by age and nothing busy, tiering keeps
// levels ascending, and merges exactly the fanIn oldest runs of the lowest
// full level. How: simulate flushes and compactions, assert after each.
test('tiering keeps levels ordered by age', () => {
  const fanIn = 3;
  let runs: RunSlot[] = [];
  for (let flush = 0; flush < 200; flush++) {
    runs = [{ level: 0, busy: false, tombstones: 0 }, ...runs];
    for (let pick = pickTiered(runs, fanIn); pick !== undefined; pick = pickTiered(runs, fanIn)) {
      assert.equal(pick.end - pick.start, fanIn);
      const out = { level: pick.outputLevel, busy: false, tombstones: 0 };
      runs = [...runs.slice(0, pick.start), out, ...runs.slice(pick.end)];
    }
    for (let i = 1; i < runs.length; i++) assert.ok((runs[i - 1]?.level ?? 0) <= (runs[i]?.level ?? 0), 'levels out of order');
    assert.ok(runs.length <= (fanIn - 1) * 6, `run count ${runs.length}`);
  }
});

// Checks: a full pick ends at the oldest run, and stops when one run
// without tombstones is left. How: random run lists.
test('full picks end at the oldest run', () => {
  fc.assert(
    fc.property(slotsArb, fc.integer({ min: 2, max: 8 }), (runs, fanIn) => {
      const pick = pickFull(runs, fanIn);
      const oldest = runs[runs.length - 1];
      if (pick === undefined) {
        assert.ok(oldest === undefined || oldest.busy || runs[runs.length - 2]?.busy !== false || runs.length === 1);
        if (runs.length === 1 && oldest !== undefined && !oldest.busy) assert.equal(oldest.tombstones, 0);
        return;
      }
      assert.equal(pick.end, runs.length);
      checkSlice(runs, pick.start, pick.end, fanIn, 1);
    }),
    { seed: 42, numRuns: 2000 },
  );
});

// Checks: both pickers take a fan-in from MIN_FAN_IN to MAX_FAN_IN and refuse
// (AssertionError naming it) one outside: a fan-in of 1 would "compact" a
// run into itself forever. How: the limits and one past each, on no runs.
test('a fan-in outside MIN_FAN_IN..MAX_FAN_IN is refused by both pickers', () => {
  for (const pick of [pickFull, pickTiered]) {
    assert.equal(pick([], MIN_FAN_IN), undefined);
    assert.equal(pick([], MAX_FAN_IN), undefined);
    assert.throws(() => pick([], MIN_FAN_IN - 1), new RegExp(`fan-in ${MIN_FAN_IN - 1}`));
    assert.throws(() => pick([], MAX_FAN_IN + 1), new RegExp(`fan-in ${MAX_FAN_IN + 1}`));
  }
});

/**
 * The policy as its doc comments state it, written out the long way (no
 * shared helper with compaction_policy.ts), to compare picks exactly.
 */
function freeAt(runs: readonly RunSlot[], i: number): boolean {
  return i >= 0 && i < runs.length && runs[i]?.busy === false;
}

function expectedFull(runs: readonly RunSlot[], fanIn: number): Pick | undefined {
  const end = runs.length;
  if (!freeAt(runs, end - 1)) return undefined;
  let start = end - 1;
  while (end - start < fanIn && freeAt(runs, start - 1)) start -= 1;
  const slice = runs.slice(start, end);
  if (slice.length === 1 && slice[0]?.tombstones === 0) return undefined;
  return { start, end, outputLevel: Math.max(...slice.map((r) => r.level)) };
}

function expectedTiered(runs: readonly RunSlot[], fanIn: number): Pick | undefined {
  const levels = [...new Set(runs.filter((r) => !r.busy).map((r) => r.level))].sort((a, b) => a - b);
  for (const level of levels) {
    const sameLevel = (i: number): boolean => freeAt(runs, i) && runs[i]?.level === level;
    if (runs.filter((_, i) => sameLevel(i)).length < fanIn) continue;
    // The oldest maximal stretch of free runs of this level that holds fanIn: its fanIn oldest.
    for (let last = runs.length - 1; last >= 0; last--) {
      if (!sameLevel(last) || sameLevel(last + 1)) continue;
      let first = last;
      while (sameLevel(first - 1)) first -= 1;
      if (last - first + 1 >= fanIn) return { start: last + 1 - fanIn, end: last + 1, outputLevel: Math.min(MAX_LEVEL, level + 1) };
    }
    // Else up to fanIn free runs of any level, ending at the level's oldest free run.
    let end = runs.length;
    while (end > 0 && !sameLevel(end - 1)) end -= 1;
    let start = end - 1;
    while (end - start < fanIn && freeAt(runs, start - 1)) start -= 1;
    if (end - start >= 2) {
      const top = Math.max(...runs.slice(start, end).map((r) => r.level));
      return { start, end, outputLevel: Math.min(MAX_LEVEL, top + 1) };
    }
  }
  return undefined;
}

// Checks: both pickers choose exactly the slice their doc comments describe,
// boundaries included: a single free run left at the end is compacted only
// when it holds tombstones (also when newer runs are busy), a stretch one
// short of the fan-in is not a segment, the output level is capped at
// MAX_LEVEL. How: a long-hand oracle compared with every pick on random run
// lists (levels near 0 and near MAX_LEVEL, busy runs, tombstones), plus the
// edge cases written out.
test('pickFull and pickTiered pick exactly what their specification says', () => {
  const levelArb = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: MAX_LEVEL - 1, max: MAX_LEVEL }));
  const runsArb = fc.array(fc.record({ level: levelArb, busy: fc.boolean(), tombstones: fc.integer({ min: 0, max: 1 }) }), { maxLength: 24 });
  fc.assert(
    fc.property(runsArb, fc.integer({ min: MIN_FAN_IN, max: 6 }), (runs, fanIn) => {
      assert.deepStrictEqual(pickFull(runs, fanIn), expectedFull(runs, fanIn));
      assert.deepStrictEqual(pickTiered(runs, fanIn), expectedTiered(runs, fanIn));
    }),
    { seed: 7, numRuns: 2000 },
  );
  const run = (level: number, busy: boolean, tombstones: number): RunSlot => ({ level, busy, tombstones });
  // The oldest run alone behind a busy one: nothing to do without tombstones, a one-run pick with them.
  assert.equal(pickFull([run(0, true, 0), run(0, false, 0)], 4), undefined);
  assert.deepStrictEqual(pickFull([run(0, true, 0), run(2, false, 1)], 4), { start: 1, end: 2, outputLevel: 2 });
  assert.equal(pickFull([run(0, false, 0), run(0, true, 0)], 4), undefined);
  // The fan-in bounds the slice from the oldest end.
  assert.deepStrictEqual(pickFull([run(0, false, 0), run(1, false, 0), run(3, false, 0)], 2), { start: 1, end: 3, outputLevel: 3 });
  // Tiered: fanIn - 1 same-level runs do nothing; fanIn do; the level after MAX_LEVEL is MAX_LEVEL.
  assert.equal(pickTiered([run(1, false, 0), run(1, false, 0)], 3), undefined);
  assert.deepStrictEqual(pickTiered([run(1, false, 0), run(1, false, 0), run(1, false, 0)], 3), { start: 0, end: 3, outputLevel: 2 });
  assert.deepStrictEqual(pickTiered([run(MAX_LEVEL, false, 0), run(MAX_LEVEL, false, 0)], 2), { start: 0, end: 2, outputLevel: MAX_LEVEL });
});
