// Object lock (docs/S3.md, "Object lock"): which object versions may not be
// removed or have their retention weakened, and why.
//
// The model, as AWS documents it:
// - A bucket has object lock enabled iff it has a lock configuration
//   record (`\0K bucket`, object_lock_records.ts). It is enabled at
//   CreateBucket (x-amz-bucket-object-lock-enabled: true, which also turns
//   versioning on) or later by PutObjectLockConfiguration on a bucket whose
//   versioning is Enabled. It is never disabled, and versioning of such a
//   bucket cannot be suspended.
// - Lock state belongs to one object *version* (its record's `lock`
//   section): a retention (mode and retain-until date) and a legal hold.
//   Writes take it from the x-amz-object-lock-* headers, else from the
//   bucket's default retention (counted from the write's time; for a
//   multipart upload from CreateMultipartUpload, when the upload record
//   takes it).
// - A version is protected while its legal hold is ON or its retention
//   has not expired (retain-until > now, by the server's clock). A protected
//   version cannot be removed (DELETE with its versionId: 403 AccessDenied);
//   a DELETE without versionId only adds a delete marker, which is allowed.
//   GOVERNANCE retention yields to x-amz-bypass-governance-retention: true
//   from a principal with s3:BypassGovernanceRetention; COMPLIANCE and legal
//   holds yield to nobody.
// - Retention may always be lengthened in its mode. Shortening it,
//   removing it, or changing its mode is refused for COMPLIANCE, and
//   allowed for GOVERNANCE only with the bypass (GOVERNANCE -> COMPLIANCE
//   too, as AWS answers it and the S3 conformance suites expect).
//
// Invariants:
// 1. A version's lock state changes only through LockRules (checked under
//    the object's lock, on the record as stored).
// 2. An object written with lock state carries it in the same record as
//    its data, committed together: no window in which the object exists
//    unlocked.
import type { IncomingHttpHeaders } from 'node:http';
import type { Dependency } from '../../dependency/index.js';
import type { Core } from './core.js';
import { bucketLock, objectLock } from './core.js';
import { requireBucket } from './buckets.js';
import { requireObject } from './objects.js';
import type { DefaultRetention, LockConfigRecord, LockMode, ObjectLockState, Retention } from './object_lock_records.js';
import { MAX_RETAIN_UNTIL_MS, decodeLockConfig, decodeLockSection, encodeLockConfig, encodeLockSection, isEmptyLockState } from './object_lock_records.js';
import { encodeSettings } from './settings_record.js';
import type { OpContext } from './operation.js';
import type { ObjectRecord, RecordSectionName } from './records.js';
import { encodeObject } from './records.js';
import { headerOf } from './request.js';
import { isoTime } from './respond.js';
import { S3Error, accessDenied, invalidArgument, invalidRequest, notImplemented } from './s3_errors.js';
import { lockConfigShardKey, objectShardKey, settingsShardKey } from './shard_keys.js';
import type { VersionSelector } from './versioning.js';
import { NULL_VERSION_ID, findVersion, isDeleteMarker, noSuchVersion, readSettings, versionIdOf } from './versioning.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const MODE_HEADER = 'x-amz-object-lock-mode';
const DATE_HEADER = 'x-amz-object-lock-retain-until-date';
const HOLD_HEADER = 'x-amz-object-lock-legal-hold';
const LOCK_HEADERS: readonly string[] = [MODE_HEADER, DATE_HEADER, HOLD_HEADER];
const BYPASS_HEADER = 'x-amz-bypass-governance-retention';
/** ISO 8601 with a zone, as S3 takes dates (2030-01-01T00:00:00Z, .000Z, +02:00). */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/;

export const bucketMissingLock = (): S3Error => invalidRequest('Bucket is missing Object Lock Configuration');
export const protectedByLock = (): S3Error => accessDenied('Access Denied because object protected by object lock.');

/** x-amz-bucket-object-lock-enabled of CreateBucket: true or false (absent: false). Throws InvalidArgument. */
export function lockAtCreate(headers: IncomingHttpHeaders): boolean {
  const value = (headerOf(headers, 'x-amz-bucket-object-lock-enabled') ?? 'false').trim().toLowerCase();
  if (value !== 'true' && value !== 'false') throw invalidArgument('x-amz-bucket-object-lock-enabled must be true or false', { ArgumentName: 'x-amz-bucket-object-lock-enabled' });
  return value === 'true';
}

/**
 * A new bucket's object lock: its configuration (no default retention)
 * and versioning Enabled, durably. REQUIRES: the bucket's lock is held and
 * its bucket record is not written yet (createBucket's `prepare`).
 */
export async function enableLockAtCreate(core: Core, bucket: string): Promise<void> {
  await core.putDurable(lockConfigShardKey(bucket), encodeLockConfig({}));
  const settings = await readSettings(core, bucket);
  await core.putDurable(settingsShardKey(bucket), encodeSettings({ ...settings, versioning: 'enabled' }));
}

/** The bucket's lock configuration; undefined: object lock is not enabled. */
export async function readLockConfig(core: Core, bucket: string): Promise<LockConfigRecord | undefined> {
  const bytes = await core.getOptional(lockConfigShardKey(bucket));
  return bytes === undefined ? undefined : decodeLockConfig(bytes);
}

/** The version's lock state (empty if it has none). */
export function lockStateOf(record: ObjectRecord): ObjectLockState {
  const bytes = record.sections?.lock;
  return bytes === undefined ? {} : decodeLockSection(bytes);
}

/** `record` with lock state `state` (an empty state removes the section); other sections are kept. */
export function withLockState(record: ObjectRecord, state: ObjectLockState): ObjectRecord {
  const sections: Partial<Record<RecordSectionName, Buffer>> = { ...record.sections };
  if (isEmptyLockState(state)) delete sections.lock;
  else sections.lock = encodeLockSection(state);
  return { ...record, sections };
}

/** The x-amz-object-lock-* headers of a GET or HEAD answer about `record`. */
export function lockHeaders(record: ObjectRecord): Record<string, string> {
  const s = lockStateOf(record);
  return {
    ...(s.retention === undefined ? {} : { [MODE_HEADER]: s.retention.mode, [DATE_HEADER]: isoTime(s.retention.retainUntilMs) }),
    ...(s.legalHold === undefined ? {} : { [HOLD_HEADER]: s.legalHold }),
  };
}

/** The retain-until of the default retention `d` for a version written at `nowMs`: days of 24 h, calendar years (UTC). */
export function defaultRetainUntil(d: DefaultRetention, nowMs: number): number {
  if (d.unit === 'days') return Math.min(nowMs + d.period * DAY_MS, MAX_RETAIN_UNTIL_MS);
  const date = new Date(nowMs);
  date.setUTCFullYear(date.getUTCFullYear() + d.period);
  return Math.min(date.getTime(), MAX_RETAIN_UNTIL_MS);
}

export function parseMode(text: string, make: (message: string) => S3Error): LockMode {
  if (text === 'GOVERNANCE' || text === 'COMPLIANCE') return text;
  throw make('Unknown wormMode directive.');
}

/** A retain-until date (ISO 8601) that must lie after `nowMs`. Throws InvalidArgument. */
export function parseRetainUntil(text: string, nowMs: number): number {
  const ms = ISO_DATE.test(text.trim()) ? Date.parse(text.trim()) : NaN;
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_RETAIN_UNTIL_MS) throw invalidArgument('The retain until date must be provided in ISO 8601 format', { ArgumentName: DATE_HEADER, ArgumentValue: text });
  if (ms <= nowMs) throw invalidArgument('The retain until date must be in the future!', { ArgumentName: DATE_HEADER, ArgumentValue: text });
  return ms;
}

/**
 * The lock state a write (PutObject, CopyObject, CreateMultipartUpload)
 * gives the version it makes: from its x-amz-object-lock-* headers, else
 * the bucket's default retention; undefined if none. Checks the headers
 * (400), that the bucket has object lock (400 InvalidRequest), and that
 * the requester may set what they ask (s3:PutObjectRetention,
 * s3:PutObjectLegalHold). Call before the body is read.
 */
export async function lockOfWrite(c: OpContext, bucket: string, key: Buffer): Promise<ObjectLockState | undefined> {
  const headers = c.r.ex.req.headers;
  refuseUnknownLockHeaders(headers);
  const [mode, date, hold] = LOCK_HEADERS.map((name) => headerOf(headers, name));
  const asked = mode !== undefined || date !== undefined || hold !== undefined;
  const config = await readLockConfig(c.core, bucket);
  if (config === undefined) {
    if (asked) throw bucketMissingLock();
    return undefined;
  }
  if ((mode === undefined) !== (date === undefined)) throw invalidArgument(`${DATE_HEADER} and ${MODE_HEADER} must both be supplied`);
  let retention: Retention | undefined;
  if (mode !== undefined && date !== undefined) {
    retention = { mode: parseMode(mode.trim(), invalidArgument), retainUntilMs: parseRetainUntil(date, c.core.now()) };
    await c.access.checkObjectAction('s3:PutObjectRetention', bucket, key);
  } else if (config.defaultRetention !== undefined) {
    retention = { mode: config.defaultRetention.mode, retainUntilMs: defaultRetainUntil(config.defaultRetention, c.core.now()) };
  }
  let legalHold: 'ON' | 'OFF' | undefined;
  if (hold !== undefined) {
    const value = hold.trim();
    if (value !== 'ON' && value !== 'OFF') throw invalidArgument("Legal Hold must be either of 'ON' or 'OFF'", { ArgumentName: HOLD_HEADER, ArgumentValue: hold });
    legalHold = value;
    await c.access.checkObjectAction('s3:PutObjectLegalHold', bucket, key);
  }
  const state = { ...(retention === undefined ? {} : { retention }), ...(legalHold === undefined ? {} : { legalHold }) };
  return isEmptyLockState(state) ? undefined : state;
}

/** The lock state the bucket's default retention gives a version written now (POST form uploads); undefined if none. */
export async function defaultLockOf(core: Core, bucket: string): Promise<ObjectLockState | undefined> {
  const d = (await readLockConfig(core, bucket))?.defaultRetention;
  return d === undefined ? undefined : { retention: { mode: d.mode, retainUntilMs: defaultRetainUntil(d, core.now()) } };
}

/** An x-amz-object-lock-* header this server does not know would be ignored: 501. */
function refuseUnknownLockHeaders(headers: IncomingHttpHeaders): void {
  for (const name of Object.keys(headers)) {
    if (name.startsWith('x-amz-object-lock-') && !LOCK_HEADERS.includes(name)) throw notImplemented(`${name} (object lock)`);
  }
}

/** `record` with the lock state of a write (none: unchanged). */
export function lockedRecord(record: ObjectRecord, state: ObjectLockState | undefined): ObjectRecord {
  return state === undefined ? record : withLockState(record, state);
}

/**
 * Whether this request may bypass GOVERNANCE retention on the object:
 * x-amz-bypass-governance-retention: true and s3:BypassGovernanceRetention.
 * Without the permission the header counts for nothing (a protected
 * version then stays protected: 403 at the removal, not here).
 */
export async function bypassOf(c: OpContext, bucket: string, key: Buffer): Promise<boolean> {
  if ((headerOf(c.r.ex.req.headers, BYPASS_HEADER) ?? '').trim().toLowerCase() !== 'true') return false;
  try {
    await c.access.checkObjectAction('s3:BypassGovernanceRetention', bucket, key);
    return true;
  } catch (err) {
    if (err instanceof S3Error && err.status === 403) return false;
    throw err;
  }
}

/**
 * The rules of object lock, an object so that a broken variant can
 * replace one (testing/mutants/http_check_mutants.ts).
 */
export class LockRules {
  /** Throws 403 AccessDenied if the version (lock state `s`) may not be removed at `nowMs`. */
  checkRemoval(s: ObjectLockState, nowMs: number, bypass: boolean): void {
    if (s.legalHold === 'ON') throw protectedByLock();
    const r = s.retention;
    if (r === undefined || r.retainUntilMs <= nowMs) return;
    if (r.mode === 'COMPLIANCE' || !bypass) throw protectedByLock();
  }

  /** Throws 403 AccessDenied if retention `old` may not become `next` (undefined: removed) at `nowMs`. */
  checkRetentionChange(old: Retention | undefined, next: Retention | undefined, nowMs: number, bypass: boolean): void {
    if (old === undefined || old.retainUntilMs <= nowMs) return;
    // Any change of mode counts: GOVERNANCE -> COMPLIANCE needs the bypass too (as the S3 conformance suites expect).
    const weakens = next === undefined || next.retainUntilMs < old.retainUntilMs || next.mode !== old.mode;
    if (!weakens) return;
    if (old.mode === 'COMPLIANCE' || !bypass) throw protectedByLock();
  }
}

export const LOCK_RULES = new LockRules();

/** May the version be removed at `nowMs` without a bypass (the lifecycle pass: S3 never expires a protected version)? */
export function removableWithoutBypass(record: ObjectRecord, nowMs: number): boolean {
  try {
    LOCK_RULES.checkRemoval(lockStateOf(record), nowMs, false);
    return true;
  } catch (err: unknown) {
    if (err instanceof S3Error) return false;
    throw err;
  }
}

/** The removal check of DeleteObject with a versionId (versioning_ops.ts deleteRequested). */
export function removalGuard(core: Core, bypass: boolean): (record: ObjectRecord) => void {
  return (record) => LOCK_RULES.checkRemoval(lockStateOf(record), core.now(), bypass);
}

/** The version a lock request names: the current one, or `selector`'s. */
export interface LockTarget {
  readonly bucket: string;
  readonly key: Buffer;
  readonly selector: VersionSelector | undefined;
}

/** The record of the version `t` names and its shard key. Throws NoSuchKey, NoSuchVersion, 405 for a delete marker. */
export async function lockedVersion(core: Core, t: LockTarget): Promise<{ record: ObjectRecord; shardKey: Buffer }> {
  if (t.selector === undefined) return { record: await requireObject(core, t.bucket, t.key), shardKey: objectShardKey(t.bucket, t.key) };
  const found = await findVersion(core, t.bucket, t.key, t.selector);
  if (found === undefined) {
    await requireBucket(core, t.bucket);
    throw noSuchVersion(t.key, t.selector.kind === 'null' ? NULL_VERSION_ID : t.selector.rank.toString('hex'));
  }
  if (isDeleteMarker(found.record)) {
    throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.', { Method: 'PUT', ResourceType: 'DeleteMarker' }, { 'x-amz-version-id': versionIdOf(found.record) });
  }
  return { record: found.record, shardKey: found.shardKey };
}

/**
 * Where lock changes are written, an object so that a broken variant can
 * replace a step (testing/mutants/s3_lock_mutants.ts).
 */
export class LockWriter {
  /**
   * Change the lock state of one version: `change` (which may throw, e.g.
   * LockRules) maps its state to the new one, under the object's lock, and
   * the record is rewritten in place with the same data, ETag and mtime.
   * Resolves once durable. Throws NoSuchKey, NoSuchVersion, NoSuchBucket.
   */
  async change(core: Core, t: LockTarget, change: (s: ObjectLockState) => ObjectLockState): Promise<void> {
    await core.durable(await this.stage(core, t, change));
  }

  /** The rewrite of `change`, staged (not yet durable). */
  stage(core: Core, t: LockTarget, change: (s: ObjectLockState) => ObjectLockState): Promise<Dependency> {
    return core.locks.shared(bucketLock(t.bucket), () =>
      core.locks.exclusive(objectLock(t.bucket, t.key), async () => {
        const { record, shardKey } = await lockedVersion(core, t);
        return core.api.put(shardKey, encodeObject(withLockState(record, change(lockStateOf(record)))));
      }),
    );
  }
}

export const LOCK_WRITER = new LockWriter();
