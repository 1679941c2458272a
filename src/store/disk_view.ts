// DiskView: what the node's stats and the offline tools (fsck, inspect,
// repair) may see of one open disk. Read-only, and made for them: the
// extent table, live bytes, what recovery found, the index's runs and
// entries, a run block's bytes. They never reach the engine's parts
// (extent manager, commit log, index, chunk store) directly: a field of the
// engine used from outside src/store/ is refused by `npm run lint`
// (scripts/check-store-fields.ts). The one change a tool may make,
// repair's reattachment of extents the index still names, is
// `reattachIndexedExtents` (reattach.ts), which lives here in the engine.
import type { Locator } from '../chunk/index.js';
import { ChunkKind } from '../chunk/index.js';
import type { ExtentOwner, Geometry } from '../extent/index.js';
import type { CopyChunks, RunDescriptor, ScanEntry, ScanOptions } from '../index/index.js';
import type { ChunkStore } from '../chunk/index.js';
import type { ExtentManager } from '../extent/index.js';
import type { LsmIndex } from '../index/index.js';
import type { LiveBytes } from '../reclaim/index.js';
import type { Label, Superblock } from '../superblock/index.js';
import type { CommitLogState } from './commit_log.js';
import type { RecoveryReport } from './recovery_report.js';

/** The engine state a view reads; DiskStore hands its own (disk_store.ts). */
export interface DiskViewSource {
  readonly parts: {
    readonly label: Label;
    readonly extents: ExtentManager;
    readonly chunks: ChunkStore;
    readonly index: LsmIndex;
    readonly superblock: Superblock;
    readonly state: CommitLogState;
    readonly recovery: RecoveryReport;
  };
  readonly live: LiveBytes;
  /** Why the commit log stopped taking writes, if it did. */
  readonly failure: () => Error | undefined;
}

export class DiskView {
  constructor(private readonly source: DiskViewSource) {}

  get geometry(): Geometry {
    return this.source.parts.label.geometry;
  }

  owner(extent: number): ExtentOwner {
    return this.source.parts.extents.owner(extent);
  }

  writePointer(extent: number): number {
    return this.source.parts.extents.writePointer(extent);
  }

  extentsOwnedBy(owner: ExtentOwner): readonly number[] {
    return this.source.parts.extents.extentsOwnedBy(owner);
  }

  freeExtents(): number {
    return this.source.parts.extents.countFree();
  }

  /** Live data bytes of a data extent (partial until the rebuild after open is done: liveBytesReady). */
  liveBytes(extent: number): number {
    return this.source.live.of(extent);
  }

  get shardCount(): number {
    return this.source.live.shardCount;
  }

  get liveBytesReady(): boolean {
    return this.source.live.ready;
  }

  /** Bytes of live run chunks, over all index extents. */
  liveIndexBytes(): number {
    let total = 0;
    for (const bytes of this.source.parts.index.liveIndexBytesByExtent().values()) total += bytes;
    return total;
  }

  /** Why the store turned read-only, if it did. */
  get failure(): Error | undefined {
    return this.source.failure();
  }

  /** What open found of the redundant metadata, and what it repaired. */
  get recovery(): RecoveryReport {
    return this.source.parts.recovery;
  }

  /** The sequence number of the last metadata-log record recovery believed (or of the checkpoint's, if none followed). */
  get lastRecordSeq(): number {
    return this.source.parts.state.nextSeq - 1;
  }

  /** The sequence of the checkpoint recovery started from. */
  get checkpointSequence(): number {
    return this.source.parts.superblock.sequence;
  }

  /** The two extents holding the metadata log and its mirror. */
  get logExtents(): readonly [number, number] {
    return [this.source.parts.state.logExtent, this.source.parts.state.mirrorLogExtent];
  }

  /** The installed LSM runs. */
  runs(): readonly RunDescriptor[] {
    return this.source.parts.index.runs();
  }

  /** Every chunk of a run (its blocks), from its index. */
  runChunks(run: RunDescriptor): Promise<Locator[]> {
    return this.source.parts.index.chunksOf(run);
  }

  /** Both copies of a run's index, each loaded or with why it does not load. */
  runCopies(run: RunDescriptor): Promise<CopyChunks[]> {
    return this.source.parts.index.copyChunksOf(run);
  }

  /** Index entries in key order (the committed state on disk and in memory). */
  scan(options: ScanOptions): Promise<ScanEntry[]> {
    return this.source.parts.index.scan(options);
  }

  /** A run block's payload, its checksum verified. */
  readRunBlock(loc: Locator): Promise<Buffer> {
    return this.source.parts.chunks.read(loc, ChunkKind.RunBlock);
  }
}
