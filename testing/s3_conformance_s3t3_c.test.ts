// S3 behaviours named by ceph's s3-tests (test_s3.py, the part ledgered in
// docs/s3tests/s3t3.md: atomicity of reads and writes, ranges, the ACL of
// one version), checked with the AWS SDK over the real store.
//
// Strategy: one node; each test in its own bucket. Request bodies are held
// open by the test (HeldBody), so "a PUT still streaming" is a state the
// test controls, not a race it hopes to hit: no sleeps.
//
// Invariants: a reader that started before an overwrite reads the old
// object whole; readers see the old object until a PUT commits; the last
// PUT to commit wins; a condition (If-Match) and the bucket's existence are
// decided at the commit, not when the request started.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { conformanceEnv } from './s3_conformance_env.js';
import { MiB, s3Refusal } from './s3_harness.js';

const env = conformanceEnv('s3t3c');
const { bucket, read } = env;
const refusal = s3Refusal;

test('test_ranged_request_*: 206 with Content-Range for a range, an open range and a suffix; 416 InvalidRange past the end and on an empty object', async () => {
  const b = await bucket();
  await env.s3.send(new PutObjectCommand({ Bucket: b, Key: 'testobj', Body: 'testcontent' }));
  await env.s3.send(new PutObjectCommand({ Bucket: b, Key: 'empty', Body: '' }));
  for (const [range, body, contentRange] of [
    ['bytes=4-7', 'cont', 'bytes 4-7/11'],
    ['bytes=4-', 'content', 'bytes 4-10/11'],
    ['bytes=-7', 'content', 'bytes 4-10/11'],
  ] as const) {
    const out = await env.s3.send(new GetObjectCommand({ Bucket: b, Key: 'testobj', Range: range }));
    assert.equal(out.$metadata.httpStatusCode, 206);
    assert.equal(out.ContentRange, contentRange);
    assert.equal(await out.Body?.transformToString(), body);
  }
  assert.deepEqual(await refusal(env.s3.send(new GetObjectCommand({ Bucket: b, Key: 'testobj', Range: 'bytes=40-50' }))), [416, 'InvalidRange']);
  assert.deepEqual(await refusal(env.s3.send(new GetObjectCommand({ Bucket: b, Key: 'empty', Range: 'bytes=40-50' }))), [416, 'InvalidRange']);
});

/** A request body handed out on demand: `push` a piece, `end` it; the SDK reads it as a stream of known length. */
class HeldBody {
  readonly stream = new PassThrough();
  push(piece: Buffer): void {
    this.stream.write(piece);
  }
  end(piece: Buffer): void {
    this.stream.end(piece);
  }
}

const fill = (char: string, size: number): Buffer => Buffer.alloc(size, char);

test('test_atomic_read_*: a reader that started before an overwrite reads the old object whole', async () => {
  const b = await bucket();
  const size = 4 * MiB;
  await env.s3.send(new PutObjectCommand({ Bucket: b, Key: 'testobj', Body: fill('A', size) }));
  const out = await env.s3.send(new GetObjectCommand({ Bucket: b, Key: 'testobj' }));
  const body = out.Body as AsyncIterable<Uint8Array> | undefined;
  assert.ok(body !== undefined);
  let bytes = 0;
  let overwritten = false;
  for await (const piece of body) {
    assert.ok(Buffer.from(piece).every((c) => c === 0x41), 'only As');
    bytes += piece.length;
    if (!overwritten) {
      overwritten = true;
      await env.s3.send(new PutObjectCommand({ Bucket: b, Key: 'testobj', Body: fill('B', size) }));
    }
  }
  assert.equal(bytes, size);
  assert.ok((await read(b, 'testobj')).every((c) => c === 0x42));
});

test('test_atomic_write_* / dual_write_*: while a PUT streams, readers see the old object; the last PUT to finish wins', async () => {
  const b = await bucket();
  const size = MiB;
  await env.s3.send(new PutObjectCommand({ Bucket: b, Key: 'testobj', Body: fill('A', size) }));
  const held = new HeldBody();
  const slow = env.s3.send(new PutObjectCommand({ Bucket: b, Key: 'testobj', Body: held.stream, ContentLength: size }));
  held.push(fill('B', size / 2));
  assert.ok((await read(b, 'testobj')).every((c) => c === 0x41), 'the old object while the new one streams');
  await env.s3.send(new PutObjectCommand({ Bucket: b, Key: 'testobj', Body: fill('C', size) }));
  held.end(fill('B', size / 2));
  await slow;
  const now = await read(b, 'testobj');
  assert.equal(now.length, size);
  assert.ok(now.every((c) => c === 0x42), 'the PUT that finished last');
});

test('test_atomic_conditional_write_1mb / dual_conditional_write_1mb: If-Match is decided when the PUT commits', async () => {
  const b = await bucket();
  const size = MiB;
  const first = await env.s3.send(new PutObjectCommand({ Bucket: b, Key: 'testobj', Body: fill('A', size) }));
  await env.s3.send(new PutObjectCommand({ Bucket: b, Key: 'testobj', Body: fill('A', size), IfMatch: '*' }));
  const held = new HeldBody();
  const slow = refusal(env.s3.send(new PutObjectCommand({ Bucket: b, Key: 'testobj', Body: held.stream, ContentLength: size, IfMatch: first.ETag })));
  held.push(fill('C', size / 2));
  await env.s3.send(new PutObjectCommand({ Bucket: b, Key: 'testobj', Body: fill('B', size), IfMatch: first.ETag }));
  held.end(fill('C', size / 2));
  assert.deepEqual(await slow, [412, 'PreconditionFailed']);
  assert.ok((await read(b, 'testobj')).every((c) => c === 0x42));
});

test('test_atomic_write_bucket_gone: a PUT whose bucket is deleted while it streams -> 404 NoSuchBucket', async () => {
  const b = await bucket();
  const held = new HeldBody();
  const slow = refusal(env.s3.send(new PutObjectCommand({ Bucket: b, Key: 'foo', Body: held.stream, ContentLength: MiB })));
  held.push(fill('A', MiB / 2));
  await env.s3.send(new DeleteBucketCommand({ Bucket: b }));
  held.end(fill('A', MiB / 2));
  assert.deepEqual(await slow, [404, 'NoSuchBucket']);
});

test('test_multipart_resend_first_finishes_last: two uploads of one part, the first to start finishing last: that one is the part', async () => {
  const b = await bucket();
  const { UploadId } = await env.s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'k' }));
  const held = new HeldBody();
  const slow = env.s3.send(new UploadPartCommand({ Bucket: b, Key: 'k', UploadId, PartNumber: 1, Body: held.stream, ContentLength: 8 }));
  held.push(fill('A', 4));
  const fast = await env.s3.send(new UploadPartCommand({ Bucket: b, Key: 'k', UploadId, PartNumber: 1, Body: fill('B', 8) }));
  held.end(fill('A', 4));
  const last = await slow;
  assert.deepEqual(await refusal(env.s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'k', UploadId, MultipartUpload: { Parts: [{ ETag: fast.ETag, PartNumber: 1 }] } }))), [400, 'InvalidPart']);
  await env.s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'k', UploadId, MultipartUpload: { Parts: [{ ETag: last.ETag, PartNumber: 1 }] } }));
  assert.equal((await read(b, 'k')).toString(), 'AAAAAAAA');
});

test('test_versioned_object_acl(_no_version_specified): an ACL belongs to one version; a new version gets the default', async () => {
  const b = await bucket();
  await env.s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await env.s3.send(new PutObjectCommand({ Bucket: b, Key: 'xyz', Body: `content-${i}` }))).VersionId ?? '');
  const grantsOf = async (versionId?: string): Promise<string[]> => {
    const out = await env.s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'xyz', ...(versionId === undefined ? {} : { VersionId: versionId }) }));
    return (out.Grants ?? []).map((g) => `${g.Grantee?.Type ?? ''} ${g.Grantee?.URI ?? g.Grantee?.ID ?? ''} ${g.Permission ?? ''}`).sort();
  };
  const ownerOnly = await grantsOf(ids[1]);
  assert.equal(ownerOnly.length, 1);
  assert.match(ownerOnly[0] ?? '', /^CanonicalUser [0-9a-f]{64} FULL_CONTROL$/);
  await env.s3.send(new PutObjectAclCommand({ Bucket: b, Key: 'xyz', VersionId: ids[1], ACL: 'public-read' }));
  const publicRead = [...ownerOnly, 'Group http://acs.amazonaws.com/groups/global/AllUsers READ'].sort();
  assert.deepEqual(await grantsOf(ids[1]), publicRead);
  assert.deepEqual(await grantsOf(), ownerOnly, 'the current version keeps its own');
  await env.s3.send(new PutObjectAclCommand({ Bucket: b, Key: 'xyz', ACL: 'public-read' }));
  assert.deepEqual(await grantsOf(ids[2]), publicRead, 'no versionId: the current version');
  await env.s3.send(new PutObjectCommand({ Bucket: b, Key: 'xyz', Body: '' }));
  assert.deepEqual(await grantsOf(), ownerOnly);
});
