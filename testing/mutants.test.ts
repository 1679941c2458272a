// Evidence that the checks work: each deliberately broken variant of the
// engine (testing/mutants/) must be caught by the check named for it within
// a fixed budget of sequences, with a fixed seed. A check that misses one
// fails this test. Prints how long each took to catch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkConformance, reportConformance } from './conformance.js';
import { checkCrash, checkFaults } from './crash.js';
import { FAULT_MUTANTS } from './mutants/fault_mutants.js';
import { CRASH_MUTANTS } from './mutants/crash_mutants.js';
import { ENGINE_MUTANTS, indexIgnoresTombstones } from './mutants/engine_mutants.js';
import type { Mutant } from './mutants/mutant.js';

const BUDGET_SEQUENCES = 1500;

function check(mutant: Mutant): ReturnType<typeof checkConformance> {
  const options = { seed: 7, numRuns: BUDGET_SEQUENCES, shrink: false };
  if (mutant.caughtBy === 'crash') return checkCrash(options);
  if (mutant.caughtBy === 'faults') return checkFaults(options);
  return checkConformance(options);
}

for (const mutant of [...ENGINE_MUTANTS, ...CRASH_MUTANTS, ...FAULT_MUTANTS].filter((m) => m.caughtBy !== 'concurrency')) {
  test(`${mutant.caughtBy} check catches mutant ${mutant.name} (${mutant.bugClass})`, async () => {
    const restore = mutant.install();
    const started = performance.now();
    let details;
    try {
      details = await check(mutant);
    } finally {
      restore();
    }
    const ms = Math.round(performance.now() - started);
    assert.equal(details.failed, true, `${mutant.name} survived ${BUDGET_SEQUENCES} sequences`);
    console.log(`# ${mutant.name}: caught after ${details.numRuns} sequences, ${ms} ms \n# ${reportConformance(details).split('\n').slice(1, 2).join('')}`);
  });
}

test('a failing sequence is minimized to a few readable operations', async () => {
  // With the tombstone mutant installed, fast-check shrinks the first
  // failing sequence (50+ operations long) down to the handful that show
  // the bug: a put, a commit or flush that moves it into the index, and a
  // delete whose effect is lost.
  const restore = indexIgnoresTombstones.install();
  let details;
  try {
    details = await checkConformance({ seed: 11, numRuns: BUDGET_SEQUENCES, minLength: 1 });
  } finally {
    restore();
  }
  assert.equal(details.failed, true);
  const shrunk = details.counterexample?.[0] ?? [];
  assert.ok(shrunk.length <= 8, `minimized to ${shrunk.length} operations:\n${reportConformance(details)}`);
  assert.ok(shrunk.some((o) => o.op === 'put') && shrunk.some((o) => o.op === 'delete'), reportConformance(details));
  console.log(`# minimized to ${shrunk.length} operations:\n${reportConformance(details).replace(/^/gm, '# ')}`);
});
