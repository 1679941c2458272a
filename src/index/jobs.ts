// Flush and compaction jobs: write a new run's chunks. Installing the run
// (LsmIndex.finishFlush / finishCompaction) is the store's call, made once
// the metadata record naming the run is durable.
//
// Invariants:
// 1. A job writes at most one run at a time; writing again (a retry after
//    a failed append) gives a new run id, and the older output is garbage.
// 2. A job never changes the runs it reads; they stay valid until the job
//    is finished or aborted (they are "busy": no other job may take them).
import { assert } from '../base/index.js';
import { Dependency } from '../dependency/index.js';
import { RunCursor, mergeRuns } from './merge.js';
import type { Memtable } from './memtable.js';
import { RunBuilder } from './run_builder.js';
import type { BuiltRun, RunStreams } from './run_builder.js';
import type { RunDescriptor } from './run_format.js';
import type { RunHandle } from './run_reader.js';

/** What jobs need from the index to make runs. */
export interface RunFactory {
  readonly streams: RunStreams;
  readonly maxBlockBytes: number;
  readonly bloomBitsPerKey: number;
  nextRunId(): number;
}

export interface RunOutput {
  readonly run: RunDescriptor;
  /** Persistent when every chunk of the run is durable. */
  readonly dependency: Dependency;
}

export interface CompactionOutput {
  /** Undefined when every entry was a dropped tombstone: nothing was written. */
  readonly run: RunDescriptor | undefined;
  readonly dependency: Dependency;
}

export interface FlushJob {
  /** Highest sequence number in the frozen memtable. */
  readonly maxSeq: number;
  readonly entryCount: number;
  /** Write the frozen memtable as a level-0 run (its chunks wait for nothing: run_builder.ts, invariant 2). */
  write(): RunOutput;
}

export interface CompactionJob {
  /** Adjacent runs, newest first. */
  readonly inputs: readonly RunDescriptor[];
  readonly outputLevel: number;
  /** The inputs end at the oldest run: nothing older can hold a key, tombstones go. */
  readonly dropsTombstones: boolean;
  readonly maxSeq: number;
  /** Merge the inputs into one run (its chunks wait for nothing: run_builder.ts, invariant 2). */
  write(): Promise<CompactionOutput>;
}

type JobState = 'open' | 'writing' | 'written' | 'closed';

function newBuilder(factory: RunFactory, level: number, maxSeq: number): RunBuilder {
  return new RunBuilder(factory.streams, {
    runId: factory.nextRunId(),
    level,
    maxSeq,
    maxBlockBytes: factory.maxBlockBytes,
    bloomBitsPerKey: factory.bloomBitsPerKey,
  });
}

export class FlushJobImpl implements FlushJob {
  state: JobState = 'open';
  output: BuiltRun | undefined;

  constructor(
    private readonly factory: RunFactory,
    readonly memtable: Memtable,
  ) {
    assert(memtable.entries > 0 && memtable.maxSeq >= 0, 'flush of an empty memtable');
  }

  get maxSeq(): number {
    return this.memtable.maxSeq;
  }

  get entryCount(): number {
    return this.memtable.entries;
  }

  write(): RunOutput {
    assert(this.state === 'open' || this.state === 'written', `flush job write in state ${this.state}`);
    this.state = 'open';
    this.output = undefined;
    const builder = newBuilder(this.factory, 0, this.memtable.maxSeq);
    const c = this.memtable.cursor(undefined);
    for (let key = c.key; key !== undefined; c.step(), key = c.key) builder.add(key, c.value);
    const built = builder.finish();
    assert(built !== undefined && built.descriptor.entryCount === this.memtable.entries, 'flush wrote a short run');
    this.output = built;
    this.state = 'written';
    return { run: built.descriptor, dependency: built.dependency };
  }
}

export class CompactionJobImpl implements CompactionJob {
  state: JobState = 'open';
  output: BuiltRun | undefined;
  readonly inputs: readonly RunDescriptor[];
  readonly maxSeq: number;

  constructor(
    private readonly factory: RunFactory,
    readonly handles: readonly RunHandle[],
    readonly outputLevel: number,
    readonly dropsTombstones: boolean,
  ) {
    assert(handles.length >= 1, 'compaction without inputs');
    this.inputs = handles.map((h) => h.desc);
    this.maxSeq = Math.max(...this.inputs.map((d) => d.maxSeq));
  }

  async write(): Promise<CompactionOutput> {
    assert(this.state === 'open' || this.state === 'written', `compaction job write in state ${this.state}`);
    this.state = 'writing';
    this.output = undefined;
    try {
      const builder = newBuilder(this.factory, this.outputLevel, this.maxSeq);
      const cursors = this.handles.map((h) => new RunCursor(h, false));
      await Promise.all(cursors.map((c) => c.seek(undefined)));
      await mergeRuns(cursors, this.dropsTombstones, (key, raw) => builder.addRaw(key, raw));
      this.output = builder.finish();
    } catch (err) {
      this.state = 'open';
      throw err;
    }
    this.state = 'written';
    return { run: this.output?.descriptor, dependency: this.output?.dependency ?? Dependency.none };
  }
}
