// The lifecycle pass against power cuts: a pass interrupted by a crash
// leaves every key consistent, and the next pass finishes the work.
//
// Strategy: each episode (drawn from a fixed seed) serves a node of two
// simulated disks (testing/s3_sim_front.ts), makes a bucket (unversioned
// or Enabled) with KEYS objects, some inline, some with data on a data
// shard (so record and data can sit on different disks), versioned keys
// written twice, and two incomplete uploads; then one rule: expire every
// object after a day, noncurrent versions after a day, abort uploads after
// a day. The pass runs as of ten days later with one disk holding its
// flushes: the pass stops at its first durable step there; it is let
// through a number of such steps drawn from the seed (each a release of
// the held flushes, known from the disk's latch, then event-loop turns
// until the pass waits again: never a timer), the other disk commits or
// not, and the power is cut in one of the simulated disks'
// crash modes; the node recovers and a fresh front serves it.
//
// Invariants:
//   1. after the crash, every version ListObjectVersions lists reads back
//      whole by its id, byte for byte as written (no record without its
//      data, no resurrected or mixed bytes);
//   2. each key is as before the pass or as the pass leaves it: the
//      object (unversioned) there with its bytes or gone; (versioned) the
//      newest written version current, or a delete marker over it, never
//      an older version current;
//   3. a second pass at the same moment ends in the state of an
//      uninterrupted pass: nothing left (unversioned), or each key a delete
//      marker over its newest version (versioned), and no upload.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { DAY_MS } from '../src/server/s3/lifecycle.js';
import { SMALL_CONFIG } from './conformance.js';
import { lifecycleMarkerOverUnkeptVersion } from './mutants/lifecycle_mutants.js';
import { Rng } from './rng.js';
import { CRASH_MODES } from './sim_disk.js';
import type { CrashMode } from './sim_disk.js';
import { SimNode } from './sim_node.js';
import { serveSim, stopSim } from './s3_sim_front.js';
import type { SimFront } from './s3_sim_front.js';

const SEED = 20261208;
const EPISODES = 32;
/**
 * Versioned episodes, at most, to catch the broken variant: where records
 * land depends on random version ids, so the catch is not fixed by the
 * seed; it came within the first few episodes in every run here.
 */
const VARIANT_BUDGET_EPISODES = 64;
const BUCKET = 'lcrash';
const KEYS = 5;
/**
 * Durable steps on the held disk, at most, the pass is let through before
 * the power is cut: a whole pass here (8 keys at a time) takes about 2
 * (unversioned) or 5 (versioned) on each disk, and where data lands is
 * random, so most cuts land inside the pass and some after it.
 */
const MAX_STEPS_BEFORE_CRASH = { unversioned: 2, versioned: 4 };
/**
 * Event-loop turns for the pass to run, after a flush was held, until it
 * waits on that flush (a whole pass over this world takes about 6 turns
 * when no flush is held): what the other disk can do is done, so the cut
 * finds the held disk's writes staged behind the other disk's durable ones.
 */
const TURNS_TO_STALL = 40;

/** Body of version `v` of key `k`: inline (up to 1 KiB) or on a data shard, by k. */
function body(k: number, v: number): Buffer {
  const out = Buffer.alloc(k % 2 === 0 ? 300 + k : 4_000 + k * 97, 0);
  for (let i = 0; i < out.length; i++) out[i] = (k * 31 + v * 7 + i) & 0xff;
  return out;
}

interface Written {
  /** Version id (or 'null') -> bytes. */
  readonly versions: Map<string, Buffer>;
  /** The newest version's id. */
  newest: string;
}

async function setUp(front: SimFront, versioned: boolean): Promise<Written[]> {
  await front.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  if (versioned) await front.s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
  const written: Written[] = [];
  for (let k = 0; k < KEYS; k++) {
    const w: Written = { versions: new Map(), newest: '' };
    for (let v = 0; v < (versioned ? 2 : 1); v++) {
      const put = await front.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `k${k}`, Body: body(k, v) }));
      w.newest = put.VersionId ?? 'null';
      w.versions.set(w.newest, body(k, v));
    }
    written.push(w);
  }
  for (const key of ['u0', 'u1']) await front.s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
  await front.s3.send(
    new PutBucketLifecycleConfigurationCommand({
      Bucket: BUCKET,
      LifecycleConfiguration: { Rules: [{ ID: 'all', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 1 }, NoncurrentVersionExpiration: { NoncurrentDays: 1 }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }] },
    }),
  );
  return written;
}

interface KeyState {
  readonly versions: string[];
  readonly markers: number;
  readonly current: string | undefined;
}

async function stateOf(front: SimFront, k: number): Promise<KeyState> {
  const listed = await front.s3.send(new ListObjectVersionsCommand({ Bucket: BUCKET, Prefix: `k${k}` }));
  const latest = [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])].find((v) => v.IsLatest === true);
  const isMarker = (listed.DeleteMarkers ?? []).some((m) => m.IsLatest === true);
  return { versions: (listed.Versions ?? []).map((v) => v.VersionId ?? 'null'), markers: (listed.DeleteMarkers ?? []).length, current: latest === undefined ? undefined : isMarker ? 'marker' : (latest.VersionId ?? 'null') };
}

/** Invariants 1 and 2 for key `k`. */
async function consistent(front: SimFront, k: number, w: Written, versioned: boolean): Promise<string[]> {
  const s = await stateOf(front, k);
  const out: string[] = [];
  for (const id of s.versions) {
    const want = w.versions.get(id);
    if (want === undefined) {
      out.push(`k${k}: version ${id} was never written`);
      continue;
    }
    try {
      const got = await front.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `k${k}`, ...(versioned ? { VersionId: id } : {}) }));
      const bytes = Buffer.from((await got.Body?.transformToByteArray()) ?? new Uint8Array());
      if (!bytes.equals(want)) out.push(`k${k}: version ${id} reads ${bytes.length} bytes that are not the ones written`);
    } catch (err) {
      out.push(`k${k}: version ${id} is listed but its GET failed: ${err instanceof Error ? err.name : String(err)}`);
    }
  }
  if (s.current !== undefined && s.current !== 'marker' && s.current !== w.newest) out.push(`k${k}: an older version ${s.current} is current`);
  if (versioned && !s.versions.includes(w.newest)) out.push(`k${k}: the newest version ${w.newest} is gone`);
  if (!versioned && s.markers > 0) out.push(`k${k}: a delete marker in an unversioned bucket`);
  return out;
}

async function episode(rng: Rng, versioned: boolean, mode: CrashMode): Promise<{ violations: string[]; crashedMidPass: boolean }> {
  const simSeed = rng.int(1, 0x7fffffff);
  const sim = await SimNode.create(SMALL_CONFIG, simSeed);
  let front = await serveSim(sim);
  try {
    const written = await setUp(front, versioned);
    await front.server.s3?.collector.idle();
    await sim.drain();
    const nowMs = Date.now() + 10 * DAY_MS;
    const lifecycle = front.server.s3?.lifecycle;
    assert.ok(lifecycle !== undefined);
    const held = rng.int(0, 1);
    const gate = sim.gates[held];
    assert.ok(gate !== undefined);
    gate.holdFlushes();
    let ended = false;
    const pass = lifecycle.run(nowMs).then(
      () => void (ended = true),
      () => void (ended = true),
    );
    const steps = rng.int(0, versioned ? MAX_STEPS_BEFORE_CRASH.versioned : MAX_STEPS_BEFORE_CRASH.unversioned);
    for (let step = 0; step <= steps && !ended; step++) {
      await Promise.race([gate.whenHeld(1), pass]);
      // Let the pass go as far as the other disk takes it: until it waits on the held flush.
      for (let turn = 0; turn < TURNS_TO_STALL && !ended; turn++) await yieldToLoop();
      if (step < steps && !ended) {
        gate.release();
        gate.holdFlushes();
      }
    }
    const crashedMidPass = !ended;
    if (rng.bool(0.5)) await sim.node.store(1 - held)?.log.drain();
    await sim.crash(mode, simSeed, false);
    await pass;
    await stopSim(front);
    front = await serveSim(sim);
    const violations: string[] = [];
    for (let k = 0; k < KEYS; k++) violations.push(...(await consistent(front, k, written[k] as Written, versioned)));
    // Invariant 3: the next pass finishes the work.
    await front.server.s3?.lifecycle.run(nowMs);
    await front.server.s3?.collector.idle();
    for (let k = 0; k < KEYS; k++) {
      const s = await stateOf(front, k);
      const w = written[k] as Written;
      const expected = versioned ? { versions: [w.newest], markers: 1, current: 'marker' } : { versions: [], markers: 0, current: undefined };
      if (JSON.stringify(s) !== JSON.stringify(expected)) violations.push(`k${k} after the second pass: ${JSON.stringify(s)}, expected ${JSON.stringify(expected)}`);
    }
    const uploads = await front.s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
    if ((uploads.Uploads ?? []).length > 0) violations.push(`uploads left after the second pass: ${(uploads.Uploads ?? []).map((u) => u.Key).join(', ')}`);
    return { violations: violations.map((v) => `${versioned ? 'versioned' : 'unversioned'}, crash ${mode} after ${steps} steps held on disk ${held}: ${v}`), crashedMidPass };
  } finally {
    await stopSim(front);
  }
}

void test(`a lifecycle pass cut by a power failure leaves every key consistent, and the next pass finishes it (${EPISODES} episodes)`, async () => {
  const rng = new Rng(SEED);
  let midPass = 0;
  for (let i = 0; i < EPISODES; i++) {
    const outcome = await episode(rng.fork(`episode-${i}`), i % 2 === 1, CRASH_MODES[i % CRASH_MODES.length] as CrashMode);
    assert.deepEqual(outcome.violations, []);
    if (outcome.crashedMidPass) midPass++;
  }
  // A crash after the pass ended proves little: most episodes must cut it short.
  assert.ok(midPass >= EPISODES / 2, `only ${midPass} of ${EPISODES} crashes landed during the pass`);
  console.log(`# ${midPass} of ${EPISODES} crashes landed during the pass`);
});

void test(`the crash test catches ${lifecycleMarkerOverUnkeptVersion.name} (${lifecycleMarkerOverUnkeptVersion.bugClass})`, async () => {
  // Versioned episodes only (the variant changes versioned writes), until the first catch, within a budget.
  const rng = new Rng(SEED + 1);
  const restore = lifecycleMarkerOverUnkeptVersion.install();
  let found: { episode: number; message: string } | undefined;
  try {
    for (let i = 0; i < VARIANT_BUDGET_EPISODES && found === undefined; i++) {
      const message = (await episode(rng.fork(`variant-${i}`), true, CRASH_MODES[i % CRASH_MODES.length] as CrashMode)).violations[0];
      if (message !== undefined) found = { episode: i, message };
    }
  } finally {
    restore();
  }
  assert.ok(found !== undefined, `${lifecycleMarkerOverUnkeptVersion.name} survived ${VARIANT_BUDGET_EPISODES} versioned episodes`);
  assert.match(found.message, lifecycleMarkerOverUnkeptVersion.expect);
  console.log(`# ${lifecycleMarkerOverUnkeptVersion.name}: caught in episode ${found.episode}: ${found.message}`);
});
