// Conformance: the engine (DiskStore on a simulated disk with tiny extents
// and cache) against the reference model, over random operation sequences
// with fixed seeds. fast-check shrinks a failing sequence; the message
// shows the minimized sequence and the seed/path that replays it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkConformance, reportConformance } from './conformance.js';

const SEQUENCES = Number(process.env['CONFORMANCE_RUNS'] ?? 2000);

test(`engine conforms to the model over ${SEQUENCES} random sequences of 50-80 operations`, async () => {
  // Each sequence mixes put/get/read/head/delete/list with commit, index
  // flush, compaction and clean reboots; every result and the full listing
  // after every step are compared with the model.
  const details = await checkConformance({ seed: 20261126, numRuns: SEQUENCES });
  assert.equal(details.failed, false, reportConformance(details));
  assert.equal(details.numRuns, SEQUENCES);
});
