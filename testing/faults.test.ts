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

// Two crashes, no damage: the first tore copy 1 of a checkpoint slot (open
// repaired by rolling the log into the other slot, leaving that copy bad),
// the second tore copy 0 of the same slot on its next write, and open
// refused with "slot damaged in both copies". Found by `shardstore check
// --time 10m --seed 20261205`; the superblock now writes a slot's bad copy
// first (src/superblock/superblock.ts, write()).
const TWO_CRASHES_ONE_SLOT = 'faults:20261221:8:3:9:11:15:9:12:14:14:14:14:17:19:19:34:30:31:29:29:31:31:19:19:19:19:19:19:19:19:19:19:19';

test('two crashes that each tear one copy of the same checkpoint slot never leave it bad in both', async () => {
  const outcome = await faultsSuite.replay(TWO_CRASHES_ONE_SLOT);
  assert.equal(outcome.failure, undefined, outcome.failure?.message);
});
