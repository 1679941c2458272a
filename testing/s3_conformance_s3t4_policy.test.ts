// Bucket policies, policy status and the public access block as the last
// part of a public S3 conformance suite (ceph's s3-tests,
// docs/s3tests/s3t4.md) exercises them, rewritten with the AWS SDK: a main
// user owns the buckets, an alt user is granted or refused by the policy.
//
// Strategy: one node, two users of their own, each test its own buckets.
// The policy conditions checked are those the suite uses: the object's
// existing tags (s3:ExistingObjectTag/<key>), request headers (s3:x-amz-acl,
// s3:x-amz-copy-source, s3:x-amz-metadata-directive), and wildcard resources
// (arn:aws:s3:::*). Each allow is paired with the refusal next to it, so an
// ignored condition fails one of the two.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectTaggingCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetPublicAccessBlockCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  PutPublicAccessBlockCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { S3Client, Tag } from '@aws-sdk/client-s3';
import { StaticUsers } from '../src/server/index.js';
import { StaticNodeKey } from '../src/server/s3/node_key.js';
import type { S3Node } from './s3_harness.js';
import { MiB, startS3Node } from './s3_harness.js';
import { HeaderClient, refusal, userPair } from './s3_conformance_tools.js';
import { FORM_CONTENT_TYPE, formBody } from './post_form.js';

let node: S3Node;
let main: S3Client;
let alt: S3Client;
let A: HeaderClient;
let bucketSeq = 0;

before(async () => {
  const users = userPair();
  node = await startS3Node({ s3: { users: new StaticUsers([users.main, users.alt]), nodeKey: new StaticNodeKey(Buffer.alloc(32, 0x5c)) } });
  main = node.client({ accessKeyId: users.main.accessKeyId, secretAccessKey: users.main.secretAccessKey });
  alt = node.client({ accessKeyId: users.alt.accessKeyId, secretAccessKey: users.alt.secretAccessKey });
  A = new HeaderClient(alt);
});

after(async () => {
  await node.stop();
});

/** A bucket of main's holding `keys`, each with its own name as its body. */
async function bucketWith(keys: readonly string[] = []): Promise<string> {
  const bucket = `s3t4p-${++bucketSeq}`;
  await main.send(new CreateBucketCommand({ Bucket: bucket }));
  for (const key of keys) await main.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
  return bucket;
}

interface StatementSpec {
  readonly action: string;
  readonly resource: string | readonly string[];
  readonly effect?: 'Allow' | 'Deny';
  readonly condition?: Record<string, Record<string, string>>;
}

/** A policy document of statements for anyone ({"AWS": "*"}), as the suite writes them. */
function policyOf(...statements: StatementSpec[]): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: statements.map((s) => ({
      Effect: s.effect ?? 'Allow',
      Principal: { AWS: '*' },
      Action: s.action,
      Resource: s.resource,
      ...(s.condition === undefined ? {} : { Condition: s.condition }),
    })),
  });
}

const arn = (path: string): string => `arn:aws:s3:::${path}`;

async function text(client: S3Client, bucket: string, key: string): Promise<string> {
  return (await (await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString()) ?? '';
}

async function assertDenied(call: Promise<unknown>, what: string): Promise<void> {
  assert.deepEqual(await refusal(call), [403, 'AccessDenied'], what);
}

void test('a policy granting s3:ListBucket to anyone lets alt list (v1 and v2); a Deny for anyone wins over an authenticated-read ACL', async () => {
  const bucket = await bucketWith(['asdf']);
  await assertDenied(alt.send(new ListObjectsCommand({ Bucket: bucket })), 'before the policy');
  await main.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policyOf({ action: 's3:ListBucket', resource: [arn(bucket), arn(`${bucket}/*`)] }) }));
  assert.equal((await alt.send(new ListObjectsCommand({ Bucket: bucket }))).Contents?.length, 1);
  assert.equal((await alt.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents?.length, 1);

  const denied = await bucketWith(['asdf']);
  await main.send(new PutBucketAclCommand({ Bucket: denied, ACL: 'authenticated-read' }));
  assert.equal((await alt.send(new ListObjectsV2Command({ Bucket: denied }))).Contents?.length, 1);
  await main.send(new PutBucketPolicyCommand({ Bucket: denied, Policy: policyOf({ effect: 'Deny', action: 's3:ListBucket', resource: [arn(denied), arn(`${denied}/*`)] }) }));
  await assertDenied(alt.send(new ListObjectsCommand({ Bucket: denied })), 'v1 under the deny');
  await assertDenied(alt.send(new ListObjectsV2Command({ Bucket: denied })), 'v2 under the deny');
  await main.send(new DeleteBucketPolicyCommand({ Bucket: denied }));
  await main.send(new PutBucketAclCommand({ Bucket: denied, ACL: 'public-read' }));
  assert.equal((await alt.send(new ListObjectsV2Command({ Bucket: denied }))).Contents?.length, 1);
});

void test('wildcard resources arn:aws:s3:::* and arn:aws:s3:::*/* are accepted; the document read back is accepted by another bucket; a resource of another bucket alone is MalformedPolicy', async () => {
  const [one, two] = [await bucketWith(['asdf']), await bucketWith(['abcd'])];
  const policy = policyOf({ action: 's3:ListBucket', resource: [arn('*'), arn('*/*')] });
  await main.send(new PutBucketPolicyCommand({ Bucket: one, Policy: policy }));
  const stored = (await main.send(new GetBucketPolicyCommand({ Bucket: one }))).Policy;
  assert.equal(stored, policy);
  await main.send(new PutBucketPolicyCommand({ Bucket: two, Policy: stored }));
  assert.equal((await alt.send(new ListObjectsCommand({ Bucket: one }))).Contents?.length, 1);
  assert.equal((await alt.send(new ListObjectsV2Command({ Bucket: two }))).Contents?.length, 1);
  // The grant is for listing only.
  await assertDenied(alt.send(new GetObjectCommand({ Bucket: two, Key: 'abcd' })), 'GetObject under a list grant');
  // Patterns that can name the bucket are accepted; ones that cannot are not.
  await main.send(new PutBucketPolicyCommand({ Bucket: one, Policy: policyOf({ action: 's3:GetObject', resource: arn('s3t4p-*/public/*') }) }));
  for (const resource of [arn(`${two}/*`), arn('other-*'), arn('s3t4p-1x/*')]) {
    assert.deepEqual(await refusal(main.send(new PutBucketPolicyCommand({ Bucket: one, Policy: policyOf({ action: 's3:GetObject', resource }) }))), [400, 'MalformedPolicy'], resource);
  }
});

void test('...IfExists operators: a request without the key satisfies them; Null: "true" holds without the key, and a Deny on it refuses the owner too', async () => {
  const bucket = await bucketWith(['foo']);
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: arn(`${bucket}/*`), Condition: { StringLikeIfExists: { 'aws:Referer': 'http://www.example.com/*' } } }],
  });
  await main.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy }));
  for (const referer of ['http://www.example.com/', 'http://www.example.com/index.html']) {
    await A.with({ referer }).send(new GetObjectCommand({ Bucket: bucket, Key: 'foo' }));
  }
  assert.equal(await text(alt, bucket, 'foo'), 'foo', 'no Referer: the IfExists condition holds');
  await assertDenied(A.with({ referer: 'http://example.com' }).send(new GetObjectCommand({ Bucket: bucket, Key: 'foo' })), 'another referer');
  // The bucket owner is not refused by an Allow that does not match (the suite expects 403 here; AWS answers 200).
  await main.send(new GetObjectCommand({ Bucket: bucket, Key: 'foo' }));

  const encrypted = await bucketWith();
  const objects = arn(`${encrypted}/*`);
  await main.send(new PutBucketPolicyCommand({
    Bucket: encrypted,
    Policy: JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: '*', Action: 's3:PutObject', Resource: objects },
        { Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: objects, Condition: { StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption': 'AES256' } } },
        { Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: objects, Condition: { Null: { 's3:x-amz-server-side-encryption': 'true' } } },
      ],
    }),
  }));
  await assertDenied(main.send(new PutObjectCommand({ Bucket: encrypted, Key: 'plain', Body: 'x' })), 'owner, no encryption');
  await assertDenied(alt.send(new PutObjectCommand({ Bucket: encrypted, Key: 'plain', Body: 'x' })), 'alt, no encryption');
  await alt.send(new PutObjectCommand({ Bucket: encrypted, Key: 'sse', Body: 'x', ServerSideEncryption: 'AES256' }));
  // The object is alt's (its writer's, ObjectWriter): alt reads it back.
  assert.equal((await alt.send(new GetObjectCommand({ Bucket: encrypted, Key: 'sse' }))).ServerSideEncryption, 'AES256');
  const bad = (condition: unknown): Promise<unknown> => main.send(new PutBucketPolicyCommand({ Bucket: encrypted, Policy: JSON.stringify({ Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: objects, Condition: condition }] }) }));
  assert.deepEqual(await refusal(bad({ Null: { 's3:x-amz-acl': 'maybe' } })), [400, 'MalformedPolicy']);
  assert.deepEqual(await refusal(bad({ NullIfExists: { 's3:x-amz-acl': 'true' } })), [501, 'NotImplemented']);
  assert.deepEqual(await refusal(bad({ DateGreaterThanIfExists: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } })), [501, 'NotImplemented']);
});

const simpleTags = (n: number): Tag[] => Array.from({ length: n }, (_, i) => ({ Key: String(i), Value: String(i) }));

void test('object tagging granted by policy: alt reads, writes and deletes the tags of exactly the object named', async () => {
  for (const action of ['s3:GetObjectTagging', 's3:PutObjectTagging', 's3:DeleteObjectTagging']) {
    const bucket = await bucketWith(['k', 'other']);
    await main.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policyOf({ action, resource: arn(`${bucket}/k`) }) }));
    await main.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'k', Tagging: { TagSet: simpleTags(10) } }));
    if (action === 's3:GetObjectTagging') {
      assert.deepEqual((await alt.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'k' }))).TagSet, simpleTags(10));
      await assertDenied(alt.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'other' })), 'another key');
    } else if (action === 's3:PutObjectTagging') {
      await alt.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'k', Tagging: { TagSet: simpleTags(3) } }));
      assert.deepEqual((await main.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'k' }))).TagSet, simpleTags(3));
      await assertDenied(alt.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'other', Tagging: { TagSet: simpleTags(1) } })), 'another key');
    } else {
      assert.equal((await alt.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 'k' }))).$metadata.httpStatusCode, 204);
      assert.deepEqual((await main.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'k' }))).TagSet, []);
      await assertDenied(alt.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'k' })), 'a read under a delete grant');
    }
  }
});

/** A bucket with publictag (security=public), privatetag (security=private), invalidtag (security1=public), and `action` allowed to anyone on objects tagged security=public. */
async function taggedBucket(action: string): Promise<string> {
  const bucket = await bucketWith(['publictag', 'privatetag', 'invalidtag']);
  const condition = { StringEquals: { 's3:ExistingObjectTag/security': 'public' } };
  await main.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policyOf({ action, resource: arn(`${bucket}/*`), condition }) }));
  const tag = async (key: string, TagSet: Tag[]): Promise<void> => {
    await main.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: key, Tagging: { TagSet } }));
  };
  await tag('publictag', [{ Key: 'security', Value: 'public' }, { Key: 'foo', Value: 'bar' }]);
  await tag('privatetag', [{ Key: 'security', Value: 'private' }]);
  await tag('invalidtag', [{ Key: 'security1', Value: 'public' }]);
  return bucket;
}

void test('s3:ExistingObjectTag/<key> on GetObject: alt reads the object tagged security=public, not one tagged private nor one without the tag', async () => {
  const bucket = await taggedBucket('s3:GetObject');
  assert.equal(await text(alt, bucket, 'publictag'), 'publictag');
  await assertDenied(alt.send(new GetObjectCommand({ Bucket: bucket, Key: 'privatetag' })), 'private');
  await assertDenied(alt.send(new GetObjectCommand({ Bucket: bucket, Key: 'invalidtag' })), 'no such tag');
  // The tag key is case-sensitive: Security=public is not security=public.
  await main.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'invalidtag', Tagging: { TagSet: [{ Key: 'Security', Value: 'public' }] } }));
  await assertDenied(alt.send(new GetObjectCommand({ Bucket: bucket, Key: 'invalidtag' })), 'another case');
  // Retagging is seen by the next decision.
  await main.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'privatetag', Tagging: { TagSet: [{ Key: 'security', Value: 'public' }] } }));
  assert.equal(await text(alt, bucket, 'privatetag'), 'privatetag');
});

void test('s3:ExistingObjectTag/<key> has no value for a write that replaces the object: a PutObject over a public-tagged object is not allowed by it', async () => {
  const bucket = await taggedBucket('s3:*');
  assert.equal(await text(alt, bucket, 'publictag'), 'publictag');
  await assertDenied(alt.send(new PutObjectCommand({ Bucket: bucket, Key: 'publictag', Body: 'overwritten' })), 'overwrite');
  assert.equal(await text(main, bucket, 'publictag'), 'publictag');
});

void test('s3:ExistingObjectTag/<key> on GetObjectTagging and GetObjectAcl: only that action on the public object; GetObject stays refused', async () => {
  const bucket = await taggedBucket('s3:GetObjectTagging');
  assert.equal((await alt.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'publictag' }))).$metadata.httpStatusCode, 200);
  await assertDenied(alt.send(new GetObjectCommand({ Bucket: bucket, Key: 'publictag' })), 'GetObject');
  await assertDenied(alt.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'privatetag' })), 'private');
  await assertDenied(alt.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'invalidtag' })), 'no such tag');

  const aclBucket = await taggedBucket('s3:GetObjectAcl');
  assert.equal((await alt.send(new GetObjectAclCommand({ Bucket: aclBucket, Key: 'publictag' }))).$metadata.httpStatusCode, 200);
  await assertDenied(alt.send(new GetObjectAclCommand({ Bucket: aclBucket, Key: 'privatetag' })), 'acl of private');
  await assertDenied(alt.send(new GetObjectCommand({ Bucket: aclBucket, Key: 'publictag' })), 'GetObject');
  await assertDenied(alt.send(new GetObjectTaggingCommand({ Bucket: aclBucket, Key: 'privatetag' })), 'tagging of private');
});

void test('s3:ExistingObjectTag/<key> on PutObjectTagging: decided on the tags before the change, so alt can make the public object private once, and not back', async () => {
  const bucket = await taggedBucket('s3:PutObjectTagging');
  const publicSet = [{ Key: 'security', Value: 'public' }, { Key: 'foo', Value: 'bar' }];
  await alt.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'publictag', Tagging: { TagSet: publicSet } }));
  await assertDenied(alt.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'privatetag', Tagging: { TagSet: publicSet } })), 'private');
  await alt.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'publictag', Tagging: { TagSet: [{ Key: 'security', Value: 'private' }] } }));
  await assertDenied(alt.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'publictag', Tagging: { TagSet: publicSet } })), 'now private');
  assert.deepEqual((await main.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'publictag' }))).TagSet, [{ Key: 'security', Value: 'private' }]);
});

void test('s3:x-amz-acl: a Deny on StringLike public* refuses alt\'s PutObject asking for public-read and nothing else', async () => {
  const bucket = await bucketWith();
  const objects = arn(`${bucket}/*`);
  await main.send(new PutBucketPolicyCommand({
    Bucket: bucket,
    Policy: policyOf({ action: 's3:PutObject', resource: objects }, { effect: 'Deny', action: 's3:PutObject', resource: objects, condition: { StringLike: { 's3:x-amz-acl': 'public*' } } }),
  }));
  await alt.send(new PutObjectCommand({ Bucket: bucket, Key: 'private-key', Body: 'private-key' }));
  await alt.send(new PutObjectCommand({ Bucket: bucket, Key: 'owner-key', Body: 'x', ACL: 'bucket-owner-full-control' }));
  await assertDenied(alt.send(new PutObjectCommand({ Bucket: bucket, Key: 'public-key', Body: 'public-key', ACL: 'public-read' })), 'public-read');
  assert.deepEqual(await refusal(main.send(new GetObjectCommand({ Bucket: bucket, Key: 'public-key' }))), [404, 'NoSuchKey']);
});

void test('s3:x-amz-copy-source and s3:x-amz-metadata-directive: alt copies into main\'s bucket only from the sources and with the directive the policy names', async () => {
  const source = await bucketWith(['public/foo', 'public/bar', 'private/foo']);
  await main.send(new PutBucketPolicyCommand({ Bucket: source, Policy: policyOf({ action: 's3:GetObject', resource: arn(`${source}/*`) }) }));
  const dest = await bucketWith();
  await main.send(new PutBucketPolicyCommand({ Bucket: dest, Policy: policyOf({ action: 's3:PutObject', resource: arn(`${dest}/*`), condition: { StringLike: { 's3:x-amz-copy-source': `${source}/public/*` } } }) }));
  await alt.send(new CopyObjectCommand({ Bucket: dest, Key: 'new_foo', CopySource: `${source}/public/foo` }));
  await alt.send(new CopyObjectCommand({ Bucket: dest, Key: 'new_foo2', CopySource: `/${source}/public/bar` }));
  // The copies are alt's (ObjectWriter): alt reads them, as the suite does; the bucket owner may not.
  assert.equal(await text(alt, dest, 'new_foo'), 'public/foo');
  assert.equal(await text(alt, dest, 'new_foo2'), 'public/bar');
  await assertDenied(main.send(new GetObjectCommand({ Bucket: dest, Key: 'new_foo' })), 'the bucket owner reading alt\'s copy');
  await assertDenied(alt.send(new CopyObjectCommand({ Bucket: dest, Key: 'new_foo3', CopySource: `${source}/private/foo` })), 'private source');
  await assertDenied(alt.send(new PutObjectCommand({ Bucket: dest, Key: 'plain', Body: 'x' })), 'a PUT has no copy source');

  const metaDest = await bucketWith();
  await main.send(new PutBucketPolicyCommand({ Bucket: metaDest, Policy: policyOf({ action: 's3:PutObject', resource: arn(`${metaDest}/*`), condition: { StringEquals: { 's3:x-amz-metadata-directive': 'COPY' } } }) }));
  await A.with({ 'x-amz-metadata-directive': 'COPY' }).send(new CopyObjectCommand({ Bucket: metaDest, Key: 'new_foo', CopySource: `${source}/public/foo` }));
  assert.equal(await text(alt, metaDest, 'new_foo'), 'public/foo');
  await assertDenied(alt.send(new CopyObjectCommand({ Bucket: metaDest, Key: 'new_foo2', CopySource: `${source}/public/bar`, Metadata: { foo: 'bar' } })), 'no directive');
  await assertDenied(alt.send(new CopyObjectCommand({ Bucket: metaDest, Key: 'new_foo2', CopySource: `${source}/public/bar`, MetadataDirective: 'REPLACE' })), 'REPLACE');
});

void test('policy status: none is 404 NoSuchBucketPolicy (as AWS; the suite expects IsPublic false); an Allow for anyone is public', async () => {
  const bucket = await bucketWith();
  assert.deepEqual(await refusal(main.send(new GetBucketPolicyStatusCommand({ Bucket: bucket }))), [404, 'NoSuchBucketPolicy']);
  await main.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policyOf({ action: 's3:ListBucket', resource: [arn(bucket), arn(`${bucket}/*`)] }) }));
  assert.equal((await main.send(new GetBucketPolicyStatusCommand({ Bucket: bucket }))).PolicyStatus?.IsPublic, true);
});

void test('a public Allow limited to fixed CIDR blocks of aws:SourceIp (or fixed aws:userid values) is not public, as AWS: BlockPublicPolicy accepts it, RestrictPublicBuckets leaves it working', async () => {
  const bucket = await bucketWith(['k']);
  const all = [arn(bucket), arn(`${bucket}/*`)];
  const limited = (condition: Record<string, Record<string, string | string[]>>): string =>
    JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: ['s3:ListBucket', 's3:GetObject'], Resource: all, Condition: condition }] });
  const status = async (policy: string): Promise<boolean | undefined> => {
    await main.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy }));
    return (await main.send(new GetBucketPolicyStatusCommand({ Bucket: bucket }))).PolicyStatus?.IsPublic;
  };
  assert.equal(await status(limited({ IpAddress: { 'aws:SourceIp': '10.0.0.0/32' } })), false);
  assert.equal(await status(limited({ IpAddress: { 'aws:SourceIp': ['127.0.0.0/8', '::1/128'] } })), false);
  assert.equal(await status(limited({ IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } })), true);
  assert.equal(await status(limited({ NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } })), true);
  assert.equal(await status(limited({ StringEquals: { 'aws:userid': 'anonymous' } })), false);
  assert.equal(await status(limited({ StringLike: { 'aws:userid': '*' } })), true);
  assert.equal(await status(limited({ StringEquals: { 'aws:Referer': 'http://www.example.com/' } })), true);
  // Loopback is where the tests run from: the limited policy grants alt, also under RestrictPublicBuckets.
  await main.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: limited({ IpAddress: { 'aws:SourceIp': ['127.0.0.0/8', '::1/128'] } }) }));
  await main.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: { BlockPublicPolicy: true, RestrictPublicBuckets: true } }));
  assert.equal(await text(alt, bucket, 'k'), 'k');
  await main.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: limited({ IpAddress: { 'aws:SourceIp': '10.0.0.0/32' } }) }));
  await assertDenied(main.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: limited({ IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } }) })), 'a /0 block is public');
});

void test('public access block: none is 404 (as AWS); set and read back; BlockPublicAcls refuses public bucket ACLs and object ACLs; BlockPublicPolicy refuses a public policy', async () => {
  const bucket = await bucketWith();
  assert.deepEqual(await refusal(main.send(new GetPublicAccessBlockCommand({ Bucket: bucket }))), [404, 'NoSuchPublicAccessBlockConfiguration']);
  const conf = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: false };
  await main.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: conf }));
  assert.deepEqual((await main.send(new GetPublicAccessBlockCommand({ Bucket: bucket }))).PublicAccessBlockConfiguration, conf);
  for (const ACL of ['public-read', 'public-read-write', 'authenticated-read'] as const) {
    await assertDenied(main.send(new PutBucketAclCommand({ Bucket: bucket, ACL })), `bucket ${ACL}`);
    await assertDenied(main.send(new PutObjectCommand({ Bucket: bucket, Key: `o-${ACL}`, Body: '', ACL })), `object ${ACL}`);
  }
  await assertDenied(main.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policyOf({ action: 's3:GetObject', resource: arn(`${bucket}/*`) }) })), 'public policy');
});

void test('IgnorePublicAcls: a public-read bucket and object readable by alt become private to it, while the ACLs stay as set', async () => {
  const bucket = await bucketWith();
  await main.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'public-read' }));
  await alt.send(new ListObjectsCommand({ Bucket: bucket }));
  await main.send(new PutObjectCommand({ Bucket: bucket, Key: 'key1', Body: 'abcde', ACL: 'public-read' }));
  assert.equal(await text(alt, bucket, 'key1'), 'abcde');
  await main.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: { BlockPublicAcls: false, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: false } }));
  await main.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'public-read' }));
  await assertDenied(alt.send(new ListObjectsCommand({ Bucket: bucket })), 'list');
  await assertDenied(alt.send(new GetObjectCommand({ Bucket: bucket, Key: 'key1' })), 'get');
});

void test('a multipart upload by the owner into a bucket whose policy allows "*" to anyone completes', async () => {
  const bucket = await bucketWith();
  await main.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: [arn(bucket), arn(`${bucket}/*`)] }] }) }));
  const { UploadId } = await main.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'foo' }));
  const parts = [];
  for (const [i, size] of [5 * MiB, 1024].entries()) {
    const out = await main.send(new UploadPartCommand({ Bucket: bucket, Key: 'foo', UploadId, PartNumber: i + 1, Body: Buffer.alloc(size, i) }));
    parts.push({ PartNumber: i + 1, ETag: out.ETag });
  }
  const done = await main.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'foo', UploadId, MultipartUpload: { Parts: parts } }));
  assert.equal(done.$metadata.httpStatusCode, 200);
});

void test('an anonymous POST form (no policy, no signature) stores its file and tagging only where the bucket is public-read-write; elsewhere 403 and nothing stored', async () => {
  const xml = '<Tagging><TagSet><Tag><Key>0</Key><Value>0</Value></Tag><Tag><Key>1</Key><Value>1</Value></Tag></TagSet></Tagging>';
  const post = async (bucket: string, key: string): Promise<number> => {
    const body = formBody([['key', key], ['acl', 'public-read'], ['Content-Type', 'text/plain'], ['tagging', xml]], Buffer.from('bar'));
    const r = await fetch(`${node.endpoint}/${bucket}`, { method: 'POST', body, headers: { 'content-type': FORM_CONTENT_TYPE } });
    await r.arrayBuffer();
    return r.status;
  };
  const closed = await bucketWith();
  assert.equal(await post(closed, 'foo.txt'), 403);
  assert.deepEqual(await refusal(main.send(new GetObjectCommand({ Bucket: closed, Key: 'foo.txt' }))), [404, 'NoSuchKey']);
  const readOnly = await bucketWith();
  await main.send(new PutBucketAclCommand({ Bucket: readOnly, ACL: 'public-read' }));
  assert.equal(await post(readOnly, 'foo.txt'), 403, 'READ is not WRITE');

  const open = `s3t4p-${++bucketSeq}`;
  await main.send(new CreateBucketCommand({ Bucket: open, ACL: 'public-read-write' }));
  assert.equal(await post(open, 'foo.txt'), 204);
  assert.equal(await text(main, open, 'foo.txt'), 'bar');
  assert.deepEqual((await main.send(new GetObjectTaggingCommand({ Bucket: open, Key: 'foo.txt' }))).TagSet, simpleTags(2));
  // IgnorePublicAcls takes the public grant away from forms too.
  await main.send(new PutPublicAccessBlockCommand({ Bucket: open, PublicAccessBlockConfiguration: { IgnorePublicAcls: true } }));
  assert.equal(await post(open, 'bar.txt'), 403);
});
