// Object lock operations: Put/GetObjectLockConfiguration,
// Put/GetObjectRetention, Put/GetObjectLegalHold (the rules: object_lock.ts).
//
// Decision (docs/S3.md, "Object lock"): the three puts must carry
// Content-MD5 or an x-amz-checksum-* value, as S3 demands for them (the
// SDKs send one by themselves); without it they answer 400 InvalidRequest.
// PutObject with lock headers does not demand one: its body is verified
// when it carries a digest, as every PutObject's.
import { requireBucket } from './buckets.js';
import type { Core } from './core.js';
import { bucketLock } from './core.js';
import type { DefaultRetention, LockConfigRecord, ObjectLockState, Retention } from './object_lock_records.js';
import { MAX_DEFAULT_DAYS, MAX_DEFAULT_YEARS, encodeLockConfig } from './object_lock_records.js';
import { LOCK_RULES, LOCK_WRITER, bucketMissingLock, bypassOf, lockStateOf, lockedVersion, parseMode, parseRetainUntil, readLockConfig } from './object_lock.js';
import { requireIntegrityHeader } from './object_ops.js';
import type { OpContext, Operation } from './operation.js';
import { bucketOf, keyOf } from './operation.js';
import { readXmlBody } from './request_body.js';
import { isoTime, sendEmpty, sendXml } from './respond.js';
import { S3Error, malformedXml } from './s3_errors.js';
import { lockConfigShardKey } from './shard_keys.js';
import { requestedVersion } from './versioning_ops.js';
import { readSettings } from './versioning.js';
import type { XmlNode } from './xml.js';
import { asNode, child, optionalText, parseXml } from './xml.js';

/** Each of these documents is a few hundred bytes. */
const MAX_LOCK_BODY_BYTES = 64 * 1024;

const noObjectLockConfiguration = (): S3Error => new S3Error(404, 'NoSuchObjectLockConfiguration', 'The specified object does not have a ObjectLock configuration');
const invalidBucketState = (message: string): S3Error => new S3Error(409, 'InvalidBucketState', message);

/** The request's document, root `root`, after its integrity header is checked. */
async function lockDocument(c: OpContext, root: string): Promise<XmlNode> {
  requireIntegrityHeader(c.r.ex.req.headers);
  return asNode(child(parseXml(await readXmlBody(c.r.ex, c.auth, MAX_LOCK_BODY_BYTES)), root), root);
}

/** The bucket's lock configuration; 400 InvalidRequest if object lock is not enabled. */
async function requireLockConfig(core: Core, bucket: string): Promise<LockConfigRecord> {
  await requireBucket(core, bucket);
  const config = await readLockConfig(core, bucket);
  if (config === undefined) throw bucketMissingLock();
  return config;
}

/** Rule/DefaultRetention of an ObjectLockConfiguration: Mode and exactly one of Days and Years. */
function defaultRetentionOf(doc: XmlNode): DefaultRetention | undefined {
  if (doc.Rule === undefined) return undefined;
  const d = asNode(child(asNode(child(doc, 'Rule'), 'Rule'), 'DefaultRetention'), 'DefaultRetention');
  const mode = parseMode(optionalText(d, 'Mode') ?? '', malformedXml);
  const [days, years] = [optionalText(d, 'Days'), optionalText(d, 'Years')];
  if ((days === undefined) === (years === undefined)) throw malformedXml('DefaultRetention needs exactly one of Days and Years');
  const unit = days === undefined ? 'years' : 'days';
  const text = (days ?? years ?? '').trim();
  const period = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
  if (!(period >= 1)) throw new S3Error(400, 'InvalidRetentionPeriod', 'Default retention period must be a positive integer value.');
  if (period > (unit === 'days' ? MAX_DEFAULT_DAYS : MAX_DEFAULT_YEARS)) throw new S3Error(400, 'InvalidRetentionPeriod', `Default retention period too large: at most ${MAX_DEFAULT_DAYS} days or ${MAX_DEFAULT_YEARS} years.`);
  return { mode, unit, period };
}

export const putObjectLockConfigurationOp: Operation = {
  name: 'PutObjectLockConfiguration',
  run: async (c) => {
    const bucket = bucketOf(c);
    await requireBucket(c.core, bucket);
    const doc = await lockDocument(c, 'ObjectLockConfiguration');
    if (optionalText(doc, 'ObjectLockEnabled') !== 'Enabled') throw malformedXml('ObjectLockEnabled must be Enabled');
    const defaultRetention = defaultRetentionOf(doc);
    await c.core.locks.exclusive(bucketLock(bucket), async () => {
      await requireBucket(c.core, bucket);
      // Enabling lock on an existing bucket, as S3 allows: its versioning must be Enabled (and then stays so).
      if ((await readLockConfig(c.core, bucket)) === undefined && (await readSettings(c.core, bucket)).versioning !== 'enabled') {
        throw invalidBucketState('Versioning must be \'Enabled\' on the bucket to apply a Object Lock configuration');
      }
      await c.core.putDurable(lockConfigShardKey(bucket), encodeLockConfig(defaultRetention === undefined ? {} : { defaultRetention }));
    });
    sendEmpty(c.r.ex, c.r.requestId, 200);
  },
};

export const getObjectLockConfigurationOp: Operation = {
  name: 'GetObjectLockConfiguration',
  run: async (c) => {
    const bucket = bucketOf(c);
    await requireBucket(c.core, bucket);
    const config = await readLockConfig(c.core, bucket);
    if (config === undefined) throw new S3Error(404, 'ObjectLockConfigurationNotFoundError', 'Object Lock configuration does not exist for this bucket', { BucketName: bucket });
    const d = config.defaultRetention;
    const rule = d === undefined ? {} : { Rule: { DefaultRetention: { Mode: d.mode, ...(d.unit === 'days' ? { Days: d.period } : { Years: d.period }) } } };
    sendXml(c.r.ex, c.r.requestId, 200, 'ObjectLockConfiguration', { ObjectLockEnabled: 'Enabled', ...rule });
  },
};

/** A Retention document: Mode and RetainUntilDate, or neither (no retention). */
function retentionOf(doc: XmlNode, nowMs: number): Retention | undefined {
  const [mode, date] = [optionalText(doc, 'Mode'), optionalText(doc, 'RetainUntilDate')];
  if (mode === undefined && date === undefined) return undefined;
  if (mode === undefined || date === undefined) throw malformedXml('Retention needs both Mode and RetainUntilDate, or neither');
  return { mode: parseMode(mode.trim(), malformedXml), retainUntilMs: parseRetainUntil(date, nowMs) };
}

export const putObjectRetentionOp: Operation = {
  name: 'PutObjectRetention',
  run: async (c) => {
    const [bucket, key] = [bucketOf(c), keyOf(c)];
    const selector = requestedVersion(c);
    await requireLockConfig(c.core, bucket);
    const next = retentionOf(await lockDocument(c, 'Retention'), c.core.now());
    const bypass = await bypassOf(c, bucket, key);
    await LOCK_WRITER.change(c.core, { bucket, key, selector }, (s) => {
      LOCK_RULES.checkRetentionChange(s.retention, next, c.core.now(), bypass);
      return { ...(next === undefined ? {} : { retention: next }), ...(s.legalHold === undefined ? {} : { legalHold: s.legalHold }) };
    });
    sendEmpty(c.r.ex, c.r.requestId, 200);
  },
};

/** The lock state of the version a Get{ObjectRetention,ObjectLegalHold} names. */
async function requestedLockState(c: OpContext): Promise<ObjectLockState> {
  const [bucket, key] = [bucketOf(c), keyOf(c)];
  await requireLockConfig(c.core, bucket);
  return lockStateOf((await lockedVersion(c.core, { bucket, key, selector: requestedVersion(c) })).record);
}

export const getObjectRetentionOp: Operation = {
  name: 'GetObjectRetention',
  run: async (c) => {
    const retention = (await requestedLockState(c)).retention;
    if (retention === undefined) throw noObjectLockConfiguration();
    sendXml(c.r.ex, c.r.requestId, 200, 'Retention', { Mode: retention.mode, RetainUntilDate: isoTime(retention.retainUntilMs) });
  },
};

export const putObjectLegalHoldOp: Operation = {
  name: 'PutObjectLegalHold',
  run: async (c) => {
    const [bucket, key] = [bucketOf(c), keyOf(c)];
    const selector = requestedVersion(c);
    await requireLockConfig(c.core, bucket);
    const status = optionalText(await lockDocument(c, 'LegalHold'), 'Status');
    if (status !== 'ON' && status !== 'OFF') throw malformedXml('LegalHold Status must be ON or OFF');
    // A legal hold is set and lifted by anyone with s3:PutObjectLegalHold: no bypass, no rules.
    await LOCK_WRITER.change(c.core, { bucket, key, selector }, (s) => ({ ...s, legalHold: status }));
    sendEmpty(c.r.ex, c.r.requestId, 200);
  },
};

export const getObjectLegalHoldOp: Operation = {
  name: 'GetObjectLegalHold',
  run: async (c) => {
    const legalHold = (await requestedLockState(c)).legalHold;
    if (legalHold === undefined) throw noObjectLockConfiguration();
    sendXml(c.r.ex, c.r.requestId, 200, 'LegalHold', { Status: legalHold });
  },
};
