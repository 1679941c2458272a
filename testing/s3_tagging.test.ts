// Object and bucket tagging against the AWS SDK, over the real store.
//
// Strategy: one node; each test in its own bucket. Tags are set every way
// S3 offers (PutObjectTagging, x-amz-tagging on PutObject, CopyObject with
// either directive, CreateMultipartUpload; PutBucketTagging) and read back
// with Get*Tagging and x-amz-tagging-count; S3's limits are crossed by one
// (11 tags, a 129-character key, a 257-character value, 51 bucket tags) and
// must answer InvalidTag, with the tags as they were. The last test stops
// the node and opens its data folder again: tags are in the records, so
// they are as durable as the objects.
//
// Invariants: a tag set read back is the one written, in order; tagging
// changes neither the ETag nor Last-Modified; a refused change leaves the
// previous tag set.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketTaggingCommand,
  DeleteObjectTaggingCommand,
  GetBucketTaggingCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketTaggingCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import type { S3Client, Tag } from '@aws-sdk/client-s3';
import { decodeBucket, decodeObject, encodeBucket, encodeObject } from '../src/server/s3/index.js';
import type { S3Node } from './s3_harness.js';
import { MiB, deterministicRange, s3ErrorName, startS3Node } from './s3_harness.js';
import { sendSigned } from './s3_wire.js';

let node: S3Node;
let s3: S3Client;

before(async () => {
  node = await startS3Node();
  s3 = node.client();
});

after(async () => {
  await node.stop();
});

async function bucket(name: string): Promise<string> {
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

async function tagsOf(b: string, key: string): Promise<Array<[string, string]>> {
  const out = await s3.send(new GetObjectTaggingCommand({ Bucket: b, Key: key }));
  return (out.TagSet ?? []).map((t) => [t.Key ?? '', t.Value ?? '']);
}

const tagSet = (pairs: ReadonlyArray<readonly [string, string]>): Tag[] => pairs.map(([Key, Value]) => ({ Key, Value }));

void test('object tags: put, get, delete; x-amz-tagging-count on GET and HEAD; ETag and Last-Modified unchanged', async () => {
  const b = await bucket('tag-object');
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'tagged object' }));
  const before = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' }));
  assert.deepEqual(await tagsOf(b, 'k'), []);
  assert.equal(before.TagCount, undefined, 'no tags: no x-amz-tagging-count');

  const pairs: Array<[string, string]> = [['project', 'blue sky'], ['empty', ''], ['unicode', 'été/ü+=']];
  await s3.send(new PutObjectTaggingCommand({ Bucket: b, Key: 'k', Tagging: { TagSet: tagSet(pairs) } }));
  assert.deepEqual(await tagsOf(b, 'k'), pairs);
  const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' }));
  assert.equal(head.TagCount, 3);
  assert.equal((await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }))).TagCount, 3);
  assert.equal(head.ETag, before.ETag);
  assert.equal(head.LastModified?.getTime(), before.LastModified?.getTime());
  assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }))).Body?.transformToString(), 'tagged object');

  await s3.send(new DeleteObjectTaggingCommand({ Bucket: b, Key: 'k' }));
  assert.deepEqual(await tagsOf(b, 'k'), []);
  assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' }))).TagCount, undefined);
  assert.equal(await s3ErrorName(s3.send(new GetObjectTaggingCommand({ Bucket: b, Key: 'missing' }))), 'NoSuchKey');
  assert.equal(await s3ErrorName(s3.send(new PutObjectTaggingCommand({ Bucket: b, Key: 'missing', Tagging: { TagSet: [] } }))), 'NoSuchKey');
  assert.equal(await s3ErrorName(s3.send(new GetObjectTaggingCommand({ Bucket: 'no-such-bucket', Key: 'k' }))), 'NoSuchBucket');
});

void test('S3\'s limits: 10 tags of 128/256 characters pass; one more tag, a longer key or value, a duplicate or an aws: key is InvalidTag', async () => {
  const b = await bucket('tag-limits');
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' }));
  const max = Array.from({ length: 10 }, (_, i): [string, string] => [`${i}${'k'.repeat(127)}`, 'v'.repeat(256)]);
  await s3.send(new PutObjectTaggingCommand({ Bucket: b, Key: 'k', Tagging: { TagSet: tagSet(max) } }));
  assert.deepEqual(await tagsOf(b, 'k'), max);
  const refused: Array<[string, Array<[string, string]>]> = [
    ['11 tags', [...max, ['eleven', '']]],
    ['a 129-character key', [['k'.repeat(129), 'v']]],
    ['a 257-character value', [['k', 'v'.repeat(257)]]],
    ['an empty key', [['', 'v']]],
    ['a duplicate key', [['k', '1'], ['k', '2']]],
    ['an aws: key', [['aws:reserved', 'v']]],
  ];
  for (const [what, pairs] of refused) {
    assert.equal(await s3ErrorName(s3.send(new PutObjectTaggingCommand({ Bucket: b, Key: 'k', Tagging: { TagSet: tagSet(pairs) } }))), 'InvalidTag', what);
    assert.equal(await s3ErrorName(s3.send(new PutObjectCommand({ Bucket: b, Key: `new-${what}`, Body: 'x', Tagging: new URLSearchParams(pairs).toString() }))), 'InvalidTag', `x-amz-tagging with ${what}`);
  }
  assert.deepEqual(await tagsOf(b, 'k'), max, 'a refused change leaves the tags as they were');
  // Characters count, not bytes: 128 four-byte characters are a valid key.
  await s3.send(new PutObjectTaggingCommand({ Bucket: b, Key: 'k', Tagging: { TagSet: tagSet([['😀'.repeat(128), '😀'.repeat(256)]]) } }));
  assert.equal((await tagsOf(b, 'k'))[0]?.[0], '😀'.repeat(128));
});

void test('x-amz-tagging on PutObject and CreateMultipartUpload; CopyObject copies tags (COPY) or sets them (REPLACE)', async () => {
  const b = await bucket('tag-headers');
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'src', Body: 'source', Tagging: 'a=1&b=two%20words&c' }));
  assert.deepEqual(await tagsOf(b, 'src'), [['a', '1'], ['b', 'two words'], ['c', '']]);

  await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'copied', CopySource: `${b}/src` }));
  assert.deepEqual(await tagsOf(b, 'copied'), [['a', '1'], ['b', 'two words'], ['c', '']], 'default directive COPY');
  await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'replaced', CopySource: `${b}/src`, TaggingDirective: 'REPLACE', Tagging: 'x=y' }));
  assert.deepEqual(await tagsOf(b, 'replaced'), [['x', 'y']]);
  await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'cleared', CopySource: `${b}/src`, TaggingDirective: 'REPLACE' }));
  assert.deepEqual(await tagsOf(b, 'cleared'), []);
  assert.equal(await s3ErrorName(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'ignored', CopySource: `${b}/src`, TaggingDirective: 'COPY', Tagging: 'x=y' }))), 'InvalidArgument', 'tags that COPY would ignore are refused');
  const badDirective = await sendSigned(node.port, { method: 'PUT', path: `/${b}/bad`, headers: { 'x-amz-copy-source': `/${b}/src`, 'x-amz-tagging-directive': 'MERGE' }, body: Buffer.alloc(0) });
  assert.deepEqual([badDirective.status, badDirective.code], [400, 'InvalidArgument']);
  // On an operation that does not set tags the header would be ignored: 501.
  const onGet = await sendSigned(node.port, { method: 'GET', path: `/${b}/src`, headers: { 'x-amz-tagging': 'x=y' } });
  assert.deepEqual([onGet.status, onGet.code], [501, 'NotImplemented']);

  const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp', Tagging: 'from=upload' }));
  const part = await s3.send(new UploadPartCommand({ Bucket: b, Key: 'mp', UploadId: created.UploadId, PartNumber: 1, Body: deterministicRange('mp', 0, MiB) }));
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'mp', UploadId: created.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
  assert.deepEqual(await tagsOf(b, 'mp'), [['from', 'upload']]);
  assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'mp' }))).TagCount, 1);

  // An overwrite without tags has none (tags belong to the object written).
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'src', Body: 'over' }));
  assert.deepEqual(await tagsOf(b, 'src'), []);
});

void test('the aws cli v2\'s S3-to-S3 copy over 8 MiB, replayed with the SDK: HeadObject, GetObjectTagging, CreateMultipartUpload with the tags, UploadPartCopy, Complete', async () => {
  // What `aws s3 cp s3://b/big s3://b/big2` (cli v2, --copy-props default)
  // sends above its 8 MiB multipart threshold, step by step (the installed
  // cli may be v1, which skips the tags: testing/s3_awscli.test.ts).
  const b = await bucket('tag-cli-copy');
  const size = 9 * MiB + 5;
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'big', Body: deterministicRange('cli-v2', 0, size), ContentType: 'text/x-big', Metadata: { origin: 'test' }, Tagging: 'team=storage&kind=big%20one' }));
  const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'big' }));
  const tags = (await s3.send(new GetObjectTaggingCommand({ Bucket: b, Key: 'big' }))).TagSet ?? [];
  const created = await s3.send(new CreateMultipartUploadCommand({
    Bucket: b, Key: 'big2', ContentType: head.ContentType, Metadata: head.Metadata,
    Tagging: new URLSearchParams(tags.map((t): [string, string] => [t.Key ?? '', t.Value ?? ''])).toString(),
  }));
  const partBytes = 8 * MiB;
  const parts = [];
  for (let start = 0, n = 1; start < size; start += partBytes, n++) {
    const end = Math.min(size, start + partBytes) - 1;
    const out = await s3.send(new UploadPartCopyCommand({ Bucket: b, Key: 'big2', UploadId: created.UploadId, PartNumber: n, CopySource: `${b}/big`, CopySourceRange: `bytes=${start}-${end}` }));
    parts.push({ PartNumber: n, ETag: out.CopyPartResult?.ETag });
  }
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'big2', UploadId: created.UploadId, MultipartUpload: { Parts: parts } }));
  const copy = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'big2' }));
  assert.deepEqual([copy.ContentLength, copy.ContentType, copy.Metadata, copy.TagCount], [size, 'text/x-big', { origin: 'test' }, 2]);
  assert.deepEqual(await tagsOf(b, 'big2'), [['team', 'storage'], ['kind', 'big one']]);
  const body = await (await s3.send(new GetObjectCommand({ Bucket: b, Key: 'big2' }))).Body?.transformToByteArray();
  assert.ok(body !== undefined && Buffer.from(body).equals(deterministicRange('cli-v2', 0, size)), 'the copy holds the same bytes');
});

void test('bucket tags: NoSuchTagSet until set, put, get, 50 at most, delete', async () => {
  const b = await bucket('tag-bucket');
  assert.equal(await s3ErrorName(s3.send(new GetBucketTaggingCommand({ Bucket: b }))), 'NoSuchTagSet');
  const pairs = Array.from({ length: 50 }, (_, i): [string, string] => [`key-${i}`, `value ${i}`]);
  await s3.send(new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet: tagSet(pairs) } }));
  const got = await s3.send(new GetBucketTaggingCommand({ Bucket: b }));
  assert.deepEqual(got.TagSet?.map((t) => [t.Key, t.Value]), pairs);
  assert.equal(await s3ErrorName(s3.send(new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet: tagSet([...pairs, ['one-more', '']]) } }))), 'InvalidTag');
  assert.equal((await s3.send(new GetBucketTaggingCommand({ Bucket: b }))).TagSet?.length, 50);
  await s3.send(new DeleteBucketTaggingCommand({ Bucket: b }));
  assert.equal(await s3ErrorName(s3.send(new GetBucketTaggingCommand({ Bucket: b }))), 'NoSuchTagSet');
  assert.equal(await s3ErrorName(s3.send(new GetBucketTaggingCommand({ Bucket: 'no-such-bucket' }))), 'NoSuchBucket');
  assert.equal(await s3ErrorName(s3.send(new PutBucketTaggingCommand({ Bucket: 'no-such-bucket', Tagging: { TagSet: [] } }))), 'NoSuchBucket');
});

void test('records: untagged records keep format version 1 byte for byte; tagged ones are version 2 and read back whole', () => {
  const object = { sizeBytes: 3, mtimeMs: 1_700_000_000_000, etag: 'e', contentType: 't', headers: [], parts: [], inline: Buffer.from('abc'), tags: [], uploadId: undefined };
  const plain = encodeObject(object);
  assert.equal(plain[4], 1, 'version byte of an untagged object record');
  assert.deepEqual(decodeObject(plain), object);
  const tagged = { ...object, tags: [['k', 'v'] as const, ['é', '']] as const, uploadId: Buffer.alloc(16, 9) };
  const bytes = encodeObject(tagged);
  assert.equal(bytes[4], 2);
  assert.deepEqual(decodeObject(bytes), { ...tagged, tags: [['k', 'v'], ['é', '']] });
  assert.equal(encodeBucket({ createdMs: 5, tags: [] })[4], 1);
  assert.deepEqual(decodeBucket(encodeBucket({ createdMs: 5, tags: [['a', 'b']] })), { createdMs: 5, tags: [['a', 'b']] });
  // A flipped byte in the tags is a checksum failure, never other tags.
  bytes[bytes.length - 10] = (bytes[bytes.length - 10] ?? 0) ^ 1;
  assert.throws(() => decodeObject(bytes), /checksum mismatch/);
});

void test('tags are in the records: they survive the node being stopped and opened again', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'shardstore-s3-tags-'));
  const first = await startS3Node({ dataDir });
  try {
    const c = first.client();
    await c.send(new CreateBucketCommand({ Bucket: 'durable' }));
    await c.send(new PutBucketTaggingCommand({ Bucket: 'durable', Tagging: { TagSet: [{ Key: 'team', Value: 'storage' }] } }));
    await c.send(new PutObjectCommand({ Bucket: 'durable', Key: 'big', Body: deterministicRange('big', 0, 2 * MiB), Tagging: 'size=big' }));
    await c.send(new PutObjectCommand({ Bucket: 'durable', Key: 'small', Body: 'small' }));
    await c.send(new PutObjectTaggingCommand({ Bucket: 'durable', Key: 'small', Tagging: { TagSet: [{ Key: 'size', Value: 'small' }] } }));
  } finally {
    await first.stop();
  }
  const second = await startS3Node({ dataDir });
  try {
    const c = second.client();
    assert.deepEqual((await c.send(new GetBucketTaggingCommand({ Bucket: 'durable' }))).TagSet, [{ Key: 'team', Value: 'storage' }]);
    assert.deepEqual((await c.send(new GetObjectTaggingCommand({ Bucket: 'durable', Key: 'big' }))).TagSet, [{ Key: 'size', Value: 'big' }]);
    assert.deepEqual((await c.send(new GetObjectTaggingCommand({ Bucket: 'durable', Key: 'small' }))).TagSet, [{ Key: 'size', Value: 'small' }]);
    assert.equal((await (await c.send(new GetObjectCommand({ Bucket: 'durable', Key: 'small' }))).Body?.transformToString()), 'small');
  } finally {
    await second.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
