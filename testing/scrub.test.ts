// Scrub: one pass reads every chunk of every committed shard (and of the
// index runs) from the media and verifies it. Checked on a node of two
// simulated disks: a flipped byte in a data chunk is reported by the key of
// its shard (even when a verified copy sits in the buffer cache), and only
// that shard; a disk failing reads makes its shards "unreadable"; a flipped
// index chunk is reported as index damage; the fleet's repair (delete or
// replace the shard) makes the next pass clean; a disk taken out during a
// pass ends that disk's pass, with nothing reported damaged; the rate
// limit holds on a virtual clock; and the fault alphabet with scrub passes
// (the disk failing part way through) never sees a false alarm or a missed
// damaged shard (testing/scrub_check.ts). Fixed seeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Clock } from '../src/base/index.js';
import { ExtentOwner } from '../src/extent/index.js';
import { RateLimiter } from '../src/store/index.js';
import type { DiskStore } from '../src/store/index.js';
import { SMALL_CONFIG } from './conformance.js';
import { checkScrubFaults } from './crash.js';
import { formatOps, valueOf } from './ops.js';
import { SimNode } from './sim_node.js';
import { VirtualClock } from './virtual_clock.js';

const KEYS = Array.from({ length: 60 }, (_, i) => Buffer.from(`shard/${String(i).padStart(3, '0')}`));

async function filledNode(seed: number, clock?: VirtualClock): Promise<SimNode> {
  const sim = await SimNode.create(SMALL_CONFIG, seed, undefined, clock);
  for (const [i, key] of KEYS.entries()) await sim.node.put(key, valueOf(100 + ((i * 731) % 9000), i));
  await sim.node.flush();
  return sim;
}

/** Flip one byte inside the first data chunk of `key`'s value, on its disk. */
async function damage(sim: SimNode, key: Buffer): Promise<void> {
  const disk = sim.node.diskOf(key);
  const store = sim.node.store(disk);
  assert.ok(store !== undefined);
  const loc = (await store.parts.index.lookup(key))?.chunks[0];
  assert.ok(loc !== undefined, 'the value has a chunk');
  sim.disks[disk]?.flipBit(store.parts.extents.diskOffset(loc.extent, loc.offset + Math.floor(loc.length / 2)), 3);
}

function storeOf(sim: SimNode, disk: number): DiskStore {
  const store = sim.node.store(disk);
  assert.ok(store !== undefined);
  return store;
}

void test('a clean node scrubs clean: every shard and index chunk verified', async () => {
  const sim = await filledNode(1);
  const r = await sim.node.scrub();
  assert.equal(r.complete, true);
  assert.deepEqual([r.counters.shardsVerified, r.counters.damagedShards, r.counters.damagedIndexChunks], [KEYS.length, 0, 0]);
  assert.ok(r.counters.indexChunksVerified > 0);
  assert.equal(sim.node.scrubTotals().shardsVerified, KEYS.length);
  await sim.node.close();
});

void test('a flipped byte is reported by the key of its shard, even with a good copy cached; delete or replace repairs it', async () => {
  const sim = await filledNode(2);
  const victim = KEYS[17];
  const other = KEYS[40];
  assert.ok(victim !== undefined && other !== undefined);
  await sim.node.get(victim); // a verified copy now sits in the cache
  await damage(sim, victim);
  await damage(sim, other);
  const r = await sim.node.scrub();
  const found = r.damaged.map((d) => `${d.key.toString()}:${d.problem}`).sort();
  assert.deepEqual(found, [`${victim.toString()}:corrupt`, `${other.toString()}:corrupt`].sort());
  assert.equal(r.counters.damagedShards, 2);
  // The fleet's repair: replace one, delete the other.
  await (await sim.node.put(victim, Buffer.from('fresh copy'))).persisted();
  await (await sim.node.delete(other)).persisted();
  const again = await sim.node.scrub();
  assert.deepEqual([again.counters.damagedShards, again.counters.shardsVerified], [0, KEYS.length - 1]);
  assert.equal((await sim.node.get(victim)).toString(), 'fresh copy');
  await sim.node.close();
});

void test('a disk failing its reads makes its shards unreadable, the other disk scrubs clean', async () => {
  const sim = await filledNode(3);
  const store = storeOf(sim, 1);
  const data = store.parts.extents.extentsOwnedBy(ExtentOwner.Data);
  const size = store.parts.extents.extentSizeBytes;
  sim.disks[1]?.failReads((offset) => data.some((e) => offset >= e * size && offset < (e + 1) * size), 'permanent');
  const r = await sim.node.scrub();
  const onDisk1 = KEYS.filter((k) => sim.node.diskOf(k) === 1).length;
  assert.equal(r.counters.damagedShards, onDisk1);
  assert.ok(r.damaged.every((d) => d.disk === 1 && d.problem === 'unreadable'));
  assert.equal(r.counters.shardsVerified, KEYS.length - onDisk1);
  sim.disks[1]?.clearFaults();
  await sim.node.close();
});

void test('a flipped index chunk is reported as index damage', async () => {
  const sim = await filledNode(4);
  const store = storeOf(sim, 0);
  const run = store.parts.index.runs()[0];
  assert.ok(run !== undefined);
  const loc = run.indexChunk;
  sim.disks[0]?.flipBit(store.parts.extents.diskOffset(loc.extent, loc.offset + 30), 0);
  const r = await sim.node.scrub();
  assert.ok(r.counters.damagedIndexChunks >= 1, JSON.stringify(r.counters));
  assert.equal(r.indexDamage[0]?.run, run.id);
  await sim.node.close();
});

void test('a disk taken out during a pass ends that disk\'s pass; nothing is reported damaged', async () => {
  // The virtual clock holds both disks' passes at their rate limit, part
  // way through; the disk leaves service while its pass waits there.
  const clock = new VirtualClock();
  const sim = await filledNode(5, clock);
  const pass = sim.node.scrub({ rateBytesPerSec: 200_000 });
  await clock.whenSleeping(2);
  await sim.node.takeOutOfService(1);
  clock.release();
  const r = await pass;
  assert.equal(r.complete, false);
  assert.deepEqual(r.errors.map((e) => [e.disk, e.code]), [[1, 'Stopped']]);
  assert.equal(r.counters.damagedShards, 0);
  const later = await sim.node.scrub();
  assert.deepEqual([later.skippedDisks, later.complete], [[1], false]);
  await sim.node.close();
});

void test('background passes: status while running, report after, one at a time', async () => {
  // The virtual clock holds the pass at its rate limit: it is still
  // running when the second start comes, whatever the machine's speed.
  const clock = new VirtualClock();
  const sim = await filledNode(6, clock);
  const first = sim.node.startScrub({ rateBytesPerSec: 2_000_000 });
  assert.equal(first.state, 'running');
  await clock.whenSleeping();
  assert.equal(sim.node.startScrub().state, 'running'); // no second pass
  assert.equal(sim.node.scrubStatus().state, 'running');
  clock.release();
  const done = await sim.node.scrubSettled();
  assert.deepEqual(done, sim.node.scrubStatus());
  assert.equal(done.state, 'done');
  assert.equal(done.passes, 1);
  assert.equal(done.last?.counters.shardsVerified, KEYS.length);
  await sim.node.close();
});

void test('the rate limiter spends bytes at its rate (virtual clock)', async () => {
  let now = 0;
  const clock: Clock = { nowMs: () => now, sleep: (ms) => ((now += ms), Promise.resolve()) };
  const limiter = new RateLimiter(1_000_000, clock);
  for (let i = 0; i < 10; i++) await limiter.take(250_000);
  assert.ok(now >= 2_499 && now <= 2_501, `2.5 MB at 1 MB/s took ${now} ms`);
  const free = new RateLimiter(0, clock);
  await free.take(1e12);
  assert.ok(now <= 2_501);
});

const SCRUB_FAULT_RUNS = Number(process.env['SCRUB_FAULT_RUNS'] ?? 200);

void test(`scrub passes in the fault alphabet: no false alarm, no missed damage, the disk failing part way (${SCRUB_FAULT_RUNS} sequences)`, async () => {
  const details = await checkScrubFaults({ seed: 9191, numRuns: SCRUB_FAULT_RUNS });
  const ce = details.counterexample?.[0];
  assert.equal(details.failed, false, `seed ${details.seed} path ${details.counterexamplePath ?? '-'}\n${String(details.errorInstance)}\n${ce === undefined ? '' : formatOps(ce)}`);
});
