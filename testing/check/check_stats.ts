// Tallies and rates of a `shardstore check` run. Counters add up what the
// suites report per seed; rates are over wall-clock time from the start of
// the run (worker startup included), and "per core" divides by the workers.
import { addCounters } from './suite.js';
import type { SuiteCounters } from './suite.js';

export interface Tally extends SuiteCounters {
  /** Seeds run: one per (suite, seed) pair. */
  seeds: number;
  failures: number;
  /** Worker time spent in this suite's seeds, summed over workers. */
  busyMs: number;
}

export interface Rates {
  readonly sequencesPerSec: number;
  readonly operationsPerSec: number;
  readonly sequencesPerSecPerCore: number;
  readonly operationsPerSecPerCore: number;
}

export function emptyTally(): Tally {
  return { seeds: 0, sequences: 0, operations: 0, crashStates: 0, faultsInjected: 0, failures: 0, busyMs: 0 };
}

/** Adds one seed's outcome to `into`. */
export function tallySeed(into: Tally, counters: SuiteCounters, failed: boolean, ms: number): void {
  addCounters(into, counters);
  into.seeds++;
  if (failed) into.failures++;
  into.busyMs += ms;
}

export function sumTallies(tallies: Iterable<Tally>): Tally {
  const total = emptyTally();
  for (const t of tallies) {
    addCounters(total, t);
    total.seeds += t.seeds;
    total.failures += t.failures;
    total.busyMs += t.busyMs;
  }
  return total;
}

export function ratesOf(t: SuiteCounters, elapsedMs: number, workers: number): Rates {
  const seconds = Math.max(elapsedMs, 1) / 1000;
  const per = (n: number): number => Math.round((n / seconds) * 10) / 10;
  return {
    sequencesPerSec: per(t.sequences),
    operationsPerSec: per(t.operations),
    sequencesPerSecPerCore: per(t.sequences / workers),
    operationsPerSecPerCore: per(t.operations / workers),
  };
}
