// What open found of a disk's redundant metadata and what it repaired
// (open.ts): read by fsck and repair through DiskView, and by tests.
import type { CopyState, SlotCopyReport } from '../superblock/index.js';
import type { LogCopyDamage } from './log_replay.js';

/** What recovery read from a second copy, and how open restored the first (open.ts). */
export interface RecoveryReport {
  readonly labelCopies: readonly [CopyState, CopyState];
  readonly slots: readonly SlotCopyReport[];
  /** A copy of the checkpoint recovery used was damaged. */
  readonly checkpointCopyDamaged: boolean;
  readonly log: {
    readonly records: number;
    readonly end: number;
    readonly copyDamage: readonly LogCopyDamage[];
    readonly unreadable: readonly { copy: 0 | 1; extent: number; offset: number }[];
  };
  /** What open rewrote (empty when nothing needed it, and in a read-only open). */
  readonly repaired: string[];
}
