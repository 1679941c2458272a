// Run a `shardstore check` suite over a fixed range of seeds inside
// `npm test`: the same sequences the check command runs for those seeds, so
// a failure prints a token that `shardstore check --replay TOKEN` replays.
import type { Suite, SuiteCounters } from './check/suite.js';
import { addCounters, emptyCounters } from './check/suite.js';

export interface SeedsOutcome {
  readonly counters: SuiteCounters;
  /** The first failure, as a printable report with its replay token. */
  readonly failure?: string;
}

export async function runSeeds(suite: Suite, firstSeed: number, seeds: number): Promise<SeedsOutcome> {
  const counters = emptyCounters();
  for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
    const result = await suite.runSeed(seed);
    addCounters(counters, result.counters);
    if (result.failure !== undefined) {
      const f = result.failure;
      return {
        counters,
        failure: `${f.message}\nreplay: shardstore check --replay ${f.token}\nminimized sequence:\n${f.minimized}`,
      };
    }
  }
  return { counters };
}
