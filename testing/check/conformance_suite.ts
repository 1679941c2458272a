// The conformance suite for `shardstore check`: random operation sequences
// against the reference model (testing/conformance.ts), SEQUENCES_PER_SEED
// per seed. A failure is shrunk; its token replays the shrunk sequence.
import fc from 'fast-check';
import { SMALL_CONFIG, runSequence } from '../conformance.js';
import { formatOps, opArb } from '../ops.js';
import type { Op } from '../ops.js';
import { emptyCounters, makeToken, parseToken } from './suite.js';
import type { SeedResult, Suite, SuiteCounters } from './suite.js';

export const SEQUENCES_PER_SEED = 10;

function property(counters: SuiteCounters, seed: number): fc.IAsyncPropertyWithHooks<[Op[]]> {
  const ops = fc.array(opArb(SMALL_CONFIG), { minLength: 1, maxLength: 80 });
  return fc.asyncProperty(ops, async (seq) => {
    counters.sequences++;
    counters.operations += seq.length;
    const failure = await runSequence(seq, SMALL_CONFIG, seed);
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

export const conformanceSuite: Suite = {
  name: 'conformance',
  async runSeed(seed: number): Promise<SeedResult> {
    const counters = emptyCounters();
    const details = await fc.check(property(counters, seed), { seed, numRuns: SEQUENCES_PER_SEED });
    return toResult(this.name, seed, counters, details);
  },
  async replay(token: string): Promise<SeedResult> {
    const { seed, path } = parseToken(token);
    const counters = emptyCounters();
    const details = await fc.check(property(counters, seed), { seed, numRuns: SEQUENCES_PER_SEED, path, endOnFailure: true });
    return toResult(this.name, seed, counters, details);
  },
};
