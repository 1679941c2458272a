// The lifecycle suite of `shardstore check` (testing/lifecycle_check.ts):
// each seed is one episode: a bucket, rules, 40 steps of requests, clock
// moves and lifecycle passes (some raced by a PUT of an object the pass is
// about to expire), every pass compared with the model. The token's path
// is empty: a replay reruns the seed's episode.
import { runLifecycleEpisode } from '../lifecycle_check.js';
import { emptyCounters, makeToken, parseToken } from './suite.js';
import type { SeedResult, Suite } from './suite.js';

async function run(seed: number): Promise<SeedResult> {
  const outcome = await runLifecycleEpisode(seed);
  const counters = { ...emptyCounters(), sequences: 1, operations: outcome.passes };
  const first = outcome.violations[0];
  if (first === undefined) return { counters };
  return { counters, failure: { token: makeToken('lifecycle', seed, ''), message: first, minimized: first } };
}

export const lifecycleSuite: Suite = {
  name: 'lifecycle',
  runSeed: run,
  replay: (token) => run(parseToken(token).seed),
};
