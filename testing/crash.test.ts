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

const SEQUENCES = Number(process.env['CRASH_RUNS'] ?? 400);

test(`crash consistency holds over ${SEQUENCES} random sequences with dirty reboots`, async () => {
  const outcome = await runSeeds(crashSuite, 2_000_000, Math.ceil(SEQUENCES / SEQUENCES_PER_SEED));
  assert.equal(outcome.failure, undefined, outcome.failure);
  assert.ok(outcome.counters.crashStates > SEQUENCES / 2, `only ${outcome.counters.crashStates} crash states`);
});
