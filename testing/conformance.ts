// Conformance check: run one operation sequence against the reference model
// and the engine (a DiskStore on a simulated disk) side by side.
//
// Strategy: apply each operation to both; compare every result (values,
// sizes, listings, and the code of every typed error); after each step check
// the invariants below. Background work (commit, index flush, compaction)
// and clean reboots (close, then open the same disk) are operations too, so
// failures land in the middle of them.
//
// Invariants (after every step):
// 1. A full listing of the engine equals the model's (keys and sizes).
// 2. Extent accounting adds up: every extent is free, data, index, meta or
//    superblock, and at least one metadata extent exists.
// 3. Cache coherence: every payload in the buffer cache lies below its
//    extent's write pointer and equals what a verified read of the disk
//    returns there.
import fc from 'fast-check';
import { NotFoundError, ShardStoreError } from '../src/base/index.js';
import { ConformanceFailure, checkSequences, reportSequences, runOnHarness } from './sequences.js';
import type { CheckOptions } from './sequences.js';
import { CHUNK_OVERHEAD_BYTES, checkChunk } from '../src/chunk/index.js';
import { ExtentOwner, isExtentOwner } from '../src/extent/index.js';
import { formatDiskStore, openDiskStore } from '../src/store/index.js';
import type { DiskStore, FormatOptions, ShardApi } from '../src/store/index.js';
import { ModelStore } from './model.js';
import { KEY_POOL, PREFIX_POOL, formatOp, formatOps, keyOf, opArb, valueOf } from './ops.js';
import type { Op } from './ops.js';
import { Rng } from './rng.js';
import { SimDisk } from './sim_disk.js';

export interface EngineConfig {
  readonly diskSizeBytes: number;
  readonly pageSizeBytes: number;
  readonly extentSizeBytes: number;
  readonly maxChunkDataBytes: number;
  readonly cacheBytes: number;
  readonly memtableFlushBytes: number;
  readonly compactionFanIn: number;
  readonly maxManifestBytes: number;
  readonly maxLogBytes: number;
}

/** Tiny extents and cache, so extent boundaries, chunk splits, cache misses and log rolls happen. */
export const SMALL_CONFIG: EngineConfig = {
  diskSizeBytes: 64 * 1024 * 1024,
  pageSizeBytes: 4096,
  extentSizeBytes: 64 * 1024,
  maxChunkDataBytes: 6000,
  cacheBytes: 256 * 1024,
  memtableFlushBytes: 2048,
  compactionFanIn: 3,
  maxManifestBytes: 16 * 1024,
  maxLogBytes: 3000,
};

export { ConformanceFailure } from './sequences.js';

export function formatOptions(config: EngineConfig, random: Rng): FormatOptions {
  return {
    extentSizeBytes: config.extentSizeBytes,
    maxChunkDataBytes: config.maxChunkDataBytes,
    cacheBytes: config.cacheBytes,
    memtableFlushBytes: config.memtableFlushBytes,
    compactionFanIn: config.compactionFanIn,
    maxManifestBytes: config.maxManifestBytes,
    maxLogBytes: config.maxLogBytes,
    random,
    // Background work is driven by the sequence's own operations, so a
    // sequence replays exactly.
    background: false,
    // So is confirmation: no timer on the wall clock. The crash and faults
    // suites put it on their virtual clock (crash.ts, idle()).
    confirmIdleMs: Infinity,
  };
}

type Outcome = { readonly ok: string } | { readonly error: string };

function sameOutcome(a: Outcome, b: Outcome): boolean {
  return 'ok' in a ? 'ok' in b && a.ok === b.ok : 'error' in b && a.error === b.error;
}

async function outcome(fn: () => Promise<string>): Promise<Outcome> {
  try {
    return { ok: await fn() };
  } catch (err: unknown) {
    if (err instanceof ShardStoreError) return { error: err.code };
    throw err;
  }
}

/** A key as it shows in a listing comparison: short, and the same for equal keys. */
export function keyDigest(key: Buffer): string {
  return key.length <= 12 ? key.toString('hex') : `${key.subarray(0, 6).toString('hex')}..${key.length}B`;
}

function digest(buf: Buffer): string {
  return `${buf.length}B:${buf.subarray(0, 8).toString('hex')}..${buf.subarray(-8).toString('hex')}`;
}

async function readAll(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of body) parts.push(p);
  return Buffer.concat(parts);
}

async function* pieces(value: Buffer, pieceBytes: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < value.length; at += pieceBytes) {
    await Promise.resolve();
    yield value.subarray(at, at + pieceBytes);
  }
}

/** An engine with getOwned (DiskStore, ShardNode; not the model, whose get already copies). */
function ownsGets(api: ShardApi): api is ShardApi & { getOwned(key: Buffer): Promise<Buffer> } {
  return 'getOwned' in api && typeof api.getOwned === 'function';
}

/**
 * The digest of a value the caller owns, which is then written over: if
 * the store still held any of its bytes (its buffer cache's payload), the
 * cache coherence check (invariant 3) or a later get of the key sees it.
 */
function scribbled(value: Buffer): string {
  const d = digest(value);
  value.fill(0xee);
  return d;
}

/** get through find: its absent answer turned into get's NotFoundError (the checks compare both alike). */
export async function getViaFind(api: ShardApi, key: Buffer): Promise<Buffer> {
  const value = await api.find(key);
  if (value === undefined) throw new NotFoundError(`find: no shard ${keyDigest(key)}`);
  return value;
}

/**
 * What `op` answers on `api`, as a comparable string. A get of an odd key
 * in the pool goes through getOwned where the engine offers it, of keys
 * 2, 6, 10, ... through find (a function of the operation alone, so a
 * sequence replays exactly).
 */
export async function apply(api: ShardApi, op: Op): Promise<Outcome> {
  switch (op.op) {
    case 'put': {
      const value = valueOf(op.size, op.fill);
      const source = op.streamed ? pieces(value, 1000 + (op.fill % 3000)) : value;
      return outcome(async () => (await api.put(keyOf(op.key), source), 'put'));
    }
    case 'get':
      // Keys 2, 6, 10, ... through find (undefined for absent: NotFound here, as get answers).
      if (op.key % 4 === 2) return outcome(async () => digest(await getViaFind(api, keyOf(op.key))));
      return outcome(async () => (op.key % 2 === 1 && ownsGets(api) ? scribbled(await api.getOwned(keyOf(op.key))) : digest(await api.get(keyOf(op.key)))));
    case 'head':
      return outcome(async () => String((await api.head(keyOf(op.key))).sizeBytes));
    case 'read':
      return outcome(async () => {
        const r = await api.read(keyOf(op.key), { start: op.start, end: op.start + op.length });
        return `${r.sizeBytes}:${digest(await readAll(r.body))}`;
      });
    case 'delete':
      return outcome(async () => (await api.delete(keyOf(op.key)), 'deleted'));
    case 'list':
      return outcome(async () => {
        const startAfter = op.startAfter < 0 ? undefined : KEY_POOL[op.startAfter];
        const r = await api.list({ prefix: PREFIX_POOL[op.prefix] ?? Buffer.alloc(0), limit: op.limit, ...(startAfter === undefined ? {} : { startAfter }) });
        return `${r.shards.map((s) => `${keyDigest(s.key)}=${s.sizeBytes}`).join(',')}${r.truncated ? ' +more' : ''}`;
      });
    default:
      return { ok: 'background' };
  }
}

/** The engine and the model, side by side. */
export class Harness {
  private step = 0;
  /** The model's full listing after the last step (see checkInvariants). */
  private modelListing: Listing | undefined;

  private constructor(
    private disk: SimDisk,
    public store: DiskStore,
    readonly model: ModelStore,
    private readonly config: EngineConfig,
    private readonly rng: Rng,
  ) {}

  static async create(config: EngineConfig, seed: number): Promise<Harness> {
    const rng = new Rng(seed);
    const disk = new SimDisk({ sizeBytes: config.diskSizeBytes, pageSizeBytes: config.pageSizeBytes, fillSeed: seed });
    const store = await formatDiskStore(disk, formatOptions(config, rng.fork('chunk-ids')));
    return new Harness(disk, store, new ModelStore(), config, rng);
  }

  async run(op: Op): Promise<void> {
    const index = this.step++;
    const expected = await apply(this.model, op);
    let actual: Outcome;
    try {
      actual = await this.applyEngine(op);
    } catch (err: unknown) {
      // A check that failed inside the operation (a reboot's state comparison) as it is.
      if (err instanceof ConformanceFailure) throw err;
      // Anything but a typed error is a crash of the engine: a failure too.
      const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      throw new ConformanceFailure(`step ${index} ${formatOp(op)}: engine threw ${what}`, index);
    }
    if (!sameOutcome(expected, actual)) {
      throw new ConformanceFailure(`step ${index} ${formatOp(op)}: model ${JSON.stringify(expected)}, engine ${JSON.stringify(actual)}`, index);
    }
    await this.checkInvariants(index, op);
  }

  async close(): Promise<void> {
    await this.store.close();
  }

  private async applyEngine(op: Op): Promise<Outcome> {
    switch (op.op) {
      case 'commit':
        await this.store.log.drain();
        return { ok: 'background' };
      case 'flush':
        await this.store.flush();
        return { ok: 'background' };
      case 'compact':
        await this.store.compact();
        return { ok: 'background' };
      case 'reclaim':
        await this.store.reclaim({ maxExtents: 2, maxLiveRatio: 1 });
        return { ok: 'background' };
      case 'checkpoint':
        await this.store.checkpoint();
        return { ok: 'background' };
      case 'reboot':
        await this.reboot();
        return { ok: 'background' };
      default:
        return apply(this.store, op);
    }
  }

  private async reboot(): Promise<void> {
    await this.store.close();
    const before = persistentState(this.store);
    this.disk = this.disk.clone();
    this.store = await openDiskStore(this.disk, formatOptions(this.config, this.rng.fork('chunk-ids')));
    await this.store.liveBytesReady();
    const difference = stateDifference(before, persistentState(this.store));
    if (difference !== undefined) throw new ConformanceFailure(`persistent state differs across a clean reboot: ${difference}`, this.step - 1);
  }

  private async checkInvariants(step: number, op: Op): Promise<void> {
    // The model is a plain map: only a put or a delete changes its listing.
    if (this.modelListing === undefined || op.op === 'put' || op.op === 'delete') this.modelListing = await fullListing(this.model);
    const [model, engine] = [this.modelListing, await fullListing(this.store)];
    if (!sameListing(model, engine)) {
      throw new ConformanceFailure(`after step ${step}: listing differs: model [${formatListing(model)}] engine [${formatListing(engine)}]`, step);
    }
    checkExtentAccounting(this.store, step);
    // The cache can only go stale when an extent is reset: by reclamation,
    // compaction, a log roll (checkpoint, flush) or across a reboot.
    if (RESETTING_OPS.has(op.op)) await checkCacheCoherent(this.store, step);
  }
}

/**
 * What a clean reboot must give back exactly: every extent's owner and write
 * pointer (so the free extents too), the live bytes of each data extent, the
 * shard count and the index runs. The listing is compared after every step
 * anyway; this catches what a listing cannot see: a reset or an allocation
 * that was never recorded, a leaked extent, live-byte accounting that drifted
 * from the index.
 */
export interface PersistentState {
  /** Per extent: its owner and its write pointer (numbers; words only in a difference). */
  readonly owners: Uint8Array;
  readonly writePointers: Uint32Array;
  readonly live: ReadonlyMap<number, number>;
  readonly shardCount: number;
  readonly runs: string;
}

export function persistentState(store: DiskStore): PersistentState {
  const { extents, index } = store.parts;
  const count = extents.geometry.extentCount;
  const owners = new Uint8Array(count);
  const writePointers = new Uint32Array(count);
  for (let e = 0; e < count; e++) {
    owners[e] = extents.owner(e);
    writePointers[e] = extents.writePointer(e);
  }
  const live = new Map<number, number>();
  for (const [extent, bytes] of store.live.entries()) if (bytes !== 0) live.set(extent, bytes);
  const runs = index.runs().map((r) => r.id).sort((a, b) => a - b).join(',');
  return { owners, writePointers, live, shardCount: store.live.shardCount, runs };
}

/** An extent's entry as a difference names it. */
function extentEntry(state: PersistentState, e: number): string {
  const owner = state.owners[e];
  if (owner === undefined) return '-';
  return `${ExtentOwner[owner] ?? owner}@${state.writePointers[e] ?? '-'}`;
}

/** The first difference between two states, in words; undefined if equal. */
export function stateDifference(before: PersistentState, after: PersistentState): string | undefined {
  for (let e = 0; e < Math.max(before.owners.length, after.owners.length); e++) {
    if (before.owners[e] !== after.owners[e] || before.writePointers[e] !== after.writePointers[e]) {
      return `extent ${e} was ${extentEntry(before, e)}, is ${extentEntry(after, e)}`;
    }
  }
  for (const extent of new Set([...before.live.keys(), ...after.live.keys()])) {
    if (before.live.get(extent) !== after.live.get(extent)) return `live bytes of extent ${extent} were ${before.live.get(extent) ?? 0}, are ${after.live.get(extent) ?? 0}`;
  }
  if (before.shardCount !== after.shardCount) return `shard count was ${before.shardCount}, is ${after.shardCount}`;
  if (before.runs !== after.runs) return `runs were [${before.runs}], are [${after.runs}]`;
  return undefined;
}

const RESETTING_OPS = new Set<Op['op']>(['reclaim', 'compact', 'checkpoint', 'flush', 'commit', 'reboot']);

export type Listing = ReadonlyArray<{ readonly key: Buffer; readonly sizeBytes: number }>;

/** Invariant 1's operand: every key and size. */
async function fullListing(api: ShardApi): Promise<Listing> {
  return (await api.list({})).shards;
}

export function sameListing(a: Listing, b: Listing): boolean {
  return a.length === b.length && a.every((s, i) => s.sizeBytes === b[i]?.sizeBytes && s.key.equals(b[i].key));
}

/** A listing as failure messages show it. */
export function formatListing(listing: Listing): string {
  return listing.map((s) => `${keyDigest(s.key)}=${s.sizeBytes}`).join(',');
}

/**
 * Invariant 2: every extent has one of the five owners, and a metadata
 * extent exists. From the table's count per owner byte (one pass, no call
 * per extent): the extents whose byte names an owner must be all of them.
 */
export function checkExtentAccounting(store: DiskStore, step: number): void {
  const extents = store.parts.extents;
  const count = extents.geometry.extentCount;
  const byOwner = extents.ownerByteCounts();
  let counted = 0;
  for (let owner = 0; owner < byOwner.length; owner++) if (isExtentOwner(owner)) counted += byOwner[owner] ?? 0;
  const meta = byOwner[ExtentOwner.Meta] ?? 0;
  if (counted !== count || meta < 1) {
    throw new ConformanceFailure(`after step ${step}: extent accounting broken (${counted} of ${count}, ${meta} metadata)`, step);
  }
}

/** Invariant 3: the buffer cache agrees with the disk. */
export async function checkCacheCoherent(store: DiskStore, step: number): Promise<void> {
  const { chunks, extents } = store.parts;
  for (const { extent, offset, kind, payload } of [...chunks.cache.cached()]) {
    const length = CHUNK_OVERHEAD_BYTES + payload.length;
    if (offset + length > extents.writePointer(extent)) {
      throw new ConformanceFailure(`after step ${step}: cache holds ${extent}:${offset}+${length}, beyond the write pointer ${extents.writePointer(extent)}`, step);
    }
    const framed = await extents.read(extent, offset, length);
    const onDisk = checkChunk(framed);
    if (typeof onDisk === 'string' || onDisk.header.kind !== kind || !onDisk.payload.equals(payload)) {
      throw new ConformanceFailure(`after step ${step}: cache entry ${extent}:${offset} differs from the disk`, step);
    }
  }
}

/** Run a whole sequence; returns the failure, if any (the harness is closed either way). */
export async function runSequence(ops: readonly Op[], config: EngineConfig, seed: number): Promise<ConformanceFailure | undefined> {
  return runOnHarness(await Harness.create(config, seed), ops);
}

export function checkConformance(options: CheckOptions & { minLength?: number; config?: EngineConfig }): Promise<fc.RunDetails<[Op[]]>> {
  const config = options.config ?? SMALL_CONFIG;
  const ops = fc.array(opArb(config), { minLength: options.minLength ?? 50, maxLength: 80 });
  return checkSequences(ops, (seq) => runSequence(seq, config, options.seed), options);
}

export function reportConformance(details: fc.RunDetails<[Op[]]>): string {
  return reportSequences(details, formatOps);
}

