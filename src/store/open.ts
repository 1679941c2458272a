// Format and open (recovery) of one disk's store.
//
// Recovery reads metadata, not data: the label, the newest valid checkpoint
// slot, then the metadata log from the checkpoint's two log extents, record
// by record, until the first record that is whole in neither copy (a torn
// tail ends the log; a record lost in both copies with whole records after
// it is damage, and open refuses: log_replay.ts). Then the data the last
// record(s) name, those no completed flush is known to cover, is verified:
// the log ends before the first record whose data is not whole (its flush
// never returned: log_verify.ts). That reads one cycle's data, not the
// disk's. Run indexes load lazily on first lookup. No manual step, after a
// clean or a dirty shutdown alike.
//
// Repair: every structure recovery reads is kept in two copies (label,
// checkpoint, log; runs in the index layer). When open had to read one from
// its second copy, it restores the redundancy before it returns: a bad
// label copy is rewritten, and a log or checkpoint missing a copy is
// replaced by a log roll (a fresh checkpoint, both copies, and a fresh log
// pair), since extents are never overwritten in place. The report of what
// was repaired is `DiskStore.recovery`.
//
// What open does not wait for: decoding the mutations of records already in
// runs (at or below flushedThroughSeq; skipped, metalog_format.ts), and the
// recount of live bytes, which a walk of the whole index does in the
// background once open has returned (live_rebuild.ts; why that is safe and
// exact: docs/ARCHITECTURE.md, life of a recovery).
//
// Read-only (options.readOnly): the same recovery, in memory only; the IO
// scheduler refuses writes, so nothing here or later can change the disk.
import { CorruptionError, CryptoRandom, NoSpaceError } from '../base/index.js';
import type { RandomSource } from '../base/index.js';
import { BufferCache, ChunkStore, ChunkStream } from '../chunk/index.js';
import { Dependency, IoScheduler } from '../dependency/index.js';
import type { Disk } from '../disk/index.js';
import { DEFAULT_EXTENT_SIZE_BYTES, ExtentManager, ExtentOwner, HostSpace, OPEN_ATTEMPTS_PER_TARGET } from '../extent/index.js';
import { LsmIndex } from '../index/index.js';
import type { RunDescriptor } from '../index/index.js';
import { Superblock, planLayout } from '../superblock/index.js';
import type { Checkpoint, CopyState, Label, SlotCopyReport } from '../superblock/index.js';
import type { CommitLogState } from './commit_log.js';
import { DiskStore } from './disk_store.js';
import type { RecoveryReport } from './recovery_report.js';
import { LogDamageError, LogReader } from './log_replay.js';
import { LogVerifier } from './log_verify.js';
import type { VerifiedLog } from './log_verify.js';
import type { LogReplay, ReplayOptions } from './log_replay.js';
import { decodeManifest, decodeMutations, encodeManifest } from './metalog_format.js';
import { resolveStoreOptions } from './store_options.js';
import type { StoreOptions } from './store_options.js';

export interface OpenOptions extends StoreOptions {
  /** Chunk ids; tests pass a seeded source so runs replay. */
  readonly random?: RandomSource;
  /**
   * Open prepares the reserve on the host again (writes zeros over free
   * extents, host_space.ts); false for tools that check, which never write.
   */
  readonly prepareHostSpace?: boolean;
}

export interface FormatOptions extends OpenOptions {
  readonly extentSizeBytes?: number;
  readonly maxManifestBytes?: number;
  readonly nodeId?: { readonly low: number; readonly high: number };
  readonly diskIndex?: number;
  readonly diskCount?: number;
}

export const DEFAULT_MAX_MANIFEST_BYTES = 256 * 1024;

export async function formatDiskStore(disk: Disk, options: FormatOptions = {}): Promise<DiskStore> {
  const random = options.random ?? new CryptoRandom();
  const label = planLayout({
    diskSizeBytes: disk.sizeBytes,
    pageSizeBytes: disk.pageSizeBytes,
    extentSizeBytes: options.extentSizeBytes ?? DEFAULT_EXTENT_SIZE_BYTES,
    maxManifestBytes: options.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES,
    nodeId: options.nodeId ?? { low: random.nextU32(), high: random.nextU32() },
    diskIndex: options.diskIndex ?? 0,
    diskCount: options.diskCount ?? 1,
  });
  const io = new IoScheduler(disk);
  const extents = newExtentManager(label, io, options);
  const space = new HostSpace(extents, io, { clock: resolveStoreOptions(options, label.geometry.extentSizeBytes).clock });
  const [logExtent, mirrorLogExtent] = await prepareAtFormat(space, extents, label);
  // The extents for puts too are prepared before format returns (4 x 64 MiB
  // by default: about 0.3 s on top of the reserve's 1.1 s measured for a
  // 16 GiB file). Prepared in the background instead, their zeros went out
  // with the first puts' commit cycles: the first second of a new store ran
  // at 0.2-0.3 of its preallocated speed (docs/BENCHMARKS.md 2026-12-06).
  // Before the first checkpoint, so that it marks them host-allocated with
  // the reserve: the next open writes no zeros (host_space.ts).
  if (options.prepareHostSpace !== false) {
    space.prepareAhead(resolveStoreOptions(options, label.geometry.extentSizeBytes).prepareAheadExtents);
    await space.finish();
    // What more is wanted (prepare-ahead 'all') is prepared while the store is idle (host_space.ts, "Everything ahead").
    if (extents.countPreparedFree() < space.target) space.kick();
  }
  extents.takeChanges();
  const { superblock, dependency } = Superblock.format(io, label, {
    extents: extents.table(),
    logExtent,
    mirrorLogExtent,
    nextRecordSeq: 1,
    manifest: encodeManifest({ runs: [], flushedThroughSeq: 0 }),
    hostAllocated: extents.takeHostAllocated(),
  });
  await dependency.persisted();
  const state: CommitLogState = { logExtent, mirrorLogExtent, nextSeq: 1, flushedThroughSeq: 0 };
  return assemble({ disk, io, label, extents, space, superblock, state, runs: [], random, options, recovery: EMPTY_RECOVERY });
}

/**
 * Allocate on the host, before the first checkpoint, what deletes and
 * reclamation will need (host_space.ts): the superblock (both slots whole),
 * the first log extent and the reserve. Returns the log extent. Throws
 * NoSpaceError, with nothing formatted, when the host cannot hold them.
 */
async function prepareAtFormat(space: HostSpace, extents: ExtentManager, label: Label): Promise<[number, number]> {
  const context = 'cannot format: the host file system has no room for the metadata and the reserve';
  try {
    // Format of a fresh file: no write precedes these zeros.
    await space.zeroFill(0, label.slotCopyOffsets[1] + label.slotBytes, Dependency.none);
  } catch (err: unknown) {
    throw new NoSpaceError(`${context}: ${String(err)}`, { cause: err });
  }
  // The log and its mirror, then the reserve.
  await space.fill(extents.preparedTarget + 2, { paced: false });
  const logExtent = extents.allocate(ExtentOwner.Meta, { reserve: 'log' });
  const mirrorLogExtent = extents.allocate(ExtentOwner.Meta, { reserve: 'log' });
  await space.settled();
  const wanted = Math.min(extents.preparedTarget, extents.countFree());
  const logsPrepared = extents.preparedState(logExtent) === 'prepared' && extents.preparedState(mirrorLogExtent) === 'prepared';
  if (!logsPrepared || extents.countPreparedFree() < wanted) {
    throw new NoSpaceError(`${context}: ${String(space.stats.lastError)}`, { cause: space.stats.lastError });
  }
  return [logExtent, mirrorLogExtent];
}

export async function openDiskStore(disk: Disk, options: OpenOptions = {}): Promise<DiskStore> {
  const { store } = await recoverDiskStore(disk, options, {});
  return store;
}

/**
 * Recovery as open does it; with `salvage`, records of the log lost in both
 * copies are skipped instead of refusing the open (`shardstore repair`,
 * salvage.ts), and the caller is told which.
 */
export async function recoverDiskStore(disk: Disk, options: OpenOptions, replay: ReplayOptions): Promise<{ store: DiskStore; lostRecords: readonly number[] }> {
  const random = options.random ?? new CryptoRandom();
  // What recovery reads must be durable: after a failed flush before the
  // restart, bytes may sit in the OS cache that a power cut would still
  // lose. Flushing first makes the state recovery builds on stable.
  await disk.flush();
  const { label, copies: labelCopies } = await Superblock.readLabelCopies(disk);
  const io = new IoScheduler(disk, { readOnly: options.readOnly === true });
  const { superblock, checkpoint, slots } = await Superblock.load(io, label, { salvage: replay.salvage === true });
  const extents = newExtentManager(label, io, options);
  const space = new HostSpace(extents, io, { clock: resolveStoreOptions(options, label.geometry.extentSizeBytes).clock });
  extents.restore(checkpoint.extents);
  const hostMarks = trustedHostMarks(disk, label, checkpoint);
  extents.restoreHostAllocated(hostMarks.trusted);
  const manifest = decodeManifest(checkpoint.manifest);
  const logExtents = [checkpoint.logExtent, checkpoint.mirrorLogExtent] as const;
  const read = await readLog(extents, logExtents, checkpoint.nextRecordSeq, replay);
  const verified = await new LogVerifier(extents).verify(read.records, checkpoint.nextRecordSeq - 1);
  const log = believed(read, verified);
  for (const e of logExtents) extents.setWritePointerForRecovery(e, log.end);
  const runs = new Map<number, RunDescriptor>(manifest.runs.map((r) => [r.id, r]));
  let flushedThroughSeq = manifest.flushedThroughSeq;
  for (const rec of log.records) {
    extents.restore(rec.extentChanges.filter((e) => !logExtents.includes(e.extent)));
    for (const id of rec.runsRemoved) runs.delete(id);
    for (const run of rec.runsAdded) runs.set(run.id, run);
    flushedThroughSeq = Math.max(flushedThroughSeq, rec.flushedThroughSeq);
  }
  const nextSeq = (log.records.at(-1)?.seq ?? checkpoint.nextRecordSeq - 1) + 1;
  const state: CommitLogState = { logExtent: checkpoint.logExtent, mirrorLogExtent: checkpoint.mirrorLogExtent, nextSeq, flushedThroughSeq };
  const recovery = recoveryReport(labelCopies, slots, superblock.sequence, log, verified, hostMarks);
  const store = assemble({ disk, io, label, extents, space, superblock, state, runs: [...runs.values()], random, options, recovery });
  // Only records past flushedThroughSeq have mutations that are not in a
  // run; the others' mutations are never decoded (metalog_format.ts).
  for (const rec of log.records) {
    if (rec.seq > flushedThroughSeq) store.parts.index.apply(decodeMutations(rec), rec.seq);
  }
  // The extents the checkpoint marked host-allocated count as prepared
  // (restoreHostAllocated above); the reserve is made whole from the others
  // in the background; log rolls (the repair below among them), index
  // flushes and reclamation wait for it (host_space.ts). Then the extents
  // prepared ahead of puts, after the reserve (ready() does not wait for
  // them). With every mark trusted and the targets met, neither writes.
  if (hostMarks.distrusted !== undefined && options.readOnly !== true) console.warn(`shardstore: ${hostMarks.distrusted}`);
  if (options.prepareHostSpace !== false && options.readOnly !== true) {
    // Not paced: log rolls, index flushes and reclamation wait for it (ready()).
    void space.fill(extents.preparedTarget * OPEN_ATTEMPTS_PER_TARGET, { paced: false });
    space.prepareAhead(resolveStoreOptions(options, label.geometry.extentSizeBytes).prepareAheadExtents);
  }
  if (options.readOnly !== true && replay.salvage !== true) await repairCopies(store, io, label, recovery);
  // The believed tail was verified but no durable record confirms it yet:
  // confirm it now (one empty cycle), or damage to its data before the
  // next open would drop it after reads saw it (commit_log.ts, "Confirmation").
  const last = log.records.at(-1);
  const confirmed = Math.max(checkpoint.nextRecordSeq - 1, ...log.records.map((r) => r.syncedThroughSeq));
  if (options.readOnly !== true && replay.salvage !== true && last !== undefined && last.seq > confirmed && last.dataNames.length > 0) {
    await store.log.confirmRecoveredTail();
  }
  // Live bytes are counted in the background (live_rebuild.ts): open does
  // not wait for a walk of the whole index.
  store.startLiveBytesRebuild();
  return { store, lostRecords: log.lost };
}

/**
 * The replayed log cut to the verified records: it ends where the first
 * dropped record began (the next record overwrites it, in both copies),
 * and copy damage of dropped records needs no repair.
 */
function believed(read: LogReplay, verified: VerifiedLog): LogReplay {
  const dropped = verified.dropped;
  if (dropped === undefined) return read;
  const kept = verified.records.length;
  return {
    ...read,
    records: verified.records,
    ends: read.ends.slice(0, kept),
    end: kept > 0 ? (read.ends[kept - 1] ?? 0) : 0,
    copyDamage: read.copyDamage.filter((d) => d.seq < dropped.seq),
  };
}

/** Both copies of the log from `firstSeq` on; a damaged log (not a torn tail) refuses the open. */
async function readLog(extents: ExtentManager, logExtents: readonly [number, number], firstSeq: number, replay: ReplayOptions): Promise<LogReplay> {
  for (const e of logExtents) {
    if (extents.owner(e) !== ExtentOwner.Meta) throw new CorruptionError(`log extent ${e} is not a metadata extent`);
    extents.setWritePointerForRecovery(e, extents.extentSizeBytes);
  }
  try {
    return await new LogReader(extents).replay(logExtents, firstSeq, replay);
  } catch (err: unknown) {
    if (!(err instanceof LogDamageError)) throw err;
    throw new LogDamageError(`${err.message}. The store was not opened and nothing was changed; \`shardstore fsck\` reports the damage, and \`shardstore repair\` salvages what can be read`, err.seq, err.laterSeqs);
  }
}

/**
 * The checkpoint's host-allocated marks, unless the data file holds fewer
 * allocated bytes than they imply: a copy made sparse (cp --sparse=always,
 * rsync -S) turns the prepared zeros into holes, and a mark over a hole
 * would send the log, index flushes and reclamation to blocks a full host
 * refuses. What the marks imply: each marked extent whole, plus the
 * recorded write pointers of the others (written data; a sparse copy keeps
 * it, so it cannot hide the holes). A disk that cannot say (a block device,
 * a simulated disk) or a file allocated whole (fill() marks every extent
 * anyway) is trusted. Distrusted, no mark counts: open prepares as before
 * marks existed, and the next checkpoint records what it prepared.
 */
function trustedHostMarks(disk: Disk, label: Label, checkpoint: Checkpoint): HostMarks {
  const marks = checkpoint.hostAllocated;
  if (marks.length === 0) return { marked: 0, trusted: [] };
  const host = disk.hostSpace?.();
  const allocatedBytes = host?.allocatedBytes;
  if (host === undefined || host.fileFullyAllocated || allocatedBytes === undefined) return { marked: marks.length, trusted: marks };
  const extentBytes = label.geometry.extentSizeBytes;
  const marked = new Set(marks);
  let impliedBytes = marks.length * extentBytes;
  for (const e of checkpoint.extents) if (!marked.has(e.extent)) impliedBytes += e.writePointer;
  if (allocatedBytes >= impliedBytes) return { marked: marks.length, trusted: marks };
  return {
    marked: marks.length,
    trusted: [],
    distrusted:
      `the data file holds ${allocatedBytes} allocated bytes, fewer than the ${impliedBytes} its checkpoint's ${marks.length} host-allocated extents and write pointers imply ` +
      '(a copy made sparse?): no extent is taken as allocated on the host, the reserve is prepared again',
  };
}

interface HostMarks {
  /** Extents the checkpoint marked host-allocated. */
  readonly marked: number;
  /** The marks open believes (all of them, or none). */
  readonly trusted: readonly number[];
  /** Why none is believed. */
  readonly distrusted?: string;
}

function recoveryReport(labelCopies: readonly [CopyState, CopyState], slots: readonly SlotCopyReport[], usedSequence: number, log: LogReplay, verified: VerifiedLog, hostMarks: HostMarks): RecoveryReport {
  const usedSlotCopies = slots.filter((s) => s.sequence === usedSequence || (!s.state.ok && slots.some((o) => o.slot === s.slot && o.sequence === usedSequence)));
  return {
    hostAllocated: { marked: hostMarks.marked, trusted: hostMarks.trusted.length, ...(hostMarks.distrusted === undefined ? {} : { distrusted: hostMarks.distrusted }) },
    labelCopies,
    slots,
    checkpointCopyDamaged: usedSlotCopies.some((s) => !s.state.ok),
    log: { records: log.records.length, end: log.end, copyDamage: log.copyDamage, unreadable: log.unreadable },
    tail: { verified: verified.verified, damagedData: verified.damagedData, ...(verified.dropped === undefined ? {} : { dropped: verified.dropped }) },
    repaired: [],
  };
}

/** Restore the second copy of whatever open had to read from one (see the header comment). */
async function repairCopies(store: DiskStore, io: IoScheduler, label: Label, recovery: RecoveryReport): Promise<void> {
  const labelFix = Superblock.repairLabel(io, label, recovery.labelCopies);
  if (labelFix !== undefined) {
    await labelFix.persisted();
    recovery.repaired.push('rewrote the damaged superblock label copy');
  }
  // A torn tail in one copy is the normal trace of a crash during an append,
  // but it is repaired the same way: until the log rolls, that record would
  // have one copy only.
  //
  // A record dropped for its data (a torn last cycle, log_verify.ts) is
  // still whole in the log; the next record would overwrite it, but if that
  // one is lost in turn, the dropped record is found again, and a read that
  // judged its data differently (a transient misread; in the simulator, a
  // bit flipped in the cache before the flush) would believe it after the
  // key was seen without it. The roll discards the old log: the drop is
  // final once open returns.
  const dropped = recovery.tail.dropped;
  if (recovery.log.copyDamage.length > 0 || recovery.checkpointCopyDamaged || dropped !== undefined) {
    await store.checkpoint();
    const why = [
      ...(recovery.log.copyDamage.length > 0 ? [`${recovery.log.copyDamage.length} record copies missing`] : []),
      ...(recovery.checkpointCopyDamaged ? ['a checkpoint copy damaged'] : []),
      ...(dropped !== undefined ? [`record ${dropped.seq} dropped: its data is not whole`] : []),
    ];
    recovery.repaired.push(`rolled the metadata log (${why.join(', ')})`);
  }
}

const EMPTY_RECOVERY: RecoveryReport = {
  hostAllocated: { marked: 0, trusted: 0 },
  labelCopies: [{ ok: true }, { ok: true }],
  slots: [],
  checkpointCopyDamaged: false,
  log: { records: 0, end: 0, copyDamage: [], unreadable: [] },
  tail: { verified: 0, damagedData: [] },
  repaired: [],
};

function newExtentManager(label: Label, io: IoScheduler, options: StoreOptions): ExtentManager {
  const resolved = resolveStoreOptions(options, label.geometry.extentSizeBytes);
  return new ExtentManager(label.geometry, io, resolved.reserveExtents);
}

interface AssembleParts {
  readonly disk: Disk;
  readonly io: IoScheduler;
  readonly label: Label;
  readonly extents: ExtentManager;
  readonly space: HostSpace;
  readonly superblock: Superblock;
  readonly state: CommitLogState;
  readonly runs: RunDescriptor[];
  readonly random: RandomSource;
  readonly options: StoreOptions;
  readonly recovery: RecoveryReport;
}

function assemble(p: AssembleParts): DiskStore {
  const resolved = resolveStoreOptions(p.options, p.label.geometry.extentSizeBytes);
  const cache = new BufferCache(resolved.cacheBytes, p.label.geometry.extentSizeBytes);
  const chunks = new ChunkStore(p.extents, cache, p.random);
  const indexStream = new ChunkStream(chunks, ExtentOwner.Index, { reserve: 'index' });
  // Every run is written twice, the mirror through a stream kept out of the primary's open extent.
  const indexMirrorStream = new ChunkStream(chunks, ExtentOwner.Index, { reserve: 'index' });
  indexStream.pairWith(indexMirrorStream);
  const index = new LsmIndex({ primary: indexStream, mirror: indexMirrorStream }, { fanIn: resolved.compactionFanIn });
  // Newest first: a flush always covers later records than every run before
  // it, and a compaction output covers the same records as its inputs.
  index.restore(p.runs.sort((a, b) => b.maxSeq - a.maxSeq));
  return new DiskStore({ disk: p.disk, io: p.io, label: p.label, extents: p.extents, space: p.space, chunks, index, indexStream, indexMirrorStream, superblock: p.superblock, state: p.state, recovery: p.recovery }, p.options);
}
