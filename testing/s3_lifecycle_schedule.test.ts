// The S3 front runs the lifecycle pass every lifecycleIntervalMs once
// started (`shardstore serve --s3-lifecycle-interval`), and never with 0.
//
// Strategy: node:test's mocked timers stand in for the interval (a virtual
// clock: nothing waits on real time). An object in a bucket whose rule has
// made it due long ago; the front is started; the object stays through a
// tick just short of the interval and event-loop turns, and is gone within
// turns of the tick that completes it. The same with interval 0: never.
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { silentLogger } from '../src/server/logger.js';
import { createBucket } from '../src/server/s3/buckets.js';
import { setLifecycle } from '../src/server/s3/lifecycle_ops.js';
import { commitObject, readObject } from '../src/server/s3/objects.js';
import { S3Front } from '../src/server/s3/s3_front.js';
import { ModelStore } from './model.js';

const INTERVAL_MS = 60_000;
const DAY_MS = 86_400_000;
/** Event-loop turns a pass over one object needs, with room to spare. */
const TURNS = 200;

async function frontWithDueObject(intervalMs: number): Promise<S3Front> {
  const nowMs = Date.UTC(2026, 5, 1);
  const front = new S3Front(new ModelStore(), { credentials: new Map(), now: () => nowMs, sweepOnStart: false, lifecycleIntervalMs: intervalMs }, silentLogger);
  await createBucket(front.core, 'sched', { existingIsError: false }, () => Promise.resolve());
  await setLifecycle(front.core, 'sched', [{ id: 'r', enabled: true, filter: { form: 'prefix', prefix: '', tags: [], sizeGreaterThan: undefined, sizeLessThan: undefined }, expiration: { kind: 'days', days: 1 }, noncurrent: undefined, abortAfterDays: undefined }]);
  const record = { sizeBytes: 1, mtimeMs: nowMs - 10 * DAY_MS, etag: 'e', contentType: '', headers: [], parts: [], inline: Buffer.from('x'), tags: [], uploadId: undefined };
  await commitObject(front.core, 'sched', Buffer.from('k'), record);
  return front;
}

async function presentAfterTurns(front: S3Front): Promise<boolean> {
  for (let turn = 0; turn < TURNS; turn++) await yieldToLoop();
  return (await readObject(front.core, 'sched', Buffer.from('k'))) !== undefined;
}

void test('start() runs the lifecycle pass every lifecycleIntervalMs; 0 never runs it', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const scheduled = await frontWithDueObject(INTERVAL_MS);
  const off = await frontWithDueObject(0);
  try {
    scheduled.start();
    off.start();
    t.mock.timers.tick(INTERVAL_MS - 1);
    assert.equal(await presentAfterTurns(scheduled), true, 'no pass before the interval');
    t.mock.timers.tick(1);
    assert.equal(await presentAfterTurns(scheduled), false, 'the pass ran at the interval and expired the object');
    t.mock.timers.tick(100 * INTERVAL_MS);
    assert.equal(await presentAfterTurns(off), true, 'interval 0: never');
  } finally {
    await scheduled.close();
    await off.close();
    mock.timers.reset();
  }
});
