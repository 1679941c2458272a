// Crash-consistency check: the conformance alphabet plus DirtyReboot(kind).
//
// Strategy: run the sequence against the engine on a simulated disk and the
// reference model, comparing results as the conformance check does. Every
// successful put and delete is recorded with the Dependency it returned.
// A DirtyReboot optionally writes the memtable out first, optionally leaves
// work in flight (a put, a commit, an index flush, a compaction or a
// reclamation, crashed after N disk IOs), then drops all volatile state:
// the store is abandoned and the disk keeps, of its unflushed writes, none,
// all, a subset, or a subset with torn pages (a seeded choice). The store is
// reopened on that disk and checked against what the dependencies promised.
//
// Invariants (after each DirtyReboot):
// 1. Persistence: a key whose latest persistent operation (Dependency
//    persistent at the crash) is O holds O's value or the value of an
//    operation after O; never an older value.
// 2. Atomicity: every value read back equals, byte for byte, the value of
//    one operation on that key (never a mix, never garbage); a key that was
//    never written is absent. Puts committed together (putTogether, in
//    flight at the crash: a prepared, streamed value and a whole one, as
//    the S3 front puts an object's data and record) are all there or none.
// 3. Recovery needs no manual step: open succeeds on every crash image.
// After each clean reboot:
// 4. Forward progress: every Dependency handed out before close is
//    persistent once close has resolved (or failed, after a fault).
//
// Faults (the fault alphabet adds them): an IO error on the next read,
// write or flush of an extent, a permanent read error, or a flipped bit in
// stored data. After one, calls may fail with a typed error, but:
// 5. No wrong bytes: whatever a read returns is (a range of) a value some
//    write of that key stored; a listing names only sizes some write stored.
// 6. Nothing unaffected is lost: after the next reboot, invariants 1 and 2
//    hold for every key, except that a key whose data a bit flip damaged may
//    fail to read with Corruption (never return other bytes).
// The host-full fault (testing/host_fs.ts): the host file system under the
// sparse data file has no free block left, until a heal; it stays full
// across reboots (it is the machine, not the process). Writes over blocks
// written before still go through. While the host is full and no other
// fault happened since the last recovery:
// 7. Host ENOSPC is a clean NoSpace: the store never turns read-only (no
//    failed commit), a put fails or its Dependency fails only with
//    NoSpace, a delete of a present key succeeds, and background work
//    (flush, compaction, reclamation, checkpoint) fails only with NoSpace;
//    also after a reboot on the still-full host. Invariants 1, 2 and 5
//    hold as after any fault (nothing acknowledged is lost).
// Time (the store's clock is the harness's VirtualClock): reads, listings
// and background steps start after idle time (idle()), in which the store
// confirms its last record (commit_log.ts, "Confirmation"); puts, deletes,
// faults and reboots do not wait.
// 8. The confirmation window, and nothing broader: a crash may drop a
//    persistent write only if it is in the store's unconfirmed last record
//    (CommitLog.unconfirmed), the data that record names is damaged on
//    the media, and no idle time passed since the write became persistent
//    (or the store turned read-only before it could confirm).
//    docs/ARCHITECTURE.md, "The confirmation window".
import fc from 'fast-check';
import { checkSequences, runOnHarness } from './sequences.js';
import type { CheckOptions } from './sequences.js';
import { ShardStoreError } from '../src/base/index.js';
import { Latch } from '../src/dependency/index.js';
import type { Dependency } from '../src/dependency/index.js';
import { ExtentOwner } from '../src/extent/index.js';
import { openDiskStore } from '../src/store/index.js';
import type { DiskStore } from '../src/store/index.js';
import { ConformanceFailure, SMALL_CONFIG, apply, formatOptions, keyDigest } from './conformance.js';
import type { EngineConfig } from './conformance.js';
import { ModelStore } from './model.js';
import { KEY_POOL, PREFIX_POOL, crashOpArb, faultOpArb, formatOp, formatOps, keyOf, scrubFaultOpArb, valueOf } from './ops.js';
import type { Op } from './ops.js';
import { Rng } from './rng.js';
import { pieces } from './migration_streams.js';
import { hashSeed } from './check/seed_space.js';
import { SimDisk } from './sim_disk.js';
import type { SimIoScheduler } from './sim_disk.js';
import { HostFs } from './host_fs.js';
import { formatDiskStore } from '../src/store/index.js';
import { checkScrubPass } from './scrub_check.js';
import { VirtualClock } from './virtual_clock.js';
import { checkChunk } from '../src/chunk/index.js';
import type { DataName } from '../src/store/metalog_format.js';
import type { StoreOptions } from '../src/store/index.js';

type DirtyReboot = Extract<Op, { op: 'dirtyReboot' }>;

interface Write {
  readonly value: Buffer | null;
  /** Undefined for work that was in flight at the crash (never acknowledged). */
  readonly dependency: Dependency | undefined;
  /**
   * Persistent, then the store stayed idle for the confirmation delay
   * (CrashHarness.idle): no later crash may drop its record for its data.
   */
  confirmed?: boolean;
}

/** Per key: the value it had at the last recovery, and every mutation since. */
export class History {
  /** Per key, what it may hold at the last recovery (one value, or several if it could not be read). */
  private readonly baseline = new Map<string, Array<Buffer | null>>();
  private readonly writes = new Map<string, Write[]>();

  record(key: Buffer, write: Write): void {
    const k = key.toString('latin1');
    const list = this.writes.get(k);
    if (list === undefined) this.writes.set(k, [write]);
    else list.push(write);
  }

  /**
   * The values each key may hold after a crash now (null: absent).
   * `exposed`: Dependencies of the one record the crash may drop although
   * they are persistent (the confirmation window, CrashHarness.exposed);
   * a write confirmed since (an idle period) is never among them.
   */
  allowed(exposed: ReadonlySet<Dependency> = NO_DEPENDENCIES): Map<string, Array<Buffer | null>> {
    const out = new Map<string, Array<Buffer | null>>();
    for (const k of new Set([...this.baseline.keys(), ...this.writes.keys()])) {
      const writes = this.writes.get(k) ?? [];
      let last = -1;
      writes.forEach((w, i) => {
        const d = w.dependency;
        if (d?.isPersistent() === true && (w.confirmed === true || !exposed.has(d))) last = i;
      });
      const base = this.baseline.get(k) ?? [null];
      out.set(k, last < 0 ? [...base, ...writes.map((w) => w.value)] : writes.slice(last).map((w) => w.value));
    }
    return out;
  }

  /**
   * Fix what `key` holds, as read back now, dropping its past. REQUIRES: no
   * write of `key` since the last reset (its disk was out of service).
   */
  settle(key: Buffer, value: Buffer | null): void {
    const k = key.toString('latin1');
    this.baseline.set(k, [value]);
    this.writes.delete(k);
  }

  /** The store was idle for the confirmation delay: every persistent write is confirmed. */
  confirmPersistent(): void {
    for (const list of this.writes.values()) for (const w of list) if (w.dependency?.isPersistent() === true) w.confirmed = true;
  }

  /** Every recorded dependency (forward progress). */
  dependencies(): Dependency[] {
    const out: Dependency[] = [];
    for (const list of this.writes.values()) for (const w of list) if (w.dependency !== undefined) out.push(w.dependency);
    return out;
  }

  /** Start over from what the engine holds now; `unknown` keys keep every value they were allowed. */
  reset(contents: Map<string, Buffer>, unknown: Map<string, Array<Buffer | null>>): void {
    this.baseline.clear();
    for (const [k, v] of contents) this.baseline.set(k, [v]);
    for (const [k, v] of unknown) this.baseline.set(k, v);
    this.writes.clear();
  }
}

const NO_DEPENDENCIES: ReadonlySet<Dependency> = new Set();

/**
 * The store's confirmation delay in the simulation (store option
 * confirmIdleMs, on the harness's virtual clock): idle() moves the clock by
 * it, so a confirmation is due exactly at the steps that follow idle time.
 */
export const SIM_CONFIRM_IDLE_MS = 10;

/**
 * Steps that start after idle time (a client coming back later, background
 * work on its schedule): reads, listings, reclamation, compaction, index
 * flushes, checkpoints, scrub passes. Puts and deletes follow each other
 * without a pause (under load the next cycle confirms the previous one),
 * and faults and reboots strike at once: a crash can still fall inside the
 * confirmation window after the last put (invariant 8).
 */
const IDLE_BEFORE = new Set<Op['op']>(['get', 'head', 'read', 'list', 'reclaim', 'compact', 'flush', 'checkpoint', 'scrubPass']);

export interface CrashCounters {
  crashStates: number;
  operations: number;
  faultsInjected: number;
  /** IOs the disk completed turns after their issue (reorderedCompletions): the late path must be exercised. */
  lateIos?: number;
  /** Puts that found no free extent and waited for reclamation (the space rule's harness: the full disk must be reached). */
  roomWaits?: number;
  /** Puts refused NoSpace where the space rule allows it (live data above its bound). */
  spaceRefusals?: number;
}

/**
 * Invariant 9 (the space suite, testing/space.ts): a put on a fault-free
 * store is refused NoSpace only if the live data after it (value and key
 * bytes of every key the model holds) would exceed `refusalAboveLiveBytes`.
 * Below that, reclamation can always free room: a refusal is a failure. A
 * refused put changes nothing (the key keeps its value); one allowed is
 * counted, the model left as it was.
 */
export interface SpaceRule {
  readonly refusalAboveLiveBytes: number;
}

export class CrashHarness {
  private step = 0;
  private readonly history = new History();
  private model = new ModelStore();
  /** An IO fault was injected since the last recovery: calls may fail with typed errors. */
  private faulty = false;
  /** Media damage (bit flips) happened: reads may fail with Corruption for good. */
  private damaged = false;
  /** The host file system is full (the host-full fault, until a heal). */
  private hostFull = false;
  /** Groups of puts committed together that were in flight at the crash being checked. */
  private groups: Array<ReadonlyArray<{ readonly key: Buffer; readonly value: Buffer }>> = [];
  /** An IO fault other than host-full was injected since the last recovery. */
  private ioFaulted = false;
  /** Puts that waited for room in the stores before this one (each reboot opens a new store). */
  private roomWaitsBefore = 0;

  private constructor(
    private disk: SimDisk,
    private readonly host: HostFs,
    private store: DiskStore,
    private readonly config: EngineConfig,
    private readonly rng: Rng,
    readonly counters: CrashCounters,
    /** The store's clock: moved only by idle(). */
    private readonly clock: VirtualClock,
    /** Invariant 9, when set: a put is refused NoSpace only above the rule's live bytes; otherwise NoSpace is compared as any answer. */
    private readonly space?: SpaceRule,
  ) {}

  /**
   * Idle time: the clock moves by the confirmation delay and the store's
   * work settles (a confirmation cycle, if one was due). Every write
   * persistent before then is confirmed unless the store is read-only (a
   * failed commit: nothing confirms any more, invariant 8).
   */
  private async idle(): Promise<void> {
    // Cycles under way end first (a put returns before its cycle does):
    // the delay counts from the last record.
    await this.store.log.idle();
    this.clock.advance(SIM_CONFIRM_IDLE_MS);
    await new Promise<void>((resolve) => setImmediate(resolve));
    await this.store.log.idle();
    if (this.store.log.failed === undefined) this.history.confirmPersistent();
  }

  /**
   * Invariant 8, the confirmation window: the Dependencies the crash may
   * drop although persistent. Only those of the store's last durable
   * record while it is unconfirmed, only if the data it names was damaged
   * (not whole on the media: the data shared the record's completed flush,
   * so only a bit flip does that), and never a write confirmed since
   * (History.allowed).
   */
  private exposed(): ReadonlySet<Dependency> {
    const record = this.store.log.unconfirmed;
    if (record === undefined || !this.damaged) return NO_DEPENDENCIES;
    const size = this.store.parts.extents.extentSizeBytes;
    if (record.dataNames.every((n) => namedChunkWhole(this.disk, size, n))) return NO_DEPENDENCIES;
    return new Set(record.dependencies);
  }

  private openOptions(): StoreOptions {
    return { ...formatOptions(this.config, this.rng.fork('chunk-ids')), ...confirmOptions(this.clock) };
  }

  /** `reorderIos`: the disk completes IOs out of order (reorderedCompletions); otherwise each as it is issued. */
  static async create(config: EngineConfig, seed: number, options: { readonly reorderIos?: boolean; readonly space?: SpaceRule } = {}): Promise<CrashHarness> {
    const rng = new Rng(seed);
    const counters: CrashCounters = { crashStates: 0, operations: 0, faultsInjected: 0, lateIos: 0 };
    const late = (): void => {
      counters.lateIos = (counters.lateIos ?? 0) + 1;
    };
    const scheduler = options.reorderIos === true ? { scheduler: reorderedCompletions(rng.fork('io-order'), late) } : {};
    const disk = new SimDisk({ sizeBytes: config.diskSizeBytes, pageSizeBytes: config.pageSizeBytes, fillSeed: seed, ...scheduler });
    const host = new HostFs();
    const clock = new VirtualClock();
    const store = await formatDiskStore(host.wrap(disk), { ...formatOptions(config, rng.fork('chunk-ids')), ...confirmOptions(clock) });
    return new CrashHarness(disk, host, store, config, rng, counters, clock, options.space);
  }

  async run(op: Op): Promise<void> {
    const index = this.step++;
    this.counters.operations++;
    try {
      if (IDLE_BEFORE.has(op.op)) await this.idle();
      await this.runStep(op);
      this.checkHostFull(op, index);
    } catch (err: unknown) {
      if (this.hostFullOnly && BACKGROUND_OPS.has(op.op) && !(err instanceof ShardStoreError && err.code === 'NoSpace')) {
        const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        throw new ConformanceFailure(`step ${index} ${formatOp(op)} on a full host: ${what} (only NoSpace may fail it)`, index);
      }
      // After a fault, background work and flushes may fail with typed IO
      // errors; what matters is checked by the reads and the next recovery.
      if (this.faulty && isTypedIoError(err) && BACKGROUND_OPS.has(op.op)) {
        this.checkHostFull(op, index);
        return;
      }
      if (err instanceof ConformanceFailure) throw err;
      const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      throw new ConformanceFailure(`step ${index} ${formatOp(op)}: engine threw ${what}`, index);
    }
  }

  async close(): Promise<void> {
    await this.store.close();
  }

  /** Open a new store on this.disk in place of the old one (closed or abandoned), keeping the old one's room waits. */
  private async reopen(): Promise<void> {
    this.roomWaitsBefore += this.store.stats().putsWaitedForRoom ?? 0;
    this.store = await openDiskStore(this.host.wrap(this.disk), this.openOptions());
  }

  /** Puts that found no free extent and waited for reclamation, in every store of the sequence so far. */
  get roomWaits(): number {
    return this.roomWaitsBefore + (this.store.stats().putsWaitedForRoom ?? 0);
  }

  /** Invariant 7 applies: the host is full and nothing else went wrong since the last recovery. */
  private get hostFullOnly(): boolean {
    return this.hostFull && !this.ioFaulted && !this.damaged;
  }

  /** Invariant 7, after each step: never read-only, and every failed Dependency failed with NoSpace. */
  private checkHostFull(op: Op, index: number): void {
    if (!this.hostFullOnly) return;
    const fail = (why: string): never => {
      throw new ConformanceFailure(`step ${index} ${formatOp(op)} on a full host: ${why}`, index);
    };
    const failed = this.store.log.failed;
    if (failed !== undefined) fail(`the store turned read-only: ${failed.message}`);
    for (const d of this.history.dependencies()) {
      const err = d.failure();
      if (err !== undefined && !(err instanceof ShardStoreError && err.code === 'NoSpace')) fail(`a mutation failed with ${err.name}: ${err.message} (not NoSpace)`);
    }
  }

  private async runStep(op: Op): Promise<void> {
    switch (op.op) {
      case 'dirtyReboot':
        return this.dirtyReboot(op);
      case 'reboot':
        return this.cleanReboot();
      case 'commit':
        return this.store.log.drain();
      case 'flush':
        return this.store.flush();
      case 'compact':
        return this.store.compact();
      case 'reclaim':
        return void (await this.store.reclaim({ maxExtents: 2, maxLiveRatio: 1 }));
      case 'checkpoint':
        return this.store.checkpoint();
      case 'put':
      case 'delete':
        return this.faulty ? this.mutateFaulty(op) : this.mutate(op);
      case 'fault':
        return this.injectFault(op);
      case 'heal':
        // The operator frees space on the host, and restarts.
        this.host.setFreeBytes(undefined);
        this.hostFull = false;
        return this.dirtyReboot({ op: 'dirtyReboot', mode: 'keep-all', flushFirst: false, during: 'none', afterIos: 0, crashSeed: 0 });
      case 'scrubPass':
        return this.scrubPass(op);
      default:
        return this.faulty ? this.compareFaulty(op) : this.compare(op);
    }
  }

  /** A scrub pass, the disk perhaps failing part way (testing/scrub_check.ts). */
  private async scrubPass(op: Extract<Op, { op: 'scrubPass' }>): Promise<void> {
    const fail = (why: string): never => {
      throw new ConformanceFailure(`step ${this.step - 1} ${formatOp(op)}: ${why}`, this.step - 1);
    };
    if (await checkScrubPass(this.store, this.disk, op.failAfterReads, this.faulty, fail)) {
      this.faulty = true;
      // The disk failing under scrub is an IO fault like the alphabet's:
      // until the next recovery, work may fail with Io, on a full host too
      // (invariant 7 is for a host that is only full; found by check seed 1406).
      this.ioFaulted = true;
      this.counters.faultsInjected++;
    }
  }

  /** Install a fault on the disk under the store (see the fault alphabet in ops.ts). */
  private injectFault(op: Extract<Op, { op: 'fault' }>): void {
    if (op.kind === 'host-full') {
      this.host.setFreeBytes(0);
      this.hostFull = true;
      this.faulty = true;
      this.counters.faultsInjected++;
      return;
    }
    const extents = this.store.parts.extents;
    const used = [ExtentOwner.Data, ExtentOwner.Index, ExtentOwner.Meta].flatMap((o) => extents.extentsOwnedBy(o));
    const data = extents.extentsOwnedBy(ExtentOwner.Data).filter((e) => extents.writePointer(e) > 0);
    const size = extents.extentSizeBytes;
    const pick = (list: number[]): number | undefined => list[op.extentPick % Math.max(1, list.length)];
    const extent = op.kind === 'bitflip' || op.kind === 'read-permanent' ? pick(data) : pick(used);
    if (extent === undefined) return;
    const range = { offset: extent * size, length: size };
    this.counters.faultsInjected++;
    this.faulty = true;
    this.ioFaulted = true;
    if (op.kind === 'read-once') this.disk.failReads(range, 'once');
    else if (op.kind === 'write-once') this.disk.failWrites(range, 'once');
    else if (op.kind === 'flush-once') this.disk.failFlush('once');
    else if (op.kind === 'read-permanent') this.disk.failReads(range, 'permanent');
    else {
      this.damaged = true;
      for (const at of this.flipTargets(op, extent)) this.disk.flipBit(at, op.offsetPick % 8);
    }
  }

  /**
   * Where a bit flip lands (disk offsets). Half the flips (odd offsetPick)
   * go into the data of the store's last record while it is unconfirmed:
   * the data recovery verifies, where damage and a torn tail look alike
   * (invariant 8); those flip the bit in two neighbouring bytes (a damaged
   * sector rarely loses one bit only), which one flip recognised as damage
   * would not test. Uniform over the written part of the extent, that data
   * is one page among hundreds, and two flips in it were too rare for any
   * check to find the loss (docs/TESTING.md, "The last cycle's data").
   */
  private flipTargets(op: Extract<Op, { op: 'fault' }>, extent: number): number[] {
    const extents = this.store.parts.extents;
    const size = extents.extentSizeBytes;
    const names = this.store.log.unconfirmed?.dataNames ?? [];
    const name = names[op.extentPick % Math.max(1, names.length)];
    if (op.offsetPick % 2 === 1 && name !== undefined) {
      const { locator } = name;
      const inChunk = Math.floor(op.offsetPick / 2) % (locator.length - 1);
      const at = locator.extent * size + locator.offset + inChunk;
      return [at, at + 1];
    }
    return [extent * size + (op.offsetPick % extents.writePointer(extent))];
  }

  /**
   * A read-only call after a fault: it may fail with a typed error, but
   * what it returns must be one of the values the key may hold.
   */
  private async compareFaulty(op: Op): Promise<void> {
    const allowed = this.history.allowed();
    const fail = (why: string): never => {
      throw new ConformanceFailure(`step ${this.step - 1} ${formatOp(op)} after a fault: ${why}`, this.step - 1);
    };
    try {
      await checkAgainstAllowed(this.store, op, allowed, fail);
    } catch (err: unknown) {
      if (err instanceof ShardStoreError && (err.code === 'Io' || err.code === 'Corruption' || err.code === 'NotFound' || err.code === 'InvalidArgument')) {
        if (err.code === 'NotFound' || err.code === 'InvalidArgument') checkAbsentOrRange(op, allowed, err.code, fail);
        return;
      }
      throw err;
    }
  }

  /** A put or delete after a fault: it may fail; either way its effect is uncertain until it is persistent. */
  private async mutateFaulty(op: Extract<Op, { op: 'put' | 'delete' }>): Promise<void> {
    const key = keyOf(op.key);
    const value = op.op === 'put' ? valueOf(op.size, op.fill) : null;
    try {
      const dependency = op.op === 'put' ? await this.store.put(key, value ?? Buffer.alloc(0)) : await this.store.delete(key);
      this.history.record(key, { value, dependency });
    } catch (err: unknown) {
      if (!(err instanceof ShardStoreError)) throw err;
      if (err.code === 'NotFound' && op.op === 'delete') {
        if (!(this.history.allowed().get(key.toString('latin1')) ?? [null]).includes(null)) {
          throw new ConformanceFailure(`step ${this.step - 1} ${formatOp(op)}: NotFound, but the key cannot be absent`, this.step - 1);
        }
        return;
      }
      if (this.hostFullOnly && (op.op === 'delete' || err.code !== 'NoSpace')) {
        throw new ConformanceFailure(`step ${this.step - 1} ${formatOp(op)} on a full host: ${err.code}: ${err.message}`, this.step - 1);
      }
      if (err.code !== 'Io' && err.code !== 'Corruption' && err.code !== 'NoSpace') throw err;
      this.history.record(key, { value, dependency: undefined });
    }
  }

  private async compare(op: Op): Promise<void> {
    const expected = await apply(this.model, op);
    const actual = await apply(this.store, op);
    if (JSON.stringify(expected) !== JSON.stringify(actual)) {
      throw new ConformanceFailure(`step ${this.step - 1} ${formatOp(op)}: model ${JSON.stringify(expected)}, engine ${JSON.stringify(actual)}`, this.step - 1);
    }
  }

  /**
   * A put or delete: compare outcomes, and record the dependency of a
   * successful one. The engine goes first: under the space rule a put it
   * refused for space must leave the model as it was.
   */
  private async mutate(op: Extract<Op, { op: 'put' | 'delete' }>): Promise<void> {
    const key = keyOf(op.key);
    let dependency: Dependency | undefined;
    let actual: { ok: string } | { error: string };
    try {
      dependency = op.op === 'put' ? await this.store.put(key, valueOf(op.size, op.fill)) : await this.store.delete(key);
      actual = { ok: op.op === 'put' ? 'put' : 'deleted' };
    } catch (err: unknown) {
      if (!(err instanceof ShardStoreError)) throw err;
      actual = { error: err.code };
    }
    if (op.op === 'put' && 'error' in actual && actual.error === 'NoSpace' && this.space !== undefined) return this.refusedForSpace(op, this.space);
    const expected = await apply(this.model, op);
    if (JSON.stringify(expected) !== JSON.stringify(actual)) {
      throw new ConformanceFailure(`step ${this.step - 1} ${formatOp(op)}: model ${JSON.stringify(expected)}, engine ${JSON.stringify(actual)}`, this.step - 1);
    }
    if (dependency !== undefined) this.history.record(key, { value: op.op === 'put' ? valueOf(op.size, op.fill) : null, dependency });
  }

  /** Invariant 9: a refusal for space only with more live data than the rule's bound. */
  private async refusedForSpace(op: Extract<Op, { op: 'put' }>, rule: SpaceRule): Promise<void> {
    const key = keyOf(op.key);
    let live = 0;
    for (const s of (await this.model.list({})).shards) if (!s.key.equals(key)) live += s.key.length + s.sizeBytes;
    live += key.length + op.size;
    if (live <= rule.refusalAboveLiveBytes) {
      throw new ConformanceFailure(
        `step ${this.step - 1} ${formatOp(op)}: refused NoSpace with ${live} bytes live after it (refusals only above ${rule.refusalAboveLiveBytes}): reclamation could have made room`,
        this.step - 1,
      );
    }
    this.counters.spaceRefusals = (this.counters.spaceRefusals ?? 0) + 1;
  }

  private async cleanReboot(): Promise<void> {
    const deps = this.history.dependencies();
    // Read before close (which closes the disk): close only ever narrows it.
    const exposed = this.exposed();
    try {
      await this.store.close();
    } catch (err: unknown) {
      // After a fault, close may fail to make the last commit durable
      // (or to confirm the last record): then the restart is a power cut.
      if (!(this.faulty && isTypedIoError(err))) throw err;
      return this.dirtyReboot({ op: 'dirtyReboot', mode: 'drop-all', flushFirst: false, during: 'none', afterIos: 0, crashSeed: 0 }, exposed);
    }
    // Forward progress; a dependency that failed (after a fault) is settled too.
    const pending = deps.filter((d) => !d.isPersistent() && d.failure() === undefined).length;
    if (pending > 0) {
      throw new ConformanceFailure(`step ${this.step - 1} reboot(): ${pending} dependencies not persistent after a clean close`, this.step - 1);
    }
    // A restart: transient and permanent IO faults are gone (bit flips stay on the media).
    this.disk.clearFaults();
    this.disk = this.disk.clone();
    await this.reopen();
    await this.resync(new Map(this.history.allowed()));
  }

  private async dirtyReboot(op: DirtyReboot, exposedAtClose?: ReadonlySet<Dependency>): Promise<void> {
    if (op.flushFirst) await this.store.flush();
    const inFlight = this.startInFlight(op);
    await this.waitForIos(op.afterIos, inFlight);
    // The crash instant: what is persistent now is what was promised
    // (but for the confirmation window, invariant 8).
    const allowed = this.history.allowed(exposedAtClose ?? this.exposed());
    this.store.abandon();
    const { disk } = this.disk.crash(this.rng.fork(`crash-${op.crashSeed}`), op.mode);
    await inFlight.catch((err: unknown) => err);
    this.counters.crashStates++;
    disk.clearFaults();
    this.disk = disk;
    await this.reopen();
    await this.resync(allowed);
    await this.checkGroups();
  }

  /** Work left in flight by a DirtyReboot; settles however the crash ends it. */
  private startInFlight(op: DirtyReboot): Promise<unknown> {
    switch (op.during) {
      case 'put': {
        const key = keyOf(op.crashSeed % 12);
        const value = valueOf((op.crashSeed * 7) % 20000, op.crashSeed);
        this.history.record(key, { value, dependency: undefined });
        // Until durable, not until staged: the put gets its afterIos IOs
        // (its data, its record, the flush) before the crash. A put of one
        // chunk is staged in the call's own turn (DiskStore.putOneChunk),
        // so racing the staging crashed it before any of its IO.
        return this.store.put(key, value).then((d) => d.persisted());
      }
      case 'putTogether':
        return this.putTogether(op.crashSeed);
      case 'commit':
        return this.store.log.drain();
      case 'flush':
        return this.store.flush();
      case 'compact':
        return this.store.compact();
      case 'reclaim': {
        // A put that needs fresh data extents runs alongside: it takes any
        // extent reclamation frees too early.
        const key = keyOf(KEY_POOL.length + (op.crashSeed % 50));
        const value = valueOf(this.config.extentSizeBytes, op.crashSeed);
        this.history.record(key, { value, dependency: undefined });
        return Promise.all([this.store.reclaim({ maxExtents: 2, maxLiveRatio: 1 }), this.store.put(key, value)]);
      }
      case 'checkpoint':
        return this.store.checkpoint();
      default:
        return Promise.resolve();
    }
  }

  /**
   * Two fresh keys put together: the first value prepared from a stream
   * (sizes around the chunk size, so it may span chunks), the second given
   * whole. Recorded with a Dependency that follows the group's, so a
   * group durable at the crash must be there whole (invariant 1), and
   * checked all-or-none after the reboot (invariant 2).
   */
  private async putTogether(crashSeed: number): Promise<void> {
    const group = [0, 1].map((i) => ({
      key: Buffer.from(`together-${crashSeed % 64}-${i}`),
      value: valueOf(i === 0 ? (crashSeed * 13) % (3 * this.config.maxChunkDataBytes) : 1 + (crashSeed % 700), crashSeed + i),
    }));
    const latch = new Latch('putTogether');
    for (const g of group) this.history.record(g.key, { value: g.value, dependency: latch.dependency });
    this.groups.push(group);
    const [first, second] = group as [(typeof group)[0], (typeof group)[0]];
    const prepared = await this.store.prepare(first.key, pieces(first.value, crashSeed));
    latch.follow(await this.store.putTogether([{ key: first.key, value: prepared }, { key: second.key, value: second.value }]));
  }

  /** Invariant 2 for groups: all keys of a group in flight at the crash hold its values, or none does. */
  private async checkGroups(): Promise<void> {
    const groups = this.groups;
    this.groups = [];
    for (const group of groups) {
      const holds: boolean[] = [];
      for (const g of group) {
        let value: Buffer | null = null;
        try {
          value = await this.store.get(g.key);
        } catch (err: unknown) {
          if (err instanceof ShardStoreError && err.code === 'NotFound') value = null;
          else if (this.damaged && err instanceof ShardStoreError && err.code === 'Corruption') return;
          else throw err;
        }
        holds.push(value !== null && value.equals(g.value));
      }
      if (holds.some((h) => h) && !holds.every((h) => h)) {
        throw new ConformanceFailure(`step ${this.step - 1} after reboot: puts committed together came back in part: ${group.map((g, i) => `${keyDigest(g.key)} ${holds[i] === true ? 'new' : 'not new'}`).join(', ')}`, this.step - 1);
      }
    }
  }

  private waitForIos(n: number, work: Promise<unknown>): Promise<unknown> {
    if (n === 0) return Promise.resolve();
    let seen = 0;
    const ios = new Promise<void>((resolve) => {
      this.disk.onIo((event) => {
        if (event === 'complete' && ++seen >= n) resolve();
      });
    });
    return Promise.race([ios, work.catch((err: unknown) => err)]);
  }

  /** Check the recovered contents against what was allowed; then take them as the new baseline. */
  private async resync(allowed: Map<string, Array<Buffer | null>>): Promise<void> {
    const at = `step ${this.step - 1} after reboot`;
    const contents = new Map<string, Buffer>();
    const unknown = new Map<string, Array<Buffer | null>>();
    const listed = await this.store.list({});
    for (const s of listed.shards) {
      const k = s.key.toString('latin1');
      const ok = allowed.get(k);
      if (ok === undefined) throw new ConformanceFailure(`${at}: key ${keyDigest(s.key)} was never written`, this.step - 1);
      try {
        contents.set(k, await this.store.get(s.key));
      } catch (err: unknown) {
        // Media damage may make a value unreadable; never wrong.
        if (!(this.damaged && err instanceof ShardStoreError && err.code === 'Corruption')) throw err;
        unknown.set(k, ok);
      }
    }
    for (const [k, values] of allowed) {
      if (unknown.has(k)) continue;
      const actual = contents.get(k) ?? null;
      if (!values.some((v) => (v === null ? actual === null : actual !== null && v.equals(actual)))) {
        const show = (v: Buffer | null): string => (v === null ? 'absent' : `${v.length}B`);
        throw new ConformanceFailure(
          `${at}: key ${keyDigest(Buffer.from(k, 'latin1'))} holds ${show(actual)}, allowed: ${values.map(show).join(' | ')}`,
          this.step - 1,
        );
      }
    }
    this.history.reset(contents, unknown);
    // IO faults are gone after a restart; a full host is not.
    this.faulty = this.damaged || this.hostFull;
    this.ioFaulted = false;
    this.model = new ModelStore();
    for (const [k, v] of contents) await this.model.put(Buffer.from(k, 'latin1'), v);
  }
}

type Allowed = Map<string, Array<Buffer | null>>;

const BACKGROUND_OPS = new Set<Op['op']>(['commit', 'flush', 'compact', 'reclaim', 'checkpoint', 'dirtyReboot']);

function isTypedIoError(err: unknown): boolean {
  return err instanceof ShardStoreError && (err.code === 'Io' || err.code === 'Corruption' || err.code === 'NoSpace' || err.code === 'Closed');
}

function valuesOf(allowed: Allowed, key: Buffer): Array<Buffer | null> {
  return allowed.get(key.toString('latin1')) ?? [null];
}

/** Run a read-only op on the engine; whatever it returns must fit a value the key may hold. */
async function checkAgainstAllowed(store: DiskStore, op: Op, allowed: Allowed, fail: (why: string) => never): Promise<void> {
  switch (op.op) {
    case 'get': {
      const got = await store.get(keyOf(op.key));
      if (!valuesOf(allowed, keyOf(op.key)).some((v) => v !== null && v.equals(got))) fail(`returned ${got.length} bytes that no write stored`);
      return;
    }
    case 'head': {
      const { sizeBytes } = await store.head(keyOf(op.key));
      if (!valuesOf(allowed, keyOf(op.key)).some((v) => v !== null && v.length === sizeBytes)) fail(`size ${sizeBytes} fits no write`);
      return;
    }
    case 'read': {
      const r = await store.read(keyOf(op.key), { start: op.start, end: op.start + op.length });
      const parts: Buffer[] = [];
      for await (const p of r.body) parts.push(p);
      const got = Buffer.concat(parts);
      const fits = valuesOf(allowed, keyOf(op.key)).some((v) => v !== null && v.length === r.sizeBytes && v.subarray(op.start, op.start + op.length).equals(got));
      if (!fits) fail(`range of ${got.length} bytes fits no write`);
      return;
    }
    case 'list': {
      const res = await store.list({ prefix: PREFIX_POOL[op.prefix] ?? Buffer.alloc(0), limit: op.limit });
      for (const sh of res.shards) {
        if (!valuesOf(allowed, sh.key).some((v) => v !== null && v.length === sh.sizeBytes)) fail(`listed ${keyDigest(sh.key)}=${sh.sizeBytes}, which no write stored`);
      }
      return;
    }
    default:
      return;
  }
}

/** NotFound must be possible (the key may be absent); InvalidArgument only for a range outside every possible value. */
function checkAbsentOrRange(op: Op, allowed: Allowed, code: string, fail: (why: string) => never): void {
  if (op.op !== 'get' && op.op !== 'head' && op.op !== 'read') return;
  const values = valuesOf(allowed, keyOf(op.key));
  if (code === 'NotFound' && !values.includes(null)) fail('NotFound, but the key cannot be absent');
  if (code === 'InvalidArgument' && op.op === 'read' && !values.some((v) => v !== null && op.start + op.length > v.length)) {
    fail('InvalidArgument for a range inside every possible value');
  }
}

/**
 * Most IOs complete as they are issued (the simulated disk's default); one
 * in LAG_ONE_IN is held and completes 1 to MAX_LAG_TURNS turns of the
 * event loop later, those due in one turn in random order (seeded), as a
 * real disk's writes complete in any order. With every IO complete at
 * issue, a write always completed before a flush issued after it, so no
 * crash state had a flush that missed a write still in flight: the
 * flush-before-writes-land variant went unseen by this suite. Holding only
 * some keeps the states of completed-but-unflushed writes (torn chunks
 * under a landed record) as common as before.
 */
function reorderedCompletions(rng: Rng, onLate: () => void): SimIoScheduler {
  let held: Array<{ complete: () => void; turns: number }> = [];
  const turn = (): void => {
    for (const h of held) h.turns--;
    const now = rng.shuffle(held.filter((h) => h.turns <= 0));
    held = held.filter((h) => h.turns > 0);
    for (const h of now) h.complete();
    if (held.length > 0) setImmediate(turn);
  };
  return (_io, complete) => {
    if (rng.int(1, LAG_ONE_IN) !== 1) return complete();
    onLate();
    held.push({ complete, turns: rng.int(1, MAX_LAG_TURNS) });
    if (held.length === 1) setImmediate(turn);
  };
}

/** A held IO completes within this many turns of the event loop. */
const MAX_LAG_TURNS = 8;
const LAG_ONE_IN = 5;

/**
 * Whether a sequence runs on a disk that completes IOs out of order: one in
 * REORDER_ONE_IN, chosen by a hash of its operations (so a replay or a
 * shrunk sequence decides the same way, and the other sequences run on
 * exactly the disk they ran on before the choice existed, keeping what
 * they catch).
 */
export function reordersIos(ops: readonly Op[]): boolean {
  return hashSeed(formatOps(ops)) % REORDER_ONE_IN === 0;
}

const REORDER_ONE_IN = 4;

/** Run a whole crash sequence; returns the failure, if any. */
export async function runCrashSequence(
  ops: readonly Op[],
  config: EngineConfig,
  seed: number,
  counters?: CrashCounters,
  /** Invariant 9 (the space suite, testing/space.ts). */
  space?: SpaceRule,
): Promise<ConformanceFailure | undefined> {
  const h = await CrashHarness.create(config, seed, { reorderIos: reordersIos(ops), ...(space === undefined ? {} : { space }) });
  return runOnHarness(h, ops, () => {
    if (counters === undefined) return;
    counters.crashStates += h.counters.crashStates;
    counters.operations += h.counters.operations;
    counters.faultsInjected += h.counters.faultsInjected;
    counters.lateIos = (counters.lateIos ?? 0) + (h.counters.lateIos ?? 0);
    counters.roomWaits = (counters.roomWaits ?? 0) + h.roomWaits;
    counters.spaceRefusals = (counters.spaceRefusals ?? 0) + (h.counters.spaceRefusals ?? 0);
  });
}

export function checkCrash(options: CheckOptions): Promise<fc.RunDetails<[Op[]]>> {
  const ops = fc.array(crashOpArb(SMALL_CONFIG), { minLength: 1, maxLength: 80 });
  return checkSequences(ops, (seq) => runCrashSequence(seq, SMALL_CONFIG, options.seed), options);
}

export function checkFaults(options: CheckOptions): Promise<fc.RunDetails<[Op[]]>> {
  const ops = fc.array(faultOpArb(SMALL_CONFIG), { minLength: 1, maxLength: 80 });
  return checkSequences(ops, (seq) => runCrashSequence(seq, SMALL_CONFIG, options.seed), options);
}

/** The fault alphabet plus scrub passes, some with the disk failing part way (testing/scrub_check.ts). */
export function checkScrubFaults(options: CheckOptions): Promise<fc.RunDetails<[Op[]]>> {
  const ops = fc.array(scrubFaultOpArb(SMALL_CONFIG), { minLength: 30, maxLength: 80 });
  return checkSequences(ops, (seq) => runCrashSequence(seq, SMALL_CONFIG, options.seed), options);
}

/** The store options that put its confirmation timer on the harness's clock. */
function confirmOptions(clock: VirtualClock): Pick<StoreOptions, 'clock' | 'confirmIdleMs'> {
  return { clock, confirmIdleMs: SIM_CONFIRM_IDLE_MS };
}

/** Whether the durable bytes at `name`'s locator are the whole chunk it names (checked here, not by log_verify.ts under test). */
function namedChunkWhole(disk: SimDisk, extentSizeBytes: number, name: DataName): boolean {
  const { extent, offset, length } = name.locator;
  const checked = checkChunk(disk.peek(extent * extentSizeBytes + offset, length, 'durable'), 0);
  if (typeof checked === 'string') return false;
  return checked.header.idLow === name.id.low >>> 0 && checked.header.idHigh === name.id.high >>> 0;
}
