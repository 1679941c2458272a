// What the index layer needs of the chunk store: append chunks to its own
// stream of index extents, and read them back verified. The LSM tree takes
// this as a parameter, so its unit tests can pass an in-memory version.
import type { Dependency } from '../dependency/index.js';
import type { ChunkKind, Locator } from './chunk_format.js';

export interface ChunkAppend {
  readonly locator: Locator;
  /** Persistent when the chunk is durable. */
  readonly dependency: Dependency;
}

export interface ChunkIo {
  /** Largest payload one chunk may hold. */
  readonly maxPayloadBytes: number;
  /**
   * Append a chunk whose payload is the concatenation of `payload`. No
   * `after`: a run chunk waits for nothing but the record of its extent's
   * last reset, which the extent manager adds to every append.
   */
  append(kind: ChunkKind, payload: readonly Uint8Array[]): ChunkAppend;
  /** Read and verify a chunk's payload. Throws CorruptionError on any mismatch. */
  read(locator: Locator, kind: ChunkKind): Promise<Buffer>;
}
