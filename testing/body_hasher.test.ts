// Hashes of request bodies (src/server/s3/body_hasher.ts, request_body.ts):
// a large body is hashed on a worker thread, a small one in place, and the
// checks S3 makes of a body (Content-MD5, x-amz-content-sha256) answer the
// same either way.
//
// Strategy: bodies below and above WORKER_MIN_BYTES and above the queue
// bound, in pieces of seeded sizes, through the hasher and through
// VerifiedBody; digests compared with node:crypto over the whole body.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { WORKER_MIN_BYTES, openBodyHasher } from '../src/server/s3/body_hasher.js';
import { VerifiedBody } from '../src/server/s3/request_body.js';
import type { BodyExpectations } from '../src/server/s3/request_body.js';
import { S3Error } from '../src/server/s3/s3_errors.js';
import { Rng } from './rng.js';

/** A body whose bytes follow from (i, seed). */
function bodyOf(bytes: number, seed: number): Buffer {
  const out = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) out[i] = (Math.imul(i + seed, 2654435761) >>> 24) & 0xff;
  return out;
}

function piecesOf(body: Buffer, seed: number): Buffer[] {
  const rng = new Rng(seed);
  const out: Buffer[] = [];
  for (let at = 0; at < body.length; ) {
    const n = Math.min(body.length - at, rng.int(1, 200_000));
    out.push(body.subarray(at, at + n));
    at += n;
  }
  return out;
}

async function* stream(pieces: readonly Buffer[]): AsyncGenerator<Buffer> {
  for (const p of pieces) {
    await Promise.resolve();
    yield p;
  }
}

for (const bytes of [1000, WORKER_MIN_BYTES, 9 * 1024 * 1024 + 17]) {
  void test(`the hasher gives node:crypto's MD5 and SHA-256 of a ${bytes}-byte body in pieces`, async () => {
    const body = bodyOf(bytes, bytes);
    const hasher = openBodyHasher(['md5', 'sha256'], bytes);
    for (const piece of piecesOf(body, 7)) await hasher.update(piece);
    const [md5, sha] = await hasher.digest();
    assert.deepEqual(md5, createHash('md5').update(body).digest());
    assert.deepEqual(sha, createHash('sha256').update(body).digest());
  });
}

void test('a dropped body does not disturb the next one on the worker', async () => {
  const dropped = openBodyHasher(['md5'], WORKER_MIN_BYTES);
  await dropped.update(bodyOf(5000, 1));
  dropped.drop();
  const body = bodyOf(WORKER_MIN_BYTES, 2);
  const hasher = openBodyHasher(['md5'], body.length);
  await hasher.update(body);
  assert.deepEqual(await hasher.digest(), [createHash('md5').update(body).digest()]);
});

async function readAll(body: VerifiedBody): Promise<S3Error | Buffer> {
  try {
    for await (const piece of body) void piece;
    return body.md5;
  } catch (err: unknown) {
    if (err instanceof S3Error) return err;
    throw err;
  }
}

for (const bytes of [4096, 1024 * 1024]) {
  void test(`a ${bytes}-byte body: Content-MD5 and x-amz-content-sha256 checked as before`, async () => {
    const body = bodyOf(bytes, 3);
    const md5 = createHash('md5').update(body).digest();
    const sha256Hex = createHash('sha256').update(body).digest('hex');
    const expect = (over: Partial<BodyExpectations>): VerifiedBody =>
      new VerifiedBody(stream(piecesOf(body, 5)), { declaredBytes: bytes, maxBytes: 1 << 30, contentMd5: undefined, sha256Hex: undefined, checksum: undefined, ...over }, () => new Map());
    assert.deepEqual(await readAll(expect({ contentMd5: md5, sha256Hex })), md5);
    const badMd5 = await readAll(expect({ contentMd5: Buffer.alloc(16) }));
    assert.ok(badMd5 instanceof S3Error && badMd5.code === 'BadDigest', String(badMd5));
    const badSha = await readAll(expect({ sha256Hex: '0'.repeat(64) }));
    assert.ok(badSha instanceof S3Error && badSha.code === 'XAmzContentSHA256Mismatch', String(badSha));
  });
}
