// tier: quick (npm run test:quick; docs/TESTING.md)
// Authentication and malformed input at the S3 front, on the wire.
//
// Strategy: requests are signed by the SDK's own SigV4 signer
// (@smithy/signature-v4, an implementation independent of ours) and sent
// with node:http, so a test can change any byte after signing: path,
// header, query, body, chunk, trailer. Every such change must be refused
// with the status and S3 code that clients expect (403 for signatures, 400
// for malformed input), and must store nothing. The same signer makes
// presigned URLs (valid, expired, tampered). Aws-chunked bodies with chunk
// signatures (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]) are framed
// here, their chunk signatures computed as the AWS documentation specifies.
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import type { LookupFunction } from 'node:net';
import { after, before, test } from 'node:test';
import { CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import type { ShardServer } from '../src/server/index.js';
import { createShardServer, silentLogger } from '../src/server/index.js';
import { deriveSigningKey, newChecksum } from '../src/server/s3/index.js';
import { ModelStore } from './model.js';
import { ACCESS_KEY, SECRET_KEY, s3ErrorName } from './s3_harness.js';
import { NodeSha256, contentMd5 } from './s3_wire.js';

let server: ShardServer;
let model: ModelStore;
let port: number;
let s3: S3Client;

before(async () => {
  model = new ModelStore();
  server = createShardServer(model, { logger: silentLogger, s3: { credentials: new Map([[ACCESS_KEY, SECRET_KEY]]) } });
  port = (await server.listen(0, '127.0.0.1')).port;
  s3 = client({});
  await s3.send(new CreateBucketCommand({ Bucket: 'auth' }));
});

after(async () => {
  s3.destroy();
  await server.close();
});

function client(overrides: { accessKeyId?: string; secretAccessKey?: string; virtualHost?: boolean }): S3Client {
  return new S3Client({
    endpoint: `http://${overrides.virtualHost === true ? 'localhost' : '127.0.0.1'}:${port}`,
    region: 'us-east-1',
    forcePathStyle: overrides.virtualHost !== true,
    credentials: { accessKeyId: overrides.accessKeyId ?? ACCESS_KEY, secretAccessKey: overrides.secretAccessKey ?? SECRET_KEY },
    maxAttempts: 1,
    // bucket.localhost does not resolve everywhere: every name goes to this host.
    requestHandler: { httpAgent: new http.Agent({ lookup: loopbackLookup }) },
  });
}

/** Resolves every name to 127.0.0.1, in both shapes node asks for (one address, or all). */
const loopbackLookup: LookupFunction = (_host, options, callback) => {
  if (options.all === true) callback(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(null, '127.0.0.1', 4);
};

const signer = new SignatureV4({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, region: 'us-east-1', service: 's3', sha256: NodeSha256, uriEscapePath: false, applyChecksum: false });

interface RawRequest {
  method: string;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Buffer;
}

interface Answer {
  status: number;
  code: string | undefined;
  body: string;
}

function httpRequest(method: string, pathAndQuery: string, headers: Record<string, string>, body: Buffer | undefined): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: pathAndQuery, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        resolve({ status: res.statusCode ?? 0, code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1], body: text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

function queryString(query: Record<string, string>): string {
  const q = Object.entries(query).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  return q === '' ? '' : `?${q}`;
}

/** Sign `r` with the SDK's signer, let `tamper` change it, send it. */
async function signedSend(r: RawRequest, tamper: (signed: { path: string; query: Record<string, string>; headers: Record<string, string>; body: Buffer | undefined }) => void = () => undefined): Promise<Answer> {
  const body = r.body ?? Buffer.alloc(0);
  const headers: Record<string, string> = {
    host: `127.0.0.1:${port}`,
    'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'),
    ...(r.body !== undefined ? { 'content-length': String(body.length) } : {}),
    ...r.headers,
  };
  const signed = await signer.sign({ method: r.method, protocol: 'http:', hostname: '127.0.0.1', port, path: r.path, query: r.query ?? {}, headers, body });
  const out = { path: signed.path, query: { ...(signed.query as Record<string, string>) }, headers: { ...signed.headers }, body: r.body };
  tamper(out);
  return httpRequest(r.method, out.path + queryString(out.query), out.headers, out.body);
}

void test('unsigned, wrong-secret, unknown-key and tampered requests are refused and change nothing', async () => {
  // Checks 403 with AccessDenied / SignatureDoesNotMatch / InvalidAccessKeyId,
  // and 400 XAmzContentSHA256Mismatch for a body that is not the one signed.
  const before = (await model.list()).shards.length;
  const unsigned = await httpRequest('PUT', '/auth/k', { 'content-length': '1' }, Buffer.from('x'));
  assert.deepEqual([unsigned.status, unsigned.code], [403, 'AccessDenied']);
  assert.deepEqual([(await httpRequest('GET', '/', {}, undefined)).status], [403]);
  assert.equal(await s3ErrorName(client({ secretAccessKey: 'wrong' }).send(new PutObjectCommand({ Bucket: 'auth', Key: 'k', Body: 'x' }))), 'SignatureDoesNotMatch');
  assert.equal(await s3ErrorName(client({ accessKeyId: 'NOSUCHKEY' }).send(new PutObjectCommand({ Bucket: 'auth', Key: 'k', Body: 'x' }))), 'InvalidAccessKeyId');

  const put: RawRequest = { method: 'PUT', path: '/auth/tampered', headers: { 'x-amz-meta-owner': 'alice' }, body: Buffer.from('signed body') };
  assert.equal((await signedSend(put)).status, 200);
  const answers = await Promise.all([
    signedSend(put, (s) => (s.path = '/auth/tampereD')),
    signedSend(put, (s) => (s.headers['x-amz-meta-owner'] = 'mallory')),
    signedSend(put, (s) => (s.query = { ...s.query, extra: '1' })),
    signedSend(put, (s) => (s.headers.authorization = (s.headers.authorization ?? '').replace(/Signature=[0-9a-f]{4}/, 'Signature=0000'))),
    signedSend(put, (s) => (s.headers['x-amz-date'] = '20200101T000000Z')),
  ]);
  assert.deepEqual(answers.map((a) => [a.status, a.code]), [
    [403, 'SignatureDoesNotMatch'],
    [403, 'SignatureDoesNotMatch'],
    [403, 'SignatureDoesNotMatch'],
    [403, 'SignatureDoesNotMatch'],
    [403, 'RequestTimeTooSkewed'],
  ]);
  const swapped = await signedSend(put, (s) => (s.body = Buffer.from('other body!')));
  assert.deepEqual([swapped.status, swapped.code], [400, 'XAmzContentSHA256Mismatch']);
  assert.equal((await model.list()).shards.length, before + 1, 'only the untampered PUT stored something');
  assert.equal(await s3ErrorName(s3.send(new GetObjectCommand({ Bucket: 'auth', Key: 'tampereD' }))), 'NoSuchKey');
});

function presignedPath(query: Record<string, string>, path: string): string {
  return path + queryString(query);
}

void test('presigned URLs: GET and PUT work until they expire; a changed URL is refused', async () => {
  // Checks query-string authentication made by the SDK's presigner.
  await s3.send(new PutObjectCommand({ Bucket: 'auth', Key: 'shared.txt', Body: 'shared' }));
  // As the SDK's S3 presigner does: presigned requests carry no payload hash.
  const host = { host: `127.0.0.1:${port}`, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' };
  const get = await signer.presign({ method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port, path: '/auth/shared.txt', query: {}, headers: host }, { expiresIn: 60 });
  const ok = await httpRequest('GET', presignedPath(get.query as Record<string, string>, get.path), {}, undefined);
  assert.deepEqual([ok.status, ok.body], [200, 'shared']);
  const put = await signer.presign({ method: 'PUT', protocol: 'http:', hostname: '127.0.0.1', port, path: '/auth/uploaded.txt', query: {}, headers: host }, { expiresIn: 60 });
  assert.equal((await httpRequest('PUT', presignedPath(put.query as Record<string, string>, put.path), { 'content-length': '3' }, Buffer.from('new'))).status, 200);
  assert.equal((await httpRequest('GET', presignedPath(get.query as Record<string, string>, '/auth/uploaded.txt'), {}, undefined)).code, 'SignatureDoesNotMatch');

  const old = await signer.presign({ method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port, path: '/auth/shared.txt', query: {}, headers: host }, { expiresIn: 60, signingDate: new Date(Date.now() - 120_000) });
  const expired = await httpRequest('GET', presignedPath(old.query as Record<string, string>, old.path), {}, undefined);
  assert.deepEqual([expired.status, expired.code], [403, 'AccessDenied']);
  assert.match(expired.body, /expired/);
  const q = { ...(get.query as Record<string, string>), 'X-Amz-Expires': '3600' };
  assert.equal((await httpRequest('GET', presignedPath(q, get.path), {}, undefined)).code, 'SignatureDoesNotMatch');
});

/** Frame `chunks` as aws-chunked with chunk signatures chained from `seed` (AWS's spec, sigv4-streaming). */
function signedChunks(chunks: readonly Buffer[], seed: string, amzDate: string, trailer: string | undefined): Buffer {
  const scope = `${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`;
  const key = deriveSigningKey(SECRET_KEY, amzDate.slice(0, 8), 'us-east-1');
  const empty = createHash('sha256').update('').digest('hex');
  let previous = seed;
  const out: Buffer[] = [];
  for (const data of [...chunks, Buffer.alloc(0)]) {
    const toSign = ['AWS4-HMAC-SHA256-PAYLOAD', amzDate, scope, previous, empty, createHash('sha256').update(data).digest('hex')].join('\n');
    previous = createHmac('sha256', key).update(toSign).digest('hex');
    out.push(Buffer.from(`${data.length.toString(16)};chunk-signature=${previous}\r\n`), data, Buffer.from(data.length > 0 ? '\r\n' : ''));
  }
  if (trailer === undefined) return Buffer.concat([...out, Buffer.from('\r\n')]);
  const toSign = ['AWS4-HMAC-SHA256-TRAILER', amzDate, scope, previous, createHash('sha256').update(`${trailer}\n`).digest('hex')].join('\n');
  const trailerSignature = createHmac('sha256', key).update(toSign).digest('hex');
  return Buffer.concat([...out, Buffer.from(`${trailer}\r\nx-amz-trailer-signature:${trailerSignature}\r\n\r\n`)]);
}

async function streamingPut(key: string, chunks: Buffer[], options: { trailer?: string; tamper?: (body: Buffer) => Buffer }): Promise<Answer> {
  const decoded = chunks.reduce((n, c) => n + c.length, 0);
  const headers: Record<string, string> = {
    host: `127.0.0.1:${port}`,
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': String(decoded),
    'x-amz-content-sha256': options.trailer === undefined ? 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' : 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
    ...(options.trailer === undefined ? {} : { 'x-amz-trailer': options.trailer.split(':')[0] ?? '' }),
  };
  const signed = await signer.sign({ method: 'PUT', protocol: 'http:', hostname: '127.0.0.1', port, path: `/auth/${key}`, query: {}, headers });
  const seed = /Signature=([0-9a-f]{64})/.exec(signed.headers.authorization ?? '')?.[1] ?? '';
  const body = signedChunks(chunks, seed, signed.headers['x-amz-date'] ?? '', options.trailer);
  return httpRequest('PUT', signed.path, { ...signed.headers, 'content-length': String((options.tamper ?? ((b) => b))(body).length) }, (options.tamper ?? ((b) => b))(body));
}

function crc32(data: Buffer): string {
  const c = newChecksum('crc32');
  c.update(data);
  return c.digest();
}

void test('STREAMING-AWS4-HMAC-SHA256-PAYLOAD bodies: chunk signatures and signed trailers are checked', async () => {
  // Checks the signed aws-chunked forms end to end: stored bytes, and 403
  // for a flipped data byte or a wrong trailer signature; 400 BadDigest for
  // a trailer checksum that does not match.
  const chunks = [Buffer.alloc(70_000, 'a'), Buffer.alloc(1000, 'b')];
  const whole = Buffer.concat(chunks);
  assert.equal((await streamingPut('chunked', chunks, {})).status, 200);
  assert.ok((await model.get(Buffer.from('\0Oauth/chunked', 'latin1'))).length > 0);
  const stored = await s3.send(new GetObjectCommand({ Bucket: 'auth', Key: 'chunked' }));
  assert.ok(Buffer.from(await stored.Body?.transformToByteArray() ?? []).equals(whole));

  const withTrailer = await streamingPut('trailed', chunks, { trailer: `x-amz-checksum-crc32:${crc32(whole)}` });
  assert.equal(withTrailer.status, 200, withTrailer.body);
  const flipped = await streamingPut('flipped', chunks, { tamper: (b) => Buffer.concat([b.subarray(0, 200), Buffer.from('z'), b.subarray(201)]) });
  assert.deepEqual([flipped.status, flipped.code], [403, 'SignatureDoesNotMatch']);
  const badSum = await streamingPut('bad-sum', chunks, { trailer: `x-amz-checksum-crc32:${crc32(Buffer.from('other'))}` });
  assert.deepEqual([badSum.status, badSum.code], [400, 'BadDigest']);
  const forged = await streamingPut('forged', chunks, { trailer: `x-amz-checksum-crc32:${crc32(whole)}`, tamper: (b) => Buffer.from(b.toString('latin1').replace(/trailer-signature:[0-9a-f]{4}/, 'trailer-signature:0000'), 'latin1') });
  assert.deepEqual([forged.status, forged.code], [403, 'SignatureDoesNotMatch']);
  for (const key of ['flipped', 'bad-sum', 'forged']) assert.equal(await s3ErrorName(s3.send(new GetObjectCommand({ Bucket: 'auth', Key: key }))), 'NoSuchKey');
});

void test('malformed XML, headers and URIs get 4xx with S3 codes', async () => {
  // Checks that bad input is answered (never a crash, never a 5xx).
  // With Content-MD5, which DeleteObjects requires (the XML is what must fail here).
  const xml = (body: string, query: Record<string, string>): RawRequest => ({ method: 'POST', path: '/auth', query, headers: contentMd5(body), body: Buffer.from(body) });
  const cases: Array<[string, Promise<Answer>, number, string]> = [
    ['DeleteObjects garbage', signedSend(xml('<Delete><Object><Key>a</Key></Delete>', { delete: '' })), 400, 'MalformedXML'],
    ['DeleteObjects DOCTYPE', signedSend(xml('<!DOCTYPE x [<!ENTITY a "b">]><Delete><Object><Key>&a;</Key></Object></Delete>', { delete: '' })), 400, 'MalformedXML'],
    ['DeleteObjects wrong root', signedSend(xml('<Remove/>', { delete: '' })), 400, 'MalformedXML'],
    ['Complete garbage', signedSend({ method: 'POST', path: '/auth/x', query: { uploadId: '0'.repeat(32) }, body: Buffer.from('not xml at all') }), 400, 'MalformedXML'],
    ['bad Content-MD5', signedSend({ method: 'PUT', path: '/auth/m', headers: { 'content-md5': 'nope' }, body: Buffer.from('x') }), 400, 'InvalidDigest'],
    ['bad content sha', signedSend({ method: 'GET', path: '/auth/m', headers: { 'x-amz-content-sha256': 'bogus' } }), 400, 'InvalidArgument'],
    ['bad max-keys', signedSend({ method: 'GET', path: '/auth', query: { 'list-type': '2', 'max-keys': '-1' } }), 400, 'InvalidArgument'],
    ['bad part number', signedSend({ method: 'PUT', path: '/auth/p', query: { partNumber: '0', uploadId: '0'.repeat(32) }, body: Buffer.from('x') }), 400, 'InvalidArgument'],
    ['bad escape', httpRequest('GET', '/auth/%zz', {}, undefined), 400, 'InvalidURI'],
    ['non-ASCII bucket', httpRequest('GET', '/a%C5%A1th/x', {}, undefined), 400, 'InvalidBucketName'],
    ['non-UTF-8 key', httpRequest('GET', '/auth/%FF', {}, undefined), 400, 'InvalidURI'],
    ['malformed Authorization', httpRequest('GET', '/auth/x', { authorization: 'AWS4-HMAC-SHA256 garbage', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'x-amz-date': '20200101T000000Z' }, undefined), 400, 'AuthorizationHeaderMalformed'],
    ['unsupported subresource', signedSend({ method: 'GET', path: '/auth', query: { cors: '' } }), 501, 'NotImplemented'],
  ];
  for (const [what, answer, status, code] of cases) {
    const a = await answer;
    assert.deepEqual([a.status, a.code], [status, code], `${what}: ${a.body}`);
  }
  const huge = await httpRequest('GET', '/auth/x', { 'x-big': 'a'.repeat(20_000) }, undefined);
  assert.equal(huge.status, 431);
});

void test('XML written with numeric character references (as Go clients write it) is understood', async () => {
  // Checks CompleteMultipartUpload with ETags quoted as &#34; (rclone) and a
  // DeleteObjects key with &#x26; in it.
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'auth', Key: 'go/xml' }));
  const { ETag } = await s3.send(new UploadPartCommand({ Bucket: 'auth', Key: 'go/xml', UploadId, PartNumber: 1, Body: 'one part' }));
  const tag = (ETag ?? '').replaceAll('"', '&#34;');
  const complete = `<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><ETag>${tag}</ETag><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>`;
  const done = await signedSend({ method: 'POST', path: '/auth/go/xml', query: { uploadId: UploadId ?? '' }, body: Buffer.from(complete) });
  assert.equal(done.status, 200, done.body);
  await s3.send(new PutObjectCommand({ Bucket: 'auth', Key: 'a&b', Body: 'x' }));
  const deleteXml = '<Delete><Object><Key>a&#x26;b</Key></Object></Delete>';
  const deleted = await signedSend({ method: 'POST', path: '/auth', query: { delete: '' }, headers: contentMd5(deleteXml), body: Buffer.from(deleteXml) });
  assert.match(deleted.body, /<Deleted><Key>a&amp;b<\/Key><\/Deleted>/);
  assert.equal(await s3ErrorName(s3.send(new GetObjectCommand({ Bucket: 'auth', Key: 'a&b' }))), 'NoSuchKey');
});

void test('virtual-host style requests name the bucket in the Host header', async () => {
  // Checks bucket.localhost:port addressing with the SDK's default (not path) style.
  const vhost = client({ virtualHost: true });
  await vhost.send(new PutObjectCommand({ Bucket: 'auth', Key: 'via/host', Body: 'vhost' }));
  const got = await s3.send(new GetObjectCommand({ Bucket: 'auth', Key: 'via/host' }));
  assert.equal(await got.Body?.transformToString(), 'vhost');
  vhost.destroy();
});
