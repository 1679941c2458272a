// What the tests of damaged data and of the reserved key range share
// (testing/http_damage.test.ts, testing/http_namespace.test.ts): a real
// node on files (two disks of 32 MiB, 1 MiB extents, so values of more than
// 256 KiB span several chunks) served with the native API, the control plane
// and the S3 front, a logger that keeps its records, the chunks of a value
// (where each lies in which data file), a byte flipper for the files, and an
// HTTP client that reports an answer cut short instead of hiding it.
import assert from 'node:assert/strict';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import http from 'node:http';
import type { OutgoingHttpHeaders } from 'node:http';
import { HeaderSigner } from '../src/cli/bench_sigv4.js';
import type { Logger, LogFields, LogLevel, ShardServer } from '../src/server/index.js';
import { createShardServer } from '../src/server/index.js';
import { ShardNode } from '../src/node/index.js';
import { signedHeaders, testSigner } from './signed_fetch.js';

export const MIB = 1024 * 1024;
export const ACCESS_KEY = 'DAMAGETESTACCESSKEY1';
export const SECRET_KEY = 'damage/test/secret+0123456789abcdefghijk';

export interface LogRecord {
  readonly level: LogLevel;
  readonly msg: string;
  readonly fields: LogFields;
}

export class CapturingLogger implements Logger {
  readonly records: LogRecord[] = [];

  log(level: LogLevel, msg: string, fields: LogFields = {}): void {
    this.records.push({ level, msg, fields });
  }

  /** The request log records of `path`. */
  requests(path: string): LogFields[] {
    return this.records.filter((r) => r.msg === 'request' && r.fields['path'] === path).map((r) => r.fields);
  }
}

export interface Served {
  readonly node: ShardNode;
  readonly server: ShardServer;
  readonly base: string;
  readonly host: string;
  readonly logger: CapturingLogger;
  /** SigV4 headers of an S3 request (path encoded as SigV4's UriEncode, '/' kept). */
  signed(method: string, path: string, contentLength?: number): OutgoingHttpHeaders;
  stop(): Promise<void>;
}

/** Open (or create) the node in `dataDir` and serve it: native API, control plane, S3 (no startup sweep). */
export async function serve(dataDir: string): Promise<Served> {
  const node = await ShardNode.openOrCreate({ dataDir, disks: 2, diskSizeBytes: 32 * MIB, extentSizeBytes: MIB });
  const logger = new CapturingLogger();
  const server = createShardServer(
    node,
    { logger, shutdownGraceMs: 2_000, s3: { credentials: new Map([[ACCESS_KEY, SECRET_KEY]]), sweepOnStart: false } },
    node,
  );
  const { port } = await server.listen(0, '127.0.0.1');
  const host = `127.0.0.1:${port}`;
  const signer = new HeaderSigner({ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, host, 'us-east-1');
  return {
    node,
    server,
    base: `http://${host}`,
    host,
    logger,
    signed: (method, path, contentLength) => signer.sign(method, path, contentLength),
    async stop(): Promise<void> {
      await server.close();
      await node.close();
    },
  };
}

export interface ChunkPlace {
  readonly path: string;
  /** File offset of the middle of the chunk (inside its payload). */
  readonly offset: number;
}

/** Where each chunk of `key`'s value lies, in order. */
export async function chunksOf(node: ShardNode, key: Buffer): Promise<ChunkPlace[]> {
  const disk = node.diskOf(key);
  const store = node.store(disk);
  const path = node.disks()[disk]?.path;
  assert.ok(store !== undefined && path !== undefined, `disk ${disk} is in service and has a file`);
  const value = await store.parts.index.lookup(key);
  assert.ok(value !== undefined && value !== null, `${key.toString('hex')} has a value`);
  return value.chunks.map((loc) => ({ path, offset: store.parts.extents.diskOffset(loc.extent, loc.offset + Math.floor(loc.length / 2)) }));
}

/** Flip one byte of a data file (the node must be closed). */
export function flipByte(place: ChunkPlace): void {
  const fd = openSync(place.path, 'r+');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, place.offset);
    b[0] = (b[0] ?? 0) ^ 0x5a;
    writeSync(fd, b, 0, 1, place.offset);
  } finally {
    closeSync(fd);
  }
}

/** An answer as a client saw it: `cut` if the connection ended before the body did. */
export interface Seen {
  /** Undefined if no status line arrived at all. */
  readonly status: number | undefined;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  /** The body ended early (short of Content-Length, or no final chunk): node's client reported an error. */
  readonly cut: boolean;
  readonly error: string | undefined;
}

/**
 * One request with node's http client, without retries; resolves however the answer ends.
 * A request to the node's own signed APIs (/v1/) goes signed with the harness key pair unless it carries a signature.
 */
export async function request(url: string, method: string, headers: OutgoingHttpHeaders = {}, body?: Buffer): Promise<Seen> {
  const own = new URL(url).pathname.startsWith('/v1/') && headers['authorization'] === undefined;
  const sent = own ? { ...(await signedHeaders(method, url, {}, testSigner({ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }))), ...headers } : headers;
  return new Promise((resolve) => {
    const req = http.request(url, { method, headers: sent, agent: false });
    req.on('error', (err) => resolve({ status: undefined, headers: {}, body: Buffer.alloc(0), cut: true, error: err.message }));
    req.on('response', (res) => {
      const pieces: Buffer[] = [];
      let error: string | undefined;
      res.on('data', (piece: Buffer) => pieces.push(piece));
      res.on('error', (err) => (error = err.message));
      res.on('close', () => {
        const cut = !res.complete || error !== undefined;
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(pieces), cut, error });
      });
    });
    req.end(body);
  });
}

/** The JSON error code of a native error answer. */
export function jsonCode(seen: Seen): string {
  const parsed = JSON.parse(seen.body.toString('utf8')) as { error?: { code?: string } };
  return parsed.error?.code ?? '';
}

/** The <Code> of an S3 error document. */
export function xmlCode(seen: Seen): string {
  return /<Code>([^<]*)<\/Code>/.exec(seen.body.toString('utf8'))?.[1] ?? '';
}

/** Deterministic bytes: `sizeBytes` of a pattern seeded by `seed`. */
export function pattern(seed: number, sizeBytes: number): Buffer {
  const out = Buffer.alloc(sizeBytes);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < sizeBytes; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
