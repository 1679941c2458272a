// tier: quick (npm run test:quick; docs/TESTING.md)
// The errors of the commit log (src/store/commit_log.ts) that a caller or
// an operator reads: what failed, and the device error under it.
//
// Strategy: a store on a SimDisk, background work off, with writes failed
// by where they land (the owner of the extent at the time of the write):
// data extents for a put's value, index extents for the memtable flush a
// log roll needs. Fixed seeds.
//
// Invariants:
// 1. A put whose value cannot be written fails with IoError "the value
//    could not be written to disk", whose cause is the device error; the
//    store stays writable (the next put succeeds).
// 2. A log roll whose memtable flush fails makes the store read-only with
//    IoError "cannot roll the metadata log: the memtable could not be
//    written out", whose cause is the failed run write; every later
//    mutation is refused as read-only, with that reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IoError } from '../src/base/index.js';
import { ExtentOwner } from '../src/extent/index.js';
import { formatDiskStore } from '../src/store/index.js';
import type { DiskStore } from '../src/store/index.js';
import { SMALL_CONFIG, formatOptions } from './conformance.js';
import { Rng } from './rng.js';
import { SimDisk } from './sim_disk.js';

async function storeOn(label: string): Promise<{ disk: SimDisk; store: DiskStore }> {
  const disk = new SimDisk({ sizeBytes: SMALL_CONFIG.diskSizeBytes, pageSizeBytes: SMALL_CONFIG.pageSizeBytes });
  const store = await formatDiskStore(disk, formatOptions(SMALL_CONFIG, new Rng(label)));
  return { disk, store };
}

/** Writes that land in an extent of `owner` (as the store sees it when the write is issued). */
function writesTo(store: DiskStore, owner: ExtentOwner): (offset: number) => boolean {
  return (offset) => store.parts.extents.owner(Math.floor(offset / SMALL_CONFIG.extentSizeBytes)) === owner;
}

/** The error a durable put fails with, or undefined when it succeeds. */
async function putError(store: DiskStore, key: string, value: Buffer): Promise<unknown> {
  try {
    await (await store.put(Buffer.from(key), value)).persisted();
    return undefined;
  } catch (err: unknown) {
    return err;
  }
}

void test('a value that cannot be written fails its put with IoError naming it, the device error as cause', async () => {
  const { disk, store } = await storeOn('commit-errors/data');
  assert.equal(await putError(store, 'before', Buffer.alloc(500, 1)), undefined);
  const toData = writesTo(store, ExtentOwner.Data);
  disk.failWrites((offset) => toData(offset), 'once');
  const err = await putError(store, 'failed', Buffer.alloc(500, 2));
  assert.ok(err instanceof IoError, String(err));
  assert.equal(err.message, 'the value could not be written to disk');
  assert.match(String(err.cause), /injected write fault/);
  assert.equal(await putError(store, 'after', Buffer.alloc(500, 3)), undefined, 'the store stays writable');
  assert.deepEqual(await store.get(Buffer.from('after')), Buffer.alloc(500, 3));
  await store.close();
});

void test('a log roll whose memtable cannot be written out makes the store read-only with IoError naming it', async () => {
  const { disk, store } = await storeOn('commit-errors/roll');
  const toIndex = writesTo(store, ExtentOwner.Index);
  disk.failWrites((offset) => toIndex(offset), 'permanent');
  // Small puts: each record grows the log (maxLogBytes 3000) until a roll,
  // whose flush of the memtable cannot write its run.
  let failure: unknown;
  for (let i = 0; i < 200 && failure === undefined; i++) failure = await putError(store, `key-${i}`, Buffer.alloc(40, i));
  assert.ok(failure instanceof IoError, `no put failed, or not with IoError: ${String(failure)}`);
  assert.equal(failure.message, 'cannot roll the metadata log: the memtable could not be written out');
  assert.match(String(failure.cause), /injected write fault/, 'the failed run write is the cause');
  await assert.rejects(store.put(Buffer.from('later'), Buffer.alloc(10)), /read-only after a failed commit: cannot roll the metadata log/);
  store.abandon();
});
