// Broken variants of making room for puts on a full disk, caught by the
// space suite (testing/space.ts, invariant 9 and the crash invariants).
import { Reclaimer } from '../../src/reclaim/index.js';
import { Background } from '../../src/store/background.js';
import { patch } from './mutant.js';
import type { Mutant } from './mutant.js';

/**
 * A put that finds no free extent is refused at once, though reclamation
 * could free one: the behaviour before Background.makeRoom, found by the
 * bench's churn cell (a disk 85% dead refusing puts).
 */
export const putsRefusedAtOnce: Mutant = {
  name: 'puts-refused-at-once',
  bugClass: 'puts refused NoSpace while reclamation could free an extent',
  caughtBy: 'space',
  expect: /refused NoSpace with \d+ bytes live after it/,
  install: () => patch(Background.prototype, 'makeRoom', () => (): Promise<boolean> => Promise.resolve(false), 0),
};

/**
 * Reclamation does not skip the extents of puts still writing their
 * values (Reclaimer invariant 2): a put of several chunks that waits for
 * room has its first chunks in an extent that no index entry names yet,
 * which looks dead, is chosen, and is reset under the put.
 */
export const reclaimIgnoresWriters: Mutant = {
  name: 'reclaim-ignores-writers',
  bugClass: 'reclamation of an extent holding chunks of a put still writing its value',
  caughtBy: 'space',
  expect: /: model \{.*\}, engine \{|holds \S+, allowed: |belongs to another key|does not match its header|value of \d+ bytes has \d+ bytes of chunks/,
  install: () =>
    patch(
      Reclaimer.prototype,
      'victims',
      (original) =>
        function (this: Reclaimer, maxLiveRatio?: number): number[] {
          (this as unknown as { inUse: () => ReadonlySet<number> }).inUse = () => NO_EXTENTS;
          return original.call(this, maxLiveRatio);
        },
    ),
};

const NO_EXTENTS: ReadonlySet<number> = new Set();

export const SPACE_MUTANTS: readonly Mutant[] = [putsRefusedAtOnce, reclaimIgnoresWriters];
