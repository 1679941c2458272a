// An S3 request as the handlers see it: which bucket and key it names
// (path-style `/bucket/key` or virtual-host `bucket.<domain>/key`), its
// query parameters, and a request id for the answer and the logs.
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Exchange } from '../exchange.js';
import { decodePercent } from '../key_codec.js';
import { S3Error } from './s3_errors.js';
import { queryPairs } from './sigv4.js';

export interface S3Request {
  readonly ex: Exchange;
  readonly method: string;
  readonly rawPath: string;
  readonly rawQuery: string;
  /** First value of each query parameter. */
  readonly query: ReadonlyMap<string, string>;
  readonly bucket: string | undefined;
  /** The object key's bytes (UTF-8), if the request names an object. */
  readonly key: Buffer | undefined;
  readonly requestId: string;
}

export function parseRequest(ex: Exchange, domains: readonly string[]): S3Request {
  const url = ex.req.url ?? '/';
  if (!url.startsWith('/')) throw new S3Error(400, 'InvalidURI', "Couldn't parse the specified URI.");
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const rawQuery = q < 0 ? '' : url.slice(q + 1);
  const query = new Map<string, string>();
  for (const [name, value] of queryPairs(rawQuery)) if (!query.has(name)) query.set(name, value);
  const hostBucket = virtualHostBucket(ex.req.headers.host ?? '', domains);
  const path = decodePath(rawPath);
  let bucket: string | undefined;
  let keyBytes: Buffer;
  if (hostBucket !== undefined) {
    bucket = hostBucket;
    keyBytes = path.subarray(1);
  } else {
    const slash = path.indexOf(0x2f, 1);
    const first = path.subarray(1, slash < 0 ? path.length : slash);
    bucket = first.length === 0 ? undefined : first.toString('utf8');
    keyBytes = slash < 0 ? Buffer.alloc(0) : path.subarray(slash + 1);
  }
  if (bucket !== undefined && !/^[A-Za-z0-9._-]{1,255}$/.test(bucket)) {
    // Bucket names are ASCII; anything else could alias another bucket's shard keys (stored as latin1).
    throw new S3Error(400, 'InvalidBucketName', 'The specified bucket is not valid.', { BucketName: bucket });
  }
  return {
    ex,
    method: ex.req.method ?? 'GET',
    rawPath,
    rawQuery,
    query,
    bucket,
    key: keyBytes.length === 0 ? undefined : checkedUtf8(keyBytes),
    requestId: nextRequestId(),
  };
}

/**
 * Request ids: 16 hex digits, a random prefix drawn once per process and a
 * counter, unique within a run and across restarts with high probability
 * (randomBytes per request was 3% of a small GET's server CPU).
 */
const REQUEST_ID_PREFIX = randomBytes(4).readUInt32BE(0);
let requestCounter = 0;
function nextRequestId(): string {
  requestCounter = (requestCounter + 1) >>> 0;
  return (REQUEST_ID_PREFIX.toString(16).padStart(8, '0') + requestCounter.toString(16).padStart(8, '0')).toUpperCase();
}

/** `photos.s3.localhost:7380` with domain `s3.localhost` names bucket `photos`. */
export function virtualHostBucket(hostHeader: string, domains: readonly string[]): string | undefined {
  const host = hostHeader.replace(/:\d+$/, '').toLowerCase();
  for (const domain of domains) {
    if (host.length > domain.length + 1 && host.endsWith('.' + domain)) return host.slice(0, host.length - domain.length - 1);
  }
  return undefined;
}

function decodePath(rawPath: string): Buffer {
  try {
    return decodePercent(rawPath);
  } catch (err) {
    throw new S3Error(400, 'InvalidURI', `Couldn't parse the specified URI: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** S3 keys are UTF-8: refuse other bytes (they would also break the listing's 0xFF jump). */
function checkedUtf8(bytes: Buffer): Buffer {
  if (!Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes)) {
    throw new S3Error(400, 'InvalidURI', 'Object keys must be valid UTF-8.');
  }
  return bytes;
}

/** "/bucket/key" for error documents. */
export function resourceOf(r: S3Request): string {
  return '/' + (r.bucket ?? '') + (r.key === undefined ? '' : '/' + r.key.toString('utf8'));
}

/** A request header as one string (node joins repeats of most headers; the few it keeps as lists are joined here). */
export function headerOf(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
