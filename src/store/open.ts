// Format and open (recovery) of one disk's store.
//
// Recovery reads metadata, not data: the label, the newest valid checkpoint
// slot, then the metadata log from the checkpoint's log extent, record by
// record, until the first record that does not verify or does not carry
// the next sequence number (a torn or stale record ends the log). Run
// indexes load lazily on first lookup. No manual step, after a clean or a
// dirty shutdown alike.
//
// What open does not wait for: decoding the mutations of records already in
// runs (at or below flushedThroughSeq; skipped, metalog_format.ts), and the
// recount of live bytes, which a walk of the whole index does in the
// background once open has returned (live_rebuild.ts; why that is safe and
// exact: docs/ARCHITECTURE.md, life of a recovery).
import { CorruptionError, CryptoRandom, NoSpaceError } from '../base/index.js';
import type { RandomSource } from '../base/index.js';
import { BufferCache, ChunkKind, ChunkStore, ChunkStream, alignUp } from '../chunk/index.js';
import { IoScheduler } from '../dependency/index.js';
import type { Disk } from '../disk/index.js';
import { DEFAULT_EXTENT_SIZE_BYTES, ExtentManager, ExtentOwner, HostSpace, OPEN_ATTEMPTS_PER_TARGET } from '../extent/index.js';
import { LsmIndex } from '../index/index.js';
import type { RunDescriptor } from '../index/index.js';
import { Superblock, planLayout } from '../superblock/index.js';
import type { Label } from '../superblock/index.js';
import type { CommitLogState } from './commit_log.js';
import { DiskStore } from './disk_store.js';
import { decodeManifest, decodeMetaRecordHead, decodeMutations, encodeManifest } from './metalog_format.js';
import type { MetaRecordHead } from './metalog_format.js';
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
  const space = new HostSpace(extents, io);
  const logExtent = await prepareAtFormat(space, extents, label);
  extents.takeChanges();
  const { superblock, dependency } = Superblock.format(io, label, {
    extents: extents.table(),
    logExtent,
    nextRecordSeq: 1,
    manifest: encodeManifest({ runs: [], flushedThroughSeq: 0 }),
  });
  await dependency.persisted();
  const state: CommitLogState = { logExtent, nextSeq: 1, flushedThroughSeq: 0 };
  return assemble({ disk, io, label, extents, space, superblock, state, runs: [], random, options });
}

/**
 * Allocate on the host, before the first checkpoint, what deletes and
 * reclamation will need (host_space.ts): the superblock (both slots whole),
 * the first log extent and the reserve. Returns the log extent. Throws
 * NoSpaceError, with nothing formatted, when the host cannot hold them.
 */
async function prepareAtFormat(space: HostSpace, extents: ExtentManager, label: Label): Promise<number> {
  const context = 'cannot format: the host file system has no room for the metadata and the reserve';
  try {
    await space.zeroFill(0, label.slotOffsets[1] + label.slotBytes);
  } catch (err: unknown) {
    throw new NoSpaceError(`${context}: ${String(err)}`, { cause: err });
  }
  await space.fill(extents.preparedTarget + 1);
  const logExtent = extents.allocate(ExtentOwner.Meta, { reserve: 'log' });
  await space.settled();
  const wanted = Math.min(extents.preparedTarget, extents.countFree());
  if (extents.preparedState(logExtent) !== 'prepared' || extents.countPreparedFree() < wanted) {
    throw new NoSpaceError(`${context}: ${String(space.stats.lastError)}`, { cause: space.stats.lastError });
  }
  return logExtent;
}

export async function openDiskStore(disk: Disk, options: OpenOptions = {}): Promise<DiskStore> {
  const random = options.random ?? new CryptoRandom();
  // What recovery reads must be durable: after a failed flush before the
  // restart, bytes may sit in the OS cache that a power cut would still
  // lose. Flushing first makes the state recovery builds on stable.
  await disk.flush();
  const label = await Superblock.readLabel(disk);
  const io = new IoScheduler(disk);
  const { superblock, checkpoint } = await Superblock.load(io, label);
  const extents = newExtentManager(label, io, options);
  const space = new HostSpace(extents, io);
  extents.restore(checkpoint.extents);
  const manifest = decodeManifest(checkpoint.manifest);
  const chunks = new ChunkStore(extents, new BufferCache(0, label.geometry.extentSizeBytes), random);
  const { records, end } = await readLog(chunks, extents, checkpoint.logExtent, checkpoint.nextRecordSeq);
  extents.setWritePointerForRecovery(checkpoint.logExtent, end);
  const runs = new Map<number, RunDescriptor>(manifest.runs.map((r) => [r.id, r]));
  let flushedThroughSeq = manifest.flushedThroughSeq;
  for (const rec of records) {
    extents.restore(rec.extentChanges.filter((e) => e.extent !== checkpoint.logExtent));
    for (const id of rec.runsRemoved) runs.delete(id);
    for (const run of rec.runsAdded) runs.set(run.id, run);
    flushedThroughSeq = Math.max(flushedThroughSeq, rec.flushedThroughSeq);
  }
  const nextSeq = checkpoint.nextRecordSeq + records.length;
  const state: CommitLogState = { logExtent: checkpoint.logExtent, nextSeq, flushedThroughSeq };
  const store = assemble({ disk, io, label, extents, space, superblock, state, runs: [...runs.values()], random, options });
  // Only records past flushedThroughSeq have mutations that are not in a
  // run; the others' mutations are never decoded (metalog_format.ts).
  for (const rec of records) {
    if (rec.seq > flushedThroughSeq) store.parts.index.apply(decodeMutations(rec), rec.seq);
  }
  // Live bytes are counted in the background (live_rebuild.ts): open does
  // not wait for a walk of the whole index.
  store.startLiveBytesRebuild();
  // Which free extents were prepared is not persisted: prepare the reserve
  // again, in the background; log rolls, index flushes and reclamation wait
  // for it (host_space.ts).
  if (options.prepareHostSpace !== false) void space.fill(extents.preparedTarget * OPEN_ATTEMPTS_PER_TARGET);
  return store;
}

/** Records of the log extent from `firstSeq` on, up to the first that is torn, stale or missing. */
async function readLog(
  chunks: ChunkStore,
  extents: ExtentManager,
  logExtent: number,
  firstSeq: number,
): Promise<{ records: MetaRecordHead[]; end: number }> {
  if (extents.owner(logExtent) !== ExtentOwner.Meta) throw new CorruptionError(`log extent ${logExtent} is not a metadata extent`);
  extents.setWritePointerForRecovery(logExtent, extents.extentSizeBytes);
  const records: MetaRecordHead[] = [];
  let end = 0;
  for await (const chunk of chunks.scan(logExtent, { stopAtDamage: true })) {
    if (chunk.kind !== ChunkKind.MetaRecord) break;
    const record = decodeMetaRecordHead(chunk.payload);
    if (record.seq !== firstSeq + records.length) break;
    records.push(record);
    end = alignUp(chunk.locator.offset + chunk.locator.length);
  }
  return { records, end };
}

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
}

function assemble(p: AssembleParts): DiskStore {
  const resolved = resolveStoreOptions(p.options, p.label.geometry.extentSizeBytes);
  const cache = new BufferCache(resolved.cacheBytes, p.label.geometry.extentSizeBytes);
  const chunks = new ChunkStore(p.extents, cache, p.random);
  const indexStream = new ChunkStream(chunks, ExtentOwner.Index, { reserve: 'index' });
  const index = new LsmIndex(indexStream, { fanIn: resolved.compactionFanIn });
  // Newest first: a flush always covers later records than every run before
  // it, and a compaction output covers the same records as its inputs.
  index.restore(p.runs.sort((a, b) => b.maxSeq - a.maxSeq));
  return new DiskStore({ disk: p.disk, io: p.io, label: p.label, extents: p.extents, space: p.space, chunks, index, indexStream, superblock: p.superblock, state: p.state }, p.options);
}
