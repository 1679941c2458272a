// SimDisk: an in-memory Disk with a volatile write cache, crash states and
// fault injection, for crash-consistency and failure checks (SYSTEM.md
// section 2). Production code never names it; it is passed in where a Disk
// is expected.
//
// Strategy:
// - Two sparse page images: `durable` (what survives any crash) and
//   `current` (durable plus every completed write, what reads see). Pages
//   never written read as zeros or as a garbage pattern fixed by a seed.
// - A completed write joins the volatile list (in completion order). A flush
//   makes durable the writes that had completed when it was *issued*; writes
//   completing while it runs stay volatile (the adversarial reading of the
//   Disk contract).
// - Every IO is issued synchronously and completes in one place,
//   `complete()`: at once, or when an optional scheduler says so. An IO's
//   effect (bytes read, bytes stored, pages made durable) happens at its
//   completion, so a scheduler that reorders completions reorders effects.
// - `crash(rng, mode)` builds the image a power cut could leave: the durable
//   image plus a chosen part of the unflushed writes (completed ones in
//   completion order, then in-flight ones in issue order, since an issued
//   write may reach the media before it completes). Torn writes keep only
//   some of their pages; a lost page keeps its old bytes or gets garbage.
//   The crashed disk refuses all further IO; a new SimDisk carries on.
//
// Invariants:
// 1. Bytes outside every unflushed write's range are the same before and
//    after a crash, whatever the mode: flushed data always survives.
// 2. A torn write changes whole page-pieces only: for each page, the part of
//    the write inside it is entirely new, entirely old, or entirely garbage.
// 3. Given the same history and the same rng state, crash() gives the same
//    image and the same report.
// 4. An injected fault has no effect on the disk's content: a failed write
//    stores nothing, a failed flush makes nothing durable.
import { createHash } from 'node:crypto';
import { assert, isAllZero } from '../src/base/index.js';
import { DEFAULT_PAGE_SIZE_BYTES } from '../src/disk/index.js';
import type { Disk, DiskLock } from '../src/disk/index.js';
import { tick } from './progress.js';
import { Rng } from './rng.js';
import type { Seed } from './rng.js';

export type SimIoKind = 'read' | 'write' | 'flush';

export interface SimIo {
  /** Issue order, from 0 on each disk. */
  readonly id: number;
  readonly kind: SimIoKind;
  readonly offset: number;
  readonly length: number;
}

/** Decides when an issued IO completes: call `complete` exactly once, now or later. */
export type SimIoScheduler = (io: SimIo, complete: () => void) => void;

/**
 * Sees every IO when issued and when completed (with its error, if it
 * failed). Record what you check and assert afterwards: a listener that
 * throws at issue fails that IO instead of the test.
 */
export type SimIoListener = (event: 'issue' | 'complete', io: SimIo, error: Error | undefined) => void;

export interface SimDiskOptions {
  readonly sizeBytes: number;
  readonly pageSizeBytes?: number;
  /** Never-written bytes read as a garbage pattern fixed by this seed; zeros when absent. */
  readonly fillSeed?: Seed;
  readonly scheduler?: SimIoScheduler;
}

export type CrashMode = 'drop-all' | 'keep-all' | 'subset' | 'torn';
export const CRASH_MODES: readonly CrashMode[] = ['drop-all', 'keep-all', 'subset', 'torn'];

export interface CrashOptions {
  /** Bytes for a lost page when it becomes garbage (default: uniform random). */
  readonly garbage?: (rng: Rng, lengthBytes: number) => Uint8Array;
  /** Scheduler of the new disk (default: this disk's). */
  readonly scheduler?: SimIoScheduler;
}

export type WriteFate = 'dropped' | 'kept' | 'torn';

export interface CrashedWrite {
  readonly offset: number;
  readonly length: number;
  /** Issued but not completed at the crash. */
  readonly inFlight: boolean;
  readonly fate: WriteFate;
  /** For torn writes: which of the write's page-pieces (0 = first) landed. */
  readonly keptPieces?: readonly number[];
  readonly lostAs?: 'old' | 'garbage';
}

export interface CrashReport {
  readonly mode: CrashMode;
  readonly writes: readonly CrashedWrite[];
}

export interface CrashResult {
  readonly disk: SimDisk;
  readonly report: CrashReport;
}

export type FaultTarget = { readonly offset: number; readonly length: number } | ((offset: number, length: number) => boolean);
export type FaultDuration = 'once' | 'permanent';

export interface FaultHandle {
  /** How many IOs this fault failed. */
  readonly hits: number;
  readonly active: boolean;
  remove(): void;
}

export interface SimDiskStats {
  reads: number;
  writes: number;
  flushes: number;
  bytesRead: number;
  bytesWritten: number;
  faults: number;
}

/** The error an injected fault rejects with (the engine wraps it as IoError). */
export class InjectedFaultError extends Error {
  constructor(readonly io: SimIo) {
    super(`sim disk: injected ${io.kind} fault at ${io.offset}+${io.length}`);
    this.name = 'InjectedFaultError';
  }
}

/** IO on a disk that crashed: a dead machine's requests never return data. */
export class SimDiskCrashedError extends Error {
  constructor(io: SimIo) {
    super(`sim disk crashed: ${io.kind} at ${io.offset}+${io.length} refused`);
    this.name = 'SimDiskCrashedError';
  }
}

export class SimDisk implements Disk {
  readonly sizeBytes: number;
  readonly pageSizeBytes: number;
  readonly stats: SimDiskStats = { reads: 0, writes: 0, flushes: 0, bytesRead: 0, bytesWritten: 0, faults: 0 };
  private durable: PageImage;
  private current: PageImage;
  private volatile: VolatileWrite[] = [];
  private readonly pending = new Map<number, PendingOp>();
  private faults: FaultRule[] = [];
  private readonly listeners: SimIoListener[] = [];
  private nextIoId = 0;
  private writeSeq = 0;
  private crashed = false;
  private closed = false;
  /** The exclusive lock its opener took (testing/sim_node.ts), released at close as FileDisk does. */
  private lock: DiskLock | undefined;

  constructor(private readonly options: SimDiskOptions) {
    this.sizeBytes = options.sizeBytes;
    this.pageSizeBytes = options.pageSizeBytes ?? DEFAULT_PAGE_SIZE_BYTES;
    assert(Number.isInteger(this.pageSizeBytes) && this.pageSizeBytes > 0, `bad page size ${this.pageSizeBytes}`);
    assert(
      Number.isSafeInteger(this.sizeBytes) && this.sizeBytes > 0 && this.sizeBytes % this.pageSizeBytes === 0,
      `disk size ${this.sizeBytes} must be a positive multiple of ${this.pageSizeBytes}`,
    );
    this.durable = new PageImage(this.pageSizeBytes, options.fillSeed);
    this.current = this.durable.clone();
  }

  // ---- Disk ----------------------------------------------------------

  async read(offset: number, length: number, into?: Buffer): Promise<Buffer> {
    this.checkRange(offset, length);
    this.stats.reads++;
    this.stats.bytesRead += length;
    const bytes = await this.submit('read', offset, length, undefined, () => this.current.read(offset, length));
    // Honoured as a file does (Disk.read), so a caller that reuses `into` while it keeps an earlier view is caught here too.
    if (into === undefined || into.length < length) return bytes;
    bytes.copy(into);
    return into.subarray(0, length);
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    this.checkRange(offset, data.length);
    this.stats.writes++;
    this.stats.bytesWritten += data.length;
    // Copied at issue: the bytes that may land are the ones handed over now.
    // All zeros (host-space preparation writes whole extents of them) share
    // one read-only buffer: nothing here writes a write's bytes, and images
    // copy a shared page before changing it.
    const copy = isAllZero(data) ? sharedZeros(data.length) : Buffer.from(data);
    return this.submit('write', offset, copy.length, copy, () => {
      this.current.writeShared(offset, copy);
      this.volatile.push({ seq: ++this.writeSeq, offset, data: copy });
    });
  }

  async flush(): Promise<void> {
    assert(!this.closed, 'flush after close');
    this.stats.flushes++;
    const upTo = this.writeSeq;
    return this.submit('flush', 0, 0, undefined, () => this.makeDurable(upTo));
  }

  async close(): Promise<void> {
    this.closed = true;
    const lock = this.lock;
    this.lock = undefined;
    await lock?.release();
  }

  /** Release `lock` when this handle closes (a crash does not: the dead process leaves it stale). */
  holdLock(lock: DiskLock): void {
    assert(this.lock === undefined, 'a handle holds one lock');
    this.lock = lock;
  }

  // ---- Crashes ---------------------------------------------------------

  /**
   * The disk a power cut at this instant could leave (see Strategy). This
   * disk is dead afterwards: pending and later IO rejects with
   * SimDiskCrashedError. Unfired and permanent faults carry over: they
   * stand for the media, which the crash does not repair.
   */
  crash(rng: Rng, mode: CrashMode, options: CrashOptions = {}): CrashResult {
    assert(!this.crashed, 'crash of a crashed disk');
    const image = this.durable.clone();
    const garbage = options.garbage ?? ((r: Rng, n: number): Uint8Array => r.bytes(n));
    const writes: CrashedWrite[] = [];
    for (const candidate of this.crashCandidates()) {
      writes.push(this.landOnCrash(image, candidate, rng, mode, garbage));
    }
    this.die();
    const scheduler = options.scheduler ?? this.options.scheduler;
    const disk = new SimDisk({ ...this.options, ...(scheduler === undefined ? {} : { scheduler }) });
    disk.adopt(image, image.clone(), this.faults);
    return { disk, report: { mode, writes } };
  }

  /** An independent copy of this disk's state (images, volatile writes, faults); no IO in flight. */
  clone(options: { scheduler?: SimIoScheduler } = {}): SimDisk {
    const scheduler = options.scheduler ?? this.options.scheduler;
    const disk = new SimDisk({ ...this.options, ...(scheduler === undefined ? {} : { scheduler }) });
    disk.adopt(this.durable.clone(), this.current.clone(), this.faults);
    disk.volatile = [...this.volatile];
    disk.writeSeq = this.writeSeq;
    return disk;
  }

  // ---- Faults ----------------------------------------------------------

  failReads(target: FaultTarget, duration: FaultDuration = 'once'): FaultHandle {
    return this.addFault('read', target, duration);
  }

  failWrites(target: FaultTarget, duration: FaultDuration = 'once'): FaultHandle {
    return this.addFault('write', target, duration);
  }

  failFlush(duration: FaultDuration = 'once'): FaultHandle {
    return this.addFault('flush', () => true, duration);
  }

  /**
   * An unreadable sector: every read that touches the page holding `offset`
   * fails (page granular, as a disk reports a bad sector). A permanent one
   * is media damage: clones and crash images keep it.
   */
  failPageReads(offset: number, duration: FaultDuration = 'permanent'): FaultHandle {
    this.checkRange(offset, 1);
    const page = Math.floor(offset / this.pageSizeBytes) * this.pageSizeBytes;
    return this.failReads({ offset: page, length: this.pageSizeBytes }, duration);
  }

  clearFaults(): void {
    for (const f of this.faults) f.remove();
    this.faults = [];
  }

  /** Bit rot: flip one bit on the media, seen by reads now and kept by any crash. */
  flipBit(offset: number, bit: number): void {
    this.checkRange(offset, 1);
    assert(Number.isInteger(bit) && bit >= 0 && bit < 8, `bit ${bit} outside a byte`);
    this.durable.flipBit(offset, bit);
    this.current.flipBit(offset, bit);
  }

  // ---- Inspection ------------------------------------------------------

  /** Bytes as reads see them (or as a crash keeps for sure), without counting, faults or scheduling. */
  peek(offset: number, length: number, view: 'current' | 'durable' = 'current'): Buffer {
    this.checkRange(offset, length);
    return (view === 'current' ? this.current : this.durable).read(offset, length);
  }

  /** The whole image (small disks only). */
  snapshot(view: 'current' | 'durable' = 'current'): Buffer {
    return this.peek(0, this.sizeBytes, view);
  }

  /**
   * A digest of every byte of the image (pages never written are the fill
   * pattern, the same on every clone): equal digests, byte-identical
   * images, at the cost of the pages written rather than the disk's size.
   */
  imageDigest(view: 'current' | 'durable' = 'current'): string {
    return (view === 'current' ? this.current : this.durable).digest();
  }

  /**
   * The image's bytes as they are now, for sameImage: a copy-on-write
   * clone, so it costs a page table, not the pages.
   */
  imageMark(view: 'current' | 'durable' = 'current'): ImageMark {
    const mark: ImageMark = { view };
    imageMarks.set(mark, (view === 'current' ? this.current : this.durable).clone());
    return mark;
  }

  /**
   * True when this disk's image (the view `mark` was taken of) holds exactly
   * the bytes `mark` kept, of this disk or of one it was cloned from: the
   * same written pages with the same bytes, which is what equal
   * imageDigest()s say, compared page by page instead of hashing each
   * (a page shared with the mark is equal without a look).
   */
  sameImage(mark: ImageMark): boolean {
    const image = imageMarks.get(mark);
    if (image === undefined) throw new RangeError('sameImage: not a mark of imageMark()');
    return (mark.view === 'current' ? this.current : this.durable).sameAs(image);
  }

  /** Completed writes not yet made durable by a flush. */
  get unflushedWrites(): number {
    return this.volatile.length;
  }

  /** IOs issued and not yet completed. */
  get inFlight(): number {
    return this.pending.size;
  }

  get isCrashed(): boolean {
    return this.crashed;
  }

  onIo(listener: SimIoListener): void {
    this.listeners.push(listener);
  }

  // ---- Internals -------------------------------------------------------

  private checkRange(offset: number, length: number): void {
    assert(!this.closed, 'io after close');
    assert(
      Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length >= 0 && offset + length <= this.sizeBytes,
      `io out of range: ${offset}+${length}`,
    );
  }

  /** Issue one IO; its effect runs in `complete`, now or when the scheduler says. */
  private submit<T>(kind: SimIoKind, offset: number, length: number, data: Buffer | undefined, effect: () => T): Promise<T> {
    const io: SimIo = { id: this.nextIoId++, kind, offset, length };
    const fault = this.crashed ? undefined : this.takeFault(io);
    return new Promise<T>((resolve, reject) => {
      if (this.crashed) {
        reject(new SimDiskCrashedError(io));
        return;
      }
      const run = (): void => {
        if (fault !== undefined) throw fault;
        resolve(effect());
      };
      this.pending.set(io.id, { io, data, run, reject });
      tick();
      this.emit('issue', io, undefined);
      let called = false;
      const complete = (): void => {
        assert(!called, `io ${io.id} completed twice`);
        called = true;
        this.complete(io.id);
      };
      if (this.options.scheduler === undefined) complete();
      else this.options.scheduler(io, complete);
    });
  }

  /** The one place an IO takes effect. */
  private complete(id: number): void {
    const op = this.pending.get(id);
    if (op === undefined) return; // rejected by a crash already
    this.pending.delete(id);
    tick();
    let error: Error | undefined;
    try {
      op.run();
    } catch (err: unknown) {
      error = err instanceof Error ? err : new Error(String(err));
      op.reject(error);
    }
    this.emit('complete', op.io, error);
  }

  private emit(event: 'issue' | 'complete', io: SimIo, error: Error | undefined): void {
    for (const fn of this.listeners) fn(event, io, error);
  }

  private makeDurable(upToSeq: number): void {
    let n = 0;
    for (const w of this.volatile) {
      if (w.seq > upToSeq) break;
      this.durable.writeShared(w.offset, w.data);
      n++;
    }
    this.volatile = this.volatile.slice(n);
  }

  private crashCandidates(): Array<{ offset: number; data: Buffer; inFlight: boolean }> {
    const out = this.volatile.map((w) => ({ offset: w.offset, data: w.data, inFlight: false }));
    const inFlight = [...this.pending.values()].filter((op) => op.data !== undefined).sort((a, b) => a.io.id - b.io.id);
    for (const op of inFlight) if (op.data !== undefined) out.push({ offset: op.io.offset, data: op.data, inFlight: true });
    return out;
  }

  private landOnCrash(
    image: PageImage,
    w: { offset: number; data: Buffer; inFlight: boolean },
    rng: Rng,
    mode: CrashMode,
    garbage: (rng: Rng, lengthBytes: number) => Uint8Array,
  ): CrashedWrite {
    const base = { offset: w.offset, length: w.data.length, inFlight: w.inFlight };
    const survives = mode === 'keep-all' || ((mode === 'subset' || mode === 'torn') && rng.bool(0.5));
    if (!survives) return { ...base, fate: 'dropped' };
    if (mode !== 'torn') {
      image.writeShared(w.offset, w.data);
      return { ...base, fate: 'kept' };
    }
    const pieces = pagePieces(w.offset, w.data.length, this.pageSizeBytes);
    const kept = chooseKeptPieces(rng, pieces.length);
    if (kept.length === pieces.length) {
      image.writeShared(w.offset, w.data);
      return { ...base, fate: 'kept' };
    }
    const lostAs = rng.bool(0.5) ? 'old' : 'garbage';
    const keptSet = new Set(kept);
    pieces.forEach((p, i) => {
      if (keptSet.has(i)) image.writeShared(p.offset, w.data.subarray(p.offset - w.offset, p.offset - w.offset + p.length));
      else if (lostAs === 'garbage') image.write(p.offset, checkedGarbage(garbage(rng, p.length), p.length));
    });
    return { ...base, fate: 'torn', keptPieces: kept, lostAs };
  }

  /** Reject every pending IO: a crashed disk answers nothing. */
  private die(): void {
    this.crashed = true;
    const ops = [...this.pending.values()];
    this.pending.clear();
    for (const op of ops) {
      const error = new SimDiskCrashedError(op.io);
      op.reject(error);
      this.emit('complete', op.io, error);
    }
  }

  private adopt(durable: PageImage, current: PageImage, faults: readonly FaultRule[]): void {
    this.durable = durable;
    this.current = current;
    this.faults = faults.filter((f) => f.active).map((f) => f.copy());
  }

  private addFault(kind: SimIoKind, target: FaultTarget, duration: FaultDuration): FaultRule {
    const matches = typeof target === 'function' ? target : rangeMatcher(target);
    const rule = new FaultRule(kind, matches, duration);
    this.faults.push(rule);
    return rule;
  }

  private takeFault(io: SimIo): InjectedFaultError | undefined {
    for (const f of this.faults) {
      if (f.active && f.kind === io.kind && f.matches(io.offset, io.length)) {
        f.hit();
        this.stats.faults++;
        return new InjectedFaultError(io);
      }
    }
    return undefined;
  }
}

let zeros = Buffer.alloc(0);

/** `length` zero bytes, shared: REQUIRES that nobody writes them. */
function sharedZeros(length: number): Buffer {
  if (zeros.length < length) zeros = Buffer.alloc(Math.max(length, 2 * zeros.length));
  return zeros.subarray(0, length);
}

/** True for bytes sharedZeros() handed out (zeros, then, whatever their length). */
function isSharedZeros(data: Buffer): boolean {
  return data.buffer === zeros.buffer;
}

/** One line per unflushed write, for replay logs. */
export function describeCrash(report: CrashReport): string {
  const lines = [`crash ${report.mode}: ${report.writes.length} unflushed write(s)`];
  report.writes.forEach((w, i) => {
    let line = `  #${i} write ${w.offset}+${w.length}${w.inFlight ? ' (in flight)' : ''}: ${w.fate}`;
    if (w.fate === 'torn') line += ` kept pieces [${(w.keptPieces ?? []).join(',')}], rest ${w.lostAs ?? '?'}`;
    lines.push(line);
  });
  return lines.join('\n');
}

/** What imageMark() returns: opaque (the image it kept is held here). */
export interface ImageMark {
  readonly view: 'current' | 'durable';
}

const imageMarks = new WeakMap<ImageMark, PageImage>();

interface VolatileWrite {
  readonly seq: number;
  readonly offset: number;
  readonly data: Buffer;
}

interface PendingOp {
  readonly io: SimIo;
  /** The bytes of a write (crash candidates include in-flight writes). */
  readonly data: Buffer | undefined;
  /** Apply the effect and resolve; throws to fail the IO. */
  readonly run: () => void;
  readonly reject: (error: Error) => void;
}

class FaultRule implements FaultHandle {
  private hitCount = 0;
  private isActive = true;

  constructor(
    readonly kind: SimIoKind,
    readonly matches: (offset: number, length: number) => boolean,
    readonly duration: FaultDuration,
  ) {}

  get hits(): number {
    return this.hitCount;
  }

  get active(): boolean {
    return this.isActive;
  }

  hit(): void {
    this.hitCount++;
    if (this.duration === 'once') this.isActive = false;
  }

  remove(): void {
    this.isActive = false;
  }

  copy(): FaultRule {
    return new FaultRule(this.kind, this.matches, this.duration);
  }
}

function rangeMatcher(range: { readonly offset: number; readonly length: number }): (offset: number, length: number) => boolean {
  // A zero-length IO touches nothing, so it overlaps nothing.
  return (offset, length) => offset < range.offset + range.length && range.offset < offset + length;
}

/** The parts of [offset, offset+length) cut at page boundaries. */
function pagePieces(offset: number, length: number, pageSizeBytes: number): Array<{ offset: number; length: number }> {
  const out: Array<{ offset: number; length: number }> = [];
  let at = offset;
  const end = offset + length;
  while (at < end) {
    const pageEnd = (Math.floor(at / pageSizeBytes) + 1) * pageSizeBytes;
    const to = Math.min(end, pageEnd);
    out.push({ offset: at, length: to - at });
    at = to;
  }
  return out;
}

/** Which page-pieces of a surviving write land: all, a prefix, a suffix, or a random set. */
function chooseKeptPieces(rng: Rng, n: number): number[] {
  const all = Array.from({ length: n }, (_, i) => i);
  // One page is the atomic unit: it cannot tear.
  if (n <= 1) return all;
  const shape = rng.pick(['whole', 'prefix', 'suffix', 'random'] as const);
  switch (shape) {
    case 'whole':
      return all;
    case 'prefix':
      return all.slice(0, rng.int(1, n - 1));
    case 'suffix':
      return all.slice(n - rng.int(1, n - 1));
    case 'random':
      return all.filter(() => rng.bool(0.5));
  }
}

function checkedGarbage(bytes: Uint8Array, lengthBytes: number): Uint8Array {
  assert(bytes.length === lengthBytes, `garbage generator gave ${bytes.length} bytes, wanted ${lengthBytes}`);
  return bytes;
}

/**
 * Uninitialized page memory for the images of one disk and of its clones
 * and crash images, cut from slabs of PAGES_PER_SLAB pages (an allocation
 * per page cost more than its copy). Shared along the lineage, so an image
 * that takes few pages (a reboot's, a crash's) does not start a slab.
 */
class PageArena {
  private slab: Buffer | undefined;
  private usedBytes = 0;

  constructor(readonly pageSizeBytes: number) {}

  newPage(): Buffer {
    const pageBytes = this.pageSizeBytes;
    if (this.slab === undefined || this.usedBytes + pageBytes > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(PAGES_PER_SLAB * pageBytes);
      this.usedBytes = 0;
    }
    const page = this.slab.subarray(this.usedBytes, this.usedBytes + pageBytes);
    this.usedBytes += pageBytes;
    return page;
  }
}

const PAGES_PER_SLAB = 32;

/**
 * A sparse byte image in pages: only written pages take memory, so a
 * simulated disk costs what the scenario touches, not its size. Clones share
 * pages copy-on-write (a reboot or crash clones both images of the disk).
 */
class PageImage {
  private readonly pages: Map<number, Buffer>;
  /** Pages no other image references: written in place. The rest are copied first. */
  private owned = new Set<number>();

  constructor(
    readonly pageSizeBytes: number,
    private readonly fillSeed: Seed | undefined,
    private readonly arena: PageArena = new PageArena(pageSizeBytes),
    pages: Map<number, Buffer> = new Map(),
  ) {
    this.pages = pages;
  }

  read(offset: number, length: number): Buffer {
    // With a fill seed every byte comes from a page below; without, unwritten ones stay zero.
    const out = this.fillSeed === undefined ? Buffer.alloc(length) : Buffer.allocUnsafe(length);
    const size = this.pageSizeBytes;
    // Page by page, copied natively (no view or closure per page: reads are the simulator's hottest path).
    for (let at = 0; at < length; ) {
      const index = Math.floor((offset + at) / size);
      const inPage = offset + at - index * size;
      const n = Math.min(length - at, size - inPage);
      const page = this.pages.get(index) ?? this.fillPage(index);
      if (page !== undefined) page.copy(out, at, inPage, inPage + n);
      at += n;
    }
    return out;
  }

  /** Copy `data` in at `offset`. */
  write(offset: number, data: Uint8Array): void {
    this.store(offset, Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength), false);
  }

  /**
   * As write, but whole pages of `data` become pages of the image without a
   * copy, shared like a clone's (copied before any write to them).
   * REQUIRES: nobody ever changes `data` (the disk's own copy of a write).
   */
  writeShared(offset: number, data: Buffer): void {
    this.store(offset, data, true);
  }

  private store(offset: number, data: Buffer, share: boolean): void {
    const size = this.pageSizeBytes;
    // Zeros (host-space preparation writes whole extents of them at every
    // open) share one page instead of a view per page.
    const zeroPage = share && isSharedZeros(data) ? sharedZeros(size) : undefined;
    for (let at = 0; at < data.length; ) {
      const index = Math.floor((offset + at) / size);
      const inPage = offset + at - index * size;
      const n = Math.min(data.length - at, size - inPage);
      if (share && n === size) {
        this.pages.set(index, zeroPage ?? data.subarray(at, at + n));
        this.owned.delete(index);
      } else {
        data.copy(this.ownPage(index, n === size), inPage, at, at + n);
      }
      at += n;
    }
  }

  flipBit(offset: number, bit: number): void {
    const page = this.ownPage(Math.floor(offset / this.pageSizeBytes), false);
    const at = offset % this.pageSizeBytes;
    page[at] = (page[at] ?? 0) ^ (1 << bit);
  }

  /** sha256 over the written pages, in page order, each with its index (a page written back with fill bytes counts as written). */
  digest(): string {
    const hash = createHash('sha256');
    for (const index of [...this.pages.keys()].sort((a, b) => a - b)) {
      const page = this.pages.get(index);
      if (page === undefined) continue;
      hash.update(`${index}:`);
      hash.update(page);
    }
    return hash.digest('hex');
  }

  /** The same written pages with the same bytes as `other` (what equal digests say). */
  sameAs(other: PageImage): boolean {
    if (this.pages.size !== other.pages.size) return false;
    for (const [index, page] of this.pages) {
      const theirs = other.pages.get(index);
      if (theirs === undefined || (theirs !== page && !theirs.equals(page))) return false;
    }
    return true;
  }

  clone(): PageImage {
    // From now on both images share every page: neither may write one in place.
    this.owned = new Set();
    return new PageImage(this.pageSizeBytes, this.fillSeed, this.arena, new Map(this.pages));
  }

  /** The page to write in place; `overwritten`: the caller replaces every byte, so skip the old ones. */
  private ownPage(index: number, overwritten: boolean): Buffer {
    let page = this.pages.get(index);
    if (page !== undefined && this.owned.has(index)) return page;
    const old = overwritten ? undefined : (page ?? this.fillPage(index));
    page = this.arena.newPage();
    if (old !== undefined) page.set(old);
    else if (!overwritten) page.fill(0);
    this.pages.set(index, page);
    this.owned.add(index);
    return page;
  }

  /**
   * A never-written page: undefined for zeros (the caller's buffer already
   * is), else its garbage. Shared and read-only (ownPage copies it).
   */
  private fillPage(index: number): Buffer | undefined {
    if (this.fillSeed === undefined) return undefined;
    return garbagePage(this.fillSeed, index, this.pageSizeBytes);
  }
}

/**
 * Garbage pages of the latest few fill seeds. A page's garbage depends only
 * on (seed, index, page size), and the sequences of one seed (with every
 * reboot and crash image, and each disk of a node) read and partly
 * overwrite the same few pages, so each is made once. Never written: images
 * copy a page before changing it.
 */
const garbageCache = new Map<string, Map<number, Buffer>>();
const GARBAGE_CACHE_MAX_SEEDS = 8;
const GARBAGE_CACHE_MAX_PAGES = 4096;
let garbageCachePages = 0;

function garbagePage(fillSeed: Seed, index: number, pageSizeBytes: number): Buffer {
  const seed = `${String(fillSeed)}/${pageSizeBytes}`;
  let page = garbageCache.get(seed)?.get(index);
  if (page === undefined) {
    const full = garbageCachePages >= GARBAGE_CACHE_MAX_PAGES || (!garbageCache.has(seed) && garbageCache.size >= GARBAGE_CACHE_MAX_SEEDS);
    if (full) {
      garbageCache.clear();
      garbageCachePages = 0;
    }
    let pages = garbageCache.get(seed);
    if (pages === undefined) {
      pages = new Map();
      garbageCache.set(seed, pages);
    }
    page = new Rng(`${String(fillSeed)}/page/${index}`).bytes(pageSizeBytes);
    pages.set(index, page);
    garbageCachePages++;
  }
  return page;
}
