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
import { assert, CorruptionError, NoSpaceError } from '../base/index.js';
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

interface ExtentState {
  owner: ExtentOwner;
  writePointer: number;
  pending: PendingAppend[];
  recordedOwner: ExtentOwner;
  recordedWritePointer: number;
  reusableAfter: Dependency;
  /** No more appends: the extent is being reclaimed. */
  sealed: boolean;
  /**
   * Bytes from the extent's start known to be allocated on the host file
   * system: written durably by this process (or recorded in the table at
   * open), or prepared (the whole extent). Never goes down: a reset does not
   * give blocks back to the host.
   */
  hostBytes: number;
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
 * never given back to the host); the set lives in memory only, and open
 * prepares again.
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

export class ExtentManager {
  private readonly extents: ExtentState[] = [];
  private readonly dirty = new Set<number>();
  private readonly resetListeners: Array<(extent: number) => void> = [];
  private readonly allocateListeners: Array<(extent: number) => void> = [];
  private readonly preparing = new Set<number>();

  constructor(
    readonly geometry: Geometry,
    private readonly io: IoScheduler,
    private readonly reserveExtents: number,
  ) {
    for (let e = 0; e < geometry.extentCount; e++) {
      const owner = e < geometry.superblockExtents ? ExtentOwner.Superblock : ExtentOwner.Free;
      this.extents.push({
        owner,
        writePointer: 0,
        pending: [],
        recordedOwner: owner,
        recordedWritePointer: 0,
        reusableAfter: Dependency.none,
        sealed: false,
        hostBytes: 0,
      });
    }
  }

  /** Load the persisted table at open: owners and write pointers as recorded. */
  restore(records: Iterable<ExtentRecord>): void {
    for (const r of records) {
      const s = this.state(r.extent);
      assert(s.pending.length === 0, 'restore with pending writes');
      s.owner = r.owner;
      s.writePointer = r.writePointer;
      s.recordedOwner = r.owner;
      s.recordedWritePointer = r.writePointer;
      s.hostBytes = Math.max(s.hostBytes, r.writePointer);
    }
  }

  /**
   * Recovery only: set the write pointer of an extent whose true end is
   * found by reading it (the metadata log is replayed up to its first
   * invalid record, then its write pointer is set there).
   */
  setWritePointerForRecovery(extent: number, writePointer: number): void {
    const s = this.state(extent);
    assert(s.pending.length === 0, 'recovery write pointer with pending writes');
    assert(writePointer >= 0 && writePointer <= this.geometry.extentSizeBytes, `write pointer ${writePointer} out of extent`);
    s.writePointer = writePointer;
    s.recordedWritePointer = writePointer;
  }

  get extentSizeBytes(): number {
    return this.geometry.extentSizeBytes;
  }

  owner(extent: number): ExtentOwner {
    return this.state(extent).owner;
  }

  writePointer(extent: number): number {
    return this.state(extent).writePointer;
  }

  /** End of the longest prefix of the extent whose writes are all durable. */
  durableWritePointer(extent: number): number {
    const s = this.state(extent);
    s.pending = s.pending.filter((p) => !p.dependency.isPersistent());
    let wp = s.writePointer;
    for (const p of s.pending) wp = Math.min(wp, p.start);
    return wp;
  }

  /** End of the longest prefix of the extent whose writes have all landed (durable after the flush under way). */
  landedWritePointer(extent: number): number {
    const s = this.state(extent);
    s.pending = s.pending.filter((p) => !p.dependency.isPersistent());
    let wp = s.writePointer;
    for (const p of s.pending) if (!p.dependency.hasLanded()) wp = Math.min(wp, p.start);
    return wp;
  }

  freeBytes(extent: number): number {
    return this.geometry.extentSizeBytes - this.state(extent).writePointer;
  }

  /** Extents that currently have `owner`. */
  extentsOwnedBy(owner: ExtentOwner): number[] {
    const out: number[] = [];
    this.extents.forEach((s, e) => {
      if (s.owner === owner) out.push(e);
    });
    return out;
  }

  countFree(): number {
    let n = 0;
    for (const s of this.extents) if (s.owner === ExtentOwner.Free && s.reusableAfter.isPersistent()) n++;
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
    const s = this.state(e);
    assert(s.writePointer === 0 && s.pending.length === 0, `free extent ${e} not empty`);
    s.owner = owner;
    s.sealed = false;
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
    return Math.max(this.reserveExtents, RESERVE_FLOOR.reclaim + 4);
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
    for (let e = this.geometry.superblockExtents; e < this.extents.length; e++) {
      if (!this.isAllocatable(e) || (skipPrepared && this.isPrepared(e))) continue;
      if (this.state(e).hostBytes > 0) return e;
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
      for (let e = this.extents.length - 1; e >= this.geometry.superblockExtents; e--) {
        if (this.isPrepared(e) && this.isAllocatable(e)) return e;
      }
    }
    let best: number | undefined;
    for (let e = this.geometry.superblockExtents; e < this.extents.length; e++) {
      if (!this.isAllocatable(e) || this.isPrepared(e)) continue;
      if (best === undefined || this.state(e).hostBytes > this.state(best).hostBytes) best = e;
    }
    return best;
  }

  private isPrepared(e: number): boolean {
    return this.state(e).hostBytes >= this.geometry.extentSizeBytes;
  }

  private isAllocatable(e: number): boolean {
    const s = this.state(e);
    return s.owner === ExtentOwner.Free && s.reusableAfter.isPersistent() && !this.preparing.has(e);
  }

  preparedState(extent: number): PreparedState {
    if (this.preparing.has(extent)) return 'preparing';
    return this.isPrepared(extent) ? 'prepared' : 'unprepared';
  }

  /** Free prepared extents (ready to hand out). */
  countPreparedFree(): number {
    let n = 0;
    for (let e = this.geometry.superblockExtents; e < this.extents.length; e++) if (this.isPrepared(e) && this.isAllocatable(e)) n++;
    return n;
  }

  /**
   * The highest free extent neither prepared nor being prepared (what
   * host_space.ts prepares next), or undefined. One scan that stops at the
   * first match: it runs after every allocation.
   */
  highestUnpreparedFree(): number | undefined {
    for (let e = this.extents.length - 1; e >= this.geometry.superblockExtents; e--) {
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
    return this.state(extent).reusableAfter;
  }

  /** End a preparation; `ok` when every block of the extent was written and flushed. */
  endPrepare(extent: number, ok: boolean): void {
    assert(this.preparing.delete(extent), `extent ${extent} was not being prepared`);
    if (ok) this.state(extent).hostBytes = this.geometry.extentSizeBytes;
  }

  /** Every extent counts as prepared: the data file is allocated whole on the host (preallocated). */
  markAllPrepared(): void {
    for (const s of this.extents) s.hostBytes = this.geometry.extentSizeBytes;
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
    const s = this.state(extent);
    assert(s.owner !== ExtentOwner.Free && s.owner !== ExtentOwner.Superblock, `append to ${ExtentOwner[s.owner]} extent ${extent}`);
    assert(!s.sealed, `append to sealed extent ${extent}`);
    const offset = s.writePointer;
    const length = writeDataLength(data);
    assert(offset + length <= this.geometry.extentSizeBytes, `append beyond extent ${extent}`);
    const dependency = this.io.write(this.diskOffset(extent, offset), data, after.and(s.reusableAfter), options);
    s.writePointer = offset + length;
    s.pending.push({ start: offset, dependency });
    // After a failed write the durable write pointer stops there for good:
    // nothing past the hole can be recorded, so stop appending here.
    dependency.onSettled(() => {
      if (dependency.failure() !== undefined) {
        if (s.owner !== ExtentOwner.Free) s.sealed = true;
      } else {
        s.hostBytes = Math.max(s.hostBytes, offset + length);
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
    this.state(extent);
    if (offset < 0 || length < 0 || offset + length > this.geometry.extentSizeBytes) {
      throw new CorruptionError(`verification read of extent ${extent} at ${offset}+${length} beyond the extent`);
    }
    return this.io.read(this.diskOffset(extent, offset), length);
  }

  /** Read below the write pointer. A range beyond it is corruption of whoever asked. */
  async read(extent: number, offset: number, length: number): Promise<Buffer> {
    const s = this.state(extent);
    if (offset < 0 || length < 0 || offset + length > s.writePointer) {
      throw new CorruptionError(`read of extent ${extent} at ${offset}+${length} beyond write pointer ${s.writePointer}`);
    }
    return this.io.read(this.diskOffset(extent, offset), length);
  }

  /**
   * Reset: write pointer to 0, owner free. The extent is reused only once
   * `reusableAfter` (the record of this reset) is persistent.
   * REQUIRES: no queued or in-flight append to the extent.
   */
  reset(extent: number, reusableAfter: Dependency): void {
    const s = this.state(extent);
    assert(s.owner !== ExtentOwner.Superblock && s.owner !== ExtentOwner.Free, `reset of ${ExtentOwner[s.owner]} extent ${extent}`);
    // A failed append is neither queued nor in flight (the scheduler fails a
    // ticket only once its whole batch settled), so it does not block a reset:
    // otherwise one transient write error would make the extent unreclaimable.
    const busy = s.pending.some((p) => !p.dependency.isPersistent() && p.dependency.failure() === undefined);
    assert(!busy, `reset of extent ${extent} with pending writes`);
    s.owner = ExtentOwner.Free;
    s.writePointer = 0;
    s.pending = [];
    s.reusableAfter = reusableAfter;
    s.sealed = false;
    this.dirty.add(extent);
    for (const fn of this.resetListeners) fn(extent);
  }

  /** Refuse further appends to `extent` (reclamation is emptying it). */
  seal(extent: number): void {
    this.state(extent).sealed = true;
  }

  isSealed(extent: number): boolean {
    return this.state(extent).sealed;
  }

  /** Resolves when no append to `extent` is queued or in flight (failed ones count as settled). */
  async writesSettled(extent: number): Promise<void> {
    const s = this.state(extent);
    const open = s.pending.filter((p) => !p.dependency.isPersistent() && p.dependency.failure() === undefined);
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
      const s = this.state(e);
      const wp = this.landedWritePointer(e);
      if (wp !== s.recordedWritePointer || s.owner !== s.recordedOwner) {
        out.push({ extent: e, owner: s.owner, writePointer: wp });
        s.recordedOwner = s.owner;
        s.recordedWritePointer = wp;
      }
      if (s.pending.length === 0) this.dirty.delete(e);
    }
    return out;
  }

  /** The full table (checkpoints). */
  table(): ExtentRecord[] {
    return this.extents.map((s, e) => ({ extent: e, owner: s.recordedOwner, writePointer: s.recordedWritePointer }));
  }

  diskOffset(extent: number, offset: number): number {
    return extent * this.geometry.extentSizeBytes + offset;
  }

  private state(extent: number): ExtentState {
    const s = this.extents[extent];
    if (s === undefined) throw new CorruptionError(`extent ${extent} out of range (${this.extents.length})`);
    return s;
  }
}
