// The lifecycle check: the S3 front's lifecycle pass (src/server/s3/
// lifecycle_pass.ts) against a reference model of S3's lifecycle rules,
// on a virtual clock, with requests racing the pass.
//
// Strategy: each episode, drawn from its seed, makes one bucket
// (unversioned, Enabled or Suspended), gives it 1 to 3 rules drawn from a
// small alphabet that makes them collide (prefixes '', 'a/', 'a/b', 'b/';
// two tag keys; size bounds around the drawn sizes; Days, Date,
// ExpiredObjectDeleteMarker, NoncurrentDays with NewerNoncurrentVersions,
// DaysAfterInitiation; some rules Disabled), then runs steps: puts (size,
// tags), deletes, retags, multipart uploads created, the clock moved by 1
// to 40 hours, and passes. The front runs over the in-memory model store
// and takes the virtual time as its clock; nothing sleeps. A "racing pass"
// holds the lock of an object the model says expires now, starts the pass,
// waits until the pass queued on that lock (the lock table, never a
// timer), overwrites the object under the held lock (as a PUT commits),
// and lets the pass go on.
//
// The model (below, written from AWS's documentation, not from src/): each
// key a list of versions newest first; a pass expires a current version
// whose rule is due (Days after creation rounded up to midnight UTC, or a
// Date), noncurrent versions NoncurrentDays after their successor was made
// (keeping NewerNoncurrentVersions), a lone delete marker where a rule says
// ExpiredObjectDeleteMarker, and uploads DaysAfterInitiation old.
//
// Invariants, after every pass (each violation names the key and version):
//   1. "the object overwritten during the pass was expired": the version a
//      racing request wrote is there;
//   2. "the pass removed a version no rule expires": every version of the
//      model is in the store;
//   3. "the pass kept a version a rule expires": the store holds no other;
//   4. versions are in the model's order; uploads are the model's.
import { createHash } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { silentLogger } from '../src/server/logger.js';
import { S3Front } from '../src/server/s3/s3_front.js';
import { createBucket } from '../src/server/s3/buckets.js';
import { objectLock } from '../src/server/s3/core.js';
import type { LifecycleFilter, LifecycleRule } from '../src/server/s3/lifecycle.js';
import { setLifecycle } from '../src/server/s3/lifecycle_ops.js';
import type { LifecycleReport } from '../src/server/s3/lifecycle_pass.js';
import { emptyLifecycleReport } from '../src/server/s3/lifecycle_pass.js';
import { createUpload } from '../src/server/s3/multipart.js';
import { commitObject, retagObject } from '../src/server/s3/objects.js';
import type { ObjectRecord, TagSet } from '../src/server/s3/records.js';
import { encodeObject } from '../src/server/s3/records.js';
import { NS_UPLOAD, bucketPrefix, objectShardKey } from '../src/server/s3/shard_keys.js';
import { VERSION_RULES, noncurrentVersions, readCurrent, readReplaced, setVersioning } from '../src/server/s3/versioning.js';
import { deleteRequested } from '../src/server/s3/versioning_ops.js';
import { ModelStore } from './model.js';
import { Rng } from './rng.js';

const BUCKET = 'life';
const KEYS = ['a/1', 'a/2', 'a/b/3', 'b/4', 'c'] as const;
const PREFIXES = ['', 'a/', 'a/b', 'b/'] as const;
const SIZES = [0, 10, 100, 5_000] as const;
const TAGS: ReadonlyArray<readonly [string, string]> = [['t', '1'], ['t', '2'], ['u', 'x']];
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const STEPS = 40;
/** Event-loop turns, at most, for the racing pass to queue on the lock. */
const MAX_TURNS = 100_000;

type State = 'unversioned' | 'enabled' | 'suspended';

interface ModelVersion {
  readonly etag: string;
  readonly mtimeMs: number;
  tags: TagSet;
  readonly sizeBytes: number;
  readonly marker: boolean;
  readonly isNull: boolean;
}

interface ModelUpload {
  readonly key: string;
  readonly id: string;
  readonly initiatedMs: number;
}

/** The world: the front (over the model store) and the model of what it must hold. */
class World {
  nowMs: number;
  readonly front: S3Front;
  readonly versions = new Map<string, ModelVersion[]>();
  uploads: ModelUpload[] = [];
  private written = 0;

  constructor(startMs: number, readonly state: State, readonly rules: readonly LifecycleRule[]) {
    this.nowMs = startMs;
    this.front = new S3Front(new ModelStore(), { credentials: new Map(), now: () => this.nowMs, sweepOnStart: false, lifecycleIntervalMs: 0 }, silentLogger);
  }

  get core(): S3Front['core'] {
    return this.front.core;
  }

  newRecord(rng: Rng): ObjectRecord {
    const n = ++this.written;
    const sizeBytes = rng.pick(SIZES);
    const tags = TAGS.filter(() => rng.bool(0.4)).filter((t, i, all) => all.findIndex(([k]) => k === t[0]) === i);
    const inline = Buffer.alloc(sizeBytes, n & 0xff);
    const etag = createHash('md5').update(`${n}`).digest('hex');
    return { sizeBytes, mtimeMs: this.nowMs, etag, contentType: '', headers: [], parts: [], inline, tags, uploadId: undefined };
  }

  /** The model's side of a write (put: `record`; delete: a marker) of `key` now. */
  modelWrite(key: string, record: ObjectRecord | 'marker'): void {
    const isNull = this.state !== 'enabled';
    const v: ModelVersion =
      record === 'marker'
        ? { etag: `marker@${this.nowMs}`, mtimeMs: this.nowMs, tags: [], sizeBytes: 0, marker: true, isNull }
        : { etag: record.etag, mtimeMs: record.mtimeMs, tags: record.tags, sizeBytes: record.sizeBytes, marker: false, isNull };
    const old = this.versions.get(key) ?? [];
    if (this.state === 'unversioned') {
      this.versions.set(key, record === 'marker' ? [] : [v]);
      return;
    }
    // Suspended writes replace the null version, wherever it is.
    this.versions.set(key, [v, ...old.filter((o) => !(isNull && o.isNull))]);
  }
}

// ---- the model of S3's rules ----

const midnightCeil = (ms: number): number => Math.ceil(ms / DAY_MS) * DAY_MS;

function admits(f: LifecycleFilter, key: string, v: ModelVersion): boolean {
  return (
    key.startsWith(f.prefix) &&
    f.tags.every(([k, val]) => v.tags.some(([vk, vv]) => vk === k && vv === val)) &&
    (f.sizeGreaterThan === undefined || v.sizeBytes > f.sizeGreaterThan) &&
    (f.sizeLessThan === undefined || v.sizeBytes < f.sizeLessThan)
  );
}

function currentExpires(rules: readonly LifecycleRule[], key: string, v: ModelVersion, nowMs: number): boolean {
  return rules.some((r) => {
    const e = r.expiration;
    if (!r.enabled || e === undefined || e.kind === 'delete-marker' || v.marker || !admits(r.filter, key, v)) return false;
    return nowMs >= (e.kind === 'days' ? midnightCeil(v.mtimeMs + e.days * DAY_MS) : e.dateMs);
  });
}

/**
 * The model's pass at `nowMs`. `overtaken`: a key written after the pass
 * listed it, whose current version the pass leaves to the next pass (the
 * version it decided on is gone), however due the new one is.
 */
function modelPass(w: World, overtaken?: string): void {
  const { rules, nowMs } = w;
  for (const [key, list] of w.versions) {
    let vs = list;
    const cur = vs[0];
    if (cur !== undefined && key !== overtaken && currentExpires(rules, key, cur, nowMs)) {
      w.modelWrite(key, 'marker');
      vs = w.versions.get(key) ?? [];
    }
    if (w.state !== 'unversioned') {
      const kept = vs.filter((v, i) => {
        const successor = vs[i - 1];
        if (i === 0 || successor === undefined) return true;
        return !rules.some((r) => r.enabled && r.noncurrent !== undefined && i - 1 >= (r.noncurrent.newerVersions ?? 0) && admits(r.filter, key, v) && nowMs >= midnightCeil(successor.mtimeMs + r.noncurrent.days * DAY_MS));
      });
      const lone = kept.length === 1 && kept[0]?.marker === true;
      vs = lone && rules.some((r) => r.enabled && r.expiration?.kind === 'delete-marker' && key.startsWith(r.filter.prefix)) ? [] : kept;
    }
    w.versions.set(key, vs);
  }
  w.uploads = w.uploads.filter((u) => !rules.some((r) => r.enabled && r.abortAfterDays !== undefined && u.key.startsWith(r.filter.prefix) && nowMs >= midnightCeil(u.initiatedMs + r.abortAfterDays * DAY_MS)));
}

// ---- drawing an episode ----

function drawFilter(rng: Rng, forAbortOrMarker: boolean): LifecycleFilter {
  const prefix = rng.pick(PREFIXES);
  if (forAbortOrMarker || rng.bool(0.4)) return { form: 'prefix', prefix, tags: [], sizeGreaterThan: undefined, sizeLessThan: undefined };
  const tag = rng.pick(TAGS);
  return {
    form: 'and',
    prefix,
    tags: rng.bool(0.5) ? [tag] : [],
    sizeGreaterThan: rng.bool(0.3) ? rng.pick([0, 10, 50]) : undefined,
    sizeLessThan: rng.bool(0.3) ? rng.pick([101, 1_000, 10_000]) : undefined,
  };
}

function drawRule(rng: Rng, i: number, startMs: number): LifecycleRule {
  const kind = rng.pick(['days', 'date', 'marker', 'noncurrent', 'abort'] as const);
  const base = { id: `rule-${i}`, enabled: rng.bool(0.85), expiration: undefined, noncurrent: undefined, abortAfterDays: undefined };
  const filter = drawFilter(rng, kind === 'marker' || kind === 'abort');
  if (kind === 'days') return { ...base, filter, expiration: { kind: 'days', days: rng.int(1, 3) } };
  if (kind === 'date') return { ...base, filter, expiration: { kind: 'date', dateMs: midnightCeil(startMs) + rng.int(1, 4) * DAY_MS } };
  if (kind === 'marker') return { ...base, filter, expiration: { kind: 'delete-marker' } };
  if (kind === 'abort') return { ...base, filter, abortAfterDays: rng.int(1, 3) };
  return { ...base, filter, noncurrent: { days: rng.int(1, 3), newerVersions: rng.bool(0.5) ? rng.int(1, 2) : undefined } };
}

// ---- comparing ----

async function storeVersions(w: World, key: string): Promise<string[]> {
  const k = Buffer.from(key);
  const current = await readCurrent(w.core, BUCKET, k);
  if (current === undefined) return [];
  const older = await noncurrentVersions(w.core, { bucket: BUCKET, key: k, current }, { limit: 1_000 });
  return [current, ...older.map((v) => v.record)].map((r) => (r.version?.deleteMarker === true ? `marker@${r.mtimeMs}` : r.etag));
}

async function storeUploads(w: World): Promise<string[]> {
  const ids: string[] = [];
  for await (const page of w.core.listAll(bucketPrefix(NS_UPLOAD, BUCKET))) for (const s of page) ids.push(s.key.subarray(s.key.length - 16).toString('hex'));
  return ids.sort();
}

async function compare(w: World, raced: { key: string; etag: string } | undefined): Promise<string[]> {
  const out: string[] = [];
  for (const key of KEYS) {
    const got = await storeVersions(w, key);
    const want = (w.versions.get(key) ?? []).map((v) => v.etag);
    if (raced?.key === key && got[0] !== raced.etag) out.push(`the object overwritten during the pass was expired: ${key} version ${raced.etag} (now ${got.join(' ') || 'nothing'})`);
    for (const e of want) if (!got.includes(e)) out.push(`the pass removed a version no rule expires: ${key} version ${e}`);
    for (const e of got) if (!want.includes(e)) out.push(`the pass kept a version a rule expires: ${key} version ${e}`);
    if (out.length === 0 && got.join() !== want.join()) out.push(`versions of ${key} out of order: ${got.join(' ')}, expected ${want.join(' ')}`);
  }
  const uploads = await storeUploads(w);
  const wanted = w.uploads.map((u) => u.id).sort();
  if (uploads.join() !== wanted.join()) out.push(`uploads ${uploads.join(' ')}, expected ${wanted.join(' ')}`);
  return out;
}

// ---- steps ----

async function put(w: World, rng: Rng, key: string): Promise<ObjectRecord> {
  const record = w.newRecord(rng);
  await commitObject(w.core, BUCKET, Buffer.from(key), record);
  w.modelWrite(key, record);
  return record;
}

/** A pass with a PUT of `key` committed between the pass's listing and its delete (header comment). */
async function racingPass(w: World, rng: Rng, key: string, done: LifecycleReport): Promise<{ key: string; etag: string } | undefined> {
  const name = objectLock(BUCKET, Buffer.from(key));
  const record = w.newRecord(rng);
  // The collector takes object locks too: were it queued on this one, the pass would not be.
  await w.front.collector.idle();
  let ended = false;
  let queued = false;
  let pass: Promise<void> = Promise.resolve();
  await w.core.locks.exclusive(name, async () => {
    pass = w.front.lifecycle.run(w.nowMs).then((r) => add(done, r)).finally(() => (ended = true));
    for (let turn = 0; turn < MAX_TURNS && !ended && w.core.locks.waiting(name) === 0; turn++) await yieldToLoop();
    if (!ended && w.core.locks.waiting(name) === 0) throw new Error(`the pass neither ended nor queued on ${name} in ${MAX_TURNS} turns`);
    queued = !ended;
    // A pass that never wanted the key ended first: the model's pass comes before the write.
    if (ended) modelPass(w);
    // What commitObject does under the lock: keep the version replaced, then stage the new one.
    const target = { bucket: BUCKET, key: Buffer.from(key) };
    const committed = await VERSION_RULES.stamp(w.core, target, await readReplaced(w.core, BUCKET, target.key), record);
    await w.core.putDurable(objectShardKey(BUCKET, target.key), encodeObject(committed));
    w.modelWrite(key, record);
    if (queued) modelPass(w, key);
  });
  await pass;
  return queued ? { key, etag: record.etag } : undefined;
}

export interface LifecycleOutcome {
  readonly violations: string[];
  readonly passes: number;
  readonly races: number;
  /** What the passes did, summed (tests assert that every kind of change was reached). */
  readonly done: LifecycleReport;
}

function add(into: LifecycleReport, r: LifecycleReport): void {
  for (const k of Object.keys(into) as Array<keyof LifecycleReport>) into[k] += r[k];
}

/** One episode (header comment); its violations, none expected of the real code. */
export async function runLifecycleEpisode(seed: number): Promise<LifecycleOutcome> {
  const rng = new Rng(seed);
  const startMs = Date.UTC(2026, 0, 1) + rng.int(0, 23) * HOUR_MS;
  const state = rng.pick(['unversioned', 'enabled', 'suspended'] as const);
  const rules = Array.from({ length: rng.int(1, 3) }, (_, i) => drawRule(rng, i, startMs));
  const w = new World(startMs, state, rules);
  await createBucket(w.core, BUCKET, { existingIsError: false }, () => Promise.resolve());
  if (state !== 'unversioned') await setVersioning(w.core, BUCKET, state);
  await setLifecycle(w.core, BUCKET, rules);
  let [passes, races] = [0, 0];
  const done = emptyLifecycleReport();
  for (let step = 0; step < STEPS; step++) {
    const key = rng.pick(KEYS);
    const what = rng.pick(['put', 'put', 'delete', 'retag', 'upload', 'advance', 'advance', 'pass', 'race'] as const);
    let raced: { key: string; etag: string } | undefined;
    if (what === 'put') await put(w, rng, key);
    else if (what === 'delete') {
      await deleteRequested(w.core, { bucket: BUCKET, key: Buffer.from(key) }, undefined);
      w.modelWrite(key, 'marker');
    } else if (what === 'retag') {
      const cur = w.versions.get(key)?.[0];
      if (cur === undefined || cur.marker) continue;
      const tags = TAGS.filter(() => rng.bool(0.5)).filter((t, i, all) => all.findIndex(([k]) => k === t[0]) === i);
      await retagObject(w.core, BUCKET, Buffer.from(key), tags);
      cur.tags = tags;
    } else if (what === 'upload') {
      const id = await createUpload(w.core, BUCKET, Buffer.from(key), { contentType: '', headers: [], tags: [], checksumAlgorithm: '' });
      w.uploads.push({ key, id: id.toString('hex'), initiatedMs: w.nowMs });
    } else if (what === 'advance') w.nowMs += rng.int(1, 40) * HOUR_MS;
    else {
      const due = KEYS.filter((k) => {
        const cur = w.versions.get(k)?.[0];
        return cur !== undefined && currentExpires(rules, k, cur, w.nowMs);
      });
      const racedKey = what === 'race' ? due[0] : undefined;
      passes++;
      if (racedKey !== undefined) {
        races++;
        raced = await racingPass(w, rng, racedKey, done);
      } else {
        add(done, await w.front.lifecycle.run(w.nowMs));
        modelPass(w);
      }
      const violations = await compare(w, raced);
      if (violations.length > 0) return { violations: violations.map((v) => `step ${step} (${what}, ${state} bucket, rules ${JSON.stringify(rules)}): ${v}`), passes, races, done };
    }
  }
  return { violations: [], passes, races, done };
}

