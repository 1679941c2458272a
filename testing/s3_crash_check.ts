// The S3 collector against power cuts: a collector pass for a key runs
// while a change of that key (an overwrite or a delete) is staged and not
// yet durable, the disks commit what they may, the power is cut. The gap
// this closes: no other check ran the collector concurrently with a change
// of an object whose data lives on another disk than its record, then
// crashed (node-crash has no S3 front; the http check never crashes;
// testing/s3_put_crash.test.ts has only objects whose data shares the
// record's disk, where the disk's one log keeps the order).
//
// Strategy: each episode, drawn from the seed (drawEpisode), builds the S3
// front over a node of two simulated disks and makes one object: by a
// multipart upload of one part whose data lands on the other disk than the
// record, or on the same disk, or by a PUT (the upload is drawn until it
// lands as asked; asserted). One disk (the record's, or the other) then
// holds its flushes; the change is sent and waited for until staged (the
// record as the change leaves it is readable); then the collector is
// scheduled for the key through a public path (the abort of another upload
// of the key, or a part of it uploaded again: both schedule it), and the
// episode waits until that request queued on the object's lock behind the
// change, or was answered and the collector went idle: known from the lock
// table and Collector.idle(), never from a timer. The disk not holding
// commits what it has, the power is cut (the episode's mode), the node
// recovers, a fresh front serves it.
//
// Invariant: the object reads whole, byte for byte: as acknowledged before
// the change, or as the change left it (its request was in flight), and as
// the change left it if that request was answered.
//
// The broken variant s3-durable-after-unlock (testing/mutants/
// collector_mutants.ts) is caught: "GET of the acknowledged object answered
// 503 SlowDown" (the old record back, its data deleted).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { objectLock } from '../src/server/s3/core.js';
import { readObject } from '../src/server/s3/objects.js';
import { dataShardKey, objectShardKey, parseUploadId, partShardKey, uploadShardKey } from '../src/server/s3/shard_keys.js';
import { SMALL_CONFIG } from './conformance.js';
import type { Rng } from './rng.js';
import { CRASH_MODES } from './sim_disk.js';
import type { CrashMode } from './sim_disk.js';
import { SimNode } from './sim_node.js';
import type { Gate } from './sim_node.js';
import { serveSim, stopSim } from './s3_sim_front.js';
import type { SimFront } from './s3_sim_front.js';

const BUCKET = 'collect';
const KEY = 'cross-disk';
/** Uploads opened, at most, to place one on the wanted disk (each lands there with probability 1/2). */
const MAX_PLACEMENT_TRIES = 64;
/** Event-loop turns, at most, for the change to be staged, or for the trigger to queue or be collected. */
const MAX_TURNS = 1_000_000;

export const SHAPES = ['multipart-other-disk', 'multipart-same-disk', 'put'] as const;
export const CHANGES = ['put', 'delete'] as const;
export const TRIGGERS = ['abort-upload', 'replace-part'] as const;
export const HOLDS = ['record-disk', 'other-disk'] as const;

/** One episode: everything the seed fixes. */
export interface Episode {
  /** How the object was made: where its data lives against its record. */
  readonly shape: (typeof SHAPES)[number];
  /** The change in flight at the crash. */
  readonly change: (typeof CHANGES)[number];
  /** The public path that schedules the collector for the key meanwhile. */
  readonly trigger: (typeof TRIGGERS)[number];
  /** Which disk holds its flushes while the change is in flight. */
  readonly hold: (typeof HOLDS)[number];
  readonly mode: CrashMode;
  readonly simSeed: number;
}

export interface EpisodeOutcome {
  readonly violations: string[];
  /** Whether the trigger queued on the lock behind the change, or ran and its collector pass ended. */
  readonly collector: 'blocked' | 'collected';
}

export function drawEpisode(rng: Rng): Episode {
  return {
    shape: rng.pick(SHAPES),
    change: rng.pick(CHANGES),
    trigger: rng.pick(TRIGGERS),
    // The record's disk mostly: holding it is what leaves a change staged and not durable.
    hold: rng.bool(0.75) ? 'record-disk' : 'other-disk',
    mode: rng.pick(CRASH_MODES),
    simSeed: rng.int(1, 0x7fffffff),
  };
}

export function describeEpisode(e: Episode): string {
  return `${e.shape} object, ${e.change} in flight with the ${e.hold} holding its flushes, collector scheduled by ${e.trigger}, crash ${e.mode}, sim seed ${e.simSeed}`;
}

/** Version n of the object: a size above the inline limit, bytes that follow from n. */
export function objectBody(n: number): Buffer {
  const out = Buffer.alloc(9_000 + n * 1_001);
  for (let i = 0; i < out.length; i++) out[i] = (n * 37 + i * 11) & 0xff;
  return out;
}

const etagOf = (bytes: Buffer): string => createHash('md5').update(bytes).digest('hex');

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

/** Open uploads of KEY until `wanted(id)`; the others are aborted. Returns the upload id. */
async function uploadPlaced(front: SimFront, wanted: (id: Buffer) => boolean): Promise<string> {
  for (let tries = 0; tries < MAX_PLACEMENT_TRIES; tries++) {
    const { UploadId } = await front.s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: KEY }));
    assert.ok(UploadId !== undefined);
    if (wanted(parseUploadId(UploadId))) return UploadId;
    await front.s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: KEY, UploadId }));
  }
  throw new Error(`no upload placed as wanted in ${MAX_PLACEMENT_TRIES} tries`);
}

/** Version 0 of the object, made as `shape` says; asserts where its data landed. */
async function makeObject(sim: SimNode, front: SimFront, shape: Episode['shape'], recordDisk: number): Promise<void> {
  const key = Buffer.from(KEY);
  if (shape === 'put') {
    await front.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: objectBody(0) }));
  } else {
    const wantedDisk = shape === 'multipart-other-disk' ? 1 - recordDisk : recordDisk;
    const uploadId = await uploadPlaced(front, (id) => sim.node.diskOf(partShardKey(BUCKET, key, id, 1)) === wantedDisk);
    const part = await front.s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: KEY, UploadId: uploadId, PartNumber: 1, Body: objectBody(0) }));
    await front.s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: KEY, UploadId: uploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    const record = await readObject(front.core, BUCKET, key);
    const dataDisks = (record?.parts ?? []).map((p) => sim.node.diskOf(dataShardKey(BUCKET, key, p.version, p.part)));
    assert.deepEqual(dataDisks, [wantedDisk], `precondition: the ${shape} object's one part lives on disk ${wantedDisk} (record on ${recordDisk})`);
  }
}

/** Yield to the event loop until `done()`; throws after MAX_TURNS (no timer). */
async function turnsUntil<T>(what: string, done: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (let turn = 0; turn < MAX_TURNS; turn++) {
    const value = await done();
    if (value !== undefined) return value;
    await yieldToLoop();
  }
  throw new Error(`after ${MAX_TURNS} event-loop turns: ${what}`);
}

/** The change is staged: the record reads as the change leaves it. */
async function changeStaged(front: SimFront, change: Episode['change']): Promise<void> {
  const wanted = change === 'put' ? etagOf(objectBody(1)) : undefined;
  await turnsUntil(`the ${change} is not staged`, async () => ((await readObject(front.core, BUCKET, Buffer.from(KEY)))?.etag === wanted ? true : undefined));
}

/**
 * A second upload of the key, placed so that what the trigger writes (the
 * deletion of its upload record, which has no parts; or a new record of
 * its part 1, uploaded here) lands on the disk not holding: with the
 * variant, the trigger completes.
 */
async function secondUpload(sim: SimNode, front: SimFront, trigger: Episode['trigger'], heldDisk: number): Promise<string> {
  const key = Buffer.from(KEY);
  const uploadId = await uploadPlaced(front, (id) => sim.node.diskOf(trigger === 'abort-upload' ? uploadShardKey(BUCKET, key, id) : partShardKey(BUCKET, key, id, 1)) !== heldDisk);
  if (trigger === 'replace-part') await front.s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: KEY, UploadId: uploadId, PartNumber: 1, Body: objectBody(2) }));
  return uploadId;
}

/** Send the request that schedules the collector for the key. */
function sendTrigger(front: SimFront, trigger: Episode['trigger'], uploadId: string): Pending {
  if (trigger === 'abort-upload') return new Pending(front.s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: KEY, UploadId: uploadId })));
  // A part uploaded again: its old data is garbage, the collector is scheduled once the new part record is durable.
  return new Pending(front.s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: KEY, UploadId: uploadId, PartNumber: 1, Body: objectBody(3) })));
}

/** Until the trigger queued on the object's lock ('blocked') or was answered and the collector went idle ('collected'). */
async function collectorOutcome(front: SimFront, trigger: Pending): Promise<EpisodeOutcome['collector']> {
  const name = objectLock(BUCKET, Buffer.from(KEY));
  const outcome = await turnsUntil('the trigger neither queued on the lock nor was answered', () => {
    if (front.core.locks.waiting(name) > 0) return 'blocked' as const;
    return trigger.settled === undefined ? undefined : ('collected' as const);
  });
  if (outcome === 'collected') await front.server.s3?.collector.idle();
  return outcome;
}

/** GET the object; the violations of the invariant (header comment). */
async function checkObject(front: SimFront, change: Episode['change'], changeAnswered: boolean): Promise<string[]> {
  const changed = change === 'put' ? objectBody(1) : undefined;
  let bytes: Buffer | undefined;
  try {
    const answer = await front.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY }));
    bytes = Buffer.from((await answer.Body?.transformToByteArray()) ?? new Uint8Array());
  } catch (err: unknown) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (!(status === 404 && change === 'delete')) return [`GET of the acknowledged object answered ${String(status)} ${err instanceof Error ? err.name : String(err)}`];
  }
  const isOld = bytes?.equals(objectBody(0)) === true;
  const isChanged = changed === undefined ? bytes === undefined : bytes?.equals(changed) === true;
  if (!isOld && !isChanged) return [`the object holds ${bytes === undefined ? 'nothing' : `${bytes.length} bytes that are no version written`}`];
  if (changeAnswered && !isChanged) return [`the object is as before its ${change}, which was answered`];
  return [];
}

/** Run one episode (header comment); its violations, none expected of the real code. */
export async function runEpisode(e: Episode): Promise<EpisodeOutcome> {
  const sim = await SimNode.create(SMALL_CONFIG, e.simSeed);
  const key = Buffer.from(KEY);
  const recordDisk = sim.node.diskOf(objectShardKey(BUCKET, key));
  const heldDisk = e.hold === 'record-disk' ? recordDisk : 1 - recordDisk;
  let front = await serveSim(sim);
  try {
    await front.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await makeObject(sim, front, e.shape, recordDisk);
    const second = await secondUpload(sim, front, e.trigger, heldDisk);
    await front.server.s3?.collector.idle();
    await sim.drain();

    const gate: Gate | undefined = sim.gates[heldDisk];
    assert.ok(gate !== undefined);
    gate.holdFlushes();
    const change = new Pending(front.s3.send(e.change === 'put' ? new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: objectBody(1) }) : new DeleteObjectCommand({ Bucket: BUCKET, Key: KEY })));
    await changeStaged(front, e.change);
    const trigger = sendTrigger(front, e.trigger, second);
    const collector = await collectorOutcome(front, trigger);
    await sim.node.store(1 - heldDisk)?.log.drain();
    await sim.crash(e.mode, e.simSeed, false);
    await Promise.all([change.done, trigger.done]);
    const changeAnswered = change.settled === 'ok';
    await stopSim(front);
    front = await serveSim(sim);
    return { violations: await checkObject(front, e.change, changeAnswered), collector };
  } finally {
    await stopSim(front);
  }
}
