// Repair's one change to the extent table (tools/salvage.ts): after a
// recovery that skipped lost records, restore the owner and write pointer of
// every extent whose chunks the index still names, so that reads, scrub and
// reclamation see them again. It lives in the engine because it changes the
// extent manager; the tools see the engine only through DiskView.
import type { Locator } from '../chunk/index.js';
import { alignUp } from '../chunk/index.js';
import { ExtentOwner } from '../extent/index.js';
import { WALK_PAGE_KEYS } from '../index/index.js';
import type { DiskStore } from './disk_store.js';

/** Restore owners and write pointers so that every chunk the index names is inside its extent. */
export async function reattachIndexedExtents(store: DiskStore): Promise<string[]> {
  const out: string[] = [];
  const fix = (loc: Locator, owner: ExtentOwner): void => {
    const extents = store.parts.extents;
    if (loc.extent < store.parts.label.geometry.superblockExtents || loc.extent >= store.parts.label.geometry.extentCount) return;
    const now = extents.owner(loc.extent);
    const end = alignUp(loc.offset + loc.length);
    if (now !== owner && now !== ExtentOwner.Free) return; // not ours any more: the scrub reports the key
    if (now === owner && extents.writePointer(loc.extent) >= end) return;
    const writePointer = Math.max(now === owner ? extents.writePointer(loc.extent) : 0, end);
    extents.restore([{ extent: loc.extent, owner, writePointer }]);
    out.push(`extent ${loc.extent}: ${ExtentOwner[now] ?? now} -> ${ExtentOwner[owner]} up to ${writePointer}`);
  };
  const index = store.parts.index;
  for (const run of index.runs()) {
    fix(run.indexChunk, ExtentOwner.Index);
    // An unreadable run index: its blocks cannot be listed here, and the
    // scrub pass below reports the run as damaged.
    const blocks = await index.chunksOf(run).catch((err: unknown): Locator[] => {
      void err;
      return [];
    });
    for (const loc of blocks) fix(loc, ExtentOwner.Index);
  }
  let from: Buffer | undefined;
  for (;;) {
    const page = await index.scan({ ...(from === undefined ? {} : { from }), limit: WALK_PAGE_KEYS });
    for (const entry of page) for (const loc of entry.value.chunks) fix(loc, ExtentOwner.Data);
    const last = page.at(-1);
    if (page.length < WALK_PAGE_KEYS || last === undefined) break;
    from = Buffer.concat([last.key, Buffer.alloc(1)]);
  }
  return out;
}
