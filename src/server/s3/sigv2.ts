// AWS Signature Version 2 for S3, verified (docs/S3.md, "Authentication";
// docs/SECURITY.md, "Signature Version 2"), as AWS documents it in
// "Signing and authenticating REST requests":
//
//   Signature    = Base64(HMAC-SHA1(secret, UTF-8 of StringToSign))
//   StringToSign = Verb \n Content-MD5 \n Content-Type \n Date \n
//                  CanonicalizedAmzHeaders CanonicalizedResource
//
// Two carriers: `Authorization: AWS <key id>:<signature>`, and a presigned
// URL (AWSAccessKeyId, Expires, Signature in the query; Expires, seconds
// since the epoch, stands in the Date line). POST forms signed with V2 are
// post_policy.ts's (verifyFormSignatureV2).
//
// Rules:
//   1. With x-amz-date the time is x-amz-date's, and AWS documents two
//      strings: the Date line empty and x-amz-date among the x-amz-*
//      headers ("Positional versus named HTTP header StringToSign
//      elements"), or x-amz-date's value on the Date line and not among
//      them (the DELETE example of "Authentication examples"). Both are
//      accepted: each binds the method, the other headers, the resource
//      and the very x-amz-date the time check read. The time must be within 15 minutes of the server's clock (403
//      RequestTimeTooSkewed); a missing, unparseable or pre-1970 date is
//      403 AccessDenied. A presigned URL is refused once Expires is past
//      (403 AccessDenied) and, as SigV4's, more than 7 days ahead (400).
//   2. CanonicalizedAmzHeaders: every x-amz-* header, lower-cased, sorted,
//      its values trimmed and joined by commas, one `name:value\n` each.
//      So every x-amz-* header is signed by construction: one added to a
//      signed request changes the string and fails the signature.
//   3. CanonicalizedResource: `/bucket` from the Host (virtual-hosted) or
//      nothing, then the path as sent, then `?` and the signed
//      sub-resources present, sorted by name, `name` or `name=value`
//      (value decoded). The signed set is AWS's documented list, the ones
//      botocore signs, and every other sub-resource the router acts on
//      (fail_closed.ts S3_SUBRESOURCES): a query parameter that selects an
//      operation is always covered, so a signed request cannot be turned
//      into another operation by adding one.
//   4. The signature covers no body: Content-MD5 (signed) and
//      x-amz-content-sha256 / x-amz-checksum-* (signed, being x-amz-*)
//      are checked against the body as for SigV4 (request_body.ts). A
//      STREAMING-AWS4-HMAC-SHA256-PAYLOAD body needs a SigV4 seed: 400.
//   5. Signatures are compared in constant time.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { S3_SUBRESOURCES } from './fail_closed.js';
import { S3Error, accessDenied, invalidAccessKeyId, invalidArgument, signatureDoesNotMatch } from './s3_errors.js';
import type { Authenticated, HeaderMap, SecretLookup, SignedRequest } from './sigv4.js';
import { MAX_SKEW_MS, decodeComponent, headerValues, payloadMode } from './sigv4.js';

/** What s3:signatureversion answers for these requests (AWS's value). */
export const SIGV2_VERSION = 'AWS';
/** Presigned URLs further ahead than this are refused, as SigV4's X-Amz-Expires (AWS documents no limit for V2). */
const MAX_PRESIGN_AHEAD_MS = 7 * 24 * 3_600_000;

/** The sub-resources AWS documents for V2, with the response-* overrides, those botocore signs, and every one the router knows. */
export const SIGV2_SUBRESOURCES: ReadonlySet<string> = new Set([
  'acl', 'delete', 'lifecycle', 'location', 'logging', 'notification', 'partNumber', 'policy', 'requestPayment', 'torrent',
  'uploadId', 'uploads', 'versionId', 'versioning', 'versions', 'website',
  'response-content-type', 'response-content-language', 'response-expires', 'response-cache-control',
  'response-content-disposition', 'response-content-encoding',
  'accelerate', 'cors', 'defaultObjectAcl', 'tagging', 'restore', 'storageClass', 'replication', 'analytics', 'metrics',
  'inventory', 'select', 'select-type', 'object-lock',
  ...S3_SUBRESOURCES,
]);

/** How a V2 request carries its signature. */
export type V2Carrier = 'header' | 'query';

/** The V2 carrier of a request, or undefined if it is not signed with V2 (SigV4 or unsigned). */
export function v2CarrierOf(rawHeaders: readonly string[], rawQuery: string): V2Carrier | undefined {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() === 'authorization') return /^AWS /.test(rawHeaders[i + 1] ?? '') ? 'header' : undefined;
  }
  if (hasQueryName(rawQuery, 'X-Amz-Algorithm')) return undefined;
  return hasQueryName(rawQuery, 'AWSAccessKeyId') || hasQueryName(rawQuery, 'Signature') ? 'query' : undefined;
}

/** Whether a parameter of the raw query is named `name` as sent (the name before its '=', or the whole parameter), without splitting the query: this runs on every request. */
export function hasQueryName(rawQuery: string, name: string): boolean {
  for (let at = 0; at <= rawQuery.length; ) {
    const end = rawQuery.indexOf('&', at);
    const stop = end < 0 ? rawQuery.length : end;
    if (rawQuery.startsWith(name, at) && (at + name.length === stop || rawQuery.charCodeAt(at + name.length) === 61 /* = */)) return true;
    at = stop + 1;
  }
  return false;
}

export interface V2Request extends SignedRequest {
  /** The bucket the Host names (virtual-hosted style), else undefined. */
  readonly hostBucket: string | undefined;
}

interface V2Parsed {
  readonly accessKeyId: string;
  readonly signature: string;
  /** The Date line and whether x-amz-date is left out of the x-amz-* headers: one reading each (rule 1). */
  readonly readings: readonly StringToSignReading[];
}

export interface StringToSignReading {
  /** The Date header, '' or x-amz-date's value under x-amz-date, Expires when presigned. */
  readonly dateLine: string;
  readonly withoutAmzDate: boolean;
}

/** Verify a V2-signed request. Throws S3Error (403 for bad, expired or missing signatures and dates, 400 for malformed ones). */
export function verifyRequestV2(req: V2Request, lookup: SecretLookup, nowMs: number): Authenticated {
  const headers = headerValues(req.rawHeaders);
  const query = rawPairs(req.rawQuery);
  const authorization = headers.get('authorization')?.[0];
  const presigned = query.some((p) => p.name === 'AWSAccessKeyId' || p.name === 'Signature');
  if (authorization !== undefined && presigned) throw invalidArgument('Only one auth mechanism allowed; only the Authorization header or the query string may carry a signature.', { ArgumentName: 'Authorization' });
  const parsed = authorization !== undefined ? parseHeader(authorization, headers, nowMs) : parseQuery(query, nowMs);
  const secret = lookup(parsed.accessKeyId);
  if (secret === undefined) {
    throw invalidAccessKeyId(parsed.accessKeyId);
  }
  const strings = parsed.readings.map((reading) => stringToSignV2(req, headers, query, reading));
  const stringToSign = strings[0] ?? '';
  // A header byte over 0x7F: botocore signs the value's UTF-8 and sends each character as one
  // Latin-1 byte (as sigv4.ts explains); every reading is an HMAC under the same key.
  const matches = strings.some(
    (text) => sameBase64(hmacSha1Base64(secret, Buffer.from(text, 'latin1')), parsed.signature) || (/[\x80-\xff]/.test(text) && sameBase64(hmacSha1Base64(secret, Buffer.from(text, 'utf8')), parsed.signature)),
  );
  if (!matches) {
    throw signatureDoesNotMatch({
      AWSAccessKeyId: parsed.accessKeyId,
      StringToSign: stringToSign,
      SignatureProvided: parsed.signature,
    });
  }
  const payload = payloadMode(headers.get('x-amz-content-sha256')?.[0] ?? 'UNSIGNED-PAYLOAD');
  if (payload.kind === 'streaming-signed') {
    throw new S3Error(400, 'InvalidRequest', 'A STREAMING-AWS4-HMAC-SHA256-PAYLOAD body needs a request signed with AWS4-HMAC-SHA256.');
  }
  return { accessKeyId: parsed.accessKeyId, payload, chunkSigning: { signingKey: Buffer.alloc(0), amzDate: '', scope: '', seedSignature: '' } };
}

function parseHeader(authorization: string, headers: HeaderMap, nowMs: number): V2Parsed {
  const m = /^AWS ([^:\s]+):(\S+)$/.exec(authorization.trim());
  if (m === null) throw invalidArgument('AWS authorization header is invalid.  Expected AwsAccessKeyId:signature', { ArgumentName: 'Authorization', ArgumentValue: authorization });
  const [, accessKeyId = '', signature = ''] = m;
  const amzDate = headers.get('x-amz-date')?.[0];
  const date = amzDate ?? headers.get('date')?.[0];
  checkDate(date, nowMs);
  const readings = amzDate === undefined ? [{ dateLine: date ?? '', withoutAmzDate: false }] : [{ dateLine: '', withoutAmzDate: false }, { dateLine: amzDate, withoutAmzDate: true }];
  return { accessKeyId, signature, readings };
}

function parseQuery(query: readonly RawPair[], nowMs: number): V2Parsed {
  const get = (name: string): string => {
    const value = query.find((p) => p.name === name)?.value;
    if (value === undefined || value === '') throw accessDenied('Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters');
    return value;
  };
  const accessKeyId = get('AWSAccessKeyId');
  const signature = get('Signature');
  const expires = get('Expires');
  const expiresMs = /^\d{1,12}$/.test(expires) ? Number(expires) * 1000 : NaN;
  if (Number.isNaN(expiresMs)) throw accessDenied(`Invalid date (should be seconds since epoch): ${expires}`);
  if (nowMs > expiresMs) throw accessDenied('Request has expired');
  if (expiresMs - nowMs > MAX_PRESIGN_AHEAD_MS) {
    throw new S3Error(400, 'AuthorizationQueryParametersError', 'Query-string authentication is malformed: Expires must be at most 7 days from now');
  }
  return { accessKeyId, signature, readings: [{ dateLine: expires, withoutAmzDate: false }] };
}

/** An HTTP date (RFC 1123 and its relatives, as Date.parse reads them) within MAX_SKEW_MS of now. */
function checkDate(text: string | undefined, nowMs: number): void {
  const ms = text === undefined || !/\d{1,2}:\d{2}:\d{2}/.test(text) ? NaN : Date.parse(text);
  // Before 1970 is no request time at all: refused as unparseable (the answer s3-tests expects).
  if (Number.isNaN(ms) || ms < 0) throw accessDenied('AWS authentication requires a valid Date or x-amz-date header');
  if (Math.abs(ms - nowMs) > MAX_SKEW_MS) {
    throw new S3Error(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', {
      RequestTime: text ?? '',
      ServerTime: new Date(nowMs).toUTCString(),
      MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS),
    });
  }
}

/** The StringToSign of rules 1-3 in one reading. */
export function stringToSignV2(req: V2Request, headers: HeaderMap, query: readonly RawPair[], reading: StringToSignReading): string {
  const first = (name: string): string => trimmed(headers.get(name) ?? []).join(',');
  const amz = v2Canonical.amzHeaders(headers, reading.withoutAmzDate);
  return [req.method, first('content-md5'), first('content-type'), reading.dateLine, amz + canonicalResource(req, query)].join('\n');
}

/**
 * The CanonicalizedAmzHeaders of rule 2. A class (one instance) so a
 * deliberately broken variant can stand in for it (testing/mutants/http_check_mutants.ts).
 */
export class V2Canonical {
  amzHeaders(headers: HeaderMap, withoutAmzDate: boolean): string {
    const names = [...headers.keys()].filter((n) => n.startsWith('x-amz-') && !(withoutAmzDate && n === 'x-amz-date')).sort();
    return names.map((n) => `${n}:${trimmed(headers.get(n) ?? []).join(',')}\n`).join('');
  }
}

export const v2Canonical = new V2Canonical();

function canonicalResource(req: V2Request, query: readonly RawPair[]): string {
  const path = req.rawPath === '' ? '/' : req.rawPath;
  const base = req.hostBucket === undefined ? path : `/${req.hostBucket}${path}`;
  const subs = query.filter((p) => SIGV2_SUBRESOURCES.has(p.name)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (subs.length === 0) return base;
  return base + '?' + subs.map((p) => (p.value === undefined ? p.name : `${p.name}=${p.value}`)).join('&');
}

/** Only ASCII space and tab count as space (values are latin1 strings of their wire bytes). */
function trimmed(values: readonly string[]): string[] {
  return values.map((v) => v.replace(/^[ \t]+|[ \t]+$/g, ''));
}

/** A query parameter as sent: name and value decoded, value undefined when there was no `=`. */
export interface RawPair {
  readonly name: string;
  readonly value: string | undefined;
}

export function rawPairs(rawQuery: string): RawPair[] {
  const out: RawPair[] = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    out.push({ name: decodeComponent(eq < 0 ? part : part.slice(0, eq)), value: eq < 0 ? undefined : decodeComponent(part.slice(eq + 1)) });
  }
  return out;
}

export function hmacSha1Base64(secret: string, data: Buffer | string): string {
  return createHmac('sha1', secret).update(data).digest('base64');
}

/** Constant-time comparison of two base64 signatures (as texts: equal signatures are equal texts). */
export function sameBase64(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'latin1');
  const b = Buffer.from(given, 'latin1');
  return a.length === b.length && timingSafeEqual(a, b);
}
