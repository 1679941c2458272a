// The redundant-runs suite for `shardstore check` (testing/mirror_check.ts):
// one seed builds one store of a few multi-block runs and damages every run
// chunk, one copy then both, and every index extent whole. No shrinking: a
// failure is already one chunk, one copy and one key, and its token (the
// seed) replays it exactly.
import { checkRunMirrors } from '../mirror_check.js';
import { emptyCounters, makeToken, parseToken } from './suite.js';
import type { SeedResult, Suite } from './suite.js';

const SHOWN_FAILURES = 20;

async function run(seed: number): Promise<SeedResult> {
  const counters = emptyCounters();
  const r = await checkRunMirrors({ seed: String(seed) });
  counters.sequences++;
  counters.faultsInjected += r.images;
  const first = r.failures[0];
  if (first === undefined) return { counters };
  const minimized = r.failures.slice(0, SHOWN_FAILURES).join('\n') + (r.failures.length > SHOWN_FAILURES ? `\n... ${r.failures.length - SHOWN_FAILURES} more` : '');
  return { counters, failure: { token: makeToken('mirror', seed, ''), message: first, minimized } };
}

export const mirrorSuite: Suite = {
  name: 'mirror',
  runSeed: run,
  replay: (token: string) => run(parseToken(token).seed),
};
