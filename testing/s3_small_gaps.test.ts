// Small conformance gaps closed against AWS's documented answers (the
// ledgers in docs/s3tests/ name each): CreateBucket's LocationConstraint
// against the node's region, and a PutObject or UploadPart body without a
// declared length.
//
// Strategy: nodes over the real store in three regions (us-east-1, the
// default; eu-west-1; radosgw's "default"); the AWS SDK where it can send
// the request, and requests signed by the SDK's signer and framed by hand
// (testing/s3_wire.ts) where it cannot (Transfer-Encoding: chunked without
// Content-Length). Each check asserts the exact status and code, and that
// a refused write stored nothing.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetBucketLocationCommand,
  HeadObjectCommand,
  ListPartsCommand,
} from '@aws-sdk/client-s3';
import type { BucketLocationConstraint, S3Client } from '@aws-sdk/client-s3';
import type { S3Node } from './s3_harness.js';
import { s3Refusal, startS3Node } from './s3_harness.js';
import { sendRaw, signRequest } from './s3_wire.js';

let node: S3Node;
let s3: S3Client;
let seq = 0;

before(async () => {
  node = await startS3Node();
  s3 = node.client();
});
after(async () => {
  await node.stop();
});

async function newBucket(): Promise<string> {
  seq += 1;
  const bucket = `small-${seq}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

const create = (client: S3Client, bucket: string, constraint: string | undefined): Promise<unknown> =>
  client.send(new CreateBucketCommand({ Bucket: bucket, ...(constraint === undefined ? {} : { CreateBucketConfiguration: { LocationConstraint: constraint as BucketLocationConstraint } }) }));

/** GetBucketLocation's LocationConstraint, '' for none (the SDK gives us-east-1's empty element as undefined). */
async function locationOf(client: S3Client, bucket: string): Promise<string> {
  return (await client.send(new GetBucketLocationCommand({ Bucket: bucket }))).LocationConstraint ?? '';
}

void test('CreateBucket in us-east-1: no constraint is made there; us-east-1 or an empty or unknown name spelled out is 400 InvalidLocationConstraint; another region 400 IllegalLocationConstraintException', async () => {
  await create(s3, 'loc-none', undefined);
  assert.equal(await locationOf(s3, 'loc-none'), '');
  for (const [constraint, expected] of [
    ['us-east-1', [400, 'InvalidLocationConstraint']],
    ['', [400, 'InvalidLocationConstraint']],
    ['moon-1', [400, 'InvalidLocationConstraint']],
    ['eu-west-1', [400, 'IllegalLocationConstraintException']],
    ['EU', [400, 'IllegalLocationConstraintException']],
  ] as const) {
    assert.deepEqual(await s3Refusal(create(s3, 'loc-refused', constraint)), expected, constraint);
  }
  assert.deepEqual(await s3Refusal(s3.send(new GetBucketLocationCommand({ Bucket: 'loc-refused' }))), [404, 'NoSuchBucket'], 'no refused bucket was made');
});

void test('CreateBucket in eu-west-1: its own name (or EU) and no constraint are made there and read back; us-east-1 is invalid, another region illegal', async () => {
  const eu = await startS3Node({ s3: { region: 'eu-west-1' } });
  try {
    const client = eu.client();
    for (const [bucket, constraint] of [['eu-named', 'eu-west-1'], ['eu-legacy', 'EU'], ['eu-none', undefined]] as const) {
      await create(client, bucket, constraint);
      assert.equal(await locationOf(client, bucket), 'eu-west-1', bucket);
    }
    assert.deepEqual(await s3Refusal(create(client, 'eu-refused', 'us-east-1')), [400, 'InvalidLocationConstraint']);
    assert.deepEqual(await s3Refusal(create(client, 'eu-refused', 'us-west-2')), [400, 'IllegalLocationConstraintException']);
  } finally {
    await eu.stop();
  }
});

void test('a node whose region is not an AWS name (radosgw\'s "default") accepts that name and reads it back, as s3-tests test_bucket_get_location wants', async () => {
  const rgw = await startS3Node({ s3: { region: 'default' } });
  try {
    const client = rgw.client();
    await create(client, 'rgw-named', 'default');
    assert.equal(await locationOf(client, 'rgw-named'), 'default');
    assert.deepEqual(await s3Refusal(create(client, 'rgw-refused', 'eu-west-1')), [400, 'IllegalLocationConstraintException']);
  } finally {
    await rgw.stop();
  }
});

/** `PUT path?query` with `body` framed by Transfer-Encoding: chunked, no Content-Length; `headers` signed with it. */
async function putChunked(path: string, query: Record<string, string>, body: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; code: string | undefined }> {
  // Signed without a body, so that no Content-Length is added; the payload hash is the body's.
  const signed = await signRequest(node.port, { method: 'PUT', path, query, headers: { 'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'), ...headers } });
  const answer = await sendRaw(node.port, 'PUT', signed.pathAndQuery, { ...signed.headers, 'transfer-encoding': 'chunked' }, body);
  return { status: answer.status, code: answer.code };
}

void test('PutObject and UploadPart framed by Transfer-Encoding: chunked without Content-Length: 411 MissingContentLength, nothing stored', async () => {
  const bucket = await newBucket();
  assert.deepEqual(await putChunked(`/${bucket}/plain`, {}, Buffer.from('hello')), { status: 411, code: 'MissingContentLength' });
  assert.deepEqual(await s3Refusal(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'plain' }))), [404, 'NotFound']);
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp' }));
  assert.ok(UploadId !== undefined);
  assert.deepEqual(await putChunked(`/${bucket}/mp`, { partNumber: '1', uploadId: UploadId }, Buffer.from('part')), { status: 411, code: 'MissingContentLength' });
  assert.equal((await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'mp', UploadId }))).Parts, undefined);
});

void test('an aws-chunked body framed by Transfer-Encoding: chunked is stored when x-amz-decoded-content-length gives its length, 411 without it', async () => {
  const bucket = await newBucket();
  const encoded = Buffer.from('5\r\nhello\r\n0\r\n\r\n');
  const streaming = { 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'content-encoding': 'aws-chunked' };
  assert.deepEqual(await putChunked(`/${bucket}/declared`, {}, encoded, { ...streaming, 'x-amz-decoded-content-length': '5' }), { status: 200, code: undefined });
  assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'declared' }))).ContentLength, 5);
  assert.deepEqual(await putChunked(`/${bucket}/undeclared`, {}, encoded, streaming), { status: 411, code: 'MissingContentLength' });
  assert.deepEqual(await s3Refusal(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'undeclared' }))), [404, 'NotFound']);
});
