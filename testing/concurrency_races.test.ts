// Issue 13's concurrency gaps (testing/concurrency/harness.ts,
// step_invariants.ts): cache coherence and the runs' extents checked at
// every scheduling point, background jobs of every kind overlapping, and
// reads in the turn a call returns.
//
// How: the two harnesses of overlapping jobs run clean over fixed
// schedules, and jobs did overlap there (more than one in flight at once);
// the per-step invariants stay quiet on every harness. Then each broken
// variant of testing/mutants/race_mutants.ts is run on the concurrency
// suite's own schedules (seeds from a fixed base, the runs of the harness
// that reaches its race), must fail by the property it breaks (its
// `expect`), and its token must replay that failure through the suite.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HARNESSES, runHarness } from './concurrency/harness.js';
import { SCHEDULES_PER_HARNESS, concurrencySuite, scheduleOf } from './check/concurrency_suite.js';
import { makeToken } from './check/suite.js';
import { RACE_MUTANTS } from './mutants/race_mutants.js';
import type { Mutant } from './mutants/mutant.js';

const BASE_SEED = 5_000_000;

void test('overlapping background jobs run clean, and do overlap', async () => {
  for (const name of ['jobs-overlap-index', 'jobs-overlap-data']) {
    const h = HARNESSES.find((x) => x.name === name);
    assert.ok(h !== undefined, name);
    let overlapped = 0;
    for (let i = 0; i < 6; i++) {
      const token = i % 2 === 0 ? `random:seed=${300 + i}` : `pct:d=3:k=300:seed=${300 + i}`;
      const result = await runHarness(h, token);
      assert.ok(result.ok, `${name} under ${token}: ${result.message}`);
      if (result.maxJobsInFlight > 1) overlapped++;
    }
    assert.ok(overlapped >= 3, `${name}: jobs overlapped in only ${overlapped} of 6 runs`);
  }
});

void test('every harness runs clean with the per-step invariants on', async () => {
  for (const h of HARNESSES) {
    for (const token of ['random:seed=41', 'pct:d=3:k=300:seed=42']) {
      const result = await runHarness(h, token);
      assert.ok(result.ok, `${h.name} under ${token}: ${result.message}`);
    }
  }
});

/** Where each variant's race is reached, and how many seeds of the suite it may take. */
const CASES: ReadonlyArray<{ mutant: Mutant; harness: string; seeds: number }> = RACE_MUTANTS.map((mutant) => ({
  mutant,
  harness: { 'cache-dropped-at-seal': 'reclaim-vs-put', 'compaction-output-reclaimed-before-recorded': 'jobs-overlap-index', 'bulk-create-answers-before-applied': 'bulk-create-vs-remove' }[mutant.name] ?? '',
  seeds: 40,
}));

for (const { mutant, harness, seeds } of CASES) {
  void test(`concurrency check catches mutant ${mutant.name} by its property (${mutant.bugClass}), and its token replays`, async () => {
    const expect = mutant.expect;
    assert.ok(expect !== undefined, `${mutant.name} names the failure it must cause`);
    const runs = HARNESSES.length * SCHEDULES_PER_HARNESS;
    const restore = mutant.install();
    try {
      const started = performance.now();
      let found: { token: string; message: string } | undefined;
      for (let seed = BASE_SEED; seed < BASE_SEED + seeds && found === undefined; seed++) {
        for (let index = 0; index < runs && found === undefined; index++) {
          const { harness: h, token } = scheduleOf(seed, index);
          if (h.name !== harness) continue;
          const result = await runHarness(h, token);
          if (!result.ok) found = { token: makeToken('concurrency', seed, String(index)), message: result.message };
        }
      }
      assert.ok(found !== undefined, `${mutant.name} survived ${seeds} seeds of ${harness}`);
      assert.match(found.message, expect, `${mutant.name} was caught, but not by the failure it must cause`);
      console.log(`# ${mutant.name}: caught by ${harness} as ${found.token}, ${Math.round(performance.now() - started)} ms: ${found.message.split('\n')[0] ?? ''}`);
      const again = await concurrencySuite.replay(found.token);
      assert.match(again.failure?.minimized ?? '', expect, `replay of ${found.token}`);
    } finally {
      restore();
    }
  });
}
