// ShardStore over one disk: the ShardApi on top of extents, chunks, the LSM
// index and the commit log. Each disk of a node is an independent store
// (its own failure domain); ShardNode routes keys to them.
//
// Life of a put: split the value into data chunks appended to the data
// stream (queued in the IO scheduler, readable at once through its
// overlay); stage the index mutation in the commit log (readable at once);
// the next group commit waits for the chunks to be durable, appends one
// metadata record with the mutation and the write pointers covering the
// chunks, and settles the put's Dependency when that record is durable.
//
// Life of a get: the commit log's overlay (staged or committing), then the
// index (memtable, runs newest first); then the data chunks, each verified
// and checked to belong to the key.
//
// Read-only (options.readOnly, the offline tools that only look): reads as
// above; every call that would write (put, delete, flush, checkpoint,
// compact, reclaim) throws ReadOnlyError, no background work runs, and
// close does not commit (a commit of nothing still appends a record).
import { ClosedError, InvalidArgumentError, IoError, NoSpaceError, NotFoundError, ReadOnlyError } from '../base/index.js';
import { ChunkKind, ChunkStream, FrameSlab, dataHeader } from '../chunk/index.js';
import type { ChunkStore } from '../chunk/index.js';
import { Dependency } from '../dependency/index.js';
import type { IoScheduler } from '../dependency/index.js';
import type { Disk } from '../disk/index.js';
import type { ExtentManager, HostSpace } from '../extent/index.js';
import { ExtentOwner } from '../extent/index.js';
import { NEEDS_READ } from '../index/index.js';
import type { LsmIndex } from '../index/index.js';
import type { IndexValue } from '../index/index.js';
import type { Superblock } from '../superblock/index.js';
import type { Label } from '../superblock/index.js';
import { CommitLog, keyString } from './commit_log.js';
import type { CommitLogState, StagedMutation } from './commit_log.js';
import { listMerged } from './list.js';
import { LiveBytes, Reclaimer } from '../reclaim/index.js';
import type { ReclaimHost, ReclaimOptions } from '../reclaim/index.js';
import { LiveBytesRebuilder } from './live_rebuild.js';
import { ReadTracker } from './read_tracker.js';
import { Background } from './background.js';
import { DiskView } from './disk_view.js';
import type { RecoveryReport } from './recovery_report.js';
import type { StoreOptions } from './store_options.js';
import { resolveStoreOptions } from './store_options.js';
import { ValueWriter, cachedWholeValue, readValueRange, readWholeValue, readWholeValueOwned } from './value_io.js';
import { MAX_KEY_BYTES } from './types.js';
import type { ByteRange, ListOptions, ListResult, PreparedValue, ShardApi, ShardInfo, ShardReader, StoreStats, TogetherApi, TogetherPut, ValueSource } from './types.js';

export interface DiskStoreParts {
  readonly disk: Disk;
  readonly io: IoScheduler;
  readonly label: Label;
  readonly extents: ExtentManager;
  /** Prepares the reserve on the host file system (host_space.ts). */
  readonly space: HostSpace;
  readonly chunks: ChunkStore;
  readonly index: LsmIndex;
  readonly indexStream: ChunkStream;
  /** Where the mirror copy of every run goes (paired with indexStream: never its open extent). */
  readonly indexMirrorStream: ChunkStream;
  readonly superblock: Superblock;
  readonly state: CommitLogState;
  /** What open found of the redundant metadata, and what it repaired. */
  readonly recovery: RecoveryReport;
}


export class DiskStore implements ShardApi, TogetherApi {
  private readonly dataStream: ChunkStream;
  private readonly reclaimStream: ChunkStream;
  readonly log: CommitLog;
  /** Live bytes per data extent, and the committed shard count; partial until the rebuild after open is done. */
  readonly live = new LiveBytes();
  private readonly liveRebuild: LiveBytesRebuilder;
  readonly reads = new ReadTracker();
  readonly reclaimer: Reclaimer;
  /** What the node's stats and the offline tools see of this disk (disk_view.ts). */
  readonly view: DiskView;
  /** Puts writing their value's chunks, not staged yet: their extents are no reclamation victims. */
  private readonly writers = new Set<ValueWriter>();
  /** Memory for getOwned's copies of small cached values (ownedCopy). */
  private readonly ownedCopies = new FrameSlab(OWNED_COPY_SLAB_BYTES);
  private readonly background: Background;
  private closed = false;
  private readonly options: Required<StoreOptions>;

  constructor(
    readonly parts: DiskStoreParts,
    options: StoreOptions,
  ) {
    this.options = resolveStoreOptions(options, parts.label.geometry.extentSizeBytes, parts.label.geometry.extentCount);
    this.dataStream = new ChunkStream(parts.chunks, ExtentOwner.Data);
    this.reclaimStream = new ChunkStream(parts.chunks, ExtentOwner.Data, { reserve: 'reclaim' });
    this.log = new CommitLog(parts.extents, parts.chunks, parts.index, parts.superblock, parts.state, this.options.memtableFlushBytes, this.live, this.options.maxLogBytes, parts.space, {
      clock: this.options.clock,
      confirmIdleMs: this.options.confirmIdleMs,
    });
    this.liveRebuild = new LiveBytesRebuilder(parts.index, this.live, {
      pageEntries: this.options.liveRebuildPageEntries,
      clock: this.options.clock,
      onError: this.options.onBackgroundError,
    });
    this.view = new DiskView({ parts, live: this.live, failure: () => this.log.failed });
    this.reclaimer = new Reclaimer(parts.extents, parts.chunks, this.reclaimStream, this.live, this.reclaimHost(), () => this.extentsInUse());
    this.background = new Background(
      {
        needsCompaction: () => parts.index.stats().runsPerLevel.some((n) => n >= this.options.compactionFanIn),
        hasNearlyDeadExtent: (ratio) => this.reclaimer.victims(ratio).length > 0,
        compact: () => this.compact(),
        reclaim: async (o) => {
          await parts.space.ready();
          return this.reclaimer.reclaim(o);
        },
        resetsDurable: () => this.log.nextCycle().persisted(),
        get freeExtents(): number {
          return parts.extents.countFree();
        },
      },
      this.options,
    );
  }

  /**
   * Count live bytes per data extent anew, by a walk of the committed index
   * in the background (live_rebuild.ts); open calls it once replay is done.
   * REQUIRES: no rebuild running.
   */
  startLiveBytesRebuild(): void {
    this.liveRebuild.start();
  }

  /** Resolves once live bytes and the shard count are complete (see live_rebuild.ts). */
  liveBytesReady(): Promise<void> {
    return this.liveRebuild.ready();
  }

  /** Reclaim data extents now (the control-plane call); returns how many were reset. */
  async reclaim(options: ReclaimOptions = {}): Promise<number> {
    this.checkAccepting();
    this.checkWritable();
    // Copies go to the reserve, which open prepares again on the host first.
    await this.parts.space.ready();
    return this.reclaimer.reclaim(options);
  }

  /**
   * Extents never chosen as reclamation victims: those open for appends,
   * and those holding chunks of a put not staged yet (evacuation finds no
   * index entry or overlay pointing at such chunks, would drop them, and
   * the put would later commit locators into a reset, reused extent).
   */
  private extentsInUse(): ReadonlySet<number> {
    const out = new Set<number>();
    for (const s of [this.dataStream, this.reclaimStream]) if (s.openExtent !== undefined) out.add(s.openExtent);
    for (const w of this.writers) for (const loc of w.written) out.add(loc.extent);
    return out;
  }

  private reclaimHost(): ReclaimHost {
    return {
      newestValue: async (key) => {
        const staged = this.log.overlayOf(key);
        return staged !== undefined ? staged.value : this.parts.index.lookup(key);
      },
      relocate: (relocations) => this.log.stageRelocations(relocations),
      nextCycle: () => this.log.nextCycle(),
      readersDrained: () => this.reads.drained(),
      liveBytesReady: () => this.liveRebuild.ready(),
    };
  }

  get label(): Label {
    return this.parts.label;
  }

  async put(key: Buffer, value: ValueSource): Promise<Dependency> {
    this.checkAccepting();
    this.checkWritable();
    checkKey(key);
    this.log.throwIfFailed();
    const maxChunkDataBytes = this.maxChunkDataBytes(key);
    if (value instanceof Uint8Array && value.length > 0 && value.length <= maxChunkDataBytes) return this.putOneChunk(key, value);
    const writer = new ValueWriter(this.dataStream, key, maxChunkDataBytes, this.options.streamWindowChunks, { room: this.room });
    this.writers.add(writer);
    try {
      if (value instanceof Uint8Array) await writer.push(value);
      else for await (const piece of value) await writer.push(piece);
      const { value: indexValue, dependency } = await writer.finish();
      this.checkAccepting();
      const staged = this.log.stage(keyString(key), { key, value: indexValue, dataDependency: dependency });
      this.afterStaging();
      return staged;
    } catch (err: unknown) {
      // Chunks already written for this value are garbage; reclamation takes them back.
      if (err instanceof NoSpaceError) this.background.kick(true);
      throw err;
    } finally {
      // Staged (the overlay now names the chunks, so evacuation moves them) or failed (garbage).
      this.writers.delete(writer);
    }
  }

  /**
   * A put whose value is one data chunk, in one synchronous step: the chunk
   * is appended and its mutation staged with no await in between, so no
   * reclamation can run between the two and the chunk needs no
   * registration among the writers (what ValueWriter and its awaits cost a
   * 4 KiB put). The same chunk, mutation and dependency as the streaming
   * path gives a value of one chunk.
   * When no extent is free for the chunk, the put waits for reclamation to
   * free one and tries again (Background.makeRoom); NoSpace once none can be.
   * REQUIRES: 0 < value.length <= maxChunkDataBytes(key); the checks of put done.
   */
  private putOneChunk(key: Buffer, value: Uint8Array): Dependency | Promise<Dependency> {
    let chunk;
    try {
      chunk = this.dataStream.append(ChunkKind.Data, [dataHeader(key), value]);
    } catch (err: unknown) {
      if (!(err instanceof NoSpaceError)) throw err;
      return this.putOneChunkAfterRoom(key, value, err);
    }
    const staged = this.log.stage(keyString(key), { key, value: { sizeBytes: value.length, chunks: [chunk.locator] }, dataDependency: chunk.dependency });
    this.afterStaging();
    return staged;
  }

  private async putOneChunkAfterRoom(key: Buffer, value: Uint8Array, refused: NoSpaceError): Promise<Dependency> {
    if (!(await this.room())) {
      this.background.kick(true);
      throw refused;
    }
    this.checkWritable();
    this.log.throwIfFailed();
    return this.putOneChunk(key, value);
  }

  /**
   * A put found no free extent: true once reclamation freed one
   * (Background.makeRoom). A store that began closing meanwhile answers
   * Closed, not the NoSpace the refused put would otherwise get.
   */
  private readonly room = async (): Promise<boolean> => {
    const freed = await this.background.makeRoom();
    this.checkAccepting();
    return freed;
  };

  /**
   * After a change is staged: background work may have something to do
   * (a flush, a compaction), and a put the host's space turned away may be
   * tried again.
   */
  private afterStaging(): void {
    this.background.kick();
    this.parts.space.retryIfShort(this.options.clock.nowMs());
  }

  /** Write the value's chunks; putTogether stages them (TogetherApi, types.ts). */
  async prepare(key: Buffer, value: ValueSource): Promise<PreparedValue> {
    this.checkAccepting();
    this.checkWritable();
    checkKey(key);
    this.log.throwIfFailed();
    // The last chunk stays buffered until putTogether: it goes out in the batch of the commit.
    const writer = await this.writeValue(key, value);
    return new PreparedPut(this, key, writer, () => this.writers.delete(writer));
  }

  /** Stage `puts` as one change, in one commit record (TogetherApi, types.ts). */
  async putTogether(puts: readonly TogetherPut[]): Promise<Dependency> {
    this.checkAccepting();
    this.checkWritable();
    for (const p of puts) checkKey(p.key);
    if (new Set(puts.map((p) => keyString(p.key))).size !== puts.length) throw new InvalidArgumentError('putTogether: the same key twice');
    for (const p of puts) {
      if (p.value instanceof Uint8Array) continue;
      if (!(p.value instanceof PreparedPut) || !p.value.stageableIn(this, p.key)) throw new InvalidArgumentError('putTogether: a value prepared elsewhere, for another key, or already given up');
      if (p.readBack === true) throw new InvalidArgumentError('putTogether: readBack asked for a prepared value, whose chunks are written already');
    }
    const written: ValueWriter[] = [];
    try {
      const mutations: StagedMutation[] = [];
      for (const p of puts) {
        const writer = p.value instanceof PreparedPut ? p.value.writer : await this.writeValue(p.key, p.value as Uint8Array, { cacheOnWrite: p.readBack === true });
        if (!(p.value instanceof PreparedPut)) written.push(writer);
        const { value, dependency } = await writer.finish();
        mutations.push({ key: p.key, value, dataDependency: dependency });
      }
      this.checkAccepting();
      // No await from the checks above to here: every prepared value is still ours to stage.
      for (const p of puts) if (p.value instanceof PreparedPut && !p.value.stageableIn(this, p.key)) throw new InvalidArgumentError('putTogether: a prepared value was given up meanwhile');
      const staged = this.log.stageTogether(mutations);
      this.afterStaging();
      return staged;
    } catch (err: unknown) {
      if (err instanceof NoSpaceError) this.background.kick(true);
      throw err;
    } finally {
      // Staged (the overlay names the chunks now) or failed (garbage).
      for (const w of written) this.writers.delete(w);
      for (const p of puts) if (p.value instanceof PreparedPut) p.value.release();
    }
  }

  /** True for keys of this disk: all of them. */
  colocated(keys: readonly Buffer[]): boolean {
    for (const k of keys) checkKey(k);
    return true;
  }

  /**
   * Push a value into a registered writer (its extents are no reclamation
   * victims until the caller ends the registration; a failure ends it
   * here); the caller finishes it. `append.cacheOnWrite`: TogetherPut's readBack.
   */
  private async writeValue(key: Buffer, value: ValueSource, append: { readonly cacheOnWrite?: boolean } = {}): Promise<ValueWriter> {
    const writer = new ValueWriter(this.dataStream, key, this.maxChunkDataBytes(key), this.options.streamWindowChunks, { ...append, room: this.room });
    this.writers.add(writer);
    try {
      if (value instanceof Uint8Array) await writer.push(value);
      else for await (const piece of value) await writer.push(piece);
      return writer;
    } catch (err: unknown) {
      if (err instanceof NoSpaceError) this.background.kick(true);
      this.writers.delete(writer);
      throw err;
    }
  }

  /** The whole value; it may be the buffer cache's own bytes, so the caller must not change it (getOwned gives a buffer to keep). */
  get(key: Buffer): Promise<Buffer> {
    return this.whole(key, false);
  }

  /** get, with undefined for a key that has no value (ShardApi.find). */
  find(key: Buffer): Promise<Buffer | undefined> {
    return this.whole(key, false, ABSENT_ANSWERS);
  }

  /**
   * The whole value in a buffer the caller owns: it may keep it and change
   * it, and the store never sees that. Where a caller of get() would copy
   * the value, this spares one copy: a value the buffer cache holds is
   * copied once, and one read from the disk is handed over as read (a large
   * chunk so read enters the cache only on its second read:
   * BufferCache.admit). The same checks as get(). A small value's bytes
   * are the caller's, but its ArrayBuffer may hold other callers' copies
   * (ownedCopy), as with Node's pooled buffers: use the Buffer, not its
   * `.buffer`, as the value.
   */
  getOwned(key: Buffer): Promise<Buffer> {
    return this.whole(key, true);
  }

  /**
   * A copy of `bytes` the caller owns. Values up to a quarter of
   * OWNED_COPY_SLAB_BYTES are copied into shared slabs, as Node's own
   * buffer pool does below 4 KiB: a 4 KiB value was an ArrayBuffer of its
   * own per get, a third of a warm 4 KiB get's time (docs/BENCHMARKS.md,
   * "owned copies of small values"). Each copy is the caller's alone (no
   * other copy overlaps it); a copy kept alive keeps its slab alive, at
   * most OWNED_COPY_SLAB_BYTES for a value of up to a quarter of that.
   */
  private ownedCopy(bytes: Buffer): Buffer {
    const copy = this.ownedCopies.take(bytes.length);
    copy.set(bytes);
    return copy;
  }

  /**
   * get, getOwned and find: from the cache without waiting if every chunk
   * is there, else read (`owned`: into memory the caller owns). A key with
   * no value: NotFoundError, or undefined with ABSENT_ANSWERS (find).
   */
  private whole(key: Buffer, owned: boolean): Promise<Buffer>;
  private whole(key: Buffer, owned: boolean, absent: typeof ABSENT_ANSWERS): Promise<Buffer | undefined>;
  private async whole(key: Buffer, owned: boolean, absent?: typeof ABSENT_ANSWERS): Promise<Buffer | undefined> {
    const known = absent === undefined ? this.lookupNow(key) : this.lookupNow(key, absent);
    if (known === undefined) return undefined;
    const now = known === NEEDS_READ ? undefined : cachedWholeValue(this.parts.chunks, key, known);
    // One chunk is the cache's own bytes; several were joined into a new buffer.
    if (now !== undefined) return owned && known !== NEEDS_READ && known.chunks.length === 1 ? this.ownedCopy(now) : now;
    // Registered before any await: no reset can come between finding the locators and this.
    const end = this.reads.begin();
    try {
      const value = known === NEEDS_READ ? await this.lookupAfterNeedsRead(key, absent) : known;
      if (value === undefined) return undefined;
      return await (owned ? readWholeValueOwned(this.parts.chunks, key, value) : readWholeValue(this.parts.chunks, key, value));
    } finally {
      end();
    }
  }

  /**
   * Resolve the value's chunks now (a snapshot) and stream them as the body
   * is consumed. REQUIRES: the caller consumes the body to its end or calls
   * its return(): until then reclamation will not reset the extents it
   * reads.
   */
  async read(key: Buffer, range?: ByteRange): Promise<ShardReader> {
    const known = this.lookupNow(key);
    // A one-chunk value in memory needs no registration: its bytes are in hand.
    const now = known === NEEDS_READ || known.chunks.length > 1 ? undefined : cachedWholeValue(this.parts.chunks, key, known);
    if (now !== undefined) {
      const r = checkedRange(range, now.length);
      return { sizeBytes: now.length, body: oneChunk(now.subarray(r.start, r.end)) };
    }
    // Registered before any await: no reset can come between finding the locators and this.
    const end = this.reads.begin();
    try {
      const value = known === NEEDS_READ ? await this.lookup(key) : known;
      const r = checkedRange(range, value.sizeBytes);
      return { sizeBytes: value.sizeBytes, body: tracked(readValueRange(this.parts.chunks, key, value, r), end) };
    } catch (err: unknown) {
      end();
      throw err;
    }
  }

  async head(key: Buffer): Promise<ShardInfo> {
    const value = await this.lookup(key);
    return { key, sizeBytes: value.sizeBytes };
  }

  async delete(key: Buffer): Promise<Dependency> {
    this.checkAccepting();
    this.checkWritable();
    checkKey(key);
    const k = keyString(key);
    for (;;) {
      // Decide and stage in one turn (no await in between), so two deletes
      // racing on one key cannot both see it present.
      const staged = this.log.overlay(k);
      const applied = this.log.appliedRecords;
      const value = staged !== undefined ? staged.value : await this.parts.index.lookup(key);
      const stagedNow = this.log.overlay(k);
      if (stagedNow === staged && this.log.appliedRecords === applied) {
        if (value === null || value === undefined) throw new NotFoundError(`no shard ${printableKey(key)}`);
        this.checkAccepting();
        const dependency = this.log.stage(k, { key, value: null, dataDependency: Dependency.none /* a delete writes no data */ });
        this.afterStaging();
        return dependency;
      }
      // A commit or another call changed the key while the index answered: ask again.
    }
  }

  async list(options: ListOptions = {}): Promise<ListResult> {
    this.checkOpen();
    return listMerged(this.parts.index, this.log.overlayEntries(), options);
  }

  async flush(): Promise<void> {
    this.checkAccepting();
    this.checkWritable();
    await this.log.flushIndex();
  }

  /** Write a checkpoint now (the next open replays an empty log). */
  async checkpoint(): Promise<void> {
    this.checkAccepting();
    this.checkWritable();
    await this.log.checkpoint();
  }

  /** Merge runs until no level holds fanIn runs, then free index extents no run uses. */
  async compact(): Promise<void> {
    this.checkAccepting();
    this.checkWritable();
    await this.parts.space.ready();
    const index = this.parts.index;
    for (;;) {
      const job = index.pickCompaction();
      if (job === undefined) break;
      let output;
      try {
        output = await job.write();
        // Awaited so that the record adding the run carries write pointers
        // that cover it, and a failed write aborts the job; that record
        // also names the run as its `after` (addedDurable).
        await output.dependency.persisted();
      } catch (err: unknown) {
        index.abortCompaction(job);
        throw err;
      }
      const run = output.run;
      await this.log
        .stageRunChange({
          added: run === undefined ? [] : [run],
          addedDurable: output.dependency,
          removed: job.inputs.map((r) => r.id),
          onDurable: () => index.finishCompaction(job, run),
        })
        .persisted();
      await index.whenUnused(job.inputs);
    }
    this.reclaimIndexExtents();
  }

  /**
   * Reset index extents that hold no chunk of a live run, of a run some
   * reader still uses, or of a run being written (either copy: the live
   * map counts mirrors, and neither stream's open extent goes). The reset rides on the
   * next commit record; the extent is reused once that is durable.
   */
  reclaimIndexExtents(): number {
    this.checkWritable();
    const extents = this.parts.extents;
    if (this.parts.index.compactionsWriting > 0) return 0;
    const live = this.parts.index.liveIndexBytesByExtent();
    const open = [this.parts.indexStream.openExtent, this.parts.indexMirrorStream.openExtent];
    let n = 0;
    for (const e of extents.extentsOwnedBy(ExtentOwner.Index)) {
      if ((live.get(e) ?? 0) > 0 || open.includes(e) || extents.durableWritePointer(e) !== extents.writePointer(e)) continue;
      extents.reset(e, this.log.nextCycle());
      n++;
    }
    return n;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Fence first: whatever is staged from here on would miss the last
    // drain and be lost with the disk (a put acknowledged, then gone).
    // Calls in flight fail with Closed instead; reads go on until closed.
    this.log.refuseMutations('store is closing: no new change is taken');
    // Stop the live-byte walk first: a compaction in the background waits
    // for its snapshot's runs (whenUnused), and a reclamation for its end.
    this.liveRebuild.cancel();
    await this.liveRebuild.settled();
    await this.background.stop();
    // Asked again after each wait: a commit that fails meanwhile ends the
    // writing, as before any of it (the last drain is skipped, the disk
    // still closed, and the unconfirmed record reported below).
    const writable = (): boolean => this.log.failed === undefined && !this.options.readOnly;
    if (writable()) {
      // The preparation under way (a refill of the reserve or of the
      // extents ahead of puts) ends here rather than at the next open,
      // where its zeros would compete with the first requests: in whole
      // pieces, without waiting for the store to look idle.
      await this.parts.space.finish();
      if (writable() && this.wantsClosingRoll()) {
        // The roll below would write the memtable into index extents taken
        // from the prepared reserve, and the next open would prepare them
        // again: write it now, and let host space refill what it took first.
        await this.log.drain({ flushIndex: true });
        await this.parts.space.finish();
      }
    }
    this.parts.space.stop();
    // Extents prepared since the last checkpoint are recorded by one (a log
    // roll: its new log extents come from the reserve, the old ones go back
    // to it, prepared), so the next open does not write their zeros again.
    if (writable()) await this.log.drain({ roll: this.wantsClosingRoll() });
    this.closed = true;
    await this.parts.io.idle();
    await this.parts.disk.close();
    // The drain's record confirms the last one; after a failed commit none
    // was written, and the last record's data stays unverified: say so
    // rather than close as if clean (commit_log.ts, "Confirmation").
    const unconfirmed = this.log.unconfirmed;
    const failed = this.log.failed;
    if (unconfirmed !== undefined && failed !== undefined) {
      throw new IoError(`closed without confirming metadata record ${unconfirmed.seq} (a commit failed: ${failed.message}); the next open verifies its data`, { cause: failed });
    }
  }

  /**
   * Close rolls the log when extents were prepared since the last
   * checkpoint, unless the disk is too full for a roll to be sure to
   * succeed: then only that knowledge is lost (host_space.ts), where a
   * failed roll would leave the store read-only.
   */
  private wantsClosingRoll(): boolean {
    const extents = this.parts.extents;
    return extents.unrecordedHostAllocated > 0 && extents.hasRoomForRoll();
  }

  /** Drop all volatile state without flushing (tests: a crash of the process). */
  abandon(): void {
    this.closed = true;
    this.log.abandon();
    this.liveRebuild.cancel();
    this.background.abandon();
    this.parts.space.stop();
    this.parts.io.abandon('store abandoned');
  }

  stats(): StoreStats {
    const e = this.parts.extents;
    const g = this.parts.label.geometry;
    return {
      disks: 1,
      capacityBytes: g.extentCount * g.extentSizeBytes,
      extentSizeBytes: g.extentSizeBytes,
      extentsFree: e.countFree(),
      extentsData: e.extentsOwnedBy(ExtentOwner.Data).length,
      extentsIndex: e.extentsOwnedBy(ExtentOwner.Index).length,
      extentsMeta: e.extentsOwnedBy(ExtentOwner.Meta).length,
      commits: this.log.counters.commits,
      flushes: this.parts.io.stats.flushes,
      reclaimedExtents: this.reclaimer.stats.extentsReclaimed,
      reclaimedBytes: this.reclaimer.stats.bytesFreed,
      movedBytes: this.reclaimer.stats.bytesMoved,
      putsWaitedForRoom: this.background.counters.roomWaits,
      liveBytesReady: this.live.ready,
      ...this.healthStats(),
    };
  }

  /**
   * The truth about space and writability (stats, /healthz): read-only and
   * why, the host's free bytes, the prepared reserve. Degraded when:
   * - the store is read-only (a failed metadata write);
   * - the reserve is short of its target and the host refused to prepare it
   *   (deletes and reclamation may soon have nowhere to write);
   * - the host file system under a file-backed disk has less than one
   *   extent free and the data file has holes (puts that need new blocks
   *   answer NoSpace; a preallocated file needs none).
   */
  private healthStats(): Pick<StoreStats, 'degraded' | 'readOnlyDisks' | 'hostNoSpaceWrites' | 'preparedExtents' | 'hostFreeBytes'> {
    const e = this.parts.extents;
    if (!this.closed) this.parts.space.retryIfShort(this.options.clock.nowMs());
    const degraded: string[] = [];
    const failed = this.log.failed;
    if (failed !== undefined) degraded.push(`read-only: ${failed.message}`);
    const prepared = e.countPreparedFree();
    const lastPrepareError = this.parts.space.stats.lastError;
    if (prepared < Math.min(e.preparedTarget, e.countFree()) && lastPrepareError instanceof NoSpaceError) {
      degraded.push(`reserve short on the host: ${prepared} of ${e.preparedTarget} extents prepared (${lastPrepareError.message})`);
    }
    const host = this.parts.disk.hostSpace?.();
    const hostFree = host?.freeBytes;
    if (hostFree !== undefined && hostFree < e.extentSizeBytes && host?.fileFullyAllocated !== true) {
      degraded.push(`host file system full: ${hostFree} bytes free of ${host?.totalBytes ?? 0}`);
    }
    return {
      degraded,
      readOnlyDisks: failed === undefined ? 0 : 1,
      hostNoSpaceWrites: this.parts.io.stats.hostNoSpaceWrites,
      preparedExtents: prepared,
      ...(hostFree === undefined ? {} : { hostFreeBytes: hostFree }),
    };
  }

  /**
   * The key's committed or staged value if it is known without waiting
   * (the overlay, a memtable, a cached run block), else NEEDS_READ. Throws
   * NotFoundError for no value or a tombstone.
   */
  private lookupNow(key: Buffer): IndexValue | typeof NEEDS_READ;
  private lookupNow(key: Buffer, absent: typeof ABSENT_ANSWERS): IndexValue | typeof NEEDS_READ | undefined;
  /** The key's value as far as memory knows it; absent: NotFoundError, or undefined with ABSENT_ANSWERS. */
  private lookupNow(key: Buffer, absent?: typeof ABSENT_ANSWERS): IndexValue | typeof NEEDS_READ | undefined {
    this.checkOpen();
    checkKey(key);
    const staged = this.log.overlayOf(key);
    const value = staged !== undefined ? staged.value : this.parts.index.lookupNow(key);
    if (value === NEEDS_READ) return NEEDS_READ;
    if (absent === ABSENT_ANSWERS && (value === null || value === undefined)) return undefined;
    return present(key, value);
  }

  private async lookup(key: Buffer): Promise<IndexValue> {
    const known = this.lookupNow(key);
    return known === NEEDS_READ ? present(key, await this.parts.index.lookup(key)) : known;
  }

  /** The index's value of a key lookupNow answered NEEDS_READ for; absent: NotFoundError, or undefined with ABSENT_ANSWERS. */
  private async lookupAfterNeedsRead(key: Buffer, absent: typeof ABSENT_ANSWERS | undefined): Promise<IndexValue | undefined> {
    const value = await this.parts.index.lookup(key);
    if (absent === ABSENT_ANSWERS && (value === null || value === undefined)) return undefined;
    return present(key, value);
  }

  private maxChunkDataBytes(key: Buffer): number {
    return Math.min(this.options.maxChunkDataBytes, this.parts.chunks.maxPayloadBytes - 2 - key.length);
  }

  /** Free extents (excluding those waiting for the record of their reset). */
  get freeExtents(): number {
    return this.parts.extents.countFree();
  }

  /** False once closed or abandoned (a disk taken out of service). */
  get isOpen(): boolean {
    return !this.closed;
  }

  checkOpen(): void {
    if (this.closed) throw new ClosedError('store is closed');
  }

  /** Open and not closing: a change may still be taken (and will be drained by close). */
  private checkAccepting(): void {
    this.checkOpen();
    const closing = this.log.refusing;
    if (closing !== undefined) throw new ClosedError(closing);
  }

  /** True if opened for looking only (the offline tools). */
  get readOnly(): boolean {
    return this.options.readOnly;
  }

  private checkWritable(): void {
    if (this.options.readOnly) throw new ReadOnlyError('store is open read-only (an offline tool that only looks): nothing is written');
  }
}

/** A value of this disk written by prepare, waiting for putTogether (or release). */
class PreparedPut implements PreparedValue {
  private released = false;

  constructor(
    private readonly owner: DiskStore,
    readonly key: Buffer,
    /** Every byte pushed; its last chunk is written by finish (putTogether). */
    readonly writer: ValueWriter,
    private readonly end: () => void,
  ) {}

  get sizeBytes(): number {
    return this.writer.takenBytes;
  }

  stageableIn(store: DiskStore, key: Buffer): boolean {
    return !this.released && store === this.owner && key.equals(this.key);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.end();
  }
}

function isDone(r: unknown): boolean {
  return typeof r === 'object' && r !== null && 'done' in r && r.done === true;
}

/** lookupNow's and whole's flag: a key with no value answers undefined (find), not NotFoundError. */
const ABSENT_ANSWERS = Symbol('absent answers undefined');

/** Slabs of getOwned's copies of small cached values (DiskStore.ownedCopy): values up to 8 KiB share them. */
export const OWNED_COPY_SLAB_BYTES = 32 * 1024;

/** `value`, or NotFoundError if there is none (absent, or a tombstone). */
function present(key: Buffer, value: IndexValue | null | undefined): IndexValue {
  if (value === null || value === undefined) throw new NotFoundError(`no shard ${printableKey(key)}`);
  return value;
}

/** `range`, or the whole value, checked against the value's size. */
function checkedRange(range: ByteRange | undefined, sizeBytes: number): ByteRange {
  const r = range ?? { start: 0, end: sizeBytes };
  if (!(Number.isSafeInteger(r.start) && Number.isSafeInteger(r.end) && r.start >= 0 && r.start <= r.end && r.end <= sizeBytes)) {
    throw new InvalidArgumentError(`range [${r.start}, ${r.end}) outside value of ${sizeBytes} bytes`);
  }
  return r;
}

/** A body of one buffer. */
function oneChunk(bytes: Buffer): AsyncIterable<Buffer> {
  return {
    [Symbol.asyncIterator]: (): AsyncIterator<Buffer> => {
      let done = false;
      return {
        next: (): Promise<IteratorResult<Buffer>> => {
          const result: IteratorResult<Buffer> = done ? { done: true, value: undefined } : { done: false, value: bytes };
          done = true;
          return Promise.resolve(result);
        },
        return: (): Promise<IteratorResult<Buffer>> => {
          done = true;
          return Promise.resolve({ done: true, value: undefined });
        },
      };
    },
  };
}

/**
 * A body that ends its read's registration when it is consumed, fails, or
 * is closed with return() — even before its first next(), where a
 * generator's `finally` would never run and the registration would block
 * reclamation for good.
 */
function tracked(body: AsyncGenerator<Buffer>, end: () => void): AsyncGenerator<Buffer> {
  const finish = async <T>(p: Promise<T>): Promise<T> => {
    try {
      const r = await p;
      if (isDone(r)) end();
      return r;
    } catch (err: unknown) {
      end();
      throw err;
    }
  };
  const it: AsyncGenerator<Buffer> = {
    next: () => finish(body.next()),
    return: (value?: unknown) => {
      end();
      return body.return(value);
    },
    throw: (err?: unknown) => {
      end();
      return body.throw(err);
    },
    [Symbol.asyncIterator]: () => it,
  };
  return it;
}

export function checkKey(key: Buffer): void {
  if (key.length === 0 || key.length > MAX_KEY_BYTES) {
    throw new InvalidArgumentError(`key length ${key.length} outside 1..${MAX_KEY_BYTES}`);
  }
}

export function printableKey(key: Buffer): string {
  const text = key.toString('utf8');
  return Buffer.from(text, 'utf8').equals(key) && key.length <= 64 ? JSON.stringify(text) : `0x${key.subarray(0, 32).toString('hex')}`;
}
