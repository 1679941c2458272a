// The space suite for `shardstore check`: overwrites that fill a small
// disk several times over, with crashes (testing/space.ts, invariant 9
// of testing/crash.ts).
import { runSpaceSequence, spaceSequenceArb } from '../space.js';
import { formatOps } from '../ops.js';
import type { Op } from '../ops.js';
import { sequenceSuite } from './sequence_suite.js';
import type { Suite } from './suite.js';

export const spaceSuite: Suite = sequenceSuite<Op>({
  format: formatOps,
  name: 'space',
  ops: spaceSequenceArb(),
  run(seq, seed, counters) {
    return runSpaceSequence(seq, seed, counters);
  },
});
