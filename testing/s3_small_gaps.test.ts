// Small conformance gaps closed against AWS's documented answers (the
// ledgers in docs/s3tests/ name each): CreateBucket's LocationConstraint
// against the node's region, a PutObject or UploadPart body without a
// declared length, and the checksums GetObjectAttributes, GET and HEAD
// answer.
//
// Strategy: nodes over the real store in three regions (us-east-1, the
// default; eu-west-1; radosgw's "default"); the AWS SDK where it can send
// the request, and requests signed by the SDK's signer and framed by hand
// (testing/s3_wire.ts) where it cannot (Transfer-Encoding: chunked without
// Content-Length). Each check asserts the exact status and code, and that
// a refused write stored nothing; checksums are compared with values
// computed here with node:crypto, and read again after a restart.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetBucketLocationCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { BucketLocationConstraint, ObjectAttributes, S3Client } from '@aws-sdk/client-s3';
import type { S3Node } from './s3_harness.js';
import { MiB, deterministicRange, s3Refusal, startS3Node } from './s3_harness.js';
import { sendRaw, signRequest } from './s3_wire.js';

let node: S3Node;
let s3: S3Client;
let seq = 0;

/** The node's data folder, ours (the harness removes only folders it made, and restart() reopens this one). */
const dataDir = mkdtempSync(join(tmpdir(), 'shardstore-small-'));

before(async () => {
  node = await startS3Node({ dataDir });
  s3 = node.client();
});
after(async () => {
  await node.stop();
  rmSync(dataDir, { recursive: true, force: true });
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

void test('CreateBucket in eu-west-1: its own name (or EU) and no constraint are made there and read back (EU as EU); us-east-1 is invalid, another region illegal', async () => {
  const eu = await startS3Node({ s3: { region: 'eu-west-1' } });
  try {
    const client = eu.client();
    // A bucket created as EU reads back EU (S3's GetBucketLocation keeps the legacy name), the others the region.
    for (const [bucket, constraint, location] of [['eu-named', 'eu-west-1', 'eu-west-1'], ['eu-legacy', 'EU', 'EU'], ['eu-none', undefined, 'eu-west-1']] as const) {
      await create(client, bucket, constraint);
      assert.equal(await locationOf(client, bucket), location, bucket);
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

const ALL_ATTRIBUTES: ObjectAttributes[] = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'];
const sha256 = (bytes: Buffer): Buffer => createHash('sha256').update(bytes).digest();

/** Stop the node and open its data folder again: what is asserted after this was read from disk. */
async function restart(): Promise<void> {
  await node.stop();
  node = await startS3Node({ dataDir });
  s3 = node.client();
}

/** A two-part upload of `body` (5 MiB, then the rest) created with SHA-256: the part checksums the SDK computed and the Complete's answer. */
async function uploadWithSha256(bucket: string, key: string, body: Buffer): Promise<{ parts: string[]; completed: string | undefined }> {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ChecksumAlgorithm: 'SHA256' }));
  const pieces = [body.subarray(0, 5 * MiB), body.subarray(5 * MiB)];
  const done = await Promise.all(pieces.map((Body, i) => s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body, ChecksumAlgorithm: 'SHA256' }))));
  const parts = done.map((d) => d.ChecksumSHA256 ?? '');
  const completed = await s3.send(new CompleteMultipartUploadCommand({
    Bucket: bucket, Key: key, UploadId,
    MultipartUpload: { Parts: done.map((d, i) => ({ PartNumber: i + 1, ETag: d.ETag, ChecksumSHA256: d.ChecksumSHA256 })) },
  }));
  return { parts, completed: completed.ChecksumSHA256 };
}

void test('GetObjectAttributes answers the checksum a PutObject was verified against (FULL_OBJECT), for every algorithm, after a restart too; none for an object stored without one', async () => {
  const bucket = await newBucket();
  const body = Buffer.from('the body whose checksums are kept');
  const echoed = new Map<string, string | undefined>();
  for (const algorithm of ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const) {
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: algorithm, Body: body, ChecksumAlgorithm: algorithm }));
    echoed.set(algorithm, put[`Checksum${algorithm}`]);
  }
  assert.equal(echoed.get('SHA256'), sha256(body).toString('base64'));
  assert.equal(echoed.get('SHA1'), createHash('sha1').update(body).digest('base64'));
  // A raw PUT with Content-MD5 and no x-amz-checksum-*: nothing to keep.
  const signed = await signRequest(node.port, { method: 'PUT', path: `/${bucket}/plain`, body });
  assert.equal((await sendRaw(node.port, 'PUT', signed.pathAndQuery, signed.headers, body)).status, 200);
  await restart();
  for (const [algorithm, value] of echoed) {
    assert.ok(value !== undefined && value !== '', algorithm);
    const attrs = await s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: algorithm, ObjectAttributes: ALL_ATTRIBUTES }));
    assert.deepEqual(attrs.Checksum, { [`Checksum${algorithm}`]: value, ChecksumType: 'FULL_OBJECT' }, algorithm);
    assert.equal(attrs.ObjectParts, undefined);
  }
  const plain = await s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'plain', ObjectAttributes: ALL_ATTRIBUTES }));
  assert.equal(plain.Checksum, undefined);
  assert.equal(plain.ObjectSize, body.length);
});

void test('a multipart object created with SHA256: the COMPOSITE checksum (the digest of the parts\' digests) and each part\'s checksum in ObjectParts, paged, after a restart too', async () => {
  const bucket = await newBucket();
  const body = deterministicRange('composite', 0, 5 * MiB + 1000);
  const { parts, completed } = await uploadWithSha256(bucket, 'mp', body);
  assert.deepEqual(parts, [sha256(body.subarray(0, 5 * MiB)), sha256(body.subarray(5 * MiB))].map((d) => d.toString('base64')));
  const composite = sha256(Buffer.concat(parts.map((p) => Buffer.from(p, 'base64')))).toString('base64');
  assert.equal(completed, `${composite}-2`);
  await restart();
  const attrs = await s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'mp', ObjectAttributes: ALL_ATTRIBUTES }));
  assert.deepEqual(attrs.Checksum, { ChecksumSHA256: composite, ChecksumType: 'COMPOSITE' });
  assert.equal(attrs.ObjectParts?.TotalPartsCount, 2);
  assert.deepEqual(attrs.ObjectParts.Parts, [
    { PartNumber: 1, Size: 5 * MiB, ChecksumSHA256: parts[0] },
    { PartNumber: 2, Size: 1000, ChecksumSHA256: parts[1] },
  ]);
  const second = await s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'mp', ObjectAttributes: ['ObjectParts'], MaxParts: 1, PartNumberMarker: '1' }));
  assert.deepEqual(second.ObjectParts?.Parts, [{ PartNumber: 2, Size: 1000, ChecksumSHA256: parts[1] }]);
});

void test('a multipart object created without a checksum algorithm: ObjectParts has the count but no Part elements, and no Checksum, as S3 documents', async () => {
  const bucket = await newBucket();
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp' }));
  const body = deterministicRange('plain-mp', 0, 5 * MiB + 10);
  const e1 = (await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId, PartNumber: 1, Body: body.subarray(0, 5 * MiB) }))).ETag;
  const e2 = (await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId, PartNumber: 2, Body: body.subarray(5 * MiB) }))).ETag;
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'mp', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1 }, { PartNumber: 2, ETag: e2 }] } }));
  const attrs = await s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'mp', ObjectAttributes: ALL_ATTRIBUTES }));
  assert.equal(attrs.Checksum, undefined);
  assert.equal(attrs.ObjectParts?.TotalPartsCount, 2);
  assert.equal(attrs.ObjectParts.Parts, undefined);
  assert.equal(attrs.ObjectSize, body.length);
});

void test('GET and HEAD with x-amz-checksum-mode: ENABLED answer the kept checksum of a whole object (a composite one with -N); none for a range or without the mode', async () => {
  const bucket = await newBucket();
  const body = Buffer.from('a body the client checks on download');
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'one', Body: body, ChecksumAlgorithm: 'SHA256' }));
  const expected = sha256(body).toString('base64');
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'one', ChecksumMode: 'ENABLED' }));
  assert.deepEqual([got.ChecksumSHA256, got.ChecksumType], [expected, 'FULL_OBJECT']);
  assert.equal(await got.Body?.transformToString(), body.toString());
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'one', ChecksumMode: 'ENABLED' }));
  assert.deepEqual([head.ChecksumSHA256, head.ChecksumType], [expected, 'FULL_OBJECT']);
  const ranged = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'one', ChecksumMode: 'ENABLED', Range: 'bytes=0-3' }));
  assert.deepEqual([ranged.ChecksumSHA256, ranged.ChecksumType, await ranged.Body?.transformToString()], [undefined, undefined, 'a bo']);
  const signed = await signRequest(node.port, { method: 'GET', path: `/${bucket}/one` });
  const plain = await sendRaw(node.port, 'GET', signed.pathAndQuery, signed.headers, undefined);
  assert.deepEqual([plain.status, plain.headers['x-amz-checksum-sha256'], plain.headers['x-amz-checksum-type']], [200, undefined, undefined], 'not asked for');

  const large = deterministicRange('checksum-mode', 0, 5 * MiB + 7);
  const { completed } = await uploadWithSha256(bucket, 'mp', large);
  const whole = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp', ChecksumMode: 'ENABLED' }));
  assert.deepEqual([whole.ChecksumSHA256, whole.ChecksumType], [completed, 'COMPOSITE']);
  assert.ok(Buffer.from((await whole.Body?.transformToByteArray()) ?? []).equals(large));
});
