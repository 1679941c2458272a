// The node-level suites of `shardstore check`: `node` (the control plane in
// the conformance alphabet, testing/node_conformance.ts) and `node-crash`
// (whole-node crashes during bulk calls, imports and disks leaving service,
// testing/node_crash.ts). Like sequence_suite.ts, over node operations: a
// seed runs SEQUENCES_PER_SEED sequences; a failure is shrunk and its token
// replays exactly the shrunk sequence.
import fc from 'fast-check';
import { SMALL_CONFIG } from '../conformance.js';
import { runNodeSequence } from '../node_conformance.js';
import { runNodeCrashSequence } from '../node_crash.js';
import { formatNodeOps, nodeCrashOpArb, nodeOpArb } from '../ops.js';
import type { NodeOp } from '../ops.js';
import { SEQUENCES_PER_SEED } from './sequence_suite.js';
import { emptyCounters, makeToken, parseToken } from './suite.js';
import type { SeedResult, Suite, SuiteCounters } from './suite.js';

interface NodeSuiteSpec {
  readonly name: string;
  readonly ops: fc.Arbitrary<NodeOp[]>;
  run(seq: readonly NodeOp[], seed: number, counters: SuiteCounters): Promise<Error | undefined>;
}

function property(spec: NodeSuiteSpec, counters: SuiteCounters, seed: number): fc.IAsyncPropertyWithHooks<[NodeOp[]]> {
  return fc.asyncProperty(spec.ops, async (seq) => {
    counters.sequences++;
    const failure = await spec.run(seq, seed, counters);
    if (failure !== undefined) throw failure;
  });
}

function toResult(name: string, seed: number, counters: SuiteCounters, details: fc.RunDetails<[NodeOp[]]>): SeedResult {
  if (!details.failed) return { counters };
  const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  return { counters, failure: { token: makeToken(name, seed, details.counterexamplePath ?? ''), message: error, minimized: formatNodeOps(details.counterexample?.[0] ?? []) } };
}

function nodeSuite(spec: NodeSuiteSpec): Suite {
  return {
    name: spec.name,
    async runSeed(seed: number): Promise<SeedResult> {
      const counters = emptyCounters();
      const details = await fc.check(property(spec, counters, seed), { seed, numRuns: SEQUENCES_PER_SEED });
      return toResult(spec.name, seed, counters, details);
    },
    async replay(token: string): Promise<SeedResult> {
      const { seed, path } = parseToken(token);
      const counters = emptyCounters();
      const details = await fc.check(property(spec, counters, seed), { seed, numRuns: SEQUENCES_PER_SEED, path, endOnFailure: true });
      return toResult(spec.name, seed, counters, details);
    },
  };
}

export const nodeConformanceSuite: Suite = nodeSuite({
  name: 'node',
  ops: fc.array(nodeOpArb(SMALL_CONFIG), { minLength: 10, maxLength: 60, size: 'max' }),
  run(seq, seed, counters) {
    counters.operations += seq.length;
    return runNodeSequence(seq, SMALL_CONFIG, seed);
  },
});

export const nodeCrashSuite: Suite = nodeSuite({
  name: 'node-crash',
  ops: fc.array(nodeCrashOpArb(SMALL_CONFIG), { minLength: 10, maxLength: 50, size: 'max' }),
  async run(seq, seed, counters) {
    const crash = { crashStates: 0, operations: 0 };
    const failure = await runNodeCrashSequence(seq, SMALL_CONFIG, seed, crash);
    counters.operations += crash.operations;
    counters.crashStates += crash.crashStates;
    return failure;
  },
});
