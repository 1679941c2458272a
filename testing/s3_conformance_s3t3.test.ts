// S3 behaviours named by ceph's s3-tests (test_s3.py, the part ledgered in
// docs/s3tests/s3t3.md: multipart uploads and copies, Expect:
// 100-continue, bucket tags), checked with the AWS SDK and raw requests
// over the real store.
//
// Strategy: one node with two users (the node owner and alice) and a node
// key; each test in its own bucket. Every test states the behaviour of
// S3 it holds the server to, in S3's status and error code.
//
// Invariants: a multipart object is exactly its parts, in order, whatever
// was re-sent or copied; a refused call changes nothing; an upload lists
// the user who started it; a request is refused before its body is asked
// for.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteBucketTaggingCommand,
  GetBucketTaggingCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import type { CompletedPart, S3Client } from '@aws-sdk/client-s3';
import { FileUsers, addUser, silentLogger } from '../src/server/index.js';
import type { User } from '../src/server/index.js';
import { conformanceEnv } from './s3_conformance_env.js';
import { ACCESS_KEY, MiB, SECRET_KEY, deterministicRange, s3ErrorName, s3Refusal } from './s3_harness.js';

const dir = mkdtempSync(join(tmpdir(), 'shardstore-s3t3-'));
let aliceUser: User;
const env = conformanceEnv('s3t3', async () => {
  const file = join(dir, 'credentials');
  writeFileSync(file, `[default]\naws_access_key_id = ${ACCESS_KEY}\naws_secret_access_key = ${SECRET_KEY}\n`, { mode: 0o600 });
  aliceUser = await addUser(file, 'alice');
  return { dataDir: join(dir, 'data'), s3: { users: new FileUsers(file, silentLogger) } };
});
const { bucket, read } = env;
const refusal = s3Refusal;
let aliceClient: S3Client | undefined;
/** The second user's client (made once the node runs). */
function alice(): S3Client {
  aliceClient ??= env.node.client({ accessKeyId: aliceUser.accessKeyId, secretAccessKey: aliceUser.secretAccessKey });
  return aliceClient;
}

after(() => rmSync(dir, { recursive: true, force: true }));

async function uploadParts(b: string, key: string, parts: readonly Buffer[]): Promise<{ uploadId: string; done: CompletedPart[] }> {
  const { UploadId } = await env.s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: key }));
  assert.ok(UploadId !== undefined);
  const done: CompletedPart[] = [];
  for (const [i, body] of parts.entries()) {
    const { ETag } = await env.s3.send(new UploadPartCommand({ Bucket: b, Key: key, UploadId, PartNumber: i + 1, Body: body }));
    done.push({ ETag, PartNumber: i + 1 });
  }
  return { uploadId: UploadId, done };
}

test('test_multipart_copy_without_range: UploadPartCopy without a range copies the whole source', async () => {
  const b = await bucket();
  const src = deterministicRange('copy-no-range', 0, 10);
  await env.s3.send(new PutObjectCommand({ Bucket: b, Key: 'source', Body: src }));
  const { UploadId } = await env.s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'dest' }));
  const out = await env.s3.send(new UploadPartCopyCommand({ Bucket: b, Key: 'dest', UploadId, PartNumber: 1, CopySource: `${b}/source` }));
  await env.s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'dest', UploadId, MultipartUpload: { Parts: [{ ETag: out.CopyPartResult?.ETag, PartNumber: 1 }] } }));
  assert.deepEqual(await read(b, 'dest'), src);
});

test('test_multipart_copy_special_names: UploadPartCopy from keys " ", "_", "__" and "?versionId"', async () => {
  const b = await bucket();
  for (const key of [' ', '_', '__', '?versionId']) {
    const body = deterministicRange(`special ${key}`, 0, 1);
    await env.s3.send(new PutObjectCommand({ Bucket: b, Key: key, Body: body }));
    const { UploadId } = await env.s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'dest' }));
    const out = await env.s3.send(new UploadPartCopyCommand({ Bucket: b, Key: 'dest', UploadId, PartNumber: 1, CopySource: `${b}/${encodeURIComponent(key)}`, CopySourceRange: 'bytes=0-0' }));
    await env.s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'dest', UploadId, MultipartUpload: { Parts: [{ ETag: out.CopyPartResult?.ETag, PartNumber: 1 }] } }));
    assert.deepEqual(await read(b, 'dest'), body, `copied from ${JSON.stringify(key)}`);
  }
});

test('test_multipart_copy_versioned: UploadPartCopy of a named version', async () => {
  const b = await bucket();
  await env.s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await env.s3.send(new PutObjectCommand({ Bucket: b, Key: 'src', Body: `version ${i}` }))).VersionId ?? '');
  for (const [i, id] of ids.entries()) {
    const { UploadId } = await env.s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'dest' }));
    const out = await env.s3.send(new UploadPartCopyCommand({ Bucket: b, Key: 'dest', UploadId, PartNumber: 1, CopySource: `${b}/src?versionId=${id}` }));
    assert.equal(out.CopySourceVersionId, id);
    await env.s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'dest', UploadId, MultipartUpload: { Parts: [{ ETag: out.CopyPartResult?.ETag, PartNumber: 1 }] } }));
    assert.equal((await read(b, 'dest')).toString(), `version ${i}`);
  }
});

test('test_multipart_upload_resend_part: a part sent twice counts once, the last one', async () => {
  const b = await bucket();
  const first = deterministicRange('resend a', 0, 5 * MiB);
  const again = deterministicRange('resend b', 0, 5 * MiB);
  const tail = Buffer.from('tail');
  const { uploadId, done } = await uploadParts(b, 'k', [first, tail]);
  const resent = await env.s3.send(new UploadPartCommand({ Bucket: b, Key: 'k', UploadId: uploadId, PartNumber: 1, Body: again }));
  const parts = [{ ETag: resent.ETag, PartNumber: 1 }, done[1] ?? {}];
  await env.s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'k', UploadId: uploadId, MultipartUpload: { Parts: parts } }));
  assert.deepEqual(await read(b, 'k'), Buffer.concat([again, tail]));
});

test('test_multipart_upload_size_too_small: parts under 5 MiB but the last -> 400 EntityTooSmall', async () => {
  const b = await bucket();
  const { uploadId, done } = await uploadParts(b, 'k', [Buffer.alloc(10 * 1024, 1), Buffer.alloc(10 * 1024, 2)]);
  assert.deepEqual(await refusal(env.s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'k', UploadId: uploadId, MultipartUpload: { Parts: done } }))), [400, 'EntityTooSmall']);
});

test('test_abort_multipart_upload_not_found: an unknown upload id -> 404 NoSuchUpload', async () => {
  const b = await bucket();
  await env.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: '' }));
  assert.deepEqual(await refusal(env.s3.send(new AbortMultipartUploadCommand({ Bucket: b, Key: 'k', UploadId: '56788' }))), [404, 'NoSuchUpload']);
});

test('test_list_multipart_upload_owner: each upload lists its own initiator and owner, to either user', async () => {
  const b = await bucket();
  await env.s3.send(new PutBucketAclCommand({ Bucket: b, ACL: 'public-read-write' }));
  const mine = (await env.s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'multipart1' }))).UploadId;
  const hers = (await alice().send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'multipart2' }))).UploadId;
  for (const client of [env.s3, alice()]) {
    const uploads = (await client.send(new ListMultipartUploadsCommand({ Bucket: b }))).Uploads ?? [];
    assert.deepEqual(uploads.map((u) => [u.Key, u.UploadId, u.Initiator?.ID === u.Owner?.ID, u.Owner?.DisplayName === u.Initiator?.DisplayName]), [
      ['multipart1', mine, true, true],
      ['multipart2', hers, true, true],
    ]);
    assert.equal(uploads[1]?.Owner?.ID, aliceUser.id);
    assert.equal(uploads[1]?.Owner?.DisplayName, aliceUser.displayName);
    assert.notEqual(uploads[0]?.Owner?.ID, aliceUser.id);
  }
  await alice().send(new AbortMultipartUploadCommand({ Bucket: b, Key: 'multipart2', UploadId: hers }));
  await env.s3.send(new AbortMultipartUploadCommand({ Bucket: b, Key: 'multipart1', UploadId: mine }));
});

test('test_multipart_upload_missing_part / incorrect_etag: a part not uploaded or a wrong ETag -> 400 InvalidPart', async () => {
  const b = await bucket();
  const { uploadId, done } = await uploadParts(b, 'k', [Buffer.from([0])]);
  const complete = (parts: CompletedPart[]): Promise<unknown> => env.s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'k', UploadId: uploadId, MultipartUpload: { Parts: parts } }));
  assert.deepEqual(await refusal(complete([{ ETag: done[0]?.ETag, PartNumber: 9999 }])), [400, 'InvalidPart']);
  assert.deepEqual(await refusal(complete([{ ETag: '"ffffffffffffffffffffffffffffffff"', PartNumber: 1 }])), [400, 'InvalidPart']);
});

/** Send a PUT's head with Expect: 100-continue and no body; the first answer's status. */
function firstAnswerToExpect(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(`PUT ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: 123\r\nExpect: 100-continue\r\n\r\n`);
    });
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      const line = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (line !== null) {
        socket.destroy();
        resolve(line[1] ?? '');
      }
    });
    socket.on('error', reject);
  });
}

test('test_100_continue: an anonymous PUT with Expect: 100-continue is refused before its body, and continued once the bucket allows it', async () => {
  const b = await bucket();
  assert.equal(await firstAnswerToExpect(env.node.port, `/${b}/testobj`), '403');
  await env.s3.send(new PutBucketAclCommand({ Bucket: b, ACL: 'public-read-write' }));
  assert.equal(await firstAnswerToExpect(env.node.port, `/${b}/testobj`), '100');
});

test('test_set_bucket_tagging: put, get and delete a bucket tag set; none -> 404 NoSuchTagSet', async () => {
  const b = await bucket();
  assert.deepEqual(await refusal(env.s3.send(new GetBucketTaggingCommand({ Bucket: b }))), [404, 'NoSuchTagSet']);
  await env.s3.send(new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet: [{ Key: 'Hello', Value: 'World' }] } }));
  assert.deepEqual((await env.s3.send(new GetBucketTaggingCommand({ Bucket: b }))).TagSet, [{ Key: 'Hello', Value: 'World' }]);
  await env.s3.send(new DeleteBucketTaggingCommand({ Bucket: b }));
  assert.equal(await s3ErrorName(env.s3.send(new GetBucketTaggingCommand({ Bucket: b }))), 'NoSuchTagSet');
});

test('test_atomic_multipart_upload_write: starting and aborting an upload leaves the object', async () => {
  const b = await bucket();
  await env.s3.send(new PutObjectCommand({ Bucket: b, Key: 'foo', Body: 'bar' }));
  const { UploadId } = await env.s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'foo' }));
  assert.equal((await read(b, 'foo')).toString(), 'bar');
  await env.s3.send(new AbortMultipartUploadCommand({ Bucket: b, Key: 'foo', UploadId }));
  assert.equal((await read(b, 'foo')).toString(), 'bar');
});

test('test_multipart_copy_multiple_sizes (sample): copies in 5 MiB ranges of a 12 MiB source, the last short', async () => {
  const b = await bucket();
  const size = 12 * MiB;
  const src = deterministicRange('copy sizes', 0, size);
  await env.s3.send(new PutObjectCommand({ Bucket: b, Key: 'foo', Body: src }));
  const step = 5 * MiB + 100 * 1024;
  const { UploadId } = await env.s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'dest' }));
  const parts: CompletedPart[] = [];
  for (let at = 0, n = 1; at < size; at += step, n++) {
    const end = Math.min(size, at + step) - 1;
    const out = await env.s3.send(new UploadPartCopyCommand({ Bucket: b, Key: 'dest', UploadId, PartNumber: n, CopySource: `${b}/foo`, CopySourceRange: `bytes=${at}-${end}` }));
    parts.push({ ETag: out.CopyPartResult?.ETag, PartNumber: n });
  }
  await env.s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'dest', UploadId, MultipartUpload: { Parts: parts } }));
  const got = await read(b, 'dest');
  assert.equal(createHash('md5').update(got).digest('hex'), createHash('md5').update(src).digest('hex'));
});

test('test_multipart_upload: Content-Type and metadata of CreateMultipartUpload reach the object; a retried Complete answers 200; ranges read the parts', async () => {
  const b = await bucket();
  const parts = [deterministicRange('mpu a', 0, 5 * MiB), deterministicRange('mpu b', 0, 1000)];
  const { UploadId } = await env.s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mymultipart', ContentType: 'text/bla', Metadata: { foo: 'bar' } }));
  const done: CompletedPart[] = [];
  for (const [i, body] of parts.entries()) done.push({ ETag: (await env.s3.send(new UploadPartCommand({ Bucket: b, Key: 'mymultipart', UploadId, PartNumber: i + 1, Body: body }))).ETag, PartNumber: i + 1 });
  const complete = new CompleteMultipartUploadCommand({ Bucket: b, Key: 'mymultipart', UploadId, MultipartUpload: { Parts: done } });
  const first = await env.s3.send(complete);
  const retried = await env.s3.send(complete);
  assert.equal(retried.ETag, first.ETag);
  const out = await env.s3.send(new GetObjectCommand({ Bucket: b, Key: 'mymultipart', Range: `bytes=${5 * MiB - 10}-${5 * MiB + 9}` }));
  assert.deepEqual([out.ContentType, out.Metadata], ['text/bla', { foo: 'bar' }]);
  assert.deepEqual(Buffer.from((await out.Body?.transformToByteArray()) ?? []), Buffer.concat(parts).subarray(5 * MiB - 10, 5 * MiB + 10));
  assert.deepEqual(await read(b, 'mymultipart'), Buffer.concat(parts));
});

test('test_multipart_upload_overwrite_existing_object / test_abort_multipart_upload: Complete replaces a PUT object; an aborted upload is gone from the listing', async () => {
  const b = await bucket();
  await env.s3.send(new PutObjectCommand({ Bucket: b, Key: 'mymultipart', Body: 'the PUT object' }));
  const parts = [deterministicRange('overwrite a', 0, 5 * MiB), Buffer.from('tail')];
  const { uploadId, done } = await uploadParts(b, 'mymultipart', parts);
  await env.s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'mymultipart', UploadId: uploadId, MultipartUpload: { Parts: done } }));
  assert.deepEqual(await read(b, 'mymultipart'), Buffer.concat(parts));
  const aborted = await uploadParts(b, 'other', [Buffer.from('x')]);
  await env.s3.send(new AbortMultipartUploadCommand({ Bucket: b, Key: 'other', UploadId: aborted.uploadId }));
  assert.equal((await env.s3.send(new ListMultipartUploadsCommand({ Bucket: b }))).Uploads, undefined);
  assert.deepEqual(await refusal(env.s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'other', UploadId: aborted.uploadId, MultipartUpload: { Parts: aborted.done } }))), [404, 'NoSuchUpload']);
});

test('a missing key read by another user whom a policy allows s3:GetObject: 403 without s3:ListBucket, 404 NoSuchKey with it', async () => {
  const b = await bucket();
  await env.s3.send(new PutObjectCommand({ Bucket: b, Key: 'there', Body: 'here' }));
  const allow = (actions: string[]): string => JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { CanonicalUser: aliceUser.id }, Action: actions, Resource: [`arn:aws:s3:::${b}`, `arn:aws:s3:::${b}/*`] }] });
  await env.s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: allow(['s3:GetObject']) }));
  assert.equal((await (await alice().send(new GetObjectCommand({ Bucket: b, Key: 'there' }))).Body?.transformToString()), 'here');
  assert.deepEqual(await refusal(alice().send(new GetObjectCommand({ Bucket: b, Key: 'missing' }))), [403, 'AccessDenied']);
  assert.equal((await refusal(alice().send(new HeadObjectCommand({ Bucket: b, Key: 'missing' }))))[0], 403);
  await env.s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: allow(['s3:GetObject', 's3:ListBucket']) }));
  assert.deepEqual(await refusal(alice().send(new GetObjectCommand({ Bucket: b, Key: 'missing' }))), [404, 'NoSuchKey']);
  assert.equal((await refusal(alice().send(new HeadObjectCommand({ Bucket: b, Key: 'missing' }))))[0], 404);
  assert.deepEqual(await refusal(env.s3.send(new GetObjectCommand({ Bucket: b, Key: 'missing' }))), [404, 'NoSuchKey'], 'the owner always learns it');
});
