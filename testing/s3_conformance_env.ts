// What the conformance test files (s3_conformance_*.test.ts) share: one
// node for the file, started before its tests and stopped after them, and
// a fresh bucket per test.
import { after, before } from 'node:test';
import { CreateBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3Node, S3NodeOptions } from './s3_harness.js';
import { startS3Node } from './s3_harness.js';

export interface ConformanceEnv {
  readonly node: S3Node;
  /** The node owner's client. */
  readonly s3: S3Client;
  /** A new bucket of the owner's, named `${prefix}-${n}`. */
  readonly bucket: () => Promise<string>;
  /** The whole body of an object. */
  readonly read: (bucket: string, key: string) => Promise<Buffer>;
}

/** Register before/after hooks for one node; its parts are usable inside tests. */
export function conformanceEnv(prefix: string, options: () => S3NodeOptions | Promise<S3NodeOptions> = () => ({})): ConformanceEnv {
  let node: S3Node | undefined;
  let client: S3Client | undefined;
  let buckets = 0;
  before(async () => {
    node = await startS3Node(await options());
    client = node.client();
  });
  after(async () => {
    await node?.stop();
  });
  const env: ConformanceEnv = {
    get node(): S3Node {
      if (node === undefined) throw new Error('the node is used before it started');
      return node;
    },
    get s3(): S3Client {
      if (client === undefined) throw new Error('the client is used before the node started');
      return client;
    },
    bucket: async (): Promise<string> => {
      buckets += 1;
      const name = `${prefix}-${buckets}`;
      await env.s3.send(new CreateBucketCommand({ Bucket: name }));
      return name;
    },
    read: async (bucket: string, key: string): Promise<Buffer> => {
      const out = await env.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from((await out.Body?.transformToByteArray()) ?? []);
    },
  };
  return env;
}
