// AWS Signature Version 4 for S3, verified (docs/S3.md, "Authentication"),
// following the AWS spec: canonical request -> string to sign -> HMAC chain
// of the secret over date, region, service -> signature.
//
// Two carriers: the Authorization header, and presigned URLs (X-Amz-*
// query parameters). The payload is named by x-amz-content-sha256: a hex
// SHA-256 (checked as the body streams, by the caller), UNSIGNED-PAYLOAD,
// or one of the aws-chunked STREAMING-* forms (checked chunk by chunk in
// aws_chunked.ts with the seed signature returned here).
//
// Strictness (as AWS S3): Host and every x-amz-* header the request carries
// must be named in SignedHeaders, else 403 AccessDenied "There were headers
// present in the request which were not signed" (so an unsigned
// x-amz-copy-source or x-amz-meta-* added to a presigned URL is refused, never
// acted on). The one exemption is UNSIGNED_AMZ_HEADERS: x-amz-content-sha256,
// which S3 tolerates unsigned because the payload hash it names is the last
// line of the canonical request anyway. (x-amzn-trace-id is not an x-amz-
// header: SDKs leave it unsigned and it changes nothing here.)
//
// Header values are the bytes on the wire: node hands them over as latin1
// strings, so the canonical request is hashed as latin1 (a UTF-8
// x-amz-meta-* value verifies as its signer hashed it; a value the SDKs
// sent as Latin-1 bytes after hashing its UTF-8 verifies as they hashed
// it too, see verifyRequest), and only ASCII
// spaces and tabs are trimmed and collapsed (never a 0xA0 byte inside a
// UTF-8 sequence).
//
// S3 specifics: the canonical URI is the path encoded once (not twice, as
// other services do); the canonical query and path are rebuilt from the
// decoded bytes with the spec's encoding (everything but A-Z a-z 0-9 - _ . ~
// as %XX), so equivalent encodings by different clients verify alike.
import * as cryptoModule from 'node:crypto';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { decodePercent, uriEncode } from '../key_codec.js';
import { S3Error, accessDenied, invalidAccessKeyId, notImplemented, signatureDoesNotMatch } from './s3_errors.js';

/** UriEncode lives with the other percent-coding (../key_codec.ts); the S3 front and its tests import it from here. */
export { uriEncode };

export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** The one signing algorithm SigV4 names (header and query forms). */
export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';
/** Requests signed further than this from the server's clock are refused (as S3 does). */
export const MAX_SKEW_MS = 15 * 60_000;
const MAX_PRESIGN_EXPIRES_S = 7 * 24 * 3600;

/** How the body is protected. */
export type PayloadMode =
  | { readonly kind: 'unsigned' }
  | { readonly kind: 'sha256'; readonly hex: string }
  | { readonly kind: 'streaming-signed'; readonly trailer: boolean }
  | { readonly kind: 'streaming-unsigned-trailer' };

/** What chunk signatures of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD body chain from. */
export interface ChunkSigning {
  readonly signingKey: Buffer;
  readonly amzDate: string;
  readonly scope: string;
  readonly seedSignature: string;
}

export interface Authenticated {
  readonly accessKeyId: string;
  readonly payload: PayloadMode;
  readonly chunkSigning: ChunkSigning;
}

export interface SignedRequest {
  readonly method: string;
  /** The path as sent (percent-encoded), without the query. */
  readonly rawPath: string;
  /** The query as sent, without '?'. */
  readonly rawQuery: string;
  /** node's IncomingMessage.rawHeaders: name, value, name, value, ... */
  readonly rawHeaders: readonly string[];
}

/** The secret of an access key, or undefined if the key is unknown. */
export type SecretLookup = (accessKeyId: string) => string | undefined;

interface Parsed {
  readonly accessKeyId: string;
  readonly scopeDate: string;
  readonly region: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
  readonly amzDate: string;
  readonly payloadHash: string;
  /** Query pairs that take part in the canonical query (presigned: without X-Amz-Signature). */
  readonly queryPairs: ReadonlyArray<readonly [string, string]>;
}

/** x-amz-* headers a request may carry without signing them (AWS S3 tolerates these). */
export const UNSIGNED_AMZ_HEADERS: ReadonlySet<string> = new Set(['x-amz-content-sha256']);

/**
 * Which headers of a request must be signed. A class (one instance) so a
 * deliberately broken variant can stand in for it (testing/mutants/auth_mutants.ts).
 */
export class SignedHeaderRule {
  /** Headers present (lower-case names) that must be signed but are not in `signed`. */
  missing(headers: HeaderMap, signed: readonly string[]): string[] {
    const names = new Set(signed);
    const out: string[] = [];
    for (const name of headers.keys()) {
      const required = name === 'host' || (name.startsWith('x-amz-') && !UNSIGNED_AMZ_HEADERS.has(name));
      if (required && !names.has(name)) out.push(name);
    }
    if (!names.has('host') && !out.includes('host')) out.push('host');
    return out;
  }
}

export const signedHeaderRule = new SignedHeaderRule();

export interface VerifyOptions {
  /**
   * The payload hash of a header-signed request that has no
   * x-amz-content-sha256 header (the native API: SHA-256 of the body, as
   * other AWS services sign). Undefined: the header is required (S3).
   */
  readonly payloadHashWithoutHeader?: string;
}

/** Verify the request's signature. Throws S3Error (403 for bad or missing signatures, 400 for malformed ones). */
export function verifyRequest(req: SignedRequest, lookup: SecretLookup, nowMs: number, options: VerifyOptions = {}): Authenticated {
  const headers = headerValues(req.rawHeaders);
  const authorization = headers.get('authorization')?.[0];
  const pairs = queryPairs(req.rawQuery);
  let parsed: Parsed;
  if (authorization !== undefined) parsed = parseHeaderAuth(authorization, headers, pairs, nowMs, options.payloadHashWithoutHeader);
  else if (pairs.some(([name]) => name === 'X-Amz-Algorithm')) parsed = parsePresigned(pairs, headers, nowMs);
  else throw accessDenied('Anonymous access is not allowed: sign requests with AWS Signature Version 4.');
  const secret = lookup(parsed.accessKeyId);
  if (secret === undefined) {
    throw invalidAccessKeyId(parsed.accessKeyId);
  }
  const scope = `${parsed.scopeDate}/${parsed.region}/s3/aws4_request`;
  const canonical = canonicalRequest(req, parsed, headers);
  const signingKey = deriveSigningKey(secret, parsed.scopeDate, parsed.region);
  const signed = (encoding: 'latin1' | 'utf8'): { stringToSign: string; expected: string } => {
    const stringToSign = [SIGV4_ALGORITHM, parsed.amzDate, scope, sha256Hex(Buffer.from(canonical, encoding))].join('\n');
    return { stringToSign, expected: hmacHex(signingKey, stringToSign) };
  };
  let { stringToSign, expected } = signed('latin1');
  // A header byte over 0x7F: the AWS SDKs (botocore, the JS SDK) hash a
  // value's UTF-8 but send each character as one Latin-1 byte, so that
  // reading verifies too (S3 accepts such metadata). Either reading is an
  // HMAC under the same key over this request: nothing is weakened.
  if (!sameHex(expected, parsed.signature) && /[\x80-\xff]/.test(canonical)) {
    const asSent = signed('utf8');
    if (sameHex(asSent.expected, parsed.signature)) ({ stringToSign, expected } = asSent);
  }
  if (!sameHex(expected, parsed.signature)) {
    throw signatureDoesNotMatch({
      AWSAccessKeyId: parsed.accessKeyId,
      StringToSign: stringToSign,
      SignatureProvided: parsed.signature,
      CanonicalRequest: canonical,
    });
  }
  // After the signature: only a holder of the key learns which headers it forgot to sign.
  const unsigned = signedHeaderRule.missing(headers, parsed.signedHeaders);
  if (unsigned.length > 0) {
    throw new S3Error(403, 'AccessDenied', 'There were headers present in the request which were not signed', { HeadersNotSigned: unsigned.join(', ') });
  }
  return {
    accessKeyId: parsed.accessKeyId,
    payload: payloadMode(parsed.payloadHash),
    chunkSigning: { signingKey, amzDate: parsed.amzDate, scope, seedSignature: expected },
  };
}

function parseHeaderAuth(
  authorization: string,
  headers: HeaderMap,
  pairs: ReadonlyArray<readonly [string, string]>,
  nowMs: number,
  payloadHashWithoutHeader: string | undefined,
): Parsed {
  // An empty header is no signature: refused as an unsigned request is.
  if (authorization.trim() === '') throw accessDenied('Anonymous access is not allowed: sign requests with AWS Signature Version 4.');
  // Signature Version 2 is a scheme S3 still serves in us-east-1 and this
  // node does not implement: 501, as every feature left out is refused.
  if (authorization.startsWith('AWS ')) throw notImplemented('Signature Version 2 (use AWS4-HMAC-SHA256)');
  if (!authorization.startsWith(SIGV4_ALGORITHM + ' ')) {
    throw new S3Error(400, 'InvalidRequest', 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.');
  }
  const fields = new Map<string, string>();
  for (const part of authorization.slice(SIGV4_ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    throw malformedAuth('the Authorization header needs Credential, SignedHeaders and Signature');
  }
  const payloadHash = headers.get('x-amz-content-sha256')?.[0] ?? payloadHashWithoutHeader;
  if (payloadHash === undefined) {
    throw new S3Error(400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  }
  const amzDate = requestDate(headers);
  checkSkew(amzDate, nowMs);
  const { accessKeyId, scopeDate, region } = parseCredential(credential, amzDate);
  return { accessKeyId, scopeDate, region, signedHeaders: splitSignedHeaders(signedHeaders), signature, amzDate, payloadHash, queryPairs: pairs };
}

/** The X-Amz-* authentication parameters of a presigned URL, found in one pass. */
interface PresignFields {
  algorithm?: string;
  credential?: string;
  date?: string;
  expires?: string;
  signedHeaders?: string;
  signature?: string;
  contentSha256?: string;
}

const PRESIGN_FIELDS: ReadonlyMap<string, keyof PresignFields> = new Map([
  ['X-Amz-Algorithm', 'algorithm'],
  ['X-Amz-Credential', 'credential'],
  ['X-Amz-Date', 'date'],
  ['X-Amz-Expires', 'expires'],
  ['X-Amz-SignedHeaders', 'signedHeaders'],
  ['X-Amz-Signature', 'signature'],
] as const);

function presignFields(pairs: ReadonlyArray<readonly [string, string]>): PresignFields {
  const f: PresignFields = {};
  for (const [name, value] of pairs) {
    const field = PRESIGN_FIELDS.get(name) ?? (name.length === 20 && name.toLowerCase() === 'x-amz-content-sha256' ? 'contentSha256' : undefined);
    // The first of each, as a lookup by name would find.
    if (field !== undefined) f[field] ??= value;
  }
  return f;
}

function required(value: string | undefined, name: string): string {
  if (value === undefined) throw queryAuthError(`missing ${name}`);
  return value;
}

function parsePresigned(pairs: ReadonlyArray<readonly [string, string]>, headers: HeaderMap, nowMs: number): Parsed {
  const f = presignFields(pairs);
  if (required(f.algorithm, 'X-Amz-Algorithm') !== SIGV4_ALGORITHM) throw queryAuthError('X-Amz-Algorithm must be AWS4-HMAC-SHA256');
  const amzDate = required(f.date, 'X-Amz-Date');
  const startMs = parseAmzDate(amzDate);
  const expiresText = required(f.expires, 'X-Amz-Expires');
  const expiresS = /^\d{1,7}$/.test(expiresText) ? Number(expiresText) : NaN;
  // Negative or over a week: 400 (AWS answers so, ceph/s3-tests#462); 0 is a URL that expired when signed: 403, as AWS.
  if (!(expiresS >= 0 && expiresS <= MAX_PRESIGN_EXPIRES_S)) {
    throw queryAuthError(`X-Amz-Expires must be 0..${MAX_PRESIGN_EXPIRES_S} seconds`);
  }
  if (startMs - nowMs > MAX_SKEW_MS) throw accessDenied('Request is not valid yet');
  if (expiresS === 0 || nowMs > startMs + expiresS * 1000) throw accessDenied('Request has expired');
  // The payload hash: from the query (SDKs hoist x-amz-content-sha256 there, in either case), or from a
  // header only if that header is signed; never from an unsigned header a holder of the URL added.
  const signedHeaders = splitSignedHeaders(required(f.signedHeaders, 'X-Amz-SignedHeaders'));
  const fromHeader = signedHeaders.includes('x-amz-content-sha256') ? headers.get('x-amz-content-sha256')?.[0] : undefined;
  const payloadHash = f.contentSha256 ?? fromHeader ?? 'UNSIGNED-PAYLOAD';
  // Fields named one by one, not spread: a spread here cost several microseconds a request (profile of the S3 front).
  const { accessKeyId, scopeDate, region } = parseCredential(required(f.credential, 'X-Amz-Credential'), amzDate);
  return {
    accessKeyId,
    scopeDate,
    region,
    signedHeaders,
    signature: required(f.signature, 'X-Amz-Signature'),
    amzDate,
    payloadHash,
    queryPairs: pairs.filter(([n]) => n !== 'X-Amz-Signature'),
  };
}

function parseCredential(credential: string, amzDate: string): { accessKeyId: string; scopeDate: string; region: string } {
  const parts = credential.split('/');
  const [accessKeyId, scopeDate, region, service, terminator] = parts;
  if (parts.length !== 5 || accessKeyId === undefined || scopeDate === undefined || region === undefined || accessKeyId === '') {
    throw malformedAuth(`credential ${JSON.stringify(credential)} is not <key>/<date>/<region>/s3/aws4_request`);
  }
  if (service !== 's3' || terminator !== 'aws4_request') throw malformedAuth('the credential scope must end in /s3/aws4_request');
  if (scopeDate !== amzDate.slice(0, 8)) throw malformedAuth(`credential date ${scopeDate} is not the request date ${amzDate.slice(0, 8)}`);
  return { accessKeyId, scopeDate, region };
}

/** Host must be among them: checked with the other unsigned headers (403 AccessDenied, as S3). */
function splitSignedHeaders(text: string): string[] {
  return text.split(';').map((n) => n.trim().toLowerCase());
}

/** x-amz-date, or the Date header converted to its ISO 8601 basic form. */
function requestDate(headers: HeaderMap): string {
  const amz = headers.get('x-amz-date')?.[0];
  if (amz !== undefined) {
    parseAmzDate(amz);
    return amz;
  }
  const date = headers.get('date')?.[0];
  const ms = date === undefined ? NaN : Date.parse(date);
  if (Number.isNaN(ms)) throw accessDenied('AWS authentication requires a valid Date or x-amz-date header');
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** Milliseconds of a yyyymmddThhmmssZ timestamp. */
function parseAmzDate(text: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  const ms = m === null ? NaN : Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  if (Number.isNaN(ms)) throw accessDenied(`invalid request date ${JSON.stringify(text)}`);
  return ms;
}

function checkSkew(amzDate: string, nowMs: number): void {
  if (Math.abs(parseAmzDate(amzDate) - nowMs) > MAX_SKEW_MS) {
    throw new S3Error(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', {
      RequestTime: amzDate,
      ServerTime: new Date(nowMs).toISOString(),
    });
  }
}

/** The body's protection named by an x-amz-content-sha256 value. Throws 400 InvalidArgument for an unknown one. */
export function payloadMode(hash: string): PayloadMode {
  switch (hash) {
    case 'UNSIGNED-PAYLOAD':
      return { kind: 'unsigned' };
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD':
      return { kind: 'streaming-signed', trailer: false };
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER':
      return { kind: 'streaming-signed', trailer: true };
    case 'STREAMING-UNSIGNED-PAYLOAD-TRAILER':
      return { kind: 'streaming-unsigned-trailer' };
    default:
      if (/^[0-9a-f]{64}$/.test(hash)) return { kind: 'sha256', hex: hash };
      throw new S3Error(400, 'InvalidArgument', `x-amz-content-sha256 must be a hex SHA-256 or a known payload type, got ${JSON.stringify(hash)}`);
  }
}

export function canonicalRequest(req: SignedRequest, parsed: Pick<Parsed, 'signedHeaders' | 'payloadHash' | 'queryPairs'>, headers: HeaderMap): string {
  const canonicalHeaders = parsed.signedHeaders.map((name) => `${name}:${canonicalHeaderValue(headers.get(name) ?? [])}\n`).join('');
  return [
    req.method,
    canonicalUri(req.rawPath),
    canonicalQuery(parsed.queryPairs),
    canonicalHeaders,
    parsed.signedHeaders.join(';'),
    parsed.payloadHash,
  ].join('\n');
}

function canonicalUri(rawPath: string): string {
  return rawPath === '' ? '/' : uriEncode(decodeOrThrow(rawPath), false);
}

export function canonicalQuery(pairs: ReadonlyArray<readonly [string, string]>): string {
  return pairs
    .map(([name, value]) => [encodeComponent(name), encodeComponent(value)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

/** Only unreserved characters: UriEncode leaves the text as it is. */
const UNRESERVED_ONLY = /^[A-Za-z0-9\-._~]*$/;

/** UriEncode of a query name or value (its UTF-8 bytes), '/' encoded. */
function encodeComponent(text: string): string {
  return UNRESERVED_ONLY.test(text) ? text : uriEncode(Buffer.from(text, 'utf8'), true);
}

/** Values as latin1 strings of their wire bytes: only ASCII space and tab count as space. */
function canonicalHeaderValue(values: readonly string[]): string {
  return values.map((v) => v.replace(/^[ \t]+|[ \t]+$/g, '').replace(/[ \t]+/g, ' ')).join(',');
}

export type HeaderMap = ReadonlyMap<string, readonly string[]>;

/** Lower-case name -> every value in order (rawHeaders keeps repeats node would merge). */
export function headerValues(rawHeaders: readonly string[]): HeaderMap {
  const map = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] ?? '').toLowerCase();
    const list = map.get(name) ?? [];
    list.push(rawHeaders[i + 1] ?? '');
    map.set(name, list);
  }
  return map;
}

/**
 * Query pairs decoded to strings ('+' stays a plus, as SigV4 signs it).
 * Throws 400 on bad escapes. The last query parsed is kept: the front
 * parses each request's query three times (its parameters, the
 * anonymous-request test, the signature), and the pairs are read-only.
 */
export function queryPairs(rawQuery: string): ReadonlyArray<readonly [string, string]> {
  if (rawQuery === lastQuery.raw) return lastQuery.pairs;
  const out: Array<readonly [string, string]> = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    out.push([decodeComponent(eq < 0 ? part : part.slice(0, eq)), eq < 0 ? '' : decodeComponent(part.slice(eq + 1))]);
  }
  lastQuery = { raw: rawQuery, pairs: out };
  return out;
}

let lastQuery: { readonly raw: string; readonly pairs: ReadonlyArray<readonly [string, string]> } = { raw: '', pairs: [] };

/** Plain ASCII without escapes (most names and values) decodes to itself. */
const PLAIN_ASCII = /^[\x00-\x24\x26-\x7f]*$/;

/** One query name or value, percent-decoded to a UTF-8 string. Throws 400 InvalidURI on a bad escape. */
export function decodeComponent(text: string): string {
  return PLAIN_ASCII.test(text) ? text : decodeOrThrow(text).toString('utf8');
}

function decodeOrThrow(text: string): Buffer {
  try {
    return decodePercent(text);
  } catch (err) {
    throw new S3Error(400, 'InvalidURI', `Couldn't parse the specified URI: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Signing keys by secret, then by date and region (a few entries: one per key a day). */
const signingKeys = new Map<string, Map<string, Buffer>>();
const MAX_CACHED_KEYS = 256;
let cachedKeys = 0;

/** HMAC("AWS4"+secret, date) -> region -> "s3" -> "aws4_request"; cached, since it changes once a day. */
export function deriveSigningKey(secret: string, scopeDate: string, region: string): Buffer {
  const scope = `${scopeDate}/${region}`;
  const cached = signingKeys.get(secret)?.get(scope);
  if (cached !== undefined) return cached;
  const kDate = createHmac('sha256', 'AWS4' + secret).update(scopeDate).digest();
  const kRegion = createHmac('sha256', kDate).update(region).digest();
  const kService = createHmac('sha256', kRegion).update('s3').digest();
  const key = createHmac('sha256', kService).update('aws4_request').digest();
  if (cachedKeys >= MAX_CACHED_KEYS) {
    signingKeys.clear();
    cachedKeys = 0;
  }
  let scopes = signingKeys.get(secret);
  if (scopes === undefined) signingKeys.set(secret, (scopes = new Map<string, Buffer>()));
  scopes.set(scope, key);
  cachedKeys++;
  return key;
}

export function hmacHex(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text, 'utf8').digest('hex');
}

export function sha256Hex(data: string | Uint8Array): string {
  // crypto.hash (Node 20.12 and later) is a one-shot without a Hash object: about half the cost on a canonical request.
  return oneShotHash !== undefined ? oneShotHash('sha256', data, 'hex') : createHash('sha256').update(data).digest('hex');
}

const oneShotHash = (cryptoModule as { hash?: (algorithm: string, data: string | Uint8Array, encoding: 'hex') => string }).hash;

/** Constant-time comparison of two hex signatures. */
export function sameHex(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'latin1');
  const b = Buffer.from(given.toLowerCase(), 'latin1');
  return a.length === b.length && timingSafeEqual(a, b);
}

function malformedAuth(why: string): S3Error {
  return new S3Error(400, 'AuthorizationHeaderMalformed', `The authorization header is malformed: ${why}`);
}

function queryAuthError(why: string): S3Error {
  return new S3Error(400, 'AuthorizationQueryParametersError', `Query-string authentication is malformed: ${why}`);
}
