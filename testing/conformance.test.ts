// Conformance: the engine (DiskStore on a simulated disk with tiny extents
// and cache) against the reference model, over random operation sequences
// of 50-80 operations (testing/conformance.ts), for a fixed range of seeds
// of the `conformance` suite of `shardstore check` (10 sequences a seed).
// A failure is shrunk and printed with the token that replays it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conformanceSuite, SEQUENCES_PER_SEED } from './check/conformance_suite.js';
import { runSeeds } from './suite_runner.js';

const SEQUENCES = Number(process.env['CONFORMANCE_RUNS'] ?? 2000);

test(`engine conforms to the model over ${SEQUENCES} random sequences of 50-80 operations`, async () => {
  // Each sequence mixes put/get/read/head/delete/list with commit, index
  // flush, compaction, reclamation, checkpoints and clean reboots; every
  // result and the full listing after every step are compared with the model.
  const outcome = await runSeeds(conformanceSuite, 1_000_000, Math.ceil(SEQUENCES / SEQUENCES_PER_SEED));
  assert.equal(outcome.failure, undefined, outcome.failure);
  assert.ok(outcome.counters.sequences >= SEQUENCES);
  assert.ok(outcome.counters.operations >= 50 * SEQUENCES);
});
