// Node conformance: the control plane joins the conformance alphabet. A
// ShardNode of two simulated disks and the reference ModelNode run the same
// random sequences (single-disk operations plus bulk create/remove, disks
// out of and back in service, paginated and partial listings, scrub,
// stats, export compared byte for byte, import whole, cut short or
// damaged); every result is compared, and the listings after every step
// (testing/node_conformance.ts). Fixed seed; a failure prints the shrunk
// sequence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkNodeConformance, reportNode } from './node_conformance.js';

const SEQUENCES = Number(process.env['NODE_CONFORMANCE_RUNS'] ?? 150);

void test(`node conforms to the model over ${SEQUENCES} sequences with control-plane operations`, async () => {
  const details = await checkNodeConformance({ seed: 20261127, numRuns: SEQUENCES });
  assert.equal(details.failed, false, reportNode(details));
  assert.equal(details.numRuns, SEQUENCES);
});
