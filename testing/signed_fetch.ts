// The one signing client of the tests: requests to the node's own APIs (the
// native shard API, the control plane, /metrics with metricsAuth) signed with
// AWS Signature Version 4 by the AWS SDK's signer (@smithy/signature-v4),
// an implementation independent of the server's verifier.
//
// signedFetch is a drop-in for global fetch; signedHeaders gives the headers
// for node:http requests. The body is never hashed (UNSIGNED-PAYLOAD) unless
// the caller sets x-amz-content-sha256 itself, so streamed bodies work. A
// body goes as application/octet-stream unless the caller names a type
// (fetch's default for a string, text/plain, is one the node refuses from
// browsers: src/server/browser_guard.ts).
import { createHash, createHmac } from 'node:crypto';
import type { Hash, Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { decodePercent } from '../src/server/key_codec.js';
import { uriEncode } from '../src/server/s3/sigv4.js';

export const TEST_ACCESS_KEY = 'SSTESTACCESSKEY00001';
export const TEST_SECRET_KEY = 'test/secret/key+0123456789abcdefghijklmno';
/** The key pairs a test server is given (ShardServerOptions.credentials). */
export const TEST_CREDENTIALS: ReadonlyMap<string, string> = new Map([[TEST_ACCESS_KEY, TEST_SECRET_KEY]]);

type SourceData = string | ArrayBuffer | ArrayBufferView;

/** SHA-256, or HMAC-SHA-256 with a secret: the Checksum smithy's signer asks for, on node:crypto. */
export class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = NodeSha256.fresh(secret);
  }
  private static fresh(secret: SourceData | undefined): Hash | Hmac {
    return secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.hash.digest());
  }
  reset(): void {
    this.hash = NodeSha256.fresh(this.secret);
  }
}

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** applyChecksum false: no x-amz-content-sha256 header, the body's hash is signed (as curl --aws-sigv4 does). */
export function testSigner(
  keys: { accessKeyId: string; secretAccessKey: string } = { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET_KEY },
  options: { applyChecksum?: boolean } = {},
): SignatureV4 {
  // uriEscapePath false: S3's rule (the path encoded once), which the node's verifier follows for every API.
  return new SignatureV4({ service: 's3', region: 'us-east-1', credentials: keys, sha256: NodeSha256, uriEscapePath: false, ...options });
}

export type SmithyRequest = Parameters<SignatureV4['sign']>[0];

/** The request smithy signs for `url`: path in the spec's encoding, query decoded (smithy encodes it again). */
export function smithyRequest(method: string, url: URL, headers: Record<string, string>): SmithyRequest {
  const query: Record<string, string | string[]> = {};
  for (const part of url.search.slice(1).split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decodedOrRaw(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? '' : decodedOrRaw(part.slice(eq + 1));
    const had = query[name];
    query[name] = had === undefined ? value : [...(Array.isArray(had) ? had : [had]), value];
  }
  return {
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port === '' ? {} : { port: Number(url.port) }),
    path: canonicalPath(url.pathname),
    query,
    headers: { host: url.host, ...headers },
  };
}

/** A path with a malformed escape is signed as it is (the server refuses it: what such tests check). */
function canonicalPath(path: string): string {
  const bytes = bytesOrUndefined(path);
  return bytes === undefined ? path : uriEncode(bytes, false);
}

function decodedOrRaw(text: string): string {
  return bytesOrUndefined(text)?.toString('utf8') ?? text;
}

function bytesOrUndefined(text: string): Buffer | undefined {
  try {
    return decodePercent(text);
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    return undefined; // malformed escape
  }
}

/** Headers (Host included) that sign `method url` with `extra` headers. */
export async function signedHeaders(method: string, url: string, extra: Record<string, string> = {}, signer: SignatureV4 = testSigner()): Promise<Record<string, string>> {
  const headers = { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...extra };
  const signed = await signer.sign(smithyRequest(method, new URL(url), headers));
  return Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k, String(v)]));
}

/** fetch, signed with the test key pair. */
export async function signedFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const method = init.method ?? 'GET';
  const extra = Object.fromEntries(new Headers(init.headers).entries());
  if (init.body !== undefined && init.body !== null) extra['content-type'] ??= 'application/octet-stream';
  const headers = await signedHeaders(method, url, extra);
  delete headers['host']; // fetch sends the URL's host, which is what was signed
  return fetch(url, { ...init, headers });
}
