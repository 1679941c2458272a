// Broken variants of the preparation of extents ahead of puts
// (src/extent/host_space.ts, prepareAhead), caught by
// testing/prepare_ahead.test.ts (not a check suite's: the unit test's IO
// watcher is what sees them, so they are not in the check's registry).
import type { Dependency } from '../../src/dependency/index.js';
import { ExtentManager, HostSpace } from '../../src/extent/index.js';
import { patch } from './mutant.js';
import type { Mutant } from './mutant.js';

export type UnitMutant = Omit<Mutant, 'caughtBy'>;

/**
 * An extent being prepared is not set aside (host_space.ts invariant 1
 * broken): the allocator may hand it to a put while its zeros are still
 * queued, so zeros can land over the put's bytes.
 */
export const preparingExtentHandedOut: UnitMutant = {
  name: 'preparing-extent-handed-out',
  bugClass: 'zeros of host preparation written to an extent the allocator may hand out (invariant 1 of host_space.ts)',
  expect: /zeros written to extent \d+ that is not set aside for preparation/,
  install: () => {
    // beginPrepare still answers the reset's record the zeros wait for, but does not set the extent aside.
    const undoBegin = patch(
      ExtentManager.prototype,
      'beginPrepare',
      (original) =>
        function (this: ExtentManager, extent: number): Dependency {
          const resetRecorded = original.call(this, extent);
          (this as unknown as { preparing: Set<number> }).preparing.delete(extent);
          return resetRecorded;
        },
      1,
    );
    // endPrepare as before (the extent counts as prepared after its zeros), on a set it was never put in.
    const undoEnd = patch(
      ExtentManager.prototype,
      'endPrepare',
      (original) =>
        function (this: ExtentManager, extent: number, ok: boolean): void {
          (this as unknown as { preparing: Set<number> }).preparing.add(extent);
          original.call(this, extent, ok);
        },
      2,
    );
    return () => {
      undoEnd();
      undoBegin();
    };
  },
};

/**
 * The refill of an ahead extent does not wait for the store to be idle
 * (host_space.ts, "When the ahead extents are refilled"): its zeros go out
 * with the commit cycles of a burst of puts while prepared extents are
 * still left for them, what made a sparse file's 4 KiB puts at 64 in
 * flight run at 0.55-0.65 of a preallocated file's.
 */
export const refillDuringBurst: UnitMutant = {
  name: 'refill-during-burst',
  bugClass: 'zeros of an ahead extent written beside a burst of puts while prepared extents are left (host_space.ts)',
  expect: /zero writes during a burst of puts with an ahead extent left/,
  install: () =>
    patch(
      HostSpace.prototype as unknown as { untilIdle: () => Promise<void> },
      'untilIdle',
      () =>
        function (): Promise<void> {
          return Promise.resolve();
        },
    ),
};

/**
 * finish() prepares every ahead extent wanted, not at most
 * HURRIED_AHEAD_EXTENTS (host_space.ts, "Everything ahead"): with
 * --prepare-ahead all, format (and close) would zero the whole file before
 * returning, the slow start the background preparation exists to avoid.
 */
export const hurryUncapped: UnitMutant = {
  name: 'hurry-uncapped',
  bugClass: 'format and close prepare every ahead extent in whole pieces before returning (host_space.ts, HURRIED_AHEAD_EXTENTS)',
  expect: /ahead extents prepared when format returned/,
  install: () =>
    patch(
      HostSpace.prototype as unknown as { roundTarget: (r: { readonly target: number }) => number },
      'roundTarget',
      () =>
        function (r: { readonly target: number }): number {
          return r.target;
        },
    ),
};

/**
 * The ahead preparation ignores the host's headroom (host_space.ts,
 * hostShort): with every free extent wanted, it fills the host file
 * system up to the store's size, leaving other programs no room.
 */
export const headroomIgnored: UnitMutant = {
  name: 'headroom-ignored',
  bugClass: 'ahead extents prepared past the host file system headroom (host_space.ts, hostHeadroomBytes)',
  expect: /left the host -?\d+ bytes free, below its headroom/,
  install: () =>
    patch(
      HostSpace.prototype as unknown as { hostShort: () => boolean },
      'hostShort',
      () =>
        function (): boolean {
          return false;
        },
    ),
};

export const PREPARE_AHEAD_MUTANTS: readonly UnitMutant[] = [preparingExtentHandedOut, refillDuringBurst, hurryUncapped, headroomIgnored];
