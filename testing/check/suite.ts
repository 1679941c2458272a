// A suite of `shardstore check`: a family of randomized checks whose every
// run is fixed by a seed. One call runs one seed (a small batch of
// sequences); a failure comes back with a replay token that reproduces it
// exactly, and the minimized operation sequence in readable form.
import type { FailureKind } from './failure_kind.js';

export interface SuiteCounters {
  sequences: number;
  operations: number;
  crashStates: number;
  faultsInjected: number;
}

export interface SuiteFailure {
  /** Short and printable: `<suite>:<seed>:<path>`; `shardstore check --replay TOKEN` reruns it. */
  readonly token: string;
  readonly message: string;
  /** The minimized operation sequence, one operation a line. */
  readonly minimized: string;
  /** A finding, a hang, or an error of the harness itself (failure_kind.ts); set by the worker and by replay. */
  readonly kind?: FailureKind;
}

export interface SeedResult {
  readonly counters: SuiteCounters;
  readonly failure?: SuiteFailure;
}

export interface Suite {
  readonly name: string;
  /** Run the sequences that `seed` fixes; shrink on failure. */
  runSeed(seed: number): Promise<SeedResult>;
  /** Rerun exactly the failure a token names (the token's suite is this one). */
  replay(token: string): Promise<SeedResult>;
}

export function emptyCounters(): SuiteCounters {
  return { sequences: 0, operations: 0, crashStates: 0, faultsInjected: 0 };
}

export function addCounters(into: SuiteCounters, from: SuiteCounters): void {
  into.sequences += from.sequences;
  into.operations += from.operations;
  into.crashStates += from.crashStates;
  into.faultsInjected += from.faultsInjected;
}

/** `<suite>:<seed>:<path>`; the path is fast-check's shrink path ('' when none). */
export function makeToken(suite: string, seed: number, path: string): string {
  return `${suite}:${seed}:${path}`;
}

export function parseToken(token: string): { suite: string; seed: number; path: string } {
  const m = /^([a-z][a-z0-9-]*):(-?\d+):([\d:]*)$/.exec(token.trim());
  if (m === null) throw new RangeError(`not a replay token: ${JSON.stringify(token)} (expected suite:seed:path)`);
  return { suite: m[1] ?? '', seed: Number(m[2]), path: m[3] ?? '' };
}
