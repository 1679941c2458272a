// tier: quick (npm run test:quick; docs/TESTING.md)
// Exclusive access and read-only tools on simulated disks, by hand (the
// random node suites generate the same operations: access_check.ts).
// Checks: (1) a store opened read-only after a crash recovers in memory,
// answers reads, refuses every mutation with ReadOnlyError, and leaves the
// image byte-identical with no write issued, also at close (a read-write
// open of the same image writes at close: the check can tell); (2) a fixed
// node sequence: a second server and a second tool are refused naming the
// node's pid while it runs, a tool checks a disk out of service, the tools
// leave the images unchanged after a clean and a dirty stop, and the node
// still holds its shards afterwards; (3) after a crash the dead process's
// locks are stale and the node's next process takes them over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReadOnlyError } from '../src/base/index.js';
import { formatDiskStore, openDiskStore } from '../src/store/index.js';
import { SMALL_CONFIG, formatOptions } from './conformance.js';
import { NodeHarness } from './node_conformance.js';
import type { NodeOp } from './ops.js';
import { Rng } from './rng.js';
import { SimDisk } from './sim_disk.js';
import { SimNode } from './sim_node.js';

async function crashedImage(): Promise<SimDisk> {
  const disk = new SimDisk({ sizeBytes: SMALL_CONFIG.diskSizeBytes, pageSizeBytes: SMALL_CONFIG.pageSizeBytes, fillSeed: 'ro' });
  const store = await formatDiskStore(disk, formatOptions(SMALL_CONFIG, new Rng(1)));
  for (let i = 0; i < 30; i++) await (await store.put(Buffer.from(`k${i}`), Buffer.alloc(500 + i * 300, i))).persisted();
  await store.flush();
  for (let i = 30; i < 40; i++) await (await store.put(Buffer.from(`k${i}`), Buffer.alloc(200, i))).persisted();
  store.abandon();
  return disk.crash(new Rng(2), 'keep-all').disk;
}

void test('a read-only store after a crash: reads answer, mutations refused, image byte-identical, no write even at close', async () => {
  const image = await crashedImage();
  const before = image.imageDigest();
  const handle = image.clone();
  const store = await openDiskStore(handle, { ...formatOptions(SMALL_CONFIG, new Rng(3)), readOnly: true });
  assert.deepEqual(await store.get(Buffer.from('k35')), Buffer.alloc(200, 35), 'a record past the last run replays in memory');
  assert.deepEqual(await store.get(Buffer.from('k3')), Buffer.alloc(1400, 3));
  const refused = [
    () => store.put(Buffer.from('x'), Buffer.from('y')),
    () => store.delete(Buffer.from('k1')),
    () => store.flush(),
    () => store.checkpoint(),
    () => store.compact(),
    () => store.reclaim(),
  ];
  for (const call of refused) await assert.rejects(call(), ReadOnlyError);
  assert.throws(() => store.reclaimIndexExtents(), ReadOnlyError);
  await store.liveBytesReady();
  await store.close();
  assert.equal(handle.stats.writes, 0, 'no write issued');
  assert.equal(handle.imageDigest(), before, 'byte-identical');
  // The same open read-write does write at close (one commit record): the digest tells.
  const writable = image.clone();
  await (await openDiskStore(writable, formatOptions(SMALL_CONFIG, new Rng(3)))).close();
  assert.notEqual(writable.imageDigest(), before);
});

void test('a node sequence: second openers refused naming the node, tools leave the images unchanged after clean and dirty stops', async () => {
  const h = await NodeHarness.create(SMALL_CONFIG, 41);
  const ops: NodeOp[] = [
    { op: 'put', key: 1, size: 5000, fill: 1, streamed: false },
    { op: 'bulkPut', keys: [2, 3, 4, 5], size: 9000, fill: 2 },
    { op: 'secondOpen', disk: 0, readOnly: false },
    { op: 'secondOpen', disk: 1, readOnly: true },
    { op: 'diskOut', disk: 0 },
    { op: 'secondOpen', disk: 0, readOnly: true },
    { op: 'diskIn', disk: 0 },
    { op: 'offlineTools', dirty: false },
    { op: 'put', key: 6, size: 300, fill: 3, streamed: false },
    { op: 'offlineTools', dirty: true },
    { op: 'get', key: 1 },
    { op: 'get', key: 6 },
  ];
  try {
    for (const op of ops) await h.run(op);
  } finally {
    await h.close();
  }
  const answers = h.trace.map((t) => t.split(' => ')[1]);
  assert.deepEqual(answers.slice(2, 8), ['{"ok":"refused"}', '{"ok":"refused"}', '{"ok":"out"}', '{"ok":"checked"}', '{"ok":"in"}', '{"ok":"images unchanged"}']);
  assert.equal(answers[9], '{"ok":"images unchanged"}');
  assert.match(answers[10] ?? '', /^\{"ok":"5000B:/, 'the node still holds what it held before the tools ran');
});

void test('after a crash the dead process\'s locks are stale: the node\'s next process takes them over', async () => {
  const sim = await SimNode.create(SMALL_CONFIG, 43);
  await (await sim.node.put(Buffer.from('a'), Buffer.from('b'))).persisted();
  const before = sim.process.pid;
  const record = async (): Promise<string | undefined> => sim.host.locks[0]?.read('lock');
  assert.match((await record()) ?? '', new RegExp(`"pid":${before},`));
  await sim.crash('keep-all', 1, false);
  assert.notEqual(sim.process.pid, before);
  assert.match((await record()) ?? '', new RegExp(`"pid":${sim.process.pid},`), 'the new process holds the lock');
  assert.deepEqual(sim.host.locks[0]?.names(), ['lock'], 'the takeover left no claim behind');
  assert.deepEqual(await sim.node.get(Buffer.from('a')), Buffer.from('b'));
  await sim.node.close();
  assert.deepEqual(sim.host.locks.map((l) => l.names()), [[], []], 'a clean close releases every lock');
});
