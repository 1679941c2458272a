// Broken variants of the paper's crash-consistency bug classes, and of
// reclamation and recovery. Each patches one production method through its
// prototype (or a static); private members are reached through a cast, as
// the bug would reach them from inside.
import { ChunkKind } from '../../src/chunk/index.js';
import type { ChunkStore, ChunkStream, ScannedHead } from '../../src/chunk/index.js';
import { BufferCache } from '../../src/chunk/index.js';
import { Dependency } from '../../src/dependency/index.js';
import type { IoScheduler } from '../../src/dependency/index.js';
import type { ExtentManager } from '../../src/extent/index.js';
import type { LsmIndex } from '../../src/index/index.js';
import { FlushJobImpl } from '../../src/index/jobs.js';
import { Reclaimer } from '../../src/reclaim/index.js';
import type { ReclaimHost, Relocation } from '../../src/reclaim/index.js';
import { DiskStore } from '../../src/store/index.js';
import { flushBeforeWritesLand } from './concurrency_mutants.js';
import { CommitLog } from '../../src/store/commit_log.js';
import type { StagedMutation } from '../../src/store/commit_log.js';
import { Superblock, decodeCheckpoint, encodeCheckpoint } from '../../src/superblock/index.js';
import type { Checkpoint, Label } from '../../src/superblock/index.js';
import { patch } from './mutant.js';
import type { Mutant } from './mutant.js';

/** The metadata record does not wait for the data chunks it names. */
export const recordWithoutDataDependency: Mutant = {
  name: 'record-without-data-dependency',
  bugClass: 'missing dependency of the write-pointer/index record on the data writes',
  caughtBy: 'crash',
  expect: /: model \{.*\}, engine \{|holds \S+, allowed: /,
  install: () =>
    patch(CommitLog.prototype, 'stage', (original) =>
      function (this: CommitLog, k: string, mutation: StagedMutation): Dependency {
        return original.call(this, k, { ...mutation, dataDependency: Dependency.none });
      },
    ),
};

interface ReclaimerInternals {
  extents: ExtentManager;
  chunks: ChunkStore;
  stream: ChunkStream;
  host: ReclaimHost;
  evacuate(chunk: ScannedHead, damaged: number[]): Promise<Relocation | undefined>;
}

/** Reclamation resets the extent as soon as the relocations are staged, before they are durable. */
export const resetBeforeIndexDurable: Mutant = {
  name: 'reset-before-index-durable',
  bugClass: 'extent reset before the index change that stops referencing it is durable',
  // Harmful only when the freed extent is reused before the relocations
  // commit, which takes a put running alongside: the concurrency suite.
  caughtBy: 'concurrency',
  // A get of the reset extent's old chunk reads what reuse wrote over it.
  expect: /not linearizable|after a crash|beyond write pointer|still holds \d+ live bytes|does not match its header/,
  install: () =>
    patch(Reclaimer.prototype as unknown as { reclaimExtent: (extent: number) => Promise<Dependency> }, 'reclaimExtent', () =>
      // Returns the Dependency after which the extent is reusable, as the
      // original does (a variant returning nothing crashed the harness with
      // "Cannot read properties of undefined (reading 'persisted')" and
      // counted as caught: issue 13).
      async function (this: ReclaimerInternals, extent: number): Promise<Dependency> {
        this.extents.seal(extent);
        this.stream.release(extent);
        await this.extents.writesSettled(extent);
        const batch: Relocation[] = [];
        for await (const chunk of this.chunks.scanHeads(extent)) {
          if (chunk.kind !== ChunkKind.Data) continue;
          const r = await this.evacuate(chunk, []);
          if (r !== undefined) batch.push(r);
        }
        const committed = this.host.relocate(batch);
        this.extents.reset(extent, Dependency.none);
        await committed.persisted();
        return Dependency.none;
      },
      1,
    ),
};

/** close() stops without the final commit: staged puts and the record of recent resets are lost. */
export const closeWithoutFinalCommit: Mutant = {
  name: 'close-without-final-commit',
  bugClass: 'metadata not flushed at shutdown (after a reset)',
  caughtBy: 'crash',
  expect: /dependencies not persistent after a clean close/,
  install: () =>
    patch(DiskStore.prototype, 'close', () =>
      async function (this: DiskStore): Promise<void> {
        const io: IoScheduler = this.parts.io;
        this.abandon();
        await io.idle();
        await this.parts.disk.close();
      },
    ),
};

/** The buffer cache keeps the pages of a reset extent. */
export const cacheNotInvalidated: Mutant = {
  name: 'cache-not-invalidated-on-reset',
  bugClass: 'buffer cache not drained after an extent reset',
  caughtBy: 'conformance',
  expect: /cache holds \d+:\d+\+\d+, beyond the write pointer/,
  install: () => patch(BufferCache.prototype, 'invalidateExtent', () => function (): void {}),
};

interface SuperblockInternals {
  label: Label;
  io: IoScheduler;
  sequenceValue: number;
}

/** Every checkpoint goes to slot 0: a torn checkpoint write leaves no valid one. */
export const superblockOneSlot: Mutant = {
  name: 'superblock-single-slot',
  bugClass: 'torn superblock write loses the previous good copy',
  caughtBy: 'crash',
  expect: /no valid superblock checkpoint/,
  install: () =>
    patch(Superblock.prototype, 'write', () =>
      function (this: Superblock, cp: Omit<Checkpoint, 'sequence'>, after: Dependency): Dependency {
        const self = this as unknown as SuperblockInternals;
        self.sequenceValue++;
        const bytes = encodeCheckpoint({ ...cp, sequence: self.sequenceValue }, self.label);
        // One copy, one slot: the redundancy of the second copy is gone too.
        return self.io.write(self.label.slotOffsets[0], bytes, after);
      },
    ),
};

/** Open takes the first valid checkpoint slot instead of the newest. */
export const loadFirstValidSlot: Mutant = {
  name: 'load-first-valid-slot',
  bugClass: 'recovery picks a stale superblock copy',
  caughtBy: 'conformance',
  expect: /persistent state differs across a clean reboot/,
  install: () => {
    const original = Superblock.load.bind(Superblock);
    Superblock.load = async (io: IoScheduler, label: Label) => {
      const found = await original(io, label);
      const buf = await io.read(label.slotOffsets[0], label.slotBytes);
      try {
        return { ...found, checkpoint: decodeCheckpoint(buf, label) };
      } catch (err: unknown) {
        // Slot 0 is damaged: the bug only shows when it is valid but stale.
        void err;
        return found;
      }
    };
    return () => {
      Superblock.load = original;
    };
  },
};

/** A flushed run claims one record more than it holds: recovery skips that record's mutations. */
export const flushedThroughOffByOne: Mutant = {
  name: 'flushed-through-off-by-one',
  bugClass: 'index flush metadata off by one (entries lost at recovery)',
  caughtBy: 'conformance',
  expect: /persistent state differs across a clean reboot/,
  install: () => {
    const descriptor = Object.getOwnPropertyDescriptor(FlushJobImpl.prototype, 'maxSeq');
    Object.defineProperty(FlushJobImpl.prototype, 'maxSeq', {
      configurable: true,
      get(this: FlushJobImpl): number {
        return this.memtable.maxSeq + 1;
      },
    });
    return () => {
      if (descriptor !== undefined) Object.defineProperty(FlushJobImpl.prototype, 'maxSeq', descriptor);
    };
  },
};

interface CommitLogFlushInternals {
  flushRequested: boolean;
  space: { ready(): Promise<void> };
  index: LsmIndex;
  counters: { indexFlushes: number };
}

/**
 * The record (and checkpoint) naming a memtable run no longer waits for
 * the run: the edge `after: runsDurable(...)` is dropped, and so is the
 * await of the run before the record is built (with the await, the edge
 * is redundant: docs/ARCHITECTURE.md, "Dependency graph"). A crash can
 * then keep a record or checkpoint naming a run whose chunks, or whose
 * extent's write pointer, never reached the disk.
 */
export const recordBeforeItsRuns: Mutant = {
  name: 'record-before-its-runs',
  bugClass: 'missing dependency of the index metadata on the LSM run it names',
  caughtBy: 'crash',
  // Recovery believes a record or checkpoint naming a run whose chunks a
  // crash dropped, and cannot read it.
  expect: /dirtyReboot\(.*\): engine threw CorruptionError: run \d+: index: both copies failed/,
  install: () => {
    const restoreEdge = patch(
      CommitLog.prototype as unknown as { runsDurable: (flush: unknown, changes: unknown) => Dependency },
      'runsDurable',
      () => (): Dependency => Dependency.none,
      2,
    );
    const restoreAwait = patch(
      CommitLog.prototype as unknown as { writeMemtable: () => Promise<unknown> },
      'writeMemtable',
      () =>
        async function (this: CommitLogFlushInternals): Promise<unknown> {
          this.flushRequested = false;
          await this.space.ready();
          const job = this.index.beginFlush();
          if (job === undefined) return undefined;
          const { run, dependency } = job.write();
          this.counters.indexFlushes++;
          return { job, run, dependency };
        },
      0,
    );
    return () => {
      restoreAwait();
      restoreEdge();
    };
  },
};

/**
 * flush-before-writes-land (concurrency_mutants.ts) as the crash suite sees
 * it: a quarter of its sequences run on a disk that completes some IOs
 * turns late (crash.ts, reorderedCompletions), so a batch that flushes
 * before its writes complete declares a chunk durable that a crash then
 * does not find where the record says. On a disk that completes every IO
 * as it is issued (all the crash suite had before), the variant is harmless:
 * every write has completed before the flush is issued.
 */
export const flushBeforeWritesLandAtCrash: Mutant = {
  ...flushBeforeWritesLand,
  name: 'flush-before-writes-land-crash',
  caughtBy: 'crash',
  // What the crash finds missing: a data chunk a record names, or a log record before a later whole one.
  expect: /[rR]eboot\(.*\): engine threw (CorruptionError: chunk at \d+:\d+: (bad header|payload|trailing chunk id)|LogDamageError: metadata log damaged: record \d+ is unreadable)/,
};

export const CRASH_MUTANTS: readonly Mutant[] = [
  recordWithoutDataDependency,
  resetBeforeIndexDurable,
  closeWithoutFinalCommit,
  cacheNotInvalidated,
  superblockOneSlot,
  loadFirstValidSlot,
  flushedThroughOffByOne,
  recordBeforeItsRuns,
  flushBeforeWritesLandAtCrash,
];
