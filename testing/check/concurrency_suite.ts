// The concurrency suite for `shardstore check`: the harnesses of
// testing/concurrency/harness.ts under random and PCT schedules. Each seed
// runs every harness under SCHEDULES_PER_HARNESS schedules derived from it;
// a failure's token names the seed and the schedule's index, and replays it.
import { HARNESSES, runHarness } from '../concurrency/harness.js';
import type { HarnessResult } from '../concurrency/harness.js';
import { emptyCounters, makeToken, parseToken } from './suite.js';
import type { SeedResult, Suite, SuiteCounters } from './suite.js';

export const SCHEDULES_PER_HARNESS = 2;

/** The schedule token of run `index` of `seed`: even indexes random, odd PCT with 3 priority change points. */
export function scheduleOf(seed: number, index: number): { harness: (typeof HARNESSES)[number]; token: string } {
  const harness = HARNESSES[index % HARNESSES.length] ?? HARNESSES[0];
  if (harness === undefined) throw new RangeError('no harness');
  const s = (Math.imul(seed, 0x9e3779b1) + index * 7919) >>> 0;
  const token = Math.floor(index / HARNESSES.length) % 2 === 0 ? `random:seed=${s}` : `pct:d=3:k=300:seed=${s}`;
  return { harness, token };
}

async function runOne(seed: number, index: number, counters: SuiteCounters): Promise<HarnessResult> {
  const { harness, token } = scheduleOf(seed, index);
  const result = await runHarness(harness, token);
  counters.sequences++;
  counters.operations += result.calls;
  counters.crashStates += result.crashStates;
  return result;
}

function failure(seed: number, index: number, result: HarnessResult): NonNullable<SeedResult['failure']> {
  const { harness } = scheduleOf(seed, index);
  return {
    token: makeToken('concurrency', seed, String(index)),
    message: `${harness.name} under ${result.token}: ${result.message.split('\n')[0] ?? ''}`,
    minimized: result.message,
  };
}

export const concurrencySuite: Suite = {
  name: 'concurrency',
  async runSeed(seed: number): Promise<SeedResult> {
    const counters = emptyCounters();
    for (let i = 0; i < HARNESSES.length * SCHEDULES_PER_HARNESS; i++) {
      const result = await runOne(seed, i, counters);
      if (!result.ok) return { counters, failure: failure(seed, i, result) };
    }
    return { counters };
  },
  async replay(token: string): Promise<SeedResult> {
    const { seed, path } = parseToken(token);
    const index = Number(path.split(':')[0] ?? '0');
    const counters = emptyCounters();
    const result = await runOne(seed, index, counters);
    return result.ok ? { counters } : { counters, failure: failure(seed, index, result) };
  },
};
