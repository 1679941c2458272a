// The fault-injection suite for `shardstore check`: the crash alphabet plus
// IO errors and bit flips (testing/crash.ts, invariants 5 and 6).
import fc from 'fast-check';
import { SMALL_CONFIG } from '../conformance.js';
import { runCrashSequence } from '../crash.js';
import { faultOpArb, formatOps } from '../ops.js';
import type { Op } from '../ops.js';
import { sequenceSuite } from './sequence_suite.js';
import type { Suite } from './suite.js';

export const faultsSuite: Suite = sequenceSuite<Op>({
  format: formatOps,
  name: 'faults',
  ops: fc.array(faultOpArb(SMALL_CONFIG), { minLength: 5, maxLength: 80, size: 'max' }),
  run(seq, seed, counters) {
    return runCrashSequence(seq, SMALL_CONFIG, seed, counters);
  },
});
