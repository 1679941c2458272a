// The checksums objects keep beyond a PutObject's and an upload's own
// (docs/S3.md, "Checksums"): a CopyObject's (of the algorithm asked for with
// x-amz-checksum-algorithm, else of its source's), a POST form's
// (x-amz-checksum-<algorithm> fields), a CRC64NVME multipart upload's
// FULL_OBJECT checksum, and the part checksum a partNumber GET or HEAD
// answers for an object with a COMPOSITE checksum.
//
// Strategy: one node over the real store, the AWS SDK v3 for every request
// but the POST forms (built as AWS documents them, testing/post_form.ts).
// Every expected value is computed here with node:crypto (SHA-1, SHA-256)
// or zlib's CRC32, never read from the server (a CRC64NVME by the SDK's own
// check of what it downloads, and by the node's CRC over the whole bytes,
// another code path than the combination); the kept ones are read again
// after a restart, from disk. Each rule dropped (no checksum computed for a
// copy, the source's algorithm not followed, the part's checksum not
// answered, a form's checksum field not verified) fails an assertion.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { after, before, test } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { ChecksumAlgorithm, CopyObjectCommandOutput, S3Client } from '@aws-sdk/client-s3';
import type { S3Node } from './s3_harness.js';
import { newChecksum } from '../src/server/s3/checksums.js';
import { MiB, deterministicRange, s3Refusal, startS3Node } from './s3_harness.js';
import { sendRaw, signRequest } from './s3_wire.js';

let node: S3Node;
let s3: S3Client;
const BUCKET = 'kept';
const dataDir = mkdtempSync(join(tmpdir(), 'shardstore-kept-'));

before(async () => {
  node = await startS3Node({ dataDir });
  s3 = node.client();
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
after(async () => {
  await node.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Stop the node and open its data folder again: what is asserted after this was read from disk. */
async function restart(): Promise<void> {
  await node.stop();
  node = await startS3Node({ dataDir });
  s3 = node.client();
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('base64');
const sha1 = (bytes: Buffer): string => createHash('sha1').update(bytes).digest('base64');
function crcOf(algorithm: 'crc32' | 'crc32c', bytes: Buffer): string {
  const c = newChecksum(algorithm);
  c.update(bytes);
  return c.digest();
}
function crc32Of(bytes: Buffer): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(bytes) >>> 0, 0);
  return out.toString('base64');
}

async function keptChecksum(key: string): Promise<Record<string, string | undefined> | undefined> {
  const attrs = await s3.send(new GetObjectAttributesCommand({ Bucket: BUCKET, Key: key, ObjectAttributes: ['Checksum'] }));
  return attrs.Checksum === undefined ? undefined : { ...attrs.Checksum };
}

void test('CopyObject keeps a FULL_OBJECT checksum: of the algorithm asked for, else of the source\'s (a composite source\'s too), none for a source without one; answered in CopyObjectResult and kept across a restart', async () => {
  const body = Buffer.from('the bytes a copy checksums');
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'src-sha1', Body: body, ChecksumAlgorithm: 'SHA1' }));
  // The SDK adds a CRC32 to every PutObject: an object without a checksum is put by hand.
  const signed = await signRequest(node.port, { method: 'PUT', path: `/${BUCKET}/src-plain`, body });
  assert.equal((await sendRaw(node.port, 'PUT', signed.pathAndQuery, signed.headers, body)).status, 200);
  assert.equal(await keptChecksum('src-plain'), undefined);
  const copy = (key: string, source: string, algorithm?: ChecksumAlgorithm): Promise<CopyObjectCommandOutput> =>
    s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: key, CopySource: `${BUCKET}/${source}`, ...(algorithm === undefined ? {} : { ChecksumAlgorithm: algorithm }) }));

  // The source's algorithm when none is asked.
  const same = await s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'copy-same', CopySource: `${BUCKET}/src-sha1` }));
  assert.deepEqual([same.CopyObjectResult?.ChecksumSHA1, same.CopyObjectResult?.ChecksumType], [sha1(body), 'FULL_OBJECT']);
  // Another algorithm when asked, from a source with one or without.
  const other = await s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'copy-sha256', CopySource: `${BUCKET}/src-sha1`, ChecksumAlgorithm: 'SHA256' }));
  assert.deepEqual([other.CopyObjectResult?.ChecksumSHA256, other.CopyObjectResult?.ChecksumSHA1], [sha256(body), undefined]);
  const fromPlain = await s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'copy-crc32', CopySource: `${BUCKET}/src-plain`, ChecksumAlgorithm: 'CRC32' }));
  assert.equal(fromPlain.CopyObjectResult?.ChecksumCRC32, crc32Of(body));
  // A source without one, and none asked: none (the node computes no default checksum).
  const none = await copy('copy-none', 'src-plain');
  assert.equal(none.CopyObjectResult?.ChecksumType, undefined);
  // A composite source: the copy is one whole object, so its checksum of the same algorithm is FULL_OBJECT.
  const large = deterministicRange('copy-composite', 0, 5 * MiB + 300);
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'src-mp', ChecksumAlgorithm: 'SHA256' }));
  const pieces = [large.subarray(0, 5 * MiB), large.subarray(5 * MiB)];
  const done = await Promise.all(pieces.map((Body, i) => s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'src-mp', UploadId, PartNumber: i + 1, Body, ChecksumAlgorithm: 'SHA256' }))));
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'src-mp', UploadId, MultipartUpload: { Parts: done.map((d, i) => ({ PartNumber: i + 1, ETag: d.ETag, ChecksumSHA256: d.ChecksumSHA256 })) } }));
  const flat = await copy('copy-mp', 'src-mp');
  assert.equal(flat.CopyObjectResult?.ChecksumSHA256, sha256(large));
  assert.deepEqual(await s3Refusal(copy('copy-bad', 'src-sha1', 'NOPE' as ChecksumAlgorithm)), [400, 'InvalidRequest']);

  await restart();
  assert.deepEqual(await keptChecksum('copy-same'), { ChecksumSHA1: sha1(body), ChecksumType: 'FULL_OBJECT' });
  assert.deepEqual(await keptChecksum('copy-sha256'), { ChecksumSHA256: sha256(body), ChecksumType: 'FULL_OBJECT' });
  assert.deepEqual(await keptChecksum('copy-crc32'), { ChecksumCRC32: crc32Of(body), ChecksumType: 'FULL_OBJECT' });
  assert.deepEqual(await keptChecksum('copy-mp'), { ChecksumSHA256: sha256(large), ChecksumType: 'FULL_OBJECT' });
  assert.equal(await keptChecksum('copy-none'), undefined);
  // The SDK verifies the kept checksum on a whole GET: the copy's matches its bytes.
  const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'copy-mp', ChecksumMode: 'ENABLED' }));
  assert.equal(got.ChecksumSHA256, sha256(large));
  assert.ok(Buffer.from((await got.Body?.transformToByteArray()) ?? []).equals(large));
});

void test('GET and HEAD with partNumber and x-amz-checksum-mode: ENABLED answer the part\'s own checksum of a COMPOSITE object, the whole checksum for part 1 of a one-part object, none without the mode', async () => {
  const large = deterministicRange('part-checksums', 0, 5 * MiB + 777);
  const pieces = [large.subarray(0, 5 * MiB), large.subarray(5 * MiB)];
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'parts', ChecksumAlgorithm: 'SHA256' }));
  const done = await Promise.all(pieces.map((Body, i) => s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'parts', UploadId, PartNumber: i + 1, Body, ChecksumAlgorithm: 'SHA256' }))));
  // The Complete may give the composite checksum it expects (with its -N): checked, and it holds.
  const composite = createHash('sha256').update(Buffer.concat(pieces.map((p) => createHash('sha256').update(p).digest()))).digest('base64');
  const parts = { Parts: done.map((d, i) => ({ PartNumber: i + 1, ETag: d.ETag, ChecksumSHA256: d.ChecksumSHA256 })) };
  assert.deepEqual(await s3Refusal(s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'parts', UploadId, MultipartUpload: parts, ChecksumSHA256: `${sha256(large)}-2` }))), [400, 'BadDigest']);
  const completed = await s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'parts', UploadId, MultipartUpload: parts, ChecksumSHA256: `${composite}-2` }));
  assert.deepEqual([completed.ChecksumSHA256, completed.ChecksumType], [`${composite}-2`, 'COMPOSITE']);
  for (const [i, piece] of pieces.entries()) {
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'parts', PartNumber: i + 1, ChecksumMode: 'ENABLED' }));
    assert.deepEqual([got.ChecksumSHA256, got.ChecksumType, got.PartsCount], [sha256(piece), 'COMPOSITE', 2], `part ${i + 1}`);
    assert.ok(Buffer.from((await got.Body?.transformToByteArray()) ?? []).equals(piece));
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'parts', PartNumber: i + 1, ChecksumMode: 'ENABLED' }));
    assert.deepEqual([head.ChecksumSHA256, head.ChecksumType, head.ContentLength], [sha256(piece), 'COMPOSITE', piece.length], `part ${i + 1}`);
  }
  const unasked = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'parts', PartNumber: 1 }));
  assert.equal(unasked.ChecksumSHA256, undefined);

  const body = Buffer.from('one part, whole');
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'single', Body: body, ChecksumAlgorithm: 'SHA1' }));
  const whole = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'single', PartNumber: 1, ChecksumMode: 'ENABLED' }));
  assert.deepEqual([whole.ChecksumSHA1, whole.ChecksumType, await whole.Body?.transformToString()], [sha1(body), 'FULL_OBJECT', body.toString()]);
});

void test('a multipart upload created with CRC64NVME keeps the FULL_OBJECT CRC of the whole object (combined from its parts\' CRCs), answered by Complete (which checks the one it is given), GET (the SDK checks it) and GetObjectAttributes, after a restart too; CRC64NVME COMPOSITE is 400', async () => {
  const large = deterministicRange('crc64-full', 0, 2 * 5 * MiB + 4321);
  const pieces = [large.subarray(0, 5 * MiB), large.subarray(5 * MiB, 10 * MiB), large.subarray(10 * MiB)];
  const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'crc64', ChecksumAlgorithm: 'CRC64NVME' }));
  assert.deepEqual([created.ChecksumAlgorithm, created.ChecksumType], ['CRC64NVME', 'FULL_OBJECT']);
  const { UploadId } = created;
  const done = await Promise.all(pieces.map((Body, i) => s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'crc64', UploadId, PartNumber: i + 1, Body, ChecksumAlgorithm: 'CRC64NVME' }))));
  const whole = newChecksum('crc64nvme');
  whole.update(large);
  const expected = whole.digest();
  const partList = { Parts: done.map((d, i) => ({ PartNumber: i + 1, ETag: d.ETag, ChecksumCRC64NVME: d.ChecksumCRC64NVME })) };
  // The Complete's x-amz-checksum-crc64nvme is the object's: checked before anything is committed (the upload stays).
  const wrong = done[0]?.ChecksumCRC64NVME;
  assert.deepEqual(await s3Refusal(s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'crc64', UploadId, MultipartUpload: partList, ChecksumCRC64NVME: wrong }))), [400, 'BadDigest']);
  assert.deepEqual(await s3Refusal(s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'crc64', UploadId, MultipartUpload: partList, ChecksumType: 'COMPOSITE' }))), [400, 'BadDigest']);
  const completed = await s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'crc64', UploadId, MultipartUpload: partList, ChecksumCRC64NVME: expected, ChecksumType: 'FULL_OBJECT' }));
  assert.deepEqual([completed.ChecksumCRC64NVME, completed.ChecksumType], [expected, 'FULL_OBJECT']);
  await restart();
  assert.deepEqual(await keptChecksum('crc64'), { ChecksumCRC64NVME: expected, ChecksumType: 'FULL_OBJECT' });
  const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'crc64', ChecksumMode: 'ENABLED' }));
  assert.deepEqual([got.ChecksumCRC64NVME, got.ChecksumType], [expected, 'FULL_OBJECT']);
  assert.ok(Buffer.from((await got.Body?.transformToByteArray()) ?? []).equals(large));
  // A part of it: the whole object's CRC covers no one part, so none is answered.
  const part = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'crc64', PartNumber: 2, ChecksumMode: 'ENABLED' }));
  assert.equal(part.ChecksumCRC64NVME, undefined);
  assert.deepEqual(await s3Refusal(s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'crc64c', ChecksumAlgorithm: 'CRC64NVME', ChecksumType: 'COMPOSITE' }))), [400, 'InvalidRequest']);
});

void test('a multipart upload created with CRC32 or CRC32C and x-amz-checksum-type FULL_OBJECT keeps the CRC of the whole object (its type kept with the upload across a restart), checked on Complete, answered by GET, HEAD and GetObjectAttributes; the ETag stays the multipart one; FULL_OBJECT SHA and COMPOSITE CRC64NVME are 400', async () => {
  const large = deterministicRange('crc32-full', 0, 2 * 5 * MiB + 777);
  const pieces = [large.subarray(0, 5 * MiB), large.subarray(5 * MiB, 10 * MiB), large.subarray(10 * MiB)];
  const wholeCrc: Record<'CRC32' | 'CRC32C', string> = { CRC32: crc32Of(large), CRC32C: crcOf('crc32c', large) };
  for (const algorithm of ['CRC32', 'CRC32C'] as const) {
    const Key = `full-${algorithm}`;
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key, ChecksumAlgorithm: algorithm, ChecksumType: 'FULL_OBJECT' }));
    assert.deepEqual([created.ChecksumAlgorithm, created.ChecksumType], [algorithm, 'FULL_OBJECT']);
    const { UploadId } = created;
    const done = await Promise.all(pieces.map((Body, i) => s3.send(new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: i + 1, Body, ChecksumAlgorithm: algorithm }))));
    const partSum = (d: { ChecksumCRC32?: string | undefined; ChecksumCRC32C?: string | undefined }): string | undefined => (algorithm === 'CRC32' ? d.ChecksumCRC32 : d.ChecksumCRC32C);
    assert.deepEqual(done.map(partSum), pieces.map((p) => crcOf(algorithm === 'CRC32' ? 'crc32' : 'crc32c', p)), 'each part answers its own CRC');
    // The type is the upload's, kept on disk: a restart before Complete does not turn it COMPOSITE.
    await restart();
    // ListParts and ListMultipartUploads answer the upload's algorithm and type, and ListParts each part's CRC (what a Complete must list).
    const listed = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key, UploadId }));
    assert.deepEqual([listed.ChecksumAlgorithm, listed.ChecksumType], [algorithm, 'FULL_OBJECT']);
    assert.deepEqual(listed.Parts?.map(partSum), done.map(partSum));
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: Key }));
    assert.deepEqual(uploads.Uploads?.map((u) => [u.ChecksumAlgorithm, u.ChecksumType]), [[algorithm, 'FULL_OBJECT']]);
    const Parts = done.map((d, i) => ({ PartNumber: i + 1, ETag: d.ETag, [`Checksum${algorithm}`]: partSum(d) }));
    const claim = (value: string | undefined): Record<string, string | undefined> => ({ [`Checksum${algorithm}`]: value });
    assert.deepEqual(await s3Refusal(s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key, UploadId, MultipartUpload: { Parts }, ...claim(done[0] === undefined ? undefined : partSum(done[0])) }))), [400, 'BadDigest'], 'a part\'s CRC is not the whole\'s');
    assert.deepEqual(await s3Refusal(s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key, UploadId, MultipartUpload: { Parts }, ChecksumType: 'COMPOSITE' }))), [400, 'BadDigest']);
    const completed = await s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key, UploadId, MultipartUpload: { Parts }, ...claim(wholeCrc[algorithm]), ChecksumType: 'FULL_OBJECT' }));
    assert.deepEqual([completed[`Checksum${algorithm}`], completed.ChecksumType], [wholeCrc[algorithm], 'FULL_OBJECT']);
    assert.match(completed.ETag ?? '', /^"[0-9a-f]{32}-3"$/, 'the ETag stays the multipart one');
    await restart();
    assert.deepEqual(await keptChecksum(Key), { [`Checksum${algorithm}`]: wholeCrc[algorithm], ChecksumType: 'FULL_OBJECT' });
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key, ChecksumMode: 'ENABLED' }));
    assert.deepEqual([got[`Checksum${algorithm}`], got.ChecksumType, got.ETag], [wholeCrc[algorithm], 'FULL_OBJECT', completed.ETag]);
    assert.ok(Buffer.from((await got.Body?.transformToByteArray()) ?? []).equals(large));
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key, ChecksumMode: 'ENABLED' }));
    assert.deepEqual([head[`Checksum${algorithm}`], head.ChecksumType], [wholeCrc[algorithm], 'FULL_OBJECT']);
    const part = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key, PartNumber: 2, ChecksumMode: 'ENABLED' }));
    assert.equal(part[`Checksum${algorithm}`], undefined, 'the whole object\'s CRC covers no one part');
  }
  for (const ChecksumAlgorithm of ['SHA1', 'SHA256'] as const) {
    assert.deepEqual(await s3Refusal(s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'full-sha', ChecksumAlgorithm, ChecksumType: 'FULL_OBJECT' }))), [400, 'InvalidRequest'], ChecksumAlgorithm);
  }
});
