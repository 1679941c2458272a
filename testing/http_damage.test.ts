// Honest answers for damaged data (issue 11, part 5), against the real
// server over a real node on files.
//
// Strategy: one node of two disks gets native values and S3 objects of one
// chunk and of four chunks (256 KiB each), and a few S3 records that are
// garbage, written straight through the engine (below the native API, which
// now refuses that key range). The server stops, one byte is flipped in the
// chunk chosen for each victim (the first chunk, or the third), and the node
// is served again. Then each answer is checked as a client sees it, with
// node's http client (which tells a body cut short from a whole one) and
// with curl:
// - a damaged first chunk is a 500 with its error body (native JSON
//   Corruption; S3 InternalError XML) before any byte, whole or ranged; the
//   request log says 500;
// - damage found after the status line cuts the answer short (never a
//   clean end, never a wrong byte); the log says the status, aborted and the
//   error code, and the metrics count it;
// - HEAD answers from the index (it reads no value bytes);
// - a damaged S3 record breaks its own object or bucket only: ListBuckets,
//   ListObjects, CreateBucket, the other objects and upload expiry work,
//   and DELETE removes the damaged object;
// - scrub and fsck name the S3 victims as bucket/key with their record type.
// Three broken variants (testing/mutants/http_mutants.ts) must be caught by
// the failure they cause: the status line sent before the first chunk is
// read, a listing that decodes damaged records without care, and a cut
// answer counted as a clean one.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from '../src/cli/index.js';
import type { CliIo } from '../src/cli/index.js';
import { damagedJson } from '../src/server/admin_json.js';
import { bucketShardKey, dataPrefix, objectShardKey, uploadShardKey } from '../src/server/s3/shard_keys.js';
import type { ShardNode } from '../src/node/index.js';
import type { ChunkPlace, Seen, Served } from './damage_harness.js';
import { ACCESS_KEY, SECRET_KEY, chunksOf, flipByte, jsonCode, pattern, request as rawRequest, serve, xmlCode } from './damage_harness.js';
import { abortedAnswerNotCounted, listingFailsOnDamagedRecord, statusBeforeFirstChunk } from './mutants/http_mutants.js';

const CHUNK = 256 * 1024;
const BIG = 4 * CHUNK;
const ONE = pattern(1, 1000);
const MANY = pattern(2, BIG);
const FINE = pattern(3, BIG);
const CAT = pattern(4, BIG);
const DOG = pattern(5, BIG);
const FIRST = pattern(6, BIG);
const GARBAGE = Buffer.from('not a record at all, just bytes written below the API');

let dir = '';
let s: Served;

/**
 * A request, answered only once the server has closed its side: the server
 * logs and counts an answer when its response closes, which can come after
 * the client has seen the cut. Reading the log or the metrics (or removing a
 * broken variant) before then would race the server's own bookkeeping.
 */
async function request(...args: Parameters<typeof rawRequest>): Promise<Seen> {
  const seen = await rawRequest(...args);
  for (let turn = 0; s.server.inFlight() > 0; turn++) {
    if (turn > 100_000) throw new Error(`the server still has ${s.server.inFlight()} request(s) in flight after the client's answer`);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return seen;
}

async function ok(seen: Promise<Seen>, status: number): Promise<Seen> {
  const got = await seen;
  assert.equal(got.status, status, `${got.status ?? 'no status'}: ${got.body.toString('utf8').slice(0, 300)}`);
  return got;
}

async function s3(method: string, path: string, body?: Buffer, extra: Record<string, string> = {}): Promise<Seen> {
  return request(`${s.base}${path}`, method, { ...s.signed(method, path, body?.length), ...extra }, body);
}

async function dataShardOf(node: ShardNode, bucket: string, key: string): Promise<Buffer> {
  const page = await node.list({ prefix: dataPrefix(bucket, Buffer.from(key)) });
  const shard = page.shards[0];
  assert.ok(shard !== undefined && page.shards.length === 1, `${bucket}/${key} has one data shard`);
  return shard.key;
}

/** Write everything, find the victims' chunks, stop, flip a byte in each, serve again. */
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'http-damage-'));
  s = await serve(dir);
  for (const [key, value] of [['one', ONE], ['many', MANY], ['fine', FINE]] as const) await ok(request(`${s.base}/v1/shards/${key}`, 'PUT', {}, value), 201);
  await ok(s3('PUT', '/photos'), 200);
  for (const [key, value] of [['cat.jpg', CAT], ['dog.jpg', DOG], ['first.jpg', FIRST]] as const) await ok(s3('PUT', `/photos/${key}`, value), 200);
  // Garbage records, below the native API: an object record, a bucket record, a bucket record with no valid name.
  const upload = uploadShardKey('photos', Buffer.from('up.bin'), Buffer.alloc(16, 7));
  for (const key of [objectShardKey('photos', Buffer.from('bad.jpg')), bucketShardKey('broken'), bucketShardKey('Not_A_Bucket'), upload]) {
    await (await s.node.put(key, GARBAGE)).persisted();
  }
  const victims: ChunkPlace[] = [
    (await chunksOf(s.node, Buffer.from('one')))[0],
    (await chunksOf(s.node, Buffer.from('many')))[2],
    (await chunksOf(s.node, await dataShardOf(s.node, 'photos', 'cat.jpg')))[2],
    (await chunksOf(s.node, await dataShardOf(s.node, 'photos', 'first.jpg')))[0],
  ].map((p) => {
    assert.ok(p !== undefined, 'every victim has the chunk chosen');
    return p;
  });
  assert.equal((await chunksOf(s.node, Buffer.from('many'))).length, 4, 'a 1 MiB value spans four chunks');
  await s.stop();
  for (const place of victims) flipByte(place);
  s = await serve(dir);
});

after(async () => {
  await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A damaged first chunk: a whole 500 answer with the error's code, nothing cut. */
function assertFirstChunkAnswer(seen: Seen, code: string, codeOf: (seen: Seen) => string): void {
  assert.equal(seen.status, 500, `a damaged first chunk answers 500 before any byte (got ${seen.status ?? 'no status line'}, ${seen.error ?? ''})`);
  assert.equal(seen.cut, false, 'the error answer is whole');
  assert.equal(codeOf(seen), code);
}

/** Damage after the status line: the client sees the body cut short, and every byte it got is right. */
function assertCut(seen: Seen, status: number, expected: Buffer): void {
  assert.equal(seen.status, status);
  assert.equal(seen.cut, true, 'the client sees an error, not a clean end');
  assert.ok(seen.body.length < expected.length, `short body: ${seen.body.length} of ${expected.length}`);
  assert.ok(seen.body.equals(expected.subarray(0, seen.body.length)), 'no wrong byte before the cut');
}

function lastRequestLog(path: string): Readonly<Record<string, unknown>> {
  const line = s.logger.requests(path).at(-1);
  assert.ok(line !== undefined, `a request log line for ${path}`);
  return line;
}

void test('native: a damaged first chunk is 500 Corruption (whole and ranged), logged as 500; HEAD answers from the index', async () => {
  assertFirstChunkAnswer(await request(`${s.base}/v1/shards/one`, 'GET'), 'Corruption', jsonCode);
  assert.equal(lastRequestLog('/v1/shards/one')['status'], 500);
  assertFirstChunkAnswer(await request(`${s.base}/v1/shards/one`, 'GET', { range: 'bytes=10-20' }), 'Corruption', jsonCode);
  // A range that starts in the damaged third chunk of a value: its first chunk is damaged.
  const inThird = `bytes=${2 * CHUNK + 5}-${2 * CHUNK + 100}`;
  assertFirstChunkAnswer(await request(`${s.base}/v1/shards/many`, 'GET', { range: inThird }), 'Corruption', jsonCode);
  const head = await ok(request(`${s.base}/v1/shards/one`, 'HEAD'), 200);
  assert.equal(head.headers['content-length'], String(ONE.length));
});

void test('native: damage after the status line cuts the body short; the log says 200, aborted, Corruption; metrics count it', async () => {
  assertCut(await request(`${s.base}/v1/shards/many`, 'GET'), 200, MANY);
  const line = lastRequestLog('/v1/shards/many');
  assert.deepEqual([line['status'], line['aborted'], line['error']], [200, true, 'Corruption']);
  assertCut(await request(`${s.base}/v1/shards/many`, 'GET', { range: 'bytes=0-' }), 206, MANY);
  assert.deepEqual([lastRequestLog('/v1/shards/many')['status'], lastRequestLog('/v1/shards/many')['error']], [206, 'Corruption']);
  // Ranges within the good chunks, and the other values, are untouched.
  const firstChunks = await ok(request(`${s.base}/v1/shards/many`, 'GET', { range: `bytes=0-${2 * CHUNK - 1}` }), 206);
  assert.ok(firstChunks.body.equals(MANY.subarray(0, 2 * CHUNK)) && !firstChunks.cut);
  const fine = await ok(request(`${s.base}/v1/shards/fine`, 'GET'), 200);
  assert.ok(fine.body.equals(FINE) && !fine.cut);
  assert.equal(await abortedCount(), '2', 'two answers cut, counted by their error code');
});

async function abortedCount(): Promise<string | undefined> {
  const metrics = (await ok(request(`${s.base}/metrics`, 'GET'), 200)).body.toString('utf8');
  return /shardstore_http_responses_aborted_total\{api="native",op="shard\.get",code="Corruption"\} (\d+)/.exec(metrics)?.[1];
}

void test('curl exits non-zero on a body cut short', async (t) => {
  const curl = await new Promise<{ code: number | null; missing: boolean }>((resolve) => {
    execFile('curl', ['-sS', '-o', '/dev/null', '--aws-sigv4', 'aws:amz:us-east-1:s3', '--user', `${ACCESS_KEY}:${SECRET_KEY}`, `${s.base}/v1/shards/many`], (err) => {
      if (err === null) resolve({ code: 0, missing: false });
      else resolve({ code: typeof err.code === 'number' ? err.code : null, missing: err.code === 'ENOENT' });
    });
  });
  if (curl.missing) {
    t.skip('curl is not installed');
    return;
  }
  // 18: "partial file", the transfer ended before Content-Length.
  assert.equal(curl.code, 18);
});

void test('S3: a damaged first chunk is 500 InternalError XML; later damage cuts the body; the log says which', async () => {
  assertFirstChunkAnswer(await s3('GET', '/photos/first.jpg'), 'InternalError', xmlCode);
  assert.equal(lastRequestLog('/photos/first.jpg')['status'], 500);
  assertFirstChunkAnswer(await s3('GET', '/photos/first.jpg', undefined, { range: 'bytes=0-99' }), 'InternalError', xmlCode);
  assertCut(await s3('GET', '/photos/cat.jpg'), 200, CAT);
  const line = lastRequestLog('/photos/cat.jpg');
  assert.deepEqual([line['status'], line['aborted'], line['error']], [200, true, 'InternalError']);
  assertCut(await s3('GET', '/photos/cat.jpg', undefined, { range: `bytes=${CHUNK}-` }), 206, CAT.subarray(CHUNK));
  const dog = await ok(s3('GET', '/photos/dog.jpg'), 200);
  assert.ok(dog.body.equals(DOG) && !dog.cut);
});

/** ListBuckets, CreateBucket and a listing of the bucket that holds a damaged record. */
async function listingsAround(): Promise<{ buckets: Seen; objects: Seen }> {
  return { buckets: await s3('GET', '/'), objects: await s3('GET', '/photos') };
}

void test('S3: a damaged record breaks only its own object or bucket', async () => {
  const { buckets, objects } = await listingsAround();
  assert.equal(buckets.status, 200, buckets.body.toString('utf8'));
  assert.deepEqual([...buckets.body.toString('utf8').matchAll(/<Name>([^<]*)<\/Name>/g)].map((m) => m[1]), ['photos']);
  assert.equal(objects.status, 200, objects.body.toString('utf8'));
  assert.deepEqual([...objects.body.toString('utf8').matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]), ['cat.jpg', 'dog.jpg', 'first.jpg']);
  assert.ok(
    s.logger.records.some((r) => r.level === 'warn' && r.fields['record'] === 'photos/bad.jpg (object record)'),
    'the damaged record left out is logged by its S3 name',
  );
  await ok(s3('PUT', '/another-bucket'), 200);
  assert.equal(xmlCode(await ok(s3('GET', '/photos/bad.jpg'), 500)), 'InternalError');
  await ok(s3('HEAD', '/photos/bad.jpg'), 500);
  await ok(s3('HEAD', '/broken'), 500);
  // The expiry of multipart uploads skips the damaged upload record instead of stopping there.
  assert.equal(await s.server.s3?.collector.expireUploads(), 0);
  assert.ok(s.logger.records.some((r) => r.fields['record'] === 'photos/up.bin (multipart upload record)'));
  // A plain DELETE removes the damaged object (nothing of it needs reading).
  await ok(s3('DELETE', '/photos/bad.jpg'), 204);
  assert.equal(xmlCode(await ok(s3('GET', '/photos/bad.jpg'), 404)), 'NoSuchKey');
});

void test('scrub and fsck name S3 shards as bucket/key with their record type', async () => {
  const report = await s.node.scrub();
  const named = report.damaged.map(damagedJson).map((d) => (d.s3 === undefined ? `native ${d.key}` : `${d.s3.type} ${d.s3.name}`));
  assert.deepEqual(named.sort(), ['data photos/cat.jpg', 'data photos/first.jpg', 'native many', 'native one']);
  await s.stop();
  const out: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: () => undefined, env: {} };
  assert.equal(await runCli(['fsck', '--data-dir', dir], io), 1);
  const text = out.join('\n');
  for (const name of ['S3 photos/cat.jpg (object data)', 'S3 photos/first.jpg (object data)', 'key=many', 'key=one']) assert.ok(text.includes(name), `fsck names ${name}:\n${text}`);
  s = await serve(dir);
});

void test('mutant status-before-first-chunk is caught: no status line at all, and the log says 200', async () => {
  const restore = statusBeforeFirstChunk.install();
  let seen: Seen;
  try {
    seen = await request(`${s.base}/v1/shards/one`, 'GET');
  } finally {
    restore();
  }
  assert.throws(() => assertFirstChunkAnswer(seen, 'Corruption', jsonCode), /answers 500 before any byte \(got no status line/);
  assert.equal(lastRequestLog('/v1/shards/one')['status'], 200, 'the bug of the issue: the log records a 200');
});

void test('mutant listing-fails-on-damaged-record is caught: ListBuckets answers 500', async () => {
  const restore = listingFailsOnDamagedRecord.install();
  let seen: { buckets: Seen; objects: Seen };
  try {
    seen = await listingsAround();
  } finally {
    restore();
  }
  assert.deepEqual([seen.buckets.status, xmlCode(seen.buckets)], [500, 'InternalError']);
});

void test('mutant aborted-answer-not-counted is caught: the cut answer is missing from the aborted count', async () => {
  const before = await abortedCount();
  const restore = abortedAnswerNotCounted.install();
  try {
    assertCut(await request(`${s.base}/v1/shards/many`, 'GET'), 200, MANY);
  } finally {
    restore();
  }
  assert.equal(await abortedCount(), before, 'the mutant hides the cut answer from the metric the test reads');
  assertCut(await request(`${s.base}/v1/shards/many`, 'GET'), 200, MANY);
  assert.equal(await abortedCount(), String(Number(before) + 1), 'without it, the same answer is counted');
});
