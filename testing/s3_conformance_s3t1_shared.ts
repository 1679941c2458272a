// What the two s3t1 conformance files share (testing/s3_conformance_s3t1*.test.ts):
// one node over the real store for the file, a fresh bucket per check, the
// listing fields as plain arrays, and a raw socket for requests no client
// library will send (a control character in a header, a bad Content-Length).
import net from 'node:net';
import { after, before } from 'node:test';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { ListObjectsCommandOutput, ListObjectsV2CommandOutput, S3Client } from '@aws-sdk/client-s3';
import type { S3Node } from './s3_harness.js';
import { startS3Node } from './s3_harness.js';

export interface ConformanceNode {
  readonly node: () => S3Node;
  readonly s3: () => S3Client;
  /** A new bucket holding `keys`, each object's body its own key. */
  readonly bucketWith: (keys: readonly string[]) => Promise<string>;
}

/** Registers the file's before/after hooks: a node started once, stopped at the end. */
export function conformanceNode(bucketPrefix: string): ConformanceNode {
  let node: S3Node | undefined;
  let s3: S3Client | undefined;
  let count = 0;
  before(async () => {
    node = await startS3Node();
    s3 = node.client();
  });
  after(async () => {
    await node?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the node is not started');
    return value;
  };
  return {
    node: () => started(node),
    s3: () => started(s3),
    bucketWith: async (keys) => {
      count += 1;
      const bucket = `${bucketPrefix}-${count}`;
      const client = started(s3);
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      for (const key of keys) await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
      return bucket;
    },
  };
}

export const keysOf = (out: ListObjectsCommandOutput | ListObjectsV2CommandOutput): string[] => (out.Contents ?? []).map((c) => c.Key ?? '');
export const prefixesOf = (out: ListObjectsCommandOutput | ListObjectsV2CommandOutput): string[] => (out.CommonPrefixes ?? []).map((c) => c.Prefix ?? '');

/** Send `head` (request line and headers, CRLF-separated) and `body` on a fresh socket to `port`; the status of the answer. */
export function rawStatus(port: number, head: string, body = ''): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(`${head}\r\n\r\n${body}`));
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)));
  });
}
