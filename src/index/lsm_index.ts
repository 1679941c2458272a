// The LSM index: shard key -> IndexValue (the value's data chunk locators),
// values kept out of the tree (WiscKey). See docs/format/lsm_run.md.
//
// Model. Newest first, a key's value is the first of:
//   1. the active memtable: committed mutations (`apply`), newest;
//   2. the frozen memtable: the active one as `beginFlush` froze it, while
//      its run is written and until the store installs it (`finishFlush`);
//   3. the runs of the current version, newest first (each run an immutable
//      sorted list of entries in chunks written through ChunkIo).
// A tombstone (null) hides every older value. The store owns durability:
// it calls `apply` only for mutations whose metadata record is durable, and
// installs a flushed or compacted run only once the metadata record naming
// it is durable; the index only writes chunks and hands back dependencies.
//
// Invariants:
// 1. At most one frozen memtable and one flush job at a time; the frozen
//    memtable never changes.
// 2. Runs are ordered newest first by the data they hold: a flush installs
//    its run as the newest; a compaction replaces adjacent runs by one run
//    at their place. Runs in a job are busy: no other job may take them.
// 3. A compaction drops tombstones only when its inputs end at the oldest
//    run (nothing older can hold the key).
// 4. Readers (lookup, scan, snapshot) see one snapshot: the memtables at the call
//    (the active one copied as far as the scan needs), and one refcounted
//    version of the runs, which compaction cannot change under them.
// 5. `apply` sequence numbers never go down, and stay above every run's
//    maxSeq and the frozen memtable's: so runs' maxSeq strictly decrease
//    from newest to oldest (asserted at every install), and a manifest
//    sorted by maxSeq descending is in age order.
//
// The store's protocol, in order:
//   open:    restore(manifest runs); apply(...) each logged record past the
//            store's own "flushed through" seq (runs' maxSeq may be lower
//            after a compaction that came out empty).
//   flush:   job = beginFlush(); {run, dependency} = job.write(after);
//            record `run` in a metadata record that waits for `dependency`;
//            once that record is durable, finishFlush(job, run) (else
//            abortFlush(job); the written chunks are garbage).
//   compact: job = pickCompaction(); {run, dependency} = await job.write(after);
//            record "add run (if any), remove job.inputs"; once durable,
//            finishCompaction(job, run) (else abortCompaction(job)); then
//            reset the inputs' extents only after whenUnused(job.inputs).
//   reclaim: an index extent holds live run chunks iff liveIndexBytesByExtent()
//            lists it; the store resets only index extents it does not list
//            (compaction moves run chunks off an extent).
import { AssertionError, assert } from '../base/index.js';
import type { Locator } from '../chunk/index.js';
import { keyHash } from './bloom.js';
import { MAX_FAN_IN, MIN_FAN_IN, pickFull, pickTiered } from './compaction_policy.js';
import type { Pick } from './compaction_policy.js';
import { CompactionJobImpl, FlushJobImpl } from './jobs.js';
import type { CompactionJob, FlushJob, RunFactory } from './jobs.js';
import { assertKey, rangeMayMatch, scanStart } from './keys.js';
import { ArrayCursor, MemtableCursor, RunCursor, copyForScan, mergeLive } from './merge.js';
import type { Cursor, ScanEntry } from './merge.js';
import { Memtable } from './memtable.js';
import type { MemValue } from './memtable.js';
import { MIN_BLOCK_BYTES } from './run_builder.js';
import type { RunStreams } from './run_builder.js';
import { descriptorProblem, indexValueProblem } from './run_format.js';
import type { IndexValue, RunDescriptor } from './run_format.js';
import { BlockCache, NEEDS_READ, RunHandle, newReadCounters } from './run_reader.js';
import { IndexSnapshot } from './snapshot.js';
import type { CopyChunks, ReadCounters } from './run_reader.js';
import { VersionSet } from './version.js';

export const DEFAULT_MAX_BLOCK_BYTES = 64 * 1024;
export const DEFAULT_FAN_IN = 8;
export const DEFAULT_BLOOM_BITS_PER_KEY = 10;
export const DEFAULT_BLOCK_CACHE_BLOCKS = 256;
/** Most live entries one scan returns. */
export const MAX_SCAN_LIMIT = 1_000_000;
/** Entries a walk of the whole index (scrub, fsck, reattach) asks of one scan: bounds its memory. */
export const WALK_PAGE_KEYS = 256;

export interface LsmIndexOptions {
  /** Largest RunBlock payload; capped at chunkIo.maxPayloadBytes. */
  readonly maxBlockBytes?: number;
  /** Runs merged by one compaction, and the per-level run count that triggers one. */
  readonly fanIn?: number;
  readonly bloomBitsPerKey?: number;
  /** Decoded blocks kept in memory (0: none). */
  readonly blockCacheBlocks?: number;
}

export interface IndexMutation {
  readonly key: Buffer;
  /** null: tombstone (the key was deleted). */
  readonly value: IndexValue | null;
}

export interface ScanOptions {
  /** First key to consider (inclusive); any length. */
  readonly from?: Buffer;
  readonly prefix?: Buffer;
  /** Most live entries returned, 0..MAX_SCAN_LIMIT. */
  readonly limit: number;
}

export interface PickOptions {
  /** Work towards one run: merge the oldest runs (up to fanIn) even below the level trigger. */
  readonly full?: boolean;
}

export interface IndexStats {
  readonly memtableEntries: number;
  readonly memtableBytes: number;
  readonly frozenEntries: number;
  readonly frozenBytes: number;
  readonly runs: number;
  /** Run count per level (index = level). */
  readonly runsPerLevel: readonly number[];
  readonly runEntries: number;
  readonly retiredVersions: number;
  readonly busyRuns: number;
  readonly lookups: number;
  readonly memtableHits: number;
  readonly scans: number;
  readonly flushes: number;
  readonly compactions: number;
  readonly indexLoads: number;
  readonly blockReads: number;
  readonly blockCacheHits: number;
  readonly bloomNegatives: number;
  readonly bloomFalsePositives: number;
  /** Run index or block reads the mirror served after the primary copy failed. */
  readonly mirrorRepairs: number;
}

interface OpCounters {
  lookups: number;
  memtableHits: number;
  scans: number;
  flushes: number;
  compactions: number;
}

export class LsmIndex {
  private active = new Memtable();
  private frozen: Memtable | undefined;
  private flushJob: FlushJobImpl | undefined;
  private readonly compactions = new Set<CompactionJobImpl>();
  private readonly busy = new Set<number>();
  private readonly versions = new VersionSet();
  private readonly cache: BlockCache;
  private readonly reads: ReadCounters = newReadCounters();
  private readonly ops: OpCounters = { lookups: 0, memtableHits: 0, scans: 0, flushes: 0, compactions: 0 };
  private readonly factory: RunFactory;
  private readonly fanIn: number;
  private nextRunId = 1;
  /** Highest seq that is (or is being written) in a run: applies must be above it. */
  private floorSeq = -1;
  private lastApplySeq = -1;

  /** REQUIRES: `streams.primary` and `streams.mirror` never append to one extent at the same time (ChunkStream.pairWith). */
  constructor(
    private readonly streams: RunStreams,
    options: LsmIndexOptions = {},
  ) {
    const maxPayloadBytes = Math.min(streams.primary.maxPayloadBytes, streams.mirror.maxPayloadBytes);
    const maxBlockBytes = Math.min(options.maxBlockBytes ?? DEFAULT_MAX_BLOCK_BYTES, maxPayloadBytes);
    assert(maxBlockBytes >= MIN_BLOCK_BYTES, `maxBlockBytes ${maxBlockBytes} below ${MIN_BLOCK_BYTES}`);
    const bloomBitsPerKey = options.bloomBitsPerKey ?? DEFAULT_BLOOM_BITS_PER_KEY;
    assert(bloomBitsPerKey > 0 && bloomBitsPerKey <= 64, `bloomBitsPerKey ${bloomBitsPerKey}`);
    this.fanIn = options.fanIn ?? DEFAULT_FAN_IN;
    assert(Number.isInteger(this.fanIn) && this.fanIn >= MIN_FAN_IN && this.fanIn <= MAX_FAN_IN, 'fanIn');
    this.cache = new BlockCache(options.blockCacheBlocks ?? DEFAULT_BLOCK_CACHE_BLOCKS);
    this.factory = { streams, maxBlockBytes, bloomBitsPerKey, nextRunId: () => this.nextRunId++ };
  }

  // ------------------------------------------------------------ manifest

  /** The installed runs, newest first (what the store records). */
  runs(): RunDescriptor[] {
    return this.versions.current.runs.map((h) => h.desc);
  }

  /**
   * Install the runs of a manifest at open (newest first). Their indexes
   * load lazily. REQUIRES: a fresh index (no runs, no mutations, no jobs).
   */
  restore(runs: readonly RunDescriptor[]): void {
    assert(this.versions.current.runs.length === 0 && this.active.entries === 0, 'restore into a used index');
    assert(this.frozen === undefined && this.compactions.size === 0, 'restore with jobs in progress');
    const ids = new Set<number>();
    for (const d of runs) {
      const problem = descriptorProblem(d);
      assert(problem === undefined, `restore: invalid run descriptor: ${problem ?? ''}`);
      assert(!ids.has(d.id), `restore: run ${d.id} listed twice`);
      ids.add(d.id);
      this.nextRunId = Math.max(this.nextRunId, d.id + 1);
      this.floorSeq = Math.max(this.floorSeq, d.maxSeq);
    }
    this.install(runs.map((d) => this.handle(d)));
  }

  private install(runs: readonly RunHandle[]): void {
    for (let i = 1; i < runs.length; i++) {
      const newer = runs[i - 1]?.desc.maxSeq ?? -1;
      assert(newer > (runs[i]?.desc.maxSeq ?? -1), 'runs must be ordered by maxSeq, newest (highest) first');
    }
    this.versions.install(runs);
  }

  private handle(d: RunDescriptor): RunHandle {
    return new RunHandle(d, this.streams, this.cache, this.reads);
  }

  // ------------------------------------------------------------ mutations

  /**
   * Apply committed mutations (in order; a later one for the same key wins).
   * REQUIRES: seq >= every seq applied before, and above every restored
   * run's maxSeq; keys of 1..MAX_KEY_BYTES bytes; valid values. All or nothing.
   */
  apply(mutations: readonly IndexMutation[], seq: number): void {
    if (!Number.isSafeInteger(seq) || seq <= this.floorSeq || seq < this.lastApplySeq) {
      throw new AssertionError(`apply: seq ${seq} not above ${this.floorSeq} (in the runs) and at least ${this.lastApplySeq}`);
    }
    for (const m of mutations) {
      assertKey(m.key);
      const problem = m.value === null ? undefined : indexValueProblem(m.value);
      if (problem !== undefined) throw new AssertionError(`apply: invalid index value: ${problem}`);
    }
    for (const m of mutations) this.active.put(m.key, m.value, seq);
    this.lastApplySeq = seq;
  }

  // ------------------------------------------------------------ reads

  /** The key's value; undefined when absent or deleted. REQUIRES: key of 1..MAX_KEY_BYTES bytes. */
  async lookup(key: Buffer): Promise<IndexValue | undefined> {
    assertKey(key);
    this.ops.lookups++;
    const mem = this.memLookup(key);
    if (mem !== undefined) {
      this.ops.memtableHits++;
      return mem ?? undefined;
    }
    const version = this.versions.acquire();
    try {
      return await this.lookupRuns(version.runs, key);
    } finally {
      this.versions.release(version);
    }
  }

  /**
   * lookup() without waiting, for the common case of a key in a memtable
   * or in a cached block (a get served from memory then costs no promise per
   * layer): the answer, or NEEDS_READ when a run's index or block is not in
   * memory (then call lookup()).
   */
  lookupNow(key: Buffer): IndexValue | undefined | typeof NEEDS_READ {
    assertKey(key);
    const mem = this.memLookup(key);
    if (mem !== undefined) {
      this.ops.lookups++;
      this.ops.memtableHits++;
      return mem ?? undefined;
    }
    // No await below: the current version cannot change under this loop.
    const hash = keyHash(key);
    for (const run of this.versions.current.runs) {
      if (run.mayContain(key, hash) === false) continue;
      const v = run.findNow(key, hash);
      if (v === NEEDS_READ) return NEEDS_READ;
      if (v !== undefined) {
        this.ops.lookups++;
        return v ?? undefined;
      }
    }
    this.ops.lookups++;
    return undefined;
  }

  private memLookup(key: Buffer): MemValue | undefined {
    const a = this.active.get(key);
    if (a !== undefined) return a;
    return this.frozen?.get(key);
  }

  private async lookupRuns(runs: readonly RunHandle[], key: Buffer): Promise<IndexValue | undefined> {
    const hash = keyHash(key);
    for (const run of runs) {
      if (run.mayContain(key, hash) === false) continue;
      const v = await run.find(key, hash);
      if (v !== undefined) return v ?? undefined;
    }
    return undefined;
  }

  /**
   * Live entries in ascending key order, newest value per key, from `from`
   * (inclusive) and with `prefix`, at most `limit`. Runs are read block by
   * block, as far as the limit needs. Returned keys and values are shared:
   * do not modify them.
   */
  async scan(options: ScanOptions): Promise<ScanEntry[]> {
    const { limit } = options;
    assert(Number.isInteger(limit) && limit >= 0 && limit <= MAX_SCAN_LIMIT, `scan limit ${limit}`);
    this.ops.scans++;
    if (limit === 0) return [];
    const prefix = options.prefix !== undefined && options.prefix.length > 0 ? options.prefix : undefined;
    const start = scanStart(options.from, prefix);
    // Everything below up to acquire() runs synchronously: one snapshot.
    const sources: Cursor[] = [copyForScan(this.active.cursor(start), prefix, limit)];
    if (this.frozen !== undefined) sources.push(new MemtableCursor(this.frozen.cursor(start)));
    const version = this.versions.acquire();
    try {
      const runs = version.runs.filter((r) => rangeMayMatch(r.desc.minKey, r.desc.maxKey, start, prefix));
      const cursors = runs.map((r) => new RunCursor(r, true));
      await Promise.all(cursors.map((c) => c.seek(start)));
      return await mergeLive([...sources, ...cursors], prefix, limit);
    } finally {
      this.versions.release(version);
    }
  }

  /**
   * The whole index as it is now, to walk page by page over many turns
   * (snapshot.ts). Synchronous: no mutation can land between the call and
   * the view it returns. Holds the current runs until release().
   */
  snapshot(): IndexSnapshot {
    const all = this.active.copyAll();
    const memtables: Cursor[] = [new ArrayCursor(all.skeys, all.values)];
    if (this.frozen !== undefined) memtables.push(new MemtableCursor(this.frozen.cursor(undefined)));
    return new IndexSnapshot(memtables, this.versions.acquire(), (v) => this.versions.release(v));
  }

  /** Resolves when no lookup, scan or snapshot still uses a version holding these runs. REQUIRES: none is installed. */
  whenUnused(runs: readonly RunDescriptor[]): Promise<void> {
    return this.versions.whenUnused(new Set(runs.map((r) => r.id)));
  }

  // ------------------------------------------------------------ flush

  /** Freeze the active memtable for a flush; undefined when it is empty. REQUIRES: no flush in progress. */
  beginFlush(): FlushJob | undefined {
    assert(this.frozen === undefined && this.flushJob === undefined, 'beginFlush: a flush is in progress');
    if (this.active.entries === 0) return undefined;
    this.frozen = this.active;
    this.active = new Memtable();
    // The run will hold every seq up to the frozen maxSeq: later applies must be above it.
    this.floorSeq = Math.max(this.floorSeq, this.frozen.maxSeq);
    this.flushJob = new FlushJobImpl(this.factory, this.frozen);
    return this.flushJob;
  }

  /** Install the flushed run as the newest and drop the frozen memtable. REQUIRES: the record naming `run` is durable. */
  finishFlush(job: FlushJob, run: RunDescriptor): void {
    const j = this.flushJob;
    assert(j !== undefined && job === j, 'finishFlush: not the flush in progress');
    const out = j.output;
    assert(j.state === 'written' && out !== undefined, 'finishFlush: the run was not written');
    assert(out.descriptor.id === run.id, `finishFlush: run ${run.id} is not the job's run ${out.descriptor.id}`);
    const handle = new RunHandle(out.descriptor, this.streams, this.cache, this.reads, out);
    this.install([handle, ...this.versions.current.runs]);
    j.state = 'closed';
    this.frozen = undefined;
    this.flushJob = undefined;
    this.ops.flushes++;
  }

  /** Give up a flush: the frozen entries go back to the active memtable (newer active entries win). */
  abortFlush(job: FlushJob): void {
    const j = this.flushJob;
    assert(j !== undefined && job === j, 'abortFlush: not the flush in progress');
    const frozen = j.memtable;
    const c = frozen.cursor(undefined);
    for (let key = c.key; key !== undefined; c.step(), key = c.key) this.active.putIfAbsent(key, c.value, frozen.maxSeq);
    j.state = 'closed';
    this.frozen = undefined;
    this.flushJob = undefined;
  }

  // ------------------------------------------------------------ compaction

  /** The next compaction (tiered by level, or towards one run with `full`), or undefined. */
  pickCompaction(options: PickOptions = {}): CompactionJob | undefined {
    const runs = this.versions.current.runs;
    const slots = runs.map((r) => ({ level: r.desc.level, busy: this.busy.has(r.id), tombstones: r.desc.tombstoneCount }));
    const pick = options.full === true ? pickFull(slots, this.fanIn) : pickTiered(slots, this.fanIn);
    return pick === undefined ? undefined : this.startCompaction(runs, pick);
  }

  private startCompaction(runs: readonly RunHandle[], pick: Pick): CompactionJob {
    const inputs = runs.slice(pick.start, pick.end);
    for (const r of inputs) {
      assert(!this.busy.has(r.id), `run ${r.id} is already in a job`);
      this.busy.add(r.id);
    }
    const job = new CompactionJobImpl(this.factory, inputs, pick.outputLevel, pick.end === runs.length);
    this.compactions.add(job);
    return job;
  }

  /**
   * Replace the job's inputs by its output run (none if it came out empty).
   * REQUIRES: the record naming the change is durable. Afterwards, reset the
   * inputs' extents only once whenUnused(job.inputs) resolves.
   */
  finishCompaction(job: CompactionJob, run: RunDescriptor | undefined): void {
    const j = this.compactionJob(job);
    assert(j.state === 'written', `finishCompaction: job in state ${j.state}`);
    assert(j.output?.descriptor.id === run?.id, 'finishCompaction: not the job output');
    const runs = this.versions.current.runs;
    const first = j.handles[0];
    assert(first !== undefined, 'compaction without inputs');
    const start = runs.indexOf(first);
    assert(start >= 0, 'finishCompaction: inputs not installed');
    j.handles.forEach((h, i) => assert(runs[start + i] === h, 'finishCompaction: inputs no longer adjacent'));
    const out = j.output;
    const replacement = out === undefined ? [] : [new RunHandle(out.descriptor, this.streams, this.cache, this.reads, out)];
    const next = [...runs.slice(0, start), ...replacement, ...runs.slice(start + j.handles.length)];
    this.install(next);
    this.closeCompaction(j);
    this.ops.compactions++;
  }

  /** Give up a compaction (its inputs stay). REQUIRES: its write is not pending. */
  abortCompaction(job: CompactionJob): void {
    const j = this.compactionJob(job);
    assert(j.state !== 'writing', 'abortCompaction while the job writes');
    this.closeCompaction(j);
  }

  private compactionJob(job: CompactionJob): CompactionJobImpl {
    for (const j of this.compactions) if (j === job) return j;
    throw new AssertionError('not a compaction job of this index (finished or aborted already?)');
  }

  private closeCompaction(j: CompactionJobImpl): void {
    for (const h of j.handles) this.busy.delete(h.id);
    j.state = 'closed';
    this.compactions.delete(j);
  }

  // ------------------------------------------------------------ accounting

  /**
   * Compactions in the middle of writing: their chunks are not counted by
   * liveIndexBytesByExtent until the output is complete, so no index extent
   * may be reset while this is above zero.
   */
  get compactionsWriting(): number {
    let n = 0;
    for (const j of this.compactions) if (j.state === 'writing') n++;
    return n;
  }

  /** Every chunk of both copies of a run (index root, index parts, blocks); see RunHandle.chunks. */
  chunksOf(run: RunDescriptor): Promise<Locator[]> {
    return this.runHandle(run).chunks();
  }

  /** Each copy's chunks, or its root and why its index does not load (fsck, scrub). */
  copyChunksOf(run: RunDescriptor): Promise<CopyChunks[]> {
    return this.runHandle(run).copyChunks();
  }

  private runHandle(run: RunDescriptor): RunHandle {
    return this.versions.handlesInUse().get(run.id) ?? this.handle(run);
  }

  /**
   * Bytes per extent of run chunks someone may still read or install: runs
   * installed, runs of versions with readers, and outputs written by jobs
   * not yet finished or aborted. Extents not listed hold no live index chunk.
   */
  liveIndexBytesByExtent(): Map<number, number> {
    const descs = new Map<number, RunDescriptor>();
    for (const [id, h] of this.versions.handlesInUse()) descs.set(id, h.desc);
    const jobs = [...this.compactions, ...(this.flushJob === undefined ? [] : [this.flushJob])];
    for (const j of jobs) if (j.output !== undefined) descs.set(j.output.descriptor.id, j.output.descriptor);
    const out = new Map<number, number>();
    for (const d of descs.values()) {
      for (const e of [...d.extents, ...d.mirrorExtents]) out.set(e.extent, (out.get(e.extent) ?? 0) + e.bytes);
    }
    return out;
  }

  stats(): IndexStats {
    const runs = this.versions.current.runs;
    const runsPerLevel: number[] = [];
    let runEntries = 0;
    for (const r of runs) {
      while (runsPerLevel.length <= r.desc.level) runsPerLevel.push(0);
      runsPerLevel[r.desc.level] = (runsPerLevel[r.desc.level] ?? 0) + 1;
      runEntries += r.desc.entryCount;
    }
    return {
      memtableEntries: this.active.entries,
      memtableBytes: this.active.approxBytes,
      frozenEntries: this.frozen?.entries ?? 0,
      frozenBytes: this.frozen?.approxBytes ?? 0,
      runs: runs.length,
      runsPerLevel,
      runEntries,
      retiredVersions: this.versions.retiredCount,
      busyRuns: this.busy.size,
      ...this.ops,
      ...this.reads,
    };
  }
}
