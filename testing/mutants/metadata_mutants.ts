// Broken variants caught by the metadata-faults check
// (testing/metadata_faults.ts). Each patches one production method through
// its prototype, the smallest public thing that carries the behaviour
// today; the seams they would rather patch are named with each.
import { ShardStoreError } from '../../src/base/index.js';
import { LogReader } from '../../src/store/log_replay.js';
import type { LogReplay, ReplayOptions } from '../../src/store/log_replay.js';
import { LsmIndex } from '../../src/index/index.js';
import type { ChunkVisitor, RunDescriptor, ScanEntry, ScanOptions as IndexScanOptions } from '../../src/index/index.js';
import { IndexSnapshot } from '../../src/index/snapshot.js';
import type { Locator } from '../../src/chunk/index.js';
import { patch } from './mutant.js';
import type { Mutant } from './mutant.js';

/**
 * Replay stops quietly at a damaged record: the log ends at the first
 * record that does not verify, with no error, and the records after it
 * (acknowledged) are dropped: the trial's finding before the log had two
 * copies (23 of 40 keys answered 404), here with the mirror written but
 * never read. It patches the seam replay goes through (LogReader.replay):
 * the first copy is read as salvage reads it, then cut at the first lost
 * record, which is reported as nothing lost.
 */
export const replayStopsQuietlyAtDamage: Mutant = {
  name: 'replay-stops-quietly-at-damage',
  bugClass: 'replay ends the metadata log at a damaged record, silently dropping the acknowledged records after it',
  caughtBy: 'metadata-faults',
  // Either symptom of the one bug: a dropped record loses a key, or fsck,
  // reading the log through the same reader, misses the damage.
  expect: /acknowledged key \S+ silently absent after metadata damage at log record|fsck reported clean after metadata damage at log record/,
  install: () =>
    patch(LogReader.prototype, 'replay', (original) =>
      async function (this: LogReader, logExtents: readonly [number, number], firstSeq: number, options: ReplayOptions = {}): Promise<LogReplay> {
        // Only the first copy is read (the mirror is written, never read),
        // as salvage reads it: records lost there are skipped...
        const read = await original.call(this, [logExtents[0], logExtents[0]], firstSeq, { ...options, salvage: true });
        const stop = read.lost[0];
        if (stop === undefined || options.salvage === true) return read;
        // ...and the first lost one is taken for the end of the log.
        return { ...read, records: read.records.filter((r) => r.seq < stop), lost: [] };
      },
    ),
};

/**
 * Replay looks for damage only on the page where the next record would
 * start: a record that starts on a readable page and runs into pages
 * unreadable in both copies (with every later record behind them) ends the
 * log there quietly, dropping it and every record after it. The bug replay
 * had until this variant's commit, found by review; the metadata-faults
 * check reaches it since it runs on 512-byte pages, where records cross
 * page boundaries (metadata_faults.ts: METADATA_CONFIG), and damage may
 * run on to the end of the extent (onward).
 * It patches LogReader.replay: the real replay reads with salvage's
 * tolerance, and refuses only where the old rule did.
 */
export const replayChecksNextPageOnly: Mutant = {
  name: 'replay-checks-next-page-only',
  bugClass: 'replay ends the metadata log before a record whose later pages are unreadable in both copies, dropping it and every record after it',
  caughtBy: 'metadata-faults',
  // A dropped record loses a put (silently absent, or an overwrite's older value back: wrong bytes) or a delete (the key back).
  expect: /(acknowledged key \S+ silently absent|key \S+ is back \(\d+B\)|wrong bytes: key \S+ returned \d+B) after metadata damage at log record/,
  install: () =>
    patch(LogReader.prototype, 'replay', (original) =>
      async function (this: LogReader, logExtents: readonly [number, number], firstSeq: number, options: ReplayOptions = {}): Promise<LogReplay> {
        if (options.salvage === true) return original.call(this, logExtents, firstSeq, options);
        const read = await original.call(this, logExtents, firstSeq, { ...options, salvage: true });
        // Records lost with whole ones after them: the real refusal.
        if (read.lost.length > 0) return original.call(this, logExtents, firstSeq, options);
        const page = this['extents'].geometry.pageSizeBytes;
        const nextPage = Math.floor(read.end / page) * page;
        const unreadableIn = (copy: 0 | 1): boolean => read.unreadable.some((u) => u.copy === copy && u.offset === nextPage);
        if (unreadableIn(0) && unreadableIn(1)) return original.call(this, logExtents, firstSeq, options);
        return read;
      },
    ),
};

/**
 * fsck says clean after damage: the walks over the index that fsck relies
 * on (the run chunks it verifies, the key walk of its locator check and of
 * scrub, the live-byte recount it waits for) end quietly where a run chunk
 * cannot be read, so damaged run blocks and run indexes go unreported. It
 * patches the calls those walks make (LsmIndex chunksOf, copyChunksOf and
 * scan, IndexSnapshot visit).
 */
export const fsckWalkStopsQuietly: Mutant = {
  name: 'fsck-walk-stops-quietly',
  bugClass: 'fsck says clean after metadata damage (its index walk stops quietly at a damaged run chunk)',
  caughtBy: 'metadata-faults',
  expect: /fsck reported clean after metadata damage at run \d+ (block|index)/,
  install: () => {
    const restoreChunks = patch(LsmIndex.prototype, 'chunksOf', () => (): Promise<Locator[]> => Promise.resolve([]));
    // fsck's check of the two copies of each run (both listed, each read back) sees no runs either.
    const restoreCopies = patch(LsmIndex.prototype, 'copyChunksOf', () =>
      function (this: LsmIndex, run: RunDescriptor): ReturnType<LsmIndex['copyChunksOf']> {
        return Promise.resolve([
          { copy: 'primary', root: run.indexChunk, chunks: [], blocks: [] },
          { copy: 'mirror', root: run.mirrorIndexChunk, chunks: [], blocks: [] },
        ]);
      },
    );
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
      restoreCopies();
      restoreChunks();
    };
  },
};

export const METADATA_MUTANTS: readonly Mutant[] = [replayStopsQuietlyAtDamage, replayChecksNextPageOnly, fsckWalkStopsQuietly];
