// tier: quick (npm run test:quick; docs/TESTING.md)
// The closed-loop load driver shared by `shardstore bench` and `npm run
// bench`. Checks its invariants (closed_loop.ts): never more than inFlight
// operations outstanding, each index issued once, the operation budget and
// keepGoing obeyed, a failure either failing the loop (no onError) or
// counted apart from successes (onError). How: operations that settle on
// later turns of the event loop (no timers), with counters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closedLoop, percentile } from './closed_loop.js';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

void test('at most inFlight outstanding, each index once, the budget obeyed, bytes summed', async () => {
  let outstanding = 0;
  let most = 0;
  const seen: number[] = [];
  const workers = new Set<number>();
  const r = await closedLoop({
    inFlight: 4,
    durationMs: 600_000,
    maxOps: 101,
    op: async (i, w) => {
      outstanding++;
      most = Math.max(most, outstanding);
      seen.push(i);
      workers.add(w);
      for (let k = 0; k < i % 3; k++) await turn();
      outstanding--;
      return 10;
    },
  });
  assert.deepEqual([r.ops, r.errors, r.bytes, most], [101, 0, 1010, 4]);
  assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: 101 }, (_, i) => i));
  assert.deepEqual([...workers].sort(), [0, 1, 2, 3]);
  assert.ok(r.p50Ms <= r.p99Ms);
});

void test('keepGoing stops the workers', async () => {
  let issued = 0;
  const r = await closedLoop({ inFlight: 3, durationMs: 600_000, keepGoing: () => issued < 20, op: async () => (issued++, await turn(), 1) });
  assert.equal(r.ops, 20);
});

void test('without onError a failure fails the loop and no worker issues another; with it, failures are counted apart', async () => {
  let issuedAfter = 0;
  let failedYet = false;
  await assert.rejects(
    closedLoop({
      inFlight: 2,
      durationMs: 600_000,
      maxOps: 1000,
      op: async (i) => {
        if (failedYet) issuedAfter++;
        await turn();
        if (i === 5) {
          failedYet = true;
          throw new Error('op 5 failed');
        }
        return 1;
      },
    }),
    /op 5 failed/,
  );
  assert.ok(issuedAfter <= 1, `${issuedAfter} operations issued after the failure`);
  const failures: unknown[] = [];
  const latencies = new Float64Array(100);
  const r = await closedLoop({
    inFlight: 2,
    durationMs: 600_000,
    maxOps: 50,
    latencies,
    op: async (i) => {
      await turn();
      if (i % 5 === 0) throw new Error(`op ${i}`);
      return 2;
    },
    onError: (err) => failures.push(err),
  });
  assert.deepEqual([r.ops, r.errors, r.bytes, failures.length], [40, 10, 80, 10]);
});

void test('percentile picks the q-quantile of sorted samples, 0 when empty', () => {
  const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1);
  assert.deepEqual([percentile(sorted, 0.5), percentile(sorted, 0.99), percentile(sorted, 1), percentile(new Float64Array(0), 0.5)], [51, 100, 100, 0]);
});
