// The lifecycle check (testing/lifecycle_check.ts) on fixed seeds, and its
// two broken variants (testing/mutants/lifecycle_mutants.ts) each caught by
// the failure it names.
//
// Strategy: SEEDS episodes must pass and, summed, reach every kind of
// change the pass makes (a check that never expires anything proves
// nothing); each variant must then fail an episode within BUDGET_SEEDS by
// its `expect`, and the seeds before the catch pass without it (control).
// tier: quick (npm run test:quick; docs/TESTING.md)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runLifecycleEpisode } from './lifecycle_check.js';
import { notCaughtBecause } from './mutants/mutant.js';
import { LIFECYCLE_MUTANTS } from './mutants/lifecycle_mutants.js';

const SEEDS = 120;
const BUDGET_SEEDS = 60;

void test(`lifecycle check: ${SEEDS} episodes agree with the model and reach every kind of change`, async () => {
  const done = { expired: 0, noncurrentRemoved: 0, markersRemoved: 0, uploadsAborted: 0, overtaken: 0 };
  let races = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const outcome = await runLifecycleEpisode(seed);
    assert.deepEqual(outcome.violations, [], `seed ${seed}`);
    races += outcome.races;
    for (const k of Object.keys(done) as Array<keyof typeof done>) done[k] += outcome.done[k];
  }
  for (const [k, n] of Object.entries(done)) assert.ok(n > 0, `no episode reached ${k}: ${JSON.stringify(done)}`);
  assert.ok(races > 0);
  console.log(`# ${SEEDS} episodes, ${races} racing passes: ${JSON.stringify(done)}`);
});

for (const mutant of LIFECYCLE_MUTANTS) {
  void test(`lifecycle check catches mutant ${mutant.name} (${mutant.bugClass}) by ${String(mutant.expect)}`, async () => {
    const restore = mutant.install();
    let found: { seed: number; message: string } | undefined;
    try {
      for (let seed = 1; seed <= BUDGET_SEEDS && found === undefined; seed++) {
        const message = (await runLifecycleEpisode(seed)).violations[0];
        if (message !== undefined) found = { seed, message };
      }
    } finally {
      restore();
    }
    assert.ok(found !== undefined, `${mutant.name} survived ${BUDGET_SEEDS} seeds`);
    assert.equal(notCaughtBecause(mutant, found.message), undefined);
    for (let seed = 1; seed < found.seed; seed++) assert.deepEqual((await runLifecycleEpisode(seed)).violations, [], `seed ${seed} fails without ${mutant.name}`);
    console.log(`# ${mutant.name}: caught at seed ${found.seed}: ${found.message.slice(-160)}`);
  });
}
