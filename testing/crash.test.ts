// Crash consistency: random sequences of the conformance alphabet plus
// DirtyReboot(kind) (unflushed writes dropped, kept, a subset, or torn at
// page granularity; optionally after an index flush; optionally while a put,
// commit, index flush, compaction or reclamation is in flight), checked for
// persistence, atomicity and forward progress (testing/crash.ts). Fixed
// seed; a failure shows the minimized sequence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkCrash } from './crash.js';
import { formatOps } from './ops.js';

const SEQUENCES = Number(process.env['CRASH_RUNS'] ?? 400);

test(`crash consistency holds over ${SEQUENCES} random sequences with dirty reboots`, async () => {
  const details = await checkCrash({ seed: 4242, numRuns: SEQUENCES });
  const ce = details.counterexample?.[0];
  const message = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  assert.equal(details.failed, false, `seed ${details.seed} path ${details.counterexamplePath ?? '-'}\n${message}\n${ce === undefined ? '' : formatOps(ce)}`);
});
