// Broken variants of exclusive access and of the read-only tools (issue
// 11): the two bugs the independent trial found, each caught by its own
// property of testing/access_check.ts in the node suite.
import { DiskLock } from '../../src/disk/index.js';
import type { LockHolder, LockRecords } from '../../src/disk/index.js';
import { IoScheduler } from '../../src/dependency/index.js';
import { DiskStore } from '../../src/store/index.js';
import { patch } from './mutant.js';
import type { Mutant } from './mutant.js';

/**
 * The lock is never taken: acquire answers as if it were, but writes no
 * record, so a second server (or a tool) opens a disk a node is using.
 * Caught by: "second opener ... was not refused while the node ... holds it".
 */
export const lockNotTaken: Mutant = {
  name: 'lock-not-taken',
  bugClass: 'a second server or a tool opens a live store (issue 11: two servers on one data dir)',
  caughtBy: 'node',
  expect: /secondOpen\(disk \d by another (server|tool)\): threw AccessViolation: second opener \(pid \d+, .*\) of disk \d was not refused while the node \(pid \d+\) holds it/,
  install: () =>
    patch(DiskLock, 'acquire', () =>
      async function (_records: LockRecords, me: LockHolder): Promise<DiskLock> {
        await Promise.resolve();
        return { holder: me, release: () => Promise.resolve() } as unknown as DiskLock;
      },
    ),
};

interface StoreInternals {
  readonly readOnly: boolean;
  readonly log: { drain(): Promise<void> };
}

/**
 * A tool that writes: its read-only open is read-write after all (the IO
 * scheduler lets writes through) and its close commits as a server's does,
 * appending a metadata record (issue 11: fsck changed bytes in the log
 * extent of a stopped node). Two patches, one bug: the open that does not
 * hold to read-only. Caught by: "offline tool ... changed disk ...'s image".
 */
export const toolWrites: Mutant = {
  name: 'tool-writes',
  bugClass: 'an offline tool writes to the data files (issue 11: fsck appended to the metadata log)',
  caughtBy: 'node',
  // Through offlineTools, or a tool's fsck of a disk out of service (secondOpen).
  expect: /(offlineTools\(after a (clean|dirty) stop\)|secondOpen\(disk \d by another tool\)): threw AccessViolation: offline tool \w+ changed disk \d's image \(\d+ write\(s\), \d+ bytes\)/,
  install: () => {
    const restoreIo = patch(IoScheduler.prototype, 'refuseWrite', () => (): Error | undefined => undefined);
    const restoreClose = patch(DiskStore.prototype, 'close', (original) =>
      async function (this: DiskStore): Promise<void> {
        const store = this as unknown as StoreInternals;
        if (store.readOnly && this.isOpen) await store.log.drain();
        return original.call(this);
      },
    );
    return () => {
      restoreClose();
      restoreIo();
    };
  },
};

export const ACCESS_MUTANTS: readonly Mutant[] = [lockNotTaken, toolWrites];
