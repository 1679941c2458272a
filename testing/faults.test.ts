// Fault injection: random sequences of the crash alphabet plus injected IO
// errors (next read / write / flush of an extent, permanent read errors)
// and bit flips in stored data. After a fault a call may fail with a typed
// error, but never returns wrong bytes, and nothing unaffected is lost at
// the next recovery (testing/crash.ts, invariants 5 and 6). Fixed seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkFaults } from './crash.js';
import { formatOps } from './ops.js';

const SEQUENCES = Number(process.env['FAULT_RUNS'] ?? 400);

test(`no wrong bytes and nothing unaffected lost over ${SEQUENCES} sequences with injected faults`, async () => {
  const details = await checkFaults({ seed: 777, numRuns: SEQUENCES });
  const ce = details.counterexample?.[0];
  const message = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  assert.equal(details.failed, false, `seed ${details.seed} path ${details.counterexamplePath ?? '-'}\n${message}\n${ce === undefined ? '' : formatOps(ce)}`);
});
