// Scrub: read back every chunk the store still needs and verify it, so
// media damage is found before a get trips over it, and the fleet can
// delete or replace the damaged shards (docs/CONTROL_PLANE.md).
//
// One pass over one disk:
// 1. Read and verify every chunk of every installed LSM run.
// 2. Walk the committed index in key order. For each shard, register as a
//    reader (so reclamation does not reset an extent under us), look the
//    key up again, and read each of its data chunks from the disk, never
//    from the buffer cache (the cache holds what was verified once, not what
//    is on the media now). Verify the frame (CRC32C, ids at both ends,
//    kind, length) and that the chunk belongs to the key.
// Reads are rate limited (bytes per second per disk).
//
// Invariants:
// 1. A shard is reported only if the value the index holds for it now still
//    names the damaged chunk (a value replaced meanwhile is not reported).
// 2. 'corrupt' means the bytes were read and did not verify; 'unreadable'
//    means the disk failed the read twice. Nothing else is reported.
// 3. A pass never changes the store; a disk closed under it (taken out of
//    service) ends that disk's pass with an error, never with a report of
//    damage it did not see.
import { CorruptionError, ShardStoreError, systemClock } from '../base/index.js';
import type { Clock } from '../base/index.js';
import { ChunkKind, checkChunk, CHUNK_OVERHEAD_BYTES, locatorEquals, splitDataPayload } from '../chunk/index.js';
import type { Locator } from '../chunk/index.js';
import { WALK_PAGE_KEYS } from '../index/index.js';
import type { IndexValue, RunDescriptor } from '../index/index.js';
import type { DiskStore } from './disk_store.js';

export type ScrubProblem = 'corrupt' | 'unreadable';

export interface DamagedShard {
  readonly key: Buffer;
  readonly disk: number;
  readonly problem: ScrubProblem;
  /** The first damaged chunk of the value. */
  readonly extent: number;
  readonly offset: number;
  readonly message: string;
}

/** A damaged chunk of an LSM run: lookups of keys in it may fail until the run is rewritten. */
export interface DamagedIndexChunk {
  readonly disk: number;
  readonly run: number;
  readonly extent: number;
  readonly offset: number;
  readonly problem: ScrubProblem;
  readonly message: string;
}

export interface ScrubCounters {
  shardsVerified: number;
  chunksVerified: number;
  bytesVerified: number;
  indexChunksVerified: number;
  damagedShards: number;
  damagedIndexChunks: number;
}

/** Damaged shards listed in one report at most (the counters stay exact). */
export const MAX_REPORTED_DAMAGE = 10_000;

export function emptyScrubCounters(): ScrubCounters {
  return { shardsVerified: 0, chunksVerified: 0, bytesVerified: 0, indexChunksVerified: 0, damagedShards: 0, damagedIndexChunks: 0 };
}

/** Spends bytes at a fixed rate: take(n) waits until n more bytes are due. */
export class RateLimiter {
  private readonly startMs: number;
  private spent = 0;

  constructor(
    private readonly bytesPerSec: number,
    private readonly clock: Clock = systemClock,
  ) {
    this.startMs = clock.nowMs();
  }

  async take(bytes: number): Promise<void> {
    if (this.bytesPerSec <= 0) return;
    this.spent += bytes;
    const waitMs = this.startMs + (this.spent / this.bytesPerSec) * 1000 - this.clock.nowMs();
    if (waitMs >= 1) await this.clock.sleep(waitMs);
  }
}

export interface DiskScrubContext {
  readonly disk: number;
  readonly limiter: RateLimiter;
  readonly counters: ScrubCounters;
  readonly damaged: DamagedShard[];
  readonly indexDamage: DamagedIndexChunk[];
  readonly signal?: AbortSignal;
  readonly onProgress?: () => void;
}

/** The pass stopped: aborted by the caller or the store closed. */
export class ScrubStoppedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScrubStoppedError';
  }
}

/** Live bytes the pass will read, for progress. */
export function scrubBytesEstimate(store: DiskStore): number {
  let n = 0;
  for (const [, bytes] of store.live.entries()) n += bytes;
  for (const bytes of store.parts.index.liveIndexBytesByExtent().values()) n += bytes;
  return n;
}

/** One pass over one disk's store. Throws ScrubStoppedError or the error that stopped it. */
export async function scrubDiskStore(store: DiskStore, ctx: DiskScrubContext): Promise<void> {
  // Index runs first: a damaged run can stop the walk of the keys below, and is reported either way.
  for (const run of store.parts.index.runs()) await scrubRun(store, run, ctx);
  let from: Buffer | undefined;
  for (;;) {
    checkRunning(store, ctx);
    const page = await store.parts.index.scan({ ...(from === undefined ? {} : { from }), limit: WALK_PAGE_KEYS });
    for (const entry of page) await scrubShard(store, entry.key, ctx);
    const last = page.at(-1);
    if (page.length < WALK_PAGE_KEYS || last === undefined) break;
    from = Buffer.concat([last.key, Buffer.alloc(1)]);
  }
}

function checkRunning(store: DiskStore, ctx: DiskScrubContext): void {
  if (ctx.signal?.aborted === true) throw new ScrubStoppedError('scrub stopped');
  if (!store.isOpen) throw new ScrubStoppedError(`disk ${ctx.disk} closed during the scrub`);
}

async function scrubShard(store: DiskStore, key: Buffer, ctx: DiskScrubContext): Promise<void> {
  // Registered before the lookup: any reset of an extent the value uses waits for us.
  const end = store.reads.begin();
  try {
    const value = await store.parts.index.lookup(key);
    if (value === undefined) return;
    for (const loc of value.chunks) {
      checkRunning(store, ctx);
      await ctx.limiter.take(loc.length);
      const problem = await verifyDataChunk(store, loc, key);
      if (problem === undefined) {
        ctx.counters.chunksVerified++;
        ctx.counters.bytesVerified += loc.length;
        continue;
      }
      checkRunning(store, ctx);
      if (await stillNames(store, key, loc)) report(ctx, { key: Buffer.from(key), disk: ctx.disk, problem: problem.problem, extent: loc.extent, offset: loc.offset, message: problem.message });
      return;
    }
    ctx.counters.shardsVerified++;
  } finally {
    end();
    ctx.onProgress?.();
  }
}

interface Problem {
  readonly problem: ScrubProblem;
  readonly message: string;
}

/** Read the chunk from the disk (twice if the read fails) and verify it. */
async function verifyDataChunk(store: DiskStore, loc: Locator, key: Buffer): Promise<Problem | undefined> {
  const where = `${loc.extent}:${loc.offset}`;
  const buf = await readRaw(store, loc);
  if (!Buffer.isBuffer(buf)) return buf;
  const checked = checkChunk(buf);
  if (typeof checked === 'string') return { problem: 'corrupt', message: `chunk at ${where}: ${checked}` };
  if (checked.header.kind !== ChunkKind.Data || CHUNK_OVERHEAD_BYTES + checked.header.payloadBytes !== loc.length) {
    return { problem: 'corrupt', message: `chunk at ${where}: kind ${checked.header.kind} or length does not match its locator` };
  }
  try {
    if (!splitDataPayload(checked.payload).key.equals(key)) return { problem: 'corrupt', message: `chunk at ${where} belongs to another key` };
  } catch (err: unknown) {
    return { problem: 'corrupt', message: err instanceof Error ? err.message : String(err) };
  }
  return undefined;
}

async function readRaw(store: DiskStore, loc: Locator): Promise<Buffer | Problem> {
  let last: unknown;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      return await store.parts.extents.read(loc.extent, loc.offset, loc.length);
    } catch (err: unknown) {
      // Beyond the write pointer: the index names bytes that are not there.
      if (err instanceof CorruptionError) return { problem: 'corrupt', message: err.message };
      if (!(err instanceof ShardStoreError) || !store.isOpen) throw err;
      last = err;
    }
  }
  return { problem: 'unreadable', message: last instanceof Error ? last.message : String(last) };
}

/** Whether the key's newest value (overlay, then index) still names `loc`. */
async function stillNames(store: DiskStore, key: Buffer, loc: Locator): Promise<boolean> {
  const staged = store.log.overlayOf(key);
  const value: IndexValue | null | undefined = staged !== undefined ? staged.value : await store.parts.index.lookup(key);
  return value !== null && value !== undefined && value.chunks.some((c) => locatorEquals(c, loc));
}

function report(ctx: DiskScrubContext, damage: DamagedShard): void {
  ctx.counters.damagedShards++;
  if (ctx.damaged.length < MAX_REPORTED_DAMAGE) ctx.damaged.push(damage);
}

/** Every chunk of one installed run; damage counts only if the run is still installed after the read. */
async function scrubRun(store: DiskStore, run: RunDescriptor, ctx: DiskScrubContext): Promise<void> {
  const index = store.parts.index;
  const installed = (): boolean => index.runs().some((r) => r.id === run.id);
  let locators: Locator[];
  try {
    locators = await index.chunksOf(run);
  } catch (err: unknown) {
    checkRunning(store, ctx);
    if (err instanceof ShardStoreError && installed()) reportIndex(ctx, run, run.indexChunk, problemOf(err));
    return;
  }
  for (const loc of locators) {
    checkRunning(store, ctx);
    await ctx.limiter.take(loc.length);
    const buf = await readRaw(store, loc);
    const problem = Buffer.isBuffer(buf) ? indexChunkProblem(buf, loc) : buf;
    if (problem === undefined) ctx.counters.indexChunksVerified++;
    else if (installed()) reportIndex(ctx, run, loc, problem);
    ctx.onProgress?.();
  }
}

function indexChunkProblem(buf: Buffer, loc: Locator): Problem | undefined {
  const checked = checkChunk(buf);
  if (typeof checked === 'string') return { problem: 'corrupt', message: `index chunk at ${loc.extent}:${loc.offset}: ${checked}` };
  const kind = checked.header.kind;
  if (kind !== ChunkKind.RunBlock && kind !== ChunkKind.RunIndex) return { problem: 'corrupt', message: `index chunk at ${loc.extent}:${loc.offset} has kind ${kind}` };
  return undefined;
}

function problemOf(err: ShardStoreError): Problem {
  return { problem: err.code === 'Corruption' ? 'corrupt' : 'unreadable', message: err.message };
}

function reportIndex(ctx: DiskScrubContext, run: RunDescriptor, loc: Locator, p: Problem): void {
  ctx.counters.damagedIndexChunks++;
  if (ctx.indexDamage.length < MAX_REPORTED_DAMAGE) {
    ctx.indexDamage.push({ disk: ctx.disk, run: run.id, extent: loc.extent, offset: loc.offset, problem: p.problem, message: p.message });
  }
}
