// The conformance suite for `shardstore check`: random operation sequences
// against the reference model (testing/conformance.ts), results compared
// at every step, invariants checked after each.
import fc from 'fast-check';
import { SMALL_CONFIG, runSequence } from '../conformance.js';
import { opArb, formatOps } from '../ops.js';
import type { Op } from '../ops.js';
import { sequenceSuite } from './sequence_suite.js';
import type { Suite } from './suite.js';

export { SEQUENCES_PER_SEED } from './sequence_suite.js';

export const conformanceSuite: Suite = sequenceSuite<Op>({
  format: formatOps,
  name: 'conformance',
  ops: fc.array(opArb(SMALL_CONFIG), { minLength: 50, maxLength: 80, size: 'max' }),
  async run(seq, seed, counters) {
    counters.operations += seq.length;
    return runSequence(seq, SMALL_CONFIG, seed);
  },
});
