// An S3 PUT of a small object is one durable step that reads nothing from
// the disk (issue 14, "S3 PUT in one durable step"; docs/BENCHMARKS.md,
// "S3 PUT of 4 KiB at 1 in flight").
//
// Strategy: the S3 front over one disk's store on a SimDisk, which counts
// its reads and flushes; the AWS SDK puts objects of a few KiB (stored
// inline in their record) one at a time, and the disk's counters are read
// around each request. The memtable is large enough that no index run is
// written, so every index lookup is answered from memory: any disk read
// during a PUT is a chunk read.
//
// Invariants:
// 1. A PUT of an object that fits in its record costs one flush (record
//    and data are one value: one commit cycle).
// 2. Overwriting it reads nothing from the disk: the record it replaces
//    (read to learn whether data shards are left to collect) is in the
//    buffer cache since its write (TogetherPut.readBack), although it is
//    larger than the engine's write-through bound. Before, every overwrite
//    read that record back from the disk: one more IO round trip per PUT.
// 3. A GET of the object right after its PUT reads nothing from the disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { WRITE_THROUGH_MAX_PAYLOAD_BYTES } from '../src/chunk/index.js';
import { createShardServer, silentLogger } from '../src/server/index.js';
import { formatDiskStore } from '../src/store/index.js';
import { SMALL_CONFIG, formatOptions } from './conformance.js';
import { Rng } from './rng.js';
import { ACCESS_KEY, SECRET_KEY } from './s3_harness.js';
import { SimDisk } from './sim_disk.js';

/** Above the write-through bound, below the inline bound (16 KiB) and one chunk of SMALL_CONFIG. */
const BODY_BYTES = 4096;

void test('an S3 PUT of 4 KiB: one flush, and an overwrite or a GET reads nothing from the disk', async () => {
  assert.ok(BODY_BYTES > WRITE_THROUGH_MAX_PAYLOAD_BYTES, 'the record must be above the write-through bound for this test to mean anything');
  const disk = new SimDisk({ sizeBytes: SMALL_CONFIG.diskSizeBytes, pageSizeBytes: SMALL_CONFIG.pageSizeBytes });
  const store = await formatDiskStore(disk, { ...formatOptions(SMALL_CONFIG, new Rng('s3-put-one-step')), memtableFlushBytes: 1024 * 1024, maxLogBytes: 1024 * 1024 });
  const server = createShardServer(store, { logger: silentLogger, s3: { credentials: new Map([[ACCESS_KEY, SECRET_KEY]]) } });
  const { port } = await server.listen(0, '127.0.0.1');
  const s3 = new S3Client({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, maxAttempts: 1 });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'one-step' }));
    const rng = new Rng('s3-put-one-step/bodies');
    for (let i = 0; i < 6; i++) {
      const body = rng.bytes(BODY_BYTES);
      const before = { ...disk.stats };
      await s3.send(new PutObjectCommand({ Bucket: 'one-step', Key: 'small', Body: body }));
      assert.equal(disk.stats.flushes - before.flushes, 1, `PUT ${i}: one flush`);
      assert.equal(disk.stats.reads - before.reads, 0, `PUT ${i}: ${disk.stats.reads - before.reads} disk reads (the replaced record read back from the disk)`);
      const read = { ...disk.stats };
      const got = await s3.send(new GetObjectCommand({ Bucket: 'one-step', Key: 'small' }));
      assert.deepEqual(Buffer.from(await got.Body?.transformToByteArray() ?? []), body, `GET ${i}`);
      assert.equal(disk.stats.reads - read.reads, 0, `GET ${i}: read from the disk`);
    }
  } finally {
    s3.destroy();
    await server.close();
    await store.close();
  }
});
