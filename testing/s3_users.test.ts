// Several users and access control (issue 16) against the AWS SDK.
//
// Strategy: one node whose S3 users come from a credentials file (FileUsers,
// as `serve` runs it): the node's owner (a section without a canonical id),
// alice and bob (`shardstore user add`). Alice owns a bucket with objects;
// every operation family is tried by bob (403 AccessDenied), then access is
// granted by ACL and by policy and taken away again (explicit deny, public
// access block, ownership controls), and anonymous requests (plain fetch,
// unsigned) are allowed exactly where a grant names everyone; a request that
// names a version needs S3's *Version action (s3:GetObjectVersion, ...),
// not the plain one. The file is changed under the running server (user
// add/remove, a broken file) and the next request sees it. CORS
// configuration and POST form uploads (a form is its signer's request) go
// through the same decisions.
//
// Each check compares the answer with what AWS documents for it, so a rule
// that is dropped (deny ignored, another user's bucket readable, a public
// grant honoured under IgnorePublicAcls) fails its assertion.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteBucketCorsCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  DeletePublicAccessBlockCommand,
  GetBucketAclCommand,
  GetBucketCorsCommand,
  GetBucketLocationCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  GetPublicAccessBlockCommand,
  ListObjectVersionsCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutBucketCorsCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
} from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { FileUsers, LEGACY_OWNER_ID, addUser, removeUser, silentLogger } from '../src/server/index.js';
import { encodeBucket } from '../src/server/s3/records.js';
import { bucketShardKey } from '../src/server/s3/shard_keys.js';
import type { User } from '../src/server/index.js';
import { FORM_CONTENT_TYPE, formBody, signingFields } from './post_form.js';
import type { S3Node } from './s3_harness.js';
import { ACCESS_KEY, SECRET_KEY, s3ErrorName, s3Refusal, startS3Node } from './s3_harness.js';

let dir: string;
let file: string;
let node: S3Node;
let owner: S3Client;
let alice: S3Client;
let bob: S3Client;
let aliceUser: User;
let bobUser: User;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shardstore-users-'));
  file = join(dir, 'credentials');
  writeFileSync(file, `[default]\naws_access_key_id = ${ACCESS_KEY}\naws_secret_access_key = ${SECRET_KEY}\n`, { mode: 0o600 });
  aliceUser = await addUser(file, 'alice');
  bobUser = await addUser(file, 'bob');
  node = await startS3Node({ s3: { users: new FileUsers(file, silentLogger) } });
  owner = node.client();
  alice = node.client({ accessKeyId: aliceUser.accessKeyId, secretAccessKey: aliceUser.secretAccessKey });
  bob = node.client({ accessKeyId: bobUser.accessKeyId, secretAccessKey: bobUser.secretAccessKey });
});

after(async () => {
  await node.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The HTTP status and S3 code of a call that must fail. */
const refusal = s3Refusal;

async function assertDenied(call: Promise<unknown>, what: string): Promise<void> {
  const [status, name] = await refusal(call);
  assert.equal(status, 403, `${what}: ${status} ${name}`);
  // HEAD answers carry no body: the SDK names them by status.
  assert.ok(name === 'AccessDenied' || (what.startsWith('Head') && name === 'Unknown'), `${what}: ${name}`);
}

/** An unsigned request, as a browser or curl sends it. */
async function anonymous(path: string, init: RequestInit = {}): Promise<{ status: number; body: string }> {
  const res = await fetch(`${node.endpoint}${path}`, init);
  return { status: res.status, body: await res.text() };
}

async function makeBucket(client: S3Client, bucket: string, objects: Record<string, string>): Promise<void> {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  for (const [key, body] of Object.entries(objects)) await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

async function text(client: S3Client, bucket: string, key: string): Promise<string> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await out.Body?.transformToString()) ?? '';
}

void test('another user\'s bucket and objects answer 403 AccessDenied for every operation family; ListBuckets shows one\'s own', async () => {
  await makeBucket(alice, 'alice-private', { 'a.txt': 'alice data', 'b.txt': 'more' });
  await makeBucket(bob, 'bob-own', { 'x.txt': 'bob data' });
  const b = 'alice-private';
  const calls: Array<[string, () => Promise<unknown>]> = [
    ['ListObjectsV2', () => bob.send(new ListObjectsV2Command({ Bucket: b }))],
    ['HeadBucket', () => bob.send(new HeadBucketCommand({ Bucket: b }))],
    ['GetBucketLocation', () => bob.send(new GetBucketLocationCommand({ Bucket: b }))],
    ['GetObject', () => bob.send(new GetObjectCommand({ Bucket: b, Key: 'a.txt' }))],
    ['HeadObject', () => bob.send(new HeadObjectCommand({ Bucket: b, Key: 'a.txt' }))],
    ['PutObject', () => bob.send(new PutObjectCommand({ Bucket: b, Key: 'planted', Body: 'x' }))],
    ['DeleteObject', () => bob.send(new DeleteObjectCommand({ Bucket: b, Key: 'a.txt' }))],
    ['CopyObject out', () => bob.send(new CopyObjectCommand({ Bucket: 'bob-own', Key: 'stolen', CopySource: `${b}/a.txt` }))],
    ['CopyObject in', () => bob.send(new CopyObjectCommand({ Bucket: b, Key: 'planted', CopySource: 'bob-own/x.txt' }))],
    ['CreateMultipartUpload', () => bob.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp' }))],
    ['ListMultipartUploads', () => bob.send(new ListMultipartUploadsCommand({ Bucket: b }))],
    ['GetBucketAcl', () => bob.send(new GetBucketAclCommand({ Bucket: b }))],
    ['PutBucketAcl', () => bob.send(new PutBucketAclCommand({ Bucket: b, ACL: 'public-read' }))],
    ['GetObjectAcl', () => bob.send(new GetObjectAclCommand({ Bucket: b, Key: 'a.txt' }))],
    ['PutObjectAcl', () => bob.send(new PutObjectAclCommand({ Bucket: b, Key: 'a.txt', ACL: 'public-read' }))],
    ['GetObjectTagging', () => bob.send(new GetObjectTaggingCommand({ Bucket: b, Key: 'a.txt' }))],
    ['PutBucketTagging', () => bob.send(new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet: [{ Key: 'k', Value: 'v' }] } }))],
    ['GetBucketPolicy', () => bob.send(new GetBucketPolicyCommand({ Bucket: b }))],
    ['PutBucketPolicy', () => bob.send(new PutBucketPolicyCommand({ Bucket: b, Policy: publicRead(b) }))],
    ['PutPublicAccessBlock', () => bob.send(new PutPublicAccessBlockCommand({ Bucket: b, PublicAccessBlockConfiguration: {} }))],
    ['GetBucketOwnershipControls', () => bob.send(new GetBucketOwnershipControlsCommand({ Bucket: b }))],
    ['DeleteBucket', () => bob.send(new DeleteBucketCommand({ Bucket: b }))],
  ];
  for (const [what, call] of calls) await assertDenied(call(), what);
  // DeleteObjects answers 200 with each key refused, as S3 does.
  const multi = await bob.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'a.txt' }, { Key: 'b.txt' }] } }));
  assert.deepEqual(multi.Errors?.map((e) => [e.Key, e.Code]), [['a.txt', 'AccessDenied'], ['b.txt', 'AccessDenied']]);
  assert.equal(multi.Deleted?.length ?? 0, 0);
  // Nothing changed: alice's objects are whole, nothing was planted, bob stole nothing.
  const listed = await alice.send(new ListObjectsV2Command({ Bucket: b }));
  assert.deepEqual(listed.Contents?.map((o) => o.Key), ['a.txt', 'b.txt']);
  assert.equal(await s3ErrorName(bob.send(new HeadObjectCommand({ Bucket: 'bob-own', Key: 'stolen' }))), 'NotFound');
  // The name is taken: another user's CreateBucket is 409 BucketAlreadyExists; the owner's own (us-east-1) is 200.
  assert.equal(await s3ErrorName(bob.send(new CreateBucketCommand({ Bucket: b }))), 'BucketAlreadyExists');
  await alice.send(new CreateBucketCommand({ Bucket: b }));
  const aliceList = await alice.send(new ListBucketsCommand({}));
  const bobList = await bob.send(new ListBucketsCommand({}));
  assert.ok(aliceList.Buckets?.some((x) => x.Name === b) === true && aliceList.Buckets.every((x) => x.Name !== 'bob-own'));
  assert.ok(bobList.Buckets?.some((x) => x.Name === 'bob-own') === true && bobList.Buckets.every((x) => x.Name !== b));
  assert.equal(aliceList.Owner?.ID, aliceUser.id);
  assert.equal(aliceList.Owner?.DisplayName, 'alice');
  // x-amz-expected-bucket-owner is checked against the real owner.
  await assertDenied(alice.send(new ListObjectsV2Command({ Bucket: b, ExpectedBucketOwner: bobUser.id })), 'wrong expected owner');
  await alice.send(new ListObjectsV2Command({ Bucket: b, ExpectedBucketOwner: aliceUser.id }));
});

void test('a store made before users: its buckets belong to the node owner (the keys without a canonical id)', async () => {
  // A bucket record written as the single-owner server wrote it: no access record.
  await node.api.put(bucketShardKey('legacy-bucket'), encodeBucket({ createdMs: 0, tags: [] }));
  await owner.send(new PutObjectCommand({ Bucket: 'legacy-bucket', Key: 'k', Body: 'old' }));
  assert.equal(await text(owner, 'legacy-bucket', 'k'), 'old');
  await assertDenied(alice.send(new GetObjectCommand({ Bucket: 'legacy-bucket', Key: 'k' })), 'legacy GetObject by alice');
  const acl = await owner.send(new GetBucketAclCommand({ Bucket: 'legacy-bucket' }));
  assert.equal(acl.Owner?.ID, LEGACY_OWNER_ID);
  const listed = await owner.send(new ListBucketsCommand({}));
  assert.ok(listed.Buckets?.some((x) => x.Name === 'legacy-bucket'));
});

void test('ACL grants: a bucket grant lets another user list, an object grant lets it read; an overwrite does not inherit the grant', async () => {
  await makeBucket(alice, 'alice-shared', { 'doc.txt': 'shared doc' });
  await assertDenied(bob.send(new ListObjectsV2Command({ Bucket: 'alice-shared' })), 'before the grant');
  await alice.send(new PutBucketAclCommand({ Bucket: 'alice-shared', GrantRead: `id="${bobUser.id}"` }));
  const listed = await bob.send(new ListObjectsV2Command({ Bucket: 'alice-shared' }));
  assert.deepEqual(listed.Contents?.map((o) => o.Key), ['doc.txt']);
  // Bucket READ is not object READ.
  await assertDenied(bob.send(new GetObjectCommand({ Bucket: 'alice-shared', Key: 'doc.txt' })), 'object without its grant');
  await alice.send(new PutObjectAclCommand({ Bucket: 'alice-shared', Key: 'doc.txt', GrantRead: `id="${bobUser.id}"` }));
  assert.equal(await text(bob, 'alice-shared', 'doc.txt'), 'shared doc');
  const acl = await alice.send(new GetObjectAclCommand({ Bucket: 'alice-shared', Key: 'doc.txt' }));
  assert.deepEqual(
    acl.Grants?.map((g) => [g.Grantee?.ID, g.Permission]),
    // Exactly the header's grants: the owner's FULL_CONTROL is not added (alice keeps every right as the owner).
    [[bobUser.id, 'READ']],
  );
  // READ does not give WRITE_ACP, nor the bucket's WRITE.
  await assertDenied(bob.send(new PutObjectAclCommand({ Bucket: 'alice-shared', Key: 'doc.txt', ACL: 'public-read' })), 'PutObjectAcl with READ');
  await assertDenied(bob.send(new PutObjectCommand({ Bucket: 'alice-shared', Key: 'bob.txt', Body: 'x' })), 'PutObject with READ');
  await alice.send(new PutObjectCommand({ Bucket: 'alice-shared', Key: 'doc.txt', Body: 'new version' }));
  await assertDenied(bob.send(new GetObjectCommand({ Bucket: 'alice-shared', Key: 'doc.txt' })), 'overwritten object');
  // WRITE on the bucket lets bob put; the object is his (ObjectWriter): the bucket owner reads it only with bucket-owner-read.
  await alice.send(new PutBucketAclCommand({ Bucket: 'alice-shared', GrantWrite: `id="${bobUser.id}"` }));
  await bob.send(new PutObjectCommand({ Bucket: 'alice-shared', Key: 'from-bob.txt', Body: 'hi' }));
  await assertDenied(alice.send(new GetObjectCommand({ Bucket: 'alice-shared', Key: 'from-bob.txt' })), 'bob\'s object read by the bucket owner');
  await bob.send(new PutObjectCommand({ Bucket: 'alice-shared', Key: 'from-bob.txt', Body: 'hi', ACL: 'bucket-owner-read' }));
  assert.equal(await text(alice, 'alice-shared', 'from-bob.txt'), 'hi');
  // The grant above replaced the READ grant (an ACL is set whole).
  await assertDenied(bob.send(new ListObjectsV2Command({ Bucket: 'alice-shared' })), 'after the ACL was replaced');
});

void test('anonymous requests: refused by default, allowed by public-read, refused again under IgnorePublicAcls and BlockPublicAcls', async () => {
  await makeBucket(alice, 'alice-public', { 'index.html': '<h1>hi</h1>' });
  assert.equal((await anonymous('/alice-public')).status, 403);
  assert.equal((await anonymous('/alice-public/index.html')).status, 403);
  await alice.send(new PutBucketAclCommand({ Bucket: 'alice-public', ACL: 'public-read' }));
  await alice.send(new PutObjectAclCommand({ Bucket: 'alice-public', Key: 'index.html', ACL: 'public-read' }));
  const listing = await anonymous('/alice-public');
  assert.equal(listing.status, 200);
  assert.match(listing.body, /<Key>index.html<\/Key>/);
  assert.deepEqual(await anonymous('/alice-public/index.html'), { status: 200, body: '<h1>hi</h1>' });
  // READ is not WRITE: an anonymous PUT or DELETE stays refused.
  assert.equal((await anonymous('/alice-public/graffiti', { method: 'PUT', body: 'x' })).status, 403);
  assert.equal((await anonymous('/alice-public/index.html', { method: 'DELETE' })).status, 403);
  // authenticated-read: any user, not anonymous.
  await alice.send(new PutObjectAclCommand({ Bucket: 'alice-public', Key: 'index.html', ACL: 'authenticated-read' }));
  assert.equal((await anonymous('/alice-public/index.html')).status, 403);
  assert.equal(await text(bob, 'alice-public', 'index.html'), '<h1>hi</h1>');
  await alice.send(new PutObjectAclCommand({ Bucket: 'alice-public', Key: 'index.html', ACL: 'public-read' }));
  await alice.send(new PutPublicAccessBlockCommand({ Bucket: 'alice-public', PublicAccessBlockConfiguration: { IgnorePublicAcls: true } }));
  assert.equal((await anonymous('/alice-public/index.html')).status, 403);
  await alice.send(new PutPublicAccessBlockCommand({ Bucket: 'alice-public', PublicAccessBlockConfiguration: { BlockPublicAcls: true } }));
  assert.equal((await anonymous('/alice-public/index.html')).status, 200);
  assert.equal(await s3ErrorName(alice.send(new PutBucketAclCommand({ Bucket: 'alice-public', ACL: 'public-read-write' }))), 'AccessDenied');
  const block = await alice.send(new GetPublicAccessBlockCommand({ Bucket: 'alice-public' }));
  assert.deepEqual(block.PublicAccessBlockConfiguration, { BlockPublicAcls: true, IgnorePublicAcls: false, BlockPublicPolicy: false, RestrictPublicBuckets: false });
  await alice.send(new DeletePublicAccessBlockCommand({ Bucket: 'alice-public' }));
  assert.equal(await s3ErrorName(alice.send(new GetPublicAccessBlockCommand({ Bucket: 'alice-public' }))), 'NoSuchPublicAccessBlockConfiguration');
});

function publicRead(bucket: string): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }] });
}

void test('bucket policies: grants by canonical id with wildcards, explicit deny beats allow, anonymous by Principal *, conditions, RestrictPublicBuckets', async () => {
  const b = 'alice-policy';
  await makeBucket(alice, b, { 'public/a.txt': 'pa', 'public/deny-me.txt': 'pd', 'secret/s.txt': 'ss' });
  const policy = {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'bob-reads-public', Effect: 'Allow', Principal: { CanonicalUser: bobUser.id }, Action: ['s3:GetObject', 's3:ListBucket'], Resource: [`arn:aws:s3:::${b}/public/*`, `arn:aws:s3:::${b}`] },
      { Sid: 'but-not-this', Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/public/deny-*` },
    ],
  };
  await alice.send(new PutBucketPolicyCommand({ Bucket: b, Policy: JSON.stringify(policy) }));
  assert.deepEqual(JSON.parse((await alice.send(new GetBucketPolicyCommand({ Bucket: b }))).Policy ?? ''), policy);
  assert.equal(await text(bob, b, 'public/a.txt'), 'pa');
  await assertDenied(bob.send(new GetObjectCommand({ Bucket: b, Key: 'secret/s.txt' })), 'outside the Resource');
  await assertDenied(bob.send(new GetObjectCommand({ Bucket: b, Key: 'public/deny-me.txt' })), 'explicit deny beats allow');
  // The deny names everyone: the owner too.
  await assertDenied(alice.send(new GetObjectCommand({ Bucket: b, Key: 'public/deny-me.txt' })), 'deny applies to the owner');
  assert.equal((await bob.send(new ListObjectsV2Command({ Bucket: b }))).KeyCount, 3);
  await assertDenied(bob.send(new PutObjectCommand({ Bucket: b, Key: 'public/new', Body: 'x' })), 'an action not allowed');
  // The policy operations are the owner's alone: 405 to another user even when the policy allows them.
  await alice.send(new PutBucketPolicyCommand({ Bucket: b, Policy: JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { CanonicalUser: bobUser.id }, Action: 's3:*', Resource: `arn:aws:s3:::${b}` }] }) }));
  assert.deepEqual(await refusal(bob.send(new GetBucketPolicyCommand({ Bucket: b }))), [405, 'MethodNotAllowed']);
  // Anonymous by policy, limited by a condition.
  assert.equal((await anonymous(`/${b}/public/a.txt`)).status, 403);
  await alice.send(new PutBucketPolicyCommand({ Bucket: b, Policy: publicRead(b) }));
  assert.deepEqual(await anonymous(`/${b}/public/a.txt`), { status: 200, body: 'pa' });
  assert.equal((await alice.send(new GetBucketPolicyStatusCommand({ Bucket: b }))).PolicyStatus?.IsPublic, true);
  const elsewhere = { Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*`, Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }] };
  await alice.send(new PutBucketPolicyCommand({ Bucket: b, Policy: JSON.stringify(elsewhere) }));
  assert.equal((await anonymous(`/${b}/public/a.txt`)).status, 403);
  const secureOnly = { Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*`, Condition: { Bool: { 'aws:SecureTransport': 'true' } } }] };
  await alice.send(new PutBucketPolicyCommand({ Bucket: b, Policy: JSON.stringify(secureOnly) }));
  assert.equal((await anonymous(`/${b}/public/a.txt`)).status, 403, 'plain HTTP is not secure transport');
  await alice.send(new PutBucketPolicyCommand({ Bucket: b, Policy: publicRead(b) }));
  await alice.send(new PutPublicAccessBlockCommand({ Bucket: b, PublicAccessBlockConfiguration: { RestrictPublicBuckets: true } }));
  assert.equal((await anonymous(`/${b}/public/a.txt`)).status, 403, 'RestrictPublicBuckets');
  await alice.send(new PutPublicAccessBlockCommand({ Bucket: b, PublicAccessBlockConfiguration: { BlockPublicPolicy: true } }));
  assert.equal(await s3ErrorName(alice.send(new PutBucketPolicyCommand({ Bucket: b, Policy: publicRead(b) }))), 'AccessDenied');
  await alice.send(new DeleteBucketPolicyCommand({ Bucket: b }));
  assert.equal(await s3ErrorName(alice.send(new GetBucketPolicyCommand({ Bucket: b }))), 'NoSuchBucketPolicy');
  assert.equal((await anonymous(`/${b}/public/a.txt`)).status, 403);
});

void test('NotPrincipal in a Deny refuses everyone it does not name (the owner and anonymous requests too) and no one it names; NotPrincipal "*" refuses no one', async () => {
  const b = 'alice-notprincipal';
  await makeBucket(alice, b, { 'open.txt': 'o', 'locked/l.txt': 'l' });
  const policyWith = (notPrincipal: unknown): string => JSON.stringify({
    Statement: [
      { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` },
      { Effect: 'Deny', NotPrincipal: notPrincipal, Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/locked/*` },
    ],
  });
  await alice.send(new PutBucketPolicyCommand({ Bucket: b, Policy: policyWith({ CanonicalUser: bobUser.id }) }));
  assert.equal(await text(bob, b, 'locked/l.txt'), 'l', 'the user named is not denied');
  await assertDenied(alice.send(new GetObjectCommand({ Bucket: b, Key: 'locked/l.txt' })), 'the owner, not named');
  assert.equal((await anonymous(`/${b}/locked/l.txt`)).status, 403, 'an anonymous request, not named');
  assert.deepEqual(await anonymous(`/${b}/open.txt`), { status: 200, body: 'o' }, 'outside the Deny\'s resource');
  assert.equal((await alice.send(new GetBucketPolicyStatusCommand({ Bucket: b }))).PolicyStatus?.IsPublic, true, 'a Deny makes nothing public, the Allow does');
  await alice.send(new PutBucketPolicyCommand({ Bucket: b, Policy: policyWith({ AWS: '*' }) }));
  assert.deepEqual(await anonymous(`/${b}/locked/l.txt`), { status: 200, body: 'l' }, 'NotPrincipal "*" names everyone, so denies no one');
  await alice.send(new DeleteBucketPolicyCommand({ Bucket: b }));
});

void test('a request naming a version needs S3\'s *Version action: s3:GetObject does not read an old version, s3:DeleteObject does not delete one; ListObjectVersions needs s3:ListBucketVersions', async () => {
  const b = 'alice-versions';
  await alice.send(new CreateBucketCommand({ Bucket: b }));
  await assertDenied(bob.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } })), 'PutBucketVersioning by another user');
  await alice.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
  const v1 = (await alice.send(new PutObjectCommand({ Bucket: b, Key: 'doc', Body: 'first' }))).VersionId;
  await alice.send(new PutObjectCommand({ Bucket: b, Key: 'doc', Body: 'second' }));
  assert.ok(v1 !== undefined && v1 !== 'null');
  const grant = (actions: string[]): string =>
    JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { CanonicalUser: bobUser.id }, Action: actions, Resource: [`arn:aws:s3:::${b}`, `arn:aws:s3:::${b}/*`] }] });
  await alice.send(new PutBucketPolicyCommand({ Bucket: b, Policy: grant(['s3:GetObject', 's3:ListBucket', 's3:DeleteObject']) }));
  assert.equal(await text(bob, b, 'doc'), 'second');
  await assertDenied(bob.send(new GetObjectCommand({ Bucket: b, Key: 'doc', VersionId: v1 })), 'GetObject of a version with s3:GetObject only');
  await assertDenied(bob.send(new HeadObjectCommand({ Bucket: b, Key: 'doc', VersionId: v1 })), 'HeadObject of a version with s3:GetObject only');
  await assertDenied(bob.send(new CopyObjectCommand({ Bucket: b, Key: 'copy', CopySource: `${b}/doc?versionId=${v1}` })), 'a copy source naming a version with s3:GetObject only');
  await assertDenied(bob.send(new DeleteObjectCommand({ Bucket: b, Key: 'doc', VersionId: v1 })), 'DeleteObject of a version with s3:DeleteObject only');
  const batch = await bob.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'doc', VersionId: v1 }] } }));
  assert.deepEqual(batch.Errors?.map((e) => [e.Key, e.VersionId, e.Code]), [['doc', v1, 'AccessDenied']]);
  await assertDenied(bob.send(new ListObjectVersionsCommand({ Bucket: b })), 'ListObjectVersions with s3:ListBucket only');
  await alice.send(new PutBucketPolicyCommand({ Bucket: b, Policy: grant(['s3:GetObjectVersion', 's3:ListBucketVersions', 's3:DeleteObjectVersion']) }));
  const old = await bob.send(new GetObjectCommand({ Bucket: b, Key: 'doc', VersionId: v1 }));
  assert.equal(await old.Body?.transformToString(), 'first');
  assert.deepEqual((await bob.send(new ListObjectVersionsCommand({ Bucket: b }))).Versions?.map((v) => v.IsLatest), [true, false]);
  await assertDenied(bob.send(new GetObjectCommand({ Bucket: b, Key: 'doc' })), 'GetObject of the current version with s3:GetObjectVersion only');
  await bob.send(new DeleteObjectCommand({ Bucket: b, Key: 'doc', VersionId: v1 }));
  assert.equal(await s3ErrorName(alice.send(new GetObjectCommand({ Bucket: b, Key: 'doc', VersionId: v1 }))), 'NoSuchVersion');
  assert.equal(await text(alice, b, 'doc'), 'second');
});

void test('a policy that cannot be evaluated is refused, never stored and ignored', async () => {
  const b = 'alice-badpolicy';
  await makeBucket(alice, b, {});
  const put = (p: unknown): Promise<[number | undefined, string]> => refusal(alice.send(new PutBucketPolicyCommand({ Bucket: b, Policy: typeof p === 'string' ? p : JSON.stringify(p) })));
  const stmt = { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` };
  assert.deepEqual(await put('{not json'), [400, 'MalformedPolicy']);
  assert.deepEqual(await put({ Statement: [{ ...stmt, Effect: 'Maybe' }] }), [400, 'MalformedPolicy']);
  assert.deepEqual(await put({ Statement: [{ ...stmt, Resource: 'arn:aws:s3:::other-bucket/*' }] }), [400, 'MalformedPolicy']);
  assert.deepEqual(await put({ Statement: [{ ...stmt, Surprise: true }] }), [400, 'MalformedPolicy']);
  assert.deepEqual(await put({ Statement: [{ ...stmt, Condition: { DateGreaterThan: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } } }] }), [501, 'NotImplemented']);
  assert.deepEqual(await put({ Statement: [{ ...stmt, Condition: { StringEquals: { 's3:RequestObjectTag/x': 'y' } } }] }), [501, 'NotImplemented']);
  assert.deepEqual(await put({ Statement: [{ ...stmt, Principal: { Service: 'logging.s3.amazonaws.com' } }] }), [501, 'NotImplemented']);
  // NotPrincipal is evaluated in a Deny only (AWS: "Using it with Allow is not supported"), never beside Principal.
  const allowNotPrincipal = { Effect: 'Allow', NotPrincipal: { AWS: '*' }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` };
  assert.deepEqual(await put({ Statement: [allowNotPrincipal] }), [400, 'MalformedPolicy']);
  assert.deepEqual(await put({ Statement: [{ ...stmt, Effect: 'Deny', NotPrincipal: { AWS: '*' } }] }), [400, 'MalformedPolicy']);
  assert.equal(await s3ErrorName(alice.send(new GetBucketPolicyCommand({ Bucket: b }))), 'NoSuchBucketPolicy');
});

void test('ownership controls: BucketOwnerEnforced disables ACLs (AccessControlListNotSupported) and their grants stop counting', async () => {
  const b = 'alice-enforced';
  await makeBucket(alice, b, { 'o.txt': 'o' });
  assert.equal((await alice.send(new GetBucketOwnershipControlsCommand({ Bucket: b }))).OwnershipControls?.Rules?.[0]?.ObjectOwnership, 'ObjectWriter');
  await alice.send(new PutObjectAclCommand({ Bucket: b, Key: 'o.txt', GrantRead: `id="${bobUser.id}"` }));
  assert.equal(await text(bob, b, 'o.txt'), 'o');
  await alice.send(new PutBucketOwnershipControlsCommand({ Bucket: b, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } }));
  await assertDenied(bob.send(new GetObjectCommand({ Bucket: b, Key: 'o.txt' })), 'object grant under BucketOwnerEnforced');
  assert.equal(await s3ErrorName(alice.send(new PutBucketAclCommand({ Bucket: b, ACL: 'public-read' }))), 'AccessControlListNotSupported');
  assert.equal(await s3ErrorName(alice.send(new PutObjectAclCommand({ Bucket: b, Key: 'o.txt', ACL: 'public-read' }))), 'AccessControlListNotSupported');
  const acl = await alice.send(new GetObjectAclCommand({ Bucket: b, Key: 'o.txt' }));
  assert.deepEqual(acl.Grants?.map((g) => [g.Grantee?.ID, g.Permission]), [[aliceUser.id, 'FULL_CONTROL']]);
  // ACLs on again: the stored grant counts again.
  await alice.send(new PutBucketOwnershipControlsCommand({ Bucket: b, OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }] } }));
  assert.equal(await text(bob, b, 'o.txt'), 'o');
  // A bucket created enforced with a public ACL is refused, as S3 refuses it.
  assert.equal(await s3ErrorName(alice.send(new CreateBucketCommand({ Bucket: 'alice-enforced2', ObjectOwnership: 'BucketOwnerEnforced', ACL: 'public-read' }))), 'InvalidBucketAclWithObjectOwnership');
});

void test('the credentials file is re-read when it changes: an added user works at once, a removed one is refused, a broken file refuses everyone', async () => {
  const carol = await addUser(file, 'carol');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const carolClient = node.client({ accessKeyId: carol.accessKeyId, secretAccessKey: carol.secretAccessKey });
  await carolClient.send(new CreateBucketCommand({ Bucket: 'carol-bucket' }));
  assert.deepEqual((await carolClient.send(new ListBucketsCommand({}))).Buckets?.map((x) => x.Name), ['carol-bucket']);
  await removeUser(file, 'carol');
  assert.equal(await s3ErrorName(carolClient.send(new ListBucketsCommand({}))), 'InvalidAccessKeyId');
  // Her bucket stays hers (by canonical id): bob cannot take it.
  await assertDenied(bob.send(new ListObjectsV2Command({ Bucket: 'carol-bucket' })), 'a removed user\'s bucket');
  const good = (await import('node:fs')).readFileSync(file, 'utf8');
  writeFileSync(file, good.replace(/shardstore_canonical_id = [0-9a-f]+/, 'shardstore_canonical_id = not-hex'));
  assert.equal(await s3ErrorName(alice.send(new ListBucketsCommand({}))), 'InvalidAccessKeyId');
  assert.equal(await s3ErrorName(owner.send(new ListBucketsCommand({}))), 'InvalidAccessKeyId');
  writeFileSync(file, good);
  await alice.send(new ListBucketsCommand({}));
});

/** POST /bucket with a form signed by `user` for `key` (testing/post_form.ts: AWS's documented chain). */
async function postForm(user: User, bucket: string, key: string, body: string): Promise<{ status: number; body: string }> {
  const signing = signingFields({ accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey, nowMs: Date.now(), bucket, key });
  return anonymous(`/${bucket}`, { method: 'POST', body: formBody([['key', key], ...signing.fields], Buffer.from(body)), headers: { 'content-type': FORM_CONTENT_TYPE } });
}

void test('CORS configuration and POST forms are authorized like the rest: another user is refused until the policy grants s3:PutObject / s3:PutBucketCORS', async () => {
  const b = 'alice-browser';
  await makeBucket(alice, b, {});
  const cors = { CORSRules: [{ AllowedOrigins: ['https://app.example'], AllowedMethods: ['GET'] }] };
  await assertDenied(bob.send(new PutBucketCorsCommand({ Bucket: b, CORSConfiguration: cors })), 'PutBucketCors');
  await assertDenied(bob.send(new GetBucketCorsCommand({ Bucket: b })), 'GetBucketCors');
  await assertDenied(bob.send(new DeleteBucketCorsCommand({ Bucket: b })), 'DeleteBucketCors');
  assert.equal(await s3ErrorName(alice.send(new GetBucketCorsCommand({ Bucket: b }))), 'NoSuchCORSConfiguration', 'bob stored no configuration');
  // A form bob signed with his own keys is his request: refused in alice's bucket, nothing stored.
  const refused = await postForm(bobUser, b, 'inbox/from-bob', 'bob form');
  assert.equal(refused.status, 403, refused.body);
  assert.match(refused.body, /<Code>AccessDenied<\/Code>/);
  assert.equal(await s3ErrorName(alice.send(new HeadObjectCommand({ Bucket: b, Key: 'inbox/from-bob' }))), 'NotFound');
  // The owner's own form stores.
  assert.equal((await postForm(aliceUser, b, 'mine', 'alice form')).status, 204);
  assert.equal(await text(alice, b, 'mine'), 'alice form');
  // A policy grants bob s3:PutObject under inbox/ and s3:PutBucketCORS: his form stores there and only there.
  const policy = {
    Statement: [
      { Effect: 'Allow', Principal: { CanonicalUser: bobUser.id }, Action: 's3:PutObject', Resource: `arn:aws:s3:::${b}/inbox/*` },
      { Effect: 'Allow', Principal: { CanonicalUser: bobUser.id }, Action: 's3:PutBucketCORS', Resource: `arn:aws:s3:::${b}` },
    ],
  };
  await alice.send(new PutBucketPolicyCommand({ Bucket: b, Policy: JSON.stringify(policy) }));
  const granted = await postForm(bobUser, b, 'inbox/from-bob', 'bob form');
  assert.equal(granted.status, 204, granted.body);
  // The upload is bob's (its writer's, ObjectWriter): he reads it, alice does not (she may delete it).
  assert.equal(await text(bob, b, 'inbox/from-bob'), 'bob form');
  await assertDenied(alice.send(new GetObjectCommand({ Bucket: b, Key: 'inbox/from-bob' })), 'bob\'s upload read by the bucket owner');
  assert.equal((await postForm(bobUser, b, 'outside', 'bob form')).status, 403);
  assert.equal(await s3ErrorName(alice.send(new HeadObjectCommand({ Bucket: b, Key: 'outside' }))), 'NotFound');
  await bob.send(new PutBucketCorsCommand({ Bucket: b, CORSConfiguration: cors }));
  assert.deepEqual((await alice.send(new GetBucketCorsCommand({ Bucket: b }))).CORSRules?.map((r) => r.AllowedOrigins), [['https://app.example']]);
  await assertDenied(bob.send(new GetBucketCorsCommand({ Bucket: b })), 'GetBucketCors is not granted');
});
