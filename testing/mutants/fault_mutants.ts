// Broken variants caught by the fault-injection check.
import { CorruptionError } from '../../src/base/index.js';
import { alignUp, ChunkStore, CHUNK_ALIGN_BYTES, CHUNK_HEADER_BYTES, CHUNK_OVERHEAD_BYTES, checkChunk, parseHeader } from '../../src/chunk/index.js';
import type { ChunkKind, Locator, ScanOptions, ScannedChunk, ScannedHead } from '../../src/chunk/index.js';
import { patch } from './mutant.js';
import { bentScanHeads, nextAligned } from './scan_heads_variant.js';
import type { Mutant } from './mutant.js';

/**
 * The scan treats a failed read as the end of the damaged region and moves
 * on: reclamation then forgets the live chunks it could not read (the
 * paper's "reclamation forgetting chunks after a transient read error").
 */
export const scanSkipsReadErrors: Mutant = {
  name: 'scan-skips-read-errors',
  bugClass: 'reclamation forgets chunks after a transient read error',
  caughtBy: 'faults',
  expect: /extent \d+ still holds \d+ live bytes after evacuation/,
  install: () => {
    const restoreHeads = patch(ChunkStore.prototype, 'scanHeads', () =>
      function (this: ChunkStore, extent: number): AsyncGenerator<ScannedHead> {
        const page = this.extents.geometry.pageSizeBytes;
        return bentScanHeads(this, extent, {
          next: nextAligned,
          // The bug: an unreadable stretch is taken for an empty one.
          onReadError: (_err, pos) => pos + page,
        });
      },
    );
    const restoreScan = patch(ChunkStore.prototype, 'scan', () =>
      async function* (this: ChunkStore, extent: number, options: ScanOptions = {}): AsyncGenerator<ScannedChunk> {
        const end = this.extents.writePointer(extent);
        let pos = 0;
        while (pos + CHUNK_OVERHEAD_BYTES <= end) {
          let found: ScannedChunk | undefined;
          try {
            const header = parseHeader(await this.extents.read(extent, pos, CHUNK_HEADER_BYTES));
            const length = header === undefined ? 0 : CHUNK_OVERHEAD_BYTES + header.payloadBytes;
            const checked = header !== undefined && pos + length <= end ? checkChunk(await this.extents.read(extent, pos, length)) : 'bad';
            if (header !== undefined && typeof checked !== 'string') {
              found = { locator: { extent, offset: pos, length }, kind: header.kind, payload: Buffer.from(checked.payload) };
            }
          } catch (err: unknown) {
            void err; // the bug: an unreadable stretch is taken for an empty one
            pos += this.extents.geometry.pageSizeBytes;
            continue;
          }
          if (found === undefined) {
            if (options.stopAtDamage === true) return;
            pos += CHUNK_ALIGN_BYTES;
            continue;
          }
          yield found;
          pos = alignUp(pos + found.locator.length);
        }
      },
    );
    return () => {
      restoreScan();
      restoreHeads();
    };
  },
};

/**
 * Reads check the header but not the payload checksum: a flipped bit comes
 * back as data. Patched where every chunk read from the disk is verified
 * (ChunkStore.readFromDisk, behind read and readHandOver), so gets through
 * getOwned skip the check too.
 */
export const readSkipsPayloadChecksum: Mutant = {
  name: 'read-skips-payload-checksum',
  bugClass: 'corruption not detected on read (wrong bytes returned)',
  caughtBy: 'faults',
  expect: /key \S+ holds \d+B, allowed: /,
  install: () =>
    patch(
      ChunkStore.prototype as unknown as { readFromDisk: (loc: Locator, kind: ChunkKind) => Promise<Buffer> },
      'readFromDisk',
      () =>
        async function (this: ChunkStore, loc: Locator, kind: ChunkKind): Promise<Buffer> {
          const buf = await this.extents.read(loc.extent, loc.offset, loc.length);
          const header = parseHeader(buf);
          if (header === undefined || header.kind !== kind) throw new CorruptionError(`chunk at ${loc.extent}:${loc.offset}: bad header`);
          return buf.subarray(CHUNK_HEADER_BYTES, CHUNK_HEADER_BYTES + header.payloadBytes);
        },
      2,
    ),
};

export const FAULT_MUTANTS: readonly Mutant[] = [scanSkipsReadErrors, readSkipsPayloadChecksum];
