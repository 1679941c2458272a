// Puts committed together (TogetherApi: DiskStore.prepare / putTogether,
// CommitLog.stageTogether), what the S3 front's one-step PUT rests on.
//
// Strategy: a store on a SimDisk. A value is prepared from a stream (three
// data chunks), then put together with a small whole value; flushes and
// records are counted; a write fault is injected on the data writes of the
// group's second put. Crashes with a group in flight are the crash
// suite's (testing/crash.ts, `during: 'putTogether'`).
//
// Invariants:
// 1. A prepared value is invisible until staged; once it is staged, the
//    group costs one metadata record and one flush (the prepared value's
//    last chunk goes out in the commit's batch), and both puts are
//    durable after it.
// 2. A failed data write of one put fails every put of the group: none is
//    readable, and the store stays writable.
// 3. putTogether refuses a value prepared for another key, or released,
//    or a prepared value asked to be read back (readBack: its chunks are
//    written already).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShardStoreError } from '../src/base/index.js';
import { ExtentOwner } from '../src/extent/index.js';
import { formatDiskStore } from '../src/store/index.js';
import type { DiskStore } from '../src/store/index.js';
import { SMALL_CONFIG, formatOptions } from './conformance.js';
import { pieces } from './migration_streams.js';
import { Rng } from './rng.js';
import { SimDisk } from './sim_disk.js';
import { togetherFailsAlone } from './mutants/together_mutants.js';

const DATA_KEY = Buffer.from('data');
const RECORD_KEY = Buffer.from('record');
/** Three data chunks of SMALL_CONFIG (6000 data bytes each). */
const DATA = Buffer.alloc(15_000, 7);
const RECORD = Buffer.from('names the data');

async function newStore(name: string): Promise<{ disk: SimDisk; store: DiskStore }> {
  const disk = new SimDisk({ sizeBytes: SMALL_CONFIG.diskSizeBytes, pageSizeBytes: SMALL_CONFIG.pageSizeBytes });
  const store = await formatDiskStore(disk, { ...formatOptions(SMALL_CONFIG, new Rng(`put-together/${name}`)), maxLogBytes: 32 * 1024, memtableFlushBytes: 32 * 1024 });
  return { disk, store };
}

async function valueOrCode(store: DiskStore, key: Buffer): Promise<Buffer | string> {
  try {
    return await store.get(key);
  } catch (err: unknown) {
    if (err instanceof ShardStoreError) return err.code;
    throw err;
  }
}

void test('puts together: invisible until staged, then one record and one flush for both', async () => {
  const { disk, store } = await newStore('one-cycle');
  await (await store.put(Buffer.from('warm-up'), Buffer.alloc(10))).persisted();
  const prepared = await store.prepare(DATA_KEY, pieces(DATA, 3));
  assert.equal(prepared.sizeBytes, DATA.length);
  assert.equal(await valueOrCode(store, DATA_KEY), 'NotFound');
  // The first chunks went out (and were flushed) as the stream came; the last waits for the commit.
  await store.parts.io.idle();
  const [flushes, records] = [disk.stats.flushes, store.log.counters.records];
  const dependency = await store.putTogether([{ key: DATA_KEY, value: prepared }, { key: RECORD_KEY, value: RECORD }]);
  await dependency.persisted();
  assert.equal(disk.stats.flushes - flushes, 1, 'one flush for the group');
  assert.equal(store.log.counters.records - records, 1, 'one metadata record for the group');
  assert.deepEqual(await store.get(DATA_KEY), DATA);
  assert.deepEqual(await store.get(RECORD_KEY), RECORD);
  await store.close();
});

/**
 * Prepare DATA, then put it together with RECORD, failing RECORD's data
 * write: the second data write from here (DATA's last chunk goes first,
 * then RECORD's, after it in the extent, so DATA lies wholly below the
 * hole and would commit on its own).
 */
async function groupWithFailedWrite(store: DiskStore, disk: SimDisk): Promise<unknown> {
  const prepared = await store.prepare(DATA_KEY, pieces(DATA, 5));
  await store.parts.io.idle();
  const size = SMALL_CONFIG.extentSizeBytes;
  const dataExtents = new Set(store.parts.extents.extentsOwnedBy(ExtentOwner.Data));
  let dataWrites = 0;
  disk.failWrites((offset) => dataExtents.has(Math.floor(offset / size)) && ++dataWrites === 2, 'once');
  const dependency = await store.putTogether([{ key: DATA_KEY, value: prepared }, { key: RECORD_KEY, value: RECORD }]);
  return dependency.persisted().then(
    () => 'durable',
    (err: unknown) => err,
  );
}

void test('a failed data write fails every put of the group; the store stays writable', async () => {
  const { disk, store } = await newStore('failed-write');
  const outcome = await groupWithFailedWrite(store, disk);
  assert.ok(outcome instanceof ShardStoreError && outcome.code === 'Io', `the group failed with Io, got ${String(outcome)}`);
  assert.equal(await valueOrCode(store, RECORD_KEY), 'NotFound', 'the put whose write failed is not there');
  assert.equal(await valueOrCode(store, DATA_KEY), 'NotFound', 'nor is the put staged with it');
  await (await store.put(Buffer.from('after'), Buffer.alloc(100, 1))).persisted();
  assert.deepEqual(await store.get(Buffer.from('after')), Buffer.alloc(100, 1));
  await store.close();
});

void test(`the same failure with mutant ${togetherFailsAlone.name} commits the other put alone`, async () => {
  // The negative space of the test above: without the group, the prepared
  // value (whose own writes landed) commits although its partner failed.
  const restore = togetherFailsAlone.install();
  try {
    const { disk, store } = await newStore('failed-write-mutant');
    await groupWithFailedWrite(store, disk);
    assert.deepEqual(await store.get(DATA_KEY), DATA);
    await store.close();
  } finally {
    restore();
  }
});

void test('putTogether refuses a value prepared for another key, or given up, or asked to be read back', async () => {
  const { store } = await newStore('refusals');
  const prepared = await store.prepare(DATA_KEY, DATA);
  await assert.rejects(store.putTogether([{ key: RECORD_KEY, value: prepared }]), /prepared elsewhere, for another key, or already given up/);
  const released = await store.prepare(DATA_KEY, DATA);
  released.release();
  await assert.rejects(store.putTogether([{ key: DATA_KEY, value: released }]), /already given up/);
  await assert.rejects(store.putTogether([{ key: DATA_KEY, value: DATA }, { key: DATA_KEY, value: DATA }]), /the same key twice/);
  // readBack is a cache policy for a value written by putTogether; a prepared value's chunks are written already.
  const readBack = await store.prepare(DATA_KEY, DATA);
  await assert.rejects(store.putTogether([{ key: DATA_KEY, value: readBack, readBack: true }]), /readBack asked for a prepared value/);
  assert.equal(await valueOrCode(store, DATA_KEY), 'NotFound');
  await store.close();
});
