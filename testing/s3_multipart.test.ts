// Multipart uploads through the AWS SDK, over the real store.
//
// Strategy: a 100 MiB object is uploaded by @aws-sdk/lib-storage from a
// generated stream (5 MiB parts, 4 in flight) and read back as a stream;
// both are hashed on the fly, so neither side holds the object. The object
// is checked whole (MD5, size, ETag md5-N) and by ranges that straddle
// part boundaries. The low-level calls are then checked one by one:
// ListParts, ListMultipartUploads, UploadPartCopy, Abort, and the errors
// of CompleteMultipartUpload (InvalidPart, InvalidPartOrder, EntityTooSmall,
// NoSuchUpload).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { S3Node } from './s3_harness.js';
import { MiB, deterministicBytes, deterministicRange, deterministicStream, md5Of, md5OfStream, s3ErrorName, startS3Node } from './s3_harness.js';

let node: S3Node;
let s3: S3Client;

before(async () => {
  node = await startS3Node({ diskSizeBytes: 1024 * MiB });
  s3 = node.client();
  await s3.send(new CreateBucketCommand({ Bucket: 'multi' }));
});

after(async () => {
  await node.stop();
});

const BIG_BYTES = 100 * MiB + 12_345;
const PART_BYTES = 5 * MiB;

void test('lib-storage uploads 100 MiB in parts; it reads back whole and by ranges across parts', async () => {
  // Checks the whole multipart path at size: Create, 21 UploadParts with
  // 4 in flight, Complete; then the streamed GET's MD5, the md5-N ETag,
  // and ranges that cross part boundaries.
  const upload = new Upload({ client: s3, params: { Bucket: 'multi', Key: 'big/object.bin', Body: deterministicStream('big', BIG_BYTES), ContentType: 'application/x-test' }, partSize: PART_BYTES, queueSize: 4 });
  const done = await upload.done();
  const parts = Math.ceil(BIG_BYTES / PART_BYTES);
  assert.match(done.ETag ?? '', new RegExp(`^"[0-9a-f]{32}-${parts}"$`));

  const head = await s3.send(new HeadObjectCommand({ Bucket: 'multi', Key: 'big/object.bin' }));
  assert.equal(head.ContentLength, BIG_BYTES);
  assert.equal(head.ETag, done.ETag);
  assert.equal(head.ContentType, 'application/x-test');
  const got = await s3.send(new GetObjectCommand({ Bucket: 'multi', Key: 'big/object.bin' }));
  assert.ok(got.Body instanceof Readable);
  assert.deepEqual(await md5OfStream(got.Body), { md5: md5Of('big', BIG_BYTES), bytes: BIG_BYTES });

  for (const [start, end] of [[PART_BYTES - 10, PART_BYTES + 10], [3 * PART_BYTES - 1, 5 * PART_BYTES + 1], [BIG_BYTES - 7, BIG_BYTES]] as const) {
    const r = await s3.send(new GetObjectCommand({ Bucket: 'multi', Key: 'big/object.bin', Range: `bytes=${start}-${end - 1}` }));
    assert.ok(Buffer.from(await r.Body?.transformToByteArray() ?? []).equals(deterministicRange('big', start, end)), `${start}-${end}`);
  }
});

async function createUpload(Key: string): Promise<string> {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'multi', Key, Metadata: { m: 'v' } }));
  assert.ok(UploadId !== undefined);
  return UploadId;
}

async function part(Key: string, UploadId: string, PartNumber: number, body: Buffer): Promise<string> {
  const { ETag } = await s3.send(new UploadPartCommand({ Bucket: 'multi', Key, UploadId, PartNumber, Body: body }));
  assert.equal(ETag, `"${createHash('md5').update(body).digest('hex')}"`);
  return ETag;
}

void test('ListParts, ListMultipartUploads, a re-uploaded part, parts left out, and the md5-N ETag', async () => {
  // Checks the listing of parts and uploads, that uploading a part number
  // again replaces it, that Complete uses only the listed parts in order,
  // and that the ETag is the MD5 of the parts' MD5s with -N.
  const Key = 'manual/one';
  const UploadId = await createUpload(Key);
  const p1 = Buffer.concat([...deterministicBytes('p1', PART_BYTES)]);
  const p2 = Buffer.concat([...deterministicBytes('p2', PART_BYTES)]);
  const p3 = Buffer.from('tail bytes');
  await part(Key, UploadId, 1, Buffer.from('to be replaced'));
  const e1 = await part(Key, UploadId, 1, p1);
  await part(Key, UploadId, 2, Buffer.from('left out'));
  const e2 = await part(Key, UploadId, 4, p2);
  const e3 = await part(Key, UploadId, 7, p3);

  const listed = await s3.send(new ListPartsCommand({ Bucket: 'multi', Key, UploadId }));
  assert.deepEqual(listed.Parts?.map((p) => [p.PartNumber, p.Size]), [[1, PART_BYTES], [2, 8], [4, PART_BYTES], [7, p3.length]]);
  const paged = await s3.send(new ListPartsCommand({ Bucket: 'multi', Key, UploadId, MaxParts: 2, PartNumberMarker: '1' }));
  assert.deepEqual(paged.Parts?.map((p) => p.PartNumber), [2, 4]);
  assert.equal(paged.IsTruncated, true);
  assert.equal(paged.NextPartNumberMarker, '4');
  const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'multi', Prefix: 'manual/' }));
  assert.deepEqual(uploads.Uploads?.map((u) => [u.Key, u.UploadId]), [[Key, UploadId]]);

  const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'multi', Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1 }, { PartNumber: 4, ETag: e2 }, { PartNumber: 7, ETag: e3 }] } }));
  const md5s = Buffer.concat([p1, p2, p3].map((b) => createHash('md5').update(b).digest()));
  assert.equal(done.ETag, `"${createHash('md5').update(md5s).digest('hex')}-3"`);
  const got = await s3.send(new GetObjectCommand({ Bucket: 'multi', Key }));
  assert.deepEqual(got.Metadata, { m: 'v' });
  assert.ok(Buffer.from(await got.Body?.transformToByteArray() ?? []).equals(Buffer.concat([p1, p2, p3])));
  assert.equal((await s3.send(new ListMultipartUploadsCommand({ Bucket: 'multi', Prefix: 'manual/' }))).Uploads, undefined);
  assert.equal(await s3ErrorName(s3.send(new UploadPartCommand({ Bucket: 'multi', Key, UploadId, PartNumber: 9, Body: 'late' }))), 'NoSuchUpload');
});

void test('Complete refuses wrong ETags, bad order and small parts; Abort ends an upload', async () => {
  // Checks the error codes of CompleteMultipartUpload, and that an aborted
  // upload is gone for every later call.
  const Key = 'manual/errors';
  const UploadId = await createUpload(Key);
  const e1 = await part(Key, UploadId, 1, Buffer.from('small first part'));
  const e2 = await part(Key, UploadId, 2, Buffer.from('second'));
  const complete = (Parts: Array<{ PartNumber: number; ETag: string }>): Promise<unknown> =>
    s3.send(new CompleteMultipartUploadCommand({ Bucket: 'multi', Key, UploadId, MultipartUpload: { Parts } }));
  assert.equal(await s3ErrorName(complete([{ PartNumber: 1, ETag: '"00000000000000000000000000000000"' }])), 'InvalidPart');
  assert.equal(await s3ErrorName(complete([{ PartNumber: 3, ETag: e1 }])), 'InvalidPart');
  assert.equal(await s3ErrorName(complete([{ PartNumber: 2, ETag: e2 }, { PartNumber: 1, ETag: e1 }])), 'InvalidPartOrder');
  assert.equal(await s3ErrorName(complete([{ PartNumber: 1, ETag: e1 }, { PartNumber: 2, ETag: e2 }])), 'EntityTooSmall');
  await s3.send(new AbortMultipartUploadCommand({ Bucket: 'multi', Key, UploadId }));
  assert.equal(await s3ErrorName(complete([{ PartNumber: 1, ETag: e1 }])), 'NoSuchUpload');
  assert.equal(await s3ErrorName(s3.send(new ListPartsCommand({ Bucket: 'multi', Key, UploadId }))), 'NoSuchUpload');
  assert.equal(await s3ErrorName(s3.send(new AbortMultipartUploadCommand({ Bucket: 'multi', Key, UploadId }))), 'NoSuchUpload');
  assert.equal(await s3ErrorName(s3.send(new UploadPartCommand({ Bucket: 'multi', Key, UploadId: 'nonsense', PartNumber: 1, Body: 'x' }))), 'NoSuchUpload');
});

void test('UploadPartCopy copies whole objects and byte ranges into parts', async () => {
  // Checks x-amz-copy-source with and without x-amz-copy-source-range.
  const source = Buffer.concat([...deterministicBytes('copy-src', 6 * MiB)]);
  await s3.send(new PutObjectCommand({ Bucket: 'multi', Key: 'copy/src', Body: source }));
  const Key = 'copy/dst';
  const UploadId = await createUpload(Key);
  const whole = await s3.send(new UploadPartCopyCommand({ Bucket: 'multi', Key, UploadId, PartNumber: 1, CopySource: 'multi/copy/src' }));
  const ranged = await s3.send(new UploadPartCopyCommand({ Bucket: 'multi', Key, UploadId, PartNumber: 2, CopySource: 'multi/copy/src', CopySourceRange: 'bytes=100-199' }));
  assert.equal(whole.CopyPartResult?.ETag, `"${createHash('md5').update(source).digest('hex')}"`);
  await s3.send(new CompleteMultipartUploadCommand({
    Bucket: 'multi', Key, UploadId,
    MultipartUpload: { Parts: [{ PartNumber: 1, ETag: whole.CopyPartResult?.ETag ?? '' }, { PartNumber: 2, ETag: ranged.CopyPartResult?.ETag ?? '' }] },
  }));
  const got = await s3.send(new GetObjectCommand({ Bucket: 'multi', Key }));
  assert.ok(Buffer.from(await got.Body?.transformToByteArray() ?? []).equals(Buffer.concat([source, source.subarray(100, 200)])));
});
