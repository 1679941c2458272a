// A plain ChunkStore.scanHeads for broken variants to bend: one read of each
// header, one of each chunk, no window. A variant passes how to step past a
// chunk (`next`) and what an IO error does (`onReadError`: return the next
// position to try, or rethrow). Reclamation scans with scanHeads, and
// metadata log replay and the last verifying pass with scan, so a variant
// of "the scan" patches both (engine_mutants.ts, fault_mutants.ts).
import { CorruptionError } from '../../src/base/index.js';
import { CHUNK_ALIGN_BYTES, CHUNK_HEADER_BYTES, CHUNK_OVERHEAD_BYTES, SCAN_HEAD_BYTES, alignUp, checkChunk, parseHeader } from '../../src/chunk/index.js';
import type { ChunkStore, ScannedHead } from '../../src/chunk/index.js';

export interface ScanHeadsBend {
  /** Where the next chunk is looked for after one at `pos` of `length` bytes. */
  next(pos: number, length: number): number;
  /** A read failed at `pos`: the next position to try, or throw. */
  onReadError(err: unknown, pos: number): number;
}

export async function* bentScanHeads(store: ChunkStore, extent: number, bend: ScanHeadsBend): AsyncGenerator<ScannedHead> {
  const end = store.extents.writePointer(extent);
  let pos = 0;
  while (pos + CHUNK_OVERHEAD_BYTES <= end) {
    let found: ScannedHead | undefined;
    try {
      const header = parseHeader(await store.extents.read(extent, pos, CHUNK_HEADER_BYTES));
      const length = header === undefined ? 0 : CHUNK_OVERHEAD_BYTES + header.payloadBytes;
      if (header !== undefined && pos + length <= end) {
        const bytes = await store.extents.read(extent, pos, length);
        const where = `${extent}:${pos}`;
        found = {
          locator: { extent, offset: pos, length },
          kind: header.kind,
          head: bytes.subarray(CHUNK_HEADER_BYTES, CHUNK_HEADER_BYTES + Math.min(header.payloadBytes, SCAN_HEAD_BYTES)),
          payloadBytes: header.payloadBytes,
          payload: () => {
            const checked = checkChunk(bytes);
            return typeof checked === 'string' ? Promise.reject(new CorruptionError(`chunk at ${where}: ${checked}`)) : Promise.resolve(checked.payload);
          },
        };
      }
    } catch (err: unknown) {
      pos = bend.onReadError(err, pos);
      continue;
    }
    if (found === undefined) {
      pos += CHUNK_ALIGN_BYTES;
      continue;
    }
    yield found;
    pos = bend.next(pos, found.locator.length);
  }
}

/** The step of a correct scan. */
export const nextAligned = (pos: number, length: number): number => alignUp(pos + length);
