// The key-value interface every embedded system is driven through, and how
// each one is opened. Durability is part of the contract: put and del
// resolve only once the change is on disk (for ShardStore: the awaited
// Dependency.persisted(); for each peer: its sync option, described in
// `durability`). A system that cannot promise that is not benchmarked.

export interface KvEngine {
  put(key: Buffer, value: Buffer): Promise<void>;
  /**
   * The value, or undefined when absent, in a buffer the caller owns: not
   * shared with the system's cache, so the caller may modify or keep it.
   * Like with like: the raw read delivers into a fresh buffer too (pread
   * copies from the page cache), and a get that returned a reference to
   * cached bytes would be timing a lookup, not a read (it measured 300 GB/s
   * for 1 MiB values). The bench enforces it: after each checked get it
   * scribbles over the stamp (engine_worker.ts), so a shared buffer fails
   * the next get of that key.
   */
  get(key: Buffer): Promise<Buffer | undefined>;
  del(key: Buffer): Promise<void>;
  /** Write many entries fast (setup, not measured); durable when it resolves. */
  load(keys: readonly Buffer[], value: (i: number) => Buffer): Promise<void>;
  close(): Promise<void>;
  /** Bytes the engine itself wrote to its disk so far, where it counts them. */
  engineBytesWritten?(): number;
  /** Engine counters worth a row (reclaimed extents, commits, ...). */
  counters?(): Record<string, number>;
}

export interface EngineSpec {
  /** Row name. */
  readonly name: string;
  readonly kind: 'ours' | 'peer';
  /** How the system is configured so that every acknowledged put is durable. */
  readonly durability: string;
  /** Open (creating if needed) the system's files under `dir`. */
  open(dir: string, options: EngineOpenOptions): Promise<KvEngine>;
}

export interface EngineOpenOptions {
  /** Largest total of bytes the workload will put (sizing for fixed-size stores). */
  readonly capacityBytes: number;
  /** A preallocated file to use as the disk (ShardStore variant); formatted when `format` is set. */
  readonly preallocatedPath?: string;
  /** Start empty (format / truncate) rather than reopen. */
  readonly format: boolean;
  /** ShardStore only: small extents so that reclamation runs during churn. */
  readonly extentSizeBytes?: number;
  /** ShardStore only: this exact disk size (churn: a small disk, so that reclamation must run). */
  readonly diskBytes?: number;
}
