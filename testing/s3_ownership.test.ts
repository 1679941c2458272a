// Object ownership and exact ACLs (docs/S3.md, "Ownership controls" and
// "ACLs") against the AWS SDK, with two users.
//
// Strategy: one node whose users come from a credentials file: alice owns
// the buckets, bob writes into them (a bucket ACL grants him WRITE). Each
// ownership setting is tried in turn: who owns what bob writes (GetObjectAcl's
// Owner, the listings' Owner), what the canned ACLs grant, what the bucket
// owner may do with an object it does not own (delete it, nothing else unless
// granted) and what the object's owner keeps whatever its ACL says (READ_ACP,
// WRITE_ACP). ACLs are checked to read back exactly as put (no implied owner
// grant), and re-creating a bucket in us-east-1 to reset its ACL.
//
// Each assertion is what AWS documents; a rule dropped (objects always the
// bucket owner's, an owner grant added on read, the bucket owner reading
// what it does not own) fails one of them.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketOwnershipControlsCommand,
  DeleteObjectCommand,
  DeleteObjectTaggingCommand,
  GetBucketAclCommand,
  GetBucketOwnershipControlsCommand,
  GetObjectAclCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectRetentionCommand,
  GetObjectTaggingCommand,
  ListObjectVersionsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectRetentionCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { Grant, ObjectOwnership, S3Client } from '@aws-sdk/client-s3';
import { StaticUsers } from '../src/server/index.js';
import type { User } from '../src/server/index.js';
import { conformanceEnv } from './s3_conformance_env.js';
import { userPair } from './s3_conformance_tools.js';
import { s3ErrorName, s3Refusal } from './s3_harness.js';

const users = userPair();
const aliceUser: User = users.main;
const bobUser: User = users.alt;
let serial = 0;
const env = conformanceEnv('own', () => ({ s3: { users: new StaticUsers([aliceUser, bobUser]) } }));
const clients = new Map<User, S3Client>();
/** The user's client (made once the node runs). */
function as(user: User): S3Client {
  const made = clients.get(user) ?? env.node.client({ accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey });
  clients.set(user, made);
  return made;
}
const alice = (): S3Client => as(aliceUser);
const bob = (): S3Client => as(bobUser);

async function status(call: Promise<unknown>): Promise<number | undefined> {
  return (await s3Refusal(call))[0];
}

/** A bucket of alice's that bob may write to (a WRITE grant beside alice's FULL_CONTROL), with `ownership` (none: the default). */
async function sharedBucket(ownership?: Exclude<ObjectOwnership, 'BucketOwnerEnforced'>): Promise<string> {
  const bucket = `own-${serial++}`;
  await alice().send(new CreateBucketCommand({ Bucket: bucket, ...(ownership === undefined ? {} : { ObjectOwnership: ownership }) }));
  await alice().send(new PutBucketAclCommand({ Bucket: bucket, GrantFullControl: `id="${aliceUser.id}"`, GrantWrite: `id="${bobUser.id}"` }));
  return bucket;
}

const flat = (grants: readonly Grant[] | undefined): Array<[string | undefined, string | undefined]> =>
  (grants ?? []).map((g) => [g.Grantee?.ID ?? g.Grantee?.URI, g.Permission]);

async function body(client: S3Client, bucket: string, key: string): Promise<string> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await out.Body?.transformToString()) ?? '';
}

void test('a new bucket is ObjectWriter: what bob writes is his (GetObjectAcl, ListObjects, ListObjectsV2 fetch-owner); alice may delete it, not read it or its ACL', async () => {
  const bucket = await sharedBucket();
  assert.equal((await alice().send(new GetBucketOwnershipControlsCommand({ Bucket: bucket }))).OwnershipControls?.Rules?.[0]?.ObjectOwnership, 'ObjectWriter');
  await bob().send(new PutObjectCommand({ Bucket: bucket, Key: 'bob.txt', Body: 'from bob' }));
  await alice().send(new PutObjectCommand({ Bucket: bucket, Key: 'alice.txt', Body: 'from alice' }));
  const acl = await bob().send(new GetObjectAclCommand({ Bucket: bucket, Key: 'bob.txt' }));
  assert.equal(acl.Owner?.ID, bobUser.id);
  assert.deepEqual(flat(acl.Grants), [[bobUser.id, 'FULL_CONTROL']]);
  assert.equal(await body(bob(), bucket, 'bob.txt'), 'from bob');
  const v1 = await alice().send(new ListObjectsCommand({ Bucket: bucket }));
  assert.deepEqual(v1.Contents?.map((o) => [o.Key, o.Owner?.ID, o.Owner?.DisplayName]), [['alice.txt', aliceUser.id, 'main'], ['bob.txt', bobUser.id, 'alt']]);
  const v2 = await alice().send(new ListObjectsV2Command({ Bucket: bucket, FetchOwner: true }));
  assert.deepEqual(v2.Contents?.map((o) => o.Owner?.ID), [aliceUser.id, bobUser.id]);
  // The bucket owner does not own bob's object: no read, no ACL read or write (cross-user denial) ...
  assert.equal(await status(alice().send(new GetObjectCommand({ Bucket: bucket, Key: 'bob.txt' }))), 403);
  assert.equal(await status(alice().send(new GetObjectAclCommand({ Bucket: bucket, Key: 'bob.txt' }))), 403);
  assert.equal(await status(alice().send(new PutObjectAclCommand({ Bucket: bucket, Key: 'bob.txt', ACL: 'private' }))), 403);
  // ... and bob none of alice's object,
  assert.equal(await status(bob().send(new GetObjectCommand({ Bucket: bucket, Key: 'alice.txt' }))), 403);
  // but the bucket owner may delete what it does not own.
  await alice().send(new DeleteObjectCommand({ Bucket: bucket, Key: 'bob.txt' }));
  assert.equal(await s3ErrorName(bob().send(new GetObjectCommand({ Bucket: bucket, Key: 'bob.txt' }))), 'AccessDenied');
});

void test('bucket-owner-read and bucket-owner-full-control name the bucket owner beside the writer, and give it what they say', async () => {
  const bucket = await sharedBucket();
  await bob().send(new PutObjectCommand({ Bucket: bucket, Key: 'r', Body: 'r', ACL: 'bucket-owner-read' }));
  const read = await bob().send(new GetObjectAclCommand({ Bucket: bucket, Key: 'r' }));
  assert.equal(read.Owner?.ID, bobUser.id);
  assert.deepEqual(flat(read.Grants), [[bobUser.id, 'FULL_CONTROL'], [aliceUser.id, 'READ']]);
  assert.equal(await body(alice(), bucket, 'r'), 'r');
  assert.equal(await status(alice().send(new GetObjectAclCommand({ Bucket: bucket, Key: 'r' }))), 403, 'READ is not READ_ACP');
  await bob().send(new PutObjectCommand({ Bucket: bucket, Key: 'f', Body: 'f', ACL: 'bucket-owner-full-control' }));
  const full = await alice().send(new GetObjectAclCommand({ Bucket: bucket, Key: 'f' }));
  assert.equal(full.Owner?.ID, bobUser.id, 'under ObjectWriter the writer stays the owner');
  assert.deepEqual(flat(full.Grants), [[bobUser.id, 'FULL_CONTROL'], [aliceUser.id, 'FULL_CONTROL']]);
  await alice().send(new PutObjectAclCommand({ Bucket: bucket, Key: 'f', ACL: 'private' }));
  // private is the owner's (bob's) FULL_CONTROL: alice gave hers away.
  assert.deepEqual(flat((await bob().send(new GetObjectAclCommand({ Bucket: bucket, Key: 'f' }))).Grants), [[bobUser.id, 'FULL_CONTROL']]);
  assert.equal(await status(alice().send(new GetObjectCommand({ Bucket: bucket, Key: 'f' }))), 403);
});

void test('the object owner keeps READ_ACP and WRITE_ACP whatever its ACL says; its other rights are its ACL\'s', async () => {
  const bucket = await sharedBucket();
  await bob().send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'k' }));
  await bob().send(new PutObjectAclCommand({ Bucket: bucket, Key: 'k', GrantRead: `id="${aliceUser.id}"` }));
  const acl = await bob().send(new GetObjectAclCommand({ Bucket: bucket, Key: 'k' }));
  assert.deepEqual(flat(acl.Grants), [[aliceUser.id, 'READ']], 'exactly the header grant');
  assert.equal(await status(bob().send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }))), 403, 'the owner gave itself no READ');
  assert.equal(await body(alice(), bucket, 'k'), 'k');
  await bob().send(new PutObjectAclCommand({ Bucket: bucket, Key: 'k', ACL: 'private' }));
  assert.equal(await body(bob(), bucket, 'k'), 'k');
  assert.equal(await status(alice().send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }))), 403);
});

void test('BucketOwnerPreferred: bucket-owner-full-control makes the object the bucket owner\'s, anything else leaves it its writer\'s', async () => {
  const bucket = await sharedBucket('BucketOwnerPreferred');
  await bob().send(new PutObjectCommand({ Bucket: bucket, Key: 'given', Body: 'g', ACL: 'bucket-owner-full-control' }));
  await bob().send(new PutObjectCommand({ Bucket: bucket, Key: 'kept', Body: 'k' }));
  const given = await alice().send(new GetObjectAclCommand({ Bucket: bucket, Key: 'given' }));
  assert.equal(given.Owner?.ID, aliceUser.id);
  assert.deepEqual(flat(given.Grants), [[aliceUser.id, 'FULL_CONTROL']]);
  assert.equal(await body(alice(), bucket, 'given'), 'g');
  assert.equal(await status(bob().send(new GetObjectCommand({ Bucket: bucket, Key: 'given' }))), 403, 'the writer gave it away');
  assert.equal((await bob().send(new GetObjectAclCommand({ Bucket: bucket, Key: 'kept' }))).Owner?.ID, bobUser.id);
  assert.equal(await status(alice().send(new GetObjectCommand({ Bucket: bucket, Key: 'kept' }))), 403);
  // A multipart upload is decided the same way, at CreateMultipartUpload.
  const up = await bob().send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp', ACL: 'bucket-owner-full-control' }));
  const part = await bob().send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId: up.UploadId, PartNumber: 1, Body: 'mp' }));
  await bob().send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'mp', UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
  assert.equal((await alice().send(new GetObjectAclCommand({ Bucket: bucket, Key: 'mp' }))).Owner?.ID, aliceUser.id);
});

void test('BucketOwnerEnforced: every object is the bucket owner\'s, those written before too; DeleteBucketOwnershipControls: no controls (404), objects their writer\'s again', async () => {
  const bucket = await sharedBucket();
  await bob().send(new PutObjectCommand({ Bucket: bucket, Key: 'before', Body: 'b' }));
  // Enforced needs a bucket ACL of the owner alone.
  assert.equal(await s3ErrorName(alice().send(new PutBucketOwnershipControlsCommand({ Bucket: bucket, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } }))), 'InvalidBucketAclWithObjectOwnership');
  await alice().send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'private' }));
  await alice().send(new PutBucketOwnershipControlsCommand({ Bucket: bucket, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } }));
  assert.equal(await body(alice(), bucket, 'before'), 'b');
  const acl = await alice().send(new GetObjectAclCommand({ Bucket: bucket, Key: 'before' }));
  assert.deepEqual([acl.Owner?.ID, flat(acl.Grants)], [aliceUser.id, [[aliceUser.id, 'FULL_CONTROL']]]);
  assert.equal(await status(bob().send(new GetObjectCommand({ Bucket: bucket, Key: 'before' }))), 403, 'ACLs are off: bob\'s own grant counts for nothing');
  // Bob may not change the bucket's ownership controls.
  assert.equal(await status(bob().send(new DeleteBucketOwnershipControlsCommand({ Bucket: bucket }))), 403);
  await alice().send(new DeleteBucketOwnershipControlsCommand({ Bucket: bucket }));
  assert.equal(await s3ErrorName(alice().send(new GetBucketOwnershipControlsCommand({ Bucket: bucket }))), 'OwnershipControlsNotFoundError');
  // Without controls the stored owners count again (as under ObjectWriter).
  assert.equal((await bob().send(new GetObjectAclCommand({ Bucket: bucket, Key: 'before' }))).Owner?.ID, bobUser.id);
  assert.equal(await status(alice().send(new GetObjectCommand({ Bucket: bucket, Key: 'before' }))), 403);
});

void test('ListObjectVersions names each version\'s owner', async () => {
  const bucket = await sharedBucket();
  await alice().send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  await alice().send(new PutObjectCommand({ Bucket: bucket, Key: 'v', Body: '1' }));
  await bob().send(new PutObjectCommand({ Bucket: bucket, Key: 'v', Body: '2' }));
  const versions = await alice().send(new ListObjectVersionsCommand({ Bucket: bucket }));
  assert.deepEqual(versions.Versions?.map((v) => [v.IsLatest, v.Owner?.ID]), [[true, bobUser.id], [false, aliceUser.id]]);
});

void test('ACLs read back exactly: x-amz-grant-* on PutObject and CreateBucket, an ACL with no grant; the owner keeps READ_ACP and WRITE_ACP', async () => {
  const bucket = `exact-${serial++}`;
  const headerGrants = {
    GrantRead: `id="${bobUser.id}"`,
    GrantWrite: `id="${bobUser.id}"`,
    GrantReadACP: `id="${bobUser.id}"`,
    GrantWriteACP: `id="${bobUser.id}"`,
    GrantFullControl: `id="${bobUser.id}"`,
  };
  const five = ['READ', 'WRITE', 'READ_ACP', 'WRITE_ACP', 'FULL_CONTROL'].map((p) => [bobUser.id, p]);
  await alice().send(new CreateBucketCommand({ Bucket: bucket, ...headerGrants }));
  assert.deepEqual(flat((await alice().send(new GetBucketAclCommand({ Bucket: bucket }))).Grants), five);
  // The SDK sends no x-amz-grant-write on PutObject (objects have no WRITE to grant): four headers.
  await alice().send(new PutObjectCommand({ Bucket: bucket, Key: 'o', Body: 'o', ...headerGrants }));
  const objectAcl = await alice().send(new GetObjectAclCommand({ Bucket: bucket, Key: 'o' }));
  assert.deepEqual([objectAcl.Owner?.ID, flat(objectAcl.Grants)], [aliceUser.id, five.filter(([, p]) => p !== 'WRITE')]);
  // Every grant revoked: none read back; the owner still reads and writes the ACL (and, owning the bucket, the rest).
  await alice().send(new PutBucketAclCommand({ Bucket: bucket, AccessControlPolicy: { Owner: { ID: aliceUser.id }, Grants: [] } }));
  assert.deepEqual(flat((await alice().send(new GetBucketAclCommand({ Bucket: bucket }))).Grants), []);
  assert.equal(await status(bob().send(new GetBucketAclCommand({ Bucket: bucket }))), 403);
  await alice().send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'private' }));
  assert.deepEqual(flat((await alice().send(new GetBucketAclCommand({ Bucket: bucket }))).Grants), [[aliceUser.id, 'FULL_CONTROL']]);
});

void test('re-creating one\'s own bucket in us-east-1 (200) resets its ACL to the one asked for (private without ACL headers); another user\'s is 409', async () => {
  const bucket = `recreate-${serial++}`;
  await alice().send(new CreateBucketCommand({ Bucket: bucket }));
  await alice().send(new CreateBucketCommand({ Bucket: bucket, ACL: 'public-read' }));
  assert.deepEqual(flat((await alice().send(new GetBucketAclCommand({ Bucket: bucket }))).Grants), [
    ['http://acs.amazonaws.com/groups/global/AllUsers', 'READ'],
    [aliceUser.id, 'FULL_CONTROL'],
  ]);
  assert.equal((await fetch(`${env.node.endpoint}/${bucket}`)).status, 200, 'the reset ACL is in force');
  await alice().send(new CreateBucketCommand({ Bucket: bucket }));
  assert.deepEqual(flat((await alice().send(new GetBucketAclCommand({ Bucket: bucket }))).Grants), [[aliceUser.id, 'FULL_CONTROL']]);
  assert.equal((await fetch(`${env.node.endpoint}/${bucket}`)).status, 403);
  assert.equal(await s3ErrorName(bob().send(new CreateBucketCommand({ Bucket: bucket, ACL: 'public-read' }))), 'BucketAlreadyExists');
  assert.deepEqual(flat((await alice().send(new GetBucketAclCommand({ Bucket: bucket }))).Grants), [[aliceUser.id, 'FULL_CONTROL']], 'bob changed nothing');
  // The ownership is PutBucketOwnershipControls' to change: another setting on a re-create would be ignored, so it is refused.
  assert.equal(await s3ErrorName(alice().send(new CreateBucketCommand({ Bucket: bucket, ObjectOwnership: 'BucketOwnerEnforced' }))), 'NotImplemented');
});

void test('test_bucket_policy_put_obj_grant: a write that grants the bucket owner FULL_CONTROL lets it read the ACL; one that does not leaves the object its writer\'s alone', async () => {
  const granted = `grant-${serial++}`;
  const plain = `grant-${serial++}`;
  const fullControl = `id=${aliceUser.id}`;
  for (const [bucket, condition] of [[granted, { StringEquals: { 's3:x-amz-grant-full-control': fullControl } }], [plain, undefined]] as const) {
    await alice().send(new CreateBucketCommand({ Bucket: bucket }));
    const statement = { Effect: 'Allow', Principal: '*', Action: 's3:PutObject', Resource: `arn:aws:s3:::${bucket}/*`, ...(condition === undefined ? {} : { Condition: condition }) };
    await alice().send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify({ Version: '2012-10-17', Statement: [statement] }) }));
  }
  assert.equal(await status(bob().send(new PutObjectCommand({ Bucket: granted, Key: 'key1', Body: 'key1' }))), 403, 'the policy asks for the grant');
  await bob().send(new PutObjectCommand({ Bucket: granted, Key: 'key1', Body: 'key1', GrantFullControl: fullControl }));
  await bob().send(new PutObjectCommand({ Bucket: plain, Key: 'key2', Body: 'key2' }));
  const acl1 = await alice().send(new GetObjectAclCommand({ Bucket: granted, Key: 'key1' }));
  assert.deepEqual([acl1.Owner?.ID, flat(acl1.Grants)], [bobUser.id, [[aliceUser.id, 'FULL_CONTROL']]]);
  assert.equal(await status(alice().send(new GetObjectAclCommand({ Bucket: plain, Key: 'key2' }))), 403);
  assert.equal((await bob().send(new GetObjectAclCommand({ Bucket: plain, Key: 'key2' }))).Grants?.[0]?.Grantee?.ID, bobUser.id);
});

void test("an object another user writes with a checksum keeps both: its owner (record section 5) and its checksum (section 6)", async () => {
  // Two branches once gave these sections the same number; a record holding
  // both must read back each.
  const bucket = await sharedBucket('ObjectWriter');
  const data = Buffer.from('owned and summed');
  await bob().send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: data, ChecksumAlgorithm: 'SHA256' }));
  const acl = await bob().send(new GetObjectAclCommand({ Bucket: bucket, Key: 'k' }));
  assert.equal(acl.Owner?.ID, bobUser.id);
  const attrs = await bob().send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'k', ObjectAttributes: ['Checksum'] }));
  assert.equal(attrs.Checksum?.ChecksumSHA256, createHash('sha256').update(data).digest('base64'));
});

void test("tags, retention and legal hold of an object another user owns are its owner's: the bucket owner is refused them (no ACL permission grants them), the owner is not", async () => {
  // S3 decides an object's operations in its object context when the
  // object is not the bucket owner's: what its owner grants, through an ACL
  // that has no permission for these. Deciding them by the bucket owner
  // (as before) gives alice bob's tags and refuses bob his own.
  const bucket = await sharedBucket();
  await bob().send(new PutObjectCommand({ Bucket: bucket, Key: 'b', Body: 'b', Tagging: 'who=bob' }));
  await alice().send(new PutObjectCommand({ Bucket: bucket, Key: 'a', Body: 'a', Tagging: 'who=alice' }));
  const tagging = { TagSet: [{ Key: 'k', Value: 'v' }] };
  assert.deepEqual((await bob().send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'b' }))).TagSet, [{ Key: 'who', Value: 'bob' }]);
  await bob().send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'b', Tagging: tagging }));
  assert.equal(await status(alice().send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'b' }))), 403);
  assert.equal(await status(alice().send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'b', Tagging: { TagSet: [] } }))), 403);
  assert.equal(await status(alice().send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 'b' }))), 403);
  assert.deepEqual((await bob().send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'b' }))).TagSet, [{ Key: 'k', Value: 'v' }]);
  // Even FULL_CONTROL granted by bob's ACL gives alice no tags: no ACL permission names them.
  await bob().send(new PutObjectAclCommand({ Bucket: bucket, Key: 'b', GrantFullControl: `id="${aliceUser.id}"` }));
  assert.equal(await status(alice().send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'b' }))), 403);
  await bob().send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 'b' }));
  assert.deepEqual((await bob().send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'b' }))).TagSet, []);
  // alice's own object stays hers: bob (with bucket WRITE only) gets none of its tags.
  assert.deepEqual((await alice().send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'a' }))).TagSet, [{ Key: 'who', Value: 'alice' }]);
  assert.equal(await status(bob().send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'a' }))), 403);
  assert.equal(await status(bob().send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'a', Tagging: tagging }))), 403);

  const locked = `own-${serial++}`;
  await alice().send(new CreateBucketCommand({ Bucket: locked, ObjectLockEnabledForBucket: true }));
  await alice().send(new PutBucketAclCommand({ Bucket: locked, GrantFullControl: `id="${aliceUser.id}"`, GrantWrite: `id="${bobUser.id}"` }));
  await bob().send(new PutObjectCommand({ Bucket: locked, Key: 'b', Body: 'b' }));
  const until = new Date(Date.UTC(2100, 0, 1));
  await bob().send(new PutObjectLegalHoldCommand({ Bucket: locked, Key: 'b', LegalHold: { Status: 'ON' } }));
  await bob().send(new PutObjectRetentionCommand({ Bucket: locked, Key: 'b', Retention: { Mode: 'GOVERNANCE', RetainUntilDate: until } }));
  assert.equal((await bob().send(new GetObjectLegalHoldCommand({ Bucket: locked, Key: 'b' }))).LegalHold?.Status, 'ON');
  assert.equal((await bob().send(new GetObjectRetentionCommand({ Bucket: locked, Key: 'b' }))).Retention?.Mode, 'GOVERNANCE');
  assert.equal(await status(alice().send(new GetObjectLegalHoldCommand({ Bucket: locked, Key: 'b' }))), 403);
  assert.equal(await status(alice().send(new PutObjectLegalHoldCommand({ Bucket: locked, Key: 'b', LegalHold: { Status: 'OFF' } }))), 403);
  assert.equal(await status(alice().send(new GetObjectRetentionCommand({ Bucket: locked, Key: 'b' }))), 403);
  assert.equal(await status(alice().send(new PutObjectRetentionCommand({ Bucket: locked, Key: 'b', Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.UTC(2101, 0, 1)) } }))), 403);
  assert.equal((await bob().send(new GetObjectLegalHoldCommand({ Bucket: locked, Key: 'b' }))).LegalHold?.Status, 'ON');
  await bob().send(new PutObjectLegalHoldCommand({ Bucket: locked, Key: 'b', LegalHold: { Status: 'OFF' } }));
});

void test('a delete marker is owned by the requester who made it, as an object it wrote would be (ListObjectVersions Owner)', async () => {
  const bucket = await sharedBucket();
  await alice().send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  await alice().send(new PutObjectCommand({ Bucket: bucket, Key: 'a', Body: '1' }));
  await alice().send(new PutObjectCommand({ Bucket: bucket, Key: 'b', Body: '1' }));
  await bob().send(new DeleteObjectCommand({ Bucket: bucket, Key: 'a' }));
  await alice().send(new DeleteObjectCommand({ Bucket: bucket, Key: 'b' }));
  const versions = await alice().send(new ListObjectVersionsCommand({ Bucket: bucket }));
  assert.deepEqual(versions.DeleteMarkers?.map((m) => [m.Key, m.Owner?.ID, m.Owner?.DisplayName]), [['a', bobUser.id, 'alt'], ['b', aliceUser.id, 'main']]);
});
