// Raw S3 requests on the wire, for tests that need a request no SDK sends
// (an unimplemented subresource, a header asking for SSE-C, a slow
// client): signed by the AWS SDK's own SigV4 signer (@smithy/signature-v4,
// an implementation independent of the server's) and sent with node:http.
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SourceData } from '@smithy/types';
import { ACCESS_KEY, SECRET_KEY } from './s3_harness.js';

export interface RawRequest {
  readonly method: string;
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer;
}

export interface Answer {
  readonly status: number;
  /** The S3 error code: the body's <Code>, or HEAD's x-amz-error-code header. */
  readonly code: string | undefined;
  readonly body: string;
  readonly etag: string | undefined;
  /** Every header of the answer (lower-case names). */
  readonly headers: http.IncomingHttpHeaders;
}

/** The SDK's SHA-256 interface over node:crypto. */
export class NodeSha256 {
  private hash;
  private readonly secret: Uint8Array | string | undefined;
  constructor(secret?: SourceData) {
    this.secret = secret === undefined || typeof secret === 'string' ? secret : new Uint8Array(ArrayBuffer.isView(secret) ? secret.buffer.slice(secret.byteOffset, secret.byteOffset + secret.byteLength) : secret);
    this.hash = this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret);
  }
  update(data: Uint8Array | string): void {
    this.hash.update(data);
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.hash.digest());
  }
  reset(): void {
    this.hash = this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret);
  }
}

const signer = new SignatureV4({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, region: 'us-east-1', service: 's3', sha256: NodeSha256, uriEscapePath: false, applyChecksum: false });

export function queryString(query: Readonly<Record<string, string>>): string {
  const q = Object.entries(query).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  return q === '' ? '' : `?${q}`;
}

/** Content-MD5 of `body` as a header. */
export function contentMd5(body: string | Buffer): Record<string, string> {
  return { 'content-md5': createHash('md5').update(body).digest('base64') };
}

/** Reused connections (a server that closes one makes the agent open another; idle ones do not keep the process alive). */
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 8 });

/** Send as is (no signature). */
export function sendRaw(port: number, method: string, pathAndQuery: string, headers: Readonly<Record<string, string>>, body: Buffer | undefined): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: pathAndQuery, headers, agent: keepAlive }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        const headerCode = res.headers['x-amz-error-code'];
        resolve({ status: res.statusCode ?? 0, code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? (typeof headerCode === 'string' ? headerCode : undefined), body: text, etag: res.headers.etag, headers: res.headers });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * `r` signed with the SDK's signer (every header given is signed; the
 * payload hash is the body's unless r.headers sets x-amz-content-sha256).
 */
export async function signRequest(port: number, r: RawRequest): Promise<{ pathAndQuery: string; headers: Record<string, string> }> {
  const body = r.body ?? Buffer.alloc(0);
  const headers: Record<string, string> = {
    host: `127.0.0.1:${port}`,
    'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'),
    ...(r.body !== undefined ? { 'content-length': String(body.length) } : {}),
    ...r.headers,
  };
  const signed = await signer.sign({ method: r.method, protocol: 'http:', hostname: '127.0.0.1', port, path: r.path, query: { ...r.query }, headers, body });
  return { pathAndQuery: signed.path + queryString(signed.query as Record<string, string>), headers: signed.headers };
}

/** Sign `r` (signRequest) and send it. */
export async function sendSigned(port: number, r: RawRequest): Promise<Answer> {
  const signed = await signRequest(port, r);
  return sendRaw(port, r.method, signed.pathAndQuery, signed.headers, r.body);
}

/** `METHOD /path?query` for messages. */
export function describe(r: RawRequest): string {
  return `${r.method} ${r.path}${queryString(r.query ?? {})}`;
}
