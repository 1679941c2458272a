// Garbage of the S3 front (docs/S3.md, "Garbage"), over the real store.
//
// Strategy: after each kind of change that leaves data no record names
// (overwrite, delete, completed upload with parts left out, abort), wait for
// the collector and count the shards in the S3 namespaces: exactly the
// shards the remaining records name must be left. Crash leftovers are made
// by writing orphan shards straight into the store, then serving the same
// node again: the startup sweep must delete them. A GET that streams an
// object while it is overwritten must still return the old bytes (its data
// is pinned), and concurrent writers of one key must leave one consistent
// object and no stray data.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  CompleteMultipartUploadCommand,
} from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { createShardServer } from '../src/server/index.js';
import type { Logger } from '../src/server/index.js';
import { withinHangBound } from './hang_bound.js';
import type { S3Node } from './s3_harness.js';
import { ACCESS_KEY, MiB, SECRET_KEY, deterministicBytes, md5Of, md5OfStream, startS3Node } from './s3_harness.js';
import { encodePart, encodeUpload } from '../src/server/s3/index.js';

let node: S3Node;
let s3: S3Client;

before(async () => {
  node = await startS3Node();
  s3 = node.client();
  await s3.send(new CreateBucketCommand({ Bucket: 'gcx' }));
});

after(async () => {
  await node.stop();
});

/** Shards in namespace `ns` (\0D data, \0P parts, \0U uploads, \0O objects) of bucket gcx. */
async function count(ns: string): Promise<number> {
  await node.settle();
  const prefix = Buffer.from(`\0${ns}gcx/`, 'latin1');
  return (await node.api.list({ prefix })).shards.length;
}

function bytes(seed: string, size: number): Buffer {
  return Buffer.concat([...deterministicBytes(seed, size)]);
}

void test('overwrite and delete leave no data behind; small objects need no data shard', async () => {
  // Checks that replaced and deleted data is collected, and that objects up
  // to the inline limit live in their record alone.
  await s3.send(new PutObjectCommand({ Bucket: 'gcx', Key: 'o', Body: bytes('v1', 2 * MiB) }));
  assert.equal(await count('D'), 1);
  await s3.send(new PutObjectCommand({ Bucket: 'gcx', Key: 'o', Body: bytes('v2', 3 * MiB) }));
  assert.equal(await count('D'), 1);
  await s3.send(new PutObjectCommand({ Bucket: 'gcx', Key: 'o', Body: 'tiny' }));
  assert.equal(await count('D'), 0);
  await s3.send(new PutObjectCommand({ Bucket: 'gcx', Key: 'o', Body: bytes('v3', MiB) }));
  await s3.send(new DeleteObjectCommand({ Bucket: 'gcx', Key: 'o' }));
  assert.deepEqual([await count('D'), await count('O')], [0, 0]);
});

void test('a completed upload keeps only the parts it lists; an aborted one leaves nothing', async () => {
  // Checks part records, upload records and part data after Complete and Abort.
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'gcx', Key: 'm' }));
  const part = async (n: number, b: Buffer): Promise<string> => (await s3.send(new UploadPartCommand({ Bucket: 'gcx', Key: 'm', UploadId, PartNumber: n, Body: b }))).ETag ?? '';
  const e1 = await part(1, bytes('m1', 5 * MiB));
  await part(1, bytes('m1', 5 * MiB));
  const e1again = await part(1, bytes('m1b', 5 * MiB));
  await part(2, Buffer.from('unused'));
  const e3 = await part(3, Buffer.from('last'));
  assert.notEqual(e1, e1again);
  assert.deepEqual([await count('D'), await count('P'), await count('U')], [3, 3, 1]);
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'gcx', Key: 'm', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1again }, { PartNumber: 3, ETag: e3 }] } }));
  assert.deepEqual([await count('D'), await count('P'), await count('U')], [2, 0, 0]);

  const aborted = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'gcx', Key: 'm' }));
  await s3.send(new UploadPartCommand({ Bucket: 'gcx', Key: 'm', UploadId: aborted.UploadId, PartNumber: 1, Body: 'doomed' }));
  await s3.send(new AbortMultipartUploadCommand({ Bucket: 'gcx', Key: 'm', UploadId: aborted.UploadId }));
  assert.deepEqual([await count('D'), await count('P'), await count('U')], [2, 0, 0]);
  await s3.send(new DeleteObjectCommand({ Bucket: 'gcx', Key: 'm' }));
  assert.equal(await count('D'), 0);
});

void test('a GET streaming an object that is overwritten meanwhile returns the old bytes in full', async () => {
  // Checks pinning: the collector defers deleting data a reader streams.
  const size = 8 * MiB;
  await s3.send(new PutObjectCommand({ Bucket: 'gcx', Key: 'pinned', Body: bytes('old', size) }));
  const got = await s3.send(new GetObjectCommand({ Bucket: 'gcx', Key: 'pinned' }));
  const body = got.Body;
  assert.ok(body instanceof Readable);
  const iterator = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await iterator.next();
  assert.ok(first.done !== true);
  await s3.send(new PutObjectCommand({ Bucket: 'gcx', Key: 'pinned', Body: bytes('new', size) }));
  await node.settle();
  async function* whole(): AsyncGenerator<Buffer> {
    yield first.value;
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) yield next.value;
  }
  assert.deepEqual(await md5OfStream(whole()), { md5: md5Of('old', size), bytes: size });
  const again = await s3.send(new GetObjectCommand({ Bucket: 'gcx', Key: 'pinned' }));
  assert.ok(again.Body instanceof Readable);
  assert.equal((await md5OfStream(again.Body)).md5, md5Of('new', size));
  assert.equal(await count('D'), 1);
  await s3.send(new DeleteObjectCommand({ Bucket: 'gcx', Key: 'pinned' }));
});

void test('concurrent writers of one key leave one whole object and no stray data', async () => {
  // Checks the commit lock: ten PUTs race; the survivor's bytes match its ETag.
  const writers = Array.from({ length: 10 }, (_, i) => s3.send(new PutObjectCommand({ Bucket: 'gcx', Key: 'race', Body: bytes(`w${i}`, MiB + i) })));
  await Promise.all(writers);
  const got = await s3.send(new GetObjectCommand({ Bucket: 'gcx', Key: 'race' }));
  assert.ok(got.Body instanceof Readable);
  const { md5, bytes: n } = await md5OfStream(got.Body);
  assert.equal(got.ETag, `"${md5}"`);
  assert.equal(md5, md5Of(`w${n - MiB}`, n));
  assert.equal(await count('D'), 1);
  await s3.send(new DeleteObjectCommand({ Bucket: 'gcx', Key: 'race' }));
});

void test('after a crash, the startup sweep deletes orphan data and part records; expired uploads are aborted', async () => {
  // Checks recovery of what a crash between two steps leaves: data no
  // record names, part records of an upload that is gone, and an upload
  // older than the expiry. Orphans are written straight into the store,
  // then a second server starts on the same node.
  const version = Buffer.alloc(16, 7);
  const orphanData = Buffer.concat([Buffer.from('\0Dgcx/lost\0', 'latin1'), version, Buffer.from([0, 0])]);
  await node.api.put(orphanData, Buffer.alloc(1000, 1));
  const orphanPart = Buffer.concat([Buffer.from('\0Pgcx/lost\0', 'latin1'), version, Buffer.from([0, 1])]);
  await node.api.put(orphanPart, encodePart({ version, sizeBytes: 1000, mtimeMs: 0, md5: Buffer.alloc(16), checksum: undefined }));
  const oldUpload = Buffer.concat([Buffer.from('\0Ugcx/stale\0', 'latin1'), Buffer.alloc(16, 1)]);
  await node.api.put(oldUpload, encodeUpload({ initiatedMs: Date.now() - 48 * 3_600_000, contentType: 'x', headers: [], tags: [], checksumAlgorithm: '' }));
  await s3.send(new PutObjectCommand({ Bucket: 'gcx', Key: 'kept', Body: bytes('kept', 2 * MiB) }));
  const before = await Promise.all([count('D'), count('P'), count('U')]);
  assert.deepEqual(before, [2, 1, 1]);

  // The latch: the second server's log line for its first upload expiry,
  // which runs after the startup sweep (s3_front.ts, runBackground).
  let expired: () => void = () => undefined;
  const expiryLogged = new Promise<void>((resolve) => (expired = resolve));
  const logger: Logger = {
    log: (_level, msg) => {
      if (msg.startsWith('s3 expired multipart uploads') || msg === 's3 upload expiry failed') expired();
    },
  };
  const second = createShardServer(node.api, { logger, s3: { credentials: new Map([[ACCESS_KEY, SECRET_KEY]]) } });
  await second.listen(0, '127.0.0.1');
  await withinHangBound(expiryLogged, 30_000, () => 'the startup sweep and upload expiry');
  await second.close();
  assert.deepEqual([await count('D'), await count('P'), await count('U')], [1, 0, 0]);
  const kept = await s3.send(new GetObjectCommand({ Bucket: 'gcx', Key: 'kept' }));
  assert.ok(kept.Body instanceof Readable);
  assert.equal((await md5OfStream(kept.Body)).md5, md5Of('kept', 2 * MiB));
  await s3.send(new DeleteObjectCommand({ Bucket: 'gcx', Key: 'kept' }));
});

void test('deleting a bucket aborts its uploads and collects its data', async () => {
  // Checks DeleteBucket on a bucket with no objects but an upload in progress.
  await s3.send(new CreateBucketCommand({ Bucket: 'gc-drop' }));
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'gc-drop', Key: 'u' }));
  await s3.send(new UploadPartCommand({ Bucket: 'gc-drop', Key: 'u', UploadId, PartNumber: 1, Body: 'part' }));
  await s3.send(new DeleteBucketCommand({ Bucket: 'gc-drop' }));
  await node.settle();
  const left = await node.api.list({ prefix: Buffer.from('\0', 'latin1') });
  assert.deepEqual(left.shards.map((s) => s.key.toString('latin1')).filter((k) => k.includes('gc-drop')), []);
});
