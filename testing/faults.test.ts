// Fault injection: random sequences of the crash alphabet plus injected IO
// errors (next read / write / flush of an extent, permanent read errors)
// and bit flips in stored data. After a fault a call may fail with a typed
// error, but never returns wrong bytes, and nothing unaffected is lost at
// the next recovery (testing/crash.ts, invariants 5 and 6). Fixed seeds of
// the `faults` suite of `shardstore check`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { faultsSuite } from './check/faults_suite.js';
import { SEQUENCES_PER_SEED } from './check/sequence_suite.js';
import { runSeeds } from './suite_runner.js';

const SEQUENCES = Number(process.env['FAULT_RUNS'] ?? 400);

test(`no wrong bytes and nothing unaffected lost over ${SEQUENCES} sequences with injected faults`, async () => {
  const outcome = await runSeeds(faultsSuite, 3_000_000, Math.ceil(SEQUENCES / SEQUENCES_PER_SEED));
  assert.equal(outcome.failure, undefined, outcome.failure);
  assert.ok(outcome.counters.faultsInjected > SEQUENCES / 2, `only ${outcome.counters.faultsInjected} faults injected`);
});
