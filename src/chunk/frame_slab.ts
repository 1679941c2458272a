// Memory for the frames of small chunks written through the IO scheduler.
//
// A framed chunk of a 4 KiB put (4,152 bytes) is above Node's buffer pool
// (which serves allocations below 4 KiB), so Buffer.allocUnsafe gave every
// put its own ArrayBuffer: a backing store allocated and freed per put, and
// external memory that the garbage collector counts and chases
// (docs/BENCHMARKS.md, "2026-12-07 (evening): CPU per 4 KiB put"). Frames
// are carved out of larger slabs instead. A slab lives while any frame cut
// from it is referenced: a frame is held only until its write settles
// (the IO scheduler's queue and the write call), so slabs are freed a
// commit cycle or so after they fill.
//
// REQUIRES of callers: a frame taken here is not kept beyond its write. A
// frame the buffer cache keeps (write-through: ChunkStore.whileUnsynced)
// must have its own memory, or it would hold a whole slab alive for as
// long as the cache holds the entry.
import { AssertionError } from '../base/index.js';

/**
 * Bytes of one slab: below glibc's default mmap threshold (128 KiB), so a
 * slab comes from the heap and reuses memory already touched. Above it
 * every slab is fresh pages from mmap, and its page faults cost about as
 * much as the allocations spared (measured: 256 KiB slabs 1.5-2.1 us per
 * 4 KiB frame framed, 120 KiB 0.4-0.6 us, an ArrayBuffer per frame 5.7-6.5 us).
 */
export const FRAME_SLAB_BYTES = 120 * 1024;
/** Frames start at multiples of this within a slab (chunks are 8-byte aligned: chunk_format.ts). */
const FRAME_ALIGN_BYTES = 8;

export class FrameSlab {
  private slab: Buffer = Buffer.alloc(0);
  private used = 0;
  /** Frames above this get their own allocation: a slab holds at least four. */
  private readonly maxSlabFrameBytes: number;

  /** `slabBytes`: the size of each slab (a smaller one for memory a caller may keep: DiskStore's owned copies). */
  constructor(private readonly slabBytes = FRAME_SLAB_BYTES) {
    if (!(Number.isInteger(slabBytes) && slabBytes >= 4 * FRAME_ALIGN_BYTES)) throw new AssertionError(`slab of ${slabBytes} bytes`);
    this.maxSlabFrameBytes = slabBytes / 4;
  }

  /** `bytes` of uninitialized memory for one frame; the caller writes every byte of it. */
  take(bytes: number): Buffer {
    if (!(Number.isInteger(bytes) && bytes >= 0)) throw new AssertionError(`frame of ${bytes} bytes`);
    if (bytes > this.maxSlabFrameBytes) return Buffer.allocUnsafe(bytes);
    if (this.used + bytes > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(this.slabBytes);
      this.used = 0;
    }
    const frame = this.slab.subarray(this.used, this.used + bytes);
    this.used += Math.ceil(bytes / FRAME_ALIGN_BYTES) * FRAME_ALIGN_BYTES;
    return frame;
  }
}
