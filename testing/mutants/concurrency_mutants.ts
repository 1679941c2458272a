// Broken variants that only concurrent executions expose: each needs a
// client's operation to interleave with background work (a put racing a
// reclamation, a listing racing a commit, a read racing a reset).
import { locatorEquals } from '../../src/chunk/index.js';
import { Dependency, IoScheduler, Latch } from '../../src/dependency/index.js';
import type { IndexValue, LsmIndex } from '../../src/index/index.js';
import type { Relocation } from '../../src/reclaim/index.js';
import { CommitLog } from '../../src/store/commit_log.js';
import type { StagedMutation } from '../../src/store/commit_log.js';
import { ReadTracker } from '../../src/store/read_tracker.js';
import { DiskStore } from '../../src/store/index.js';
import { patch } from './mutant.js';
import type { Mutant } from './mutant.js';

interface CommitLogInternals {
  committing: Map<string, StagedMutation & { latch: Latch; superseded: readonly Latch[] }>;
  index: LsmIndex;
  staged: Map<string, StagedMutation>;
}

/**
 * A relocation forgets to check that the key still points at the original
 * chunk (the -1 of a failed search is taken as "the first chunk"): a put
 * that raced the reclamation gets a chunk of the old value spliced in.
 */
export const relocationIgnoresNewerPut: Mutant = {
  name: 'relocation-ignores-newer-put',
  bugClass: 'reclamation evacuates a chunk while a put of the same key completes',
  caughtBy: 'concurrency',
  // A get of the spliced value finds its chunks' sizes disagree with its size.
  expect: /writing invalid index value|not linearizable|after a crash|value of \d+ bytes has \d+ bytes of chunks/,
  install: () =>
    patch(CommitLog.prototype as unknown as { applyRelocations: (r: readonly Relocation[]) => Promise<void> }, 'applyRelocations', () =>
      async function (this: CommitLogInternals, relocations: readonly Relocation[]): Promise<void> {
        for (const r of relocations) {
          const k = r.key.toString('latin1');
          const staged = this.committing.get(k);
          const current: IndexValue | null | undefined = staged !== undefined ? staged.value : await this.index.lookup(r.key);
          if (current === null || current === undefined || current.chunks.length === 0) continue;
          const at = Math.max(0, current.chunks.findIndex((c) => locatorEquals(c, r.from)));
          const chunks = current.chunks.slice();
          chunks[at] = r.to;
          const dataDependency = (staged?.dataDependency ?? Dependency.none).and(r.dependency);
          const value = { sizeBytes: current.sizeBytes, chunks };
          this.committing.set(k, { key: r.key, value, dataDependency, latch: staged?.latch ?? new Latch('relocation'), superseded: staged?.superseded ?? [] });
        }
      },
      1,
    ),
};

/** A listing merges only the staged mutations, not the ones being committed: a key deleted in that cycle comes back. */
export const listIgnoresCommitting: Mutant = {
  name: 'list-ignores-committing',
  bugClass: 'list returns a key already deleted (list vs commit race)',
  caughtBy: 'concurrency',
  expect: /not linearizable/,
  install: () =>
    patch(CommitLog.prototype, 'overlayEntries', () =>
      function (this: CommitLogInternals): StagedMutation[] {
        return [...this.staged.values()];
      },
    ),
};

/** Reads are not tracked: reclamation resets an extent a streaming read still holds locators into. */
export const readsNotTracked: Mutant = {
  name: 'reads-not-tracked',
  bugClass: 'a locator invalidated by a reclaim/read race',
  caughtBy: 'concurrency',
  expect: /beyond write pointer|not linearizable/,
  install: () => {
    const restoreBegin = patch(ReadTracker.prototype, 'begin', () => () => (): void => undefined);
    const restoreDrained = patch(ReadTracker.prototype, 'drained', () => (): Promise<void> => Promise.resolve());
    return () => {
      restoreBegin();
      restoreDrained();
    };
  },
};

/**
 * The IO scheduler issues a batch's flush without waiting for its writes to
 * complete (io_scheduler.ts, invariants 2 and 6): their tickets say landed,
 * then durable, while the system calls may still be in flight, and a write
 * may land after a later batch has reset and reused its extent. The
 * concurrency check's scheduler completes IOs out of order, so it sees the
 * buffer cache (filled when a chunk is durable) disagree with the disk, or
 * a value lost.
 */
export const flushBeforeWritesLand: Mutant = {
  name: 'flush-before-writes-land',
  bugClass: 'a write reported durable before it completed (a flush that does not cover it)',
  caughtBy: 'concurrency',
  // A read that finds the chunk not yet there, the cache disagreeing with the disk, or a value lost.
  expect: /chunk at \d+:\d+: bad header|cache coherence: the buffer cache's chunk .* differs from the disk's bytes|not linearizable|after a crash/,
  install: () =>
    patch(
      IoScheduler.prototype as unknown as { issueRound: (round: unknown, failed: unknown, joiners: unknown) => Promise<void> },
      'issueRound',
      (original) =>
        function (this: unknown, round: unknown, failed: unknown, joiners: unknown): Promise<void> {
          void original.call(this, round, failed, joiners);
          return Promise.resolve();
        },
      3,
    ),
};

/**
 * find looks past the metadata log's staged mutations (the newest state
 * of a key until its record commits): a key put moments ago answers
 * absent. get and the other reads share one lookup; find has its own
 * path (DiskStore.find), so it is checked on its own: the concurrency
 * harness sends half its whole gets through find, and a get racing a put
 * whose record has not committed sees the staged state. (The conformance
 * suite awaits each put, by which time its cycle has committed: the
 * variant survived its 1,500 sequences.)
 */
export const findIgnoresStaged: Mutant = {
  name: 'find-ignores-staged',
  bugClass: 'a lookup that misses the newest, not yet committed, state of a key',
  caughtBy: 'concurrency',
  expect: /not linearizable/,
  install: () =>
    patch(DiskStore.prototype, 'find', (original) =>
      async function (this: DiskStore, key: Buffer): Promise<Buffer | undefined> {
        const log = (this as unknown as { log: { overlay(k: string): unknown } }).log;
        if (log.overlay(key.toString('latin1')) !== undefined) return undefined;
        return original.call(this, key);
      },
    ),
};

export const CONCURRENCY_MUTANTS: readonly Mutant[] = [relocationIgnoresNewerPut, listIgnoresCommitting, readsNotTracked, flushBeforeWritesLand, findIgnoresStaged];
