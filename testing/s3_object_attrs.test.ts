// partNumber on GET and HEAD, GetObjectAttributes, and ACL headers on
// object writes (issue 16) against the AWS SDK.
//
// Strategy: one node whose users come from a credentials file (as `serve`
// runs it): the node's owner, alice and bob. Alice writes objects (single
// PUTs and a two-part upload of 5 MiB + 1000 bytes, in a plain and a
// versioned bucket) and reads them back part by part, each part's bytes
// compared with the generated stream's range and its headers with what S3
// answers (206, Content-Range of the part, PartsCount, the whole object's
// ETag); the refusals (part beyond the count, partNumber with Range, a bad
// number) by their codes. GetObjectAttributes is compared field by field,
// with its part paging. ACL headers are then checked by what they let
// others do: bob signed, and anonymous fetches, read exactly the objects
// whose write granted it; BucketOwnerEnforced and BlockPublicAcls refuse as
// S3 does and store nothing; the ACL survives a restart of the node.
//
// Each check compares an answer with what AWS documents for it, so a
// header that is ignored (the ACL dropped, a part's range wrong, the count
// missing) fails its assertion.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectAclCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { ObjectAttributes, S3Client } from '@aws-sdk/client-s3';
import { FileUsers, StaticNodeKey, addUser, silentLogger } from '../src/server/index.js';
import type { User } from '../src/server/index.js';
import { FORM_CONTENT_TYPE, formBody, signingFields } from './post_form.js';
import type { S3Node } from './s3_harness.js';
import { MiB, deterministicRange, s3ErrorName, s3Refusal, startS3Node } from './s3_harness.js';

const PART1_BYTES = 5 * MiB;
const PART2_BYTES = 1000;
const NODE_KEY = Buffer.alloc(32, 0x5e);
const ALL_ATTRIBUTES: ObjectAttributes[] = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'];

let dir: string;
let file: string;
let node: S3Node;
let alice: S3Client;
let bob: S3Client;
let bobUser: User;
let aliceUser: User;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shardstore-attrs-'));
  file = join(dir, 'credentials');
  writeFileSync(file, '[default]\naws_access_key_id = SSOWNERKEY0000000001\naws_secret_access_key = owner/secret/0123456789abcdefghijklmnopq\n', { mode: 0o600 });
  aliceUser = await addUser(file, 'alice');
  bobUser = await addUser(file, 'bob');
  node = await startS3Node({ dataDir: join(dir, 'data'), s3: { users: new FileUsers(file, silentLogger), nodeKey: new StaticNodeKey(NODE_KEY) } });
  alice = node.client({ accessKeyId: aliceUser.accessKeyId, secretAccessKey: aliceUser.secretAccessKey });
  bob = node.client({ accessKeyId: bobUser.accessKeyId, secretAccessKey: bobUser.secretAccessKey });
  await alice.send(new CreateBucketCommand({ Bucket: 'parts' }));
  await alice.send(new CreateBucketCommand({ Bucket: 'acls' }));
});

after(async () => {
  await node.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The status and S3 error name of a call that must fail. */
async function refusal(call: Promise<unknown>): Promise<string> {
  const [status, name] = await s3Refusal(call);
  return `${status ?? '?'} ${name}`;
}

/** An unsigned GET, as a browser sends it. */
async function anonymousGet(path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${node.endpoint}${path}`);
  return { status: res.status, body: await res.text() };
}

interface TwoPartOptions {
  readonly acl?: 'public-read';
  readonly encrypted?: boolean;
  /** Create the upload with CRC32 (the object then keeps its part checksums, and GetObjectAttributes lists its parts). */
  readonly crc32?: boolean;
}

/** A two-part object (5 MiB of `seed`, then 1000 bytes): its ETag. */
async function putTwoParts(client: S3Client, bucket: string, key: string, seed: string, options: TwoPartOptions = {}): Promise<string> {
  const asked = {
    ...(options.acl === undefined ? {} : { ACL: options.acl }),
    ...(options.encrypted === true ? { ServerSideEncryption: 'AES256' as const } : {}),
    ...(options.crc32 === true ? { ChecksumAlgorithm: 'CRC32' as const } : {}),
  };
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...asked }));
  const total = PART1_BYTES + PART2_BYTES;
  const p1 = await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: deterministicRange(seed, 0, PART1_BYTES) }));
  const p2 = await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 2, Body: deterministicRange(seed, PART1_BYTES, total) }));
  const parts = [p1, p2].map((p, i) => ({ PartNumber: i + 1, ETag: p.ETag, ...(options.crc32 === true ? { ChecksumCRC32: p.ChecksumCRC32 } : {}) }));
  const done = await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
  return done.ETag ?? '';
}

async function bytesOf(body: { transformToByteArray(): Promise<Uint8Array> } | undefined): Promise<Buffer> {
  return Buffer.from((await body?.transformToByteArray()) ?? new Uint8Array());
}

void test('GET and HEAD with partNumber: each part of a multipart object as a 206 of its range, the count, the whole ETag; refusals as S3', async () => {
  const etag = await putTwoParts(alice, 'parts', 'mp', 'mp-seed');
  const total = PART1_BYTES + PART2_BYTES;
  const ranges: Array<[number, number, number]> = [[1, 0, PART1_BYTES], [2, PART1_BYTES, total]];
  for (const [PartNumber, start, end] of ranges) {
    const got = await alice.send(new GetObjectCommand({ Bucket: 'parts', Key: 'mp', PartNumber }));
    assert.equal(got.$metadata.httpStatusCode, 206);
    assert.equal(got.ContentRange, `bytes ${start}-${end - 1}/${total}`);
    assert.equal(got.ContentLength, end - start);
    assert.equal(got.PartsCount, 2);
    assert.equal(got.ETag, etag);
    assert.ok((await bytesOf(got.Body)).equals(deterministicRange('mp-seed', start, end)), `part ${PartNumber} bytes`);
    const head = await alice.send(new HeadObjectCommand({ Bucket: 'parts', Key: 'mp', PartNumber }));
    assert.equal(head.$metadata.httpStatusCode, 206);
    assert.equal(head.ContentLength, end - start);
    assert.equal(head.ContentRange, `bytes ${start}-${end - 1}/${total}`);
    assert.equal(head.PartsCount, 2);
  }
  // Without partNumber S3 does not send the count.
  const whole = await alice.send(new HeadObjectCommand({ Bucket: 'parts', Key: 'mp' }));
  assert.equal(whole.PartsCount, undefined);
  assert.equal(whole.ContentLength, total);
  assert.equal(await refusal(alice.send(new GetObjectCommand({ Bucket: 'parts', Key: 'mp', PartNumber: 3 }))), '416 InvalidPartNumber');
  assert.equal(await refusal(alice.send(new GetObjectCommand({ Bucket: 'parts', Key: 'mp', PartNumber: 1, Range: 'bytes=0-9' }))), '400 InvalidRequest');
  assert.equal(await refusal(alice.send(new GetObjectCommand({ Bucket: 'parts', Key: 'mp', PartNumber: 0 }))), '400 InvalidArgument');
  assert.equal(await refusal(alice.send(new GetObjectCommand({ Bucket: 'parts', Key: 'mp', PartNumber: 10_001 }))), '400 InvalidArgument');
  assert.equal(await refusal(alice.send(new HeadObjectCommand({ Bucket: 'parts', Key: 'mp', PartNumber: 3 }))), '416 Unknown');
  // The conditions apply to the part's object.
  assert.equal(await refusal(alice.send(new GetObjectCommand({ Bucket: 'parts', Key: 'mp', PartNumber: 1, IfMatch: '"0000"' }))), '412 PreconditionFailed');
});

void test('an encrypted multipart object (SSE-S3): each part by partNumber is its plaintext, and GetObjectAttributes gives plaintext sizes', async () => {
  const etag = await putTwoParts(alice, 'parts', 'sealed', 'sealed-seed', { encrypted: true, crc32: true });
  const total = PART1_BYTES + PART2_BYTES;
  const second = await alice.send(new GetObjectCommand({ Bucket: 'parts', Key: 'sealed', PartNumber: 2 }));
  assert.equal(second.ContentRange, `bytes ${PART1_BYTES}-${total - 1}/${total}`);
  assert.equal(second.ServerSideEncryption, 'AES256');
  assert.equal(second.ETag, etag);
  assert.ok((await bytesOf(second.Body)).equals(deterministicRange('sealed-seed', PART1_BYTES, total)));
  const head = await alice.send(new HeadObjectCommand({ Bucket: 'parts', Key: 'sealed', PartNumber: 1 }));
  assert.equal(head.ContentLength, PART1_BYTES);
  const attrs = await alice.send(new GetObjectAttributesCommand({ Bucket: 'parts', Key: 'sealed', ObjectAttributes: ['ObjectParts', 'ObjectSize'] }));
  assert.equal(attrs.ObjectSize, total);
  assert.deepEqual(attrs.ObjectParts?.Parts?.map((p) => p.Size), [PART1_BYTES, PART2_BYTES]);
});

void test('partNumber on a single-part object: 1 is the whole object (206, no count), 2 is 416; an empty object answers 200', async () => {
  await alice.send(new PutObjectCommand({ Bucket: 'parts', Key: 'single', Body: 'ten bytes!' }));
  const got = await alice.send(new GetObjectCommand({ Bucket: 'parts', Key: 'single', PartNumber: 1 }));
  assert.equal(got.$metadata.httpStatusCode, 206);
  assert.equal(got.ContentRange, 'bytes 0-9/10');
  assert.equal(got.PartsCount, undefined);
  assert.equal(await got.Body?.transformToString(), 'ten bytes!');
  assert.equal(await refusal(alice.send(new GetObjectCommand({ Bucket: 'parts', Key: 'single', PartNumber: 2 }))), '416 InvalidPartNumber');
  await alice.send(new PutObjectCommand({ Bucket: 'parts', Key: 'empty', Body: '' }));
  const empty = await alice.send(new GetObjectCommand({ Bucket: 'parts', Key: 'empty', PartNumber: 1 }));
  assert.equal(empty.$metadata.httpStatusCode, 200);
  assert.equal(empty.ContentLength, 0);
});

void test('partNumber and GetObjectAttributes of a named version: the parts of that version, not of the current one', async () => {
  await alice.send(new CreateBucketCommand({ Bucket: 'parts-versioned' }));
  await alice.send(new PutBucketVersioningCommand({ Bucket: 'parts-versioned', VersioningConfiguration: { Status: 'Enabled' } }));
  await putTwoParts(alice, 'parts-versioned', 'doc', 'v1-seed');
  const v1 = (await alice.send(new HeadObjectCommand({ Bucket: 'parts-versioned', Key: 'doc' }))).VersionId;
  await alice.send(new PutObjectCommand({ Bucket: 'parts-versioned', Key: 'doc', Body: 'now small' }));
  assert.equal(await refusal(alice.send(new GetObjectCommand({ Bucket: 'parts-versioned', Key: 'doc', PartNumber: 2 }))), '416 InvalidPartNumber');
  const old = await alice.send(new GetObjectCommand({ Bucket: 'parts-versioned', Key: 'doc', PartNumber: 2, VersionId: v1 }));
  assert.equal(old.VersionId, v1);
  assert.equal(old.PartsCount, 2);
  assert.ok((await bytesOf(old.Body)).equals(deterministicRange('v1-seed', PART1_BYTES, PART1_BYTES + PART2_BYTES)));
  const attrs = await alice.send(new GetObjectAttributesCommand({ Bucket: 'parts-versioned', Key: 'doc', VersionId: v1, ObjectAttributes: ['ObjectParts', 'ObjectSize'] }));
  assert.equal(attrs.VersionId, v1);
  assert.equal(attrs.ObjectSize, PART1_BYTES + PART2_BYTES);
  assert.equal(attrs.ObjectParts?.TotalPartsCount, 2);
  const current = await alice.send(new GetObjectAttributesCommand({ Bucket: 'parts-versioned', Key: 'doc', ObjectAttributes: ['ObjectParts', 'ObjectSize'] }));
  assert.equal(current.ObjectSize, 'now small'.length);
  assert.equal(current.ObjectParts, undefined);
});

void test('GetObjectAttributes: ETag (unquoted), Checksum, ObjectParts paged by marker and max-parts, StorageClass, ObjectSize', async () => {
  const etag = await putTwoParts(alice, 'parts', 'attrs', 'attrs-seed', { crc32: true });
  const all = await alice.send(new GetObjectAttributesCommand({ Bucket: 'parts', Key: 'attrs', ObjectAttributes: ALL_ATTRIBUTES }));
  assert.equal(all.ETag, etag.replaceAll('"', ''));
  assert.equal(all.StorageClass, 'STANDARD');
  assert.equal(all.ObjectSize, PART1_BYTES + PART2_BYTES);
  // The composite checksum is checked against values computed by the test in s3_small_gaps.test.ts; here its shape.
  assert.equal(all.Checksum?.ChecksumType, 'COMPOSITE');
  assert.match(all.Checksum.ChecksumCRC32 ?? '', /^[A-Za-z0-9+/]{6}==$/);
  assert.ok(all.LastModified instanceof Date);
  assert.equal(all.ObjectParts?.TotalPartsCount, 2);
  assert.equal(all.ObjectParts.IsTruncated, false);
  assert.deepEqual(all.ObjectParts.Parts?.map((p) => [p.PartNumber, p.Size]), [[1, PART1_BYTES], [2, PART2_BYTES]]);
  const first = await alice.send(new GetObjectAttributesCommand({ Bucket: 'parts', Key: 'attrs', ObjectAttributes: ['ObjectParts'], MaxParts: 1 }));
  assert.equal(first.ObjectParts?.IsTruncated, true);
  assert.equal(first.ObjectParts.NextPartNumberMarker, '1');
  assert.deepEqual(first.ObjectParts.Parts?.map((p) => p.PartNumber), [1]);
  assert.equal(first.ETag, undefined, 'only what was asked');
  const second = await alice.send(new GetObjectAttributesCommand({ Bucket: 'parts', Key: 'attrs', ObjectAttributes: ['ObjectParts'], MaxParts: 1, PartNumberMarker: '1' }));
  assert.equal(second.ObjectParts?.IsTruncated, false);
  assert.deepEqual(second.ObjectParts.Parts?.map((p) => [p.PartNumber, p.Size]), [[2, PART2_BYTES]]);
  // A single-part object has no ObjectParts; an unknown attribute is 400; a missing object 404.
  await alice.send(new PutObjectCommand({ Bucket: 'parts', Key: 'plain', Body: 'plain' }));
  const plain = await alice.send(new GetObjectAttributesCommand({ Bucket: 'parts', Key: 'plain', ObjectAttributes: ALL_ATTRIBUTES }));
  assert.equal(plain.ObjectParts, undefined);
  assert.equal(plain.ObjectSize, 5);
  assert.equal(await refusal(alice.send(new GetObjectAttributesCommand({ Bucket: 'parts', Key: 'plain', ObjectAttributes: ['Colour' as ObjectAttributes] }))), '400 InvalidArgument');
  assert.equal(await refusal(alice.send(new GetObjectAttributesCommand({ Bucket: 'parts', Key: 'nothing', ObjectAttributes: ['ETag'] }))), '404 NoSuchKey');
});

void test('GetObjectAttributes needs s3:GetObjectAttributes and s3:GetObject: another user gets 403 until a policy grants both', async () => {
  await alice.send(new PutObjectCommand({ Bucket: 'parts', Key: 'shared', Body: 'shared' }));
  const ask = (): Promise<unknown> => bob.send(new GetObjectAttributesCommand({ Bucket: 'parts', Key: 'shared', ObjectAttributes: ['ObjectSize'] }));
  assert.equal(await refusal(ask()), '403 AccessDenied');
  const policy = (actions: string[]): string =>
    JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { CanonicalUser: bobUser.id }, Action: actions, Resource: 'arn:aws:s3:::parts/shared' }] });
  await alice.send(new PutBucketPolicyCommand({ Bucket: 'parts', Policy: policy(['s3:GetObjectAttributes']) }));
  assert.equal(await refusal(ask()), '403 AccessDenied', 'GetObjectAttributes alone is not enough');
  await alice.send(new PutBucketPolicyCommand({ Bucket: 'parts', Policy: policy(['s3:GetObject']) }));
  assert.equal(await refusal(ask()), '403 AccessDenied', 'GetObject alone is not enough');
  await alice.send(new PutBucketPolicyCommand({ Bucket: 'parts', Policy: policy(['s3:GetObject', 's3:GetObjectAttributes']) }));
  assert.equal(await refusal(ask()), '200 no error');
  const anonymous = await fetch(`${node.endpoint}/parts/shared?attributes`, { headers: { 'x-amz-object-attributes': 'ObjectSize' } });
  assert.equal(anonymous.status, 403);
});

void test('x-amz-acl on PutObject: public-read is read anonymously and by another user; private and authenticated-read are not read anonymously', async () => {
  await alice.send(new PutObjectCommand({ Bucket: 'acls', Key: 'public', Body: 'for everyone', ACL: 'public-read' }));
  await alice.send(new PutObjectCommand({ Bucket: 'acls', Key: 'private', Body: 'for alice', ACL: 'private' }));
  await alice.send(new PutObjectCommand({ Bucket: 'acls', Key: 'signed-in', Body: 'for users', ACL: 'authenticated-read' }));
  assert.deepEqual(await anonymousGet('/acls/public'), { status: 200, body: 'for everyone' });
  assert.equal(await (await bob.send(new GetObjectCommand({ Bucket: 'acls', Key: 'public' }))).Body?.transformToString(), 'for everyone');
  assert.equal((await anonymousGet('/acls/private')).status, 403);
  assert.equal(await refusal(bob.send(new GetObjectCommand({ Bucket: 'acls', Key: 'private' }))), '403 AccessDenied');
  assert.equal((await anonymousGet('/acls/signed-in')).status, 403);
  assert.equal(await (await bob.send(new GetObjectCommand({ Bucket: 'acls', Key: 'signed-in' }))).Body?.transformToString(), 'for users');
  // READ is not WRITE: the object's ACL does not let bob overwrite it.
  assert.equal(await refusal(bob.send(new PutObjectCommand({ Bucket: 'acls', Key: 'public', Body: 'defaced' }))), '403 AccessDenied');
  const acl = await alice.send(new GetObjectAclCommand({ Bucket: 'acls', Key: 'public' }));
  assert.deepEqual(acl.Grants?.map((g) => [g.Grantee?.URI ?? g.Grantee?.ID, g.Permission]), [['http://acs.amazonaws.com/groups/global/AllUsers', 'READ'], [aliceUser.id, 'FULL_CONTROL']]);
  // An overwrite without ACL headers is private again; PutObjectAcl makes it public, then private, without changing Last-Modified.
  await alice.send(new PutObjectCommand({ Bucket: 'acls', Key: 'public', Body: 'now private' }));
  assert.equal((await anonymousGet('/acls/public')).status, 403);
  const before = (await alice.send(new HeadObjectCommand({ Bucket: 'acls', Key: 'public' }))).LastModified;
  await alice.send(new PutObjectAclCommand({ Bucket: 'acls', Key: 'public', ACL: 'public-read' }));
  assert.deepEqual(await anonymousGet('/acls/public'), { status: 200, body: 'now private' });
  await alice.send(new PutObjectAclCommand({ Bucket: 'acls', Key: 'public', ACL: 'private' }));
  assert.equal((await anonymousGet('/acls/public')).status, 403);
  assert.deepEqual((await alice.send(new HeadObjectCommand({ Bucket: 'acls', Key: 'public' }))).LastModified, before);
});

void test('x-amz-grant-* headers on PutObject grant exactly the grantee named; both kinds at once is 400', async () => {
  await alice.send(new PutObjectCommand({ Bucket: 'acls', Key: 'for-bob', Body: 'to bob', GrantRead: `id="${bobUser.id}"` }));
  assert.equal(await (await bob.send(new GetObjectCommand({ Bucket: 'acls', Key: 'for-bob' }))).Body?.transformToString(), 'to bob');
  assert.equal((await anonymousGet('/acls/for-bob')).status, 403);
  assert.equal(await refusal(bob.send(new GetObjectAclCommand({ Bucket: 'acls', Key: 'for-bob' }))), '403 AccessDenied', 'READ is not READ_ACP');
  assert.equal(await refusal(alice.send(new PutObjectCommand({ Bucket: 'acls', Key: 'both', Body: 'x', ACL: 'public-read', GrantRead: `id="${bobUser.id}"` }))), '400 InvalidRequest');
  assert.equal(await refusal(alice.send(new HeadObjectCommand({ Bucket: 'acls', Key: 'both' }))), '404 NotFound');
});

void test('ACL headers on CopyObject and CreateMultipartUpload: the copy gets its own ACL (never the source\'s), the upload\'s applies when completed', async () => {
  await alice.send(new CopyObjectCommand({ Bucket: 'acls', Key: 'copy-public', CopySource: 'acls/private', ACL: 'public-read' }));
  assert.deepEqual(await anonymousGet('/acls/copy-public'), { status: 200, body: 'for alice' });
  await alice.send(new PutObjectCommand({ Bucket: 'acls', Key: 'source-public', Body: 'source', ACL: 'public-read' }));
  await alice.send(new CopyObjectCommand({ Bucket: 'acls', Key: 'copy-private', CopySource: 'acls/source-public' }));
  assert.equal((await anonymousGet('/acls/copy-private')).status, 403);
  await putTwoParts(alice, 'acls', 'mp-public', 'mp-acl', { acl: 'public-read' });
  const res = await fetch(`${node.endpoint}/acls/mp-public?partNumber=2`);
  assert.equal(res.status, 206);
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(deterministicRange('mp-acl', PART1_BYTES, PART1_BYTES + PART2_BYTES)));
});

void test('the acl field of a POST form is the object\'s canned ACL: public-read is read anonymously; a canned ACL the node does not have is 501', async () => {
  const post = async (key: string, acl: string): Promise<number> => {
    const signing = signingFields({ accessKeyId: aliceUser.accessKeyId, secretAccessKey: aliceUser.secretAccessKey, nowMs: Date.now(), bucket: 'acls', key, fields: { acl } });
    const res = await fetch(`${node.endpoint}/acls`, { method: 'POST', body: formBody([['key', key], ['acl', acl], ...signing.fields], Buffer.from(`form ${acl}`)), headers: { 'content-type': FORM_CONTENT_TYPE } });
    await res.arrayBuffer();
    return res.status;
  };
  assert.equal(await post('form-public', 'public-read'), 204);
  assert.deepEqual(await anonymousGet('/acls/form-public'), { status: 200, body: 'form public-read' });
  assert.equal(await post('form-private', 'private'), 204);
  assert.equal((await anonymousGet('/acls/form-private')).status, 403);
  assert.equal(await post('form-log', 'log-delivery-write'), 501);
  assert.equal(await refusal(alice.send(new HeadObjectCommand({ Bucket: 'acls', Key: 'form-log' }))), '404 NotFound');
});

void test('BucketOwnerEnforced refuses ACL headers but bucket-owner-full-control (400 AccessControlListNotSupported); BlockPublicAcls refuses public ones (403); nothing is stored', async () => {
  await alice.send(new CreateBucketCommand({ Bucket: 'enforced', ObjectOwnership: 'BucketOwnerEnforced' }));
  assert.equal(await refusal(alice.send(new PutObjectCommand({ Bucket: 'enforced', Key: 'k', Body: 'x', ACL: 'public-read' }))), '400 AccessControlListNotSupported');
  assert.equal(await refusal(alice.send(new PutObjectCommand({ Bucket: 'enforced', Key: 'k', Body: 'x', ACL: 'private' }))), '400 AccessControlListNotSupported');
  assert.equal(await refusal(alice.send(new CreateMultipartUploadCommand({ Bucket: 'enforced', Key: 'k', GrantRead: `id="${bobUser.id}"` }))), '400 AccessControlListNotSupported');
  assert.equal(await s3ErrorName(alice.send(new HeadObjectCommand({ Bucket: 'enforced', Key: 'k' }))), 'NotFound');
  await alice.send(new PutObjectCommand({ Bucket: 'enforced', Key: 'k', Body: 'x', ACL: 'bucket-owner-full-control' }));
  assert.equal((await anonymousGet('/enforced/k')).status, 403);

  await alice.send(new CreateBucketCommand({ Bucket: 'blocked' }));
  await alice.send(new PutPublicAccessBlockCommand({ Bucket: 'blocked', PublicAccessBlockConfiguration: { BlockPublicAcls: true } }));
  assert.equal(await refusal(alice.send(new PutObjectCommand({ Bucket: 'blocked', Key: 'k', Body: 'x', ACL: 'public-read' }))), '403 AccessDenied');
  assert.equal(await refusal(alice.send(new PutObjectCommand({ Bucket: 'blocked', Key: 'k', Body: 'x', ACL: 'authenticated-read' }))), '403 AccessDenied');
  assert.equal(await refusal(alice.send(new CopyObjectCommand({ Bucket: 'blocked', Key: 'k', CopySource: 'acls/private', ACL: 'public-read-write' }))), '403 AccessDenied');
  assert.equal(await s3ErrorName(alice.send(new HeadObjectCommand({ Bucket: 'blocked', Key: 'k' }))), 'NotFound');
  await alice.send(new PutObjectCommand({ Bucket: 'blocked', Key: 'k', Body: 'x', GrantRead: `id="${bobUser.id}"` }));
  assert.equal(await (await bob.send(new GetObjectCommand({ Bucket: 'blocked', Key: 'k' }))).Body?.transformToString(), 'x');
});

void test('each version has its own ACL: a public current version opens no private old one, and a public old one stays readable by its id', async () => {
  await alice.send(new CreateBucketCommand({ Bucket: 'acls-versioned' }));
  await alice.send(new PutBucketVersioningCommand({ Bucket: 'acls-versioned', VersioningConfiguration: { Status: 'Enabled' } }));
  const put = async (key: string, body: string, acl: 'public-read' | 'private'): Promise<string> =>
    (await alice.send(new PutObjectCommand({ Bucket: 'acls-versioned', Key: key, Body: body, ACL: acl }))).VersionId ?? '';
  const privateFirst = await put('up', 'private first', 'private');
  const publicSecond = await put('up', 'public second', 'public-read');
  assert.deepEqual(await anonymousGet('/acls-versioned/up'), { status: 200, body: 'public second' });
  assert.deepEqual(await anonymousGet(`/acls-versioned/up?versionId=${publicSecond}`), { status: 200, body: 'public second' });
  assert.equal((await anonymousGet(`/acls-versioned/up?versionId=${privateFirst}`)).status, 403);
  assert.equal(await refusal(bob.send(new GetObjectCommand({ Bucket: 'acls-versioned', Key: 'up', VersionId: privateFirst }))), '403 AccessDenied');
  const publicFirst = await put('down', 'public first', 'public-read');
  await put('down', 'private second', 'private');
  assert.equal((await anonymousGet('/acls-versioned/down')).status, 403);
  assert.deepEqual(await anonymousGet(`/acls-versioned/down?versionId=${publicFirst}`), { status: 200, body: 'public first' });
  // Get/PutObjectAcl with a versionId act on that version only.
  await alice.send(new PutObjectAclCommand({ Bucket: 'acls-versioned', Key: 'up', VersionId: privateFirst, ACL: 'authenticated-read' }));
  assert.equal(await (await bob.send(new GetObjectCommand({ Bucket: 'acls-versioned', Key: 'up', VersionId: privateFirst }))).Body?.transformToString(), 'private first');
  assert.equal((await anonymousGet(`/acls-versioned/up?versionId=${privateFirst}`)).status, 403);
  const firstAcl = await alice.send(new GetObjectAclCommand({ Bucket: 'acls-versioned', Key: 'up', VersionId: privateFirst }));
  assert.deepEqual(firstAcl.Grants?.map((g) => g.Grantee?.URI ?? g.Grantee?.ID), ['http://acs.amazonaws.com/groups/global/AuthenticatedUsers', aliceUser.id]);
  const currentAcl = await alice.send(new GetObjectAclCommand({ Bucket: 'acls-versioned', Key: 'up' }));
  assert.deepEqual(currentAcl.Grants?.map((g) => g.Grantee?.URI ?? g.Grantee?.ID), ['http://acs.amazonaws.com/groups/global/AllUsers', aliceUser.id]);
  assert.equal(await refusal(alice.send(new GetObjectAclCommand({ Bucket: 'acls-versioned', Key: 'up', VersionId: '0'.repeat(32) }))), '404 NoSuchVersion');
  assert.equal(await refusal(alice.send(new PutObjectAclCommand({ Bucket: 'acls-versioned', Key: 'up', VersionId: '0'.repeat(32), ACL: 'public-read' }))), '404 NoSuchVersion');
  await alice.send(new PutObjectAclCommand({ Bucket: 'acls-versioned', Key: 'up', VersionId: privateFirst, ACL: 'private' }));
  // A copy whose source is a named private version is refused to bob, though the current version is public.
  await alice.send(new CreateBucketCommand({ Bucket: 'acls-open' }));
  await alice.send(new PutBucketPolicyCommand({ Bucket: 'acls-open', Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { CanonicalUser: bobUser.id }, Action: 's3:PutObject', Resource: 'arn:aws:s3:::acls-open/*' }] }) }));
  assert.equal(await refusal(bob.send(new CopyObjectCommand({ Bucket: 'acls-open', Key: 'stolen', CopySource: `acls-versioned/up?versionId=${privateFirst}` }))), '403 AccessDenied');
  await bob.send(new CopyObjectCommand({ Bucket: 'acls-open', Key: 'copied', CopySource: `acls-versioned/up?versionId=${publicSecond}` }));
});

void test('an object\'s ACL is kept with it: after the node restarts the public object is public and the private one private', async () => {
  await alice.send(new PutObjectCommand({ Bucket: 'acls', Key: 'kept-public', Body: 'kept', ACL: 'public-read' }));
  await node.stop();
  node = await startS3Node({ dataDir: join(dir, 'data'), s3: { users: new FileUsers(file, silentLogger), nodeKey: new StaticNodeKey(NODE_KEY) } });
  alice = node.client({ accessKeyId: aliceUser.accessKeyId, secretAccessKey: aliceUser.secretAccessKey });
  bob = node.client({ accessKeyId: bobUser.accessKeyId, secretAccessKey: bobUser.secretAccessKey });
  assert.deepEqual(await anonymousGet('/acls/kept-public'), { status: 200, body: 'kept' });
  assert.equal((await anonymousGet('/acls/private')).status, 403);
  assert.equal((await anonymousGet('/acls/mp-public')).status, 200);
});
