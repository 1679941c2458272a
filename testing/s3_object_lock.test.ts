// Object lock against the AWS SDK, over the real store (docs/S3.md,
// "Object lock").
//
// Strategy: one node whose clock is a VirtualClock started at the real
// time; each test in its own bucket. Clients sign with the same virtual
// time (systemClockOffset), so a test moves time past a retain-until date
// by advancing the clock, never by waiting. Locks are set by headers
// (PutObject, CopyObject, CreateMultipartUpload), by the bucket's default
// retention and by Put{ObjectRetention,ObjectLegalHold}; each is then
// tested by the removals it must refuse and the ones it must allow.
//
// Invariants:
//   1. a version under GOVERNANCE retention is removed only with the
//      bypass header (and s3:BypassGovernanceRetention); under COMPLIANCE
//      or a legal hold ON, never; after its retain-until date, freely;
//   2. a DELETE without versionId adds a delete marker, locked or not;
//   3. COMPLIANCE retention is never shortened, GOVERNANCE only with the
//      bypass; both may be lengthened;
//   4. lock headers on a bucket without object lock are 400 InvalidRequest;
//      versioning of a lock bucket cannot be suspended;
//   5. HEAD and GET answer the version's lock state; it survives a reopen.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { ObjectLockRetentionMode } from '@aws-sdk/client-s3';
import { ACCESS_KEY, SECRET_KEY, startS3Node, s3ErrorName } from './s3_harness.js';
import type { S3Node } from './s3_harness.js';
import { VirtualClock } from './virtual_clock.js';
import { FORM_CONTENT_TYPE, formBody, signingFields } from './post_form.js';
import { sendSigned } from './s3_wire.js';
import type { Answer } from './s3_wire.js';

const DAY_MS = 24 * 3_600_000;
// The virtual clock starts at the real time (requests are signed with it) and only moves when a test advances it.
const clock = new VirtualClock(Date.now());
let node: S3Node;
let s3: S3Client;

/**
 * An SDK client signing with the virtual time. The SDK corrects its clock
 * from every answer's Date header (the real time, written by node:http),
 * which would undo the offset: the header is dropped before it looks.
 */
function client(): S3Client {
  const c = new S3Client({
    endpoint: node.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
    maxAttempts: 1,
    systemClockOffset: clock.nowMs() - Date.now(),
  });
  const dropDate = (response: unknown): void => {
    if (typeof response === 'object' && response !== null && 'headers' in response && typeof response.headers === 'object' && response.headers !== null) {
      delete (response.headers as Record<string, unknown>).date;
    }
  };
  c.middlewareStack.add(
    (next) => async (args) => {
      try {
        const out = await next(args);
        dropDate(out.response);
        return out;
      } catch (err) {
        if (typeof err === 'object' && err !== null && '$response' in err) dropDate(err.$response);
        throw err;
      }
    },
    { step: 'deserialize', name: 'dropDateForVirtualClock' },
  );
  return c;
}

/** Move the server's time, and the client's signing time with it. */
function advance(ms: number): void {
  clock.advance(ms);
  s3.destroy();
  s3 = client();
}

before(async () => {
  node = await startS3Node({ s3: { now: () => clock.nowMs() } });
  s3 = client();
});

after(async () => {
  s3.destroy();
  await node.stop();
  // The last test reopens the data folder as a folder of its own: the harness leaves it.
  rmSync(node.dataDir, { recursive: true, force: true });
});

async function lockBucket(name: string): Promise<string> {
  await s3.send(new CreateBucketCommand({ Bucket: name, ObjectLockEnabledForBucket: true }));
  return name;
}

async function putLocked(bucket: string, key: string, mode: ObjectLockRetentionMode | undefined, untilMs: number, hold?: 'ON' | 'OFF'): Promise<string> {
  const out = await s3.send(new PutObjectCommand({
    Bucket: bucket, Key: key, Body: `body of ${key}`,
    ...(mode === undefined ? {} : { ObjectLockMode: mode, ObjectLockRetainUntilDate: new Date(untilMs) }),
    ...(hold === undefined ? {} : { ObjectLockLegalHoldStatus: hold }),
  }));
  assert.ok(out.VersionId !== undefined && out.VersionId !== 'null', 'a lock bucket is versioned');
  return out.VersionId;
}

const removeVersion = (bucket: string, key: string, versionId: string, bypass = false): Promise<unknown> =>
  s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId, ...(bypass ? { BypassGovernanceRetention: true } : {}) }));

void test('CreateBucket with object lock turns versioning on for good; the configuration reads back', async () => {
  const bucket = await lockBucket('lock-create');
  assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status, 'Enabled');
  assert.deepEqual((await s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }))).ObjectLockConfiguration, { ObjectLockEnabled: 'Enabled' });
  assert.equal(await s3ErrorName(s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Suspended' } }))), 'InvalidBucketState');
  assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status, 'Enabled');
  await s3.send(new CreateBucketCommand({ Bucket: 'lock-none' }));
  assert.equal(await s3ErrorName(s3.send(new GetObjectLockConfigurationCommand({ Bucket: 'lock-none' }))), 'ObjectLockConfigurationNotFoundError');
});

// Raw requests are signed with the real time: this runs before any test advances the clock.
void test('lock headers are checked: both of mode and date, known values; PutObjectRetention needs an integrity header', async () => {
  const bucket = await lockBucket('lock-headers');
  const until = new Date(clock.nowMs() + DAY_MS).toISOString();
  const put = (headers: Record<string, string>): Promise<Answer> =>
    sendSigned(node.port, { method: 'PUT', path: `/${bucket}/k`, headers, body: Buffer.from('x') });
  assert.equal((await put({ 'x-amz-object-lock-mode': 'GOVERNANCE' })).code, 'InvalidArgument');
  assert.equal((await put({ 'x-amz-object-lock-mode': 'FOREVER', 'x-amz-object-lock-retain-until-date': until })).code, 'InvalidArgument');
  assert.equal((await put({ 'x-amz-object-lock-mode': 'GOVERNANCE', 'x-amz-object-lock-retain-until-date': 'tomorrow' })).code, 'InvalidArgument');
  assert.equal((await put({ 'x-amz-object-lock-legal-hold': 'MAYBE' })).code, 'InvalidArgument');
  assert.equal((await put({ 'x-amz-object-lock-token': 't' })).code, 'NotImplemented');
  assert.equal((await put({ 'x-amz-object-lock-mode': 'GOVERNANCE', 'x-amz-object-lock-retain-until-date': until })).status, 200);
  const body = Buffer.from(`<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>${until}</RetainUntilDate></Retention>`);
  const noDigest = await sendSigned(node.port, { method: 'PUT', path: `/${bucket}/k`, query: { retention: '' }, headers: {}, body });
  assert.deepEqual([noDigest.status, noDigest.code], [400, 'InvalidRequest']);
  // x-amz-bypass-governance-retention outside the operations it serves is refused, never ignored.
  const stray = await sendSigned(node.port, { method: 'GET', path: `/${bucket}/k`, headers: { 'x-amz-bypass-governance-retention': 'true' } });
  assert.equal(stray.status, 501);
});

void test('lock headers, retention and legal hold requests on a bucket without object lock are 400 InvalidRequest', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'lock-plain' }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: 'lock-plain', VersioningConfiguration: { Status: 'Enabled' } }));
  const until = new Date(clock.nowMs() + DAY_MS);
  assert.equal(await s3ErrorName(s3.send(new PutObjectCommand({ Bucket: 'lock-plain', Key: 'k', Body: 'x', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: until }))), 'InvalidRequest');
  assert.equal(await s3ErrorName(s3.send(new PutObjectCommand({ Bucket: 'lock-plain', Key: 'k', Body: 'x', ObjectLockLegalHoldStatus: 'ON' }))), 'InvalidRequest');
  await s3.send(new PutObjectCommand({ Bucket: 'lock-plain', Key: 'k', Body: 'x' }));
  assert.equal(await s3ErrorName(s3.send(new PutObjectRetentionCommand({ Bucket: 'lock-plain', Key: 'k', Retention: { Mode: 'GOVERNANCE', RetainUntilDate: until } }))), 'InvalidRequest');
  assert.equal(await s3ErrorName(s3.send(new GetObjectLegalHoldCommand({ Bucket: 'lock-plain', Key: 'k' }))), 'InvalidRequest');
});

void test('enabling object lock on an existing bucket needs versioning Enabled', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'lock-later' }));
  const config = { ObjectLockEnabled: 'Enabled' as const, Rule: { DefaultRetention: { Mode: 'GOVERNANCE' as const, Days: 1 } } };
  assert.equal(await s3ErrorName(s3.send(new PutObjectLockConfigurationCommand({ Bucket: 'lock-later', ObjectLockConfiguration: config }))), 'InvalidBucketState');
  await s3.send(new PutBucketVersioningCommand({ Bucket: 'lock-later', VersioningConfiguration: { Status: 'Enabled' } }));
  await s3.send(new PutObjectLockConfigurationCommand({ Bucket: 'lock-later', ObjectLockConfiguration: config }));
  assert.deepEqual((await s3.send(new GetObjectLockConfigurationCommand({ Bucket: 'lock-later' }))).ObjectLockConfiguration, config);
  assert.equal(await s3ErrorName(s3.send(new PutBucketVersioningCommand({ Bucket: 'lock-later', VersioningConfiguration: { Status: 'Suspended' } }))), 'InvalidBucketState');
});

void test('default retention: a write without lock headers gets it, counted from the write; bad configurations are refused', async () => {
  const bucket = await lockBucket('lock-default');
  const bad = async (DefaultRetention: Record<string, unknown>): Promise<string> =>
    s3ErrorName(s3.send(new PutObjectLockConfigurationCommand({ Bucket: bucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention } } })));
  assert.equal(await bad({ Mode: 'GOVERNANCE', Days: 1, Years: 1 }), 'MalformedXML');
  assert.equal(await bad({ Mode: 'GOVERNANCE' }), 'MalformedXML');
  assert.equal(await bad({ Mode: 'GOVERNANCE', Days: 0 }), 'InvalidRetentionPeriod');
  assert.equal(await bad({ Mode: 'GOVERNANCE', Years: 101 }), 'InvalidRetentionPeriod');
  assert.equal(await bad({ Mode: 'SOMETIMES', Days: 1 }), 'MalformedXML');
  await s3.send(new PutObjectLockConfigurationCommand({ Bucket: bucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 2 } } } }));
  const writtenMs = clock.nowMs();
  const versionId = await putLocked(bucket, 'k', undefined, 0);
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }));
  assert.equal(head.ObjectLockMode, 'COMPLIANCE');
  assert.equal(head.ObjectLockRetainUntilDate?.getTime(), writtenMs + 2 * DAY_MS);
  const retention = await s3.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: 'k', VersionId: versionId }));
  assert.deepEqual(retention.Retention, { Mode: 'COMPLIANCE', RetainUntilDate: new Date(writtenMs + 2 * DAY_MS) });
  // Explicit headers win over the default.
  await putLocked(bucket, 'g', 'GOVERNANCE', writtenMs + DAY_MS);
  assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'g' }))).ObjectLockMode, 'GOVERNANCE');
  assert.equal(await s3ErrorName(removeVersion(bucket, 'k', versionId, true)), 'AccessDenied');
  advance(2 * DAY_MS + 1);
  await removeVersion(bucket, 'k', versionId);
});

void test('a POST form upload gets the bucket\'s default retention; a lock field in the form is refused', async () => {
  const bucket = await lockBucket('lock-form');
  await s3.send(new PutObjectLockConfigurationCommand({ Bucket: bucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 3 } } } }));
  const post = async (extra: Record<string, string>): Promise<Response> => {
    const signing = signingFields({ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY, nowMs: clock.nowMs(), bucket, key: 'form', fields: extra });
    const body = formBody([['key', 'form'], ...signing.fields, ...Object.entries(extra)], Buffer.from('from a form'));
    return fetch(`${node.endpoint}/${bucket}`, { method: 'POST', body, headers: { 'content-type': FORM_CONTENT_TYPE } });
  };
  const refused = await post({ 'x-amz-object-lock-legal-hold': 'ON' });
  assert.equal(refused.status, 501, await refused.text());
  const posted = await post({});
  assert.equal(posted.status, 204, await posted.text());
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'form' }));
  assert.deepEqual([head.ObjectLockMode, head.ObjectLockRetainUntilDate?.getTime()], ['GOVERNANCE', clock.nowMs() + 3 * DAY_MS]);
});

void test('GOVERNANCE: a version is removed only with the bypass; a plain DELETE adds a delete marker; retention shortened only with the bypass', async () => {
  const bucket = await lockBucket('lock-governance');
  const until = clock.nowMs() + 10 * DAY_MS;
  const v1 = await putLocked(bucket, 'k', 'GOVERNANCE', until);
  assert.equal(await s3ErrorName(removeVersion(bucket, 'k', v1)), 'AccessDenied');
  const marker = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }));
  assert.equal(marker.DeleteMarker, true);
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k', VersionId: v1 }));
  assert.equal(head.ObjectLockMode, 'GOVERNANCE');
  // Lengthen: allowed. Shorten: 403 without the bypass, allowed with it.
  await s3.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: 'k', VersionId: v1, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(until + DAY_MS) } }));
  const shorter = { Bucket: bucket, Key: 'k', VersionId: v1, Retention: { Mode: 'GOVERNANCE' as const, RetainUntilDate: new Date(until - DAY_MS) } };
  assert.equal(await s3ErrorName(s3.send(new PutObjectRetentionCommand(shorter))), 'AccessDenied');
  await s3.send(new PutObjectRetentionCommand({ ...shorter, BypassGovernanceRetention: true }));
  // A change of mode needs the bypass too, even GOVERNANCE -> COMPLIANCE (refused 403 without it).
  const stricter = { Bucket: bucket, Key: 'k', VersionId: v1, Retention: { Mode: 'COMPLIANCE' as const, RetainUntilDate: new Date(until + 2 * DAY_MS) } };
  assert.equal(await s3ErrorName(s3.send(new PutObjectRetentionCommand(stricter))), 'AccessDenied');
  assert.equal((await s3.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: 'k', VersionId: v1 }))).Retention?.RetainUntilDate?.getTime(), until - DAY_MS);
  // A policy that denies s3:BypassGovernanceRetention makes the header count for nothing, the owner's too.
  await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:BypassGovernanceRetention', Resource: `arn:aws:s3:::${bucket}/*` }] }) }));
  assert.equal(await s3ErrorName(removeVersion(bucket, 'k', v1, true)), 'AccessDenied');
  await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }] }) }));
  await removeVersion(bucket, 'k', v1, true);
  assert.equal(await s3ErrorName(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k', VersionId: v1 }))), 'NotFound');
});

void test('COMPLIANCE: never removed nor shortened before its date, not even with the bypass; lengthened freely; free after the date', async () => {
  const bucket = await lockBucket('lock-compliance');
  const until = clock.nowMs() + DAY_MS;
  const v1 = await putLocked(bucket, 'k', 'COMPLIANCE', until);
  assert.equal(await s3ErrorName(removeVersion(bucket, 'k', v1, true)), 'AccessDenied');
  const base = { Bucket: bucket, Key: 'k', VersionId: v1, BypassGovernanceRetention: true };
  assert.equal(await s3ErrorName(s3.send(new PutObjectRetentionCommand({ ...base, Retention: { Mode: 'COMPLIANCE', RetainUntilDate: new Date(until - 1000) } }))), 'AccessDenied');
  assert.equal(await s3ErrorName(s3.send(new PutObjectRetentionCommand({ ...base, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(until + DAY_MS) } }))), 'AccessDenied');
  assert.equal(await s3ErrorName(s3.send(new PutObjectRetentionCommand({ ...base, Retention: {} }))), 'AccessDenied');
  await s3.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: 'k', VersionId: v1, Retention: { Mode: 'COMPLIANCE', RetainUntilDate: new Date(until + DAY_MS) } }));
  advance(DAY_MS + 1);
  assert.equal(await s3ErrorName(removeVersion(bucket, 'k', v1)), 'AccessDenied');
  advance(DAY_MS);
  await removeVersion(bucket, 'k', v1);
  // A date in the past is refused, on a write and on a retention change.
  assert.equal(await s3ErrorName(putLocked(bucket, 'p', 'COMPLIANCE', clock.nowMs() - 1000)), 'InvalidArgument');
});

void test('legal hold: set by header or request, blocks removal whatever the retention, lifted by OFF', async () => {
  const bucket = await lockBucket('lock-hold');
  const v1 = await putLocked(bucket, 'k', undefined, 0, 'ON');
  assert.equal((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }))).ObjectLockLegalHoldStatus, 'ON');
  assert.equal(await s3ErrorName(removeVersion(bucket, 'k', v1, true)), 'AccessDenied');
  await s3.send(new PutObjectLegalHoldCommand({ Bucket: bucket, Key: 'k', LegalHold: { Status: 'OFF' } }));
  assert.equal((await s3.send(new GetObjectLegalHoldCommand({ Bucket: bucket, Key: 'k' }))).LegalHold?.Status, 'OFF');
  const v2 = await putLocked(bucket, 'j', undefined, 0);
  assert.equal(await s3ErrorName(s3.send(new GetObjectLegalHoldCommand({ Bucket: bucket, Key: 'j' }))), 'NoSuchObjectLockConfiguration');
  assert.equal(await s3ErrorName(s3.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: 'j' }))), 'NoSuchObjectLockConfiguration');
  await s3.send(new PutObjectLegalHoldCommand({ Bucket: bucket, Key: 'j', VersionId: v2, LegalHold: { Status: 'ON' } }));
  // DeleteObjects: the held version is refused in the Error list, the free one deleted.
  const out = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'j', VersionId: v2 }, { Key: 'k', VersionId: v1 }] } }));
  assert.deepEqual(out.Errors?.map((e) => [e.Key, e.Code]), [['j', 'AccessDenied']]);
  assert.deepEqual(out.Deleted?.map((d) => d.Key), ['k']);
  // A bucket holding a locked version is not empty.
  assert.equal(await s3ErrorName(s3.send(new DeleteBucketCommand({ Bucket: bucket }))), 'BucketNotEmpty');
});

void test('CopyObject and multipart uploads take the request\'s lock, never the source\'s', async () => {
  const bucket = await lockBucket('lock-copy');
  const until = clock.nowMs() + DAY_MS;
  await putLocked(bucket, 'src', 'COMPLIANCE', until, 'ON');
  await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'plain', CopySource: `${bucket}/src` }));
  const plain = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'plain' }));
  assert.equal(plain.ObjectLockMode, undefined);
  assert.equal(plain.ObjectLockLegalHoldStatus, undefined);
  await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'gov', CopySource: `${bucket}/src`, ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: new Date(until) }));
  assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'gov' }))).ObjectLockMode, 'GOVERNANCE');
  const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: new Date(until), ObjectLockLegalHoldStatus: 'ON' }));
  const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId: upload.UploadId, PartNumber: 1, Body: 'one part' }));
  const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'mp', UploadId: upload.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'mp' }));
  assert.deepEqual([head.ObjectLockMode, head.ObjectLockRetainUntilDate?.getTime(), head.ObjectLockLegalHoldStatus], ['COMPLIANCE', until, 'ON']);
  assert.equal(await s3ErrorName(removeVersion(bucket, 'mp', done.VersionId ?? '')), 'AccessDenied');
});

void test('lock state survives a reopen of the data folder', async () => {
  const bucket = await lockBucket('lock-reopen');
  const until = clock.nowMs() + DAY_MS;
  const v1 = await putLocked(bucket, 'k', 'COMPLIANCE', until, 'ON');
  await s3.send(new PutObjectLockConfigurationCommand({ Bucket: bucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Years: 1 } } } }));
  const dataDir = node.dataDir;
  s3.destroy();
  await node.server.close();
  await node.api.close();
  node = await startS3Node({ dataDir, s3: { now: () => clock.nowMs() } });
  s3 = client();
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k', VersionId: v1 }));
  assert.deepEqual([head.ObjectLockMode, head.ObjectLockRetainUntilDate?.getTime(), head.ObjectLockLegalHoldStatus], ['COMPLIANCE', until, 'ON']);
  assert.equal((await s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }))).ObjectLockConfiguration?.Rule?.DefaultRetention?.Years, 1);
  assert.equal(await s3ErrorName(removeVersion(bucket, 'k', v1, true)), 'AccessDenied');
});

void test('object lock with SSE-C: both kept in one record, on a single PUT and through a multipart upload; the key still needed to read', async () => {
  // The record's sections side by side (records.ts): the lock section and
  // the encryption section of one version, neither lost when the other is
  // applied (object_ops.ts seals, then locks; uploads carry both).
  const bucket = await lockBucket('lock-sse');
  const until = clock.nowMs() + DAY_MS;
  const key = Buffer.alloc(32, 0x3c);
  const sse = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(key).digest('base64') };
  const one = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'one', Body: 'secret one', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: new Date(until), ...sse }));
  const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp', ObjectLockLegalHoldStatus: 'ON', ...sse }));
  const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId: upload.UploadId, PartNumber: 1, Body: 'secret part', ...sse }));
  const mp = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'mp', UploadId: upload.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
  for (const [name, body, versionId, lock] of [['one', 'secret one', one.VersionId, ['GOVERNANCE', until, undefined]], ['mp', 'secret part', mp.VersionId, [undefined, undefined, 'ON']]] as const) {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: name, ...sse }));
    assert.equal(await got.Body?.transformToString(), body, name);
    assert.deepEqual([got.ObjectLockMode, got.ObjectLockRetainUntilDate?.getTime(), got.ObjectLockLegalHoldStatus], lock, name);
    assert.equal(got.SSECustomerAlgorithm, 'AES256', name);
    assert.equal(await s3ErrorName(s3.send(new GetObjectCommand({ Bucket: bucket, Key: name }))), 'InvalidRequest', `${name} without its key`);
    assert.equal(await s3ErrorName(removeVersion(bucket, name, versionId ?? '')), 'AccessDenied', `${name} is protected`);
  }
});
