// The scrub step of the fault alphabet (testing/crash.ts, `scrubPass`):
// one scrub pass over a DiskStore on a simulated disk, perhaps with the disk
// failing every read from some point of the pass on, checked against an
// independent look at the media.
//
// Strategy: before the pass, commit what is staged and read every chunk of
// every committed value straight from the simulated disk's image (no IO, no
// fault, no cache): the keys whose chunks do not verify are the damaged
// ones. Then run the pass.
//
// Invariants:
// 1. The pass ends (never throws, never hangs), whatever fails under it.
// 2. No false alarm: a key reported corrupt is damaged on the media; a key
//    reported unreadable only after an IO fault.
// 3. Nothing missed: every damaged key is reported (corrupt, or unreadable
//    if the disk failed), unless the pass stopped early with a typed error
//    (a damaged index run can stop the walk of the index).
import { ShardStoreError } from '../src/base/index.js';
import { checkChunk } from '../src/chunk/index.js';
import type { DiskStore } from '../src/store/index.js';
import { scrubNode } from '../src/node/index.js';
import { keyDigest } from './conformance.js';
import type { SimDisk } from './sim_disk.js';

/** Keys whose committed value has a chunk that does not verify on the media; undefined if the index cannot be walked. */
async function damagedOnMedia(store: DiskStore, disk: SimDisk): Promise<Set<string> | undefined> {
  const out = new Set<string>();
  let from: Buffer | undefined;
  try {
    for (;;) {
      const page = await store.parts.index.scan({ ...(from === undefined ? {} : { from }), limit: 256 });
      for (const { key, value } of page) {
        const bad = value.chunks.some((loc) => typeof checkChunk(disk.peek(store.parts.extents.diskOffset(loc.extent, loc.offset), loc.length)) === 'string');
        if (bad) out.add(key.toString('latin1'));
      }
      const last = page.at(-1);
      if (page.length < 256 || last === undefined) return out;
      from = Buffer.concat([last.key, Buffer.alloc(1)]);
    }
  } catch (err: unknown) {
    if (err instanceof ShardStoreError) return undefined;
    throw err;
  }
}

/**
 * Run one pass; `faulty` says an IO fault was injected before. Returns true
 * if this step made the disk fail. Calls `fail` on a broken invariant.
 */
export async function checkScrubPass(store: DiskStore, disk: SimDisk, failAfterReads: number, faulty: boolean, fail: (why: string) => never): Promise<boolean> {
  try {
    await store.log.drain();
  } catch (err: unknown) {
    if (!(faulty && err instanceof ShardStoreError)) throw err;
  }
  const expected = await damagedOnMedia(store, disk);
  let reads = 0;
  let failing = false;
  let armed = failAfterReads >= 0;
  if (armed) {
    disk.onIo((event, io) => {
      if (!armed || failing || event !== 'complete' || io.kind !== 'read' || ++reads < failAfterReads) return;
      failing = true;
      disk.failReads(() => true, 'permanent');
    });
  }
  const report = await scrubNode([{ disk: 0, store }], [], {});
  // The listener stays on the disk: disarm it, so later reads do not trip it.
  armed = false;
  const ioFaults = faulty || failing;
  for (const d of report.damaged) {
    const k = d.key.toString('latin1');
    if (d.problem === 'corrupt' && expected !== undefined && !expected.has(k)) fail(`scrub reports ${keyDigest(d.key)} corrupt, but its chunks verify on the media (${d.message})`);
    if (d.problem === 'unreadable' && !ioFaults) fail(`scrub reports ${keyDigest(d.key)} unreadable without any IO fault`);
  }
  // A pass may stop on a typed error (a damaged index run, a failing disk), never on anything else.
  for (const e of report.errors) if (e.code !== 'Corruption' && e.code !== 'Io') fail(`scrub pass stopped: ${e.code} ${e.message}`);
  if (expected !== undefined && report.errors.length === 0) {
    const reported = new Set(report.damaged.map((d) => d.key.toString('latin1')));
    for (const k of expected) if (!reported.has(k)) fail(`scrub missed damaged key ${keyDigest(Buffer.from(k, 'latin1'))}`);
  }
  return failing;
}
