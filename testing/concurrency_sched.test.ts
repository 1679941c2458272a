// tier: quick (npm run test:quick; docs/TESTING.md)
// Checks the deterministic scheduler (testing/concurrency/scheduler.ts) and
// its policies. How: run the same scenario (clients doing SimDisk IO,
// yields and timer sleeps) twice from one token and compare every decision
// and every observed event; show that PCT finds a depth-2 ordering bug that
// uniform random scheduling practically never hits; build a two-task
// latch deadlock and expect it reported with its token; and pin down the
// fake clock, failure, step-limit and token-format behaviour.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimScheduler } from './concurrency/scheduler.js';
import type { RunReport } from './concurrency/scheduler.js';
import { formatSchedule, parseSchedule } from './concurrency/schedule_policy.js';
import { SimDisk } from './sim_disk.js';

const PAGE = 4096;

/** Three clients writing, reading, sleeping and flushing on one SimDisk; returns what they saw. */
async function ioScenario(token: string): Promise<{ report: RunReport; events: string[] }> {
  const sched = new SimScheduler(token);
  const disk = new SimDisk({ sizeBytes: 16 * PAGE, pageSizeBytes: PAGE, scheduler: sched.ioScheduler });
  const rng = sched.rng('data');
  const events: string[] = [];
  for (let c = 0; c < 3; c++) {
    sched.spawn(`client${c}`, async (ctx) => {
      for (let i = 0; i < 4; i++) {
        const offset = rng.int(0, 3) * PAGE;
        const writing = disk.write(offset, Buffer.alloc(PAGE, c + 1));
        const reading = disk.read(offset, PAGE); // in flight together: completion order decides what it sees
        await writing;
        events.push(`c${c} read ${offset}: ${(await reading)[0]}`);
        await ctx.yield();
        if (i % 2 === 0) {
          await sched.clock.sleep(rng.int(1, 20));
          events.push(`c${c} woke at ${sched.clock.nowMs()}`);
        }
        await disk.flush();
      }
    });
  }
  return { report: await sched.run(), events };
}

void test('same token, same interleaving: decisions and observations replay exactly', async () => {
  for (const token of ['random:seed=7', 'pct:d=3:k=60:seed=7']) {
    const first = await ioScenario(token);
    const second = await ioScenario(token);
    assert.equal(first.report.outcome, 'ok', first.report.message);
    assert.ok(first.report.steps > 30, `only ${first.report.steps} decisions`);
    assert.deepEqual(second.report.decisions, first.report.decisions);
    assert.deepEqual(second.events, first.events);
    assert.equal(second.report.nowMs, first.report.nowMs);
  }
  // Different seeds explore different interleavings.
  const runs = await Promise.all([1, 2, 3, 4, 5].map(async (seed) => (await ioScenario(`random:seed=${seed}`)).report.decisions.join('|')));
  assert.ok(new Set(runs).size >= 4, 'seeds should give different schedules');
});

/**
 * The writer makes a torn state visible for exactly one scheduling point,
 * after 15 steps of other work; the reader runs one step. The bug needs
 * two orderings (writer's step 16 before the reader, the reader before
 * the writer's step 17): depth 2. Uniform random hits it with probability
 * 2^-17; PCT with d=2, k=20 with about 1/(2*20).
 */
async function raceFound(token: string): Promise<boolean> {
  const sched = new SimScheduler(token);
  let torn = false;
  let seen = false;
  sched.spawn('writer', async (ctx) => {
    for (let i = 0; i < 15; i++) await ctx.yield();
    torn = true;
    await ctx.yield();
    torn = false;
    for (let i = 0; i < 3; i++) await ctx.yield();
  });
  sched.spawn('reader', () => {
    if (torn) seen = true;
    return Promise.resolve();
  });
  const report = await sched.run();
  assert.equal(report.outcome, 'ok', report.message);
  return seen;
}

void test('PCT finds a depth-2 ordering bug that random scheduling misses', async (t) => {
  const TRIES = 300;
  const pctHits: string[] = [];
  let randomHits = 0;
  for (let seed = 0; seed < TRIES; seed++) {
    const token = formatSchedule({ policy: 'pct', depth: 2, steps: 20, seed });
    if (await raceFound(token)) pctHits.push(token);
    if (await raceFound(`random:seed=${seed}`)) randomHits++;
  }
  t.diagnostic(`in ${TRIES} schedules: pct found it ${pctHits.length} times (first: ${pctHits[0] ?? 'none'}), random ${randomHits} times`);
  assert.ok(pctHits.length >= 1, 'pct never found the race');
  assert.ok(pctHits.length > randomHits);
  // The token of a finding replays it.
  const first = pctHits[0];
  assert.ok(first !== undefined);
  assert.equal(await raceFound(first), true);
  // Depth 1 (no change point) cannot: the priorities alone never split the writer's steps.
  for (let seed = 0; seed < 50; seed++) assert.equal(await raceFound(`pct:d=1:k=20:seed=${seed}`), false);
});

void test('PCT with depth 1 runs the highest-priority task until it blocks', async () => {
  const sched = new SimScheduler('pct:d=1:k=10:seed=3');
  for (const name of ['a', 'b', 'c']) {
    sched.spawn(name, async (ctx) => {
      for (let i = 0; i < 3; i++) await ctx.yield();
    });
  }
  const report = await sched.run();
  assert.equal(report.outcome, 'ok');
  const order = report.decisions.map((d) => d.split(' ')[1]).join('');
  assert.match(order, /^(a{4}|b{4}|c{4}){3}$/, order);
});

interface Latch {
  readonly wait: Promise<void>;
  open(): void;
}

function latch(): Latch {
  let open = (): void => {};
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

void test('stall detection: two tasks waiting on each other are a deadlock, reported with the token', async () => {
  const token = 'pct:d=2:k=10:seed=5';
  const run = async (): Promise<RunReport> => {
    const sched = new SimScheduler(token);
    const a = latch();
    const b = latch();
    sched.spawn('alice', async (ctx) => {
      await ctx.yield();
      await b.wait;
      a.open();
    });
    sched.spawn('bob', async () => {
      await a.wait;
      b.open();
    });
    return sched.run();
  };
  const report = await run();
  assert.equal(report.outcome, 'deadlock');
  assert.deepEqual([...report.blocked].sort(), ['alice', 'bob']);
  assert.ok(report.message.includes(token), report.message);
  assert.deepEqual((await run()).decisions, report.decisions);
});

void test('waiting on pending IO or a timer is not a deadlock', async () => {
  const sched = new SimScheduler('random:seed=1');
  const disk = new SimDisk({ sizeBytes: 4 * PAGE, pageSizeBytes: PAGE, scheduler: sched.ioScheduler });
  const done = latch();
  sched.spawn('writer', async () => {
    await disk.write(0, Buffer.alloc(PAGE, 9));
    await disk.flush();
    done.open();
  });
  sched.spawn('waiter', async () => {
    await done.wait;
    await sched.clock.sleep(1000);
  });
  const report = await sched.run();
  assert.equal(report.outcome, 'ok', report.message);
  assert.equal(report.nowMs, 1000);
  assert.equal(disk.peek(0, 1, 'durable')[0], 9);
});

void test('the fake clock fires timers in due order and only moves when one fires', async () => {
  const sched = new SimScheduler('random:seed=2');
  const fired: string[] = [];
  sched.spawn('sleeper', async () => {
    const start = sched.clock.nowMs();
    await Promise.all([
      sched.clock.sleep(30).then(() => fired.push(`30@${sched.clock.nowMs()}`)),
      sched.clock.sleep(10).then(() => fired.push(`10@${sched.clock.nowMs()}`)),
      sched.clock.sleep(20).then(() => fired.push(`20@${sched.clock.nowMs()}`)),
    ]);
    fired.push(`start ${start}`);
  });
  assert.equal((await sched.run()).outcome, 'ok');
  assert.deepEqual(fired, ['10@10', '20@20', '30@30', 'start 0']);
});

/** Does the timer fire before the write completes? */
async function timerFirst(token: string, timers: 'any' | 'idle'): Promise<boolean> {
  const sched = new SimScheduler(token, { timers });
  const disk = new SimDisk({ sizeBytes: 4 * PAGE, pageSizeBytes: PAGE, scheduler: sched.ioScheduler });
  const order: string[] = [];
  sched.spawn('t', async () => {
    await Promise.all([disk.write(0, Buffer.alloc(PAGE)).then(() => order.push('io')), sched.clock.sleep(5).then(() => order.push('timer'))]);
  });
  assert.equal((await sched.run()).outcome, 'ok');
  return order[0] === 'timer';
}

void test("timers compete with IO ('any') or wait for idle ('idle')", async () => {
  const any = await Promise.all(Array.from({ length: 20 }, (_, seed) => timerFirst(`random:seed=${seed}`, 'any')));
  assert.ok(any.includes(true) && any.includes(false), 'both orders should occur');
  const idle = await Promise.all(Array.from({ length: 20 }, (_, seed) => timerFirst(`random:seed=${seed}`, 'idle')));
  assert.ok(!idle.includes(true));
});

void test('a failing task, a livelock and a misused yield are reported, never hung', async () => {
  const failing = new SimScheduler('random:seed=4');
  failing.spawn('ok', async (ctx) => ctx.yield());
  failing.spawn('boom', async (ctx) => {
    await ctx.yield();
    throw new Error('invariant broken');
  });
  const failed = await failing.run();
  assert.equal(failed.outcome, 'failed');
  assert.match(failed.message, /boom failed under random:seed=4 .*invariant broken/);

  const spinning = new SimScheduler('pct:d=2:k=5:seed=4', { maxSteps: 50 });
  spinning.spawn('spin', async (ctx) => {
    for (;;) await ctx.yield();
  });
  const spun = await spinning.run();
  assert.equal(spun.outcome, 'step-limit');
  assert.equal(spun.steps, 50);

  const misuse = new SimScheduler('random:seed=4');
  misuse.spawn('double', async (ctx) => {
    await Promise.all([ctx.yield(), ctx.yield()]);
  });
  const misused = await misuse.run();
  assert.equal(misused.outcome, 'failed');
  assert.match(misused.message, /one yield at a time/);
});

void test('schedule tokens: round trip, rejection of bad ones, one run per scheduler', async () => {
  for (const token of ['random:seed=0', 'random:seed=123', 'pct:d=3:k=200:seed=123']) assert.equal(formatSchedule(parseSchedule(token)), token);
  for (const bad of ['', 'pct:d=0:k=10:seed=1', 'pct:d=2:k=0:seed=1', 'random:seed=-1', 'random:seed=1.5', 'bfs:seed=1']) {
    assert.throws(() => parseSchedule(bad), RangeError, bad);
  }
  const sched = new SimScheduler({ policy: 'pct', depth: 3, steps: 200, seed: 123 });
  assert.equal(sched.token, 'pct:d=3:k=200:seed=123');
  assert.equal((await sched.run()).outcome, 'ok');
  await assert.rejects(sched.run(), /runs once/);
  // Random streams handed out are fixed by the token.
  assert.equal(new SimScheduler('random:seed=9').rng('x').nextU32(), new SimScheduler('random:seed=9').rng('x').nextU32());
});
