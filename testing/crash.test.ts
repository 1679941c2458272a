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
import { runCrashSequence } from './crash.js';
import { crashOpArb } from './ops.js';

const SEQUENCES = Number(process.env['CRASH_RUNS'] ?? 400);

test(`crash consistency holds over ${SEQUENCES} random sequences with dirty reboots`, async () => {
  const outcome = await runSeeds(crashSuite, 2_000_000, Math.ceil(SEQUENCES / SEQUENCES_PER_SEED));
  assert.equal(outcome.failure, undefined, outcome.failure);
  assert.ok(outcome.counters.crashStates > SEQUENCES / 2, `only ${outcome.counters.crashStates} crash states`);
});

test('crash sequences take the early-write path (io_scheduler.ts invariant 8), so their crash states cover it', async () => {
  // SMALL_CONFIG's earlyWriteBytes is below its largest chunk: data chunks
  // of larger puts go out early, smaller ones with their batch. Fails if the
  // option stops reaching the IO scheduler (then no crash state has an
  // early write in flight).
  const counters = { crashStates: 0, operations: 0, faultsInjected: 0, earlyWrites: 0 };
  const sequences = fc.sample(fc.array(crashOpArb(SMALL_CONFIG), { minLength: 20, maxLength: 60 }), { seed: 7, numRuns: 8 });
  for (const [i, ops] of sequences.entries()) assert.equal(await runCrashSequence(ops, SMALL_CONFIG, 7000 + i, counters), undefined);
  assert.ok(counters.crashStates > 0);
  assert.ok(counters.earlyWrites > 0, 'no write went out early');
});
