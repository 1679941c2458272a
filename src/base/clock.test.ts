import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sleepOrAbort, systemClock } from './clock.js';
import type { Clock } from './clock.js';

function timers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
}

void test("the system clock's sleepOrAbort ends at the abort with its timer cleared", async () => {
  // A host-space idle wait cut short by close must leave no timer that
  // keeps the process alive (testing/first_hour.test.ts checks the whole
  // server; this checks the clock alone). The abort comes before the
  // sleep could end; a timer left behind holds the run for 1 s, no more.
  const before = timers();
  const wake = new AbortController();
  const slept = sleepOrAbort(systemClock, 1_000, wake.signal);
  assert.equal(timers(), before + 1, 'the sleep holds a timer');
  wake.abort();
  assert.equal(await slept, false, 'an aborted sleep says so');
  assert.equal(timers(), before, 'the aborted sleep left its timer behind');
  assert.equal(await sleepOrAbort(systemClock, 1_000, wake.signal), false, 'a sleep on an aborted signal ends at once');
  assert.equal(timers(), before);
});

void test('sleepOrAbort on a clock without it: the sleep, or the abort, whichever comes first', async () => {
  let wakeSleep = (): void => undefined;
  const clock: Clock = { nowMs: () => 0, sleep: () => new Promise((resolve) => (wakeSleep = resolve)) };
  const ran = sleepOrAbort(clock, 10, new AbortController().signal);
  wakeSleep();
  assert.equal(await ran, true);
  const wake = new AbortController();
  const cut = sleepOrAbort(clock, 10, wake.signal);
  wake.abort();
  assert.equal(await cut, false);
});
