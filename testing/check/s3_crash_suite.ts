// The S3 crash suite of `shardstore check` (testing/s3_crash_check.ts):
// each seed runs EPISODES_PER_SEED episodes drawn from it, each on a fresh
// node of two simulated disks, each a collector pass scheduled while an S3
// change is staged and not durable, then a power cut. The token's path is
// the index of the failing episode; a replay reruns that episode alone
// (episodes share nothing).
import { describeEpisode, drawEpisode, runEpisode } from '../s3_crash_check.js';
import type { Episode } from '../s3_crash_check.js';
import { Rng } from '../rng.js';
import { emptyCounters, makeToken, parseToken } from './suite.js';
import type { SeedResult, Suite } from './suite.js';

export const EPISODES_PER_SEED = 4;

function episodeOf(seed: number, index: number): Episode {
  return drawEpisode(new Rng(seed).fork(`episode-${index}`));
}

async function run(seed: number, indexes: readonly number[]): Promise<SeedResult> {
  const counters = { ...emptyCounters(), sequences: 1 };
  for (const index of indexes) {
    const episode = episodeOf(seed, index);
    const { violations } = await runEpisode(episode);
    counters.operations++;
    counters.crashStates++;
    const first = violations[0];
    if (first !== undefined) {
      const described = describeEpisode(episode);
      return { counters, failure: { token: makeToken('s3-crash', seed, String(index)), message: `episode ${index} (${described}): ${first}`, minimized: described } };
    }
  }
  return { counters };
}

export const s3CrashSuite: Suite = {
  name: 's3-crash',
  runSeed: (seed) => run(seed, Array.from({ length: EPISODES_PER_SEED }, (_, i) => i)),
  replay: (token) => {
    const { seed, path } = parseToken(token);
    const index = Number(path);
    if (path === '' || !Number.isInteger(index) || index < 0 || index >= EPISODES_PER_SEED) throw new RangeError(`s3-crash token ${token}: the path is an episode index below ${EPISODES_PER_SEED}`);
    return run(seed, [index]);
  },
};
