// Invariants of a running store, checked at every scheduling point of a
// concurrent harness (the SimScheduler's `invariant` hook): between two
// steps, where no step is half done, but where puts are in flight, gets
// race them, and reclamation, compaction and log rolls reset extents.
// The sequential suites check the buffer cache only after whole steps, when
// every put is durable and no reset is half way (issue 13: "cache
// coherence is checked only where it cannot break").
//
// Strategy: look, never touch. The disk is read with SimDisk.peek (no IO,
// so no scheduling point is added and nothing changes); the engine through
// what it offers (the cache's entries, the extent table, the installed
// runs). A cache entry verified once is remembered (by its payload buffer)
// until a write that overlaps it completes, so a step costs one pass over
// the entries, not one comparison of every cached byte.
//
// Invariants:
// 1. Cache coherence: every chunk the buffer cache holds lies below its
//    extent's durable write pointer (bytes still on their way to the disk
//    are not cached: a failed write must not leave bytes in the cache the
//    disk never got), and the disk holds that very chunk there (same kind,
//    same payload). A cached chunk of a reset extent breaks the first half,
//    a cached chunk of a write not yet durable the first, bytes the disk
//    does not hold the second.
// 2. Every extent an installed LSM run names (either copy) is owned by the
//    index: no job reset an extent a run still lives in.
import { CHUNK_HEADER_BYTES, CHUNK_OVERHEAD_BYTES, parseHeader } from '../../src/chunk/index.js';
import { ExtentOwner } from '../../src/extent/index.js';
import type { DiskStore } from '../../src/store/index.js';
import type { SimDisk } from '../sim_disk.js';

export class StepInvariants {
  /** Per extent: offset -> the payload buffer verified against the disk. */
  private readonly verified = new Map<number, Map<number, Buffer>>();
  /** Per extent, its durable write pointer, for the length of one check. */
  private readonly durable = new Map<number, number>();
  private readonly extentSizeBytes: number;

  constructor(
    private readonly store: DiskStore,
    private readonly disk: SimDisk,
  ) {
    this.extentSizeBytes = store.parts.extents.geometry.extentSizeBytes;
    disk.onIo((event, io, error) => {
      if (event !== 'complete' || io.kind !== 'write' || error !== undefined) return;
      const first = Math.floor(io.offset / this.extentSizeBytes);
      const last = Math.floor((io.offset + Math.max(io.length, 1) - 1) / this.extentSizeBytes);
      for (let e = first; e <= last; e++) this.forgetOverlapping(e, io.offset - e * this.extentSizeBytes, io.length);
    });
  }

  /** The first broken invariant, in words; undefined when all hold (or the store is closed). */
  check(): string | undefined {
    if (!this.store.isOpen) return undefined;
    this.durable.clear();
    return this.cacheProblem() ?? this.runExtentsProblem();
  }

  /** A write landed at [offset, offset + length) of `extent`: the entries it overlaps must be verified again. */
  private forgetOverlapping(extent: number, offset: number, length: number): void {
    const map = this.verified.get(extent);
    if (map === undefined) return;
    for (const [at, payload] of map) {
      if (at < offset + length && offset < at + CHUNK_OVERHEAD_BYTES + payload.length) map.delete(at);
    }
  }

  /** Invariant 1. */
  private cacheProblem(): string | undefined {
    const { chunks, extents } = this.store.parts;
    for (const { extent, offset, kind, payload } of chunks.cache.cached()) {
      const length = CHUNK_OVERHEAD_BYTES + payload.length;
      const at = `${extent}:${offset}+${length}`;
      let durable = this.durable.get(extent);
      if (durable === undefined) this.durable.set(extent, (durable = extents.durableWritePointer(extent)));
      if (offset + length > durable) {
        const owner = ExtentOwner[extents.owner(extent)] ?? String(extents.owner(extent));
        return `cache coherence: the buffer cache holds chunk ${at}, beyond the durable write pointer ${durable} of extent ${extent} (${owner}, write pointer ${extents.writePointer(extent)})`;
      }
      if (this.verified.get(extent)?.get(offset) === payload) continue;
      const frame = this.disk.peek(extents.diskOffset(extent, offset), length);
      const header = parseHeader(frame);
      const same = header !== undefined && header.kind === kind && header.payloadBytes === payload.length && frame.subarray(CHUNK_HEADER_BYTES, CHUNK_HEADER_BYTES + payload.length).equals(payload);
      if (!same) return `cache coherence: the buffer cache's chunk ${at} differs from the disk's bytes there`;
      let map = this.verified.get(extent);
      if (map === undefined) this.verified.set(extent, (map = new Map<number, Buffer>()));
      map.set(offset, payload);
    }
    return undefined;
  }

  /** Invariant 2. */
  private runExtentsProblem(): string | undefined {
    const { index, extents } = this.store.parts;
    for (const run of index.runs()) {
      for (const { extent } of [...run.extents, ...run.mirrorExtents]) {
        const owner = extents.owner(extent);
        if (owner !== ExtentOwner.Index) return `run ${run.id} is installed but names extent ${extent}, which is ${ExtentOwner[owner] ?? owner}@${extents.writePointer(extent)}`;
      }
    }
    return undefined;
  }
}
