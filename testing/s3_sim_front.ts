// The S3 front over a SimNode, for the tests that cut its power
// (testing/s3_put_crash.test.ts, testing/s3_collect_crash.test.ts): the
// real server on a local port and an SDK client that never retries (a
// request cut by a crash fails, it is not sent again).
import assert from 'node:assert/strict';
import { S3Client } from '@aws-sdk/client-s3';
import { LEGACY_OWNER_ID, StaticUsers, createShardServer, silentLogger } from '../src/server/index.js';
import type { ShardServer, User } from '../src/server/index.js';
import type { Core } from '../src/server/s3/core.js';
import type { SimNode } from './sim_node.js';
import { TEST_ACCESS_KEY, TEST_CREDENTIALS, TEST_SECRET_KEY } from './signed_fetch.js';

export interface SimFront {
  readonly server: ShardServer;
  readonly s3: S3Client;
  /** The front's shared state (its locks, its collector's work), for tests that wait on it. */
  readonly core: Core;
  /** A client of one of the users the front was served with (never retrying, as `s3`); one per user, destroyed by stopSim. */
  readonly clientOf: (user: User) => S3Client;
  readonly clients: ReadonlyMap<string, S3Client>;
}

/**
 * Serve the node as it is now. Objects above 1 KiB go to data shards; no
 * sweep at start (the test says when the collector runs). `users`: users
 * beside the node's owner (whose keys `s3` signs with).
 */
export async function serveSim(sim: SimNode, users: readonly User[] = []): Promise<SimFront> {
  const owner: User = { id: LEGACY_OWNER_ID, displayName: 'owner', accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET_KEY };
  const access = users.length === 0 ? { credentials: TEST_CREDENTIALS } : { credentials: TEST_CREDENTIALS, users: new StaticUsers([owner, ...users]) };
  const server = createShardServer(sim.node, { logger: silentLogger, shutdownGraceMs: 500, s3: { ...access, inlineMaxBytes: 1024, sweepOnStart: false } }, sim.node);
  const { port } = await server.listen(0, '127.0.0.1');
  const clients = new Map<string, S3Client>();
  const clientOf = (user: User): S3Client => {
    const made =
      clients.get(user.accessKeyId) ??
      new S3Client({
        endpoint: `http://127.0.0.1:${port}`,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey },
        maxAttempts: 1,
      });
    clients.set(user.accessKeyId, made);
    return made;
  };
  const core = server.s3?.core;
  assert.ok(core !== undefined, 'the server runs the S3 front');
  return { server, s3: clientOf(owner), core, clientOf, clients };
}

export async function stopSim(front: SimFront): Promise<void> {
  for (const client of front.clients.values()) client.destroy();
  await front.server.close();
}
