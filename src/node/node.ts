// A node: several disks, each an independent DiskStore, and a thin router
// that sends each key to one disk by a stable hash (CRC32C of the key
// modulo the disk count, fixed when the node is created and recorded in
// every disk's label). The node also carries the control plane
// (docs/CONTROL_PLANE.md): bulk calls, disks leaving and returning to
// service, scrub, migration, stats.
//
// Disks out of service. Each disk is a slot: in service (it has an open
// store), closing, out of service, or opening. A key whose disk is not in
// service fails at once with UnavailableError: it is never routed to
// another disk (its shards are not there) and never answered NotFound
// (they are not gone). A listing needs every disk: list() fails with
// Unavailable while one is out; listAvailable() lists the others and names
// the missing disks. Taking a disk out closes its store cleanly (every
// change already acknowledged is durable), or abandons it if the disk
// fails to close. A call in flight on the disk when it leaves ends as it
// would have, or fails with Unavailable and then had no effect: the store
// fences new changes when it starts closing (a put that had not staged yet
// fails; one that had is drained and durable), and an error of a store that
// has left service (Closed, or an IO error of its closed disk, also in the
// middle of a streamed body) is reported as Unavailable. Node-wide
// maintenance (flush, compact, reclaim) skips a disk that leaves service
// under it, as it skips one already out. Returning it reopens the store from the disk with full
// recovery (superblock, metadata log, index): nothing of the old in-memory
// state is reused. A disk whose file is missing or fails to open, or that
// belongs to another node or slot, is out of service from the start.
// A disk that another process holds (LockedError: a second server, or a
// tool on a live node) fails the whole open instead: serving part of a
// node that another process serves would be a surprise, not a degradation.
//
// Invariants:
// 1. A slot has a store if and only if it is in service or closing.
// 2. At most one transition (out or in) per slot at a time.
// 3. Routing never depends on which disks are in service.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ClosedError, CorruptionError, CryptoRandom, InvalidArgumentError, IoError, LockedError, NoSpaceError, UnavailableError, crc32c, systemClock } from '../base/index.js';
import type { Clock } from '../base/index.js';
import type { Dependency } from '../dependency/index.js';
import type { Disk } from '../disk/index.js';
import { FileDisk, preallocationShortfalls } from '../disk/index.js';
import type { ReclaimOptions } from '../reclaim/index.js';
import type { Label } from '../superblock/index.js';
import type {
  AdminApi,
  BulkPutEntry,
  BulkResult,
  DiskServiceState,
  DiskStats,
  DiskStatus,
  ImportCallOptions,
  ImportReport,
  KeyRange,
  NodeListResult,
  NodeStats,
  ReclaimRequest,
  ScrubCounters,
  ScrubOptions,
  ScrubReport,
  ScrubStatus,
} from './admin_types.js';
import { bulkDelete, bulkPut } from './bulk.js';
import { diskStats } from './disk_stats.js';
import { checkKey, printableKey } from '../store/index.js';
import type { DiskStore } from '../store/index.js';
import { listLimit } from '../store/index.js';
import { exportRange, importStream } from './migration.js';
import type { NodeOptions } from './node_options.js';
import { formatDiskStore, openDiskStore } from '../store/index.js';
import type { FormatOptions, OpenOptions } from '../store/index.js';
import { scrubNode, Scrubber } from './scrub_runner.js';
import type { ByteRange, ListOptions, ListResult, PreparedValue, ShardApi, ShardInfo, ShardReader, StoreStats, TogetherApi, TogetherPut, ValueSource } from '../store/index.js';

/** Opens (with recovery) the store of one disk of the node. */
export type DiskOpener = (disk: number) => Promise<DiskStore>;

export interface ShardNodeOptions {
  /** How a disk is opened again when it returns to service (none: it cannot return). */
  readonly reopen?: DiskOpener;
  readonly paths?: readonly string[];
  /** Why each disk without a store is out of service. */
  readonly reasons?: ReadonlyMap<number, string>;
  readonly clock?: Clock;
}

export interface NodeOpenOptions extends NodeOptions, FormatOptions {
  /** Keep these disks out of service: they are not opened. */
  readonly outOfService?: readonly number[];
  /** Create and format the data files when none exists (default true). */
  readonly create?: boolean;
}

interface Slot {
  readonly disk: number;
  readonly path: string | undefined;
  store: DiskStore | undefined;
  state: DiskServiceState;
  reason: string | undefined;
  /** The transition in progress (out or in). */
  busy: Promise<unknown> | undefined;
}

type NodeId = Label['nodeId'];

export class ShardNode implements ShardApi, TogetherApi, AdminApi {
  private readonly slots: Slot[];
  private readonly scrubber: Scrubber;
  private readonly nodeId: NodeId | undefined;

  constructor(
    stores: ReadonlyArray<DiskStore | undefined>,
    private readonly options: ShardNodeOptions = {},
  ) {
    if (stores.length === 0) throw new InvalidArgumentError('a node needs at least one disk');
    this.slots = Array.from({ length: stores.length }, (_, disk) => newSlot(disk, stores[disk], options));
    this.nodeId = stores.find((s) => s !== undefined)?.label.nodeId;
    this.scrubber = new Scrubber((o) => scrubNode(this.scrubTargets(), this.unavailableDisks(), o, options.clock ?? systemClock));
  }

  /**
   * Open the node's data files; when none exists yet (and `create` allows),
   * create and format them all. A disk whose file is missing or does not
   * open is out of service; if no disk opens, this fails.
   */
  static async openOrCreate(options: NodeOpenOptions): Promise<ShardNode> {
    const paths = nodePaths(options);
    const fresh = paths.map((p) => !existsSync(p));
    if (fresh.every((f) => f)) {
      if (options.create === false || options.readOnly === true) throw new IoError(`no data file found: ${paths.join(', ')}`);
      return formatNode(paths, options);
    }
    const reopen = fileOpener(paths, options);
    const stores: Array<DiskStore | undefined> = [];
    const reasons = new Map<number, string>();
    for (const [i, path] of paths.entries()) {
      if (options.outOfService?.includes(i) === true) reasons.set(i, 'kept out of service at open');
      else if (fresh[i] === true) reasons.set(i, `data file ${path} is missing`);
      else stores[i] = await reopen(i).catch(async (err: unknown) => {
        if (!(err instanceof LockedError)) return void reasons.set(i, `${path} did not open: ${message(err)}`);
        for (const s of stores) await s?.close();
        throw err;
      });
    }
    await dropStrangers(stores, paths, reasons);
    if (stores.every((s) => s === undefined)) throw new IoError(`no disk of the node could be opened: ${[...reasons.values()].join('; ')}`);
    return new ShardNode(Array.from({ length: paths.length }, (_, i) => stores[i]), { reopen, paths, reasons });
  }

  // ------------------------------------------------------------ routing

  /** The disk a key belongs to, whether or not it is in service. */
  diskOf(key: Buffer): number {
    return crc32c(key) % this.slots.length;
  }

  /** The store of the key's disk. Throws InvalidArgumentError (key), UnavailableError (disk out). */
  route(key: Buffer): DiskStore {
    checkKey(key);
    return this.storeOf(this.slot(this.diskOf(key)));
  }

  /** The stores of the disks in service, in disk order. */
  get stores(): readonly DiskStore[] {
    return this.slots.flatMap((s) => (s.state === 'in-service' && s.store !== undefined ? [s.store] : []));
  }

  /** The store of `disk` if it is in service. */
  store(disk: number): DiskStore | undefined {
    const s = this.slot(disk);
    return s.state === 'in-service' ? s.store : undefined;
  }

  private slot(disk: number): Slot {
    const s = this.slots[disk];
    if (s === undefined) throw new InvalidArgumentError(`no disk ${disk} (the node has ${this.slots.length})`);
    return s;
  }

  private storeOf(slot: Slot): DiskStore {
    if (slot.state !== 'in-service' || slot.store === undefined) {
      throw new UnavailableError(`disk ${slot.disk} is ${slot.state}${slot.reason === undefined ? '' : ` (${slot.reason})`}`);
    }
    return slot.store;
  }

  /** Run `fn` on the key's store; a store closed under it (disk taken out) is Unavailable. */
  private async onKey<T>(key: Buffer, fn: (store: DiskStore) => Promise<T>): Promise<T> {
    checkKey(key);
    const slot = this.slot(this.diskOf(key));
    const store = this.storeOf(slot);
    try {
      return await fn(store);
    } catch (err: unknown) {
      throw this.translate(err, slot, store, `shard ${printableKey(key)}`);
    }
  }

  /** An error of a store that left service (closing, closed, replaced) during the call: Unavailable, by contract. */
  private translate(err: unknown, slot: Slot, store: DiskStore, what: string): unknown {
    if (leftService(err, slot, store)) return new UnavailableError(`disk ${slot.disk} left service during the call on ${what}`, { cause: err });
    return err;
  }

  /** `body`, with the errors of a store that left service while it streams turned into Unavailable. */
  private async *translatedBody(body: AsyncIterable<Buffer>, slot: Slot, store: DiskStore, what: string): AsyncGenerator<Buffer> {
    try {
      yield* body;
    } catch (err: unknown) {
      throw this.translate(err, slot, store, what);
    }
  }

  /** `fn` on every store in service; a store that leaves service during the call is skipped (its error dropped). */
  private async onEachInService<T>(fn: (store: DiskStore) => Promise<T>, skipped: T): Promise<T[]> {
    return Promise.all(
      this.slots.flatMap((slot) => {
        const store = slot.state === 'in-service' ? slot.store : undefined;
        if (store === undefined) return [];
        return [
          fn(store).catch((err: unknown) => {
            if (leftService(err, slot, store)) return skipped;
            throw err;
          }),
        ];
      }),
    );
  }

  // ------------------------------------------------------------ ShardApi

  put(key: Buffer, value: ValueSource): Promise<Dependency> {
    return this.onKey(key, (s) => s.put(key, value));
  }

  /** TogetherApi (store/types.ts): the value is written on the key's disk. */
  prepare(key: Buffer, value: ValueSource): Promise<PreparedValue> {
    return this.onKey(key, (s) => s.prepare(key, value));
  }

  /** TogetherApi: the puts go to their one disk's store. Throws InvalidArgumentError if they are not on one disk. */
  async putTogether(puts: readonly TogetherPut[]): Promise<Dependency> {
    try {
      const first = puts[0];
      if (first === undefined) throw new InvalidArgumentError('putTogether of no put');
      if (!this.colocated(puts.map((p) => p.key))) throw new InvalidArgumentError('putTogether: the keys are on different disks');
      return await this.onKey(first.key, (s) => s.putTogether(puts));
    } finally {
      // The store released them unless it was never reached (release is idempotent).
      for (const p of puts) if (!(p.value instanceof Uint8Array)) p.value.release();
    }
  }

  colocated(keys: readonly Buffer[]): boolean {
    for (const k of keys) checkKey(k);
    return new Set(keys.map((k) => this.diskOf(k))).size <= 1;
  }

  get(key: Buffer): Promise<Buffer> {
    return this.onKey(key, (s) => s.get(key));
  }

  find(key: Buffer): Promise<Buffer | undefined> {
    return this.onKey(key, (s) => s.find(key));
  }

  /** DiskStore.getOwned on the key's disk: a buffer the caller may keep and change. */
  getOwned(key: Buffer): Promise<Buffer> {
    return this.onKey(key, (s) => s.getOwned(key));
  }

  async read(key: Buffer, range?: ByteRange): Promise<ShardReader> {
    const slot = this.slot(this.diskOf(key));
    let store: DiskStore | undefined;
    const reader = await this.onKey(key, (s) => {
      store = s;
      return s.read(key, range);
    });
    if (store === undefined) return reader;
    return { sizeBytes: reader.sizeBytes, body: this.translatedBody(reader.body, slot, store, `shard ${printableKey(key)}`) };
  }

  head(key: Buffer): Promise<ShardInfo> {
    return this.onKey(key, (s) => s.head(key));
  }

  delete(key: Buffer): Promise<Dependency> {
    return this.onKey(key, (s) => s.delete(key));
  }

  /** Every disk lists up to `limit`; the merged, ordered first `limit` are returned. Throws Unavailable while a disk is out. */
  async list(options: ListOptions = {}): Promise<ListResult> {
    const out = this.unavailableDisks();
    if (out.length > 0) throw new UnavailableError(`a listing needs every disk; disk(s) ${out.join(', ')} out of service (listAvailable lists the others)`);
    return this.listOver(this.slots, options);
  }

  async listAvailable(options: ListOptions = {}): Promise<NodeListResult> {
    const unavailableDisks = this.unavailableDisks();
    const result = await this.listOver(this.slots.filter((s) => !unavailableDisks.includes(s.disk)), options);
    return { ...result, unavailableDisks };
  }

  private async listOver(slots: readonly Slot[], options: ListOptions): Promise<ListResult> {
    const limit = listLimit(options.limit);
    const parts = await Promise.all(
      slots.map(async (slot) => {
        const store = this.storeOf(slot);
        try {
          return await store.list({ ...options, limit });
        } catch (err: unknown) {
          throw this.translate(err, slot, store, 'a listing');
        }
      }),
    );
    const all = parts.flatMap((p) => p.shards).sort((a, b) => Buffer.compare(a.key, b.key));
    const truncated = all.length > limit || parts.some((p) => p.truncated);
    return { shards: all.slice(0, limit), truncated };
  }

  async flush(): Promise<void> {
    await this.onEachInService((s) => s.flush(), undefined);
  }

  async compact(): Promise<void> {
    await this.onEachInService((s) => s.compact(), undefined);
  }

  /** Reclaim on every disk in service (one leaving service during the call counts 0); returns the extents reset. */
  async reclaim(options: ReclaimOptions = {}): Promise<number> {
    const n = await this.onEachInService((s) => s.reclaim(options), 0);
    return n.reduce((a, b) => a + b, 0);
  }

  reclaimNow(request: ReclaimRequest): Promise<number> {
    return this.reclaim(request);
  }

  /** Stop a scrub, finish transitions, close every store in service. */
  async close(): Promise<void> {
    await this.scrubber.stop();
    await Promise.allSettled(this.slots.flatMap((s) => (s.busy === undefined ? [] : [s.busy])));
    const results = await Promise.allSettled(this.slots.flatMap((s) => (s.store === undefined ? [] : [s.store.close()])));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed !== undefined && failed.status === 'rejected') throw failed.reason;
  }

  /** Drop every store's volatile state without flushing (tests: a crash of the process). */
  abandon(): void {
    for (const s of this.slots) s.store?.abandon();
  }

  stats(): StoreStats {
    const all = this.stores.map((s) => s.stats());
    const sum = (f: (s: StoreStats) => number): number => all.reduce((n, s) => n + f(s), 0);
    return {
      disks: this.slots.length,
      capacityBytes: sum((s) => s.capacityBytes),
      extentSizeBytes: all[0]?.extentSizeBytes ?? 0,
      extentsFree: sum((s) => s.extentsFree),
      extentsData: sum((s) => s.extentsData),
      extentsIndex: sum((s) => s.extentsIndex),
      extentsMeta: sum((s) => s.extentsMeta),
      commits: sum((s) => s.commits),
      flushes: sum((s) => s.flushes),
      reclaimedExtents: sum((s) => s.reclaimedExtents),
      reclaimedBytes: sum((s) => s.reclaimedBytes),
      movedBytes: sum((s) => s.movedBytes),
      putsWaitedForRoom: sum((s) => s.putsWaitedForRoom ?? 0),
      liveBytesReady: all.every((s) => s.liveBytesReady),
      ...nodeHealth(this.slots, all),
    };
  }

  // ------------------------------------------------------------ bulk

  bulkPut(entries: readonly BulkPutEntry[]): Promise<BulkResult> {
    return bulkPut(this, entries);
  }

  bulkDelete(keys: readonly Buffer[]): Promise<BulkResult> {
    return bulkDelete(this, keys);
  }

  // ------------------------------------------------------------ disks in and out of service

  disks(): DiskStatus[] {
    return this.slots.map(statusOf);
  }

  private unavailableDisks(): number[] {
    return this.slots.filter((s) => s.state !== 'in-service').map((s) => s.disk);
  }

  /**
   * Take a disk out of service: its keys fail with Unavailable from now on;
   * its store is closed (everything acknowledged is durable) or, if that
   * fails, abandoned. Idempotent.
   */
  async takeOutOfService(disk: number, reason = 'taken out of service by the operator'): Promise<DiskStatus> {
    const slot = this.slot(disk);
    if (slot.state === 'out-of-service') return statusOf(slot);
    if (slot.state !== 'in-service') throw new UnavailableError(`disk ${disk} is ${slot.state}; try again`);
    slot.state = 'closing';
    slot.reason = reason;
    slot.busy = this.closeSlot(slot);
    await slot.busy;
    return statusOf(slot);
  }

  private async closeSlot(slot: Slot): Promise<void> {
    const store = slot.store;
    try {
      await store?.close();
    } catch (err: unknown) {
      // The disk may be failing: what was acknowledged is durable already; drop the rest.
      store?.abandon();
      slot.reason = `${slot.reason ?? ''}; close failed: ${message(err)}`;
    } finally {
      slot.store = undefined;
      slot.state = 'out-of-service';
      slot.busy = undefined;
    }
  }

  /**
   * Return a disk to service: reopen its store from the disk, with full
   * recovery, and check it is this node's disk at this slot. On failure it
   * stays out of service and the error is thrown. Idempotent.
   */
  async returnToService(disk: number): Promise<DiskStatus> {
    const slot = this.slot(disk);
    if (slot.state === 'in-service') return statusOf(slot);
    if (slot.state !== 'out-of-service') throw new UnavailableError(`disk ${disk} is ${slot.state}; try again`);
    slot.state = 'opening';
    const opening = this.reopenDisk(disk);
    slot.busy = opening;
    try {
      slot.store = await opening;
      slot.state = 'in-service';
      slot.reason = undefined;
    } catch (err: unknown) {
      slot.state = 'out-of-service';
      slot.reason = `return to service failed: ${message(err)}`;
      throw err;
    } finally {
      slot.busy = undefined;
    }
    return statusOf(slot);
  }

  /** Open the disk's store anew (recovery) and check its label. */
  private async reopenDisk(disk: number): Promise<DiskStore> {
    const reopen = this.options.reopen;
    if (reopen === undefined) throw new InvalidArgumentError('this node was built without a way to reopen its disks');
    const store = await reopen(disk);
    const problem = membershipProblem(store.label, this.nodeId, disk, this.slots.length);
    if (problem !== undefined) {
      await store.close();
      throw new CorruptionError(`disk ${disk}: ${problem}`);
    }
    return store;
  }

  // ------------------------------------------------------------ scrub, migration, stats

  scrub(options: ScrubOptions = {}): Promise<ScrubReport> {
    return this.scrubber.runNow(options);
  }

  startScrub(options: ScrubOptions = {}): ScrubStatus {
    return this.scrubber.start(options);
  }

  scrubStatus(): ScrubStatus {
    return this.scrubber.status();
  }

  /** The status once no background pass runs (at once if none does). */
  scrubSettled(): Promise<ScrubStatus> {
    return this.scrubber.settled();
  }

  scrubTotals(): ScrubCounters {
    return { ...this.scrubber.totals };
  }

  private scrubTargets(): Array<{ disk: number; store: DiskStore }> {
    return this.slots.flatMap((s) => (s.state === 'in-service' && s.store !== undefined ? [{ disk: s.disk, store: s.store }] : []));
  }

  exportRange(range: KeyRange): AsyncIterable<Buffer> {
    return exportRange(this, range);
  }

  importStream(source: AsyncIterable<Uint8Array>, options: ImportCallOptions = {}): Promise<ImportReport> {
    return importStream(this, source, options);
  }

  nodeStats(): NodeStats {
    const disks = this.slots.map((s) => (s.state === 'in-service' && s.store !== undefined ? diskStats(s.store, s.disk, s.path) : emptyDiskStats(s)));
    const inService = disks.filter((d) => d.state === 'in-service');
    return { disks, total: sumStats(inService), disksInService: inService.length };
  }
}

function newSlot(disk: number, store: DiskStore | undefined, options: ShardNodeOptions): Slot {
  const reason = store === undefined ? (options.reasons?.get(disk) ?? 'not opened') : undefined;
  return { disk, path: options.paths?.[disk], store, state: store === undefined ? 'out-of-service' : 'in-service', reason, busy: undefined };
}

function statusOf(s: Slot): DiskStatus {
  return { disk: s.disk, ...(s.path === undefined ? {} : { path: s.path }), state: s.state, ...(s.reason === undefined ? {} : { reason: s.reason }) };
}

/** The disks' health, summed; `degraded` names the disk of each cause. */
function nodeHealth(slots: readonly Slot[], all: readonly StoreStats[]): Pick<StoreStats, 'degraded' | 'readOnlyDisks' | 'hostNoSpaceWrites' | 'preparedExtents' | 'hostFreeBytes'> {
  const degraded: string[] = [];
  for (const s of slots) {
    if (s.state !== 'in-service' || s.store === undefined) continue;
    for (const why of s.store.stats().degraded ?? []) degraded.push(`disk ${s.disk}: ${why}`);
  }
  const hostFree = all.flatMap((s) => (s.hostFreeBytes === undefined ? [] : [s.hostFreeBytes]));
  const sum = (f: (s: StoreStats) => number | undefined): number => all.reduce((n, s) => n + (f(s) ?? 0), 0);
  return {
    degraded,
    readOnlyDisks: sum((s) => s.readOnlyDisks),
    hostNoSpaceWrites: sum((s) => s.hostNoSpaceWrites),
    preparedExtents: sum((s) => s.preparedExtents),
    // The fullest file system: disks may share one, so a sum would count it twice.
    ...(hostFree.length === 0 ? {} : { hostFreeBytes: Math.min(...hostFree) }),
  };
}

/**
 * The error came from a store that is no longer the slot's store in
 * service (closing, closed, replaced): Closed, or an IO error of its
 * closed disk. Other errors (NotFound, Corruption, NoSpace) stay what they are.
 */
function leftService(err: unknown, slot: Slot, store: DiskStore): boolean {
  if (slot.store === store && slot.state === 'in-service') return false;
  return err instanceof ClosedError || err instanceof IoError;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function nodePaths(options: NodeOptions): readonly string[] {
  const paths = options.paths ?? Array.from({ length: options.disks }, (_, i) => join(options.dataDir, `disk-${i}.dat`));
  if (paths.length < 1) throw new InvalidArgumentError('a node needs at least one disk');
  return paths;
}

/** Create every data file and format it as disk i of a new node. */
async function formatNode(paths: readonly string[], options: NodeOpenOptions): Promise<ShardNode> {
  if (options.paths === undefined) mkdirSync(options.dataDir, { recursive: true });
  if (options.preallocate === true) await refuseUnfitPreallocation(paths, options.diskSizeBytes);
  const random = options.random ?? new CryptoRandom();
  const nodeId = { low: random.nextU32(), high: random.nextU32() };
  const stores: DiskStore[] = [];
  try {
    for (const [i, path] of paths.entries()) {
      const disk = await FileDisk.open(path, { createSizeBytes: options.diskSizeBytes, preallocate: options.preallocate === true });
      stores.push(await closeOnError(disk, () => formatDiskStore(disk, { ...options, nodeId, diskIndex: i, diskCount: paths.length })));
    }
  } catch (err: unknown) {
    for (const s of stores) await s.close();
    throw err;
  }
  return new ShardNode(stores, { reopen: fileOpener(paths, options), paths });
}

/**
 * With preallocation, a data file the host file system cannot hold whole is
 * refused before anything is created (one line, numbers in it), instead of
 * failing part way through writing zeros. Sparse files are not refused:
 * `serve` warns about them (dataFileSpace, shortfalls).
 */
async function refuseUnfitPreallocation(paths: readonly string[], sizeBytes: number): Promise<void> {
  for (const s of await preallocationShortfalls(paths, sizeBytes)) {
    throw new NoSpaceError(
      `cannot create ${s.paths.length} preallocated data file(s) of ${sizeBytes} bytes (${s.paths.join(', ')}): they need ${s.unallocatedBytes} bytes, the file system has ${s.freeBytes} free; nothing was created`,
    );
  }
}

/** Opens disk i from its file (never creating it), with full recovery; read-only if `options.readOnly`. */
function fileOpener(paths: readonly string[], options: OpenOptions): DiskOpener {
  return async (i: number): Promise<DiskStore> => {
    const path = paths[i];
    if (path === undefined) throw new InvalidArgumentError(`no disk ${i}`);
    const disk = await FileDisk.open(path, { readOnly: options.readOnly === true });
    return closeOnError(disk, () => openDiskStore(disk, options));
  };
}

async function closeOnError(disk: Disk, open: () => Promise<DiskStore>): Promise<DiskStore> {
  try {
    return await open();
  } catch (err: unknown) {
    await disk.close();
    throw err;
  }
}

/** Why a store with `label` cannot be disk `disk` of `count` of node `nodeId`, or undefined. */
export function membershipProblem(label: Label, nodeId: NodeId | undefined, disk: number, count: number): string | undefined {
  if (nodeId !== undefined && (label.nodeId.low !== nodeId.low || label.nodeId.high !== nodeId.high)) return 'belongs to another node';
  if (label.diskCount !== count || label.diskIndex !== disk) return `is disk ${label.diskIndex} of ${label.diskCount}, opened as ${disk} of ${count}`;
  return undefined;
}

/** Close and mark out of service the disks that are not this node's, at their slot (the first opened disk names the node). */
async function dropStrangers(stores: Array<DiskStore | undefined>, paths: readonly string[], reasons: Map<number, string>): Promise<void> {
  const nodeId = stores.find((s) => s !== undefined)?.label.nodeId;
  for (const [i, s] of stores.entries()) {
    const problem = s === undefined ? undefined : membershipProblem(s.label, nodeId, i, paths.length);
    if (s === undefined || problem === undefined) continue;
    await s.close();
    stores[i] = undefined;
    reasons.set(i, `${paths[i] ?? ''} ${problem}`);
  }
}

function emptyDiskStats(s: Slot): DiskStats {
  return {
    disk: s.disk,
    ...(s.path === undefined ? {} : { path: s.path }),
    state: s.state,
    ...(s.reason === undefined ? {} : { reason: s.reason }),
    capacityBytes: 0,
    extentSizeBytes: 0,
    usedBytes: 0,
    freeBytes: 0,
    liveBytes: 0,
    liveDataBytes: 0,
    liveIndexBytes: 0,
    reclaimableBytes: 0,
    extents: { free: 0, data: 0, index: 0, meta: 0, superblock: 0 },
    shardCount: 0,
    liveBytesReady: true,
  };
}

function sumStats(disks: readonly DiskStats[]): NodeStats['total'] {
  const sum = (f: (d: DiskStats) => number): number => disks.reduce((n, d) => n + f(d), 0);
  return {
    capacityBytes: sum((d) => d.capacityBytes),
    usedBytes: sum((d) => d.usedBytes),
    freeBytes: sum((d) => d.freeBytes),
    liveBytes: sum((d) => d.liveBytes),
    liveDataBytes: sum((d) => d.liveDataBytes),
    liveIndexBytes: sum((d) => d.liveIndexBytes),
    reclaimableBytes: sum((d) => d.reclaimableBytes),
    extents: {
      free: sum((d) => d.extents.free),
      data: sum((d) => d.extents.data),
      index: sum((d) => d.extents.index),
      meta: sum((d) => d.extents.meta),
      superblock: sum((d) => d.extents.superblock),
    },
    shardCount: sum((d) => d.shardCount),
    liveBytesReady: disks.every((d) => d.liveBytesReady),
  };
}
