// Versioning (docs/S3.md, "Versioning"): where the versions of a key live,
// how a write keeps the version it replaces, and which stored versions count.
//
// The current version of a key is its object record (`\0O bucket/key`),
// as in an unversioned bucket; a delete marker is a current record with no
// data. Every noncurrent version is a record of its own under
// `\0V bucket/key\0 rank`. A rank is 16 bytes, smaller is newer: the
// bitwise NOT of a time-ordered id (6-byte ms time, 10 random bytes), so a
// store listing gives a key's versions newest first, and its 32 hex digits
// are the version id clients see (the null version's id is "null").
//
// A versioned write, under the object's lock, (1) copies the current record
// to `\0V` and waits until that copy is durable, then (2) stages the new
// current record with a rank newer than the one it replaces. A crash
// between the two leaves the old current and a copy of it in `\0V`: the
// old state (the copy is a leftover). Removing the current version (DELETE
// with its versionId) promotes the newest noncurrent version: its record
// becomes the current one (durable), then its `\0V` copy is deleted.
//
// Invariants:
// 1. Within a key, ranks strictly decrease in commit order: a new current
//    version is newer than the one it replaces, so the current version is
//    the newest of its key.
// 2. A key with a `\0V` record has a current record (promotion writes the
//    current record before it deletes the `\0V` one).
// 3. What counts: a `\0V` record whose rank is the current one's is a
//    leftover of (1)/(2); a null version older than another null version
//    (current or noncurrent) was replaced by it (Suspended writes replace
//    the null version). Both are ignored by every reader and deleted by the
//    collector.
import { CorruptionError, assert } from '../../base/index.js';
import type { Core } from './core.js';
import { bucketLock } from './core.js';
import { requireBucket } from './buckets.js';
import type { ObjectRecord, VersionStamp } from './records.js';
import { decodeObject, encodeObject } from './records.js';
import type { SettingsRecord, VersioningState } from './settings_record.js';
import { DEFAULT_SETTINGS, decodeSettings, encodeSettings } from './settings_record.js';
import { S3Error, invalidArgument } from './s3_errors.js';
import { VERSION_BYTES, newVersion, objectShardKey, settingsShardKey, versionPrefix, versionShardKey } from './shard_keys.js';

/** How many noncurrent records are read per store page. */
const VERSION_PAGE = 256;
export const NULL_VERSION_ID = 'null';

/** A version named by a request: the null version, or one by rank. */
export type VersionSelector = { readonly kind: 'null' } | { readonly kind: 'rank'; readonly rank: Buffer };

/** Throws 400 InvalidArgument for text that cannot be a version id of ours. */
export function parseVersionId(text: string): VersionSelector {
  if (text === NULL_VERSION_ID) return { kind: 'null' };
  if (!/^[0-9a-f]{32}$/.test(text)) throw invalidArgument('Invalid version id specified', { ArgumentName: 'versionId', ArgumentValue: text });
  return { kind: 'rank', rank: Buffer.from(text, 'hex') };
}

export const noSuchVersion = (key: Buffer, versionId: string): S3Error =>
  new S3Error(404, 'NoSuchVersion', 'The specified version does not exist.', { Key: key.toString('utf8'), VersionId: versionId });

/** The rank of a record written before its bucket was versioned: from its time, older than anything written later. */
function legacyRank(mtimeMs: number): Buffer {
  const rank = Buffer.alloc(VERSION_BYTES, 0xff);
  rank.writeUIntBE(2 ** 48 - 1 - Math.max(0, Math.min(mtimeMs, 2 ** 48 - 1)), 0, 6);
  return rank;
}

/** The record's version stamp; an unversioned record is a null version ranked by its time. */
export function stampOf(record: ObjectRecord): VersionStamp {
  return record.version ?? { rank: legacyRank(record.mtimeMs), isNull: true, deleteMarker: false };
}

export function versionIdOf(record: ObjectRecord): string {
  const stamp = stampOf(record);
  return stamp.isNull ? NULL_VERSION_ID : stamp.rank.toString('hex');
}

export function isDeleteMarker(record: ObjectRecord | undefined): boolean {
  return record?.version?.deleteMarker === true;
}

function selects(selector: VersionSelector, record: ObjectRecord): boolean {
  const stamp = stampOf(record);
  return selector.kind === 'null' ? stamp.isNull : stamp.rank.equals(selector.rank);
}

/** A rank newer than `older` (if given), from the clock. */
function nextRank(nowMs: number, older: Buffer | undefined): Buffer {
  const rank = Buffer.from(newVersion(nowMs).map((b) => 0xff - b));
  if (older === undefined || Buffer.compare(rank, older) < 0) return rank;
  // The clock went back or stood still: one less than the rank replaced.
  const bumped = Buffer.from(older);
  for (let i = bumped.length - 1; i >= 0; i--) {
    const byte = bumped[i] ?? 0;
    bumped[i] = (byte + 0xff) & 0xff;
    if (byte !== 0) break;
  }
  assert(Buffer.compare(bumped, older) < 0, 'a rank below the smallest');
  return bumped;
}

// ---- bucket settings ----

export async function readSettings(core: Core, bucket: string): Promise<SettingsRecord> {
  const bytes = await core.getOptional(settingsShardKey(bucket));
  return bytes === undefined ? DEFAULT_SETTINGS : decodeSettings(bytes);
}

export async function versioningOf(core: Core, bucket: string): Promise<VersioningState> {
  return (await readSettings(core, bucket)).versioning;
}

/** Set the bucket's versioning state, durably, under the bucket's lock. Throws NoSuchBucket. */
export async function setVersioning(core: Core, bucket: string, state: 'enabled' | 'suspended'): Promise<void> {
  await core.locks.exclusive(bucketLock(bucket), async () => {
    await requireBucket(core, bucket);
    const settings = await readSettings(core, bucket);
    await core.putDurable(settingsShardKey(bucket), encodeSettings({ ...settings, versioning: state }));
  });
}

// ---- reading versions ----

/** The current record of `key` as stored: a delete marker too. */
export async function readCurrent(core: Core, bucket: string, key: Buffer): Promise<ObjectRecord | undefined> {
  const bytes = await core.getOptional(objectShardKey(bucket, key));
  return bytes === undefined ? undefined : decodeObject(bytes);
}

export interface StoredVersion {
  readonly record: ObjectRecord;
  readonly shardKey: Buffer;
}

/**
 * The noncurrent versions of `key` that count (invariant 3), newest first,
 * those older than `after` only (a rank), at most `limit`. `skipped`, if
 * given, is told the shard key of every record that does not count.
 */
export async function noncurrentVersions(
  core: Core,
  target: { readonly bucket: string; readonly key: Buffer; readonly current: ObjectRecord | undefined },
  range: { readonly after?: Buffer | undefined; readonly limit: number },
  skipped?: (shardKey: Buffer) => void,
): Promise<StoredVersion[]> {
  const out: StoredVersion[] = [];
  if (target.current === undefined || range.limit <= 0) return out;
  const current = stampOf(target.current);
  let nullSeen = current.isNull;
  let startAfter = range.after === undefined ? undefined : versionShardKey(target.bucket, target.key, range.after);
  // A null version newer than `after` shadows the null versions after it.
  if (range.after !== undefined && !nullSeen) nullSeen = await nullVersionBefore(core, target.bucket, target.key, range.after, current);
  const prefix = versionPrefix(target.bucket, target.key);
  for (;;) {
    const page = await core.api.list({ prefix, limit: VERSION_PAGE, ...(startAfter === undefined ? {} : { startAfter }) });
    for (const shard of page.shards) {
      const bytes = await core.getOptional(shard.key);
      if (bytes === undefined) continue;
      const record = decodeObject(bytes);
      const stamp = stampOf(record);
      if (stamp.rank.equals(current.rank) || (stamp.isNull && nullSeen) || Buffer.compare(stamp.rank, current.rank) < 0) {
        skipped?.(shard.key);
        continue;
      }
      nullSeen ||= stamp.isNull;
      if (out.length === range.limit) return out;
      out.push({ record, shardKey: shard.key });
    }
    startAfter = page.shards.at(-1)?.key;
    if (!page.truncated || startAfter === undefined) return out;
  }
}

/** Whether a counting null version of `key` is newer than rank `before`. */
async function nullVersionBefore(core: Core, bucket: string, key: Buffer, before: Buffer, current: VersionStamp): Promise<boolean> {
  for await (const page of core.listAll(versionPrefix(bucket, key), VERSION_PAGE)) {
    for (const shard of page) {
      const rank = shard.key.subarray(shard.key.length - VERSION_BYTES);
      if (Buffer.compare(rank, before) >= 0) return false;
      if (rank.equals(current.rank)) continue;
      const bytes = await core.getOptional(shard.key);
      if (bytes !== undefined && stampOf(decodeObject(bytes)).isNull) return true;
    }
  }
  return false;
}

/** The version `selector` names, current or not; undefined if there is none. */
export async function findVersion(core: Core, bucket: string, key: Buffer, selector: VersionSelector): Promise<{ record: ObjectRecord; current: boolean; shardKey: Buffer } | undefined> {
  const current = await readCurrent(core, bucket, key);
  if (current === undefined) return undefined;
  if (selects(selector, current)) return { record: current, current: true, shardKey: objectShardKey(bucket, key) };
  if (selector.kind === 'rank') {
    // Newer than the current version (or it): a leftover at most (invariant 3).
    if (Buffer.compare(selector.rank, stampOf(current).rank) <= 0) return undefined;
    const shardKey = versionShardKey(bucket, key, selector.rank);
    const bytes = await core.getOptional(shardKey);
    if (bytes === undefined) return undefined;
    const record = decodeObject(bytes);
    // A null version counts only if no newer null version replaced it.
    if (stampOf(record).isNull && (stampOf(current).isNull || (await nullVersionBefore(core, bucket, key, selector.rank, stampOf(current))))) return undefined;
    return { record, current: false, shardKey };
  }
  const nulls = await noncurrentNull(core, bucket, key, current);
  return nulls === undefined ? undefined : { ...nulls, current: false };
}

async function noncurrentNull(core: Core, bucket: string, key: Buffer, current: ObjectRecord): Promise<StoredVersion | undefined> {
  let after: Buffer | undefined;
  for (;;) {
    const page = await noncurrentVersions(core, { bucket, key, current }, { after, limit: VERSION_PAGE });
    const found = page.find((v) => stampOf(v.record).isNull);
    if (found !== undefined) return found;
    const last = page.at(-1);
    if (page.length < VERSION_PAGE || last === undefined) return undefined;
    after = stampOf(last.record).rank;
  }
}

// ---- writing versions (REQUIRES: the object's lock is held) ----

/** What a commit replaces: the current record, none, or one that fails to decode. */
export type Replaced = ObjectRecord | undefined | 'damaged';

/** The current record as a commit replaces it: a damaged one is 'damaged' (only a versioned write refuses it). */
export async function readReplaced(core: Core, bucket: string, key: Buffer): Promise<Replaced> {
  try {
    return await readCurrent(core, bucket, key);
  } catch (err) {
    if (!(err instanceof CorruptionError)) throw err;
    core.logDamaged(objectShardKey(bucket, key), err, 'replaced');
    return 'damaged';
  }
}

/**
 * The versioning rules of a write, an object so that a broken variant can
 * replace them (testing/mutants/http_check_mutants.ts).
 */
export class VersionRules {
  /**
   * The record to stage as the new current version of `key`, after keeping
   * what it replaces (durably) if the bucket's state says so. `record`
   * carries a stamp only to say it is a delete marker. REQUIRES: the
   * object's lock is held.
   */
  async stamp(core: Core, target: { readonly bucket: string; readonly key: Buffer }, old: Replaced, record: ObjectRecord): Promise<ObjectRecord> {
    const state = await versioningOf(core, target.bucket);
    const deleteMarker = isDeleteMarker(record);
    if (state === 'unversioned') {
      assert(!deleteMarker, 'a delete marker in an unversioned bucket');
      return record;
    }
    // A damaged current version cannot be kept: the write would lose it.
    if (old === 'damaged') throw new CorruptionError('the current version of the object is damaged; a versioned write would lose it');
    const keep = old !== undefined && (state === 'enabled' || !stampOf(old).isNull);
    if (old !== undefined && keep) await this.keep(core, target, old);
    const rank = nextRank(core.now(), old === undefined ? undefined : stampOf(old).rank);
    return { ...record, version: { rank, isNull: state === 'suspended', deleteMarker } };
  }

  /** Copy `old` to its noncurrent record and wait until that is durable. */
  async keep(core: Core, target: { readonly bucket: string; readonly key: Buffer }, old: ObjectRecord): Promise<void> {
    const stamp = stampOf(old);
    await core.putDurable(versionShardKey(target.bucket, target.key, stamp.rank), encodeObject({ ...old, version: stamp }));
  }
}

export const VERSION_RULES = new VersionRules();

/** A delete marker to commit (VersionRules.stamp gives it its rank). */
export function deleteMarkerRecord(nowMs: number): ObjectRecord {
  return {
    sizeBytes: 0,
    mtimeMs: nowMs,
    etag: '',
    contentType: '',
    headers: [],
    parts: [],
    inline: undefined,
    tags: [],
    uploadId: undefined,
    version: { rank: Buffer.alloc(VERSION_BYTES), isNull: false, deleteMarker: true },
  };
}

/**
 * Remove version `selector` of `key` for good. The current version is
 * replaced by the newest noncurrent one (durably), or removed if there is
 * none. Returns the version removed (undefined: there was none, which S3
 * answers as a success too). `guard` may refuse the version found (object
 * lock) by throwing. REQUIRES: the object's lock is held.
 */
export async function removeVersion(core: Core, bucket: string, key: Buffer, selector: VersionSelector, guard?: (version: ObjectRecord) => void): Promise<ObjectRecord | undefined> {
  const found = await findVersion(core, bucket, key, selector);
  if (found === undefined) return undefined;
  guard?.(found.record);
  if (!found.current) {
    await core.durable(await core.api.delete(found.shardKey));
    return found.record;
  }
  // Records that do not count go first: with another current version, a replaced null version would count again.
  await noncurrentData(core, bucket, key);
  const next = (await noncurrentVersions(core, { bucket, key, current: found.record }, { limit: 1 }))[0];
  if (next === undefined) {
    await core.durable(await core.api.delete(objectShardKey(bucket, key)));
    return found.record;
  }
  // Invariant 2: the promoted record is current (durably) before its noncurrent copy goes.
  await core.putDurable(objectShardKey(bucket, key), encodeObject(next.record));
  await core.durable(await core.api.delete(next.shardKey));
  return found.record;
}

/**
 * The noncurrent versions of `key` that count; the records that do not
 * count are deleted, durably (invariant 3). For the collector, and before
 * the current version is removed. REQUIRES: the object's lock is held.
 */
export async function noncurrentData(core: Core, bucket: string, key: Buffer): Promise<ObjectRecord[]> {
  const current = await readCurrent(core, bucket, key);
  const leftovers: Buffer[] = [];
  const counted: ObjectRecord[] = [];
  let after: Buffer | undefined;
  for (;;) {
    const page = await noncurrentVersions(core, { bucket, key, current }, { after, limit: VERSION_PAGE }, (k) => leftovers.push(k));
    counted.push(...page.map((v) => v.record));
    const last = page.at(-1);
    if (page.length < VERSION_PAGE || last === undefined) break;
    after = stampOf(last.record).rank;
  }
  for (const shardKey of leftovers) {
    const dependency = await core.deleteIfPresent(shardKey);
    if (dependency !== undefined) await core.durable(dependency);
  }
  return counted;
}
