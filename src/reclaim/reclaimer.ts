// Reclamation (garbage collection) of data extents.
//
// Deleting or overwriting a shard leaves dead chunks. Reclamation picks a
// data extent with a low live ratio (live bytes / written bytes), seals it
// (no more appends), scans its chunks, asks for each chunk whether the
// newest value of its key still points at it, copies the live ones to
// another extent, and stages relocations: the commit applies a relocation
// only if the key still points at the original (a concurrent put or delete
// wins). Only when the record holding the relocations is durable, and every
// read that could still hold an old locator has finished, is the extent
// reset; the reset itself is recorded by the next commit, and the extent is
// reused only once that record is durable.
//
// Invariants:
// 1. An extent is reset only when no committed value references it
//    (its live bytes are zero after the relocations committed).
// 2. An extent being reclaimed receives no appends (sealed), and no extent
//    that `inUse` names is chosen: one holding chunks that no index entry
//    or staged mutation names yet (a put still writing its value) would
//    lose them. Choosing and sealing happen in one turn, so no such chunk
//    can slip in between.
// 3. One reclamation at a time; at most maxBatchBytes of copies wait for
//    a commit at once (bounded memory).
// 4. No victim is chosen, and no extent reset, while live bytes are partial
//    (being recounted after open): a partial count would make full extents
//    look empty, and invariant 1's check would be meaningless.
import { assert, CorruptionError } from '../base/index.js';
import { ChunkKind, dataPayloadKey, locatorEquals } from '../chunk/index.js';
import type { ChunkStore, ChunkStream, Locator, ScannedHead } from '../chunk/index.js';
import type { Dependency } from '../dependency/index.js';
import { ExtentOwner } from '../extent/index.js';
import type { ExtentManager } from '../extent/index.js';
import type { IndexValue } from '../index/index.js';
import type { LiveBytes } from './live_bytes.js';

export interface Relocation {
  readonly key: Buffer;
  readonly from: Locator;
  readonly to: Locator;
  /** Persistent when the copy is durable. */
  readonly dependency: Dependency;
}

/** What reclamation needs from the store above it. */
export interface ReclaimHost {
  /** The newest value of `key`: staged, committing or committed. */
  newestValue(key: Buffer): Promise<IndexValue | null | undefined>;
  /** Stage relocations; persistent once the commit that applies (or drops) them is durable. */
  relocate(relocations: readonly Relocation[]): Dependency;
  /** Persistent once the next commit record is durable. */
  nextCycle(): Dependency;
  /** Resolves once every read that started before the call has finished. */
  readersDrained(): Promise<void>;
  /** Resolves once live bytes are complete (they are recounted after open); throws if they cannot be. */
  liveBytesReady(): Promise<void>;
}

export interface ReclaimStats {
  extentsReclaimed: number;
  /** Evacuations refused because live chunks did not verify. */
  damagedExtents: number;
  chunksScanned: number;
  chunksMoved: number;
  bytesMoved: number;
  bytesFreed: number;
}

export interface ReclaimOptions {
  /** Reclaim at most this many extents. */
  readonly maxExtents?: number;
  /** Only extents whose live ratio is at most this (0..1). */
  readonly maxLiveRatio?: number;
}

export const DEFAULT_MAX_LIVE_RATIO = 0.8;
const MAX_BATCH_BYTES = 8 * 1024 * 1024;
/** Scans of one victim before giving up (see reclaimExtent). */
const MAX_PASSES = 3;

export class Reclaimer {
  readonly stats: ReclaimStats = { extentsReclaimed: 0, damagedExtents: 0, chunksScanned: 0, chunksMoved: 0, bytesMoved: 0, bytesFreed: 0 };
  private busy: Promise<unknown> = Promise.resolve();
  /** Extents whose evacuation found live chunks that do not verify: not tried again. */
  readonly damaged = new Set<number>();

  constructor(
    private readonly extents: ExtentManager,
    private readonly chunks: ChunkStore,
    private readonly stream: ChunkStream,
    private readonly live: LiveBytes,
    private readonly host: ReclaimHost,
    /** Extents that must not be chosen (open for appends, or holding chunks of a put not staged yet). */
    private readonly inUse: () => ReadonlySet<number>,
  ) {}

  /** Data extents by ascending live ratio, at most `maxLiveRatio`; none while live bytes are partial. */
  victims(maxLiveRatio = DEFAULT_MAX_LIVE_RATIO): number[] {
    if (!this.live.ready) return [];
    const inUse = this.inUse();
    const out: Array<{ extent: number; ratio: number }> = [];
    for (const e of this.extents.extentsOwnedBy(ExtentOwner.Data)) {
      const written = this.extents.writePointer(e);
      if (written === 0 || inUse.has(e) || e === this.stream.openExtent || this.damaged.has(e)) continue;
      const ratio = this.live.of(e) / written;
      if (ratio <= maxLiveRatio) out.push({ extent: e, ratio });
    }
    return out.sort((a, b) => a.ratio - b.ratio || a.extent - b.extent).map((v) => v.extent);
  }

  /** Reclaim up to maxExtents victims; returns how many were reset. Serialized. */
  reclaim(options: ReclaimOptions = {}): Promise<number> {
    const run = this.busy.then(() => this.reclaimNow(options));
    this.busy = run.catch((err: unknown) => err);
    return run;
  }

  private async reclaimNow(options: ReclaimOptions): Promise<number> {
    await this.host.liveBytesReady();
    let done = 0;
    const max = options.maxExtents ?? 1;
    for (const victim of this.victims(options.maxLiveRatio)) {
      if (done >= max) break;
      if (this.extents.owner(victim) !== ExtentOwner.Data || this.inUse().has(victim)) continue;
      const reusable = await this.reclaimExtent(victim);
      done++;
      // Before the next victim, let this one become reusable (its reset
      // record durable): on a full host the next victim's copies can only
      // go where blocks are allocated already, which is what was just reset.
      if (done < max) await reusable.persisted();
    }
    return done;
  }

  /**
   * Evacuate the live chunks of `extent`, then reset it; returns the
   * Dependency after which it is reusable. REQUIRES: a data extent not open
   * for appends.
   */
  private async reclaimExtent(extent: number): Promise<Dependency> {
    this.extents.seal(extent);
    this.stream.release(extent);
    await this.extents.writesSettled(extent);
    const written = this.extents.writePointer(extent);
    const damaged: number[] = [];
    // A chunk judged dead because a newer staged put named another value
    // stays live if that put then fails: the next pass, once such puts have
    // settled, moves it. Bounded: a pass only ever moves chunks.
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      damaged.length = 0;
      await this.evacuateOnce(extent, damaged);
      await this.host.readersDrained();
      if (this.live.of(extent) === 0) break;
    }
    const stillLive = this.live.of(extent);
    if (stillLive > 0 && damaged.length === 0) {
      // Live bytes no pass could place: a live chunk whose key bytes are
      // damaged looks dead to scanHeads. A scan that verifies every chunk
      // says where.
      for await (const chunk of this.chunks.scan(extent, { onDamage: (at) => damaged.push(at) })) void chunk;
    }
    if (stillLive > 0 && damaged.length > 0) {
      // Live chunks that no longer verify (media damage, a failed write):
      // keep the extent sealed, so the damage stays visible to reads and
      // scrub instead of turning into silent loss.
      this.stats.damagedExtents++;
      this.damaged.add(extent);
      throw new CorruptionError(`extent ${extent} holds ${stillLive} live bytes in chunks that do not verify (at ${damaged.slice(0, 4).join(', ')}); not resetting`);
    }
    assert(stillLive === 0, `extent ${extent} still holds ${stillLive} live bytes after evacuation; not resetting`);
    const reusable = this.host.nextCycle();
    this.extents.reset(extent, reusable);
    this.stats.extentsReclaimed++;
    this.stats.bytesFreed += written;
    return reusable;
  }

  /**
   * One scan of `extent`: copy every chunk still live and wait for the
   * relocations to commit. Headers and keys only (ChunkStore.scanHeads):
   * a dead chunk's payload is neither read whole nor verified, a live one
   * is verified before it is copied, and one that does not verify is
   * damage. A live chunk whose key bytes are damaged looks dead here; its
   * bytes stay live and reclaimExtent's last verifying scan finds it.
   */
  private async evacuateOnce(extent: number, damaged: number[]): Promise<void> {
    let batch: Relocation[] = [];
    let batchBytes = 0;
    for await (const chunk of this.chunks.scanHeads(extent, { onDamage: (at) => damaged.push(at) })) {
      this.stats.chunksScanned++;
      if (chunk.kind !== ChunkKind.Data) continue;
      const relocation = await this.evacuate(chunk, damaged);
      if (relocation === undefined) continue;
      batch.push(relocation);
      batchBytes += relocation.to.length;
      if (batchBytes >= MAX_BATCH_BYTES) {
        await this.host.relocate(batch).persisted();
        batch = [];
        batchBytes = 0;
      }
    }
    await this.host.relocate(batch).persisted();
  }

  /** Copy the chunk if the newest value of its key still points at it (its payload verified first: damage is pushed to `damaged`). */
  private async evacuate(chunk: ScannedHead, damaged: number[]): Promise<Relocation | undefined> {
    const from = chunk.locator;
    // A key longer than the head the scan read (only a damaged length
    // field makes one): the whole payload, verified, says what it is.
    let payload = chunk.head.length < chunk.payloadBytes && dataPayloadKey(chunk.head) === undefined ? await this.verified(chunk, damaged) : undefined;
    const key = dataPayloadKey(payload ?? chunk.head);
    if (key === undefined) return undefined;
    const value = await this.host.newestValue(key);
    if (value === null || value === undefined || !value.chunks.some((c) => locatorEquals(c, from))) return undefined;
    // A copy: the key bytes are a view of the scan's read, which the relocation would pin.
    const owner = Buffer.from(key);
    payload ??= await this.verified(chunk, damaged);
    if (payload === undefined) return undefined;
    const { locator, dependency } = this.stream.append(ChunkKind.Data, [payload]);
    this.stats.chunksMoved++;
    this.stats.bytesMoved += locator.length;
    return { key: owner, from, to: locator, dependency };
  }

  /** The chunk's verified payload, or undefined with its offset pushed to `damaged`. */
  private async verified(chunk: ScannedHead, damaged: number[]): Promise<Buffer | undefined> {
    try {
      return await chunk.payload();
    } catch (err: unknown) {
      if (!(err instanceof CorruptionError)) throw err;
      damaged.push(chunk.locator.offset);
      return undefined;
    }
  }
}
