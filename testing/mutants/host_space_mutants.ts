// Broken variants of host space preparation (src/extent/host_space.ts),
// caught by the fault-injection check's host-full fault (testing/crash.ts,
// invariant 7) and by testing/host_space.test.ts.
import { HostSpace } from '../../src/extent/index.js';
import { patch } from './mutant.js';
import type { Mutant } from './mutant.js';

/**
 * Preparation that allocates nothing: the zeros are never written, yet the
 * extents count as prepared (like a reservation the file system ignored).
 * On a full host the next log extent, index extent or reclamation target
 * is a hole the host refuses: the store turns read-only.
 */
export const unpreparedReserve: Mutant = {
  name: 'unprepared-reserve',
  bugClass: 'host ENOSPC on the metadata log turns the store read-only (reserve not allocated on the host)',
  caughtBy: 'faults',
  expect: /on a full host: the store turned read-only: .*host file system full/,
  install: () => patch(HostSpace.prototype, 'zeroFill', () => (): Promise<void> => Promise.resolve()),
};

export const HOST_SPACE_MUTANTS: readonly Mutant[] = [unpreparedReserve];
