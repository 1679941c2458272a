// What one lifecycle pass costs on the real store: a node of two disks on
// a temporary folder, `--objects` objects (inline, 100 bytes) in one bucket
// under a rule that expires `--expire-percent` of them (a prefix), then one
// pass (src/server/s3/lifecycle_pass.ts) as of ten days later, timed. The
// pass reads every object record of the bucket and deletes the due ones
// one durable step each, so its time is (records read) + (deletes waited
// for); prints both counts, the time, and objects per second.
//
//   node --import tsx bench/lifecycle_probe.ts [--objects 5000] [--expire-percent 10]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ShardNode } from '../src/node/index.js';
import { silentLogger } from '../src/server/index.js';
import { createBucket } from '../src/server/s3/buckets.js';
import { mapLimit } from '../src/server/s3/core.js';
import { setLifecycle } from '../src/server/s3/lifecycle_ops.js';
import { commitObject } from '../src/server/s3/objects.js';
import { S3Front } from '../src/server/s3/s3_front.js';

const { values } = parseArgs({ options: { objects: { type: 'string', default: '5000' }, 'expire-percent': { type: 'string', default: '10' } } });
const objects = Number(values.objects);
const expirePercent = Number(values['expire-percent']);
const DAY_MS = 86_400_000;
const MiB = 1024 * 1024;

const dataDir = mkdtempSync(join(tmpdir(), 'shardstore-lifecycle-probe-'));
const api = await ShardNode.openOrCreate({ dataDir, disks: 2, diskSizeBytes: 512 * MiB, extentSizeBytes: 8 * MiB });
try {
  const front = new S3Front(api, { credentials: new Map(), sweepOnStart: false, lifecycleIntervalMs: 0 }, silentLogger);
  await createBucket(front.core, 'probe', { existingIsError: false }, () => Promise.resolve());
  const filter = { form: 'prefix' as const, prefix: 'old/', tags: [], sizeGreaterThan: undefined, sizeLessThan: undefined };
  await setLifecycle(front.core, 'probe', [{ id: 'old', enabled: true, filter, expiration: { kind: 'days', days: 1 }, noncurrent: undefined, abortAfterDays: undefined }]);
  const nowMs = Date.now();
  const keys = Array.from({ length: objects }, (_, i) => `${(i * 100) / objects < expirePercent ? 'old' : 'new'}/${String(i).padStart(8, '0')}`);
  const loadStarted = performance.now();
  await mapLimit(keys, 32, (key) =>
    commitObject(front.core, 'probe', Buffer.from(key), { sizeBytes: 100, mtimeMs: nowMs, etag: 'e', contentType: '', headers: [], parts: [], inline: Buffer.alloc(100, 1), tags: [], uploadId: undefined }),
  );
  const loadMs = performance.now() - loadStarted;
  await front.collector.idle();
  const started = performance.now();
  const report = await front.lifecycle.run(nowMs + 10 * DAY_MS);
  const passMs = performance.now() - started;
  await front.close();
  console.log(JSON.stringify({ objects, expired: report.expired, loadMs: Math.round(loadMs), passMs: Math.round(passMs), objectsPerSecond: Math.round(objects / (passMs / 1000)), msPerExpiry: report.expired === 0 ? 0 : Number((passMs / report.expired).toFixed(2)) }));
} finally {
  await api.close();
  rmSync(dataDir, { recursive: true, force: true });
}
