// Node crash consistency: whole-node dirty reboots during a bulk remove or
// create, during an import, while a disk is being taken out and while one
// is out of service (kept out across the restart or not), with one disk's
// writes held in flight so a crash can fall between the two disks' group
// commits. Checks persistence against the batch's one Dependency,
// atomicity, that a disk returning after a crash has all its shards, that
// scrub finds nothing damaged after any crash, and forward progress at
// clean restarts (testing/node_crash.ts). Fixed seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkNodeCrash, reportNodeCrash } from './node_crash.js';

const SEQUENCES = Number(process.env['NODE_CRASH_RUNS'] ?? 200);

void test(`node crash consistency holds over ${SEQUENCES} sequences with whole-node crashes`, async () => {
  const details = await checkNodeCrash({ seed: 4243, numRuns: SEQUENCES });
  assert.equal(details.failed, false, reportNodeCrash(details));
});
