// The hang watch of `shardstore check` (testing/check/hang_watch.ts): it
// fires within a second on a seed that waits for something that can never
// come, names what was under way, and stays quiet while the world ticks or
// a timer is pending. The seed timeout stays below a run's time budget.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seedTimeoutFor } from './check/check_options.js';
import { raceHang } from './check/hang_watch.js';
import { activityMark, beginActivity, pendingActivities, tick } from './progress.js';

const hung = (message: string): string => message;

test('a seed waiting on a promise nothing will settle is a hang within a second, naming what was pending', async () => {
  const started = performance.now();
  const result = await raceHang(
    'demo seed 1',
    () => {
      beginActivity('step 3 of 9: {"op":"reclaim"}'); // never ended: the step hangs
      return new Promise<string>(() => undefined);
    },
    hung,
  );
  assert.match(result, /^hang: demo seed 1: no progress in the simulated world .* pending: step 3 of 9: \{"op":"reclaim"\}$/);
  assert.ok(performance.now() - started < 1_000, `took ${Math.round(performance.now() - started)} ms`);
});

test('a label given as a function is made only when what is pending is asked for, and ends with its activity', () => {
  const mark = activityMark();
  let made = 0;
  const end = beginActivity(() => `step ${++made} lazily`);
  assert.equal(made, 0, 'not made at begin');
  assert.deepEqual(pendingActivities(mark), ['step 1 lazily']);
  end();
  assert.deepEqual(pendingActivities(mark), []);
});

test('no hang while the world ticks, or while a timer could still wake it', async () => {
  // Ticks for 600 ms of idle turns: progress, not a hang.
  const ticking = raceHang(
    'ticking',
    () =>
      new Promise<string>((resolve) => {
        const until = performance.now() + 600;
        const turn = (): void => {
          tick();
          if (performance.now() < until) setImmediate(turn);
          else resolve('done');
        };
        setImmediate(turn);
      }),
    hung,
  );
  assert.equal(await ticking, 'done');
  // A pending timer of 600 ms: the world may still move (a real-clock sleep), so no hang.
  // eslint-disable-next-line no-restricted-syntax -- the subject is a real pending timer: the hang watch must not call it a hang
  const sleeping = raceHang('sleeping', () => new Promise<string>((resolve) => setTimeout(() => resolve('woke'), 600)), hung);
  assert.equal(await sleeping, 'woke');
});

test('the seed timeout is at most a quarter of a time budget (at least min(budget/2, 10 s)), always below it', () => {
  assert.equal(seedTimeoutFor(120_000, { kind: 'time', ms: 60_000 }), 15_000);
  assert.equal(seedTimeoutFor(120_000, { kind: 'time', ms: 600_000 }), 120_000);
  assert.equal(seedTimeoutFor(120_000, { kind: 'time', ms: 10_000 }), 5_000);
  assert.equal(seedTimeoutFor(5_000, { kind: 'time', ms: 60_000 }), 5_000);
  assert.equal(seedTimeoutFor(120_000, { kind: 'count', seeds: 3 }), 120_000);
  for (const ms of [1, 999, 20_000, 45_000, 3_600_000]) assert.ok(seedTimeoutFor(120_000, { kind: 'time', ms }) < ms, `budget ${ms} ms`);
});
