// What every S3 operation handler receives, and a few request helpers.
import type { Collector } from './collector.js';
import type { Core } from './core.js';
import type { S3Request } from './request.js';
import { S3Error, invalidArgument } from './s3_errors.js';
import { MAX_PART_NUMBER } from './multipart.js';
import { validateObjectKey } from './shard_keys.js';
import type { Authenticated } from './sigv4.js';
import type { RequestAccess } from './authorize.js';
import type { UserSet } from './users.js';

export interface Owner {
  readonly id: string;
  readonly displayName: string;
}

export interface OpContext {
  readonly core: Core;
  readonly collector: Collector;
  readonly r: S3Request;
  readonly auth: Authenticated;
  readonly region: string;
  /** The bucket's owner (bucket and object operations), else the requester (ListBuckets). */
  readonly owner: Owner;
  /** Who is asking, and the checks of resources beyond the request's own (authorize.ts). */
  readonly access: RequestAccess;
}

export interface Operation {
  /** The S3 operation name (logs and metrics). */
  readonly name: string;
  readonly run: (c: OpContext) => Promise<void>;
}

/** What an operation that authenticates itself receives: no verified signature, no owner yet, but the users and their keys. */
export interface UnsignedContext {
  readonly core: Core;
  readonly collector: Collector;
  readonly r: S3Request;
  readonly region: string;
  readonly users: UserSet;
  /** Signature Version 2 is served (serve --s3-sigv2); off: a V2 form answers 501. */
  readonly sigv2: boolean;
}

/**
 * An operation S3 runs without a signed request: a CORS preflight (a
 * browser sends it with no credentials, and it changes and reveals nothing
 * but the bucket's CORS rules) and a POST form upload (authenticated by the
 * signed policy inside the form, post_policy.ts).
 */
export interface UnsignedOperation {
  readonly name: string;
  readonly unsigned: true;
  readonly run: (c: UnsignedContext) => Promise<void>;
}

/** REQUIRES: the router matched a bucket. */
export function bucketOf(c: Pick<OpContext, 'r'>): string {
  if (c.r.bucket === undefined) throw new Error('operation needs a bucket');
  return c.r.bucket;
}

/** The object key, validated for this bucket. */
export function keyOf(c: OpContext): Buffer {
  const key = c.r.key;
  if (key === undefined) throw new Error('operation needs a key');
  validateObjectKey(bucketOf(c), key);
  return key;
}

/** A decimal query parameter in [min, max], or `fallback` if absent. */
export function intParam(c: OpContext, name: string, fallback: number, min: number, max: number): number {
  const text = c.r.query.get(name);
  if (text === undefined) return fallback;
  const value = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
  if (!(value >= min)) throw invalidArgument(`${name} must be an integer >= ${min}`, { ArgumentName: name, ArgumentValue: text });
  return Math.min(value, max);
}

/** A part number query parameter (1..MAX_PART_NUMBER). */
export function partNumberParam(c: OpContext): number {
  const text = c.r.query.get('partNumber') ?? '';
  const value = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(value >= 1 && value <= MAX_PART_NUMBER)) {
    throw new S3Error(400, 'InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', { ArgumentName: 'partNumber', ArgumentValue: text });
  }
  return value;
}
