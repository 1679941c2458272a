// A node on real data files whose disks leave and return to service:
// a data file missing or unreadable at open, or belonging to another node
// or slot, leaves that disk out of service (its keys Unavailable, never
// NotFound, never routed elsewhere; listings say they are incomplete)
// instead of failing the whole node; once the file is back, returning the
// disk to service reopens it with full recovery and every shard is there,
// including after a restart with the disk kept out. Files in a temporary
// folder; values fixed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, openSync, renameSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IoError, UnavailableError } from '../base/index.js';
import { ShardNode } from './index.js';
import type { NodeOpenOptions } from './index.js';

const MiB = 1024 * 1024;
const KEYS = Array.from({ length: 40 }, (_, i) => Buffer.from(`k/${i}`));

function options(dataDir: string, extra: Partial<NodeOpenOptions> = {}): NodeOpenOptions {
  return { dataDir, disks: 2, diskSizeBytes: 64 * MiB, extentSizeBytes: MiB, ...extra };
}

async function createNode(dataDir: string): Promise<void> {
  const node = await ShardNode.openOrCreate(options(dataDir));
  // Half flushed into index runs, half only in the metadata log: recovery needs both.
  for (const [i, key] of KEYS.entries()) {
    await (await node.put(key, Buffer.from(`value ${i}`))).persisted();
    if (i === KEYS.length / 2) await node.flush();
  }
  await node.close();
}

async function checkAll(node: ShardNode): Promise<void> {
  for (const [i, key] of KEYS.entries()) assert.equal((await node.get(key)).toString(), `value ${i}`);
  assert.equal((await node.list({})).shards.length, KEYS.length);
}

async function checkDiskOut(node: ShardNode, disk: number): Promise<void> {
  for (const [i, key] of KEYS.entries()) {
    if (node.diskOf(key) === disk) await assert.rejects(node.get(key), UnavailableError);
    else assert.equal((await node.get(key)).toString(), `value ${i}`);
  }
  await assert.rejects(node.list({}), UnavailableError);
  const partial = await node.listAvailable({});
  assert.deepEqual(partial.unavailableDisks, [disk]);
  assert.equal(partial.shards.length, KEYS.filter((k) => node.diskOf(k) !== disk).length);
  await assert.rejects(node.put(KEYS.find((k) => node.diskOf(k) === disk) ?? Buffer.from('x'), Buffer.from('no')), UnavailableError);
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'shardstore-open-'));
}

void test('a missing data file leaves its disk out of service; it returns once the file is back', async () => {
  const dir = tmp();
  try {
    await createNode(dir);
    renameSync(join(dir, 'disk-1.dat'), join(dir, 'away.dat'));
    const node = await ShardNode.openOrCreate(options(dir));
    assert.match(node.disks()[1]?.reason ?? '', /missing/);
    await checkDiskOut(node, 1);
    await assert.rejects(node.returnToService(1), IoError);
    assert.equal(node.disks()[1]?.state, 'out-of-service');
    renameSync(join(dir, 'away.dat'), join(dir, 'disk-1.dat'));
    await node.returnToService(1);
    await checkAll(node);
    await node.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('an unreadable data file, or one of another node, is out of service; the rest of the node serves', async () => {
  const dir = tmp();
  const other = tmp();
  try {
    await createNode(dir);
    await createNode(other);
    copyFileSync(join(dir, 'disk-0.dat'), join(dir, 'saved.dat'));
    const fd = openSync(join(dir, 'disk-0.dat'), 'r+');
    writeSync(fd, Buffer.alloc(64 * 1024, 0xa5), 0, 64 * 1024, 0);
    closeSync(fd);
    const node = await ShardNode.openOrCreate(options(dir));
    assert.match(node.disks()[0]?.reason ?? '', /did not open/);
    await checkDiskOut(node, 0);
    // A file of another node in its place does not return to service either.
    copyFileSync(join(other, 'disk-0.dat'), join(dir, 'disk-0.dat'));
    await assert.rejects(node.returnToService(0), /another node/);
    copyFileSync(join(dir, 'saved.dat'), join(dir, 'disk-0.dat'));
    await node.returnToService(0);
    await checkAll(node);
    await node.close();
    // At open, the stranger is out of service too.
    copyFileSync(join(other, 'disk-1.dat'), join(dir, 'disk-1.dat'));
    const again = await ShardNode.openOrCreate(options(dir));
    assert.match(again.disks()[1]?.reason ?? '', /another node/);
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(other, { recursive: true, force: true });
  }
});

void test('a disk kept out across a restart returns with every shard; taking out and returning is idempotent', async () => {
  const dir = tmp();
  try {
    await createNode(dir);
    const node = await ShardNode.openOrCreate(options(dir));
    await node.takeOutOfService(1, 'replacing a cable');
    await node.takeOutOfService(1);
    assert.deepEqual(node.disks()[1], { disk: 1, path: join(dir, 'disk-1.dat'), state: 'out-of-service', reason: 'replacing a cable' });
    await checkDiskOut(node, 1);
    await node.close();
    const restarted = await ShardNode.openOrCreate(options(dir, { outOfService: [1] }));
    await checkDiskOut(restarted, 1);
    await restarted.returnToService(1);
    await restarted.returnToService(1);
    await checkAll(restarted);
    await restarted.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('opening without create fails when no data file exists, and when no disk opens', async () => {
  const dir = tmp();
  try {
    await assert.rejects(ShardNode.openOrCreate(options(dir, { create: false })), /no data file/);
    await createNode(dir);
    // The label is kept twice (pages 0 and 1): losing the first copy alone
    // does not stop a disk from opening; losing both does.
    const zeroPages = (pages: readonly number[]): void => {
      for (const f of ['disk-0.dat', 'disk-1.dat']) {
        const fd = openSync(join(dir, f), 'r+');
        for (const p of pages) writeSync(fd, Buffer.alloc(4096), 0, 4096, p * 4096);
        closeSync(fd);
      }
    };
    zeroPages([0]);
    const survivor = await ShardNode.openOrCreate(options(dir));
    assert.equal(survivor.nodeStats().disksInService, 2);
    await survivor.close();
    zeroPages([0, 1]);
    await assert.rejects(ShardNode.openOrCreate(options(dir)), /no disk of the node could be opened/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
