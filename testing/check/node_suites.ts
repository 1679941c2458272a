// The node-level suites of `shardstore check`: `node` (the control plane in
// the conformance alphabet, testing/node_conformance.ts) and `node-crash`
// (whole-node crashes during bulk calls, imports and disks leaving service,
// testing/node_crash.ts): sequence suites (sequence_suite.ts) over node
// operations.
import fc from 'fast-check';
import { SMALL_CONFIG } from '../conformance.js';
import { runNodeSequence } from '../node_conformance.js';
import { runNodeCrashSequence } from '../node_crash.js';
import { formatNodeOps, nodeCrashOpArb, nodeOpArb } from '../ops.js';
import type { NodeOp } from '../ops.js';
import { sequenceSuite } from './sequence_suite.js';
import type { Suite } from './suite.js';

export const nodeConformanceSuite: Suite = sequenceSuite<NodeOp>({
  name: 'node',
  format: formatNodeOps,
  ops: fc.array(nodeOpArb(SMALL_CONFIG), { minLength: 10, maxLength: 60, size: 'max' }),
  run(seq, seed, counters) {
    counters.operations += seq.length;
    return runNodeSequence(seq, SMALL_CONFIG, seed);
  },
});

export const nodeCrashSuite: Suite = sequenceSuite<NodeOp>({
  name: 'node-crash',
  format: formatNodeOps,
  ops: fc.array(nodeCrashOpArb(SMALL_CONFIG), { minLength: 10, maxLength: 50, size: 'max' }),
  async run(seq, seed, counters) {
    const crash = { crashStates: 0, operations: 0 };
    const failure = await runNodeCrashSequence(seq, SMALL_CONFIG, seed, crash);
    counters.operations += crash.operations;
    counters.crashStates += crash.crashStates;
    return failure;
  },
});
