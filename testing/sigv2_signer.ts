// A Signature Version 2 signer for the tests, written from AWS's "Signing
// and authenticating REST requests" and "Browser-based uploads using POST
// (AWS signature version 2)", independent of the server's verifier
// (src/server/s3/sigv2.ts): the SDK v3 cannot sign V2. Checked against the
// documented example signatures in testing/s3_sigv2.test.ts.
import { createHmac } from 'node:crypto';

/** The sub-resources AWS documents for the CanonicalizedResource, and the response-* overrides. */
const SUBRESOURCES = new Set([
  'acl', 'delete', 'lifecycle', 'location', 'logging', 'notification', 'partNumber', 'policy', 'requestPayment', 'tagging',
  'uploadId', 'uploads', 'versionId', 'versioning', 'versions', 'website', 'cors', 'torrent',
  'response-content-type', 'response-content-language', 'response-expires', 'response-cache-control',
  'response-content-disposition', 'response-content-encoding',
]);

export interface V2Input {
  readonly method: string;
  /** Path and query as sent, percent-encoded. */
  readonly pathAndQuery: string;
  /** Every header sent (names in any case). */
  readonly headers: Readonly<Record<string, string>>;
  /** The bucket named by the Host (virtual-hosted style). */
  readonly hostBucket?: string;
  /** Presigned: Expires (seconds since the epoch) stands in the Date line. */
  readonly expires?: number;
  /** The DELETE example's reading: x-amz-date's value on the Date line and not among the x-amz-* headers. */
  readonly amzDateOnDateLine?: boolean;
}

export function stringToSignV2(r: V2Input): string {
  const lower = new Map(Object.entries(r.headers).map(([n, v]) => [n.toLowerCase(), v.trim()]));
  const amzDate = lower.get('x-amz-date');
  const dateLine = r.expires !== undefined ? String(r.expires) : amzDate === undefined ? (lower.get('date') ?? '') : r.amzDateOnDateLine === true ? amzDate : '';
  const amz = [...lower.keys()]
    .filter((n) => n.startsWith('x-amz-') && !(r.amzDateOnDateLine === true && n === 'x-amz-date'))
    .sort()
    .map((n) => `${n}:${lower.get(n) ?? ''}\n`)
    .join('');
  const q = r.pathAndQuery.indexOf('?');
  const path = q < 0 ? r.pathAndQuery : r.pathAndQuery.slice(0, q);
  const params = q < 0 ? [] : r.pathAndQuery.slice(q + 1).split('&').filter((p) => p !== '');
  const subs = params
    .map((p) => {
      const eq = p.indexOf('=');
      return eq < 0 ? { name: p, text: p } : { name: p.slice(0, eq), text: `${p.slice(0, eq)}=${decodeURIComponent(p.slice(eq + 1))}` };
    })
    .filter((p) => SUBRESOURCES.has(p.name))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const resource = (r.hostBucket === undefined ? '' : `/${r.hostBucket}`) + path + (subs.length === 0 ? '' : `?${subs.map((s) => s.text).join('&')}`);
  return [r.method, lower.get('content-md5') ?? '', lower.get('content-type') ?? '', dateLine, amz + resource].join('\n');
}

export function signatureV2(secret: string, stringToSign: string): string {
  return createHmac('sha1', secret).update(stringToSign, 'utf8').digest('base64');
}

/** `AWS <id>:<signature>` for the request. */
export function authorizationV2(accessKeyId: string, secret: string, r: V2Input): string {
  return `AWS ${accessKeyId}:${signatureV2(secret, stringToSignV2(r))}`;
}

/** The request's path and query with AWSAccessKeyId, Expires and Signature appended. */
export function presignV2(accessKeyId: string, secret: string, r: V2Input & { readonly expires: number }): string {
  const signature = signatureV2(secret, stringToSignV2(r));
  const sep = r.pathAndQuery.includes('?') ? '&' : '?';
  return `${r.pathAndQuery}${sep}AWSAccessKeyId=${encodeURIComponent(accessKeyId)}&Expires=${r.expires}&Signature=${encodeURIComponent(signature)}`;
}

/** A POST form's policy and its V2 fields: policy (base64 JSON) and signature = Base64(HMAC-SHA1(secret, policy)). */
export function formFieldsV2(accessKeyId: string, secret: string, policy: { readonly expiration: string; readonly conditions: readonly unknown[] }): Array<[string, string]> {
  const base64 = Buffer.from(JSON.stringify(policy)).toString('base64');
  return [['AWSAccessKeyId', accessKeyId], ['policy', base64], ['signature', signatureV2(secret, base64)]];
}
