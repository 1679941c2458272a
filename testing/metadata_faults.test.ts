// Metadata damage: bit flips and unreadable sectors in the label, the
// checkpoint slots, metadata-log records, run blocks and run index chunks,
// after clean and dirty reboots (testing/metadata_faults.ts). Fixed seeds of
// the `metadata-faults` suite of `shardstore check`, and the pieces the
// suite stands on: finding every metadata structure from the store's own
// state, page-granular unreadable sectors, fsck on a simulated disk.
//
// The first test fails until the metadata is redundant (one copy of each
// structure today: a flipped log record loses the acknowledged keys after
// it, silently); it is meant to pass once the mirrored log, checkpoints,
// label and runs are merged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fsckClean } from '../src/tools/fsck.js';
import { formatDiskStore, openDiskStore } from '../src/store/index.js';
import { SMALL_CONFIG, formatOptions } from './conformance.js';
import { metaFaultsSuite } from './check/metadata_faults_suite.js';
import { SEQUENCES_PER_SEED } from './check/sequence_suite.js';
import { fsckSimDisk } from './metadata_faults.js';
import { META_TARGETS, locateMetadata } from './metadata_sites.js';
import { keyOf, valueOf } from './ops.js';
import { Rng } from './rng.js';
import { SimDisk } from './sim_disk.js';
import { runSeeds } from './suite_runner.js';

const SEQUENCES = Number(process.env['METADATA_FAULT_RUNS'] ?? 60);

test(`no acknowledged value silently lost over ${SEQUENCES} sequences with metadata damage`, async () => {
  const outcome = await runSeeds(metaFaultsSuite, 4_000_000, Math.ceil(SEQUENCES / SEQUENCES_PER_SEED));
  assert.equal(outcome.failure, undefined, outcome.failure);
  assert.ok(outcome.counters.faultsInjected > SEQUENCES / 2, `only ${outcome.counters.faultsInjected} episodes damaged something`);
});

/** A store with every kind of metadata: runs (flushed and compacted), a rolled log with records after the checkpoint. */
async function storeWithMetadata(): Promise<SimDisk> {
  const disk = new SimDisk({ sizeBytes: SMALL_CONFIG.diskSizeBytes, pageSizeBytes: SMALL_CONFIG.pageSizeBytes, fillSeed: 5 });
  const store = await formatDiskStore(disk, formatOptions(SMALL_CONFIG, new Rng(5)));
  for (let round = 0; round < 4; round++) {
    for (let k = 0; k < 6; k++) await store.put(keyOf(k), valueOf(100 + k, round));
    await store.flush();
  }
  await store.compact();
  await store.checkpoint();
  for (let k = 0; k < 3; k++) await (await store.put(keyOf(k), valueOf(50, 9))).persisted();
  await store.delete(keyOf(4));
  await store.close();
  return disk.clone();
}

test('every metadata structure is found, each copy inside the written bytes of its extent', async () => {
  // The suite would pass vacuously if it found nothing to damage: on a
  // store that has flushed, compacted, checkpointed and logged after the
  // checkpoint, every target kind must be found, and each copy must lie in
  // the superblock extents or below its extent's write pointer.
  const image = await storeWithMetadata();
  const probe = await openDiskStore(image.clone(), formatOptions(SMALL_CONFIG, new Rng(6)));
  try {
    const structures = await locateMetadata(probe, image);
    for (const target of META_TARGETS) {
      assert.ok(structures.some((s) => s.target === target && s.copies.length > 0), `no ${target} found`);
    }
    const g = probe.label.geometry;
    for (const s of structures) {
      for (const c of s.copies) {
        const extent = Math.floor(c.offset / g.extentSizeBytes);
        const end = extent < g.superblockExtents ? g.superblockExtents * g.extentSizeBytes : extent * g.extentSizeBytes + probe.parts.extents.writePointer(extent);
        assert.ok(c.length > 0 && c.offset + c.length <= end, `${c.what} lies beyond the written bytes (ends ${c.offset + c.length}, limit ${end})`);
      }
    }
    assert.equal(structures.filter((s) => s.target === 'log-last').length, 1, 'exactly one last log record');
  } finally {
    probe.abandon();
  }
});

test('an unreadable page fails every read touching it, only it, and stays on clones and crash images', async () => {
  const disk = new SimDisk({ sizeBytes: 64 * 1024, pageSizeBytes: 4096 });
  await disk.write(0, Buffer.alloc(3 * 4096, 7));
  await disk.flush();
  disk.failPageReads(4096 + 100);
  await assert.rejects(disk.read(4096, 1), /injected read fault/);
  await assert.rejects(disk.read(4000, 200), /injected read fault/);
  assert.equal((await disk.read(0, 4096)).length, 4096);
  assert.equal((await disk.read(8192, 4096)).length, 4096);
  await assert.rejects(disk.clone().read(8191, 1), /injected read fault/);
  await assert.rejects(disk.crash(new Rng(1), 'keep-all').disk.read(5000, 10), /injected read fault/);
});

test('fsck on a simulated image: clean when undamaged, not clean with a damaged run block', async () => {
  // The suite's fsck verdicts are only worth something if fsck really runs
  // on the simulated disk: an undamaged image is clean, the same image with
  // an unreadable run block is not.
  const image = await storeWithMetadata();
  const clean = await fsckSimDisk(image.clone());
  assert.ok(clean.value !== undefined && fsckClean(clean.value), JSON.stringify(clean.value?.problems ?? clean.threw));
  const probe = await openDiskStore(image.clone(), formatOptions(SMALL_CONFIG, new Rng(6)));
  const block = (await locateMetadata(probe, image)).find((s) => s.target === 'run-block')?.copies[0];
  probe.abandon();
  assert.ok(block !== undefined);
  const damaged = image.clone();
  damaged.failPageReads(block.offset);
  const found = await fsckSimDisk(damaged);
  assert.ok(found.value !== undefined && !fsckClean(found.value), `fsck said clean with ${block.what} unreadable`);
});
