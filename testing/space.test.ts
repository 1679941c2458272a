// The space check (testing/space.ts) on fixed seeds: no failure on the
// engine, the full disk really reached (puts waited for room), and each
// broken variant of making room (testing/mutants/space_mutants.ts)
// caught by the failure it must cause.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSequences, reportSequences } from './sequences.js';
import { formatOps } from './ops.js';
import { runSpaceSequence, spaceSequenceArb } from './space.js';
import type { CrashCounters } from './crash.js';
import { SPACE_MUTANTS } from './mutants/space_mutants.js';
import { notCaughtBecause } from './mutants/mutant.js';

const SEED = 20261207;

function counters(): CrashCounters {
  return { crashStates: 0, operations: 0, faultsInjected: 0, roomWaits: 0, spaceRefusals: 0 };
}

void test('overwrites filling a small disk: no failure, and puts waited for room', { timeout: 120_000 }, async (t) => {
  const c = counters();
  const details = await checkSequences(spaceSequenceArb(), (seq) => runSpaceSequence(seq, SEED, c), { seed: SEED, numRuns: 16 });
  assert.ok(!details.failed, reportSequences(details, formatOps));
  t.diagnostic(JSON.stringify(c));
  // Not vacuous: the disk filled (puts waited for reclamation) and crashes happened.
  assert.ok((c.roomWaits ?? 0) >= 16, `only ${c.roomWaits} puts waited for room in 16 sequences: the suite no longer fills its disk`);
  assert.ok(c.crashStates >= 16, `only ${c.crashStates} crash states`);
});

for (const mutant of SPACE_MUTANTS) {
  void test(`space check catches mutant ${mutant.name} (${mutant.bugClass})`, { timeout: 120_000 }, async () => {
    const restore = mutant.install();
    try {
      const details = await checkSequences(spaceSequenceArb(), (seq) => runSpaceSequence(seq, SEED), { seed: SEED, numRuns: 200, shrink: false });
      assert.ok(details.failed, `mutant ${mutant.name} survived 200 sequences`);
      const message = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
      const why = notCaughtBecause(mutant, message, details.errorInstance);
      assert.equal(why, undefined, why);
    } finally {
      restore();
    }
  });
}
