// The tasks the parent hands to its children (one per worker file), and the
// workload shapes every engine is measured with. Plain data: it crosses
// the process boundary as JSON.

export interface Durations {
  /** One put cell. */
  readonly putMs: number;
  /** One get cell (warm or cold). */
  readonly getMs: number;
  readonly mixedMs: number;
  /** The measured churn window (after reclamation started). */
  readonly churnMs: number;
  /** Longest wait for reclamation to start in the churn workload. */
  readonly churnWarmupMs: number;
}

/** One value size with the data set loaded for its get cells. */
export interface SizeSet {
  readonly sizeBytes: number;
  /** Keys loaded for the get cells. */
  readonly getKeys: number;
  /** Most bytes one put cell may write (bounds the disk space a fast system uses). */
  readonly putCapBytes: number;
}

export interface EngineTask {
  readonly engine: string;
  readonly dir: string;
  /** Set for the preallocated ShardStore variant: the shared preallocated file. */
  readonly preallocatedPath?: string;
  /** Only the put cells (the preallocated variant). */
  readonly putsOnly: boolean;
  readonly sizes: readonly SizeSet[];
  readonly inFlights: readonly number[];
  readonly durations: Durations;
  /** Keys of the mixed workload's zipfian set (4 KiB values). */
  readonly mixedKeys: number;
  readonly churn: { readonly sizeBytes: number; readonly liveKeys: number; readonly inFlight: number; readonly diskBytes: number; readonly extentBytes: number };
  readonly seed: number;
}

export interface RawTask {
  readonly path: string;
  readonly fileBytes: number;
  readonly sizes: readonly SizeSet[];
  readonly inFlights: readonly number[];
  readonly durations: Durations;
}

export interface OpenTask {
  readonly mode: 'write' | 'open';
  readonly dir: string;
  readonly shards: number;
  readonly valueBytes: number;
  /** write mode: stop loading after this long (the row then says how many were written). */
  readonly loadCapMs: number;
}

export const KiB = 1024;
export const MiB = 1024 * 1024;
export const GiB = 1024 * 1024 * 1024;

export function sizeLabel(bytes: number): string {
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= KiB && bytes % KiB === 0) return `${bytes / KiB} KiB`;
  return `${bytes} B`;
}

/** Value `i` of a data set: random bytes (nothing compresses) stamped with i, so a get can be checked. */
export function makeValue(base: Buffer, i: number): Buffer {
  const v = Buffer.from(base);
  v.writeUInt32LE(i >>> 0, 0);
  return v;
}

/**
 * Values for measured puts without a copy per put (copying 1 MiB per put
 * showed up as 13% of the profile): each in-flight worker owns one buffer,
 * stamped in place before each put. Safe because a put has resolved (and
 * every engine has copied or written the bytes) before its worker stamps
 * the buffer again.
 */
export class WorkerValues {
  private readonly buffers: Buffer[] = [];

  constructor(private readonly base: Buffer) {}

  stamped(worker: number, i: number): Buffer {
    let b = this.buffers[worker];
    if (b === undefined) this.buffers[worker] = b = Buffer.from(this.base);
    if (b.length >= 4) b.writeUInt32LE(i >>> 0, 0);
    return b;
  }
}

/** What scribbleStamp writes: no key index of a bench data set reaches it. */
const SCRIBBLE = 0xffffffff;

/**
 * Overwrite the stamp checkValue reads (a value the caller owns, after it
 * was checked): were the buffer shared with the engine's cache, the next
 * get of the key would see the scribble and fail its check.
 */
export function scribbleStamp(v: Buffer | undefined): void {
  if (v !== undefined && v.length >= 4) v.writeUInt32LE(SCRIBBLE, 0);
}

/**
 * checkValue, then scribbleStamp: what every measured get does with its
 * answer (KvEngine.get: a buffer the caller owns). False when the value is
 * wrong, including a scribble left by an earlier get of the same key.
 */
export function takeValue(v: Buffer | undefined, i: number, size: number): boolean {
  if (!checkValue(v, i, size)) return false;
  scribbleStamp(v);
  return true;
}

/** Does `v` look like value `i` of size `size`? (Cheap: length and stamp.) */
export function checkValue(v: Buffer | undefined, i: number, size: number): boolean {
  return v !== undefined && v.length === size && (size < 4 || v.readUInt32LE(0) === i >>> 0);
}
