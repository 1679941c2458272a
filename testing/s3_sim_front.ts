// The S3 front over a SimNode, for the tests that cut its power
// (testing/s3_put_crash.test.ts, testing/s3_collect_crash.test.ts): the
// real server on a local port and an SDK client that never retries (a
// request cut by a crash fails, it is not sent again).
import assert from 'node:assert/strict';
import { S3Client } from '@aws-sdk/client-s3';
import { createShardServer, silentLogger } from '../src/server/index.js';
import type { ShardServer } from '../src/server/index.js';
import type { Core } from '../src/server/s3/core.js';
import type { SimNode } from './sim_node.js';
import { TEST_ACCESS_KEY, TEST_CREDENTIALS, TEST_SECRET_KEY } from './signed_fetch.js';

export interface SimFront {
  readonly server: ShardServer;
  readonly s3: S3Client;
  /** The front's shared state (its locks, its collector's work), for tests that wait on it. */
  readonly core: Core;
}

/** Serve the node as it is now. Objects above 1 KiB go to data shards; no sweep at start (the test says when the collector runs). */
export async function serveSim(sim: SimNode): Promise<SimFront> {
  const server = createShardServer(sim.node, { logger: silentLogger, shutdownGraceMs: 500, s3: { credentials: TEST_CREDENTIALS, inlineMaxBytes: 1024, sweepOnStart: false } }, sim.node);
  const { port } = await server.listen(0, '127.0.0.1');
  const s3 = new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET_KEY },
    maxAttempts: 1,
  });
  const core = server.s3?.core;
  assert.ok(core !== undefined, 'the server runs the S3 front');
  return { server, s3, core };
}

export async function stopSim(front: SimFront): Promise<void> {
  front.s3.destroy();
  await front.server.close();
}
