// The metadata log and group commit of one disk.
//
// Model: mutations are staged in memory (visible to reads at once) and
// committed in cycles. One cycle: wait until the data chunks of the staged
// mutations have *landed* (written, not yet flushed), then append ONE
// metadata record holding the mutations, the landed write pointers and
// owner changes of extents, any run changes, and the name (locator and
// chunk id) of every data chunk it points at that is not durable yet. The
// IO scheduler writes the record in the batch whose writes just landed,
// before that batch's flush (io_scheduler.ts): data and record share ONE
// fdatasync. Once the record is durable, hand the mutations to the index
// memtable and settle the cycle's Latch. Many puts share a cycle.
//
// A crash before that flush returns can leave the record durable and some
// of its data not (or torn). So the rule of soft updates becomes "a record
// is not *believed* before its data is verified" instead of "not *issued*
// before its data is durable": every record carries syncedThroughSeq (the
// records durable when it was built: with one cycle at a time, every
// earlier one), and recovery verifies the named data of the records no
// later record proves synced (the last one) and ends the log before the
// first whose data is not whole (log_verify.ts). Nothing is acknowledged
// before its record's flush returns, so what recovery drops was never
// acknowledged.
//
// Confirmation (issue: the last cycle's data, damaged). A record is known
// covered by a completed flush only once a later durable record says so
// (its syncedThroughSeq) or a checkpoint covers it; until then recovery
// verifies its data, and data that is not whole ends the log there. A torn
// chunk (the flush never returned) and a chunk damaged after the flush
// returned (two flipped bits) cannot be told apart from the bytes, so an
// unconfirmed record whose data was damaged would be dropped silently, and
// with it every acknowledged mutation of its cycle. Under load the next
// cycle confirms the previous one for free. When no cycle follows within
// `confirmIdleMs` (a timer on the store's clock) after a record that named
// data, an empty cycle runs: its record carries the new syncedThroughSeq
// and costs one flush, off the critical path (no put waits on it; a put
// staged meanwhile rides in that cycle). A clean close ends with a cycle
// (drain), so with a durable confirmation; a close that cannot make it
// durable throws. Open confirms a verified tail at once (open.ts). What
// stays exposed: a crash within confirmIdleMs (plus one flush) of the last
// acknowledgement, then damage to that very data before the next open
// (docs/ARCHITECTURE.md, "The confirmation window").
//
// When the log extent is full the log rolls: the memtable is written out as
// a run, a checkpoint naming a fresh log extent is written to the
// superblock, and the old log extent is freed once that checkpoint is
// durable.
//
// The log is kept in two copies: every record is appended, in the same IO
// batch, to the log extent and to its mirror (another metadata extent), at
// the same offset in each, and counts as durable only when both are. One
// bad sector then costs one copy of a record, which replay reads from the
// other (open.ts, log_replay.ts); the second write shares the cycle's one
// fdatasync, so it costs bytes, not a sync.
//
// Invariants:
// 1. A record is appended only after every data chunk it names has landed
//    (each not yet durable is named with its id, so recovery can verify it)
//    and after both copies of the previous record are durable (records form
//    a contiguous, gap-free log; a torn record ends it, and a valid record
//    after one that is bad in both copies proves damage, not a crash).
//    LSM runs (index flushes, compaction) are durable before the record or
//    checkpoint that names them is built (its write pointers must cover
//    them), and that record's or checkpoint's `after` is the runs'
//    Dependency, so the IO scheduler enforces the order too (the data a
//    record names is its `sameFlushAfter` instead: it may share the flush).
//    Where each write's ordering comes from: docs/ARCHITECTURE.md,
//    "Dependency graph".
// 2. Record sequence numbers increase by one; a checkpoint names the next one.
// 3. A mutation reaches the index, and its caller hears it is durable,
//    only after its record (and so its data: same flush) is durable.
// 4. After a record write fails, no later record is written (the log would
//    have a hole); the store becomes read-only. A failed data write fails
//    only the mutations whose chunks it carried (NoSpace when the host file
//    system refused it): the store stays writable.
import { ClosedError, assert, IoError, NoSpaceError } from '../base/index.js';
import type { Clock } from '../base/index.js';
import { ChunkKind, alignUp, locatorEquals } from '../chunk/index.js';
import type { ChunkStore, Locator } from '../chunk/index.js';
import { Dependency, Latch } from '../dependency/index.js';
import { ExtentOwner } from '../extent/index.js';
import type { ExtentManager, HostSpace } from '../extent/index.js';
import { NEEDS_READ } from '../index/index.js';
import type { IndexMutation, IndexValue, LsmIndex, RunDescriptor } from '../index/index.js';
import type { LiveBytes, Relocation } from '../reclaim/index.js';
import type { Superblock } from '../superblock/index.js';
import { encodeManifest, encodeMetaRecord } from './metalog_format.js';
import type { DataName } from './metalog_format.js';

export interface StagedMutation extends IndexMutation {
  /** Persistent when the value's data chunks are. */
  readonly dataDependency: Dependency;
  /** Mutations staged together (stageTogether): they commit all or none. */
  readonly group?: TogetherGroup | undefined;
}

/** The identity of mutations staged together. */
export interface TogetherGroup {
  readonly size: number;
}

/** A staged mutation with the latch its caller waits on. */
interface Pending extends StagedMutation {
  readonly latch: Latch;
  /** Latches of mutations of the same key it replaced before they were committed. */
  readonly superseded: readonly Latch[];
}

/** A change to the set of runs (compaction), applied once its record is durable. */
export interface RunChange {
  readonly added: readonly RunDescriptor[];
  /** Persistent when the chunks of `added` are: the record naming them waits for it. */
  readonly addedDurable: Dependency;
  readonly removed: readonly number[];
  readonly onDurable: () => void;
}

export interface CommitLogState {
  logExtent: number;
  /** Holds a copy of every record of the log, at the same offset. */
  mirrorLogExtent: number;
  nextSeq: number;
  flushedThroughSeq: number;
}

/** Map key for a key: one char per byte, so equal keys give equal strings. */
export function keyString(key: Buffer): string {
  return key.toString('latin1');
}

/**
 * Why a mutation's data could not be committed: NoSpace when the host file
 * system refused the write (the caller answers 507 and may retry once
 * space is freed), else an IO error.
 */
function dataFailure(m: Pending): Error {
  const cause = m.dataDependency.failure();
  if (cause instanceof NoSpaceError) return new NoSpaceError(`the value could not be written to disk: ${cause.message}`, { cause });
  return new IoError('the value could not be written to disk', { cause });
}

/** Settle the latches of `mutations` (and of those they replaced): durable, or failed with `error`. */
function settle(mutations: readonly Pending[], error: Error | undefined): void {
  for (const m of mutations) {
    for (const l of m.superseded) settleLatch(l, error);
    settleLatch(m.latch, error);
  }
}

function settleLatch(l: Latch, error: Error | undefined): void {
  if (l.ticket.state !== 'pending') return;
  if (error === undefined) l.resolve();
  else l.reject(error);
}

/**
 * The mutations in key order (Buffer.compare's). Sorted by their map keys
 * (keyString: one latin1 char per byte, which orders as Buffer.compare
 * does, shorter prefix first) rather than with Buffer.compare, a native
 * call per comparison: a cycle sorts every put it commits.
 */
export function inKeyOrder<T>(mutations: ReadonlyMap<string, T>): T[] {
  const keys = [...mutations.keys()].sort();
  const out: T[] = [];
  for (const k of keys) {
    const m = mutations.get(k);
    if (m !== undefined) out.push(m);
  }
  return out;
}

/** The chunks of a delete (no value): shared, never written. */
const NO_CHUNKS: readonly Locator[] = Object.freeze([]);

/** What a mutation that replaced none carries: shared, never written (readonly). */
const NONE_SUPERSEDED: readonly Latch[] = Object.freeze([]);

/** Move to `failed` every mutation staged together with one that failed: a group commits all or none. */
function failTogether(ok: Pending[], failed: Pending[]): { ok: Pending[]; failed: Pending[] } {
  const broken = new Set(failed.flatMap((m) => (m.group === undefined ? [] : [m.group])));
  if (broken.size === 0) return { ok, failed };
  const stays = ok.filter((m) => m.group === undefined || !broken.has(m.group));
  return { ok: stays, failed: [...failed, ...ok.filter((m) => m.group !== undefined && broken.has(m.group))] };
}

type FlushJob = NonNullable<ReturnType<LsmIndex['beginFlush']>>;

interface WrittenFlush {
  readonly job: FlushJob;
  readonly run: RunDescriptor;
  /** Persistent when the run's chunks are. */
  readonly dependency: Dependency;
}

/** A cycle's record, queued: its sequence number, the mutations it holds and those whose data failed. */
interface QueuedRecord {
  readonly seq: number;
  readonly dataNames: readonly DataName[];
  readonly ok: Pending[];
  readonly failed: Pending[];
  readonly dependency: Dependency;
}

type WrittenRecord = QueuedRecord;

/** When and on which clock an idle store confirms its last record (see the header). */
export interface ConfirmPolicy {
  readonly clock: Clock;
  /** Idle time after a record that named data before an empty cycle confirms it; Infinity: never (tests driving the store step by step). */
  readonly confirmIdleMs: number;
}

/**
 * The last durable record, while no later durable record or checkpoint
 * confirms it and it named data (a record that names none cannot be
 * dropped for its data). Read-only view for checks.
 */
export interface UnconfirmedRecord {
  readonly seq: number;
  /** The data chunks recovery would verify. */
  readonly dataNames: readonly DataName[];
  /** The Dependencies handed out for its mutations (and the staged ones they replaced). */
  readonly dependencies: readonly Dependency[];
}

export class CommitLog {
  /** Staged, not yet in a record: newest value per key (latin1 string of the key bytes). */
  private staged = new Map<string, Pending>();
  /** The cycle being written. */
  private committing = new Map<string, Pending>();
  private runChanges: RunChange[] = [];
  private relocations: Relocation[] = [];
  private latch = new Latch('commit');
  private latchWanted = false;
  private running = false;
  private flushRequested = false;
  private rollRequested = false;
  private failure: Error | undefined;
  private refusal: string | undefined;
  /** Records whose mutations reached the index: a lookup that saw this change may be stale. */
  appliedRecords = 0;
  readonly counters = { commits: 0, records: 0, rolls: 0, indexFlushes: 0, flushFailures: 0, mutations: 0, relocations: 0, confirmations: 0 };
  /** Why the last index flush failed (it is retried by a later cycle). */
  lastFlushError: unknown;
  /** The last durable record, unconfirmed (see the header), if it named data. */
  private exposed: { readonly seq: number; readonly dataNames: readonly DataName[]; readonly ok: readonly Pending[] } | undefined;
  /** A confirmation timer is pending (one at a time). */
  private confirmArmed = false;
  /** When the last record became durable (the confirmation clock's time). */
  private lastRecordMs = 0;
  /** The store was abandoned (a simulated crash): a timer due later starts no cycle. */
  private abandoned = false;
  /** Settles when the running loop ends (idle()). */
  private loopEnded: Promise<void> = Promise.resolve();

  constructor(
    private readonly extents: ExtentManager,
    private readonly chunks: ChunkStore,
    private readonly index: LsmIndex,
    private readonly superblock: Superblock,
    private readonly state: CommitLogState,
    private readonly memtableFlushBytes: number,
    private readonly live: LiveBytes,
    private readonly maxLogBytes: number,
    private readonly space: HostSpace,
    private readonly confirm: ConfirmPolicy,
  ) {}

  /** The last durable record while it is unconfirmed and named data; undefined when everything durable is confirmed. */
  get unconfirmed(): UnconfirmedRecord | undefined {
    const e = this.exposed;
    if (e === undefined) return undefined;
    return { seq: e.seq, dataNames: e.dataNames, dependencies: e.ok.flatMap((m) => [...m.superseded.map((l) => l.dependency), m.latch.dependency]) };
  }

  /**
   * Open found the log's last record verified but unconfirmed (it named
   * data): confirm it with an empty cycle now, so damage to that data
   * later cannot drop it. REQUIRES: a writable store, before any mutation.
   */
  async confirmRecoveredTail(): Promise<void> {
    await this.drain();
  }

  /** The process is gone (DiskStore.abandon): no confirmation cycle starts from a timer still pending. */
  abandon(): void {
    this.abandoned = true;
  }

  /** Resolves once no cycle is running (no new cycle is started: checks wait for the confirmation timer's work with it). */
  async idle(): Promise<void> {
    while (this.running) await this.loopEnded;
  }

  /**
   * After a record became durable: it confirms the previous one; it is
   * itself exposed if it named data, and then an idle timer is armed.
   */
  private recordDurable(record: QueuedRecord): void {
    this.lastRecordMs = this.confirm.clock.nowMs();
    this.exposed = record.dataNames.length === 0 ? undefined : { seq: record.seq, dataNames: record.dataNames, ok: record.ok };
    if (this.exposed !== undefined) this.armConfirmation();
  }

  /**
   * One timer at a time, due confirmIdleMs after the last record. When it
   * fires: a cycle running means traffic (its record confirms for free;
   * the loop arms a new timer when it ends if a record is still exposed);
   * a record written since it was
   * armed (whose arm was skipped) means wait until confirmIdleMs after
   * that one; otherwise run an empty cycle, whose record confirms.
   * A timer is armed only after a record became durable or a loop ended,
   * so a store that makes no progress does not spin on it.
   */
  private armConfirmation(): void {
    if (this.confirmArmed || !Number.isFinite(this.confirm.confirmIdleMs)) return;
    this.confirmArmed = true;
    const armedAtMs = this.confirm.clock.nowMs();
    const waitMs = Math.max(0, this.lastRecordMs + this.confirm.confirmIdleMs - armedAtMs);
    void this.confirm.clock.sleep(waitMs).then(() => {
      this.confirmArmed = false;
      if (this.exposed === undefined || this.failure !== undefined || this.refusal !== undefined || this.abandoned) return;
      if (this.running) return;
      const nowMs = this.confirm.clock.nowMs();
      if (nowMs < this.lastRecordMs + this.confirm.confirmIdleMs) {
        // A record since the timer was armed (its own arm was skipped): the
        // delay counts from it. Unless the sleep moved no time (a test's
        // clock whose sleeps return at once): waiting again would spin;
        // the next loop's end arms again instead.
        if (nowMs > armedAtMs) this.armConfirmation();
        return;
      }
      this.counters.confirmations++;
      // A failed confirmation fails the log like any cycle (read-only;
      // close then throws: the last record stays unconfirmed).
      this.nextCycle();
    });
  }

  get failed(): Error | undefined {
    return this.failure;
  }

  /** The staged or committing mutation of `k`, newest first. */
  overlay(k: string): StagedMutation | undefined {
    return this.staged.get(k) ?? this.committing.get(k);
  }

  /**
   * overlay of a key given as bytes. With nothing staged or committing (a
   * store that only reads) it answers without making the key's string: that
   * string was 4% of a warm 4 KiB get (docs/BENCHMARKS.md, "2026-12-08").
   */
  overlayOf(key: Buffer): StagedMutation | undefined {
    if (this.staged.size === 0 && this.committing.size === 0) return undefined;
    return this.overlay(keyString(key));
  }

  /** Every staged or committing mutation (the newest per key). */
  overlayEntries(): StagedMutation[] {
    if (this.committing.size === 0) return [...this.staged.values()];
    const out = new Map(this.committing);
    for (const [k, m] of this.staged) out.set(k, m);
    return [...out.values()];
  }

  /**
   * Stage a mutation; the returned Dependency is persistent when the record
   * holding it (or a later mutation of the same key) is, and fails if its
   * data could not be written.
   */
  stage(k: string, mutation: StagedMutation): Dependency {
    this.throwIfFailed();
    this.throwIfRefusing();
    const replaced = this.staged.get(k);
    const latch = new Latch('mutation');
    const superseded = replaced === undefined ? NONE_SUPERSEDED : [...replaced.superseded, replaced.latch];
    // Fields named, not spread: this runs once per put.
    this.staged.set(k, { key: mutation.key, value: mutation.value, dataDependency: mutation.dataDependency, latch, superseded });
    this.nextCycle();
    return latch.dependency;
  }

  /**
   * Stage mutations as one: they go into the same cycle (all are staged in
   * this turn, and a cycle takes everything staged), so into one record,
   * which recovery keeps or drops whole; and they wait on each other's data,
   * so a failed data write fails all of them (committable). The Dependency
   * is persistent once all are. REQUIRES: distinct keys.
   */
  stageTogether(mutations: readonly StagedMutation[]): Dependency {
    this.throwIfFailed();
    this.throwIfRefusing();
    const group: TogetherGroup = { size: mutations.length };
    const data = Dependency.all(mutations.map((m) => m.dataDependency));
    return Dependency.all(mutations.map((m) => this.stage(keyString(m.key), { key: m.key, value: m.value, dataDependency: data, group })));
  }

  /** Record run changes (compaction) in the next cycle. */
  stageRunChange(change: RunChange): Dependency {
    this.throwIfFailed();
    this.throwIfRefusing();
    this.runChanges.push(change);
    return this.nextCycle();
  }

  /** The dependency of the next cycle, making sure one runs (extent resets ride on it). */
  nextCycle(): Dependency {
    const dependency = this.latch.dependency;
    this.latchWanted = true;
    if (!this.running && this.failure === undefined) this.startLoop();
    return dependency;
  }

  private startLoop(): void {
    this.running = true;
    // Start on a microtask: callers staging in the same tick share the cycle.
    this.loopEnded = new Promise((resolve) => queueMicrotask(() => void this.loop().finally(resolve)));
  }

  /** Commit everything staged and write the memtable out as a run. */
  async flushIndex(): Promise<void> {
    this.throwIfFailed();
    this.throwIfRefusing();
    this.flushRequested = true;
    await this.nextCycle().persisted();
  }

  /**
   * Write a checkpoint: the memtable goes out as a run and the log starts
   * over in a fresh extent, so the next open replays nothing.
   */
  async checkpoint(): Promise<void> {
    this.throwIfFailed();
    this.throwIfRefusing();
    this.rollRequested = true;
    await this.nextCycle().persisted();
  }

  /**
   * From now on, stage nothing: every stage call, run change, relocation,
   * index flush and checkpoint throws ClosedError(reason). The store calls
   * it when it starts closing, before its last drain: a put, delete or
   * reclamation still in flight then either staged before (the drain
   * commits it, it is durable once acknowledged) or fails with Closed (it
   * never took effect). Without it, a put staged after the drain was
   * acknowledged and lost when the disk closed under its commit (issue 13).
   */
  refuseMutations(reason: string): void {
    this.refusal ??= reason;
  }

  /** Why nothing new is staged (the store is closing), or undefined. */
  get refusing(): string | undefined {
    return this.refusal;
  }

  private throwIfRefusing(): void {
    if (this.refusal !== undefined) throw new ClosedError(this.refusal);
  }

  /**
   * Resolves when everything staged before the call is durable. Even while
   * mutations are refused (close uses both): `flushIndex`, its cycle
   * writes the memtable out as a run; `roll`, it rolls the log (a
   * checkpoint), which records the extents prepared since the last one
   * (host_space.ts).
   */
  async drain(options: { readonly flushIndex?: boolean; readonly roll?: boolean } = {}): Promise<void> {
    this.throwIfFailed();
    if (options.flushIndex === true) this.flushRequested = true;
    if (options.roll === true) this.rollRequested = true;
    await this.nextCycle().persisted();
  }

  throwIfFailed(): void {
    const failure = this.failure;
    if (failure === undefined) return;
    const message = `store is read-only after a failed commit: ${failure.message}`;
    // A record the host refused for lack of space (it should not happen:
    // log extents are prepared, host_space.ts; a copy-on-write host file
    // system or a hole punched in the file can still do it) is reported as
    // what it is, NoSpace (507): free host space, then restart.
    if (failure instanceof NoSpaceError) throw new NoSpaceError(`${message}; free space on the host file system and restart`, { cause: failure });
    throw new IoError(message, { cause: failure });
  }

  private async loop(): Promise<void> {
    while (this.failure === undefined && (this.latchWanted || this.flushRequested)) {
      try {
        await this.cycle();
      } catch (err: unknown) {
        this.failure = err instanceof Error ? err : new IoError(String(err));
        this.latch.reject(this.failure);
        // Nothing staged will ever commit now: fail it rather than leave it pending.
        settle([...this.staged.values()], this.failure);
        this.staged = new Map();
      }
    }
    // No await between the loop's last check and here, so no work can slip in unseen.
    this.running = false;
    // A timer that fired while this loop ran left the confirmation to it.
    if (this.exposed !== undefined && this.failure === undefined) this.armConfirmation();
  }

  private async cycle(): Promise<void> {
    const latch = this.latch;
    this.latch = new Latch('commit');
    this.latchWanted = false;
    this.committing = this.staged;
    this.staged = new Map();
    const changes = this.runChanges;
    this.runChanges = [];
    const relocations = this.relocations;
    this.relocations = [];
    let mutations: Pending[] = [];
    try {
      await this.applyRelocations(relocations);
      const all = inKeyOrder(this.committing);
      const flush = this.wantFlush() ? await this.writeMemtable() : undefined;
      // The index does not change until apply, so the values being replaced
      // can be looked up while the record is written.
      const [written, previous] = await Promise.all([this.writeRecord(all, changes, flush), this.lookupAll(all)]);
      mutations = written.ok;
      for (const m of written.failed) settle([m], dataFailure(m));
      const committed = new Set<Pending>(mutations);
      all.forEach((m, i) => {
        if (committed.has(m)) this.live.replace(previous[i], m.value);
      });
      this.index.apply(mutations, written.seq);
      this.appliedRecords++;
      for (const c of changes) c.onDurable();
      this.counters.commits++;
      this.counters.mutations += mutations.length;
      settle(mutations, undefined);
      latch.resolve();
    } catch (err: unknown) {
      const error = err instanceof Error ? err : new IoError(String(err));
      // Every mutation of the cycle (those already settled, failed for their data, are skipped).
      settle([...this.committing.values()], error);
      latch.reject(error);
      throw err;
    } finally {
      this.committing = new Map();
    }
  }

  /**
   * Split the mutations once their data has landed or failed: a mutation
   * commits only if its data writes succeeded (landed) and every chunk lies
   * below its extent's landed write pointer (the pointer the record will
   * carry; after a failed write in an extent it stops, so nothing past the
   * hole may be referenced). Synchronous: it runs where the record is
   * queued, between the data's writes and their flush.
   */
  private committable(all: readonly Pending[]): { ok: Pending[]; failed: Pending[] } {
    const ok: Pending[] = [];
    const failed: Pending[] = [];
    // One landed write pointer per extent for the whole cycle: nothing lands
    // while this synchronous pass runs, and asking the extent manager per
    // chunk would walk the extent's pending writes once per put.
    const landedEnd = new Map<number, number>();
    const landedWritePointer = (extent: number): number => {
      let wp = landedEnd.get(extent);
      if (wp === undefined) {
        wp = this.extents.landedWritePointer(extent);
        landedEnd.set(extent, wp);
      }
      return wp;
    };
    for (const m of all) {
      let good = m.dataDependency.failure() === undefined && m.dataDependency.hasLanded();
      // A loop, not every() with a closure: this runs once per put.
      for (const c of m.value?.chunks ?? NO_CHUNKS) if (good && c.offset + alignUp(c.length) > landedWritePointer(c.extent)) good = false;
      (good ? ok : failed).push(m);
    }
    return failTogether(ok, failed);
  }

  /** Stage relocations by reclamation; each applies only if its key still points at the original. */
  stageRelocations(relocations: readonly Relocation[]): Dependency {
    this.throwIfFailed();
    this.throwIfRefusing();
    this.relocations.push(...relocations);
    // A failed copy fails the whole call, so reclamation does not reset.
    return Dependency.all(relocations.map((r) => r.dependency)).and(this.nextCycle());
  }

  /**
   * Turn relocations into mutations of this cycle: replace the locator in
   * the newest value of the key (this cycle's mutation, else the index), if
   * that value still points at the original; otherwise drop it (the key was
   * overwritten or deleted, which wins).
   */
  private async applyRelocations(relocations: readonly Relocation[]): Promise<void> {
    for (const r of relocations) {
      const k = keyString(r.key);
      const staged = this.committing.get(k);
      const current = staged !== undefined ? staged.value : await this.index.lookup(r.key);
      if (current === null || current === undefined) continue;
      const at = current.chunks.findIndex((c) => locatorEquals(c, r.from));
      if (at < 0) continue;
      const chunks = current.chunks.slice();
      chunks[at] = r.to;
      const dataDependency = (staged?.dataDependency ?? Dependency.none).and(r.dependency);
      const value = { sizeBytes: current.sizeBytes, chunks };
      this.committing.set(k, { key: r.key, value, dataDependency, group: staged?.group, latch: staged?.latch ?? new Latch('relocation'), superseded: staged?.superseded ?? [] });
      this.counters.relocations++;
    }
  }

  /**
   * The index's value of each mutation's key. Without waiting where the
   * index has the answer in memory (lookupNow: the memtable, cached run
   * blocks), which is most keys of a cycle: a promise per put was a cost of
   * the commit path; the others are read.
   */
  private async lookupAll(mutations: readonly StagedMutation[]): Promise<Array<IndexValue | undefined>> {
    const out = new Array<IndexValue | undefined>(mutations.length);
    let reads: Array<Promise<void>> | undefined;
    mutations.forEach((m, i) => {
      const now = this.index.lookupNow(m.key);
      if (now !== NEEDS_READ) {
        out[i] = now;
        return;
      }
      (reads ??= []).push(
        this.index.lookup(m.key).then((v) => {
          out[i] = v;
        }),
      );
    });
    if (reads !== undefined) await Promise.all(reads);
    return out;
  }

  private wantFlush(): boolean {
    return this.flushRequested || this.index.stats().memtableBytes >= this.memtableFlushBytes;
  }

  /** Write the memtable as a run; its chunks are durable on return. */
  private async writeMemtable(): Promise<WrittenFlush | undefined> {
    this.flushRequested = false;
    // After open, the reserve on the host is made whole first (what the
    // checkpoint did not mark prepared): a flush (and a roll, which
    // flushes) must write into prepared extents.
    await this.space.ready();
    const job = this.index.beginFlush();
    if (job === undefined) return undefined;
    try {
      const { run, dependency } = job.write();
      // Awaited here, not only named as the `after` of the record that
      // adds the run: the record or checkpoint carries the extents' write
      // pointers as they are when it is built, and they must cover the
      // run (without the await, a crash check finds recovery reading a
      // run beyond its extent's write pointer); and a failed run write
      // must leave the memtable for a later cycle, not fail the record
      // (which would make the store read-only).
      await dependency.persisted();
      this.counters.indexFlushes++;
      return { job, run, dependency };
    } catch (err: unknown) {
      // The memtable stays (its entries are in the log); a later cycle retries.
      this.index.abortFlush(job);
      this.counters.flushFailures++;
      this.lastFlushError = err;
      return undefined;
    }
  }

  /**
   * Write the cycle's record as soon as the data of its mutations has
   * landed (from the scheduler's batch, before its flush, so both share it);
   * resolves once the record is durable. A record that does not fit the
   * log (or a requested checkpoint) rolls the log first, then goes to the
   * new log.
   */
  private async writeRecord(all: readonly Pending[], changes: readonly RunChange[], flush: WrittenFlush | undefined): Promise<WrittenRecord> {
    let pendingFlush = flush;
    let attempt = await this.whenLanded(all, () => this.tryAppend(all, changes, pendingFlush, 'may-roll'));
    if (attempt === 'roll') {
      // The checkpoint written by the roll takes the flushed run (if any).
      await this.roll(pendingFlush);
      pendingFlush = undefined;
      attempt = this.tryAppend(all, changes, undefined, 'fresh-log');
      assert(attempt !== 'roll', 'unreachable: no roll in a fresh log');
    }
    await attempt.dependency.persisted();
    this.state.nextSeq = attempt.seq + 1;
    if (pendingFlush !== undefined) {
      this.state.flushedThroughSeq = pendingFlush.job.maxSeq;
      this.index.finishFlush(pendingFlush.job, pendingFlush.run);
    }
    this.counters.records++;
    this.recordDurable(attempt);
    return attempt;
  }

  /**
   * Run `fn` (synchronously) once the data of every mutation has landed or
   * failed: at once if they landed in a batch the record can still join
   * before its flush (also when they had landed before this asked, while
   * that batch still takes writes: io_scheduler.ts, invariant 8);
   * otherwise (that flush may be under way or may have failed) once every
   * data write is durable or failed, as before one flush per cycle: the
   * record then names only data known good.
   */
  private whenLanded<T>(all: readonly Pending[], fn: () => T): Promise<T> {
    const data = Dependency.all(all.map((m) => m.dataDependency));
    return new Promise((resolve, reject) => {
      const run = (): void => {
        try {
          resolve(fn());
        } catch (err: unknown) {
          reject(err instanceof Error ? err : new IoError(String(err)));
        }
      };
      data.onLanded((joinable) => {
        if (joinable) run();
        else data.onAllSettled(run);
      });
    });
  }

  /** Queue both copies of the record, or say the log must roll first. Synchronous (see committable). */
  private tryAppend(all: readonly Pending[], changes: readonly RunChange[], flush: WrittenFlush | undefined, log: 'may-roll' | 'fresh-log'): QueuedRecord | 'roll' {
    const { ok, failed } = this.committable(all);
    const added = changes.flatMap((c) => c.added);
    if (flush !== undefined) added.unshift(flush.run);
    const seq = this.state.nextSeq;
    const dataNames = this.dataNames(ok);
    const record = encodeMetaRecord({
      seq,
      // Cycles run one at a time, and a cycle ends only once its record is
      // durable: every earlier record, and its data, is.
      syncedThroughSeq: seq - 1,
      extentChanges: this.extents.takeChanges().filter((e) => !this.isLogExtent(e.extent)),
      mutations: ok,
      runsAdded: added,
      runsRemoved: changes.flatMap((c) => c.removed),
      flushedThroughSeq: flush?.job.maxSeq ?? this.state.flushedThroughSeq,
      dataNames,
    });
    const logEnd = this.extents.writePointer(this.state.logExtent) + record.length;
    if (log === 'may-roll' && (this.rollRequested || logEnd > this.maxLogBytes || !this.chunks.fits(this.state.logExtent, record.length))) {
      this.rollRequested = false;
      return 'roll';
    }
    assert(this.chunks.fits(this.state.logExtent, record.length), `metadata record of ${record.length} bytes exceeds a log extent`);
    assert(this.chunks.fits(this.state.mirrorLogExtent, record.length), 'the mirror log is behind the log');
    // The record goes out once the runs it adds are durable (`after`) and
    // its data has landed in the batch in flight (sharing its flush), or
    // is durable: never after a failed flush of its data (io_scheduler.ts,
    // invariant 7).
    const runs = this.runsDurable(flush, changes);
    const data = { sameFlushAfter: Dependency.all(ok.map((m) => m.dataDependency)) };
    const primary = this.chunks.appendTo(this.state.logExtent, ChunkKind.MetaRecord, [record], runs, data);
    const mirror = this.chunks.appendTo(this.state.mirrorLogExtent, ChunkKind.MetaRecord, [record], runs, data);
    assert(primary.locator.offset === mirror.locator.offset, `log copies at different offsets: ${primary.locator.offset}, ${mirror.locator.offset}`);
    return { seq, dataNames, ok, failed, dependency: primary.dependency.and(mirror.dependency) };
  }

  /**
   * Persistent when every run a record adds is durable (the memtable's run
   * and compaction outputs): the record's `after`. A record that names a
   * run whose chunks a crash could still lose would make recovery load a
   * run that is not there.
   */
  private runsDurable(flush: WrittenFlush | undefined, changes: readonly RunChange[]): Dependency {
    return Dependency.all([...(flush === undefined ? [] : [flush.dependency]), ...changes.map((c) => c.addedDurable)]);
  }

  /**
   * Every data chunk of `mutations` whose write is not durable yet (it
   * shares the record's flush), with its id: what recovery must find whole
   * before it believes the record. Chunks durable already need no check.
   */
  private dataNames(mutations: readonly Pending[]): DataName[] {
    const names: DataName[] = [];
    for (const m of mutations) {
      for (const locator of m.value?.chunks ?? []) {
        const id = this.chunks.unsyncedId(locator);
        if (id !== undefined) names.push({ locator, id });
      }
    }
    return names;
  }

  private isLogExtent(extent: number): boolean {
    return extent === this.state.logExtent || extent === this.state.mirrorLogExtent;
  }

  /** The new log's mirror; if none is left, the new log goes back (the roll fails with the store unchanged). */
  private allocateMirror(newLog: number): number {
    try {
      return this.extents.allocate(ExtentOwner.Meta, { reserve: 'log' });
    } catch (err: unknown) {
      // Reusable at once: no record or checkpoint has named newLog.
      this.extents.reset(newLog, Dependency.none);
      throw err;
    }
  }

  /**
   * Move the log to a fresh extent behind a checkpoint. Everything committed
   * so far must be in runs first, since the old log is discarded: write the
   * memtable out (unless the caller already did), then checkpoint the
   * manifest with that run. Run changes staged for the current record are
   * not in the checkpoint: the record that follows in the new log has them.
   */
  private async roll(flushed: WrittenFlush | undefined): Promise<void> {
    const flush = flushed ?? (await this.writeMemtable());
    if (flush === undefined && this.index.stats().memtableEntries > 0) {
      // The old log holds entries no run has: discarding it would lose them.
      throw new IoError('cannot roll the metadata log: the memtable could not be written out', { cause: this.lastFlushError });
    }
    const flushedThroughSeq = flush?.job.maxSeq ?? this.state.flushedThroughSeq;
    const oldLogs = [this.state.logExtent, this.state.mirrorLogExtent];
    const newLog = this.extents.allocate(ExtentOwner.Meta, { reserve: 'log' });
    const newMirror = this.allocateMirror(newLog);
    const checkpoint = new Latch('checkpoint');
    for (const old of oldLogs) this.extents.reset(old, checkpoint.dependency);
    this.extents.takeChanges();
    const runs = flush === undefined ? this.index.runs() : [flush.run, ...this.index.runs()];
    const manifest = encodeManifest({ runs, flushedThroughSeq });
    // The checkpoint names the flushed run (the other runs are durable
    // already, and so is every record: cycles run one at a time), so it
    // waits for it; the old logs' resets wait for the checkpoint.
    const dep = this.superblock.write(
      { extents: this.extents.table(), logExtent: newLog, mirrorLogExtent: newMirror, nextRecordSeq: this.state.nextSeq, manifest, hostAllocated: this.extents.takeHostAllocated() },
      this.runsDurable(flush, []),
    );
    try {
      await dep.persisted();
    } catch (err: unknown) {
      checkpoint.reject(err instanceof Error ? err : new IoError(String(err)));
      throw err;
    }
    checkpoint.resolve();
    // The checkpoint covers every record so far: none is exposed now.
    this.exposed = undefined;
    this.state.logExtent = newLog;
    this.state.mirrorLogExtent = newMirror;
    this.state.flushedThroughSeq = flushedThroughSeq;
    if (flush !== undefined) this.index.finishFlush(flush.job, flush.run);
    this.counters.rolls++;
  }
}
