// Broken variants caught by the conformance check (no crash needed).
import { alignUp, ChunkStore, CHUNK_ALIGN_BYTES, CHUNK_HEADER_BYTES, CHUNK_OVERHEAD_BYTES, checkChunk, parseHeader } from '../../src/chunk/index.js';
import type { ScanOptions, ScannedChunk, ScannedHead } from '../../src/chunk/index.js';
import { ExtentManager, ExtentOwner } from '../../src/extent/index.js';
import type { ExtentRecord } from '../../src/extent/index.js';
import { LsmIndex } from '../../src/index/index.js';
import { DiskStore } from '../../src/store/index.js';
import type { IndexMutation } from '../../src/index/index.js';
import { patch } from './mutant.js';
import { bentScanHeads } from './scan_heads_variant.js';
import type { Mutant } from './mutant.js';

/** The index drops deletes: a lookup that ignores tombstones resurrects the old value. */
export const indexIgnoresTombstones: Mutant = {
  name: 'index-ignores-tombstones',
  bugClass: 'lookup ignores tombstones (deleted shard comes back)',
  caughtBy: 'conformance',
  expect: /listing differs: model \[[^\]]*\] engine \[|model \{"error":"NotFound"\}, engine \{"ok"/,
  install: () =>
    patch(LsmIndex.prototype, 'apply', (original) =>
      function (this: LsmIndex, mutations: readonly IndexMutation[], seq: number): void {
        original.call(this, mutations.filter((m) => m.value !== null), seq);
      },
    ),
};

/**
 * The scan steps one alignment unit too far after a chunk that ends within
 * 64 bytes past a page boundary: the paper's "off-by-one in reclamation for
 * chunks near the page size". Both scans: reclamation's (scanHeads) and
 * metadata log replay's (scan).
 */
export const scanOffByOneNearPage: Mutant = {
  name: 'scan-off-by-one-near-page',
  bugClass: 'chunk scan off by one for chunks near the page size',
  caughtBy: 'conformance',
  expect: /extent \d+ still holds \d+ live bytes after evacuation|listing differs|: model \{.*\}, engine \{/,
  install: () => {
    const restoreHeads = patch(ChunkStore.prototype, 'scanHeads', () =>
      function (this: ChunkStore, extent: number): AsyncGenerator<ScannedHead> {
        const page = this.extents.geometry.pageSizeBytes;
        return bentScanHeads(this, extent, {
          next: (pos, length) => {
            const next = alignUp(pos + length);
            return next % page > 0 && next % page <= 64 ? next + CHUNK_ALIGN_BYTES : next;
          },
          onReadError: (err) => {
            throw err;
          },
        });
      },
    );
    const restoreScan = patch(ChunkStore.prototype, 'scan', () =>
      async function* (this: ChunkStore, extent: number, options: ScanOptions = {}): AsyncGenerator<ScannedChunk> {
        const end = this.extents.writePointer(extent);
        const page = this.extents.geometry.pageSizeBytes;
        let pos = 0;
        while (pos + CHUNK_OVERHEAD_BYTES <= end) {
          const head = await this.extents.read(extent, pos, CHUNK_HEADER_BYTES);
          const header = parseHeader(head);
          const length = header === undefined ? 0 : CHUNK_OVERHEAD_BYTES + header.payloadBytes;
          const checked = header !== undefined && pos + length <= end ? checkChunk(await this.extents.read(extent, pos, length)) : 'bad';
          if (header === undefined || typeof checked === 'string') {
            if (options.stopAtDamage === true) return;
            pos += CHUNK_ALIGN_BYTES;
            continue;
          }
          yield { locator: { extent, offset: pos, length }, kind: header.kind, payload: Buffer.from(checked.payload) };
          const next = alignUp(pos + length);
          pos = next % page > 0 && next % page <= 64 ? next + CHUNK_ALIGN_BYTES : next;
        }
      },
    );
    return () => {
      restoreScan();
      restoreHeads();
    };
  },
};

/** Write pointers are never persisted: after a reboot, data below them is out of reach. */
export const writePointerNotRecorded: Mutant = {
  name: 'write-pointer-not-recorded',
  bugClass: 'missing write-pointer update in the metadata',
  caughtBy: 'conformance',
  expect: /persistent state differs across a clean reboot: extent \d+ was \w+@\d+, is \w+@0\b/,
  install: () =>
    patch(ExtentManager.prototype, 'takeChanges', (original) =>
      function (this: ExtentManager): ExtentRecord[] {
        return original.call(this).map((r) => ({ ...r, writePointer: 0 }));
      },
    ),
};

/**
 * A reset is never recorded: the extent is free in memory (and reused), but
 * a reboot brings back its old owner and write pointer. The listing stays
 * right (the index no longer names the extent), so only a comparison of the
 * persistent state across a clean reboot sees it (issue 13: "a lost reset
 * record ... passes").
 */
export const resetNotRecorded: Mutant = {
  name: 'reset-not-recorded',
  bugClass: 'metadata not flushed after a reset (soft and hard state differ after a reboot)',
  caughtBy: 'conformance',
  expect: /persistent state differs across a clean reboot: extent \d+ was Free@0, is (Data|Index|Meta)@\d+/,
  install: () =>
    patch(ExtentManager.prototype, 'takeChanges', (original) =>
      function (this: ExtentManager): ExtentRecord[] {
        return original.call(this).filter((r) => r.owner !== ExtentOwner.Free);
      },
    ),
};

/**
 * getOwned hands out the buffer cache's own bytes (get() without the copy
 * of a cached payload): the caller's writes land in the cache, and a later
 * get returns them. The conformance check's gets through getOwned write
 * over every value they were given (conformance.ts, scribbled).
 */
export const ownedGetSharesCache: Mutant = {
  name: 'owned-get-shares-cache',
  bugClass: 'a get hands out bytes the cache still holds (the caller changes cached data)',
  caughtBy: 'conformance',
  expect: /cache entry \d+:\d+ differs from the disk/,
  install: () =>
    patch(DiskStore.prototype, 'getOwned', () =>
      function (this: DiskStore, key: Buffer): Promise<Buffer> {
        return this.get(key);
      },
    ),
};

export const ENGINE_MUTANTS: readonly Mutant[] = [indexIgnoresTombstones, scanOffByOneNearPage, writePointerNotRecorded, resetNotRecorded, ownedGetSharesCache];
