// Broken variants for issue 13's concurrency gaps, one per gap, each caught
// by the concurrency suite through the property the gap was about
// (testing/concurrency/harness.ts, step_invariants.ts):
// - cache coherence at every scheduling point: `cache-dropped-at-seal`;
// - background jobs overlapping: `compaction-output-reclaimed-before-recorded`;
// - reads in the turn a call returns: `bulk-create-answers-before-applied`.
// Each patches public methods only (ExtentManager, DiskStore, ShardNode),
// so a rename breaks the variant at type-check time, not silently.
import { ExtentManager, ExtentOwner } from '../../src/extent/index.js';
import { Dependency, Latch } from '../../src/dependency/index.js';
import { DiskStore } from '../../src/store/index.js';
import { ShardNode, checkBulkKeys } from '../../src/node/index.js';
import type { BulkPutEntry, BulkResult } from '../../src/node/index.js';
import { patch } from './mutant.js';
import type { Mutant } from './mutant.js';

type ResetListener = (extent: number) => void;

/**
 * Reclamation drops a victim's cached chunks when it seals the extent,
 * not when it resets it ("free the memory early"): a get racing the
 * reclamation reads a chunk of the victim before its relocation commits
 * and caches it again, and that entry outlives the reset (once the extent
 * is reused, a chunk of the same length at the same place would be served
 * from it). Sequential checks never see it: no get runs between a seal and
 * its reset there.
 */
export const cacheDroppedAtSeal: Mutant = {
  name: 'cache-dropped-at-seal',
  bugClass: 'buffer cache drained when reclamation seals an extent, not at its reset (a racing get refills it)',
  caughtBy: 'concurrency',
  expect: /cache coherence: the buffer cache holds chunk \d+:\d+\+\d+, beyond the durable write pointer 0 of extent \d+ \((Free|Data|Index|Meta)/,
  install: () => {
    const listeners = new WeakMap<ExtentManager, ResetListener[]>();
    let resettingSealed: { manager: ExtentManager; extent: number } | undefined;
    const restoreOnReset = patch(ExtentManager.prototype, 'onReset', (original) =>
      function (this: ExtentManager, fn: ResetListener): void {
        listeners.set(this, [...(listeners.get(this) ?? []), fn]);
        // A sealed extent's listeners ran at seal time: skip them at its reset.
        original.call(this, (extent) => {
          if (resettingSealed?.manager !== this || resettingSealed.extent !== extent) fn(extent);
        });
      },
    );
    const restoreSeal = patch(ExtentManager.prototype, 'seal', (original) =>
      function (this: ExtentManager, extent: number): void {
        original.call(this, extent);
        for (const fn of listeners.get(this) ?? []) fn(extent);
      },
    );
    const restoreReset = patch(ExtentManager.prototype, 'reset', (original) =>
      function (this: ExtentManager, extent: number, reusableAfter: Dependency): void {
        resettingSealed = this.isSealed(extent) ? { manager: this, extent } : undefined;
        try {
          original.call(this, extent, reusableAfter);
        } finally {
          resettingSealed = undefined;
        }
      },
    );
    return () => {
      restoreReset();
      restoreSeal();
      restoreOnReset();
    };
  },
};

/**
 * Index-extent reclamation judges an extent by the installed runs only:
 * the output of a compaction (or flush) written and waiting for its
 * record, the runs a reader or a compaction still reads, and the streams'
 * open extents are not spared. The engine guards these (liveIndexBytesByExtent
 * counts job outputs and held versions; open extents are skipped), but no
 * check showed the guards necessary (docs/TESTING.md said so): the race
 * needs one job freeing index extents while another job's output or input
 * lives in one, and one background task never has two jobs at once. Once
 * the output is installed, its run names a free or reused extent; a job
 * reading a reset input fails its read.
 */
export const compactionOutputReclaimedBeforeRecorded: Mutant = {
  name: 'compaction-output-reclaimed-before-recorded',
  bugClass: 'index extent reclaimed while an overlapping job still writes, installs or reads a run there',
  caughtBy: 'concurrency',
  expect: /run \d+ is installed but names extent \d+, which is (Free|Data|Meta)@\d+|read of extent \d+ at \d+\+\d+ beyond write pointer 0/,
  install: () =>
    patch(DiskStore.prototype, 'reclaimIndexExtents', () =>
      function (this: DiskStore): number {
        // DiskStore.reclaimIndexExtents judging extents by the installed
        // runs only: outputs of jobs not yet installed, runs readers hold,
        // and the streams' open extents are not spared.
        const { extents, index } = this.parts;
        const live = new Set(index.runs().flatMap((r) => [...r.extents, ...r.mirrorExtents].map((e) => e.extent)));
        let n = 0;
        for (const e of extents.extentsOwnedBy(ExtentOwner.Index)) {
          if (live.has(e) || extents.durableWritePointer(e) !== extents.writePointer(e)) continue;
          extents.reset(e, this.log.nextCycle());
          n++;
        }
        return n;
      },
    ),
};

/**
 * A bulk create answers as soon as it has issued every put ("the writes
 * are on their way"), not once each put has returned, that is staged and
 * readable: its outcomes say applied while the keys still read their old
 * values for a few microtasks. Only a read in the very turn the call
 * returns sees it; a read after any scheduling point comes too late.
 */
export const bulkCreateAnswersBeforeApplied: Mutant = {
  name: 'bulk-create-answers-before-applied',
  bugClass: 'a bulk create answers before its changes are visible (a read in the same turn sees the old value)',
  caughtBy: 'concurrency',
  // A violation that needs a read issued in the turn a call returned (client c9xxx, harness.ts).
  expect: /not linearizable on key [^\n]*\n(?:.*\n)*?\s*#\d+ c9\d{3} \[\d+,\d+\] get\(/,
  install: () =>
    patch(ShardNode.prototype, 'bulkPut', () =>
      function (this: ShardNode, entries: readonly BulkPutEntry[]): Promise<BulkResult> {
        checkBulkKeys(entries.map((e) => e.key));
        const outcomes = entries.map((e) => {
          const latch = new Latch('bulk key');
          void this.put(e.key, e.value)
            .then((dependency) => dependency.persisted())
            .then(
              () => latch.resolve(),
              (err: unknown) => latch.reject(err instanceof Error ? err : new Error(String(err))),
            );
          return { key: e.key, status: 'applied' as const, dependency: latch.dependency };
        });
        return Promise.resolve({ outcomes, dependency: Dependency.all(outcomes.map((o) => o.dependency)) });
      },
    ),
};

export const RACE_MUTANTS: readonly Mutant[] = [cacheDroppedAtSeal, compactionOutputReclaimedBeforeRecorded, bulkCreateAnswersBeforeApplied];
