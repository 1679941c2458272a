// The scrub-faults suite for `shardstore check`: the fault alphabet plus
// scrub passes, some with the disk failing every read part way through
// (testing/scrub_check.ts: no false alarm, no missed damage, the pass ends).
import fc from 'fast-check';
import { SMALL_CONFIG } from '../conformance.js';
import { runCrashSequence } from '../crash.js';
import { scrubFaultOpArb, formatOps } from '../ops.js';
import type { Op } from '../ops.js';
import { sequenceSuite } from './sequence_suite.js';
import type { Suite } from './suite.js';

export const scrubFaultsSuite: Suite = sequenceSuite<Op>({
  format: formatOps,
  name: 'scrub-faults',
  ops: fc.array(scrubFaultOpArb(SMALL_CONFIG), { minLength: 5, maxLength: 80, size: 'max' }),
  run(seq, seed, counters) {
    return runCrashSequence(seq, SMALL_CONFIG, seed, counters);
  },
});
