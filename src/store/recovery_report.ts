// What open found of a disk's redundant metadata and what it repaired
// (open.ts): read by fsck and repair through DiskView, and by tests.
import type { Locator } from '../chunk/index.js';
import type { CopyState, SlotCopyReport } from '../superblock/index.js';
import type { LogCopyDamage } from './log_replay.js';

/** What recovery read from a second copy, and how open restored the first (open.ts). */
export interface RecoveryReport {
  /**
   * The checkpoint's host-allocated extents (host_space.ts): how many it
   * marked, how many open counted as prepared, and why none, when the data
   * file's allocated bytes were short of what the marks imply.
   */
  readonly hostAllocated: { readonly marked: number; readonly trusted: number; readonly distrusted?: string };
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
  /**
   * The check of the data named by the records no completed flush covered
   * (log_verify.ts): how many records were checked, the record the log
   * ended before (a torn last cycle, never acknowledged) and why, and named
   * chunks damaged as no crash leaves them (unreadable, or a flipped bit:
   * the record was believed, reads of them fail with a typed error).
   */
  readonly tail: {
    readonly verified: number;
    readonly dropped?: { readonly seq: number; readonly count: number; readonly reason: string };
    readonly damagedData: readonly { readonly locator: Locator; readonly reason: string }[];
  };
  /** What open rewrote (empty when nothing needed it, and in a read-only open). */
  readonly repaired: string[];
}
