// A suite made of a fast-check property over operation sequences: each seed
// runs SEQUENCES_PER_SEED sequences; a failure is shrunk and its token
// (suite, seed, shrink path) replays exactly the shrunk sequence.
import fc from 'fast-check';
import { formatOps } from '../ops.js';
import type { Op } from '../ops.js';
import { emptyCounters, makeToken, parseToken } from './suite.js';
import type { SeedResult, Suite, SuiteCounters } from './suite.js';

export const SEQUENCES_PER_SEED = 10;

export interface SequenceSuiteSpec {
  readonly name: string;
  readonly ops: fc.Arbitrary<Op[]>;
  /** Run one sequence; return the failure (an Error) or undefined. Adds to `counters`. */
  run(seq: readonly Op[], seed: number, counters: SuiteCounters): Promise<Error | undefined>;
}

function property(spec: SequenceSuiteSpec, counters: SuiteCounters, seed: number): fc.IAsyncPropertyWithHooks<[Op[]]> {
  return fc.asyncProperty(spec.ops, async (seq) => {
    counters.sequences++;
    const failure = await spec.run(seq, seed, counters);
    if (failure !== undefined) throw failure;
  });
}

function toResult(name: string, seed: number, counters: SuiteCounters, details: fc.RunDetails<[Op[]]>): SeedResult {
  if (!details.failed) return { counters };
  const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  const seq = details.counterexample?.[0] ?? [];
  return {
    counters,
    failure: { token: makeToken(name, seed, details.counterexamplePath ?? ''), message: error, minimized: formatOps(seq) },
  };
}

export function sequenceSuite(spec: SequenceSuiteSpec): Suite {
  return {
    name: spec.name,
    async runSeed(seed: number): Promise<SeedResult> {
      const counters = emptyCounters();
      const details = await fc.check(property(spec, counters, seed), { seed, numRuns: SEQUENCES_PER_SEED });
      return toResult(spec.name, seed, counters, details);
    },
    async replay(token: string): Promise<SeedResult> {
      const { seed, path } = parseToken(token);
      const counters = emptyCounters();
      const details = await fc.check(property(spec, counters, seed), { seed, numRuns: SEQUENCES_PER_SEED, path, endOnFailure: true });
      return toResult(spec.name, seed, counters, details);
    },
  };
}
