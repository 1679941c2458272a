// What the S3 tests share: a node on a temporary folder (the real store,
// two disks, so records and data land on different disks and the ordering
// rules are exercised) served with the S3 front; SDK clients for it; and
// deterministic data that is generated and hashed as it streams, so a
// 100 MiB object is never held whole.
import { createCipheriv, createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { S3Client } from '@aws-sdk/client-s3';
import type { ShardServer } from '../src/server/index.js';
import { createShardServer, silentLogger } from '../src/server/index.js';
import type { S3Options } from '../src/server/s3/index.js';
import { ShardNode } from '../src/node/index.js';
import type { ShardApi } from '../src/store/types.js';
import { TEST_ACCESS_KEY as ACCESS_KEY, TEST_SECRET_KEY as SECRET_KEY } from './signed_fetch.js';

export { TEST_ACCESS_KEY as ACCESS_KEY, TEST_SECRET_KEY as SECRET_KEY } from './signed_fetch.js';
export const MiB = 1024 * 1024;

export interface S3Node {
  readonly endpoint: string;
  readonly port: number;
  readonly api: ShardApi;
  readonly server: ShardServer;
  readonly dataDir: string;
  /** An SDK client; `checksums` sets its requestChecksumCalculation and responseChecksumValidation (default: the SDK's, WHEN_SUPPORTED). */
  client(overrides?: { secretAccessKey?: string; accessKeyId?: string; checksums?: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED' }): S3Client;
  /** Wait for background collection to finish (tests of garbage). */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

export interface S3NodeOptions {
  readonly diskSizeBytes?: number;
  readonly s3?: Partial<S3Options>;
  /** Serve this API instead of a fresh node (e.g. reopen a data folder). */
  readonly dataDir?: string;
}

export async function startS3Node(options: S3NodeOptions = {}): Promise<S3Node> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'shardstore-s3-'));
  const api = await ShardNode.openOrCreate({ dataDir, disks: 2, diskSizeBytes: options.diskSizeBytes ?? 512 * MiB, extentSizeBytes: 8 * MiB });
  const server = createShardServer(api, {
    logger: silentLogger,
    shutdownGraceMs: 2_000,
    s3: { credentials: new Map([[ACCESS_KEY, SECRET_KEY]]), ...options.s3 },
  });
  const { port } = await server.listen(0, '127.0.0.1');
  const endpoint = `http://127.0.0.1:${port}`;
  const clients: S3Client[] = [];
  return {
    endpoint,
    port,
    api,
    server,
    dataDir,
    client(overrides = {}): S3Client {
      const c = new S3Client({
        endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: overrides.accessKeyId ?? ACCESS_KEY, secretAccessKey: overrides.secretAccessKey ?? SECRET_KEY },
        maxAttempts: 1,
        ...(overrides.checksums === undefined ? {} : { requestChecksumCalculation: overrides.checksums, responseChecksumValidation: overrides.checksums }),
      });
      clients.push(c);
      return c;
    },
    async settle(): Promise<void> {
      await server.s3?.collector.idle();
    },
    async stop(): Promise<void> {
      for (const c of clients) c.destroy();
      await server.close();
      await api.close();
      if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * `sizeBytes` of deterministic bytes for `seed`: AES-256-CTR keystream
 * (fast, and any range can be recomputed from its offset), yielded in
 * pieces of `pieceBytes`.
 */
export function* deterministicBytes(seed: string, sizeBytes: number, pieceBytes = MiB): Generator<Buffer> {
  for (let at = 0; at < sizeBytes; at += pieceBytes) yield deterministicRange(seed, at, Math.min(sizeBytes, at + pieceBytes));
}

/** Bytes [start, end) of the stream of `seed`. */
export function deterministicRange(seed: string, start: number, end: number): Buffer {
  const block = Math.floor(start / 16);
  const iv = Buffer.alloc(16);
  iv.writeUIntBE(block, 10, 6);
  const cipher = createCipheriv('aes-256-ctr', createHash('sha256').update(seed).digest(), iv);
  const skip = start - block * 16;
  return cipher.update(Buffer.alloc(end - start + skip)).subarray(skip);
}

export function deterministicStream(seed: string, sizeBytes: number): Readable {
  return Readable.from(deterministicBytes(seed, sizeBytes), { objectMode: false });
}

export function md5Of(seed: string, sizeBytes: number): string {
  const hash = createHash('md5');
  for (const piece of deterministicBytes(seed, sizeBytes)) hash.update(piece);
  return hash.digest('hex');
}

/** MD5 and length of a streamed body, consumed piece by piece. */
export async function md5OfStream(body: AsyncIterable<Uint8Array>): Promise<{ md5: string; bytes: number }> {
  const hash = createHash('md5');
  let bytes = 0;
  for await (const piece of body) {
    hash.update(piece);
    bytes += piece.length;
  }
  return { md5: hash.digest('hex'), bytes };
}

/** The S3 error name (Code) of a rejected SDK call; the status when the answer had no code (304). */
export async function s3ErrorName(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    const status = '$metadata' in err ? (err.$metadata as { httpStatusCode?: number }).httpStatusCode : undefined;
    return err.name === 'Unknown' && status !== undefined ? String(status) : err.name;
  }
  return 'no error';
}

/** The HTTP status and S3 code (error name) of a call that must fail; [200, 'no error'] if it did not. */
export async function s3Refusal(call: Promise<unknown>): Promise<[number | undefined, string]> {
  try {
    await call;
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    const status = '$metadata' in err ? (err.$metadata as { httpStatusCode?: number }).httpStatusCode : undefined;
    return [status, err.name];
  }
  return [200, 'no error'];
}
