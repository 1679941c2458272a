// What every sequence check shares: the failure type, running a sequence
// on a harness (the harness is closed whatever happens), the fast-check
// property over sequences, and the report of a failed run.
import fc from 'fast-check';
import { beginActivity, describeOp } from './progress.js';

/** A check found a difference: `step` is the index of the operation that showed it. */
export class ConformanceFailure extends Error {
  constructor(
    message: string,
    readonly step: number,
  ) {
    super(message);
    this.name = 'ConformanceFailure';
  }
}

export interface SequenceHarness<O> {
  run(op: O): Promise<void>;
  close(): Promise<void>;
}

/**
 * Run `ops` in order; return the failure, if any. `done` runs before the
 * harness is closed (to collect its counters).
 */
export async function runOnHarness<O>(h: SequenceHarness<O>, ops: readonly O[], done?: () => void): Promise<ConformanceFailure | undefined> {
  try {
    for (const [i, op] of ops.entries()) {
      // Named for the hang detector: a step that never ends is reported with it.
      const end = beginActivity(() => `step ${i} of ${ops.length}: ${describeOp(op)}`);
      try {
        await h.run(op);
      } finally {
        end();
      }
    }
    return undefined;
  } catch (err: unknown) {
    if (err instanceof ConformanceFailure) return err;
    throw err;
  } finally {
    done?.();
    // After a failure the engine may be in any state; its close error would
    // only hide the failure being reported.
    await h.close().catch((err: unknown) => void err);
  }
}

export interface CheckOptions {
  readonly seed: number;
  readonly numRuns: number;
  /** false: stop at the first failure without shrinking it. */
  readonly shrink?: boolean;
}

/** fast-check over sequences from `ops`: a sequence fails when `run` returns an error. */
export function checkSequences<T>(
  ops: fc.Arbitrary<T>,
  run: (seq: T) => Promise<Error | undefined>,
  options: CheckOptions,
): Promise<fc.RunDetails<[T]>> {
  return fc.check(
    fc.asyncProperty(ops, async (seq) => {
      const failure = await run(seq);
      if (failure !== undefined) throw failure;
    }),
    { seed: options.seed, numRuns: options.numRuns, endOnFailure: options.shrink === false },
  );
}

/** Seed, shrink path, message and the minimized sequence of a failed run. */
export function reportSequences<O>(details: fc.RunDetails<[O[]]>, format: (ops: readonly O[]) => string): string {
  const ce = details.counterexample?.[0];
  const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  return `seed ${details.seed} path ${details.counterexample === null ? '-' : details.counterexamplePath}\n${error}\nminimized sequence:\n${ce === undefined ? '' : format(ce)}`;
}
