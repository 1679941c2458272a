// The HTTP attack suite for `shardstore check` (testing/http_check/): each
// seed serves a node of simulated disks and sends it CASES_PER_SEED
// well-formed and hostile requests through the server's own connection
// handling. The token's path is the index of the failing case; a replay
// reruns the seed up to that case.
import { checkHttp, describeFailure } from '../http_check/http_check.js';
import { failureMessage } from '../http_check/mutant_check.js';
import { emptyCounters, makeToken, parseToken } from './suite.js';
import type { SeedResult, Suite } from './suite.js';

async function run(seed: number, lastCase?: number): Promise<SeedResult> {
  const result = await checkHttp(lastCase === undefined ? { seed } : { seed, lastCase });
  const counters = { ...emptyCounters(), sequences: 1, operations: result.cases };
  const failure = result.failures[0];
  if (failure === undefined) return { counters };
  const path = failure.caseIndex < 0 ? '' : String(failure.caseIndex);
  return { counters, failure: { token: makeToken('http', seed, path), message: failureMessage(failure), minimized: describeFailure(failure) } };
}

export const httpSuite: Suite = {
  name: 'http',
  runSeed: (seed) => run(seed),
  replay: (token) => {
    const { seed, path } = parseToken(token);
    return run(seed, path === '' ? undefined : Number(path));
  },
};


