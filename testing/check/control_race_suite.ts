// The control-race suite of `shardstore check`: control-plane calls racing
// requests on a node (testing/control_race.ts) under random and PCT
// schedules. Each seed runs RUNS_PER_SEED schedules derived from it; a
// failure's token names the seed and the schedule's index, and replays it.
import { runControlRace } from '../control_race.js';
import type { ControlRaceResult } from '../control_race.js';
import { emptyCounters, makeToken, parseToken } from './suite.js';
import type { SeedResult, Suite, SuiteCounters } from './suite.js';

export const RUNS_PER_SEED = 6;

/** The schedule token of run `index` of `seed`: even indexes random, odd PCT with 3 priority change points. */
export function controlScheduleOf(seed: number, index: number): string {
  const s = (Math.imul(seed, 0x85ebca6b) + index * 104_729) >>> 0;
  return index % 2 === 0 ? `random:seed=${s}` : `pct:d=3:k=300:seed=${s}`;
}

async function runOne(seed: number, index: number, counters: SuiteCounters): Promise<ControlRaceResult> {
  const result = await runControlRace(controlScheduleOf(seed, index));
  counters.sequences++;
  counters.operations += result.calls + result.controlCalls;
  return result;
}

function failure(seed: number, index: number, result: ControlRaceResult): NonNullable<SeedResult['failure']> {
  return {
    token: makeToken('control-race', seed, String(index)),
    message: `control-race under ${result.token}: ${result.message.split('\n')[0] ?? ''}`,
    minimized: result.message,
  };
}

export const controlRaceSuite: Suite = {
  name: 'control-race',
  async runSeed(seed: number): Promise<SeedResult> {
    const counters = emptyCounters();
    for (let i = 0; i < RUNS_PER_SEED; i++) {
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
