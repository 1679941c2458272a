// What a benchmark child process tells the parent, and what a result row is.
//
// Every measurement runs in a child process forked by bench/run.ts (one
// process tree, one run): each engine in its own process, so memory, caches
// and native threads of one system never disturb another's numbers. A child
// gets its task as JSON in argv[2] and answers over the IPC channel:
//   progress* row* (done | failed)
// A child that exits without `done` has failed; its rows so far are kept.

/** One measured cell of the results table. */
export interface Row {
  /** Table section: put, get warm, get cold, mixed, churn, open, check, server. */
  readonly section: string;
  /** What was done, e.g. "put", "S3 GET", "open after SIGKILL". */
  readonly workload: string;
  /** Who did it, e.g. "shardstore", "lmdb", "raw pwrite+fdatasync". */
  readonly system: string;
  /** raw: the physical limit; ours: this project; peer: what a user would pick instead. */
  readonly kind: 'raw' | 'ours' | 'peer';
  readonly sizeBytes?: number;
  readonly inFlight?: number;
  /** Server rows: the client that drove the load. */
  readonly client?: string;
  readonly ops?: number;
  readonly seconds?: number;
  readonly opsPerSec?: number;
  readonly mbPerSec?: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  /** Row-specific numbers (write amplification, CPU-seconds per GiB, memory, ...). */
  readonly extra?: Readonly<Record<string, number | string>>;
  readonly note?: string;
  /** 1-minute load average when the cell finished (the machine is shared). */
  readonly loadAvg1?: number;
}

/** A row with the ratios the report computes from the whole run. */
export interface RatedRow extends Row {
  /** This row's rate over the raw-disk limit for the same size and in-flight count. */
  readonly ratioRaw?: number;
  /** This row's rate over the best peer's for the same cell. */
  readonly ratioPeer?: number;
}

export type ChildMessage =
  | { readonly kind: 'progress'; readonly text: string }
  | { readonly kind: 'row'; readonly row: Row }
  | { readonly kind: 'skip'; readonly what: string; readonly reason: string }
  | { readonly kind: 'done' }
  | { readonly kind: 'failed'; readonly message: string };

export function isChildMessage(value: unknown): value is ChildMessage {
  if (typeof value !== 'object' || value === null || !('kind' in value)) return false;
  const kind: unknown = value.kind;
  return kind === 'progress' || kind === 'row' || kind === 'skip' || kind === 'done' || kind === 'failed';
}
