// The decoder fuzzing suite for `shardstore check`: each seed feeds every
// decoder target ITERATIONS_PER_TARGET random and mutated inputs
// (testing/fuzz/). A failure's token names the seed; replay reruns it.
import { DECODER_TARGETS } from '../fuzz/decoders.js';
import { describeFailures, fuzzOnce } from '../fuzz/fuzzer.js';
import { Rng } from '../rng.js';
import { emptyCounters, makeToken, parseToken } from './suite.js';
import type { SeedResult, Suite } from './suite.js';

export const ITERATIONS_PER_TARGET = 500;

function runSeed(seed: number): SeedResult {
  const counters = emptyCounters();
  for (const target of DECODER_TARGETS) {
    const report = fuzzOnce(target, new Rng(seed).fork(target.name), ITERATIONS_PER_TARGET);
    counters.sequences++;
    counters.operations += report.iterations;
    if (report.failures.length > 0) {
      const text = describeFailures(report);
      return { counters, failure: { token: makeToken('fuzz', seed, ''), message: `decoder ${target.name} failed`, minimized: text } };
    }
  }
  return { counters };
}

export const fuzzSuite: Suite = {
  name: 'fuzz',
  runSeed: (seed) => Promise.resolve(runSeed(seed)),
  replay: (token) => Promise.resolve(runSeed(parseToken(token).seed)),
};
