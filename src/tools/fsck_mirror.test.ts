// fsck and the two copies of every LSM run (issue 11, runs). A one-disk node
// on a real file gets shards, a flush and a checkpoint, then is closed; its
// first run's chunks are damaged on the file, one copy at a time. Checks: the
// clean file passes; a flipped byte in a mirror block is a problem naming the
// run, the block and the mirror copy (exit 1), although every read is served
// by the primary; a flipped byte in the primary's index root is a problem
// naming the primary copy, and the scrub pass reports the chunk as index
// damage; in both cases every shard still reads back (the node opens and
// serves them from the good copy).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator } from '../chunk/index.js';
import { ShardNode } from '../node/index.js';
import { fsckClean, fsckDisk } from './fsck.js';

const MIB = 1024 * 1024;
const KEYS = Array.from({ length: 200 }, (_, i) => Buffer.from(`shard/${String(i).padStart(4, '0')}/${'k'.repeat(400)}`));

function flipByte(path: string, offset: number): void {
  const fd = openSync(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, offset);
    b[0] = (b[0] ?? 0) ^ 0x5a;
    writeSync(fd, b, 0, 1, offset);
  } finally {
    closeSync(fd);
  }
}

interface Built {
  readonly dir: string;
  readonly run: number;
  /** Disk offsets of the middle of: the primary's index root, the mirror's first block. */
  readonly primaryRoot: number;
  readonly mirrorBlock: number;
}

async function build(): Promise<Built> {
  const dir = mkdtempSync(join(tmpdir(), 'fsck-mirror-'));
  const node = await ShardNode.openOrCreate({ dataDir: dir, disks: 1, diskSizeBytes: 16 * MIB, extentSizeBytes: MIB });
  for (const [i, key] of KEYS.entries()) await (await node.put(key, Buffer.alloc(100 + i, i))).persisted();
  await node.flush();
  const store = node.store(0);
  assert.ok(store !== undefined);
  await store.checkpoint();
  const view = store.view;
  const run = view.runs()[0];
  assert.ok(run !== undefined, 'a run was written');
  const [primary, mirror] = await view.runCopies(run);
  const block = mirror?.blocks[0];
  assert.ok(primary !== undefined && block !== undefined);
  // Extents lie back to back from the start of the disk.
  const middle = (l: Locator): number => l.extent * view.geometry.extentSizeBytes + l.offset + Math.floor(l.length / 2);
  const built = { dir, run: run.id, primaryRoot: middle(primary.root), mirrorBlock: middle(block) };
  await node.close();
  return built;
}

async function readsBack(dir: string): Promise<void> {
  const node = await ShardNode.openOrCreate({ dataDir: dir, disks: 1, diskSizeBytes: 16 * MIB, extentSizeBytes: MIB });
  try {
    for (const [i, key] of KEYS.entries()) assert.deepEqual(await node.get(key), Buffer.alloc(100 + i, i));
  } finally {
    await node.close();
  }
}

void test('fsck reports a damaged copy of a run (exit 1) while every shard reads from the other', async () => {
  const b = await build();
  const file = join(b.dir, 'disk-0.dat');
  try {
    const clean = await fsckDisk(file, 0);
    assert.ok(fsckClean(clean), clean.problems.join('\n'));

    flipByte(file, b.mirrorBlock);
    const mirrorBad = await fsckDisk(file, 0);
    assert.equal(fsckClean(mirrorBad), false);
    assert.ok(mirrorBad.problems.some((p) => new RegExp(`^run ${b.run} block 0: mirror copy at \\d+:\\d+\\+\\d+ damaged`).test(p)), mirrorBad.problems.join('\n'));
    await readsBack(b.dir);

    flipByte(file, b.mirrorBlock); // the mirror is whole again; now the primary's index root
    flipByte(file, b.primaryRoot);
    const primaryBad = await fsckDisk(file, 0);
    assert.equal(fsckClean(primaryBad), false);
    assert.ok(primaryBad.problems.some((p) => p.startsWith(`run ${b.run}: primary copy damaged, its index (root at`)), primaryBad.problems.join('\n'));
    assert.ok(primaryBad.indexDamage.some((d) => d.run === b.run), 'scrub names the damaged index chunk');
    await readsBack(b.dir);
  } finally {
    rmSync(b.dir, { recursive: true, force: true });
  }
});
