// Extents: the disk cut into fixed-size regions, each written only by
// appending at its write pointer and reclaimed only by a reset.
//
// Three pointers per extent:
// - the write pointer (`writePointer`): where the next append lands; moves
//   as soon as an append is queued.
// - the durable write pointer: the end of the longest prefix whose writes
//   are all durable.
// - the landed write pointer: the end of the longest prefix whose writes
//   have all landed (returned; durable after the flush under way). This is
//   what metadata records persist: a record shares the flush of the data
//   below it (commit_log.ts), and recovery believes the record only once
//   the data it names is verified (log_verify.ts). Bytes under a recorded
//   write pointer that no believed record names may be torn; scans resync
//   past them (chunk_store.ts).
// - the recorded write pointer: what the last metadata record said.
//
// Invariants:
// 1. An append lands exactly at the write pointer and fits in the extent.
// 2. Reads beyond the write pointer are refused.
// 3. A reset extent is not handed out again until the record of its reset is
//    durable (`reusableAfter`), so a crash cannot leave new data in an
//    extent that recovery still believes holds the old; and every append
//    names that record in its `after` too, so the IO scheduler enforces the
//    edge even if an allocation rule slips (data and run chunks need no
//    other predecessor: chunk_store.ts, ChunkStream.append).
// 4. A reset requires no queued or in-flight writes to the extent.
import { assert, AssertionError, CorruptionError, NoSpaceError } from '../base/index.js';
import { Dependency, writeDataLength } from '../dependency/index.js';
import type { IoScheduler, WriteData, WriteOptions } from '../dependency/index.js';
import { ExtentOwner } from './extent_format.js';
import type { Geometry } from './extent_format.js';

export interface ExtentRecord {
  readonly extent: number;
  readonly owner: ExtentOwner;
  readonly writePointer: number;
}

interface PendingAppend {
  readonly start: number;
  readonly dependency: Dependency;
}

/**
 * Per-extent state, one typed array per field (a disk has tens of
 * thousands of extents, and open builds this table every time: an object
 * and an array per extent cost more than the rest of a small store's
 * open). Sparse fields live in maps: pending appends (extents being
 * written) and the reset record an extent waits for (extents reset
 * lately).
 */
interface ExtentTable {
  readonly owner: Uint8Array;
  readonly writePointer: Uint32Array;
  readonly recordedOwner: Uint8Array;
  readonly recordedWritePointer: Uint32Array;
  /**
   * Bytes from the extent's start known to be allocated on the host file
   * system: written durably by this process (or recorded in the table at
   * open), or prepared (the whole extent). Never goes down: a reset does not
   * give blocks back to the host.
   */
  readonly hostBytes: Uint32Array;
  /**
   * 1: every block of the extent was written with zeros and flushed
   * (endPrepare), by this process or by one whose checkpoint said so
   * (restoreHostAllocated): what checkpoints persist (host_space.ts). Never
   * goes back to 0 (the file is never hole-punched); a subset of the
   * extents whose `hostBytes` cover them.
   */
  readonly hostAllocated: Uint8Array;
  /** 1: no more appends, the extent is being reclaimed. */
  readonly sealed: Uint8Array;
  /** Appends not yet known persistent; an extent without any has no entry. */
  readonly pending: Map<number, PendingAppend[]>;
  /** The extent is reused only once this is persistent (its reset's record); none when absent. */
  readonly reusableAfter: Map<number, Dependency>;
}

/**
 * Who may take the last free extents. Foreground puts stop at the reserve;
 * reclamation may go down to 4 free extents, index flushes and compaction
 * to 2, and a metadata log roll may take the last two (the log and its
 * mirror). Index work may need two extents at once (every run is written
 * twice, through two streams that never share an extent, and both fill at
 * the same pace), so reclamation leaves four: two for index work and the
 * last two for a log roll. So reclamation can always make progress, and a
 * log roll (which also writes the memtable out) is never starved by the
 * work that frees space.
 */
export type ReserveClass = 'foreground' | 'reclaim' | 'index' | 'log';

const RESERVE_FLOOR: Record<Exclude<ReserveClass, 'foreground'>, number> = { reclaim: 4, index: 2, log: 0 };

export interface AllocateOptions {
  readonly reserve?: ReserveClass;
}

/**
 * Host preparation (host_space.ts): an extent is *prepared* once each of
 * its blocks was written and flushed (its `hostBytes` cover it), so the host file system has
 * allocated them and later writes overwrite in place, which a full host
 * file system does not refuse. A sparse data file allocates on first write
 * instead, so without this a full host would refuse the metadata log, an
 * index flush or a reclamation copy, the very work that frees space. A
 * prepared extent stays prepared when it is used and reset (blocks are
 * never given back to the host). Which extents were prepared (their zeros
 * durable) is persisted in checkpoints (`takeHostAllocated`); open counts
 * those as prepared at once (`restoreHostAllocated`) and prepares only
 * the others.
 *
 * Allocation by class:
 * - log, index, reclaim take the highest prepared free extent, down to a
 *   floor per class (reclaim leaves 4, index 2, log takes the last: the
 *   free-extent floors again), else an unprepared one, the one with the
 *   most blocks allocated on the host first (the reserve is used up and
 *   the host refused to prepare more: it is full);
 * - foreground (puts) take the lowest free extent, the lowest of those
 *   written before (some blocks allocated) first, skipping prepared ones
 *   while no more than `preparedTarget` of them are free, so puts never eat
 *   the prepared reserve. Puts stop at `reserveExtents` free extents; the
 *   target is that or one more, so with the target reached and one free
 *   extent left beside it, a put is refused (NoSpace) rather than eat it.
 * - an extent being prepared is never handed out: its zeros could land
 *   after the new owner's first append.
 * Highest first for the prepared classes, lowest first for puts: the
 * prepared extents gather at the top of the disk, which is where open
 * prepares again after a restart (host_space.ts), so on a full host it
 * finds the extents whose blocks are already allocated.
 */
export type PreparedState = 'unprepared' | 'preparing' | 'prepared';

/** ExtentManager.preparedTarget of a manager with `reserveExtents` (what it says, there). */
export function preparedTargetFor(reserveExtents: number): number {
  return Math.max(reserveExtents, RESERVE_FLOOR.reclaim + 4);
}

/**
 * The free extents below which puts may be refused for space: once only
 * prepared extents are free, puts leave preparedTarget of them, and one
 * more may be being prepared (not handed out). Reclamation under pressure
 * must start above this (store_options.ts, reclaimBelowFreeExtents), or
 * puts are refused while dead data waits.
 */
export function putsRefusedAtFreeExtents(reserveExtents: number): number {
  return preparedTargetFor(reserveExtents) + 1;
}

export class ExtentManager {
  private readonly t: ExtentTable;
  private readonly count: number;
  private readonly dirty = new Set<number>();
  private readonly resetListeners: Array<(extent: number) => void> = [];
  private readonly allocateListeners: Array<(extent: number) => void> = [];
  private readonly preparing = new Set<number>();
  /** Extents marked host-allocated since the last checkpoint took the marks (takeHostAllocated). */
  private unrecordedMarks = 0;

  constructor(
    readonly geometry: Geometry,
    private readonly io: IoScheduler,
    private readonly reserveExtents: number,
  ) {
    const n = geometry.extentCount;
    assert(Number.isSafeInteger(n) && n >= 0, `extent count ${n}`);
    this.count = n;
    this.t = {
      owner: new Uint8Array(n),
      writePointer: new Uint32Array(n),
      recordedOwner: new Uint8Array(n),
      recordedWritePointer: new Uint32Array(n),
      hostBytes: new Uint32Array(n),
      hostAllocated: new Uint8Array(n),
      sealed: new Uint8Array(n),
      pending: new Map(),
      reusableAfter: new Map(),
    };
    // Free is 0: only the superblock's extents need an owner.
    const superblock = Math.min(geometry.superblockExtents, n);
    this.t.owner.fill(ExtentOwner.Superblock, 0, superblock);
    this.t.recordedOwner.fill(ExtentOwner.Superblock, 0, superblock);
  }

  /** Load the persisted table at open: owners and write pointers as recorded. */
  restore(records: Iterable<ExtentRecord>): void {
    for (const r of records) {
      const e = this.checked(r.extent);
      assert(!this.t.pending.has(e), 'restore with pending writes');
      const t = this.t;
      t.owner[e] = r.owner;
      t.writePointer[e] = r.writePointer;
      t.recordedOwner[e] = r.owner;
      t.recordedWritePointer[e] = r.writePointer;
      t.hostBytes[e] = Math.max(t.hostBytes[e] ?? 0, r.writePointer);
    }
  }

  /**
   * Recovery only: set the write pointer of an extent whose true end is
   * found by reading it (the metadata log is replayed up to its first
   * invalid record, then its write pointer is set there).
   */
  setWritePointerForRecovery(extent: number, writePointer: number): void {
    const e = this.checked(extent);
    assert(!this.t.pending.has(e), 'recovery write pointer with pending writes');
    assert(writePointer >= 0 && writePointer <= this.geometry.extentSizeBytes, `write pointer ${writePointer} out of extent`);
    this.t.writePointer[e] = writePointer;
    this.t.recordedWritePointer[e] = writePointer;
  }

  get extentSizeBytes(): number {
    return this.geometry.extentSizeBytes;
  }

  owner(extent: number): ExtentOwner {
    return this.ownerAt(this.checked(extent));
  }

  writePointer(extent: number): number {
    return this.t.writePointer[this.checked(extent)] ?? 0;
  }

  /** End of the longest prefix of the extent whose writes are all durable. */
  durableWritePointer(extent: number): number {
    const e = this.checked(extent);
    let wp = this.t.writePointer[e] ?? 0;
    for (const p of this.livePending(e)) wp = Math.min(wp, p.start);
    return wp;
  }

  /** End of the longest prefix of the extent whose writes have all landed (durable after the flush under way). */
  landedWritePointer(extent: number): number {
    const e = this.checked(extent);
    let wp = this.t.writePointer[e] ?? 0;
    for (const p of this.livePending(e)) if (!p.dependency.hasLanded()) wp = Math.min(wp, p.start);
    return wp;
  }

  freeBytes(extent: number): number {
    return this.geometry.extentSizeBytes - this.writePointer(extent);
  }

  /** Extents that currently have `owner`. */
  extentsOwnedBy(owner: ExtentOwner): number[] {
    const out: number[] = [];
    const owners = this.t.owner;
    for (let e = 0; e < this.count; e++) if (owners[e] === owner) out.push(e);
    return out;
  }

  /**
   * How many extents hold each owner byte, indexed by the byte (0..255, so
   * a byte that names no owner is counted too, where a check can see it):
   * one pass over the table, for the conformance checks' extent accounting
   * after every step.
   */
  ownerByteCounts(): Uint32Array {
    const counts = new Uint32Array(256);
    const owners = this.t.owner;
    for (let e = 0; e < this.count; e++) {
      const o = owners[e] ?? 0;
      counts[o] = (counts[o] ?? 0) + 1;
    }
    return counts;
  }

  countFree(): number {
    let n = 0;
    const owners = this.t.owner;
    for (let e = 0; e < this.count; e++) if (owners[e] === ExtentOwner.Free && this.isReusable(e)) n++;
    return n;
  }

  /** Take a free extent for `owner`. Throws NoSpaceError when none is left. */
  allocate(owner: ExtentOwner, options: AllocateOptions = {}): number {
    assert(owner !== ExtentOwner.Free && owner !== ExtentOwner.Superblock, `cannot allocate for ${owner}`);
    const free = this.countFree();
    const cls = options.reserve ?? 'foreground';
    const floor = cls === 'foreground' ? this.reserveExtents : RESERVE_FLOOR[cls];
    if (free <= floor) {
      throw new NoSpaceError(`no free extent for ${ExtentOwner[owner]} (${free} free, ${floor} reserved)`);
    }
    const e = cls === 'foreground' ? this.pickForeground() : this.pickPrepared(cls);
    if (e === undefined) {
      throw new NoSpaceError(`no free extent for ${ExtentOwner[owner]} outside the prepared reserve (${free} free, ${this.preparing.size} being prepared)`);
    }
    assert(this.t.writePointer[e] === 0 && !this.t.pending.has(e), `free extent ${e} not empty`);
    this.t.owner[e] = owner;
    this.t.sealed[e] = 0;
    this.dirty.add(e);
    for (const fn of this.allocateListeners) fn(e);
    return e;
  }

  /**
   * How many free extents to keep prepared (see PreparedState): the reserve,
   * and at least reclamation's floor of 4 (what a log roll, the log and its
   * mirror, and an index flush, the primary and mirror streams, take) plus
   * 4: a log roll and an index flush may each have taken theirs since the
   * host filled up (their refill refused), and reclamation still finds two
   * prepared extents above its floor to copy into. Found by the full-host
   * test once the log and runs were mirrored: with 2 above the floor, the
   * fill's own log rolls left reclamation none.
   */
  get preparedTarget(): number {
    return preparedTargetFor(this.reserveExtents);
  }

  /**
   * Lowest free extent first: reuse is immediate and predictable, which
   * keeps a disk's used region compact and exercises reuse in every test.
   * But first the lowest one whose blocks are allocated on the host already
   * (written before): its writes need no new block, which is cheaper (the
   * fdatasync commits no allocation) and is what still works on a full
   * host. Prepared extents are skipped while they are not more than the
   * reserve.
   */
  private pickForeground(): number | undefined {
    const skipPrepared = this.countPreparedFree() <= this.preparedTarget;
    let fresh: number | undefined;
    for (let e = this.geometry.superblockExtents; e < this.count; e++) {
      if (!this.isAllocatable(e) || (skipPrepared && this.isPrepared(e))) continue;
      if ((this.t.hostBytes[e] ?? 0) > 0) return e;
      fresh ??= e;
    }
    return fresh;
  }

  /**
   * The highest prepared free extent, if the class may take one: like the
   * free-extent floors, reclamation leaves 4 prepared extents, an index
   * flush 2, a log roll takes the last, so the log and index flushes (what
   * deletes need) keep theirs when reclamation has used the rest on a full
   * host. Else the unprepared free extent with the most blocks allocated on
   * the host, the lowest of those: on a full host, what reclamation just
   * reset is what it copies into next.
   */
  private pickPrepared(cls: Exclude<ReserveClass, 'foreground'>): number | undefined {
    if (this.countPreparedFree() > RESERVE_FLOOR[cls]) {
      for (let e = this.count - 1; e >= this.geometry.superblockExtents; e--) {
        if (this.isPrepared(e) && this.isAllocatable(e)) return e;
      }
    }
    let best: number | undefined;
    const hostBytes = this.t.hostBytes;
    for (let e = this.geometry.superblockExtents; e < this.count; e++) {
      if (!this.isAllocatable(e) || this.isPrepared(e)) continue;
      if (best === undefined || (hostBytes[e] ?? 0) > (hostBytes[best] ?? 0)) best = e;
    }
    return best;
  }

  private isPrepared(e: number): boolean {
    return (this.t.hostBytes[e] ?? 0) >= this.geometry.extentSizeBytes;
  }

  private isAllocatable(e: number): boolean {
    return this.t.owner[e] === ExtentOwner.Free && this.isReusable(e) && !this.preparing.has(e);
  }

  preparedState(extent: number): PreparedState {
    if (this.preparing.has(extent)) return 'preparing';
    return this.isPrepared(extent) ? 'prepared' : 'unprepared';
  }

  /** Free prepared extents (ready to hand out). */
  countPreparedFree(): number {
    let n = 0;
    for (let e = this.geometry.superblockExtents; e < this.count; e++) if (this.isPrepared(e) && this.isAllocatable(e)) n++;
    return n;
  }

  /**
   * The highest free extent neither prepared nor being prepared (what
   * host_space.ts prepares next), or undefined. One scan that stops at the
   * first match: it runs after every allocation.
   */
  highestUnpreparedFree(): number | undefined {
    for (let e = this.count - 1; e >= this.geometry.superblockExtents; e--) {
      if (this.isAllocatable(e) && !this.isPrepared(e)) return e;
    }
    return undefined;
  }

  /**
   * Start preparing a free extent: it is not handed out until endPrepare.
   * Returns the record of its last reset, what the zeros must wait for (an
   * extent whose reset is not recorded may still hold data recovery
   * believes in).
   * REQUIRES: the extent is free, reusable and not being prepared.
   */
  beginPrepare(extent: number): Dependency {
    assert(this.isAllocatable(extent), `prepare of extent ${extent} that is not free`);
    this.preparing.add(extent);
    return this.t.reusableAfter.get(this.checked(extent)) ?? Dependency.none;
  }

  /**
   * End a preparation; `ok` when every block of the extent was written and
   * flushed: then it is marked host-allocated (invariant 2 of
   * host_space.ts: only once its zeros are durable).
   */
  endPrepare(extent: number, ok: boolean): void {
    assert(this.preparing.delete(extent), `extent ${extent} was not being prepared`);
    if (!ok) return;
    const e = this.checked(extent);
    this.t.hostBytes[e] = this.geometry.extentSizeBytes;
    if (this.t.hostAllocated[e] === 0) {
      this.t.hostAllocated[e] = 1;
      this.unrecordedMarks++;
    }
  }

  /**
   * Open: the extents a checkpoint marked host-allocated count as prepared
   * (no zeros written). REQUIRES: the caller trusts the marks (open checks
   * the file's allocated bytes against them first).
   */
  restoreHostAllocated(extents: readonly number[]): void {
    for (const extent of extents) {
      const e = this.checked(extent);
      this.t.hostAllocated[e] = 1;
      this.t.hostBytes[e] = this.geometry.extentSizeBytes;
    }
  }

  /** The extents marked host-allocated, ascending, for a checkpoint; from now on none is unrecorded. */
  takeHostAllocated(): number[] {
    const out: number[] = [];
    const marks = this.t.hostAllocated;
    for (let e = 0; e < this.count; e++) if (marks[e] === 1) out.push(e);
    this.unrecordedMarks = 0;
    return out;
  }

  /** Extents marked host-allocated since the last checkpoint took the marks: what a crash now would forget. */
  get unrecordedHostAllocated(): number {
    return this.unrecordedMarks;
  }

  /**
   * Free extents enough that a log roll (a memtable flush into index
   * extents, then the log and its mirror) finds what it needs above the
   * floors: what reclamation leaves (RESERVE_FLOOR.reclaim) and one more.
   * Close rolls only then to record marks (a roll that failed there would
   * leave the store read-only for knowledge that only saves zeros).
   */
  hasRoomForRoll(): boolean {
    return this.countFree() > RESERVE_FLOOR.reclaim;
  }

  /** Every extent counts as prepared: the data file is allocated whole on the host (preallocated). */
  markAllPrepared(): void {
    this.t.hostBytes.fill(this.geometry.extentSizeBytes);
  }

  /** Called on every allocation (the preparer refills the reserve). */
  onAllocate(fn: (extent: number) => void): void {
    this.allocateListeners.push(fn);
  }

  /**
   * Append `data` at the write pointer, issued once `after` and the record
   * of the extent's last reset are persistent (invariant 3).
   * REQUIRES: the extent is owned and `data` fits.
   */
  append(extent: number, data: WriteData, after: Dependency = Dependency.none, options: WriteOptions = {}): { offset: number; dependency: Dependency } {
    const e = this.checked(extent);
    const t = this.t;
    const owner = this.ownerAt(e);
    // Messages built only on failure: this runs once per put.
    if (owner === ExtentOwner.Free || owner === ExtentOwner.Superblock) throw new AssertionError(`append to ${ExtentOwner[owner]} extent ${extent}`);
    if (t.sealed[e] !== 0) throw new AssertionError(`append to sealed extent ${extent}`);
    const offset = t.writePointer[e] ?? 0;
    const length = writeDataLength(data);
    if (offset + length > this.geometry.extentSizeBytes) throw new AssertionError(`append beyond extent ${extent}`);
    const dependency = this.io.write(this.diskOffset(extent, offset), data, after.and(t.reusableAfter.get(e) ?? Dependency.none), options);
    t.writePointer[e] = offset + length;
    const pending = t.pending.get(e);
    if (pending === undefined) t.pending.set(e, [{ start: offset, dependency }]);
    else pending.push({ start: offset, dependency });
    // After a failed write the durable write pointer stops there for good:
    // nothing past the hole can be recorded, so stop appending here.
    dependency.onSettled(() => {
      if (dependency.failure() !== undefined) {
        if (t.owner[e] !== ExtentOwner.Free) t.sealed[e] = 1;
      } else {
        t.hostBytes[e] = Math.max(t.hostBytes[e] ?? 0, offset + length);
      }
    });
    this.dirty.add(extent);
    return { offset, dependency };
  }

  /**
   * Read any bytes of an extent, whatever its write pointer says: recovery
   * checks the data a metadata record names before it believes the record
   * (and with it the write pointers that cover that data).
   */
  async readForVerification(extent: number, offset: number, length: number): Promise<Buffer> {
    this.checked(extent);
    if (offset < 0 || length < 0 || offset + length > this.geometry.extentSizeBytes) {
      throw new CorruptionError(`verification read of extent ${extent} at ${offset}+${length} beyond the extent`);
    }
    return this.io.read(this.diskOffset(extent, offset), length);
  }

  /**
   * Read below the write pointer. A range beyond it is corruption of whoever
   * asked. `into`: memory the bytes may be read into (Disk.read), for a
   * caller that reads much and keeps little (log replay).
   */
  async read(extent: number, offset: number, length: number, into?: Buffer): Promise<Buffer> {
    const writePointer = this.writePointer(extent);
    if (offset < 0 || length < 0 || offset + length > writePointer) {
      throw new CorruptionError(`read of extent ${extent} at ${offset}+${length} beyond write pointer ${writePointer}`);
    }
    return this.io.read(this.diskOffset(extent, offset), length, into);
  }

  /**
   * Reset: write pointer to 0, owner free. The extent is reused only once
   * `reusableAfter` (the record of this reset) is persistent.
   * REQUIRES: no queued or in-flight append to the extent.
   */
  reset(extent: number, reusableAfter: Dependency): void {
    const e = this.checked(extent);
    const owner = this.ownerAt(e);
    assert(owner !== ExtentOwner.Superblock && owner !== ExtentOwner.Free, `reset of ${ExtentOwner[owner]} extent ${extent}`);
    // A failed append is neither queued nor in flight (the scheduler fails a
    // ticket only once its whole batch settled), so it does not block a reset:
    // otherwise one transient write error would make the extent unreclaimable.
    const busy = (this.t.pending.get(e) ?? []).some((p) => !p.dependency.isPersistent() && p.dependency.failure() === undefined);
    assert(!busy, `reset of extent ${extent} with pending writes`);
    this.t.owner[e] = ExtentOwner.Free;
    this.t.writePointer[e] = 0;
    this.t.pending.delete(e);
    if (reusableAfter.isPersistent()) this.t.reusableAfter.delete(e);
    else this.t.reusableAfter.set(e, reusableAfter);
    this.t.sealed[e] = 0;
    this.dirty.add(extent);
    for (const fn of this.resetListeners) fn(extent);
  }

  /** Refuse further appends to `extent` (reclamation is emptying it). */
  seal(extent: number): void {
    this.t.sealed[this.checked(extent)] = 1;
  }

  isSealed(extent: number): boolean {
    return this.t.sealed[this.checked(extent)] === 1;
  }

  /** Resolves when no append to `extent` is queued or in flight (failed ones count as settled). */
  async writesSettled(extent: number): Promise<void> {
    const open = (this.t.pending.get(this.checked(extent)) ?? []).filter((p) => !p.dependency.isPersistent() && p.dependency.failure() === undefined);
    await Promise.allSettled(open.map((p) => p.dependency.persisted()));
  }

  /** Called on every reset (buffer caches drop the extent's pages). */
  onReset(fn: (extent: number) => void): void {
    this.resetListeners.push(fn);
  }

  /**
   * The owner and landed write pointer of every extent whose recorded state
   * is out of date; marks them recorded. The caller persists them in a
   * metadata record written after that (so in the same flush or a later one).
   */
  takeChanges(): ExtentRecord[] {
    const out: ExtentRecord[] = [];
    for (const e of [...this.dirty].sort((a, b) => a - b)) {
      const t = this.t;
      const wp = this.landedWritePointer(e);
      const owner = this.ownerAt(e);
      if (wp !== t.recordedWritePointer[e] || owner !== t.recordedOwner[e]) {
        out.push({ extent: e, owner, writePointer: wp });
        t.recordedOwner[e] = owner;
        t.recordedWritePointer[e] = wp;
      }
      if (!t.pending.has(e)) this.dirty.delete(e);
    }
    return out;
  }

  /** The full table (checkpoints). */
  table(): ExtentRecord[] {
    const out: ExtentRecord[] = new Array<ExtentRecord>(this.count);
    const { recordedOwner, recordedWritePointer } = this.t;
    for (let e = 0; e < this.count; e++) out[e] = { extent: e, owner: recordedOwner[e] ?? 0, writePointer: recordedWritePointer[e] ?? 0 };
    return out;
  }

  diskOffset(extent: number, offset: number): number {
    return extent * this.geometry.extentSizeBytes + offset;
  }

  /** `extent` itself, once it is known to name an extent of this disk. */
  private checked(extent: number): number {
    if (!(Number.isInteger(extent) && extent >= 0 && extent < this.count)) throw new CorruptionError(`extent ${extent} out of range (${this.count})`);
    return extent;
  }

  /** REQUIRES: `e` checked. */
  private ownerAt(e: number): ExtentOwner {
    return this.t.owner[e] ?? 0;
  }

  /** Free for reuse: its reset's record (if any lately) is persistent. REQUIRES: `e` checked. */
  private isReusable(e: number): boolean {
    const after = this.t.reusableAfter.get(e);
    if (after === undefined) return true;
    if (!after.isPersistent()) return false;
    this.t.reusableAfter.delete(e);
    return true;
  }

  /** The appends to `e` not yet persistent (forgetting the persistent ones). REQUIRES: `e` checked. */
  private livePending(e: number): readonly PendingAppend[] {
    const pending = this.t.pending.get(e);
    if (pending === undefined) return [];
    const live = pending.filter((p) => !p.dependency.isPersistent());
    if (live.length === 0) this.t.pending.delete(e);
    else this.t.pending.set(e, live);
    return live;
  }
}
