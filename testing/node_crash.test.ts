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
import { nodeCrashSuite } from './check/node_suites.js';

const SEQUENCES = Number(process.env['NODE_CRASH_RUNS'] ?? 200);

void test(`node crash consistency holds over ${SEQUENCES} sequences with whole-node crashes`, async () => {
  const details = await checkNodeCrash({ seed: 4243, numRuns: SEQUENCES });
  assert.equal(details.failed, false, reportNodeCrash(details));
});

// A legitimate crash state fsck once called a problem: a whole-node crash
// tore copy 1 of the newest checkpoint while copy 0 of it was durable (the
// copies are written one after the other). Recovery reads copy 0; fsck of
// the stopped disk reported "copy 1 is damaged", and the suite, which
// requires fsck to find no problem after any crash, failed. Found by
// `shardstore check --time 10m --workers 2 --seed 20261208` (seeds 20261473
// and 20261666); fsck now warns (src/tools/fsck.ts, checkSlots).
const TORN_COPY_1_OF_NEWEST =
  'node-crash:20261473:2:3:0:1:5:5:10:10:5:8:7:6:6:6:8:8:6:6:6:7:10:13:13:15:16:5:16:15:17:16:15:6:7:6:6:6:6:6:6:6:6:6:6:6:6:6:6:6:15:17:20:16:19:20:25:25:32:32:32:38:38:38:40:53:12:51:50:51:51:50:50:51:51:51:56:48:49:56:57:57:57:59:58:58:59:58:58:55:55:54:55:55:55:55:55:56:56:58:58:59:59:59:59:61:60:62:65:66:71:71';

void test('a crash that tears the second-written copy of the newest checkpoint is not a problem for fsck', async () => {
  const outcome = await nodeCrashSuite.replay(TORN_COPY_1_OF_NEWEST);
  assert.equal(outcome.failure, undefined, outcome.failure?.message);
});
