// Bucket lifecycle (docs/S3.md, "Lifecycle") against the AWS SDK and raw
// signed requests, over the real store (two disks).
//
// Strategy: one node; each test in its own bucket. Configurations are set
// with PutBucketLifecycleConfiguration and read back; S3's validation is
// sent as raw XML so each refusal is the one element at fault. The pass is
// run by the test at chosen moments (front.lifecycle.run(nowMs)): the
// moments are computed from the objects' own Last-Modified, one millisecond
// before and at the midnight S3's rounding gives, so nothing sleeps and
// the outcome does not depend on when the test runs.
//
// Invariants:
//   1. GET answers the rules as put; DELETE removes them; a bucket without
//      any answers 404 NoSuchLifecycleConfiguration;
//   2. each malformed configuration is refused with S3's code, and leaves
//      the configuration as it was;
//   3. an object expires exactly at the midnight after creation + Days,
//      only under its rule's filter (prefix, tags, size);
//   4. in a versioned bucket expiration adds a delete marker; noncurrent
//      versions expire NoncurrentDays after they became noncurrent,
//      keeping NewerNoncurrentVersions; a lone expired delete marker goes;
//   5. uploads under an abort rule's prefix are aborted, the others kept.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketLifecycleCommand,
  DeleteObjectCommand,
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import type { LifecycleRule, S3Client } from '@aws-sdk/client-s3';
import { CorruptionError } from '../src/base/index.js';
import { DAY_MS, decodeLifecycle, encodeLifecycle, lifecycleOfBody } from '../src/server/s3/lifecycle.js';
import type { LifecycleReport } from '../src/server/s3/lifecycle_pass.js';
import { parseServeArgs, serveHelp } from '../src/cli/serve_options.js';
import { objectShardKey } from '../src/server/s3/shard_keys.js';
import type { S3Node } from './s3_harness.js';
import { s3ErrorName, startS3Node } from './s3_harness.js';
import { contentMd5, sendSigned } from './s3_wire.js';

let node: S3Node;
let s3: S3Client;

before(async () => {
  node = await startS3Node({ s3: { lifecycleIntervalMs: 0 } });
  s3 = node.client();
});

after(async () => {
  await node.stop();
});

async function bucket(name: string, versioned = false): Promise<string> {
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  if (versioned) await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
  return name;
}

async function setRules(b: string, rules: LifecycleRule[]): Promise<void> {
  await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: b, LifecycleConfiguration: { Rules: rules } }));
}

/** Run the pass as of `nowMs`, then let the collector finish. */
async function pass(nowMs: number): Promise<LifecycleReport> {
  const front = node.server.s3;
  assert.ok(front !== undefined);
  const report = await front.lifecycle.run(nowMs);
  await node.settle();
  return report;
}

async function mtimeOf(b: string, key: string): Promise<number> {
  const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: key }));
  assert.ok(head.LastModified !== undefined);
  return head.LastModified.getTime();
}

async function exists(b: string, key: string): Promise<boolean> {
  const name = await s3ErrorName(s3.send(new HeadObjectCommand({ Bucket: b, Key: key })));
  assert.ok(name === 'no error' || name === 'NotFound', name);
  return name === 'no error';
}

/** S3's rounding: the midnight UTC at or after creation + `days`. Last-Modified has whole seconds, the record milliseconds: up to 1 s later. */
const dueMs = (mtimeMs: number, days: number): number => Math.ceil((mtimeMs + 999 + days * DAY_MS) / DAY_MS) * DAY_MS;

void test('configuration: put, get as put, delete; 404 NoSuchLifecycleConfiguration without one', async () => {
  const b = await bucket('lc-config');
  assert.equal(await s3ErrorName(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b }))), 'NoSuchLifecycleConfiguration');
  assert.equal(await s3ErrorName(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'lc-missing' }))), 'NoSuchBucket');
  const rules: LifecycleRule[] = [
    {
      ID: 'logs',
      Status: 'Enabled',
      Filter: { And: { Prefix: 'logs/', Tags: [{ Key: 'kind', Value: 'debug' }], ObjectSizeGreaterThan: 10, ObjectSizeLessThan: 1000 } },
      Expiration: { Days: 7 },
      NoncurrentVersionExpiration: { NoncurrentDays: 3, NewerNoncurrentVersions: 2 },
    },
    { ID: 'uploads', Status: 'Disabled', Filter: { Prefix: 'tmp/' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 } },
    { ID: 'markers', Status: 'Enabled', Filter: {}, Expiration: { ExpiredObjectDeleteMarker: true } },
    { ID: 'dated', Status: 'Enabled', Filter: { ObjectSizeGreaterThan: 5 }, Expiration: { Date: new Date('2030-01-01T00:00:00Z') } },
  ];
  await setRules(b, rules);
  const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b }));
  assert.deepEqual(got.Rules, rules);
  await s3.send(new DeleteBucketLifecycleCommand({ Bucket: b }));
  assert.equal(await s3ErrorName(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b }))), 'NoSuchLifecycleConfiguration');
  // A delete of none is still 204, as in S3.
  await s3.send(new DeleteBucketLifecycleCommand({ Bucket: b }));
});

const rule = (inner: string): string => `<Rule>${inner}</Rule>`;
const doc = (...rules: string[]): Buffer => Buffer.from(`<LifecycleConfiguration>${rules.join('')}</LifecycleConfiguration>`);
const good = '<ID>r</ID><Filter><Prefix>a/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>';

void test("validation: each malformed configuration is refused with S3's code and changes nothing", async () => {
  const b = await bucket('lc-valid');
  await setRules(b, [{ ID: 'kept', Status: 'Enabled', Filter: { Prefix: 'k/' }, Expiration: { Days: 9 } }]);
  const cases: Array<[string, Buffer, string]> = [
    ['duplicate IDs', doc(rule(good), rule(good)), 'InvalidArgument'],
    ['1001 rules', doc(...Array.from({ length: 1001 }, (_, i) => rule(good.replace('<ID>r</ID>', `<ID>r${i}</ID>`)))), 'MalformedXML'],
    ['an ID of 256 characters', doc(rule(good.replace('<ID>r</ID>', `<ID>${'x'.repeat(256)}</ID>`))), 'InvalidArgument'],
    ['Status Paused', doc(rule(good.replace('Enabled', 'Paused'))), 'MalformedXML'],
    ['Days 0', doc(rule(good.replace('<Days>1</Days>', '<Days>0</Days>'))), 'InvalidArgument'],
    ['Days and Date', doc(rule(good.replace('<Days>1</Days>', '<Days>1</Days><Date>2030-01-01T00:00:00Z</Date>'))), 'MalformedXML'],
    ['a Date not at midnight', doc(rule(good.replace('<Days>1</Days>', '<Date>2030-01-01T10:00:00Z</Date>'))), 'InvalidArgument'],
    ['no action', doc(rule('<ID>r</ID><Filter></Filter><Status>Enabled</Status>')), 'InvalidRequest'],
    ['Filter and Prefix', doc(rule(`<Prefix>x</Prefix>${good}`)), 'MalformedXML'],
    ['neither Filter nor Prefix', doc(rule('<ID>r</ID><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>')), 'MalformedXML'],
    ['two filters', doc(rule(good.replace('<Prefix>a/</Prefix>', '<Prefix>a/</Prefix><ObjectSizeLessThan>5</ObjectSizeLessThan>'))), 'MalformedXML'],
    ['GreaterThan above LessThan', doc(rule(good.replace('<Prefix>a/</Prefix>', '<And><ObjectSizeGreaterThan>9</ObjectSizeGreaterThan><ObjectSizeLessThan>5</ObjectSizeLessThan></And>'))), 'InvalidArgument'],
    ['NewerNoncurrentVersions 101', doc(rule(good.replace('<Expiration><Days>1</Days></Expiration>', '<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>101</NewerNoncurrentVersions></NoncurrentVersionExpiration>'))), 'InvalidArgument'],
    ['ExpiredObjectDeleteMarker with a tag', doc(rule('<ID>r</ID><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>')), 'InvalidArgument'],
    ['a Transition', doc(rule(`${good}<Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition>`)), 'NotImplemented'],
    ['an unknown element', doc(rule(`${good}<Colour>red</Colour>`)), 'MalformedXML'],
    ['a prefix of 70,000 bytes', doc(rule(good.replace('<Prefix>a/</Prefix>', `<Prefix>${'p'.repeat(70_000)}</Prefix>`))), 'InvalidArgument'],
  ];
  for (const [what, body, code] of cases) {
    const answer = await sendSigned(node.port, { method: 'PUT', path: `/${b}`, query: { lifecycle: '' }, headers: contentMd5(body), body });
    assert.equal(answer.code, code, `${what}: ${answer.status} ${answer.body.slice(0, 200)}`);
  }
  const missingMd5 = await sendSigned(node.port, { method: 'PUT', path: `/${b}`, query: { lifecycle: '' }, body: doc(rule(good)) });
  assert.equal(missingMd5.code, 'InvalidRequest');
  const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b }));
  assert.deepEqual(got.Rules?.map((r) => r.ID), ['kept']);
});

void test('expiration: at the midnight after creation + Days, only under the filter (prefix, tag, size)', async () => {
  const b = await bucket('lc-expire');
  await setRules(b, [
    { ID: 'logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 2 } },
    { ID: 'tagged', Status: 'Enabled', Filter: { And: { Prefix: 't/', Tags: [{ Key: 'gone', Value: 'yes' }], ObjectSizeGreaterThan: 3 } }, Expiration: { Days: 1 } },
    { ID: 'off', Status: 'Disabled', Filter: {}, Expiration: { Days: 1 } },
  ]);
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'logs/a', Body: 'a' }));
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'keep/a', Body: 'a' }));
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 't/tagged-big', Body: 'large', Tagging: 'gone=yes' }));
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 't/tagged-small', Body: 'abc', Tagging: 'gone=yes' }));
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 't/untagged', Body: 'large' }));
  const logsDue = dueMs(await mtimeOf(b, 'logs/a'), 2);
  const tagDue = dueMs(await mtimeOf(b, 't/tagged-big'), 1);
  // x-amz-expiration on HEAD, GET and PUT answers: when, and by which rule (none outside every rule).
  const expiration = `expiry-date="${new Date(logsDue).toUTCString()}", rule-id="logs"`;
  assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'logs/a' }))).Expiration, expiration);
  assert.equal((await s3.send(new GetObjectCommand({ Bucket: b, Key: 'logs/a' }))).Expiration, expiration);
  assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'keep/a' }))).Expiration, undefined);
  assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 't/tagged-small' }))).Expiration, undefined, 'the size filter excludes it');
  assert.match((await s3.send(new PutObjectCommand({ Bucket: b, Key: 'logs/b', Body: 'b' }))).Expiration ?? '', /^expiry-date="[^"]+ 00:00:00 GMT", rule-id="logs"$/);
  assert.equal((await pass(Math.min(logsDue, tagDue) - 1)).expired, 0, 'nothing is due a millisecond before its midnight');
  await pass(tagDue);
  assert.deepEqual(await Promise.all(['t/tagged-big', 't/tagged-small', 't/untagged'].map((k) => exists(b, k))), [false, true, true]);
  await pass(logsDue);
  assert.deepEqual(await Promise.all(['logs/a', 'keep/a'].map((k) => exists(b, k))), [false, true]);
});

async function versionsOf(b: string, key: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: b, Prefix: key }));
  return [...(listed.Versions ?? []).map((v) => v.VersionId ?? ''), ...(listed.DeleteMarkers ?? []).map(() => 'marker')];
}

void test('versioned: expiration adds a delete marker; noncurrent versions expire after NoncurrentDays, keeping NewerNoncurrentVersions', async () => {
  const b = await bucket('lc-versions', true);
  await setRules(b, [{ ID: 'v', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 1 }, NoncurrentVersionExpiration: { NoncurrentDays: 1, NewerNoncurrentVersions: 1 } }]);
  const ids: string[] = [];
  for (const body of ['v1', 'v2', 'v3']) ids.push((await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: body }))).VersionId ?? '');
  const at = dueMs(await mtimeOf(b, 'k'), 1) + 10 * DAY_MS;
  const report = await pass(at);
  // [v3, v2, v1] -> the marker hides v3; v3 became noncurrent just now (not due) and is the one newer
  // noncurrent version kept; v2 and v1 are noncurrent since v3 and v2 were written, 10 days ago: gone.
  assert.deepEqual({ expired: report.expired, noncurrentRemoved: report.noncurrentRemoved }, { expired: 1, noncurrentRemoved: 2 });
  assert.deepEqual((await versionsOf(b, 'k')).sort(), [ids[2] ?? '', 'marker'].sort());
});

void test('versioned: a lone expired delete marker is removed once its noncurrent versions expired', async () => {
  const b = await bucket('lc-markers', true);
  await setRules(b, [
    { ID: 'old', Status: 'Enabled', Filter: { Prefix: 'd/' }, NoncurrentVersionExpiration: { NoncurrentDays: 1 } },
    { ID: 'markers', Status: 'Enabled', Filter: { Prefix: 'd/' }, Expiration: { ExpiredObjectDeleteMarker: true } },
  ]);
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'd/k', Body: 'v' }));
  await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'd/k' }));
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'e/k', Body: 'v' }));
  await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'e/k' }));
  const report = await pass(Date.now() + 5 * DAY_MS);
  assert.deepEqual({ n: report.noncurrentRemoved, m: report.markersRemoved }, { n: 1, m: 1 });
  assert.deepEqual(await versionsOf(b, 'd/'), []);
  assert.equal((await versionsOf(b, 'e/')).length, 2, 'outside the filter both versions stay');
});

void test('uploads: incomplete uploads under the rule are aborted after DaysAfterInitiation, the others kept', async () => {
  const b = await bucket('lc-uploads');
  await setRules(b, [{ ID: 'tmp', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 } }]);
  await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'tmp/big' }));
  await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'keep/big' }));
  assert.equal((await pass(Date.now() + DAY_MS)).uploadsAborted, 0);
  assert.equal((await pass(Date.now() + 3 * DAY_MS)).uploadsAborted, 1);
  const left = await s3.send(new ListMultipartUploadsCommand({ Bucket: b }));
  assert.deepEqual(left.Uploads?.map((u) => u.Key), ['keep/big']);
});

void test('a damaged object record is skipped (and logged); the pass goes on with the other keys', async () => {
  const b = await bucket('lc-damaged', true);
  await setRules(b, [{ ID: 'all', Status: 'Enabled', Filter: {}, Expiration: { Days: 1 } }]);
  for (const key of ['a', 'b', 'c']) await s3.send(new PutObjectCommand({ Bucket: b, Key: key, Body: key }));
  const at = dueMs(await mtimeOf(b, 'c'), 1);
  await node.api.put(objectShardKey(b, Buffer.from('b')), Buffer.from('not a record'));
  const report = await pass(at);
  assert.equal(report.expired, 2);
  assert.deepEqual(await Promise.all(['a', 'c'].map((k) => exists(b, k))), [false, false]);
  assert.equal(await node.api.get(objectShardKey(b, Buffer.from('b'))).then((v) => v.toString()), 'not a record', 'the damaged record is left as it was');
});

void test('record: round trip, and damage is a CorruptionError', () => {
  const config = lifecycleOfBody(doc(rule(good), rule('<ID>s</ID><Prefix>x</Prefix><Status>Disabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>3</DaysAfterInitiation></AbortIncompleteMultipartUpload>')));
  const bytes = encodeLifecycle(config);
  assert.deepEqual(decodeLifecycle(bytes), config);
  for (const at of [0, 5, bytes.length - 1]) {
    const bad = Buffer.from(bytes);
    bad[at] = (bad[at] ?? 0) ^ 0xff;
    assert.throws(() => decodeLifecycle(bad), CorruptionError);
  }
});

void test('serve: --s3-lifecycle-interval is parsed, in --help, and 0 turns the pass off', () => {
  assert.match(serveHelp(), /--s3-lifecycle-interval <duration>.*\[default: 1h\]/);
  const parsed = parseServeArgs(['--s3-lifecycle-interval', '0'], {});
  assert.ok(parsed !== 'help');
  assert.equal(parsed.s3.lifecycleIntervalMs, 0);
  const byEnv = parseServeArgs([], { SHARDSTORE_S3_LIFECYCLE_INTERVAL: '5m' });
  assert.ok(byEnv !== 'help');
  assert.equal(byEnv.s3.lifecycleIntervalMs, 300_000);
});

void test('object lock: the pass never expires a noncurrent version under a legal hold or an unexpired retention; once free, it does', async () => {
  // S3's lifecycle skips versions object lock protects (lifecycle_pass.ts,
  // removableWithoutBypass). How: a lock bucket, three noncurrent versions
  // (held, COMPLIANCE until day 10, unprotected) under a rule expiring
  // noncurrent versions after 1 day; a pass at day 5 removes only the
  // unprotected one, a pass at day 20 the retained one, the held one stays.
  const b = 'lc-locked';
  await s3.send(new CreateBucketCommand({ Bucket: b, ObjectLockEnabledForBucket: true }));
  await setRules(b, [{ ID: 'old', Status: 'Enabled', Filter: { Prefix: '' }, NoncurrentVersionExpiration: { NoncurrentDays: 1 } }]);
  const start = Date.now();
  const put = async (extra: Record<string, unknown>): Promise<string> => (await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v', ...extra }))).VersionId ?? '';
  const held = await put({ ObjectLockLegalHoldStatus: 'ON' });
  const retained = await put({ ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: new Date(start + 10 * DAY_MS) });
  const plain = await put({});
  const current = await put({});
  assert.equal((await pass(start + 5 * DAY_MS)).noncurrentRemoved, 1);
  assert.deepEqual(new Set(await versionsOf(b, 'k')), new Set([held, retained, current]), `${plain} expired, the protected ones kept`);
  assert.equal((await pass(start + 20 * DAY_MS)).noncurrentRemoved, 1);
  assert.deepEqual(new Set(await versionsOf(b, 'k')), new Set([held, current]), 'the retention passed: expired; the legal hold still holds');
});
