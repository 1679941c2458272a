// Conditional requests and request-body limits at the S3 front, on the wire
// against the real server (issue 12, "Why" 7): every write condition S3
// defines is honoured, a failed one changes nothing, and one S3 does not
// define is refused rather than ignored.
//
// Strategy: signed raw requests (testing/s3_wire.ts), the store's digest
// compared before and after every request that must not change it; the
// object's ETag read back through HEAD.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ShardServer } from '../src/server/index.js';
import { createShardServer, silentLogger } from '../src/server/index.js';
import { ModelStore } from './model.js';
import { storeDigest } from './s3_fail_closed.js';
import { ACCESS_KEY, SECRET_KEY } from './s3_harness.js';
import type { Answer, RawRequest } from './s3_wire.js';
import { contentMd5, sendSigned } from './s3_wire.js';

let server: ShardServer;
let model: ModelStore;
let port: number;

before(async () => {
  model = new ModelStore();
  server = createShardServer(model, { logger: silentLogger, s3: { credentials: new Map([[ACCESS_KEY, SECRET_KEY]]), sweepOnStart: false } });
  port = (await server.listen(0, '127.0.0.1')).port;
  await send({ method: 'PUT', path: '/cond' });
});

after(async () => {
  await server.close();
});

const send = (r: RawRequest): Promise<Answer> => sendSigned(port, r);
const WRONG = '"0123456789abcdef0123456789abcdef"';

async function put(key: string, body: string): Promise<string> {
  const a = await send({ method: 'PUT', path: `/cond/${key}`, body: Buffer.from(body) });
  assert.equal(a.status, 200, a.body);
  return etagOf(key);
}

async function etagOf(key: string): Promise<string> {
  const a = await sendSigned(port, { method: 'HEAD', path: `/cond/${key}` });
  return a.status === 200 ? (a.etag ?? '') : `absent ${a.status}`;
}

/** `r` must answer `status code` and leave the store as it was. */
async function refusedUnchanged(r: RawRequest, status: number, code: string): Promise<void> {
  const digest = await storeDigest(model);
  const a = await send(r);
  assert.deepEqual([a.status, a.code], [status, code], `${r.method} ${r.path}: ${a.body}`);
  assert.equal(await storeDigest(model), digest, `${r.method} ${r.path} changed the store`);
}

void test('DeleteObject honours If-Match: a wrong ETag deletes nothing', async () => {
  // Checks 412 for a wrong ETag (the object stays), 404 for If-Match on a
  // missing key, 501 for If-None-Match (S3 defines none on a delete), and
  // 204 with the object gone for the right ETag.
  const etag = await put('del', 'keep me');
  await refusedUnchanged({ method: 'DELETE', path: '/cond/del', headers: { 'if-match': WRONG } }, 412, 'PreconditionFailed');
  await refusedUnchanged({ method: 'DELETE', path: '/cond/nothing-here', headers: { 'if-match': etag } }, 404, 'NoSuchKey');
  await refusedUnchanged({ method: 'DELETE', path: '/cond/del', headers: { 'if-none-match': '*' } }, 501, 'NotImplemented');
  assert.equal(await etagOf('del'), etag);
  assert.equal((await send({ method: 'DELETE', path: '/cond/del', headers: { 'if-match': etag } })).status, 204);
  assert.equal(await etagOf('del'), 'absent 404');
});

void test('CompleteMultipartUpload honours If-None-Match: * and If-Match, and keeps the upload when one fails', async () => {
  // Checks that completing onto an existing object with If-None-Match: *
  // is 412 and leaves both the object and the upload (a later plain
  // Complete succeeds); a wrong If-Match is 412 too.
  const old = await put('mpu', 'the old object');
  const created = await send({ method: 'POST', path: '/cond/mpu', query: { uploads: '' }, body: Buffer.alloc(0) });
  const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.body)?.[1] ?? '';
  const part = await send({ method: 'PUT', path: '/cond/mpu', query: { partNumber: '1', uploadId }, body: Buffer.from('the new object') });
  const partEtag = part.etag ?? '';
  const complete = (headers: Record<string, string>): RawRequest => ({
    method: 'POST',
    path: '/cond/mpu',
    query: { uploadId },
    headers,
    body: Buffer.from(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${partEtag}</ETag></Part></CompleteMultipartUpload>`),
  });
  await refusedUnchanged(complete({ 'if-none-match': '*' }), 412, 'PreconditionFailed');
  await refusedUnchanged(complete({ 'if-match': WRONG }), 412, 'PreconditionFailed');
  await refusedUnchanged(complete({ 'if-none-match': old }), 501, 'NotImplemented');
  assert.equal(await etagOf('mpu'), old);
  const done = await send(complete({ 'if-match': old }));
  assert.equal(done.status, 200, done.body);
  assert.notEqual(await etagOf('mpu'), old);
});

void test('PutObject and CopyObject: If-None-Match: * creates only; conditions S3 does not define are refused', async () => {
  // Checks 412 for If-None-Match: * on an existing key (PUT and a copy's
  // destination), 412 for a wrong If-Match, and 501 for If-None-Match with
  // an ETag or If-(Un)Modified-Since on a write, none of which S3 defines.
  const etag = await put('put', 'first');
  await refusedUnchanged({ method: 'PUT', path: '/cond/put', headers: { 'if-none-match': '*' }, body: Buffer.from('second') }, 412, 'PreconditionFailed');
  await refusedUnchanged({ method: 'PUT', path: '/cond/put', headers: { 'if-match': WRONG }, body: Buffer.from('second') }, 412, 'PreconditionFailed');
  await refusedUnchanged({ method: 'PUT', path: '/cond/put', headers: { 'if-none-match': etag }, body: Buffer.from('second') }, 501, 'NotImplemented');
  await refusedUnchanged({ method: 'PUT', path: '/cond/put', headers: { 'if-unmodified-since': 'Wed, 01 Jan 2020 00:00:00 GMT' }, body: Buffer.from('second') }, 501, 'NotImplemented');
  await put('src', 'source');
  await refusedUnchanged({ method: 'PUT', path: '/cond/put', headers: { 'x-amz-copy-source': '/cond/src', 'if-none-match': '*' } }, 412, 'PreconditionFailed');
  assert.equal(await etagOf('put'), etag);
  const created = await send({ method: 'PUT', path: '/cond/fresh', headers: { 'if-none-match': '*' }, body: Buffer.from('new') });
  assert.equal(created.status, 200, created.body);
});

void test('copy-source conditions on CopyObject and UploadPartCopy: a failed one copies nothing', async () => {
  // Checks all four x-amz-copy-source-if-* on both operations: 412, the
  // destination unchanged, no part added to the upload.
  const srcEtag = await put('copysrc', 'copied bytes');
  const future = 'Wed, 01 Jan 2098 00:00:00 GMT';
  const past = 'Wed, 01 Jan 2020 00:00:00 GMT';
  const failing: Array<Record<string, string>> = [
    { 'x-amz-copy-source-if-match': WRONG },
    { 'x-amz-copy-source-if-none-match': srcEtag },
    { 'x-amz-copy-source-if-modified-since': future },
    { 'x-amz-copy-source-if-unmodified-since': past },
  ];
  const created = await send({ method: 'POST', path: '/cond/partcopy', query: { uploads: '' }, body: Buffer.alloc(0) });
  const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.body)?.[1] ?? '';
  for (const conditions of failing) {
    const headers = { 'x-amz-copy-source': '/cond/copysrc', ...conditions };
    await refusedUnchanged({ method: 'PUT', path: '/cond/copydst', headers }, 412, 'PreconditionFailed');
    await refusedUnchanged({ method: 'PUT', path: '/cond/partcopy', query: { partNumber: '1', uploadId }, headers }, 412, 'PreconditionFailed');
  }
  const parts = await send({ method: 'GET', path: '/cond/partcopy', query: { uploadId } });
  assert.doesNotMatch(parts.body, /<Part>/);
  const ok = await send({ method: 'PUT', path: '/cond/copydst', headers: { 'x-amz-copy-source': '/cond/copysrc', 'x-amz-copy-source-if-match': srcEtag, 'x-amz-copy-source-if-unmodified-since': future } });
  assert.equal(ok.status, 200, ok.body);
  // Not a version id of ours (docs/S3.md, "Versioning").
  await refusedUnchanged({ method: 'PUT', path: '/cond/copydst', headers: { 'x-amz-copy-source': '/cond/copysrc?versionId=abc' } }, 400, 'InvalidArgument');
});

void test('DeleteObjects requires Content-MD5 or a checksum', async () => {
  // Checks 400 InvalidRequest without either (nothing deleted), 400
  // BadDigest with a wrong one, and a delete with a right Content-MD5.
  await put('batch', 'x');
  const xml = '<Delete><Object><Key>batch</Key></Object></Delete>';
  const request = (headers: Record<string, string>): RawRequest => ({ method: 'POST', path: '/cond', query: { delete: '' }, headers, body: Buffer.from(xml) });
  await refusedUnchanged(request({}), 400, 'InvalidRequest');
  await refusedUnchanged(request(contentMd5('another body')), 400, 'BadDigest');
  const ok = await send(request(contentMd5(xml)));
  assert.match(ok.body, /<Deleted><Key>batch<\/Key><\/Deleted>/);
});

void test('XML request bodies over their depth or size limit are 400 MalformedXML, never 500', async () => {
  // Checks 20,000 nested tags (the parser used to overflow its stack) and
  // 33 levels on each XML operation, and a DeleteObjects body over 2 MiB.
  const deep = (levels: number): string => '<a>'.repeat(levels) + '</a>'.repeat(levels);
  const withMd5 = (body: string): Record<string, string> => contentMd5(body);
  for (const body of [deep(20_000), `<Delete>${deep(32)}</Delete>`]) {
    await refusedUnchanged({ method: 'POST', path: '/cond', query: { delete: '' }, headers: withMd5(body), body: Buffer.from(body) }, 400, 'MalformedXML');
    await refusedUnchanged({ method: 'PUT', path: '/deepbucket', body: Buffer.from(body) }, 400, 'MalformedXML');
    await refusedUnchanged({ method: 'POST', path: '/cond/x', query: { uploadId: '0'.repeat(32) }, body: Buffer.from(body) }, 400, 'MalformedXML');
  }
  const big = `<Delete>${'<Object><Key>k</Key></Object>'.repeat(80_000)}</Delete>`;
  await refusedUnchanged({ method: 'POST', path: '/cond', query: { delete: '' }, headers: withMd5(big), body: Buffer.from(big) }, 400, 'MalformedXML');
  // 31 levels inside the root is within the limit: the document is parsed (and refused for its content).
  const ok = await send({ method: 'POST', path: '/cond', query: { delete: '' }, headers: withMd5(`<Delete>${deep(31)}</Delete>`), body: Buffer.from(`<Delete>${deep(31)}</Delete>`) });
  assert.equal(ok.status, 200, ok.body);
});
