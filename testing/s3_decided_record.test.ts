// tier: quick (npm run test:quick; docs/TESTING.md)
// GET and HEAD serve the object record their authorization decided on
// (authorize.ts, Granted.decided; object_ops.ts, decidedFirst): the record
// is read once per request, not once to decide and again to answer, so the
// answer is the object the requester was allowed. Counted on a model store
// that tells how often each key is read; and an overwrite between two GETs
// is seen by the second (nothing is kept across requests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createShardServer, silentLogger } from '../src/server/index.js';
import { objectShardKey } from '../src/server/s3/shard_keys.js';
import { ModelStore } from './model.js';
import { TEST_ACCESS_KEY, TEST_CREDENTIALS, TEST_SECRET_KEY } from './signed_fetch.js';

/** A model store that counts the reads (find and get) of each key. */
class CountingStore extends ModelStore {
  readonly reads = new Map<string, number>();

  override async find(key: Buffer): Promise<Buffer | undefined> {
    this.count(key);
    return super.find(key);
  }

  override async get(key: Buffer): Promise<Buffer> {
    this.count(key);
    return super.get(key);
  }

  readsOf(key: Buffer): number {
    return this.reads.get(key.toString('latin1')) ?? 0;
  }

  private count(key: Buffer): void {
    const k = key.toString('latin1');
    this.reads.set(k, (this.reads.get(k) ?? 0) + 1);
  }
}

void test('GET and HEAD read the object record once, the one authorization decided on; an overwrite is seen by the next GET', async () => {
  const store = new CountingStore();
  const server = createShardServer(store, { logger: silentLogger, s3: { credentials: TEST_CREDENTIALS } });
  const { port } = await server.listen(0, '127.0.0.1');
  const s3 = new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET_KEY },
    maxAttempts: 1,
  });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'decided' }));
    await s3.send(new PutObjectCommand({ Bucket: 'decided', Key: 'k', Body: 'first body' }));
    const recordKey = objectShardKey('decided', Buffer.from('k'));
    store.reads.clear();
    const got = await s3.send(new GetObjectCommand({ Bucket: 'decided', Key: 'k' }));
    assert.equal(await got.Body?.transformToString(), 'first body');
    assert.equal(store.readsOf(recordKey), 1, 'reads of the object record by one GET');
    store.reads.clear();
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'decided', Key: 'k' }));
    assert.equal(head.ContentLength, 'first body'.length);
    assert.equal(store.readsOf(recordKey), 1, 'reads of the object record by one HEAD');
    await s3.send(new PutObjectCommand({ Bucket: 'decided', Key: 'k', Body: 'second, longer body' }));
    const again = await s3.send(new GetObjectCommand({ Bucket: 'decided', Key: 'k' }));
    assert.equal(await again.Body?.transformToString(), 'second, longer body');
  } finally {
    s3.destroy();
    await server.close();
  }
});
