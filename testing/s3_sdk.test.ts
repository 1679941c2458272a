// The S3 front against the AWS SDK for JavaScript v3, over the real store.
//
// Strategy: one node (two disks in a temporary folder) serves the S3 API;
// each test works in its own bucket with @aws-sdk/client-s3 exactly as an
// application would, and checks what S3 specifies: bytes, ETags (MD5, and
// md5-N for multipart), headers, listings, and error codes. The 100 MiB
// multipart upload goes through @aws-sdk/lib-storage from a generated
// stream and is read back as a stream; both sides are hashed on the fly.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3Node } from './s3_harness.js';
import { MiB, deterministicBytes, deterministicRange, md5Of, md5OfStream, s3ErrorName, startS3Node } from './s3_harness.js';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

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

async function text(call: Promise<{ Body?: { transformToString(): Promise<string> } }>): Promise<string> {
  const out = await call;
  if (out.Body === undefined) throw new Error('no body');
  return out.Body.transformToString();
}

void test('buckets: create, head, list, location, refuse duplicates, delete only when empty', async () => {
  // Checks the bucket lifecycle and its error codes.
  const b = await bucket('life-cycle');
  await s3.send(new HeadBucketCommand({ Bucket: b }));
  const listed = await s3.send(new ListBucketsCommand({}));
  assert.ok(listed.Buckets?.some((x) => x.Name === b && x.CreationDate instanceof Date));
  assert.equal((await s3.send(new GetBucketLocationCommand({ Bucket: b }))).LocationConstraint, undefined);
  // us-east-1 answers a re-create of one's own bucket with 200 (s3_claimed.test.ts checks other regions' 409).
  await s3.send(new CreateBucketCommand({ Bucket: b }));
  assert.equal(await s3ErrorName(s3.send(new CreateBucketCommand({ Bucket: 'Bad_Name' }))), 'InvalidBucketName');
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v' }));
  assert.equal(await s3ErrorName(s3.send(new DeleteBucketCommand({ Bucket: b }))), 'BucketNotEmpty');
  await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
  await s3.send(new DeleteBucketCommand({ Bucket: b }));
  assert.equal(await s3ErrorName(s3.send(new HeadBucketCommand({ Bucket: b }))), 'NotFound');
  assert.equal(await s3ErrorName(s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }))), 'NoSuchBucket');
  assert.equal(await s3ErrorName(s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v' }))), 'NoSuchBucket');
  assert.equal(await s3ErrorName(s3.send(new DeleteBucketCommand({ Bucket: b }))), 'NoSuchBucket');
});

void test('objects: put, get, head, metadata, ETag as MD5, overwrite, delete', async () => {
  // Checks small (inline) and large (data shard) objects alike: the bytes,
  // Content-Type, user metadata and representation headers come back, the
  // ETag is the MD5, an overwrite replaces everything, and a delete leaves
  // NoSuchKey (and deleting a missing key is still 204).
  const b = await bucket('objects');
  const small = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'docs/a.txt', Body: 'hello', ContentType: 'text/plain', Metadata: { colour: 'blue' }, CacheControl: 'max-age=60' }));
  assert.equal(small.ETag, '"5d41402abc4b2a76b9719d911017c592"');
  const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'docs/a.txt' }));
  assert.equal(await got.Body?.transformToString(), 'hello');
  assert.equal(got.ContentType, 'text/plain');
  assert.deepEqual(got.Metadata, { colour: 'blue' });
  assert.equal(got.CacheControl, 'max-age=60');
  assert.equal(got.ContentLength, 5);

  const big = Buffer.concat([...deterministicBytes('objects-big', 3 * MiB + 17)]);
  const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'docs/big.bin', Body: big }));
  assert.equal(put.ETag, `"${createHash('md5').update(big).digest('hex')}"`);
  const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'docs/big.bin' }));
  assert.equal(head.ContentLength, big.length);
  assert.equal(head.ETag, put.ETag);
  assert.equal(head.ContentType, 'application/octet-stream');
  const back = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'docs/big.bin' }));
  assert.ok(Buffer.from(await back.Body?.transformToByteArray() ?? []).equals(big));

  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'docs/big.bin', Body: 'now small' }));
  assert.equal(await text(s3.send(new GetObjectCommand({ Bucket: b, Key: 'docs/big.bin' }))), 'now small');
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'empty', Body: '' }));
  assert.equal(await text(s3.send(new GetObjectCommand({ Bucket: b, Key: 'empty' }))), '');
  await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'docs/a.txt' }));
  await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'docs/a.txt' }));
  assert.equal(await s3ErrorName(s3.send(new GetObjectCommand({ Bucket: b, Key: 'docs/a.txt' }))), 'NoSuchKey');
  assert.equal(await s3ErrorName(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'docs/a.txt' }))), 'NotFound');
});

void test('keys: unicode, spaces, plus signs and slashes survive the round trip and the listing', async () => {
  // Checks path encoding through SigV4 and back, and EncodingType=url listings.
  const b = await bucket('odd-keys');
  const keys = ['a b/c+d', 'ünïcødé/日本語.txt', 'x//y', 'trailing/', '~tilde!$&\'()*,;=:@'];
  for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: b, Key, Body: Key }));
  for (const Key of keys) assert.equal(await text(s3.send(new GetObjectCommand({ Bucket: b, Key }))), Key);
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: b }));
  assert.deepEqual(listed.Contents?.map((o) => o.Key), [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
});

void test('ranges: first bytes, middle across chunk boundaries, suffix, open end, unsatisfiable', async () => {
  // Checks 206 answers and Content-Range against recomputed bytes of a
  // 2.5 MiB object (spanning the store's 1 MiB chunks), and 416 InvalidRange.
  const b = await bucket('ranges');
  const size = 2.5 * MiB;
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'r', Body: Buffer.concat([...deterministicBytes('ranges', size)]) }));
  const cases: Array<[string, number, number]> = [
    ['bytes=0-9', 0, 10],
    [`bytes=${MiB - 5}-${MiB + 4}`, MiB - 5, MiB + 5],
    ['bytes=-100', size - 100, size],
    [`bytes=${2 * MiB}-`, 2 * MiB, size],
    [`bytes=${size - 1}-${size + 1000}`, size - 1, size],
  ];
  for (const [Range, start, end] of cases) {
    const out = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'r', Range }));
    assert.equal(out.ContentRange, `bytes ${start}-${end - 1}/${size}`, Range);
    assert.ok(Buffer.from(await out.Body?.transformToByteArray() ?? []).equals(deterministicRange('ranges', start, end)), Range);
  }
  assert.equal(await s3ErrorName(s3.send(new GetObjectCommand({ Bucket: b, Key: 'r', Range: `bytes=${size}-` }))), 'InvalidRange');
});

void test('conditionals: If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since, conditional PUT', async () => {
  // Checks 412 PreconditionFailed and 304 NotModified per RFC 9110 as S3 applies them.
  const b = await bucket('conditions');
  const { ETag } = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'c', Body: 'data' }));
  assert.ok(ETag !== undefined);
  const past = new Date(Date.now() - 3_600_000);
  const future = new Date(Date.now() + 3_600_000);
  assert.equal(await text(s3.send(new GetObjectCommand({ Bucket: b, Key: 'c', IfMatch: ETag }))), 'data');
  assert.equal(await s3ErrorName(s3.send(new GetObjectCommand({ Bucket: b, Key: 'c', IfMatch: '"0000"' }))), 'PreconditionFailed');
  assert.equal(await s3ErrorName(s3.send(new GetObjectCommand({ Bucket: b, Key: 'c', IfNoneMatch: ETag }))), '304');
  assert.equal(await text(s3.send(new GetObjectCommand({ Bucket: b, Key: 'c', IfNoneMatch: '"0000"' }))), 'data');
  assert.equal(await s3ErrorName(s3.send(new GetObjectCommand({ Bucket: b, Key: 'c', IfModifiedSince: future }))), '304');
  assert.equal(await text(s3.send(new GetObjectCommand({ Bucket: b, Key: 'c', IfModifiedSince: past }))), 'data');
  assert.equal(await s3ErrorName(s3.send(new GetObjectCommand({ Bucket: b, Key: 'c', IfUnmodifiedSince: past }))), 'PreconditionFailed');
  assert.equal(await s3ErrorName(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'c', IfMatch: '"0000"' }))), '412');
  assert.equal(await s3ErrorName(s3.send(new PutObjectCommand({ Bucket: b, Key: 'c', Body: 'x', IfNoneMatch: '*' }))), 'PreconditionFailed');
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'new', Body: 'x', IfNoneMatch: '*' }));
});

void test('Content-MD5 is checked: a wrong digest is BadDigest and stores nothing', async () => {
  // Checks that a body failing its declared MD5 never becomes the object.
  const b = await bucket('digests');
  const good = createHash('md5').update('payload').digest('base64');
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'm', Body: 'payload', ContentMD5: good }));
  const wrong = createHash('md5').update('other').digest('base64');
  assert.equal(await s3ErrorName(s3.send(new PutObjectCommand({ Bucket: b, Key: 'm', Body: 'payload!', ContentMD5: wrong }))), 'BadDigest');
  assert.equal(await text(s3.send(new GetObjectCommand({ Bucket: b, Key: 'm' }))), 'payload');
});

void test('listing: prefix, delimiter and CommonPrefixes, pagination with continuation tokens, start-after, v1 markers', async () => {
  // Checks ListObjectsV2 and ListObjects against the key set they must
  // produce, page sizes that split both keys and common prefixes, and
  // that paging visits every key exactly once.
  const b = await bucket('listing');
  const keys: string[] = [];
  for (const dir of ['a', 'b', 'c']) for (let i = 0; i < 7; i++) keys.push(`${dir}/${String(i).padStart(2, '0')}`);
  keys.push('top-1', 'top-2', 'a/deep/x', 'a/deep/y');
  for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: b, Key, Body: Key }));
  const sorted = [...keys].sort();

  const root = await s3.send(new ListObjectsV2Command({ Bucket: b, Delimiter: '/' }));
  assert.deepEqual(root.CommonPrefixes?.map((p) => p.Prefix), ['a/', 'b/', 'c/']);
  assert.deepEqual(root.Contents?.map((o) => o.Key), ['top-1', 'top-2']);
  assert.equal(root.KeyCount, 5);
  const inA = await s3.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'a/', Delimiter: '/' }));
  assert.deepEqual(inA.CommonPrefixes?.map((p) => p.Prefix), ['a/deep/']);
  assert.equal(inA.Contents?.length, 7);

  for (const MaxKeys of [1, 2, 5, 1000]) {
    const seen: string[] = [];
    for await (const page of paginateListObjectsV2({ client: s3, pageSize: MaxKeys }, { Bucket: b })) {
      assert.ok((page.Contents?.length ?? 0) <= MaxKeys);
      seen.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
    }
    assert.deepEqual(seen, sorted, `pages of ${MaxKeys}`);
  }
  const delimited: string[] = [];
  for await (const page of paginateListObjectsV2({ client: s3, pageSize: 2 }, { Bucket: b, Delimiter: '/' })) {
    delimited.push(...(page.CommonPrefixes ?? []).map((p) => p.Prefix ?? ''), ...(page.Contents ?? []).map((o) => o.Key ?? ''));
  }
  assert.deepEqual(delimited.sort(), ['a/', 'b/', 'c/', 'top-1', 'top-2']);

  const after = await s3.send(new ListObjectsV2Command({ Bucket: b, StartAfter: 'b/06' }));
  assert.deepEqual(after.Contents?.map((o) => o.Key), sorted.filter((k) => k > 'b/06'));
  const v1 = await s3.send(new ListObjectsCommand({ Bucket: b, Delimiter: '/', MaxKeys: 2 }));
  assert.equal(v1.IsTruncated, true);
  assert.deepEqual(v1.CommonPrefixes?.map((p) => p.Prefix), ['a/', 'b/']);
  const v1next = await s3.send(new ListObjectsCommand({ Bucket: b, Delimiter: '/', Marker: v1.NextMarker }));
  assert.deepEqual(v1next.CommonPrefixes?.map((p) => p.Prefix), ['c/']);
  assert.deepEqual(v1next.Contents?.map((o) => o.Key), ['top-1', 'top-2']);
  assert.equal(await s3ErrorName(s3.send(new ListObjectsV2Command({ Bucket: b, ContinuationToken: '!!' }))), 'InvalidArgument');
});

void test('DeleteObjects and CopyObject', async () => {
  // Checks batch deletes (present and absent keys, quiet mode), copies in
  // and across buckets with COPY and REPLACE metadata, and that copying an
  // object onto itself without a change is refused.
  const b = await bucket('batch');
  const other = await bucket('batch-other');
  for (const Key of ['x1', 'x2', 'x3']) await s3.send(new PutObjectCommand({ Bucket: b, Key, Body: Key }));
  const deleted = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'x1' }, { Key: 'absent' }] } }));
  assert.deepEqual(deleted.Deleted?.map((d) => d.Key).sort(), ['absent', 'x1']);
  const quiet = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'x2' }], Quiet: true } }));
  assert.equal(quiet.Deleted, undefined);
  assert.deepEqual((await s3.send(new ListObjectsV2Command({ Bucket: b }))).Contents?.map((o) => o.Key), ['x3']);

  const big = Buffer.concat([...deterministicBytes('copy', 2 * MiB + 3)]);
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'src', Body: big, ContentType: 'image/png', Metadata: { a: '1' } }));
  const copied = await s3.send(new CopyObjectCommand({ Bucket: other, Key: 'dst', CopySource: `${b}/src` }));
  assert.equal(copied.CopyObjectResult?.ETag, `"${createHash('md5').update(big).digest('hex')}"`);
  const dst = await s3.send(new GetObjectCommand({ Bucket: other, Key: 'dst' }));
  assert.equal(dst.ContentType, 'image/png');
  assert.deepEqual(dst.Metadata, { a: '1' });
  assert.ok(Buffer.from(await dst.Body?.transformToByteArray() ?? []).equals(big));
  await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'src', CopySource: `${b}/src`, MetadataDirective: 'REPLACE', ContentType: 'text/plain', Metadata: { b: '2' } }));
  const replaced = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'src' }));
  assert.equal(replaced.ContentType, 'text/plain');
  assert.deepEqual(replaced.Metadata, { b: '2' });
  assert.equal(await s3ErrorName(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'src', CopySource: `${b}/src` }))), 'InvalidRequest');
  assert.equal(await s3ErrorName(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'dst2', CopySource: `${b}/nope` }))), 'NoSuchKey');
});

void test('a streamed PUT of unknown chunking (STREAMING-UNSIGNED-PAYLOAD-TRAILER with a CRC32 trailer) stores exactly the bytes', async () => {
  // Checks the aws-chunked path the SDK takes for stream bodies: the
  // trailer checksum is verified, and the object's MD5 matches the source.
  const b = await bucket('streamed');
  const size = 6 * MiB + 5;
  const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: 's', Body: Readable.from(deterministicBytes('streamed', size, 64 * 1024)), ContentLength: size }));
  assert.equal(put.ETag, `"${md5Of('streamed', size)}"`);
  const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 's' }));
  const body = got.Body;
  assert.ok(body instanceof Readable);
  assert.deepEqual(await md5OfStream(body), { md5: md5Of('streamed', size), bytes: size });
});
