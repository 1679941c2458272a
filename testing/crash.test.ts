// Crash consistency: random sequences of the conformance alphabet plus
// DirtyReboot(kind) (unflushed writes dropped, kept, a subset, or torn at
// page granularity; optionally after an index flush; optionally while a put,
// commit, index flush, compaction, reclamation or checkpoint is in flight),
// checked for persistence, atomicity and forward progress
// (testing/crash.ts). Fixed seeds of the `crash` suite of `shardstore
// check`; a failure prints its replay token and minimized sequence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crashSuite } from './check/crash_suite.js';
import { SEQUENCES_PER_SEED } from './check/sequence_suite.js';
import { runSeeds } from './suite_runner.js';
import fc from 'fast-check';
import { SMALL_CONFIG } from './conformance.js';
import { reordersIos, runCrashSequence } from './crash.js';
import { crashOpArb } from './ops.js';

const SEQUENCES = Number(process.env['CRASH_RUNS'] ?? 400);

test(`crash consistency holds over ${SEQUENCES} random sequences with dirty reboots`, async () => {
  const outcome = await runSeeds(crashSuite, 2_000_000, Math.ceil(SEQUENCES / SEQUENCES_PER_SEED));
  assert.equal(outcome.failure, undefined, outcome.failure);
  assert.ok(outcome.counters.crashStates > SEQUENCES / 2, `only ${outcome.counters.crashStates} crash states`);
});

test('a quarter of the crash sequences run on a disk that completes IOs late, and it does', async () => {
  // reordersIos picks by a hash of the operations; the harness's disk then
  // holds one IO in five for 1-8 turns (crash.ts, reorderedCompletions).
  // Fails if the choice is never made, or made for every sequence, or the
  // disk it makes completes everything at once.
  const counters = { crashStates: 0, operations: 0, faultsInjected: 0, lateIos: 0 };
  const sequences = fc.sample(fc.array(crashOpArb(SMALL_CONFIG), { minLength: 20, maxLength: 60 }), { seed: 7, numRuns: 40 });
  const reordered = sequences.filter((ops) => reordersIos(ops));
  assert.ok(reordered.length >= 4 && reordered.length <= 20, `${reordered.length} of 40 sequences reorder`);
  for (const [i, ops] of reordered.slice(0, 4).entries()) assert.equal(await runCrashSequence(ops, SMALL_CONFIG, 7000 + i, counters), undefined);
  assert.ok(counters.crashStates > 0);
  assert.ok(counters.lateIos > 0, 'no IO completed late');
});
