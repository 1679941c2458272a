// CORS (docs/S3.md, "CORS") against the AWS SDK and raw requests, over the
// real store.
//
// Strategy: one node; each test in its own bucket. Configurations are set
// with PutBucketCors and read back with GetBucketCors; S3's limits are
// crossed (101 rules, an unsupported method, two wildcards, a wildcard
// ExposeHeader) and must answer as S3 does, leaving the configuration as it
// was. Preflights (OPTIONS, unsigned as a browser sends them) and actual
// signed requests with an Origin are sent raw, and their Access-Control-*
// headers held against the first rule that must match. The last tests stop
// the node and open its data folder again, and delete and re-create a
// bucket: the configuration is durable, and never outlives its bucket.
//
// Invariants: a preflight is answered by the first matching rule or 403
// CORSResponse; an answer carries Access-Control-* headers only when a rule
// matches its Origin and method; a refused change leaves the configuration.
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CreateBucketCommand, DeleteBucketCommand, DeleteBucketCorsCommand, GetBucketCorsCommand, PutBucketCorsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { CORSRule, S3Client } from '@aws-sdk/client-s3';
import { decodeCors, encodeCors } from '../src/server/s3/cors.js';
import type { S3Node } from './s3_harness.js';
import { s3ErrorName, startS3Node } from './s3_harness.js';
import { signedHeaders } from './signed_fetch.js';

let node: S3Node;
let s3: S3Client;

before(async () => {
  node = await startS3Node();
  s3 = node.client();
});

after(async () => {
  await node.stop();
});

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** One request exactly as given, over node:http (fetch would add its own Origin rules). */
function raw(port: number, method: string, path: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

const corsOf = (a: Answer): Record<string, string> =>
  Object.fromEntries(Object.entries(a.headers).filter(([n]) => n.startsWith('access-control-')).map(([n, v]) => [n, String(v)]));

function preflight(path: string, origin: string | undefined, method: string | undefined, requestHeaders?: string): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (origin !== undefined) headers['origin'] = origin;
  if (method !== undefined) headers['access-control-request-method'] = method;
  if (requestHeaders !== undefined) headers['access-control-request-headers'] = requestHeaders;
  return raw(node.port, 'OPTIONS', path, headers);
}

const RULES: CORSRule[] = [
  { ID: 'app', AllowedOrigins: ['https://app.example'], AllowedMethods: ['GET', 'PUT'], AllowedHeaders: ['x-amz-*', 'content-type'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 600 },
  { AllowedOrigins: ['https://*.pages.example'], AllowedMethods: ['GET'] },
  { AllowedOrigins: ['*'], AllowedMethods: ['HEAD'] },
];

async function bucketWith(name: string, rules: CORSRule[] = RULES): Promise<string> {
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  await s3.send(new PutBucketCorsCommand({ Bucket: name, CORSConfiguration: { CORSRules: rules } }));
  return name;
}

void test('PutBucketCors then GetBucketCors gives the rules back in order; DeleteBucketCors removes them', async () => {
  const b = await bucketWith('cors-roundtrip');
  const got = await s3.send(new GetBucketCorsCommand({ Bucket: b }));
  assert.deepEqual(got.CORSRules, [
    { ID: 'app', AllowedOrigins: ['https://app.example'], AllowedMethods: ['GET', 'PUT'], AllowedHeaders: ['x-amz-*', 'content-type'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 600 },
    { AllowedOrigins: ['https://*.pages.example'], AllowedMethods: ['GET'] },
    { AllowedOrigins: ['*'], AllowedMethods: ['HEAD'] },
  ]);
  await s3.send(new DeleteBucketCorsCommand({ Bucket: b }));
  assert.equal(await s3ErrorName(s3.send(new GetBucketCorsCommand({ Bucket: b }))), 'NoSuchCORSConfiguration');
  assert.equal((await preflight(`/${b}/k`, 'https://app.example', 'GET')).status, 403);
  assert.equal(await s3ErrorName(s3.send(new GetBucketCorsCommand({ Bucket: 'cors-no-such-bucket' }))), 'NoSuchBucket');
  assert.equal(await s3ErrorName(s3.send(new PutBucketCorsCommand({ Bucket: 'cors-no-such-bucket', CORSConfiguration: { CORSRules: RULES } }))), 'NoSuchBucket');
});

void test('configurations past S3 limits are refused with its codes and change nothing', async () => {
  const b = await bucketWith('cors-limits');
  const bad: Array<[string, CORSRule[]]> = [
    ['InvalidRequest', [{ AllowedOrigins: ['*'], AllowedMethods: ['PATCH'] }]],
    ['InvalidRequest', [{ AllowedOrigins: ['https://*.*.example'], AllowedMethods: ['GET'] }]],
    ['InvalidRequest', [{ AllowedOrigins: ['*'], AllowedMethods: ['GET'], AllowedHeaders: ['x-*-*'] }]],
    ['InvalidRequest', [{ AllowedOrigins: ['*'], AllowedMethods: ['GET'], ExposeHeaders: ['*'] }]],
    ['MalformedXML', Array.from({ length: 101 }, () => ({ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }))],
    ['MalformedXML', [{ AllowedOrigins: ['*'], AllowedMethods: [] }]],
    ['MalformedXML', []],
  ];
  for (const [code, rules] of bad) {
    assert.equal(await s3ErrorName(s3.send(new PutBucketCorsCommand({ Bucket: b, CORSConfiguration: { CORSRules: rules } }))), code, JSON.stringify(rules).slice(0, 80));
  }
  assert.equal((await s3.send(new GetBucketCorsCommand({ Bucket: b }))).CORSRules?.length, RULES.length);
  const hundred = Array.from({ length: 100 }, (_, i) => ({ AllowedOrigins: [`https://o${i}.example`], AllowedMethods: ['GET'] }));
  await s3.send(new PutBucketCorsCommand({ Bucket: b, CORSConfiguration: { CORSRules: hundred } }));
  assert.equal((await s3.send(new GetBucketCorsCommand({ Bucket: b }))).CORSRules?.length, 100);
  assert.equal((await preflight(`/${b}/k`, 'https://o99.example', 'GET')).status, 200);
});

void test('a preflight is answered by the first matching rule, else 403 CORSResponse with no CORS header', async () => {
  const b = await bucketWith('cors-preflight');
  const app = await preflight(`/${b}/photo.jpg`, 'https://app.example', 'PUT', 'Content-Type, X-Amz-Date');
  assert.equal(app.status, 200, app.body);
  assert.deepEqual(corsOf(app), {
    'access-control-allow-origin': 'https://app.example',
    'access-control-allow-methods': 'GET, PUT',
    'access-control-allow-headers': 'content-type, x-amz-date',
    'access-control-allow-credentials': 'true',
    'access-control-expose-headers': 'ETag',
    'access-control-max-age': '600',
  });
  assert.match(String(app.headers['vary']), /Origin/);
  // The second rule (one wildcard in the origin), for the bucket itself.
  const pages = await preflight(`/${b}`, 'https://docs.pages.example', 'GET');
  assert.equal(pages.status, 200);
  assert.equal(pages.headers['access-control-allow-origin'], 'https://docs.pages.example');
  // The third: any origin, answered with '*' and without credentials.
  const anyone = await preflight(`/${b}/x`, 'http://evil.example', 'HEAD');
  assert.deepEqual([anyone.headers['access-control-allow-origin'], anyone.headers['access-control-allow-credentials']], ['*', undefined]);
  const refused: Array<[string | undefined, string | undefined, string | undefined, number, string]> = [
    ['http://evil.example', 'GET', undefined, 403, 'CORSResponse'],
    ['https://app.example', 'DELETE', undefined, 403, 'CORSResponse'],
    ['https://app.example', 'PUT', 'authorization', 403, 'CORSResponse'],
    ['https://pages.example', 'GET', undefined, 403, 'CORSResponse'],
    ['https://app.example.evil', 'GET', undefined, 403, 'CORSResponse'],
    [undefined, 'GET', undefined, 400, 'BadRequest'],
    ['https://app.example', undefined, undefined, 400, 'BadRequest'],
  ];
  for (const [origin, method, headers, status, code] of refused) {
    const a = await preflight(`/${b}/photo.jpg`, origin, method, headers);
    assert.equal(a.status, status, `${origin} ${method} ${headers}: ${a.body}`);
    assert.match(a.body, new RegExp(`<Code>${code}</Code>`));
    assert.deepEqual(corsOf(a), {});
  }
  // No configuration, and no bucket, answer alike (an unsigned preflight learns no bucket names).
  await s3.send(new CreateBucketCommand({ Bucket: 'cors-none' }));
  for (const path of ['/cors-none/k', '/cors-missing-bucket/k']) {
    const a = await preflight(path, 'https://app.example', 'GET');
    assert.equal(a.status, 403, path);
    assert.match(a.body, /<Code>CORSResponse<\/Code>/);
  }
});

void test('an actual signed request with an Origin gets the headers of the rule that matches it, and only then', async () => {
  const b = await bucketWith('cors-actual');
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'value' }));
  const url = `${node.endpoint}/${b}/k`;
  const get = async (origin: string, method = 'GET'): Promise<Answer> => raw(node.port, method, `/${b}/k`, await signedHeaders(method, url, { origin }));
  const allowed = await get('https://app.example');
  assert.equal(allowed.status, 200);
  assert.equal(allowed.body, 'value');
  assert.equal(allowed.headers['access-control-allow-origin'], 'https://app.example');
  assert.equal(allowed.headers['access-control-expose-headers'], 'ETag');
  // An origin no rule names, and a method its rule does not allow: the answer, but no CORS header.
  const other = await get('http://evil.example');
  assert.equal(other.status, 200);
  assert.deepEqual(corsOf(other), {});
  const deleteFromPages = await get('https://docs.pages.example', 'DELETE');
  assert.equal(deleteFromPages.status, 204);
  assert.deepEqual(corsOf(deleteFromPages), {});
  // Unsigned: refused as always, and no CORS header either.
  const unsigned = await raw(node.port, 'GET', `/${b}/k`, { origin: 'https://app.example' });
  assert.equal(unsigned.status, 403);
  assert.deepEqual(corsOf(unsigned), {});
});

void test('the CORS record decodes what it encodes, and a flipped bit is a CorruptionError', () => {
  const config = [{ id: 'r', allowedOrigins: ['https://*.x'], allowedMethods: ['GET'], allowedHeaders: ['*'], exposeHeaders: ['ETag', 'x-amz-meta-a'], maxAgeSeconds: 0 }, { id: '', allowedOrigins: ['*'], allowedMethods: ['PUT', 'POST'], allowedHeaders: [], exposeHeaders: [], maxAgeSeconds: undefined }];
  const bytes = encodeCors(config);
  assert.deepEqual(decodeCors(bytes), config);
  for (const at of [0, 5, bytes.length - 6, bytes.length - 1]) {
    const damaged = Buffer.from(bytes);
    damaged[at] = (damaged[at] ?? 0) ^ 1;
    assert.throws(() => decodeCors(damaged), { name: 'CorruptionError' });
  }
});

void test('the configuration survives the node being stopped and opened again, and dies with its bucket', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'shardstore-s3-cors-'));
  const first = await startS3Node({ dataDir });
  try {
    await first.client().send(new CreateBucketCommand({ Bucket: 'durable' }));
    await first.client().send(new PutBucketCorsCommand({ Bucket: 'durable', CORSConfiguration: { CORSRules: RULES } }));
  } finally {
    await first.stop();
  }
  const second = await startS3Node({ dataDir });
  try {
    const c = second.client();
    assert.equal((await c.send(new GetBucketCorsCommand({ Bucket: 'durable' }))).CORSRules?.[0]?.ID, 'app');
    await c.send(new DeleteBucketCommand({ Bucket: 'durable' }));
    await c.send(new CreateBucketCommand({ Bucket: 'durable' }));
    assert.equal(await s3ErrorName(c.send(new GetBucketCorsCommand({ Bucket: 'durable' }))), 'NoSuchCORSConfiguration');
  } finally {
    await second.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
