// Bucket and object basics, POST forms, GET conditions and request
// headers: what the first part of an S3 conformance suite checks besides
// listings (docs/s3tests/s3t1.md lists each of its functions and where it
// is checked), held to what AWS documents.
//
// Strategy: one node over the real store, a bucket per test, the AWS SDK
// for what the SDK can send and requests signed by the SDK's own signer
// (testing/s3_wire.ts) or sent raw on a socket for what it cannot (a
// garbage max-keys, an Expect header, a control character in a header,
// Signature Version 2, a form without signature). Each test asserts the
// exact status and code AWS gives, so a refusal turned into an accept (or
// the reverse) fails it.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import {
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { FORM_CONTENT_TYPE, formBody, signingFields } from './post_form.js';
import { ACCESS_KEY, SECRET_KEY, s3ErrorName } from './s3_harness.js';
import { conformanceNode, keysOf, prefixesOf, rawStatus } from './s3_conformance_s3t1_shared.js';
import { sendRaw, sendSigned, signRequest } from './s3_wire.js';

const c = conformanceNode('s3t1');

void test('a delimited listing does not skip keys after a common prefix of a thousand keys', async () => {
  const many = ['0/', ...Array.from({ length: 999 }, (_, i) => `0/${1000 + i}`)];
  const after = ['1999', '1999#', '1999+', '2000'];
  const bucket = await c.bucketWith([]);
  for (let i = 0; i < many.length; i += 50) {
    await Promise.all(many.slice(i, i + 50).map((key) => c.s3().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: new Uint8Array(0) }))));
  }
  for (const key of after) await c.s3().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: new Uint8Array(0) }));
  const out = await c.s3().send(new ListObjectsCommand({ Bucket: bucket, Delimiter: '/' }));
  assert.deepEqual([keysOf(out), prefixesOf(out)], [after, ['0/']]);
});

void test('anonymous listing: allowed on a public-read bucket, 403 AccessDenied on a private one', async () => {
  const open = await c.bucketWith(['a']);
  await c.s3().send(new PutBucketAclCommand({ Bucket: open, ACL: 'public-read' }));
  const closed = await c.bucketWith(['a']);
  for (const query of ['', '?list-type=2']) {
    assert.equal((await fetch(`${c.node().endpoint}/${open}${query}`)).status, 200);
    const refused = await fetch(`${c.node().endpoint}/${closed}${query}`);
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /<Code>AccessDenied<\/Code>/);
  }
});

void test('a missing bucket: listing, DeleteBucket and PutObject answer 404 NoSuchBucket; a bucket with an object is 409 BucketNotEmpty; a missing key 404 NoSuchKey whose RequestId matches the header', async () => {
  for (const call of [
    c.s3().send(new ListObjectsCommand({ Bucket: 's3t1-missing' })),
    c.s3().send(new ListObjectsV2Command({ Bucket: 's3t1-missing' })),
    c.s3().send(new DeleteBucketCommand({ Bucket: 's3t1-missing' })),
    c.s3().send(new PutObjectCommand({ Bucket: 's3t1-missing', Key: 'foo', Body: 'foo' })),
  ]) assert.equal(await s3ErrorName(call), 'NoSuchBucket');
  const full = await c.bucketWith(['foo']);
  assert.equal(await s3ErrorName(c.s3().send(new DeleteBucketCommand({ Bucket: full }))), 'BucketNotEmpty');
  const gone = await c.bucketWith([]);
  await c.s3().send(new DeleteBucketCommand({ Bucket: gone }));
  assert.equal(await s3ErrorName(c.s3().send(new DeleteBucketCommand({ Bucket: gone }))), 'NoSuchBucket');
  const answer = await sendSigned(c.node().port, { method: 'GET', path: `/${full}/bar` });
  assert.deepEqual([answer.status, answer.code], [404, 'NoSuchKey']);
  const bodyId = /<RequestId>([^<]+)<\/RequestId>/.exec(answer.body)?.[1];
  assert.ok(bodyId !== undefined);
  assert.equal(bodyId, answer.headers['x-amz-request-id']);
});

void test('fifty concurrent PutBucketAcl calls all succeed', async () => {
  const bucket = await c.bucketWith([]);
  const results = await Promise.all(Array.from({ length: 50 }, () => s3ErrorName(c.s3().send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'public-read' })))));
  assert.deepEqual(new Set(results), new Set(['no error']));
});

void test('DeleteObjects deletes up to 1000 keys (again: each reported Deleted) and refuses 1001 with 400', async () => {
  const bucket = await c.bucketWith(['key0', 'key1', 'key2']);
  const objects = { Objects: ['key0', 'key1', 'key2'].map((Key) => ({ Key })) };
  for (let round = 0; round < 2; round++) {
    const out = await c.s3().send(new DeleteObjectsCommand({ Bucket: bucket, Delete: objects }));
    assert.deepEqual([out.Deleted?.length, out.Errors], [3, undefined]);
    assert.equal((await c.s3().send(new ListObjectsCommand({ Bucket: bucket }))).Contents, undefined);
  }
  const tooMany = Buffer.from(`<Delete>${Array.from({ length: 1001 }, (_, i) => `<Object><Key>key-${i}</Key></Object>`).join('')}</Delete>`);
  const refused = await sendSigned(c.node().port, { method: 'POST', path: `/${bucket}`, query: { delete: '' }, body: tooMany, headers: { 'content-md5': createHash('md5').update(tooMany).digest('base64') } });
  assert.equal(refused.status, 400);
});

void test('objects: empty body HEADs as length 0; ETag is the MD5; Cache-Control and Expires come back; overwrite replaces body and metadata; empty metadata values survive', async () => {
  const bucket = await c.bucketWith([]);
  await c.s3().send(new PutObjectCommand({ Bucket: bucket, Key: 'empty', Body: new Uint8Array(0) }));
  assert.equal((await c.s3().send(new HeadObjectCommand({ Bucket: bucket, Key: 'empty' }))).ContentLength, 0);
  const put = await c.s3().send(new PutObjectCommand({ Bucket: bucket, Key: 'foo', Body: 'bar', CacheControl: 'public, max-age=14400', Expires: new Date('2030-01-02T03:04:05Z'), Metadata: { meta1: 'bar' } }));
  assert.equal(put.ETag, '"37b51d194a7513e45b56f6524f2d51f2"');
  const head = await c.s3().send(new HeadObjectCommand({ Bucket: bucket, Key: 'foo' }));
  assert.equal(head.CacheControl, 'public, max-age=14400');
  assert.equal(head.Expires?.toISOString(), '2030-01-02T03:04:05.000Z');
  await c.s3().send(new PutObjectCommand({ Bucket: bucket, Key: 'foo', Body: 'soup' }));
  const got = await c.s3().send(new GetObjectCommand({ Bucket: bucket, Key: 'foo' }));
  assert.equal(await got.Body?.transformToString(), 'soup');
  assert.deepEqual(got.Metadata, {});
  for (const value of ['mymeta', '']) {
    await c.s3().send(new PutObjectCommand({ Bucket: bucket, Key: 'meta', Body: 'bar', Metadata: { meta1: value } }));
    const out = await c.s3().send(new GetObjectCommand({ Bucket: bucket, Key: 'meta' }));
    assert.equal(out.Metadata?.meta1, value);
  }
});

/** Send `head` (request line and headers, CRLF-separated) and `body` on a fresh socket; the status of the answer. */
void test('metadata with a control character (prefix, suffix, infix) is refused with 400, nothing stored', async () => {
  const bucket = await c.bucketWith([]);
  for (const value of ['\x04mymeta', '\x04w', 'h\x04', 'h\x04w']) {
    const status = await rawStatus(c.node().port, `PUT /${bucket}/bar HTTP/1.1\r\nHost: 127.0.0.1:${c.node().port}\r\nContent-Length: 3\r\nx-amz-meta-meta1: ${value}`, 'bar');
    assert.equal(status, 400, JSON.stringify(value));
  }
  assert.equal(await s3ErrorName(c.s3().send(new HeadObjectCommand({ Bucket: bucket, Key: 'bar' }))), 'NotFound');
});

void test('metadata with a Latin-1 character signed as UTF-8 and sent as one byte (what botocore does) verifies, and reads back as that byte', async () => {
  // botocore hashes the value's UTF-8 in the canonical request and its HTTP
  // library writes the header as Latin-1 bytes; S3 serves it. Here the
  // SDK's signer hashes the string's UTF-8 and node:http writes it Latin-1.
  const bucket = await c.bucketWith([]);
  const value = 'Hello World\u00e9';
  const signed = await signRequest(c.node().port, { method: 'PUT', path: `/${bucket}/foo`, headers: { 'x-amz-meta-meta1': value }, body: Buffer.from('bar') });
  const put = await sendRaw(c.node().port, 'PUT', signed.pathAndQuery, signed.headers, Buffer.from('bar'));
  assert.equal(put.status, 200, put.body);
  const head = await sendSigned(c.node().port, { method: 'HEAD', path: `/${bucket}/foo` });
  assert.equal(Buffer.from(String(head.headers['x-amz-meta-meta1']), 'latin1').toString('hex'), Buffer.from(value, 'latin1').toString('hex'));
  // Either reading still has to match: a changed byte is refused.
  const tampered = { ...signed.headers, 'x-amz-meta-meta1': 'Hello World\u00e8' };
  const refused = await sendRaw(c.node().port, 'PUT', signed.pathAndQuery, tampered, Buffer.from('bar'));
  assert.deepEqual([refused.status, refused.code], [403, 'SignatureDoesNotMatch']);
});

void test('GET conditions: If-Match with the ETag reads, a wrong one is 412 PreconditionFailed; If-None-Match with the ETag is 304, another reads', async () => {
  const bucket = await c.bucketWith([]);
  const put = await c.s3().send(new PutObjectCommand({ Bucket: bucket, Key: 'foo', Body: 'bar' }));
  /** The body read, or the error's name. */
  const read = async (cond: { IfMatch?: string; IfNoneMatch?: string }): Promise<string> => {
    let body = '';
    const name = await s3ErrorName(c.s3().send(new GetObjectCommand({ Bucket: bucket, Key: 'foo', ...cond })).then(async (out) => (body = (await out.Body?.transformToString()) ?? '')));
    return name === 'no error' ? body : name;
  };
  assert.equal(await read({ IfMatch: put.ETag ?? '' }), 'bar');
  assert.equal(await read({ IfMatch: '"ABCORZ"' }), 'PreconditionFailed');
  assert.equal(await read({ IfNoneMatch: put.ETag ?? '' }), '304');
  assert.equal(await read({ IfNoneMatch: 'ABCORZ' }), 'bar');
});

void test('request headers: Content-MD5 too short or empty is 400 InvalidDigest, wrong is 400 BadDigest; Expect of any value is served; a negative Content-Length is 400', async () => {
  const bucket = await c.bucketWith([]);
  const body = Buffer.from('bar');
  for (const [md5, code] of [['YWJyYWNhZGFicmE=', 'InvalidDigest'], ['', 'InvalidDigest'], ['rL0Y20xC+Fzt72VPzMSk2A==', 'BadDigest']] as const) {
    const answer = await sendSigned(c.node().port, { method: 'PUT', path: `/${bucket}/foo`, headers: { 'content-md5': md5 }, body });
    assert.deepEqual([answer.status, answer.code], [400, code], JSON.stringify(md5));
  }
  for (const expect of ['200', '']) {
    const put = await sendSigned(c.node().port, { method: 'PUT', path: `/${bucket}/e${expect}`, headers: { expect }, body });
    assert.equal(put.status, 200, `Expect: ${expect}`);
    const create = await sendSigned(c.node().port, { method: 'PUT', path: `/s3t1-expect${expect}`, headers: { expect } });
    assert.equal(create.status, 200, `Expect: ${expect} on CreateBucket`);
  }
  for (const type of ['text/plain', '']) {
    const put = await sendSigned(c.node().port, { method: 'PUT', path: `/${bucket}/t`, headers: { 'content-type': type }, body });
    assert.equal(put.status, 200);
  }
  assert.equal(await rawStatus(c.node().port, `PUT /${bucket}/neg HTTP/1.1\r\nHost: 127.0.0.1:${c.node().port}\r\nContent-Length: -1`), 400);
  assert.equal(await rawStatus(c.node().port, `PUT /s3t1-neg HTTP/1.1\r\nHost: 127.0.0.1:${c.node().port}\r\nContent-Length: -1`), 400);
});

void test('authorization: none or empty is 403 AccessDenied; a canned ACL header that is not one is 400; a Date beside x-amz-date is fine', async () => {
  const bucket = await c.bucketWith([]);
  for (const auth of [undefined, '']) {
    const headers: Record<string, string> = { 'content-length': '3', ...(auth === undefined ? {} : { authorization: auth }) };
    const put = await sendRaw(c.node().port, 'PUT', `/${bucket}/foo`, headers, Buffer.from('bar'));
    assert.deepEqual([put.status, put.code], [403, 'AccessDenied']);
    const create = await sendRaw(c.node().port, 'PUT', '/s3t1-noauth', auth === undefined ? {} : { authorization: auth }, undefined);
    assert.deepEqual([create.status, create.code], [403, 'AccessDenied']);
  }
  const bad = await sendSigned(c.node().port, { method: 'PUT', path: `/${bucket}`, query: { acl: '' }, headers: { 'x-amz-acl': 'public-ready' } });
  assert.equal(bad.status, 400);
  const dated = await sendSigned(c.node().port, { method: 'PUT', path: `/${bucket}/dated`, headers: { date: new Date().toUTCString() }, body: Buffer.from('bar') });
  assert.equal(dated.status, 200);
});

void test('POST form: an anonymous form into a public-read-write bucket stores the file (204); success_action_status 201 answers the key, another value 204 with no body; a private bucket 403; a SigV2 form with a bad signature 403', async () => {
  const bucket = await c.bucketWith([]);
  await c.s3().send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'public-read-write' }));
  const post = (fields: Array<[string, string]>): Promise<Response> =>
    fetch(`${c.node().endpoint}/${bucket}`, { method: 'POST', headers: { 'content-type': FORM_CONTENT_TYPE }, body: formBody(fields, Buffer.from('bar')) });
  const plain = await post([['key', 'foo.txt'], ['acl', 'public-read'], ['Content-Type', 'text/plain']]);
  assert.equal(plain.status, 204, await plain.text());
  const got = await c.s3().send(new GetObjectCommand({ Bucket: bucket, Key: 'foo.txt' }));
  assert.equal(await got.Body?.transformToString(), 'bar');
  const created = await post([['key', 'foo.txt'], ['acl', 'public-read'], ['success_action_status', '201'], ['Content-Type', 'text/plain']]);
  assert.equal(created.status, 201);
  // As S3 sends it: no namespace, so <Key> is found unqualified.
  assert.match(await created.text(), /<PostResponse><Location>[^<]*<\/Location><Bucket>[^<]*<\/Bucket><Key>foo\.txt<\/Key>/);
  const other = await post([['key', 'foo.txt'], ['acl', 'public-read'], ['success_action_status', '404'], ['Content-Type', 'text/plain']]);
  assert.equal(other.status, 204);
  assert.equal(await other.text(), '');
  // A form signed with Signature Version 2 (AWSAccessKeyId, signature) is authenticated by its signature, even where anonymous
  // forms are served: a signature that does not verify is 403 SignatureDoesNotMatch, nothing stored (testing/s3_sigv2.test.ts has the rest).
  const v2 = await post([['key', 'v2.txt'], ['AWSAccessKeyId', ACCESS_KEY], ['acl', 'private'], ['signature', 'c2lnbmF0dXJl'], ['policy', 'e30='], ['Content-Type', 'text/plain']]);
  assert.equal(v2.status, 403);
  assert.match(await v2.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
  assert.equal(await s3ErrorName(c.s3().send(new HeadObjectCommand({ Bucket: bucket, Key: 'v2.txt' }))), 'NotFound');
  // A private bucket still refuses an anonymous form.
  const closed = await c.bucketWith([]);
  const refused = await fetch(`${c.node().endpoint}/${closed}`, { method: 'POST', headers: { 'content-type': FORM_CONTENT_TYPE }, body: formBody([['key', 'foo.txt']], Buffer.from('bar')) });
  assert.equal(refused.status, 403);
  assert.match(await refused.text(), /<Code>AccessDenied<\/Code>/);
});

void test('POST form signed with SigV4: a policy with conditions in any case, expiration and conditions spelt exactly, content-length-range checked', async () => {
  const bucket = await c.bucketWith([]);
  const nowMs = Date.now();
  const send = async (conditions: readonly unknown[] | undefined, fields: Record<string, string>, file = 'bar'): Promise<number> => {
    const signed = signingFields({ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY, nowMs, bucket, key: 'foo.txt', ...(conditions === undefined ? {} : { conditions }), fields });
    const body = formBody([['key', 'foo.txt'], ...signed.fields, ...Object.entries(fields)], Buffer.from(file));
    const res = await fetch(`${c.node().endpoint}/${bucket}`, { method: 'POST', headers: { 'content-type': FORM_CONTENT_TYPE }, body });
    await res.text();
    return res.status;
  };
  assert.equal(await send([['content-length-range', 0, 1024]], { 'Content-Type': 'text/plain' }), 204);
  assert.equal(await send([['content-length-range', 0, 0]], {}), 400);
  assert.equal(await send([['content-length-range', 512, 1000]], {}), 400);
});

void test('Signature Version 2 refusals as test_headers.py\'s _aws2 tests expect them, nothing made; an empty Content-Length is 400', async () => {
  const bucket = await c.bucketWith([]);
  const cases: Array<[string, Record<string, string>, number, string]> = [
    ['AWS HAHAHA', { date: new Date().toUTCString() }, 400, 'InvalidArgument'],
    ['AWS AKIAIGR7ZNNBHC5BKSUB:FWeDfwojDSdS2Ztmpfeubhd9isU=', { 'x-amz-date': 'Tue, 07 Jul 2010 21:53:04 GMT' }, 403, 'RequestTimeTooSkewed'],
    ['AWS AKIAIGR7ZNNBHC5BKSUB:FWeDfwojDSdS2Ztmpfeubhd9isU=', { 'x-amz-date': 'Bad Date' }, 403, 'AccessDenied'],
    ['AWS AKIAIGR7ZNNBHC5BKSUB:FWeDfwojDSdS2Ztmpfeubhd9isU=', { date: new Date().toUTCString() }, 403, 'InvalidAccessKeyId'],
  ];
  for (const [authorization, headers, status, code] of cases) {
    const put = await sendRaw(c.node().port, 'PUT', `/${bucket}/v2`, { 'content-length': '3', authorization, ...headers }, Buffer.from('bar'));
    assert.deepEqual([put.status, put.code], [status, code], authorization);
    const create = await sendRaw(c.node().port, 'PUT', '/s3t1-sigv2', { 'content-length': '0', authorization, ...headers }, Buffer.alloc(0));
    assert.deepEqual([create.status, create.code], [status, code], authorization);
  }
  assert.equal(await s3ErrorName(c.s3().send(new HeadObjectCommand({ Bucket: bucket, Key: 'v2' }))), 'NotFound');
  assert.equal(await s3ErrorName(c.s3().send(new ListObjectsV2Command({ Bucket: 's3t1-sigv2' }))), 'NoSuchBucket');
  assert.equal(await rawStatus(c.node().port, `PUT /${bucket}/empty-length HTTP/1.1\r\nHost: 127.0.0.1:${c.node().port}\r\nContent-Length: `), 400);
  assert.equal(await rawStatus(c.node().port, `PUT /s3t1-empty-length HTTP/1.1\r\nHost: 127.0.0.1:${c.node().port}\r\nContent-Length: `), 400);
});
