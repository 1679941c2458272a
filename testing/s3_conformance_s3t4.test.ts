// Behaviours of the last part of a public S3 conformance suite (ceph's
// s3-tests, docs/s3tests/s3t4.md), rewritten with the AWS SDK: SSE-C
// multipart refusals, SSE-KMS refused cleanly, object tagging and its
// limits, version ids returned by PUT and Complete, copy source conditions,
// bucket default encryption, and the object-lock API's validation.
//
// Strategy: one node with two users of their own (main, alt) and a node
// key; each test its own bucket. Each check is the answer AWS documents
// (where the suite expected another server's answer, the ledger says so and
// the test holds the AWS one), so a dropped rule fails its assertion.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketEncryptionCommand,
  DeleteObjectCommand,
  DeleteObjectTaggingCommand,
  DeleteObjectsCommand,
  GetBucketEncryptionCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketEncryptionCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { ObjectLockConfiguration, S3Client, Tag } from '@aws-sdk/client-s3';
import { StaticUsers } from '../src/server/index.js';
import type { User } from '../src/server/index.js';
import { StaticNodeKey } from '../src/server/s3/node_key.js';
import type { S3Node } from './s3_harness.js';
import { MiB, startS3Node } from './s3_harness.js';
import { FORM_CONTENT_TYPE, formBody, signingFields } from './post_form.js';
import { HeaderClient, refusal, userPair } from './s3_conformance_tools.js';

let node: S3Node;
let mainUser: User;
let main: S3Client;
let M: HeaderClient;
let bucketSeq = 0;

before(async () => {
  const { main: m, alt } = userPair();
  mainUser = m;
  node = await startS3Node({ s3: { users: new StaticUsers([m, alt]), nodeKey: new StaticNodeKey(Buffer.alloc(32, 0x4b)) } });
  main = node.client({ accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey });
  M = new HeaderClient(main);
});

after(async () => {
  await node.stop();
});

async function newBucket(options: { lock?: boolean } = {}): Promise<string> {
  const bucket = `s3t4-${++bucketSeq}`;
  await main.send(new CreateBucketCommand({ Bucket: bucket, ...(options.lock === true ? { ObjectLockEnabledForBucket: true } : {}) }));
  return bucket;
}

const KEY_A = Buffer.alloc(32, 0xa1);
const KEY_B = Buffer.alloc(32, 0xb2);
const ssec = (key: Buffer): { SSECustomerAlgorithm: string; SSECustomerKey: string; SSECustomerKeyMD5: string } => ({
  SSECustomerAlgorithm: 'AES256',
  SSECustomerKey: key.toString('base64'),
  SSECustomerKeyMD5: createHash('md5').update(key).digest('base64'),
});

async function bodyOf(out: { Body?: { transformToByteArray(): Promise<Uint8Array> } | undefined }): Promise<Buffer> {
  return Buffer.from((await out.Body?.transformToByteArray()) ?? []);
}

/** An upload of two parts (5 MiB and a tail), each part with `partKey`; returns its id, data and parts. */
async function twoPartUpload(bucket: string, key: string, initKey: Buffer | undefined, partKey: Buffer | undefined): Promise<{ uploadId: string; data: Buffer; parts: Array<{ PartNumber: number; ETag: string }> }> {
  const created = await main.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: 'text/plain', Metadata: { foo: 'bar' }, ...(initKey === undefined ? {} : ssec(initKey)) }));
  const uploadId = created.UploadId ?? '';
  const data = randomBytes(5 * MiB + 1000);
  const pieces = [data.subarray(0, 5 * MiB), data.subarray(5 * MiB)];
  const parts: Array<{ PartNumber: number; ETag: string }> = [];
  for (const [i, piece] of pieces.entries()) {
    const out = await main.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: i + 1, Body: piece, ...(partKey === undefined ? {} : ssec(partKey)) }));
    parts.push({ PartNumber: i + 1, ETag: out.ETag ?? '' });
  }
  return { uploadId, data, parts };
}

void test('SSE-C multipart: a part whose key MD5 is wrong is 400; a download with another key is refused (403, as AWS), with the right key whole', async () => {
  const bucket = await newBucket();
  const created = await main.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp', ...ssec(KEY_A) }));
  // The SDK computes the key's MD5 itself: the wrong one is set on the wire.
  const badMd5 = { 'x-amz-server-side-encryption-customer-key-md5': Buffer.alloc(16).toString('base64') };
  assert.deepEqual(await refusal(M.with(badMd5).send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId: created.UploadId, PartNumber: 1, Body: 'x', ...ssec(KEY_A) }))), [400, 'InvalidArgument']);

  const { uploadId, data, parts } = await twoPartUpload(bucket, 'enc', KEY_A, KEY_A);
  await main.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'enc', UploadId: uploadId, MultipartUpload: { Parts: parts }, ...ssec(KEY_A) }));
  const got = await main.send(new GetObjectCommand({ Bucket: bucket, Key: 'enc', ...ssec(KEY_A) }));
  assert.deepEqual(got.Metadata, { foo: 'bar' });
  assert.equal(got.ContentType, 'text/plain');
  assert.ok((await bodyOf(got)).equals(data));
  // s3-tests expects 400 here (radosgw's answer); AWS answers 403 for a key that does not match.
  assert.deepEqual(await refusal(main.send(new GetObjectCommand({ Bucket: bucket, Key: 'enc', ...ssec(KEY_B) }))), [403, 'AccessDenied']);
});

void test('SSE-KMS is refused 501 and stores nothing: on PutObject, CreateMultipartUpload; a KMS key id without aws:kms on a write, and x-amz-server-side-encryption on a GET or HEAD, are 400, as AWS', async () => {
  const bucket = await newBucket();
  const kms = { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': 'testkey-1' };
  assert.deepEqual(await refusal(M.with(kms).send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'A' }))), [501, 'NotImplemented']);
  assert.deepEqual(await refusal(M.with({ 'x-amz-server-side-encryption': 'aws:kms' }).send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'A' }))), [501, 'NotImplemented']);
  // test_sse_kms_not_declared: a key id without aws:kms is AWS's 400 InvalidArgument.
  assert.deepEqual(await refusal(M.with({ 'x-amz-server-side-encryption-aws-kms-key-id': 'testkey-2' }).send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'A' }))), [400, 'InvalidArgument']);
  assert.deepEqual(await refusal(M.with(kms).send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp' }))), [501, 'NotImplemented']);
  assert.deepEqual(await refusal(main.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }))), [404, 'NotFound']);
  await main.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain', Body: 'A'.repeat(100) }));
  // On a read the encryption header is AWS's 400 (a read decrypts as the object says), with or without a KMS key id (a HEAD answer has no body: the SDK names it Unknown).
  assert.deepEqual(await refusal(M.with(kms).send(new GetObjectCommand({ Bucket: bucket, Key: 'plain' }))), [400, 'InvalidArgument']);
  assert.deepEqual(await refusal(M.with({ 'x-amz-server-side-encryption': 'AES256' }).send(new HeadObjectCommand({ Bucket: bucket, Key: 'plain' }))), [400, 'Unknown']);
  assert.deepEqual(await refusal(M.with({ 'x-amz-server-side-encryption-aws-kms-key-id': 'testkey-1' }).send(new GetObjectCommand({ Bucket: bucket, Key: 'plain' }))), [501, 'NotImplemented']);
});

const simpleTags = (n: number): Tag[] => Array.from({ length: n }, (_, i) => ({ Key: String(i), Value: String(i) }));
const letters = (n: number): string => Array.from({ length: n }, (_, i) => String.fromCharCode(97 + ((i * 7) % 26))).join('');

void test('object tagging: put and get back in order, HEAD counts them, 10 tags of 128/256 characters fit, one more of anything is 400 InvalidTag and changes nothing', async () => {
  const bucket = await newBucket();
  await main.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: randomBytes(100) }));
  await main.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'k', Tagging: { TagSet: simpleTags(2) } }));
  assert.deepEqual((await main.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'k' }))).TagSet, simpleTags(2));
  const head = await main.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }));
  assert.deepEqual([head.$metadata.httpStatusCode, head.TagCount], [200, 2]);
  await main.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'k', Tagging: { TagSet: simpleTags(10) } }));
  assert.deepEqual((await main.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'k' }))).TagSet, simpleTags(10));
  const big = Array.from({ length: 10 }, (_, i) => ({ Key: `${i}${letters(127)}`, Value: letters(256) }));
  await main.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'k', Tagging: { TagSet: big } }));
  assert.deepEqual((await main.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'k' }))).TagSet, big);

  await main.send(new PutObjectCommand({ Bucket: bucket, Key: 'fresh', Body: 'x' }));
  const tooMany = simpleTags(11);
  const longKey = [{ Key: letters(129), Value: 'v' }];
  const longValue = [{ Key: 'k', Value: letters(257) }];
  for (const TagSet of [tooMany, longKey, longValue]) {
    assert.deepEqual(await refusal(main.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'fresh', Tagging: { TagSet } }))), [400, 'InvalidTag']);
  }
  assert.deepEqual((await main.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'fresh' }))).TagSet, []);
});

void test('object tagging: a second put replaces the set, delete answers 204 and leaves none, x-amz-tagging on PUT (a key without "=" has an empty value) is read back', async () => {
  const bucket = await newBucket();
  await main.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' }));
  await main.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'k', Tagging: { TagSet: [{ Key: 'key', Value: 'val' }, { Key: 'key2', Value: 'val2' }] } }));
  await main.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'k', Tagging: { TagSet: [{ Key: 'key3', Value: 'val3' }] } }));
  assert.deepEqual((await main.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'k' }))).TagSet, [{ Key: 'key3', Value: 'val3' }]);
  const deleted = await main.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 'k' }));
  assert.equal(deleted.$metadata.httpStatusCode, 204);
  assert.deepEqual((await main.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'k' }))).TagSet, []);

  await M.with({ 'x-amz-tagging': 'foo=bar&bar' }).send(new PutObjectCommand({ Bucket: bucket, Key: 'tagged', Body: 'A'.repeat(100) }));
  assert.equal((await bodyOf(await main.send(new GetObjectCommand({ Bucket: bucket, Key: 'tagged' })))).toString(), 'A'.repeat(100));
  // In the order given (the suite expects them sorted by key; AWS documents no order).
  assert.deepEqual((await main.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tagged' }))).TagSet, [{ Key: 'foo', Value: 'bar' }, { Key: 'bar', Value: '' }]);
});

void test('PutObject and CompleteMultipartUpload answer a version id in a versioned bucket (the one listed), none in an unversioned or suspended one', async () => {
  const versioned = await newBucket();
  await main.send(new PutBucketVersioningCommand({ Bucket: versioned, VersioningConfiguration: { Status: 'Enabled' } }));
  const put = await main.send(new PutObjectCommand({ Bucket: versioned, Key: 'bar' }));
  assert.ok(put.VersionId !== undefined && put.VersionId !== 'null');
  const { uploadId, parts } = await twoPartUpload(versioned, 'mp', undefined, undefined);
  const done = await main.send(new CompleteMultipartUploadCommand({ Bucket: versioned, Key: 'mp', UploadId: uploadId, MultipartUpload: { Parts: parts } }));
  assert.ok(done.VersionId !== undefined);
  const listed = await main.send(new ListObjectVersionsCommand({ Bucket: versioned }));
  assert.deepEqual(listed.Versions?.map((v) => [v.Key, v.VersionId]), [['bar', put.VersionId], ['mp', done.VersionId]]);

  const plain = await newBucket();
  assert.equal((await main.send(new PutObjectCommand({ Bucket: plain, Key: 'baz' }))).VersionId, undefined);
  const plainUpload = await twoPartUpload(plain, 'mp', undefined, undefined);
  assert.equal((await main.send(new CompleteMultipartUploadCommand({ Bucket: plain, Key: 'mp', UploadId: plainUpload.uploadId, MultipartUpload: { Parts: plainUpload.parts } }))).VersionId, undefined);

  const suspended = await newBucket();
  await main.send(new PutBucketVersioningCommand({ Bucket: suspended, VersioningConfiguration: { Status: 'Suspended' } }));
  assert.equal((await main.send(new PutObjectCommand({ Bucket: suspended, Key: 'baz' }))).VersionId, undefined);
  const suspendedUpload = await twoPartUpload(suspended, 'mp', undefined, undefined);
  assert.equal((await main.send(new CompleteMultipartUploadCommand({ Bucket: suspended, Key: 'mp', UploadId: suspendedUpload.uploadId, MultipartUpload: { Parts: suspendedUpload.parts } }))).VersionId, undefined);
});

void test('CopyObject source conditions: if-match the ETag copies, a bogus one is 412; if-none-match the ETag is 412, a bogus one copies', async () => {
  const bucket = await newBucket();
  const put = await main.send(new PutObjectCommand({ Bucket: bucket, Key: 'foo', Body: 'bar' }));
  await main.send(new CopyObjectCommand({ Bucket: bucket, Key: 'bar', CopySource: `${bucket}/foo`, CopySourceIfMatch: put.ETag }));
  assert.equal((await bodyOf(await main.send(new GetObjectCommand({ Bucket: bucket, Key: 'bar' })))).toString(), 'bar');
  assert.deepEqual(await refusal(main.send(new CopyObjectCommand({ Bucket: bucket, Key: 'bar2', CopySource: `${bucket}/foo`, CopySourceIfMatch: 'ABCORZ' }))), [412, 'PreconditionFailed']);
  assert.deepEqual(await refusal(main.send(new CopyObjectCommand({ Bucket: bucket, Key: 'bar2', CopySource: `${bucket}/foo`, CopySourceIfNoneMatch: put.ETag }))), [412, 'PreconditionFailed']);
  await main.send(new CopyObjectCommand({ Bucket: bucket, Key: 'bar3', CopySource: `${bucket}/foo`, CopySourceIfNoneMatch: 'ABCORZ' }));
  assert.equal((await bodyOf(await main.send(new GetObjectCommand({ Bucket: bucket, Key: 'bar3' })))).toString(), 'bar');
});

void test('a key with a C1 control character (U+00AE U+008A "-") is a valid key: GET of a missing one is 404 NoSuchKey, and it can be stored and read', async () => {
  const bucket = await newBucket();
  const key = '\u00ae\u008a-';
  assert.deepEqual(await refusal(main.send(new GetObjectCommand({ Bucket: bucket, Key: key }))), [404, 'NoSuchKey']);
  await main.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'odd' }));
  assert.equal((await bodyOf(await main.send(new GetObjectCommand({ Bucket: bucket, Key: key })))).toString(), 'odd');
});

void test('bucket default encryption: none is 404 ServerSideEncryptionConfigurationNotFoundError; put AES256, get it back; delete answers 204, with or without one', async () => {
  const bucket = await newBucket();
  assert.deepEqual(await refusal(main.send(new GetBucketEncryptionCommand({ Bucket: bucket }))), [404, 'ServerSideEncryptionConfigurationNotFoundError']);
  assert.equal((await main.send(new DeleteBucketEncryptionCommand({ Bucket: bucket }))).$metadata.httpStatusCode, 204);
  const conf = { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' as const } }] };
  assert.equal((await main.send(new PutBucketEncryptionCommand({ Bucket: bucket, ServerSideEncryptionConfiguration: conf }))).$metadata.httpStatusCode, 200);
  const got = await main.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
  assert.equal(got.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm, 'AES256');
  assert.equal((await main.send(new DeleteBucketEncryptionCommand({ Bucket: bucket }))).$metadata.httpStatusCode, 204);
  assert.deepEqual(await refusal(main.send(new GetBucketEncryptionCommand({ Bucket: bucket }))), [404, 'ServerSideEncryptionConfigurationNotFoundError']);
});

const lockConf = (mode: string, period: { Days?: number; Years?: number }, enabled = 'Enabled'): ObjectLockConfiguration =>
  ({ ObjectLockEnabled: enabled, Rule: { DefaultRetention: { Mode: mode, ...period } } }) as ObjectLockConfiguration;

void test('object lock configuration: set and read back, versioning Enabled and not suspendable; each malformed rule answers S3\'s code', async () => {
  const bucket = await newBucket({ lock: true });
  await main.send(new PutObjectLockConfigurationCommand({ Bucket: bucket, ObjectLockConfiguration: lockConf('GOVERNANCE', { Days: 1 }) }));
  assert.deepEqual((await main.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }))).ObjectLockConfiguration, lockConf('GOVERNANCE', { Days: 1 }));
  await main.send(new PutObjectLockConfigurationCommand({ Bucket: bucket, ObjectLockConfiguration: lockConf('COMPLIANCE', { Years: 1 }) }));
  assert.equal((await main.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status, 'Enabled');
  assert.deepEqual(await refusal(main.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Suspended' } }))), [409, 'InvalidBucketState']);
  const put = (conf: ObjectLockConfiguration): Promise<unknown> => main.send(new PutObjectLockConfigurationCommand({ Bucket: bucket, ObjectLockConfiguration: conf }));
  assert.deepEqual(await refusal(put(lockConf('GOVERNANCE', { Days: 1, Years: 1 }))), [400, 'MalformedXML']);
  assert.deepEqual(await refusal(put(lockConf('GOVERNANCE', { Days: 0 }))), [400, 'InvalidRetentionPeriod']);
  assert.deepEqual(await refusal(put(lockConf('GOVERNANCE', { Years: -1 }))), [400, 'InvalidRetentionPeriod']);
  assert.deepEqual(await refusal(put(lockConf('abc', { Years: 1 }))), [400, 'MalformedXML']);
  assert.deepEqual(await refusal(put(lockConf('governance', { Years: 1 }))), [400, 'MalformedXML']);
  assert.deepEqual(await refusal(put(lockConf('GOVERNANCE', { Years: 1 }, 'Disabled'))), [400, 'MalformedXML']);

  const plain = await newBucket();
  assert.deepEqual(await refusal(main.send(new PutObjectLockConfigurationCommand({ Bucket: plain, ObjectLockConfiguration: lockConf('GOVERNANCE', { Days: 1 }) }))), [409, 'InvalidBucketState']);
  assert.deepEqual(await refusal(main.send(new GetObjectLockConfigurationCommand({ Bucket: plain }))), [404, 'ObjectLockConfigurationNotFoundError']);
});

const Y2030 = new Date(Date.UTC(2030, 0, 1));
const Y2030_3 = new Date(Date.UTC(2030, 0, 3));

void test('object retention and legal hold on a bucket without object lock: 400 InvalidRequest for put and get', async () => {
  const bucket = await newBucket();
  await main.send(new PutObjectCommand({ Bucket: bucket, Key: 'file1', Body: 'abc' }));
  assert.deepEqual(await refusal(main.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: 'file1', Retention: { Mode: 'GOVERNANCE', RetainUntilDate: Y2030 } }))), [400, 'InvalidRequest']);
  assert.deepEqual(await refusal(main.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: 'file1' }))), [400, 'InvalidRequest']);
  assert.deepEqual(await refusal(main.send(new PutObjectLegalHoldCommand({ Bucket: bucket, Key: 'file1', LegalHold: { Status: 'ON' } }))), [400, 'InvalidRequest']);
  assert.deepEqual(await refusal(main.send(new GetObjectLegalHoldCommand({ Bucket: bucket, Key: 'file1' }))), [400, 'InvalidRequest']);
});

void test('object retention: set, read back (by version too), lengthened; shortened only with the bypass; a mode in lower case or unknown is MalformedXML; HEAD shows the date in ISO 8601', async () => {
  const bucket = await newBucket({ lock: true });
  await main.send(new PutObjectLockConfigurationCommand({ Bucket: bucket, ObjectLockConfiguration: lockConf('GOVERNANCE', { Days: 1 }) }));
  const first = await main.send(new PutObjectCommand({ Bucket: bucket, Key: 'file1', Body: 'abc' }));
  const put = await main.send(new PutObjectCommand({ Bucket: bucket, Key: 'file1', Body: 'abc' }));
  for (const Mode of ['governance', 'abc']) {
    assert.deepEqual(await refusal(main.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: 'file1', Retention: { Mode: Mode as 'GOVERNANCE', RetainUntilDate: Y2030 } }))), [400, 'MalformedXML']);
  }
  // Overrides the default retention (1 day) with a longer one.
  await main.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: 'file1', Retention: { Mode: 'GOVERNANCE', RetainUntilDate: Y2030 } }));
  assert.deepEqual((await main.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: 'file1' }))).Retention, { Mode: 'GOVERNANCE', RetainUntilDate: Y2030 });
  await main.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: 'file1', VersionId: first.VersionId, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: Y2030_3 } }));
  assert.deepEqual((await main.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: 'file1', VersionId: first.VersionId }))).Retention, { Mode: 'GOVERNANCE', RetainUntilDate: Y2030_3 });
  await main.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: 'file1', Retention: { Mode: 'GOVERNANCE', RetainUntilDate: Y2030_3 } }));
  assert.deepEqual(await refusal(main.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: 'file1', Retention: { Mode: 'GOVERNANCE', RetainUntilDate: Y2030 } }))), [403, 'AccessDenied']);
  await main.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: 'file1', Retention: { Mode: 'GOVERNANCE', RetainUntilDate: Y2030 }, BypassGovernanceRetention: true }));
  assert.deepEqual((await main.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: 'file1' }))).Retention, { Mode: 'GOVERNANCE', RetainUntilDate: Y2030 });
  await main.send(new HeadObjectCommand({ Bucket: bucket, Key: 'file1', VersionId: put.VersionId }));
  assert.match(M.lastHeaders['x-amz-object-lock-retain-until-date'] ?? '', /^2030-01-01T00:00:00(\.000)?Z$/);
  // A governed version goes only with the bypass.
  assert.deepEqual(await refusal(main.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'file1', VersionId: put.VersionId }))), [403, 'AccessDenied']);
  assert.equal((await main.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'file1', VersionId: put.VersionId, BypassGovernanceRetention: true }))).$metadata.httpStatusCode, 204);
});

void test('DeleteObjects of a governed version: that key fails AccessDenied with its version, the other is deleted; with the bypass it goes', async () => {
  const bucket = await newBucket({ lock: true });
  const v1 = (await main.send(new PutObjectCommand({ Bucket: bucket, Key: 'file1', Body: 'abc' }))).VersionId;
  const v2 = (await main.send(new PutObjectCommand({ Bucket: bucket, Key: 'file2', Body: 'abc' }))).VersionId;
  await main.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: 'file1', Retention: { Mode: 'GOVERNANCE', RetainUntilDate: Y2030 } }));
  const out = await main.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'file1', VersionId: v1 }, { Key: 'file2', VersionId: v2 }] } }));
  assert.deepEqual(out.Errors?.map((e) => [e.Key, e.VersionId, e.Code]), [['file1', v1, 'AccessDenied']]);
  assert.deepEqual(out.Deleted?.map((d) => [d.Key, d.VersionId]), [['file2', v2]]);
  const bypass = await main.send(new DeleteObjectsCommand({ Bucket: bucket, BypassGovernanceRetention: true, Delete: { Objects: [{ Key: 'file1', VersionId: v1 }] } }));
  assert.equal(bypass.Errors?.length ?? 0, 0);
  assert.deepEqual(bypass.Deleted?.map((d) => [d.Key, d.VersionId]), [['file1', v1]]);
});

void test('legal hold: ON and OFF read back; a status other than ON/OFF is MalformedXML; ON refuses a version delete, OFF allows it', async () => {
  const bucket = await newBucket({ lock: true });
  const put = await main.send(new PutObjectCommand({ Bucket: bucket, Key: 'file1', Body: 'abc' }));
  assert.deepEqual(await refusal(main.send(new PutObjectLegalHoldCommand({ Bucket: bucket, Key: 'file1', LegalHold: { Status: 'abc' as 'ON' } }))), [400, 'MalformedXML']);
  await main.send(new PutObjectLegalHoldCommand({ Bucket: bucket, Key: 'file1', LegalHold: { Status: 'ON' } }));
  assert.deepEqual((await main.send(new GetObjectLegalHoldCommand({ Bucket: bucket, Key: 'file1' }))).LegalHold, { Status: 'ON' });
  assert.deepEqual(await refusal(main.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'file1', VersionId: put.VersionId }))), [403, 'AccessDenied']);
  await main.send(new PutObjectLegalHoldCommand({ Bucket: bucket, Key: 'file1', LegalHold: { Status: 'OFF' } }));
  assert.deepEqual((await main.send(new GetObjectLegalHoldCommand({ Bucket: bucket, Key: 'file1' }))).LegalHold, { Status: 'OFF' });
  assert.equal((await main.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'file1', VersionId: put.VersionId }))).$metadata.httpStatusCode, 204);
});

void test('lock state on HEAD: set by retention and hold calls, or by the PUT\'s own headers; GOVERNANCE becomes COMPLIANCE only with the bypass, COMPLIANCE never GOVERNANCE', async () => {
  const bucket = await newBucket({ lock: true });
  await main.send(new PutObjectCommand({ Bucket: bucket, Key: 'file1', Body: 'abc' }));
  await main.send(new PutObjectLegalHoldCommand({ Bucket: bucket, Key: 'file1', LegalHold: { Status: 'ON' } }));
  await main.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: 'file1', Retention: { Mode: 'GOVERNANCE', RetainUntilDate: Y2030 } }));
  const head = await main.send(new HeadObjectCommand({ Bucket: bucket, Key: 'file1' }));
  assert.deepEqual([head.ObjectLockMode, head.ObjectLockRetainUntilDate, head.ObjectLockLegalHoldStatus], ['GOVERNANCE', Y2030, 'ON']);

  await main.send(new PutObjectCommand({ Bucket: bucket, Key: 'file2', Body: 'abc', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: Y2030, ObjectLockLegalHoldStatus: 'ON' }));
  const head2 = await main.send(new HeadObjectCommand({ Bucket: bucket, Key: 'file2' }));
  assert.deepEqual([head2.ObjectLockMode, head2.ObjectLockRetainUntilDate, head2.ObjectLockLegalHoldStatus], ['GOVERNANCE', Y2030, 'ON']);

  const soon = new Date(Math.ceil((Date.now() + 86_400_000) / 1000) * 1000);
  await main.send(new PutObjectCommand({ Bucket: bucket, Key: 'gov', Body: 'abc', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: soon }));
  assert.deepEqual(await refusal(main.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: 'gov', Retention: { Mode: 'COMPLIANCE', RetainUntilDate: soon } }))), [403, 'AccessDenied']);
  await main.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: 'gov', Retention: { Mode: 'COMPLIANCE', RetainUntilDate: soon }, BypassGovernanceRetention: true }));
  await main.send(new PutObjectCommand({ Bucket: bucket, Key: 'comp', Body: 'abc', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: soon }));
  assert.deepEqual(await refusal(main.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: 'comp', Retention: { Mode: 'GOVERNANCE', RetainUntilDate: soon } }))), [403, 'AccessDenied']);
});

/** A POST form of main's to `bucket` storing `key` with `fields` (each named by an eq condition), the file last. */
async function postForm(bucket: string, key: string, fields: Record<string, string>): Promise<{ status: number; code: string }> {
  const signing = signingFields({ accessKeyId: mainUser.accessKeyId, secretAccessKey: mainUser.secretAccessKey, nowMs: Date.now(), bucket, key, fields });
  const body = formBody([['key', key], ...signing.fields, ...Object.entries(fields)], Buffer.from('bar'));
  const r = await fetch(`${node.endpoint}/${bucket}`, { method: 'POST', body, headers: { 'content-type': FORM_CONTENT_TYPE } });
  const text = await r.text();
  return { status: r.status, code: /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? '' };
}

void test('POST object with a tagging field: the object is stored with that tag set; a set past S3\'s limits or not XML is refused and stores nothing', async () => {
  const bucket = await newBucket();
  const xml = '<Tagging><TagSet><Tag><Key>0</Key><Value>0</Value></Tag><Tag><Key>1</Key><Value>1</Value></Tag></TagSet></Tagging>';
  assert.deepEqual(await postForm(bucket, 'foo.txt', { tagging: xml, 'Content-Type': 'text/plain' }), { status: 204, code: '' });
  assert.equal((await bodyOf(await main.send(new GetObjectCommand({ Bucket: bucket, Key: 'foo.txt' })))).toString(), 'bar');
  assert.deepEqual((await main.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'foo.txt' }))).TagSet, simpleTags(2));
  assert.equal((await main.send(new HeadObjectCommand({ Bucket: bucket, Key: 'foo.txt' }))).TagCount, 2);

  const eleven = `<Tagging><TagSet>${simpleTags(11).map((t) => `<Tag><Key>${t.Key ?? ''}</Key><Value>${t.Value ?? ''}</Value></Tag>`).join('')}</TagSet></Tagging>`;
  assert.deepEqual(await postForm(bucket, 'too-many', { tagging: eleven }), { status: 400, code: 'InvalidTag' });
  assert.deepEqual(await postForm(bucket, 'not-xml', { tagging: 'a=b' }), { status: 400, code: 'MalformedXML' });
  for (const key of ['too-many', 'not-xml']) assert.deepEqual(await refusal(main.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))), [404, 'NotFound']);
});
