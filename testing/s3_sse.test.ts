// Encryption at rest against the AWS SDK, over the real store (docs/S3.md,
// "Encryption at rest").
//
// Strategy: one node with a fixed node key; each test in its own bucket.
// Objects are written with SSE-S3, SSE-C and a bucket's default encryption,
// small (inline in the record) and large (several 64 KiB segments, data
// shards), single PUT and multipart, and copied between encryptions; each is
// read back whole and by ranges that start, end and cross segment and part
// boundaries. Every value the engine holds is then searched for the
// plaintext. SSE-C keys are crossed: none, another, one given to an object
// that has none. Finally a stored segment is altered through the engine,
// and the node is reopened with the same key and with another.
//
// Invariants: a read gives exactly the bytes written; the ETag of a single
// PUT is the MD5 of the plaintext; no stored value contains the plaintext;
// a wrong or missing key is S3's error and never the bytes; altered
// ciphertext is an error, never bytes.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketEncryptionCommand,
  GetBucketEncryptionCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutBucketEncryptionCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { S3Client } from '@aws-sdk/client-s3';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileNodeKey, StaticNodeKey } from '../src/server/index.js';
import type { S3Node } from './s3_harness.js';
import { ACCESS_KEY, MiB, SECRET_KEY, s3ErrorName, startS3Node } from './s3_harness.js';
import { FORM_CONTENT_TYPE, formBody, signingFields } from './post_form.js';
import { storedPlaintext, tagNotVerified } from './mutants/sse_mutants.js';

const NODE_KEY = Buffer.alloc(32, 0x4b);
const KEY_A = Buffer.alloc(32, 0xa1);
const KEY_B = Buffer.alloc(32, 0xb2);

let node: S3Node;
let s3: S3Client;
/**
 * A client that does not check the checksum a GET answers: the CRC32 the
 * SDK sends with every PUT is kept and answered (x-amz-checksum-mode), so
 * the SDK itself would refuse altered bytes; the tamper checks are about
 * what the server serves, and read with this one.
 */
let unchecked: S3Client;

before(async () => {
  node = await startS3Node({ s3: { nodeKey: new StaticNodeKey(NODE_KEY) } });
  s3 = node.client();
  unchecked = new S3Client({
    endpoint: node.endpoint, region: 'us-east-1', forcePathStyle: true, maxAttempts: 1,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, responseChecksumValidation: 'WHEN_REQUIRED',
  });
});

after(async () => {
  unchecked.destroy();
  await node.stop();
});

const md5hex = (b: Buffer): string => createHash('md5').update(b).digest('hex');
const ssec = (key: Buffer): { SSECustomerAlgorithm: string; SSECustomerKey: string; SSECustomerKeyMD5: string } => ({
  SSECustomerAlgorithm: 'AES256',
  SSECustomerKey: key.toString('base64'),
  SSECustomerKeyMD5: createHash('md5').update(key).digest('base64'),
});
const copySsec = (key: Buffer): Record<string, string> => {
  const k = ssec(key);
  return { CopySourceSSECustomerAlgorithm: k.SSECustomerAlgorithm, CopySourceSSECustomerKey: k.SSECustomerKey, CopySourceSSECustomerKeyMD5: k.SSECustomerKeyMD5 };
};

/** Plaintext that is easy to find in stored bytes: no run of 32 bytes of it is anything but itself. */
function plaintext(size: number): Buffer {
  return randomBytes(size);
}

async function get(bucket: string, key: string, extra: Record<string, string> = {}, client = s3): Promise<{ body: Buffer; sse: string | undefined; md5: string | undefined }> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...extra }));
  return { body: Buffer.from(await out.Body?.transformToByteArray() ?? []), sse: out.ServerSideEncryption, md5: out.SSECustomerKeyMD5 };
}

/**
 * Every value the engine holds, searched for any 32-byte window of `plain`
 * at a few offsets: the violation `found in plaintext: <shard key>`, or
 * undefined.
 */
async function plaintextViolation(plain: Buffer): Promise<string | undefined> {
  const probes = [0, Math.floor(plain.length / 2), Math.max(0, plain.length - 32)].map((at) => plain.subarray(at, at + 32)).filter((p) => p.length === 32);
  let startAfter: Buffer | undefined;
  for (;;) {
    const page = await node.api.list(startAfter === undefined ? {} : { startAfter });
    for (const { key } of page.shards) {
      const value = await node.api.get(key);
      if (probes.some((p) => value.includes(p))) return `found in plaintext: ${JSON.stringify(key.toString('latin1'))}`;
    }
    const last = page.shards.at(-1);
    if (!page.truncated || last === undefined) return undefined;
    startAfter = last.key;
  }
}

async function storedContains(plain: Buffer): Promise<boolean> {
  return (await plaintextViolation(plain)) !== undefined;
}

/** The data shard of a single-PUT object (`\0D bucket/key\0...`). */
async function dataShardOf(b: string, key: string): Promise<Buffer> {
  const page = await node.api.list({ prefix: Buffer.concat([Buffer.from([0, 0x44]), Buffer.from(`${b}/${key}\0`)]) });
  const shard = page.shards[0];
  assert.ok(shard !== undefined, `${b}/${key} has a data shard`);
  return shard.key;
}

/** Byte `at` of the object's stored data altered through the engine, then a GET: the violation `served altered ciphertext: ...`, or undefined. */
async function alteredViolation(b: string, key: string, at: number): Promise<string | undefined> {
  const shardKey = await dataShardOf(b, key);
  const stored = await node.api.get(shardKey);
  const tampered = Buffer.from(stored);
  tampered[at] = (tampered[at] ?? 0) ^ 0x20;
  await node.api.put(shardKey, tampered);
  try {
    const out = await get(b, key, {}, unchecked);
    return `served altered ciphertext: byte ${at} of ${b}/${key} changed, ${out.body.length} bytes answered`;
  } catch (err) {
    if (!(err instanceof Error) || err.name === 'AssertionError') throw err;
    return undefined;
  } finally {
    await node.api.put(shardKey, stored);
  }
}

async function bucket(name: string): Promise<string> {
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

void test('SSE-S3: small and large objects read back whole, with AES256 echoed and the MD5 ETag, and are not stored in plaintext', async () => {
  const b = await bucket('sse-s3');
  for (const size of [0, 100, 200 * 1024 + 7]) {
    const plain = plaintext(size);
    const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: `o-${size}`, Body: plain, ServerSideEncryption: 'AES256' }));
    assert.equal(put.ServerSideEncryption, 'AES256');
    assert.equal(put.ETag, `"${md5hex(plain)}"`);
    const back = await get(b, `o-${size}`);
    assert.deepEqual(back.body, plain);
    assert.equal(back.sse, 'AES256');
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: `o-${size}` }));
    assert.equal(head.ContentLength, size);
    assert.equal(head.ServerSideEncryption, 'AES256');
    if (size > 0) assert.equal(await storedContains(plain), false, `${size} bytes found in plaintext on disk`);
  }
  // The check can fail: an unencrypted object is found.
  const open = plaintext(1000);
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'open', Body: open }));
  assert.equal(await storedContains(open), true);
  assert.equal((await get(b, 'open')).sse, undefined);
});

void test('range GETs of an encrypted object: segment and object boundaries, suffixes, one byte', async () => {
  const b = await bucket('sse-range');
  const seg = 64 * 1024;
  const plain = plaintext(3 * seg + 1234);
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'r', Body: plain, ...ssec(KEY_A) }));
  const ranges: Array<[number, number]> = [[0, 0], [seg - 1, seg], [seg - 10, seg + 10], [seg, 2 * seg - 1], [1, plain.length - 2], [plain.length - 1, plain.length - 1], [2 * seg + 5, plain.length - 1]];
  for (const [first, last] of ranges) {
    const out = await get(b, 'r', { Range: `bytes=${first}-${last}`, ...ssec(KEY_A) });
    assert.deepEqual(out.body, plain.subarray(first, last + 1), `bytes=${first}-${last}`);
  }
  const suffix = await get(b, 'r', { Range: 'bytes=-100', ...ssec(KEY_A) });
  assert.deepEqual(suffix.body, plain.subarray(plain.length - 100));
  assert.equal(await s3ErrorName(s3.send(new GetObjectCommand({ Bucket: b, Key: 'r', Range: `bytes=${plain.length}-`, ...ssec(KEY_A) }))), 'InvalidRange');
});

void test('SSE-C: the key is checked on GET, HEAD and copy: missing 400, another 403, on a plain object 400', async () => {
  const b = await bucket('sse-c');
  const plain = plaintext(70_000);
  const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'c', Body: plain, ...ssec(KEY_A) }));
  assert.equal(put.SSECustomerAlgorithm, 'AES256');
  assert.equal(put.SSECustomerKeyMD5, ssec(KEY_A).SSECustomerKeyMD5);
  assert.match(put.ETag ?? '', /^"[0-9a-f]{32}"$/);
  assert.notEqual(put.ETag, `"${md5hex(plain)}"`);
  assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'c', ...ssec(KEY_A) }))).ETag, put.ETag);
  const back = await get(b, 'c', ssec(KEY_A));
  assert.deepEqual(back.body, plain);
  assert.equal(back.md5, ssec(KEY_A).SSECustomerKeyMD5);
  assert.equal(await s3ErrorName(s3.send(new GetObjectCommand({ Bucket: b, Key: 'c' }))), 'InvalidRequest');
  assert.equal(await s3ErrorName(s3.send(new GetObjectCommand({ Bucket: b, Key: 'c', ...ssec(KEY_B) }))), 'AccessDenied');
  assert.equal(await s3ErrorName(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'c' }))), '400');
  assert.equal(await s3ErrorName(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'c', ...ssec(KEY_B) }))), '403');
  assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'c', ...ssec(KEY_A) }))).ContentLength, plain.length);
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'plain', Body: plain }));
  assert.equal(await s3ErrorName(s3.send(new GetObjectCommand({ Bucket: b, Key: 'plain', ...ssec(KEY_A) }))), 'InvalidRequest');
  assert.equal(await s3ErrorName(s3.send(new PutObjectCommand({ Bucket: b, Key: 'kms', Body: plain, ServerSideEncryption: 'aws:kms' }))), 'NotImplemented');
  assert.equal(await storedContains(plain.subarray(0, 1000)), true, 'the plain copy is found (the search works)');
  // Copies: the source key is needed; the copy is encrypted as its own request says.
  assert.equal(await s3ErrorName(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'copy', CopySource: `${b}/c` }))), 'InvalidRequest');
  assert.equal(await s3ErrorName(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'copy', CopySource: `${b}/c`, ...copySsec(KEY_B) }))), 'AccessDenied');
  const copied = await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'copy', CopySource: `${b}/c`, ...copySsec(KEY_A), ServerSideEncryption: 'AES256' }));
  assert.equal(copied.ServerSideEncryption, 'AES256');
  assert.deepEqual((await get(b, 'copy')).body, plain);
  await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'rekeyed', CopySource: `${b}/c`, ...copySsec(KEY_A), ...ssec(KEY_B) }));
  assert.deepEqual((await get(b, 'rekeyed', ssec(KEY_B))).body, plain);
  assert.equal(await s3ErrorName(s3.send(new GetObjectCommand({ Bucket: b, Key: 'rekeyed', ...ssec(KEY_A) }))), 'AccessDenied');
  // In place, changing only the encryption, as S3 allows.
  await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'c', CopySource: `${b}/c`, ...copySsec(KEY_A), ...ssec(KEY_B) }));
  assert.deepEqual((await get(b, 'c', ssec(KEY_B))).body, plain);
});

void test('multipart with SSE-C and SSE-S3: parts need the key, ranges cross parts, ListParts sizes are plaintext', async () => {
  const b = await bucket('sse-mp');
  const part1 = plaintext(5 * MiB);
  const parts: Buffer[] = [part1, plaintext(300_001)];
  const whole = Buffer.concat(parts);
  for (const [name, enc, read] of [['c', ssec(KEY_A), ssec(KEY_A)], ['s3', { ServerSideEncryption: 'AES256' as const }, {}]] as const) {
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: name, ...enc }));
    const UploadId = created.UploadId;
    if (name === 'c') {
      assert.equal(created.SSECustomerAlgorithm, 'AES256');
      assert.equal(await s3ErrorName(s3.send(new UploadPartCommand({ Bucket: b, Key: name, UploadId, PartNumber: 1, Body: part1 }))), 'InvalidRequest');
      assert.equal(await s3ErrorName(s3.send(new UploadPartCommand({ Bucket: b, Key: name, UploadId, PartNumber: 1, Body: part1, ...ssec(KEY_B) }))), 'AccessDenied');
    } else {
      assert.equal(created.ServerSideEncryption, 'AES256');
    }
    const etags: string[] = [];
    for (const [i, body] of parts.entries()) {
      const up = await s3.send(new UploadPartCommand({ Bucket: b, Key: name, UploadId, PartNumber: i + 1, Body: body, ...read }));
      // SSE-C ETags are not the MD5, as in S3 (the record is stored in clear: it must not fingerprint the plaintext).
      if (name === 'c') assert.notEqual(up.ETag, `"${md5hex(body)}"`);
      else assert.equal(up.ETag, `"${md5hex(body)}"`);
      etags.push(up.ETag ?? '');
    }
    const listed = await s3.send(new ListPartsCommand({ Bucket: b, Key: name, UploadId, ...read }));
    assert.deepEqual(listed.Parts?.map((p) => p.Size), parts.map((p) => p.length));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: name, UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: name, ...read }));
    assert.equal(head.ContentLength, whole.length);
    assert.deepEqual((await get(b, name, read)).body, whole);
    const first = 5 * MiB - 70_000;
    assert.deepEqual((await get(b, name, { ...read, Range: `bytes=${first}-${5 * MiB + 70_000}` })).body, whole.subarray(first, 5 * MiB + 70_001));
  }
  assert.equal(await storedContains(parts[1] ?? Buffer.alloc(0)), false);
  // UploadPartCopy from an SSE-C source into an SSE-S3 upload.
  const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'pc', ServerSideEncryption: 'AES256' }));
  const copy = await s3.send(new UploadPartCopyCommand({ Bucket: b, Key: 'pc', UploadId: created.UploadId, PartNumber: 1, CopySource: `${b}/c`, CopySourceRange: 'bytes=100-99999', ...copySsec(KEY_A) }));
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'pc', UploadId: created.UploadId, MultipartUpload: { Parts: [{ ETag: copy.CopyPartResult?.ETag ?? '', PartNumber: 1 }] } }));
  assert.deepEqual((await get(b, 'pc')).body, whole.subarray(100, 100_000));
});

void test('bucket default encryption: AES256 applied to new objects, SSE-KMS 501, none is 404', async () => {
  const b = await bucket('sse-default');
  assert.equal(await s3ErrorName(s3.send(new GetBucketEncryptionCommand({ Bucket: b }))), 'ServerSideEncryptionConfigurationNotFoundError');
  const kms = { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' as const } }] };
  assert.equal(await s3ErrorName(s3.send(new PutBucketEncryptionCommand({ Bucket: b, ServerSideEncryptionConfiguration: kms }))), 'NotImplemented');
  await s3.send(new PutBucketEncryptionCommand({ Bucket: b, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } }));
  const got = await s3.send(new GetBucketEncryptionCommand({ Bucket: b }));
  assert.equal(got.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm, 'AES256');
  const plain = plaintext(5000);
  const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'd', Body: plain }));
  assert.equal(put.ServerSideEncryption, 'AES256');
  assert.deepEqual((await get(b, 'd')).body, plain);
  assert.equal(await storedContains(plain), false);
  // SSE-C given explicitly wins over the default.
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'dc', Body: plain, ...ssec(KEY_A) }));
  assert.equal(await s3ErrorName(s3.send(new GetObjectCommand({ Bucket: b, Key: 'dc' }))), 'InvalidRequest');
  // A browser form upload gets the default too (it cannot ask for encryption itself).
  const { fields } = signingFields({ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY, nowMs: Date.now(), bucket: b, key: 'form' });
  const form = await fetch(`${node.endpoint}/${b}`, { method: 'POST', body: formBody([['key', 'form'], ...fields], plain), headers: { 'content-type': FORM_CONTENT_TYPE } });
  assert.equal(form.status, 204, await form.text());
  assert.equal(form.headers.get('x-amz-server-side-encryption'), 'AES256');
  assert.deepEqual((await get(b, 'form')).body, plain);
  assert.equal(await storedContains(plain), false);
  await s3.send(new DeleteBucketEncryptionCommand({ Bucket: b }));
  assert.equal((await s3.send(new PutObjectCommand({ Bucket: b, Key: 'after', Body: plain }))).ServerSideEncryption, undefined);
  assert.equal(await s3ErrorName(s3.send(new GetBucketEncryptionCommand({ Bucket: b }))), 'ServerSideEncryptionConfigurationNotFoundError');
});

void test('versions keep their encryption: an old SSE-C version needs its own key, a new plain one none', async () => {
  const b = await bucket('sse-versions');
  await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
  const [v1, v2] = [plaintext(90_000), plaintext(300)];
  const first = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'v', Body: v1, ...ssec(KEY_A) }));
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'v', Body: v2 }));
  assert.deepEqual((await get(b, 'v')).body, v2);
  const VersionId = first.VersionId ?? '';
  assert.equal(await s3ErrorName(s3.send(new GetObjectCommand({ Bucket: b, Key: 'v', VersionId }))), 'InvalidRequest');
  assert.deepEqual((await get(b, 'v', { VersionId, ...ssec(KEY_A), Range: 'bytes=65530-65545' })).body, v1.subarray(65530, 65546));
});

void test('altered ciphertext is an error, never bytes', async () => {
  const b = await bucket('sse-tamper');
  const plain = plaintext(150_000);
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 't', Body: plain, ServerSideEncryption: 'AES256' }));
  // A nonce byte, a ciphertext byte of the second segment, the last tag byte.
  for (const at of [5, 70_000, plain.length + 3 * 28 - 1]) assert.equal(await alteredViolation(b, 't', at), undefined);
  assert.deepEqual((await get(b, 't')).body, plain);
});

void test('the broken variants are caught by the failure each must cause: plaintext stored, tags not verified', async () => {
  // Each variant patches sse_crypto.ts (testing/mutants/sse_mutants.ts); the
  // checks above must then report it, and report nothing without it.
  const b = await bucket('sse-variants');
  const plain = plaintext(100_000);
  let restore = storedPlaintext.install();
  try {
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'p', Body: plain, ServerSideEncryption: 'AES256' }));
  } finally {
    restore();
  }
  assert.match((await plaintextViolation(plain)) ?? 'not caught', storedPlaintext.expect);
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 't', Body: plain, ServerSideEncryption: 'AES256' }));
  assert.equal(await alteredViolation(b, 't', 70_000), undefined);
  restore = tagNotVerified.install();
  try {
    assert.match((await alteredViolation(b, 't', 70_000)) ?? 'not caught', tagNotVerified.expect);
  } finally {
    restore();
  }
});

void test('the node key file: made at the first SSE-S3 write (0600, 41 bytes), needed after a restart; another key or none is an error, not bytes', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'shardstore-sse-'));
  const keyFile = join(dataDir, 'node.key');
  const plain = plaintext(100_000);
  try {
    const first = await startS3Node({ dataDir, s3: { nodeKey: new FileNodeKey(keyFile) } });
    const c1 = first.client();
    await c1.send(new CreateBucketCommand({ Bucket: 'keys' }));
    await c1.send(new PutObjectCommand({ Bucket: 'keys', Key: 'plain', Body: plain }));
    assert.equal(existsSync(keyFile), false, 'a node that never encrypted has no key file');
    await c1.send(new PutObjectCommand({ Bucket: 'keys', Key: 'enc', Body: plain, ServerSideEncryption: 'AES256' }));
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.equal(statSync(keyFile).size, 41);
    await first.stop();
    const read = async (nodeKey: FileNodeKey | StaticNodeKey): Promise<string | Buffer> => {
      const again = await startS3Node({ dataDir, s3: { nodeKey } });
      try {
        const out = await again.client().send(new GetObjectCommand({ Bucket: 'keys', Key: 'enc' }));
        return Buffer.from((await out.Body?.transformToByteArray()) ?? []);
      } catch (err) {
        return err instanceof Error ? err.name : String(err);
      } finally {
        await again.stop();
      }
    };
    assert.deepEqual(await read(new FileNodeKey(keyFile)), plain);
    assert.equal(await read(new StaticNodeKey(Buffer.alloc(32, 9))), 'InternalError');
    rmSync(keyFile);
    assert.equal(await read(new FileNodeKey(keyFile)), 'InternalError');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
