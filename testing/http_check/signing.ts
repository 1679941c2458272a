// Requests of the HTTP check and how they are signed: by the AWS SDK's own
// SigV4 signer (@smithy/signature-v4), an implementation independent of
// the server's verifier, at the check's virtual time. The native API and
// the control plane are signed the same way (service s3, the node's key
// pair): that is the scheme issue 12 asks them to require.
import { createHash } from 'node:crypto';
import type { SmithyRequest } from '../signed_fetch.js';
import { testSigner } from '../signed_fetch.js';
import { authorizationV2, signatureV2, stringToSignV2 } from '../sigv2_signer.js';

export const CHECK_ACCESS_KEY = 'SSHTTPCHECKACCESS001';
export const CHECK_SECRET_KEY = 'http/check/secret+0123456789abcdefghijklmn';
export const CHECK_REGION = 'us-east-1';
/** The Host every well-formed request names (a name a node on loopback must accept). */
export const CHECK_HOST = '127.0.0.1:7380';

/** One request before it is put on the wire. Header names lower-case; `query` in the order sent. */
export interface HttpCall {
  readonly method: string;
  /** The path as sent, percent-encoded. */
  readonly path: string;
  readonly query: ReadonlyArray<readonly [string, string]>;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Buffer;
}

export function call(method: string, path: string, options: { query?: ReadonlyArray<readonly [string, string]>; headers?: ReadonlyArray<readonly [string, string]>; body?: Buffer } = {}): HttpCall {
  const body = options.body ?? Buffer.alloc(0);
  const headers: Array<readonly [string, string]> = [['host', CHECK_HOST], ...(options.headers ?? [])];
  if (body.length > 0 || method === 'PUT' || method === 'POST') headers.push(['content-length', String(body.length)]);
  return { method, path, query: options.query ?? [], headers, body };
}

export interface KeyPair {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** The node's key pair in the check: the node owner's, the only one the native API and the control plane take. */
export const CHECK_KEYS: KeyPair = { accessKeyId: CHECK_ACCESS_KEY, secretAccessKey: CHECK_SECRET_KEY };

/** A second S3 user (src/server/s3/users.ts), with buckets of its own and no right to the owner's. */
export const MALLORY_KEYS: KeyPair = { accessKeyId: 'SSHTTPCHECKMALLORY01', secretAccessKey: 'mallory/secret+0123456789abcdefghijklmnopq' };
export const MALLORY_ID = 'a11ce0ffee'.repeat(6) + 'beef';

/** The tests' signer (testing/signed_fetch.ts) for `keys`; applyChecksum off: signHeader sets x-amz-content-sha256 itself. */
function signerFor(keys: KeyPair): ReturnType<typeof testSigner> {
  return testSigner({ accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey }, { applyChecksum: false });
}
const signer = signerFor(CHECK_KEYS);

function smithyRequest(c: HttpCall, headers: Record<string, string>): SmithyRequest {
  const query: Record<string, string> = {};
  for (const [name, value] of c.query) query[name] = value;
  return { method: c.method, protocol: 'http:', hostname: CHECK_HOST.split(':')[0] ?? '', path: c.path, query, headers, body: c.body };
}

const PAYLOAD_NAMES = { unsigned: 'UNSIGNED-PAYLOAD', streaming: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' } as const;

/**
 * `c` signed in the Authorization header (every header it has is signed),
 * by the node's key pair unless `keys` names another (a forged or unknown one).
 * The path is signed as sent (uriEscapePath off), so it must be encoded as SigV4's UriEncode does.
 */
export async function signHeader(c: HttpCall, nowMs: number, payload: 'hash' | keyof typeof PAYLOAD_NAMES = 'hash', keys: KeyPair = CHECK_KEYS): Promise<HttpCall> {
  const headers: Record<string, string> = {};
  for (const [name, value] of c.headers) headers[name] = value;
  headers['x-amz-content-sha256'] = payload === 'hash' ? createHash('sha256').update(c.body).digest('hex') : PAYLOAD_NAMES[payload];
  const signed = await (keys === CHECK_KEYS ? signer : signerFor(keys)).sign(smithyRequest(c, headers), { signingDate: new Date(nowMs) });
  return { ...c, headers: Object.entries(signed.headers) };
}

/** `c` as a presigned URL (SignedHeaders=host): its other headers travel unsigned. */
export async function presign(c: HttpCall, nowMs: number): Promise<HttpCall> {
  // As the SDK's S3 presigner does: a presigned URL carries no payload hash.
  const request = smithyRequest(c, { host: CHECK_HOST, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' });
  const signed = await signer.presign(request, { signingDate: new Date(nowMs), expiresIn: 600 });
  return { ...c, query: Object.entries(signed.query ?? {}).map(([n, v]) => [n, Array.isArray(v) ? v.join(',') : String(v)] as const) };
}

/** RFC 3986 escaping of a query component (what SigV4 canonicalizes to). */
export function escapeQuery(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (ch) => '%' + ch.charCodeAt(0).toString(16).toUpperCase());
}

/** The path and query as serialize sends them. A name with an empty value is sent as `?name`. */
function targetOf(c: HttpCall): string {
  const query = c.query.map(([n, v]) => (v === '' ? escapeQuery(n) : `${escapeQuery(n)}=${escapeQuery(v)}`)).join('&');
  return query === '' ? c.path : `${c.path}?${query}`;
}

/**
 * `c` signed with Signature Version 2 in the Authorization header
 * (testing/sigv2_signer.ts, independent of the server's verifier), its Date
 * `nowMs`, by the node's key pair unless `keys` names another.
 */
export function signV2(c: HttpCall, nowMs: number, keys: KeyPair = CHECK_KEYS): HttpCall {
  const headers: Array<readonly [string, string]> = [...c.headers, ['date', new Date(nowMs).toUTCString()]];
  const authorization = authorizationV2(keys.accessKeyId, keys.secretAccessKey, { method: c.method, pathAndQuery: targetOf(c), headers: Object.fromEntries(headers) });
  return { ...c, headers: [...headers, ['authorization', authorization]] };
}

/** `c` as a Signature Version 2 presigned URL (AWSAccessKeyId, Expires, Signature), valid until 600 s after `nowMs`. */
export function presignV2(c: HttpCall, nowMs: number): HttpCall {
  const expires = Math.floor(nowMs / 1000) + 600;
  const signature = signatureV2(CHECK_SECRET_KEY, stringToSignV2({ method: c.method, pathAndQuery: targetOf(c), headers: Object.fromEntries(c.headers), expires }));
  return { ...c, query: [...c.query, ['AWSAccessKeyId', CHECK_ACCESS_KEY], ['Expires', String(expires)], ['Signature', signature]] };
}

/** The request line, headers and body, as bytes. */
export function serialize(c: HttpCall): Buffer {
  const head = [`${c.method} ${targetOf(c)} HTTP/1.1`, ...c.headers.map(([n, v]) => `${n}: ${v}`)].join('\r\n');
  return Buffer.concat([Buffer.from(`${head}\r\n\r\n`, 'utf8'), c.body]);
}
