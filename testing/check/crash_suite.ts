// The crash suite for `shardstore check`: the conformance alphabet plus
// dirty reboots, checked for persistence, atomicity and forward progress
// (testing/crash.ts).
import fc from 'fast-check';
import { SMALL_CONFIG } from '../conformance.js';
import { runCrashSequence } from '../crash.js';
import { crashOpArb, formatOps } from '../ops.js';
import type { Op } from '../ops.js';
import { sequenceSuite } from './sequence_suite.js';
import type { Suite } from './suite.js';

export const crashSuite: Suite = sequenceSuite<Op>({
  format: formatOps,
  name: 'crash',
  ops: fc.array(crashOpArb(SMALL_CONFIG), { minLength: 5, maxLength: 80, size: 'max' }),
  run(seq, seed, counters) {
    return runCrashSequence(seq, SMALL_CONFIG, seed, counters);
  },
});
