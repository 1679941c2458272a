// Tags survive a crash of the real process: `shardstore serve` (the bin,
// from source) is killed with SIGKILL while tagging calls are in flight,
// restarted on the same data directory, and checked against what the
// clients were told.
//
// Strategy: an object and a bucket are retagged over and over, each call
// setting the tag `n` to the next number, one call in flight per target;
// after a number of acknowledged calls drawn from the seed the process is
// killed (the kill lands while the next calls are in flight). Two rounds.
//
// Invariants, after each restart, for the object and the bucket:
//   1. the tag set is the one of the last acknowledged call, or of the call
//      in flight at the kill (a tagging answer is sent only once durable);
//   2. never a mix: the set is whole, one tag `n` with a number;
//   3. the object's bytes are untouched by its retagging.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CreateBucketCommand, GetBucketTaggingCommand, GetObjectCommand, GetObjectTaggingCommand, PutBucketTaggingCommand, PutObjectCommand, PutObjectTaggingCommand, S3Client } from '@aws-sdk/client-s3';
import type { Tag } from '@aws-sdk/client-s3';
import { Rng } from './rng.js';
import type { Running } from './serve_process.js';
import { startServe } from './serve_process.js';
import { TEST_ACCESS_KEY, TEST_SECRET_KEY } from './signed_fetch.js';

const SEED = 20261205;
const ROUNDS = 2;
const KILL_AFTER_ACKS = { min: 10, max: 40 };
const BODY = 'the tagged object';

function client(url: string): S3Client {
  return new S3Client({ endpoint: url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET_KEY }, maxAttempts: 1 });
}

/** What one target (object or bucket) was told, and what it may hold after the kill. */
interface Book {
  acked: number;
  inFlight: number | undefined;
}

function tagNumber(tags: readonly Tag[] | undefined, what: string): number {
  assert.equal(tags?.length, 1, `${what}: one whole tag set, got ${JSON.stringify(tags)}`);
  const tag = tags?.[0];
  assert.equal(tag?.Key, 'n', what);
  return Number(tag?.Value);
}

/** Retag one target until killed; resolves when a call fails (the kill). */
async function retagUntilKilled(book: Book, put: (n: number) => Promise<unknown>, onAck: () => void): Promise<void> {
  for (;;) {
    const n = book.acked + 1;
    book.inFlight = n;
    try {
      await put(n);
    } catch {
      return; // The kill: this call's outcome is unknown.
    }
    book.acked = n;
    book.inFlight = undefined;
    onAck();
  }
}

void test('tags acknowledged before a SIGKILL are there after the restart; one in flight is all or nothing', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'shardstore-tagcrash-'));
  const rng = new Rng(SEED);
  const object: Book = { acked: 0, inFlight: undefined };
  const bucket: Book = { acked: 0, inFlight: undefined };
  let node: Running | undefined;
  try {
    node = await startServe(dataDir, ['--disk-size', '64MiB', '--extent-size', '1MiB']);
    const setup = client(node.url);
    await setup.send(new CreateBucketCommand({ Bucket: 'crash' }));
    await setup.send(new PutObjectCommand({ Bucket: 'crash', Key: 'obj', Body: BODY, Tagging: 'n=0' }));
    await setup.send(new PutBucketTaggingCommand({ Bucket: 'crash', Tagging: { TagSet: [{ Key: 'n', Value: '0' }] } }));
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
      const tags = (n: number): { TagSet: Tag[] } => ({ TagSet: [{ Key: 'n', Value: String(n) }] });
      await Promise.all([
        retagUntilKilled(object, (n) => s3.send(new PutObjectTaggingCommand({ Bucket: 'crash', Key: 'obj', Tagging: tags(n) })), onAck),
        retagUntilKilled(bucket, (n) => s3.send(new PutBucketTaggingCommand({ Bucket: 'crash', Tagging: tags(n) })), onAck),
      ]);
      if (!killed) {
        running.child.kill('SIGKILL');
        assert.fail(`a tagging call failed while the node was up; stderr: ${running.stderr()}`);
      }
      await node.exited;
      s3.destroy();
      node = await startServe(dataDir, ['--disk-size', '64MiB', '--extent-size', '1MiB']);
      const after = client(node.url);
      for (const [what, book, read] of [
        ['object', object, async () => (await after.send(new GetObjectTaggingCommand({ Bucket: 'crash', Key: 'obj' }))).TagSet],
        ['bucket', bucket, async () => (await after.send(new GetBucketTaggingCommand({ Bucket: 'crash' }))).TagSet],
      ] as const) {
        const n = tagNumber(await read(), what);
        const allowed = [book.acked, ...(book.inFlight === undefined ? [] : [book.inFlight])];
        assert.ok(allowed.includes(n), `round ${round}: ${what} holds n=${n}, acknowledged ${book.acked}, in flight ${String(book.inFlight)}`);
        book.acked = n;
        book.inFlight = undefined;
      }
      assert.equal(await (await after.send(new GetObjectCommand({ Bucket: 'crash', Key: 'obj' }))).Body?.transformToString(), BODY);
      after.destroy();
    }
  } finally {
    node?.child.kill('SIGTERM');
    await node?.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
});
