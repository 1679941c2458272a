// The control plane as callers see it (docs/CONTROL_PLANE.md): what a fleet
// asks of a node besides put and get. Types only, plus limits: the server
// imports this file (never the implementation), so it serves the node and
// the reference model (testing/model.ts, ModelNode) alike.
import type { ErrorCode } from '../base/index.js';
import type { Dependency } from '../dependency/index.js';
import type { DamagedIndexChunk, DamagedShard, ListOptions, ListResult, ScrubCounters } from '../store/index.js';

export type { DamagedIndexChunk, DamagedShard, ScrubCounters, ScrubProblem } from '../store/index.js';

/** Keys in one bulk call. */
export const MAX_BULK_KEYS = 1000;
/** Value bytes in one bulk create (values are held in memory whole). */
export const MAX_BULK_VALUE_BYTES = 64 * 1024 * 1024;

export interface BulkPutEntry {
  readonly key: Buffer;
  readonly value: Uint8Array;
}

/**
 * applied: the change is visible now and durable once `dependency` is.
 * absent: (bulk remove) the key had no value; nothing to do.
 * failed: nothing was changed for this key; `code` says why.
 */
export type BulkKeyStatus = 'applied' | 'absent' | 'failed';

export interface BulkKeyOutcome {
  readonly key: Buffer;
  readonly status: BulkKeyStatus;
  /** Failed: the typed error's code ('Internal' for an unexpected error). */
  readonly code?: ErrorCode | 'Internal';
  readonly message?: string;
  /** Applied: persistent once this key's change is durable. */
  readonly dependency?: Dependency;
}

export interface BulkResult {
  /** One outcome per key, in the order of the request. */
  readonly outcomes: readonly BulkKeyOutcome[];
  /** The batch's one Dependency: persistent once every applied change is durable (fails if one fails). */
  readonly dependency: Dependency;
}

export type DiskServiceState = 'in-service' | 'out-of-service' | 'opening' | 'closing';

export interface DiskStatus {
  readonly disk: number;
  /** The data file or device, when the node was opened from files. */
  readonly path?: string;
  readonly state: DiskServiceState;
  /** Why it is out of service (operator, open failure, ...). */
  readonly reason?: string;
}

/** A listing of the disks in service; `unavailableDisks` names those whose keys are missing from it. */
export interface NodeListResult extends ListResult {
  readonly unavailableDisks: readonly number[];
}

export interface ScrubOptions {
  /** Read at most this many bytes a second per disk (0: no limit). */
  readonly rateBytesPerSec?: number;
  /** Called after every verified shard or index chunk, at most every progressEveryMs. */
  readonly onProgress?: (progress: ScrubProgress) => void;
  readonly progressEveryMs?: number;
  readonly signal?: AbortSignal;
}

export interface ScrubProgress extends ScrubCounters {
  /** Estimate: the live bytes of the disks when the pass started. */
  readonly bytesTotal: number;
  readonly elapsedMs: number;
}

export interface ScrubReport {
  /** Every in-service disk was read to the end (none failed, none left service, not stopped). */
  readonly complete: boolean;
  readonly counters: ScrubCounters;
  readonly damaged: readonly DamagedShard[];
  readonly indexDamage: readonly DamagedIndexChunk[];
  /** Disks not scrubbed because they were out of service. */
  readonly skippedDisks: readonly number[];
  /** Disks whose pass stopped early, and why. */
  readonly errors: ReadonlyArray<{ readonly disk: number; readonly code: string; readonly message: string }>;
  readonly startedAtMs: number;
  readonly elapsedMs: number;
}

export interface ScrubStatus {
  readonly state: 'idle' | 'running' | 'done';
  readonly passes: number;
  readonly rateBytesPerSec: number;
  /** The pass running now, or the last one. */
  readonly progress?: ScrubProgress;
  /** The report of the last finished pass. */
  readonly last?: ScrubReport;
  /** A background pass failed unexpectedly (not a disk error: those are in the report). */
  readonly error?: string;
}

/** A key range for export: keys with `prefix`, >= start, < end, > startAfter (each optional). */
export interface KeyRange {
  readonly prefix?: Buffer;
  readonly start?: Buffer;
  readonly end?: Buffer;
  /** Resume point: only keys strictly greater (the last key a previous import made durable). */
  readonly startAfter?: Buffer;
}

export interface ImportReport {
  /** Records applied (their puts were taken). */
  readonly records: number;
  readonly bytes: number;
  /** The last key applied. */
  readonly lastKey?: Buffer;
  /** Every record up to and including this key is durable: resume with an export from startAfter = this. */
  readonly durableThrough?: Buffer;
  /** The end record was read and verified: the stream was whole. */
  readonly complete: boolean;
  /** Why the import stopped early. */
  readonly error?: { readonly code: string; readonly message: string };
  /** Persistent once every applied record is durable. */
  readonly dependency: Dependency;
}

/** Why an import refuses a record (its key): the import stops there, before the record changes anything. */
export interface KeyRefusal {
  readonly code: string;
  readonly message: string;
}

export interface ImportCallOptions {
  /** Checked for each record's key before it is applied; a refusal ends the import (the report's error). */
  readonly refuse?: (key: Buffer) => KeyRefusal | undefined;
}

export interface ExtentCounts {
  readonly free: number;
  readonly data: number;
  readonly index: number;
  readonly meta: number;
  readonly superblock: number;
}

export interface DiskStats {
  readonly disk: number;
  readonly path?: string;
  readonly state: DiskServiceState;
  readonly reason?: string;
  readonly capacityBytes: number;
  readonly extentSizeBytes: number;
  /** Bytes written below the write pointers of every non-free extent. */
  readonly usedBytes: number;
  /** Bytes of free extents. */
  readonly freeBytes: number;
  /** Framed bytes of the chunks of committed values, plus those of live index runs. */
  readonly liveBytes: number;
  readonly liveDataBytes: number;
  readonly liveIndexBytes: number;
  /** Written data bytes no committed value references: what reclamation can take back. */
  readonly reclaimableBytes: number;
  readonly extents: ExtentCounts;
  /** Committed shards (kept incrementally by the commit path, recounted in the background after open). */
  readonly shardCount: number;
  /** liveBytes, reclaimableBytes and shardCount are complete (false while they are recounted after open). */
  readonly liveBytesReady: boolean;
  /** Why this disk's store is read-only (a failed metadata write); absent while it is writable. */
  readonly readOnly?: string;
  /** Why the disk is degraded (StoreStats.degraded); empty when healthy. */
  readonly degraded?: readonly string[];
  /** Free bytes of the host file system under the data file (file-backed disks). */
  readonly hostFreeBytes?: number;
  /** Free extents prepared on the host: what deletes and reclamation write into on a full host. */
  readonly preparedExtents?: number;
  /** Writes the host file system refused for lack of space since open. */
  readonly hostNoSpaceWrites?: number;
}

/** Fields of one disk only: not summed into NodeStats.total. */
type PerDiskOnly = 'disk' | 'path' | 'state' | 'reason' | 'extentSizeBytes' | 'readOnly' | 'degraded' | 'hostFreeBytes' | 'preparedExtents' | 'hostNoSpaceWrites';

export interface NodeStats {
  readonly disks: readonly DiskStats[];
  /** Sums over the disks in service. */
  readonly total: Omit<DiskStats, PerDiskOnly>;
  readonly disksInService: number;
}

export interface ReclaimRequest {
  readonly maxExtents?: number;
  readonly maxLiveRatio?: number;
}

/** The control plane of a node (ShardNode; ModelNode in testing/). */
export interface AdminApi {
  bulkPut(entries: readonly BulkPutEntry[]): Promise<BulkResult>;
  bulkDelete(keys: readonly Buffer[]): Promise<BulkResult>;
  disks(): DiskStatus[];
  takeOutOfService(disk: number, reason?: string): Promise<DiskStatus>;
  returnToService(disk: number): Promise<DiskStatus>;
  /** Like list, over the disks in service only; never fails for a disk out of service. */
  listAvailable(options?: ListOptions): Promise<NodeListResult>;
  /** One pass now; resolves with its report. */
  scrub(options?: ScrubOptions): Promise<ScrubReport>;
  /** Start a background pass (no-op if one is running); returns the status. */
  startScrub(options?: ScrubOptions): ScrubStatus;
  scrubStatus(): ScrubStatus;
  /** Scrub counters summed over every finished pass since the node opened (metrics). */
  scrubTotals(): ScrubCounters;
  /** The migration stream (docs/format/migration.md) of the keys in `range`. */
  exportRange(range: KeyRange): AsyncIterable<Buffer>;
  importStream(source: AsyncIterable<Uint8Array>, options?: ImportCallOptions): Promise<ImportReport>;
  nodeStats(): NodeStats;
  reclaimNow(request: ReclaimRequest): Promise<number>;
}
