// The collector never deletes data that a durable record still names: a
// change of an object (an overwrite, a delete) waits for its durability
// under the object's lock (Core.writeDurably; docs/S3.md, "Ordering",
// rule 3), so a collector pass for the key, scheduled meanwhile, waits for
// it.
//
// Strategy: the episodes of testing/s3_crash_check.ts, fixed: an object
// made by a multipart upload whose one part lives on the other disk than
// its record; the record's disk holds its flushes; an overwrite (or a
// delete) is staged; the abort of a second upload of the key (or a part
// of it uploaded again) schedules the collector; the data's disk commits;
// the power is cut (each mode in turn for the overwrite).
//
// Invariant: the object reads whole (old or new, byte for byte), and the
// collector's pass waited on the lock ('blocked'). The broken variant
// s3-durable-after-unlock (the order before b869751, testing/mutants/
// collector_mutants.ts) is caught by the failure it must cause, the GET of
// the acknowledged object answering 503 (its record is back, its data was
// deleted), not by any failure: a harness error never counts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runEpisode } from './s3_crash_check.js';
import type { Episode } from './s3_crash_check.js';
import { CRASH_MODES } from './sim_disk.js';
import { s3DurableAfterUnlock } from './mutants/collector_mutants.js';
import { notCaughtBecause } from './mutants/mutant.js';

const SEED = 20261207;
const OVERWRITE: Episode = { shape: 'multipart-other-disk', change: 'put', trigger: 'abort-upload', hold: 'record-disk', mode: 'drop-all', simSeed: SEED };
const DELETE: Episode = { ...OVERWRITE, change: 'delete', trigger: 'replace-part' };

void test('a collector pass during a cross-disk overwrite waits for it: after a power cut the object reads whole, each crash mode', async () => {
  for (const mode of CRASH_MODES) {
    const outcome = await runEpisode({ ...OVERWRITE, mode });
    assert.deepEqual(outcome.violations, [], mode);
    assert.equal(outcome.collector, 'blocked', `${mode}: the abort and its collector pass wait for the overwrite's lock`);
  }
});

void test('a collector pass during a delete of a cross-disk object waits for it: after a power cut the object reads whole', async () => {
  const outcome = await runEpisode(DELETE);
  assert.deepEqual(outcome.violations, []);
  assert.equal(outcome.collector, 'blocked', 'the part uploaded again waits for the delete\'s lock');
});

for (const [what, episode] of [['overwrite', OVERWRITE], ['delete', DELETE]] as const) {
  void test(`the ${what} episode catches mutant ${s3DurableAfterUnlock.name} by the failure it must cause`, async () => {
    const restore = s3DurableAfterUnlock.install();
    let outcome;
    try {
      outcome = await runEpisode(episode);
    } finally {
      restore();
    }
    assert.equal(outcome.collector, 'collected', 'with the variant the collector runs while the change is not durable');
    assert.ok(outcome.violations.length > 0, `${s3DurableAfterUnlock.name} survived the ${what} episode`);
    assert.equal(notCaughtBecause(s3DurableAfterUnlock, outcome.violations.join('\n')), undefined);
    console.log(`# ${s3DurableAfterUnlock.name} (${what}): ${outcome.violations[0] ?? ''}`);
  });
}
