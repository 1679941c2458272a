// CORS operations (docs/S3.md, "CORS"): Put/Get/DeleteBucketCors, the
// preflight (OPTIONS on a bucket or an object) and the Access-Control-*
// headers of an actual request from a page.
//
// The configuration is one shard per bucket (`\0R bucket`, shard_keys.ts),
// written under the bucket's lock and answered once durable, so it is as
// crash-safe as any record. DeleteBucket removes it after the bucket
// record; CreateBucket removes one a crash left between the two.
//
// Fail closed: a request gets Access-Control-* headers only when its
// bucket exists, has a configuration, and a rule of it matches the
// request's Origin and method; an unreadable configuration gives none.
import { CorruptionError } from '../../base/index.js';
import type { Core } from './core.js';
import { bucketLock } from './core.js';
import type { CorsAsk, CorsConfig } from './cors.js';
import { CORS_MATCHER, MAX_CORS_BODY_BYTES, corsDocument, corsHeaders, corsOfBody, decodeCors, encodeCors } from './cors.js';
import { requireBucket } from './buckets.js';
import type { Operation, UnsignedOperation } from './operation.js';
import { bucketOf } from './operation.js';
import type { S3Request } from './request.js';
import { headerOf } from './request.js';
import { readXmlBody } from './request_body.js';
import { sendEmpty, sendXml } from './respond.js';
import { S3Error } from './s3_errors.js';
import { bucketShardKey, corsShardKey } from './shard_keys.js';

const noSuchCors = (bucket: string): S3Error => new S3Error(404, 'NoSuchCORSConfiguration', 'The CORS configuration does not exist', { BucketName: bucket });

/** AWS S3's answer to a preflight no rule allows (its spelling of "evaluation" and all). */
export const corsRefused = (): S3Error =>
  new S3Error(
    403,
    'CORSResponse',
    "This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
  );

/** The bucket's CORS rules, or undefined if it has none. Throws CorruptionError for a damaged record. */
export async function readCors(core: Core, bucket: string): Promise<CorsConfig | undefined> {
  const bytes = await core.getOptional(corsShardKey(bucket));
  return bytes === undefined ? undefined : decodeCors(bytes);
}

export const putBucketCorsOp: Operation = {
  name: 'PutBucketCors',
  run: async (c) => {
    const bucket = bucketOf(c);
    const config = corsOfBody(await readXmlBody(c.r.ex, c.auth, MAX_CORS_BODY_BYTES));
    await c.core.locks.exclusive(bucketLock(bucket), async () => {
      await requireBucket(c.core, bucket);
      await c.core.putDurable(corsShardKey(bucket), encodeCors(config));
    });
    sendEmpty(c.r.ex, c.r.requestId, 200);
  },
};

export const getBucketCorsOp: Operation = {
  name: 'GetBucketCors',
  run: async (c) => {
    const bucket = bucketOf(c);
    await requireBucket(c.core, bucket);
    const config = await readCors(c.core, bucket);
    if (config === undefined) throw noSuchCors(bucket);
    sendXml(c.r.ex, c.r.requestId, 200, 'CORSConfiguration', corsDocument(config));
  },
};

export const deleteBucketCorsOp: Operation = {
  name: 'DeleteBucketCors',
  run: async (c) => {
    const bucket = bucketOf(c);
    await c.core.locks.exclusive(bucketLock(bucket), async () => {
      await requireBucket(c.core, bucket);
      const dependency = await c.core.deleteIfPresent(corsShardKey(bucket));
      if (dependency !== undefined) await c.core.durable(dependency);
    });
    sendEmpty(c.r.ex, c.r.requestId, 204);
  },
};

/** The header names of Access-Control-Request-Headers, lower case. */
function requestedHeaders(r: S3Request): string[] {
  const list = headerOf(r.ex.req.headers, 'access-control-request-headers') ?? '';
  return list
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '');
}

/**
 * OPTIONS /bucket[/key]: 200 with the first matching rule's headers, else
 * 403 CORSResponse (no bucket, no configuration or no matching rule alike:
 * an unsigned preflight does not learn which buckets exist).
 */
export const preflightOp: UnsignedOperation = {
  name: 'PreflightCors',
  unsigned: true,
  run: async (c) => {
    const origin = headerOf(c.r.ex.req.headers, 'origin');
    if (origin === undefined) throw new S3Error(400, 'BadRequest', 'Insufficient information. Origin request header needed.');
    const method = headerOf(c.r.ex.req.headers, 'access-control-request-method');
    if (method === undefined) throw new S3Error(400, 'BadRequest', 'Invalid Access-Control-Request-Method: null');
    const ask: CorsAsk = { origin, method, headers: requestedHeaders(c.r) };
    const config = await configOfExisting(c.core, bucketOf(c));
    const rule = config === undefined ? undefined : CORS_MATCHER.match(config, ask);
    if (rule === undefined) throw corsRefused();
    sendEmpty(c.r.ex, c.r.requestId, 200, corsHeaders(rule, ask, true));
  },
};

async function configOfExisting(core: Core, bucket: string): Promise<CorsConfig | undefined> {
  const config = await readCors(core, bucket);
  // A configuration a crash left behind a deleted bucket answers nothing.
  if (config === undefined || (await core.getOptional(bucketShardKey(bucket))) === undefined) return undefined;
  return config;
}

/**
 * Put the Access-Control-* headers of an actual request with an Origin on
 * its answer (errors included), when a rule of its bucket allows it.
 * REQUIRES: the request is authenticated (a signature or a form's policy).
 */
export async function applyCors(core: Core, r: S3Request): Promise<void> {
  const origin = headerOf(r.ex.req.headers, 'origin');
  if (origin === undefined || r.bucket === undefined) return;
  let config: CorsConfig | undefined;
  try {
    config = await configOfExisting(core, r.bucket);
  } catch (err) {
    if (!(err instanceof CorruptionError)) throw err;
    core.logDamaged(corsShardKey(r.bucket), err, 'gave no CORS headers');
    return;
  }
  const ask: CorsAsk = { origin, method: r.method, headers: [] };
  const rule = config === undefined ? undefined : CORS_MATCHER.match(config, ask);
  if (rule === undefined) return;
  for (const [name, value] of Object.entries(corsHeaders(rule, ask, false))) r.ex.res.setHeader(name, value);
}
