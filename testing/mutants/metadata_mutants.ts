// Broken variants caught by the metadata-faults check
// (testing/metadata_faults.ts). Each patches one production method through
// its prototype, the smallest public thing that carries the behaviour
// today; the seams they would rather patch are named with each.
import { ShardStoreError } from '../../src/base/index.js';
import { ChunkStore } from '../../src/chunk/index.js';
import type { ScanOptions, ScannedChunk } from '../../src/chunk/index.js';
import { LsmIndex } from '../../src/index/index.js';
import type { ChunkVisitor, ScanEntry, ScanOptions as IndexScanOptions } from '../../src/index/index.js';
import { IndexSnapshot } from '../../src/index/snapshot.js';
import type { Locator } from '../../src/chunk/index.js';
import { patch } from './mutant.js';
import type { Mutant } from './mutant.js';

/**
 * Replay stops quietly at a damaged record: the log ends at the first
 * record that does not verify or cannot be read, with no error, and the
 * records after it (acknowledged) are dropped. Today's replay already does
 * this for a flipped bit (the trial's finding: 23 of 40 keys answered 404);
 * the variant also swallows a read error there. It patches the scan replay
 * runs over a log extent (stopAtDamage); once replay reads two copies
 * through a seam of its own (an injected log reader), the variant should
 * patch that seam to stop at the first damaged record of either copy.
 */
export const replayStopsQuietlyAtDamage: Mutant = {
  name: 'replay-stops-quietly-at-damage',
  bugClass: 'replay ends the metadata log at a damaged record, silently dropping the acknowledged records after it',
  caughtBy: 'metadata-faults',
  install: () =>
    patch(ChunkStore.prototype, 'scan', (original) =>
      async function* (this: ChunkStore, extent: number, options: ScanOptions = {}): AsyncGenerator<ScannedChunk> {
        if (options.stopAtDamage !== true) {
          yield* original.call(this, extent, options);
          return;
        }
        try {
          yield* original.call(this, extent, options);
        } catch (err: unknown) {
          if (!(err instanceof ShardStoreError)) throw err;
          // The bug: an unreadable record is taken for the end of the log.
        }
      },
    ),
};

/**
 * fsck says clean after damage: the walks over the index that fsck relies
 * on (the run chunks it verifies, the key walk of its locator check and of
 * scrub, the live-byte recount it waits for) end quietly where a run chunk
 * cannot be read, so damaged run blocks and run indexes go unreported. It
 * patches the three calls those walks make (LsmIndex chunksOf and scan,
 * IndexSnapshot visit); a fsck that checks metadata copies its own way
 * needs the variant moved there.
 */
export const fsckWalkStopsQuietly: Mutant = {
  name: 'fsck-walk-stops-quietly',
  bugClass: 'fsck says clean after metadata damage (its index walk stops quietly at a damaged run chunk)',
  caughtBy: 'metadata-faults',
  install: () => {
    const restoreChunks = patch(LsmIndex.prototype, 'chunksOf', () => (): Promise<Locator[]> => Promise.resolve([]));
    const restoreScan = patch(LsmIndex.prototype, 'scan', (original) =>
      async function (this: LsmIndex, options: IndexScanOptions): Promise<ScanEntry[]> {
        try {
          return await original.call(this, options);
        } catch (err: unknown) {
          if (!(err instanceof ShardStoreError)) throw err;
          return []; // the bug: a walk that cannot read on is taken as finished
        }
      },
    );
    const restoreVisit = patch(IndexSnapshot.prototype, 'visit', (original) =>
      async function (this: IndexSnapshot, entries: number, visitor: ChunkVisitor): Promise<boolean> {
        try {
          return await original.call(this, entries, visitor);
        } catch (err: unknown) {
          if (!(err instanceof ShardStoreError)) throw err;
          return true; // the bug: the recount ends as if every entry was seen
        }
      },
    );
    return () => {
      restoreVisit();
      restoreScan();
      restoreChunks();
    };
  },
};

export const METADATA_MUTANTS: readonly Mutant[] = [replayStopsQuietlyAtDamage, fsckWalkStopsQuietly];
