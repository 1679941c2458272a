// Multipart uploads as the AWS SDK v3 sends them with its two checksum
// settings (docs/S3.md, "Checksums"): requestChecksumCalculation
// WHEN_SUPPORTED (the default since early 2025: a CRC32 with every part,
// also into an upload created without an algorithm) and WHEN_REQUIRED (no
// checksum unless asked for).
//
// Strategy: one node over the real store; for each setting, a client of the
// SDK with only that setting changed runs (1) the low-level calls a program
// makes (CreateMultipartUpload without an algorithm, UploadPart, a Complete
// listing what UploadPart answered), (2) lib-storage's Upload, and (3) a
// Complete that claims the whole object's checksum on an upload created
// without an algorithm: a CRC every part carries is checked (a wrong value
// 400 BadDigest) and kept FULL_OBJECT, which GET answers and the SDK
// verifies; a claim the parts cannot check is 501, and COMPOSITE is 400,
// as S3. Expected CRCs are computed here with zlib, never read from the
// server.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { crc32 } from 'node:zlib';
import { CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectAttributesCommand, GetObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import type { CompletedPart, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { S3Node } from './s3_harness.js';
import { MiB, deterministicRange, s3Refusal, startS3Node } from './s3_harness.js';

const SETTINGS = ['WHEN_SUPPORTED', 'WHEN_REQUIRED'] as const;
type Setting = (typeof SETTINGS)[number];
const BUCKET = 'sdk-defaults';
let node: S3Node;

before(async () => {
  node = await startS3Node();
  await node.client().send(new CreateBucketCommand({ Bucket: BUCKET }));
});
after(async () => {
  await node.stop();
});

function clientWith(setting: Setting): S3Client {
  return node.client({ checksums: setting });
}

function crc32Of(bytes: Buffer): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(bytes) >>> 0, 0);
  return out.toString('base64');
}

const body = deterministicRange('sdk-defaults', 0, 2 * 5 * MiB + 999);
const pieces = [body.subarray(0, 5 * MiB), body.subarray(5 * MiB, 10 * MiB), body.subarray(10 * MiB)];

/** An upload created without an algorithm, its parts sent as the client's setting sends them; the part list as UploadPart answered it. */
async function plainUpload(s3: S3Client, Key: string): Promise<{ UploadId: string | undefined; Parts: CompletedPart[] }> {
  const { UploadId, ChecksumAlgorithm } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key }));
  assert.equal(ChecksumAlgorithm, undefined);
  const done = await Promise.all(pieces.map((Body, i) => s3.send(new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: i + 1, Body }))));
  return { UploadId, Parts: done.map((d, i) => ({ PartNumber: i + 1, ETag: d.ETag, ChecksumCRC32: d.ChecksumCRC32 })) };
}

for (const setting of SETTINGS) {
  void test(`${setting}: an upload created without an algorithm completes with the part list UploadPart answered (a CRC32 per part under WHEN_SUPPORTED); the object keeps no checksum; lib-storage's Upload works`, async () => {
    const s3 = clientWith(setting);
    const { UploadId, Parts } = await plainUpload(s3, `plain-${setting}`);
    const expectedParts = setting === 'WHEN_SUPPORTED' ? pieces.map(crc32Of) : pieces.map(() => undefined);
    assert.deepEqual(Parts.map((p) => p.ChecksumCRC32), expectedParts, 'WHEN_SUPPORTED sends (and the node verifies and echoes) a CRC32 with each part');
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: `plain-${setting}`, UploadId, MultipartUpload: { Parts } }));
    assert.deepEqual([done.ChecksumCRC32, done.ChecksumType], [undefined, undefined], 'no checksum was asked for or claimed');
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `plain-${setting}`, ChecksumMode: 'ENABLED' }));
    assert.ok(Buffer.from((await got.Body?.transformToByteArray()) ?? []).equals(body));

    // lib-storage: under WHEN_SUPPORTED it creates the upload with CRC32 itself (COMPOSITE); under WHEN_REQUIRED with none.
    const uploaded = await new Upload({ client: s3, params: { Bucket: BUCKET, Key: `lib-${setting}`, Body: body }, partSize: 5 * MiB, queueSize: 2 }).done();
    const composite = `${crc32Of(Buffer.concat(pieces.map((p) => Buffer.from(crc32Of(p), 'base64'))))}-3`;
    assert.deepEqual([uploaded.ChecksumCRC32, uploaded.ChecksumType], setting === 'WHEN_SUPPORTED' ? [composite, 'COMPOSITE'] : [undefined, undefined]);
    const back = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `lib-${setting}`, ChecksumMode: 'ENABLED' }));
    assert.ok(Buffer.from((await back.Body?.transformToByteArray()) ?? []).equals(body));
  });
}

void test('a Complete claiming the whole object\'s CRC32 on an upload created without an algorithm: checked against the parts\' CRC32s (WHEN_SUPPORTED sends them), kept FULL_OBJECT and verified by the SDK on GET; a wrong value is 400 BadDigest; COMPOSITE is 400; with parts that carry none (WHEN_REQUIRED) the claim cannot be checked: 501', async () => {
  const supported = clientWith('WHEN_SUPPORTED');
  const key = 'claimed';
  const { UploadId, Parts } = await plainUpload(supported, key);
  const complete = (extra: Partial<ConstructorParameters<typeof CompleteMultipartUploadCommand>[0]>): Promise<unknown> =>
    supported.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId, MultipartUpload: { Parts }, ...extra }));
  assert.deepEqual(await s3Refusal(complete({ ChecksumCRC32: crc32Of(pieces[0] ?? body) })), [400, 'BadDigest']);
  assert.deepEqual(await s3Refusal(complete({ ChecksumType: 'COMPOSITE' })), [400, 'BadDigest']);
  assert.deepEqual(await s3Refusal(complete({ ChecksumSHA256: 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=' })), [501, 'NotImplemented'], 'no part carries a SHA-256');
  const whole = crc32Of(body);
  const done = (await complete({ ChecksumCRC32: whole, ChecksumType: 'FULL_OBJECT' })) as { ChecksumCRC32?: string; ChecksumType?: string };
  assert.deepEqual([done.ChecksumCRC32, done.ChecksumType], [whole, 'FULL_OBJECT']);
  const attrs = await supported.send(new GetObjectAttributesCommand({ Bucket: BUCKET, Key: key, ObjectAttributes: ['Checksum'] }));
  assert.deepEqual({ ...attrs.Checksum }, { ChecksumCRC32: whole, ChecksumType: 'FULL_OBJECT' });
  const got = await supported.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, ChecksumMode: 'ENABLED' }));
  assert.deepEqual([got.ChecksumCRC32, got.ChecksumType], [whole, 'FULL_OBJECT']);
  assert.ok(Buffer.from((await got.Body?.transformToByteArray()) ?? []).equals(body));

  const required = clientWith('WHEN_REQUIRED');
  const bare = await plainUpload(required, 'claimed-bare');
  assert.deepEqual(await s3Refusal(required.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'claimed-bare', UploadId: bare.UploadId, MultipartUpload: { Parts: bare.Parts }, ChecksumCRC32: whole }))), [501, 'NotImplemented']);
  // The refused Complete left the upload as it was: completed without a claim, it keeps no checksum.
  const plain = await required.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'claimed-bare', UploadId: bare.UploadId, MultipartUpload: { Parts: bare.Parts } }));
  assert.equal(plain.ChecksumCRC32, undefined);
});
