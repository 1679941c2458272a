// Conformance: the engine (DiskStore on a simulated disk with tiny extents
// and cache) against the reference model, over random operation sequences
// with fixed seeds. fast-check shrinks a failing sequence; the message
// shows the minimized sequence and the seed/path that replays it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SMALL_CONFIG, runSequence } from './conformance.js';
import { formatOps, opArb } from './ops.js';
import type { Op } from './ops.js';

const SEQUENCES = Number(process.env['CONFORMANCE_RUNS'] ?? 2000);

export async function checkConformance(options: { seed: number; numRuns: number; minLength?: number }): Promise<fc.RunDetails<[Op[]]>> {
  const ops = fc.array(opArb(SMALL_CONFIG), { minLength: options.minLength ?? 50, maxLength: 80 });
  return fc.check(
    fc.asyncProperty(ops, async (seq) => {
      const failure = await runSequence(seq, SMALL_CONFIG, options.seed);
      if (failure !== undefined) throw failure;
    }),
    { seed: options.seed, numRuns: options.numRuns },
  );
}

function report(details: fc.RunDetails<[Op[]]>): string {
  const ce = details.counterexample?.[0];
  const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  return `seed ${details.seed} path ${details.counterexample === null ? '-' : details.counterexamplePath}\n${error}\nminimized sequence:\n${ce === undefined ? '' : formatOps(ce)}`;
}

test(`engine conforms to the model over ${SEQUENCES} random sequences of 50-80 operations`, async () => {
  // Each sequence mixes put/get/read/head/delete/list with commit, index
  // flush, compaction and clean reboots; every result and the full listing
  // after every step are compared with the model.
  const details = await checkConformance({ seed: 20261126, numRuns: SEQUENCES });
  assert.equal(details.failed, false, report(details));
  assert.equal(details.numRuns, SEQUENCES);
});
