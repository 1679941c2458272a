// Versioned overwrites survive a crash of the real process: `shardstore
// serve` (the bin, from source) is killed with SIGKILL while versioned PUTs
// and DELETEs are in flight, restarted on the same data directory, and
// checked against what the clients were told.
//
// Strategy: a bucket with versioning Enabled; two keys, each overwritten
// over and over by one client (one call in flight per key), every fifth
// call a DELETE (a delete marker); after a number of acknowledged calls
// drawn from the seed the process is killed (the kill lands while the next
// calls are in flight). Two rounds; the second continues on the versions
// the first left.
//
// Invariants, after each restart, for each key:
//   1. no acknowledged version is lost: each reads back by its id with its
//      bytes (a delete marker by its id is 405);
//   2. the newest version is the last acknowledged call's, or the call in
//      flight at the kill (never an older one: an interrupted overwrite
//      leaves the old state or the new);
//   3. ListObjectVersions lists each version once, newest first: the
//      acknowledged ones, and at most the one in flight.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, ListObjectVersionsCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Rng } from './rng.js';
import { s3ErrorName } from './s3_harness.js';
import type { Running } from './serve_process.js';
import { startServe } from './serve_process.js';
import { TEST_ACCESS_KEY, TEST_SECRET_KEY } from './signed_fetch.js';

const SEED = 20261206;
const ROUNDS = 2;
const KILL_AFTER_ACKS = { min: 10, max: 40 };
const KEYS = ['doc', 'log'] as const;
const BUCKET = 'vcrash';
const SERVE_ARGS = ['--disk-size', '64MiB', '--extent-size', '1MiB'];

function client(url: string): S3Client {
  return new S3Client({ endpoint: url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET_KEY }, maxAttempts: 1 });
}

/** One version as the client was told: its id and its body ('marker' for a delete marker). */
interface Told {
  readonly id: string;
  readonly body: string;
}

/** What one key's writer was told, and the call in flight at the kill. */
interface Book {
  readonly acked: Told[];
  calls: number;
  /** The body of the call in flight (its id is unknown until it is listed). */
  inFlight: string | undefined;
}

/** Call `n` of a key: every fifth a DELETE, the others a PUT of a body naming the call. */
async function write(s3: S3Client, key: string, n: number): Promise<Told> {
  if (n % 5 === 4) {
    const out = await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    assert.equal(out.DeleteMarker, true);
    return { id: out.VersionId ?? '', body: 'marker' };
  }
  const body = `${key} call ${n}`;
  const out = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  return { id: out.VersionId ?? '', body };
}

function bodyOfCall(key: string, n: number): string {
  return n % 5 === 4 ? 'marker' : `${key} call ${n}`;
}

async function writeUntilKilled(s3: S3Client, key: string, book: Book, onAck: () => void): Promise<void> {
  for (;;) {
    const n = book.calls;
    book.inFlight = bodyOfCall(key, n);
    let told: Told;
    try {
      told = await write(s3, key, n);
    } catch {
      return; // The kill: this call's outcome is unknown.
    }
    book.acked.push(told);
    book.calls = n + 1;
    book.inFlight = undefined;
    onAck();
  }
}

/** The key's versions as listed, newest first: id and body ('marker' for delete markers). */
async function listed(s3: S3Client, key: string): Promise<Told[]> {
  const out = await s3.send(new ListObjectVersionsCommand({ Bucket: BUCKET, Prefix: key }));
  assert.notEqual(out.IsTruncated, true);
  const rows = [
    ...(out.Versions ?? []).map((v) => ({ id: v.VersionId ?? '', marker: false, latest: v.IsLatest === true })),
    ...(out.DeleteMarkers ?? []).map((m) => ({ id: m.VersionId ?? '', marker: true, latest: m.IsLatest === true })),
  ].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  assert.deepEqual(rows.map((r) => r.latest), rows.map((_, i) => i === 0), `${key}: the newest version, and only it, is the latest`);
  const told: Told[] = [];
  for (const r of rows) told.push({ id: r.id, body: r.marker ? 'marker' : await bodyOf(s3, key, r.id) });
  return told;
}

async function bodyOf(s3: S3Client, key: string, id: string): Promise<string> {
  const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, VersionId: id }));
  return (await out.Body?.transformToString()) ?? '';
}

/** Invariants 1-3 for one key; the book then holds what the store holds (the call in flight settled). */
async function checkKey(s3: S3Client, key: string, book: Book, round: number): Promise<void> {
  const versions = await listed(s3, key);
  const acked = [...book.acked].reverse();
  const what = `round ${round}, ${key}`;
  assert.equal(new Set(versions.map((v) => v.id)).size, versions.length, `${what}: a version listed twice`);
  const extra = versions.length - acked.length;
  assert.ok(extra === 0 || (extra === 1 && book.inFlight !== undefined), `${what}: ${versions.length} versions listed, ${acked.length} acknowledged, in flight ${String(book.inFlight)}`);
  if (extra === 1) assert.equal(versions[0]?.body, book.inFlight, `${what}: the extra version is not the call in flight`);
  assert.deepEqual(versions.slice(extra), acked, `${what}: the acknowledged versions, newest first`);
  for (const v of acked) {
    if (v.body === 'marker') assert.equal(await s3ErrorName(bodyOf(s3, key, v.id)), 'MethodNotAllowed', `${what}: marker ${v.id}`);
  }
  const newest = versions[0];
  const current = await s3ErrorName(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key })));
  assert.equal(current, newest === undefined || newest.body === 'marker' ? 'NoSuchKey' : 'no error', `${what}: GET without a version id`);
  if (extra === 1 && newest !== undefined) {
    book.acked.push(newest);
    book.calls++;
  }
  book.inFlight = undefined;
}

void test('versioned overwrites and deletes acknowledged before a SIGKILL keep every version; one in flight is all or nothing', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'shardstore-vercrash-'));
  const rng = new Rng(SEED);
  const books = new Map<string, Book>(KEYS.map((k) => [k, { acked: [], calls: 0, inFlight: undefined }]));
  let node: Running | undefined;
  try {
    node = await startServe(dataDir, SERVE_ARGS);
    const setup = client(node.url);
    await setup.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await setup.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
    setup.destroy();
    for (let round = 0; round < ROUNDS; round++) {
      const s3 = client(node.url);
      const killAfter = rng.int(KILL_AFTER_ACKS.min, KILL_AFTER_ACKS.max);
      let acks = 0;
      let killed = false;
      const running: Running = node;
      const onAck = (): void => {
        if (++acks !== killAfter) return;
        killed = true;
        running.child.kill('SIGKILL');
      };
      await Promise.all(KEYS.map((k) => writeUntilKilled(s3, k, books.get(k) ?? assert.fail(k), onAck)));
      if (!killed) {
        running.child.kill('SIGKILL');
        assert.fail(`a versioned call failed while the node was up; stderr: ${running.stderr()}`);
      }
      await node.exited;
      s3.destroy();
      node = await startServe(dataDir, SERVE_ARGS);
      const after = client(node.url);
      for (const k of KEYS) await checkKey(after, k, books.get(k) ?? assert.fail(k), round);
      after.destroy();
    }
  } finally {
    node?.child.kill('SIGTERM');
    await node?.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
});
