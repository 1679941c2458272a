// A suite made of a fast-check property over operation sequences: each seed
// runs SEQUENCES_PER_SEED sequences; a failure is shrunk and its token
// (suite, seed, shrink path) replays exactly the shrunk sequence.
import fc from 'fast-check';
import { emptyCounters, makeToken, parseToken } from './suite.js';
import type { SeedResult, Suite, SuiteCounters } from './suite.js';

export const SEQUENCES_PER_SEED = 10;

/**
 * SHARDSTORE_SHRINK=0 reports the first failing sequence as found, unshrunk
 * (its token still replays it). For mutation testing (scripts/mutation.ts),
 * where any failure kills the mutant and shrinking only costs time.
 */
const SHRINK = process.env['SHARDSTORE_SHRINK'] !== '0';

export interface SequenceSuiteSpec<O> {
  readonly name: string;
  readonly ops: fc.Arbitrary<O[]>;
  /** Run one sequence; return the failure (an Error) or undefined. Adds to `counters`. */
  run(seq: readonly O[], seed: number, counters: SuiteCounters): Promise<Error | undefined>;
  /** Prints a minimized sequence. */
  readonly format: (ops: readonly O[]) => string;
}

function property<O>(spec: SequenceSuiteSpec<O>, counters: SuiteCounters, seed: number): fc.IAsyncPropertyWithHooks<[O[]]> {
  return fc.asyncProperty(spec.ops, async (seq) => {
    counters.sequences++;
    const failure = await spec.run(seq, seed, counters);
    if (failure !== undefined) throw failure;
  });
}

function toResult<O>(spec: SequenceSuiteSpec<O>, seed: number, counters: SuiteCounters, details: fc.RunDetails<[O[]]>): SeedResult {
  if (!details.failed) return { counters };
  const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  const seq = details.counterexample?.[0] ?? [];
  return {
    counters,
    failure: { token: makeToken(spec.name, seed, details.counterexamplePath ?? ''), message: error, minimized: spec.format(seq) },
  };
}

export function sequenceSuite<O>(spec: SequenceSuiteSpec<O>): Suite {
  return {
    name: spec.name,
    async runSeed(seed: number): Promise<SeedResult> {
      const counters = emptyCounters();
      const details = await fc.check(property(spec, counters, seed), { seed, numRuns: SEQUENCES_PER_SEED, endOnFailure: !SHRINK });
      return toResult(spec, seed, counters, details);
    },
    async replay(token: string): Promise<SeedResult> {
      const { seed, path } = parseToken(token);
      const counters = emptyCounters();
      const details = await fc.check(property(spec, counters, seed), { seed, numRuns: SEQUENCES_PER_SEED, path, endOnFailure: true });
      return toResult(spec, seed, counters, details);
    },
  };
}
