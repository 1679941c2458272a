// The collector never deletes data that a durable record still names: an
// overwrite waits for its durability under the object's lock
// (Core.writeDurably; docs/S3.md, "Ordering", rule 3), so a collector pass
// for the key, started meanwhile, waits for it.
//
// Strategy: the S3 front over a node of two simulated disks. An object is
// made by a multipart upload of one part whose data lives on the other disk
// than the object's record (its part record's disk: the upload is drawn
// until it is; asserted). A second upload of the same key is opened, its
// record on the data's disk too. Then the record's disk holds its flushes,
// a PUT overwrites the object (its record staged, written, not durable),
// and the second upload is aborted: the abort schedules the collector for
// the key. Either the abort and the collector queue on the object's lock
// (the PUT holds it until durable), or they ran: the test knows which from
// the lock table's queue and the collector's idle(), without a timer. The
// data disk then commits what it has; the power is cut (each mode in turn),
// the node recovers, a fresh front serves it.
//
// Invariant: the object reads whole, byte for byte: the old version (the
// one acknowledged), or the new one (its PUT was in flight; it must be the
// new one if the PUT was answered). The broken variant
// s3-durable-after-unlock (testing/mutants/collector_mutants.ts, the order
// before b869751) is caught by the violation it causes: after 'drop-all'
// the old record is back and its data deleted, and the GET answers 503.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { objectLock } from '../src/server/s3/core.js';
import { readObject } from '../src/server/s3/objects.js';
import { dataShardKey, objectShardKey, parseUploadId, partShardKey, uploadShardKey } from '../src/server/s3/shard_keys.js';
import { SMALL_CONFIG } from './conformance.js';
import type { CrashMode } from './sim_disk.js';
import { SimNode } from './sim_node.js';
import type { Gate } from './sim_node.js';
import { serveSim as serve, stopSim as stop } from './s3_sim_front.js';
import type { SimFront as Front } from './s3_sim_front.js';
import { s3DurableAfterUnlock } from './mutants/collector_mutants.js';
import { notCaughtBecause } from './mutants/mutant.js';

const SEED = 20261207;
const BUCKET = 'collect';
const KEY = 'cross-disk';
const MODES: readonly CrashMode[] = ['drop-all', 'keep-all', 'subset', 'torn'];
/** Uploads opened, at most, to place one on the wanted disk (each lands there with probability 1/2). */
const MAX_PLACEMENT_TRIES = 40;
/** Event-loop turns, at most, before the abort has either queued on the lock or been answered and collected. */
const MAX_TURNS = 1_000_000;

/** Version n of the object: a size above the inline limit, bytes that follow from n. */
function body(n: number): Buffer {
  const out = Buffer.alloc(9_000 + n * 1_001);
  for (let i = 0; i < out.length; i++) out[i] = (n * 37 + i * 11) & 0xff;
  return out;
}

/** Open uploads of KEY until `wanted(id)`; the others are aborted. Returns the upload id. */
async function uploadPlaced(front: Front, wanted: (id: Buffer) => boolean): Promise<string> {
  for (let tries = 0; tries < MAX_PLACEMENT_TRIES; tries++) {
    const { UploadId } = await front.s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: KEY }));
    assert.ok(UploadId !== undefined);
    if (wanted(parseUploadId(UploadId))) return UploadId;
    await front.s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: KEY, UploadId }));
  }
  throw new Error(`no upload placed as wanted in ${MAX_PLACEMENT_TRIES} tries`);
}

/** An outcome of a request left running: settled or not, without an unhandled rejection. */
class Pending {
  settled: 'ok' | 'failed' | undefined;
  readonly done: Promise<void>;
  constructor(request: Promise<unknown>) {
    this.done = request.then(
      () => void (this.settled = 'ok'),
      () => void (this.settled = 'failed'),
    );
  }
}

/**
 * Wait until the abort either queued on the object's lock ('blocked') or
 * was answered and the collector it scheduled went idle ('collected').
 * Yields to the event loop between looks (no timer).
 */
async function collectorOutcome(front: Front, abort: Pending): Promise<'blocked' | 'collected'> {
  const name = objectLock(BUCKET, Buffer.from(KEY));
  for (let turn = 0; turn < MAX_TURNS; turn++) {
    if (front.core.locks.waiting(name) > 0) return 'blocked';
    if (abort.settled === 'failed') throw new Error('the abort of the second upload failed before the crash');
    if (abort.settled === 'ok') {
      await front.server.s3?.collector.idle();
      return 'collected';
    }
    await yieldToLoop();
  }
  throw new Error(`after ${MAX_TURNS} turns the abort neither queued on the lock nor was answered`);
}

interface Outcome {
  readonly violations: string[];
  /** Whether the collector ran while the overwrite was not durable (only the broken variant lets it). */
  readonly collector: 'blocked' | 'collected';
}

/** Version 0 of the object, by a multipart upload whose one part lives on the other disk than the record; returns that disk. */
async function crossDiskObject(sim: SimNode, front: Front, recordDisk: number): Promise<number> {
  const key = Buffer.from(KEY);
  const uploadId = await uploadPlaced(front, (id) => sim.node.diskOf(partShardKey(BUCKET, key, id, 1)) !== recordDisk);
  const part = await front.s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: KEY, UploadId: uploadId, PartNumber: 1, Body: body(0) }));
  await front.s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: KEY, UploadId: uploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
  const record = await readObject(front.core, BUCKET, key);
  const dataDisks = (record?.parts ?? []).map((p) => sim.node.diskOf(dataShardKey(BUCKET, key, p.version, p.part)));
  assert.deepEqual(dataDisks, [1 - recordDisk], "precondition: the object's one part lives on the other disk than its record");
  return 1 - recordDisk;
}

/** GET the object; a violation unless it is version 0 or (the PUT in flight) version 1, and version 1 if that PUT was answered. */
async function checkObject(front: Front, putAnswered: boolean): Promise<string[]> {
  let bytes: Buffer;
  try {
    const answer = await front.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY }));
    bytes = Buffer.from((await answer.Body?.transformToByteArray()) ?? new Uint8Array());
  } catch (err: unknown) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    return [`GET of the acknowledged object answered ${String(status)} ${err instanceof Error ? err.name : String(err)}`];
  }
  const version = [0, 1].find((n) => body(n).equals(bytes));
  if (version === undefined) return [`the object holds ${bytes.length} bytes that are no version written`];
  if (putAnswered && version !== 1) return ['the object holds version 0 after its overwrite was answered'];
  return [];
}

/**
 * Resolves once the overwrite's record is staged (readable) while its disk
 * holds a flush (so the record is not durable). Yields to the event loop
 * between looks (no timer).
 */
async function overwriteStaged(front: Front, gate: Gate): Promise<void> {
  const etag = createHash('md5').update(body(1)).digest('hex');
  await gate.whenHeld(1);
  for (let turn = 0; turn < MAX_TURNS; turn++) {
    const record = await readObject(front.core, BUCKET, Buffer.from(KEY));
    if (record?.etag === etag) return;
    await yieldToLoop();
  }
  throw new Error(`precondition: the overwrite is not staged after ${MAX_TURNS} turns`);
}

/** One power cut (`mode`) with an overwrite not yet durable and the collector scheduled for the key. */
async function collectDuringOverwrite(mode: CrashMode): Promise<Outcome> {
  const sim = await SimNode.create(SMALL_CONFIG, SEED);
  const key = Buffer.from(KEY);
  const recordDisk = sim.node.diskOf(objectShardKey(BUCKET, key));
  let front = await serve(sim);
  try {
    await front.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const dataDisk = await crossDiskObject(sim, front, recordDisk);
    // Its abort must be able to become durable while the record's disk holds its flushes.
    const second = await uploadPlaced(front, (id) => sim.node.diskOf(uploadShardKey(BUCKET, key, id)) === dataDisk);
    await front.server.s3?.collector.idle();
    await sim.drain();

    const gate = sim.gates[recordDisk];
    assert.ok(gate !== undefined);
    gate.holdFlushes();
    const put = new Pending(front.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: body(1) })));
    await overwriteStaged(front, gate);
    const abort = new Pending(front.s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: KEY, UploadId: second })));
    const collector = await collectorOutcome(front, abort);
    const dataStore = sim.node.store(dataDisk);
    assert.ok(dataStore !== undefined);
    await dataStore.log.drain();
    await sim.crash(mode, 7, false);
    await Promise.all([put.done, abort.done]);
    const putAnswered = put.settled === 'ok';
    await stop(front);
    front = await serve(sim);
    return { violations: (await checkObject(front, putAnswered)).map((v) => `${mode}: ${v}`), collector };
  } finally {
    await stop(front);
  }
}

void test('a collector pass during an overwrite waits for it: after a power cut the object reads whole (old or new), each crash mode', async () => {
  for (const mode of MODES) {
    const outcome = await collectDuringOverwrite(mode);
    assert.deepEqual(outcome.violations, []);
    assert.equal(outcome.collector, 'blocked', `${mode}: the abort and its collector pass wait for the overwrite's lock`);
  }
});

void test(`the test catches mutant ${s3DurableAfterUnlock.name} (${s3DurableAfterUnlock.bugClass}) by the failure it causes`, async () => {
  const restore = s3DurableAfterUnlock.install();
  let outcome: Outcome;
  try {
    outcome = await collectDuringOverwrite('drop-all');
  } finally {
    restore();
  }
  assert.equal(outcome.collector, 'collected', 'with the variant the collector runs while the overwrite is not durable');
  assert.equal(notCaughtBecause({ ...s3DurableAfterUnlock, caughtBy: 'node-crash' }, outcome.violations.join('\n')), undefined);
  console.log(`# ${s3DurableAfterUnlock.name}: ${outcome.violations[0] ?? ''}`);
});
