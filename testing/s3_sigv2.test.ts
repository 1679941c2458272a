// Signature Version 2 against a real node (src/server/s3/sigv2.ts, the V2
// forms of post_policy.ts; docs/S3.md "Authentication"). How: requests are
// signed by testing/sigv2_signer.ts, an independent signer first checked
// against AWS's documented example signatures, and sent raw; what they did
// is read back with the SDK (SigV4). Each refusal is checked to have
// stored nothing. The clock is the node's own (real) one, and every date
// sent is far from the 15-minute edge, so no test depends on timing.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { crc32 } from 'node:zlib';
import { CreateBucketCommand, GetObjectCommand, GetObjectTaggingCommand, HeadBucketCommand, HeadObjectCommand, PutBucketPolicyCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { FORM_CONTENT_TYPE, formBody, signingFields } from './post_form.js';
import { ACCESS_KEY, SECRET_KEY, s3ErrorName, startS3Node } from './s3_harness.js';
import type { S3Node } from './s3_harness.js';
import { contentMd5, sendRaw } from './s3_wire.js';
import type { Answer } from './s3_wire.js';
import type { V2Input } from './sigv2_signer.js';
import { authorizationV2, formFieldsV2, presignV2, signatureV2, stringToSignV2 } from './sigv2_signer.js';

let node: S3Node;
let off: S3Node;
let s3: S3Client;
let buckets = 0;

before(async () => {
  node = await startS3Node();
  off = await startS3Node({ s3: { sigv2: false } });
  s3 = node.client();
});
after(async () => {
  await node.stop();
  await off.stop();
});

const httpDate = (offsetMs = 0): string => new Date(Date.now() + offsetMs).toUTCString();

async function newBucket(): Promise<string> {
  const bucket = `sigv2-${++buckets}`;
  const answer = await v2(node, { method: 'PUT', pathAndQuery: `/${bucket}`, headers: { date: httpDate() } });
  assert.equal(answer.status, 200, answer.body);
  return bucket;
}

/** Sign `r` with V2 (header) and send it; `headers` replaces what is sent after signing (tampering). */
function v2(n: S3Node, r: V2Input, body?: Buffer, sent?: Record<string, string>, secret = SECRET_KEY, keyId = ACCESS_KEY): Promise<Answer> {
  const authorization = authorizationV2(keyId, secret, r);
  const headers = { ...(sent ?? r.headers), authorization, ...(body === undefined ? {} : { 'content-length': String(body.length) }) };
  return sendRaw(n.port, r.method, r.pathAndQuery, headers, body);
}

const exists = async (bucket: string, key: string): Promise<boolean> => (await s3ErrorName(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })))) === 'no error';
const read = async (bucket: string, key: string): Promise<string | undefined> => (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString();

void test('the test signer reproduces AWS\'s documented Signature Version 2 examples', () => {
  const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  const sign = (r: V2Input): string => signatureV2(secret, stringToSignV2(r));
  const host = { hostBucket: 'awsexamplebucket1' };
  // "Authentication examples": object GET, object PUT, list, fetch ACL (virtual-hosted), DELETE (path style, x-amz-date).
  assert.equal(sign({ ...host, method: 'GET', pathAndQuery: '/photos/puppy.jpg', headers: { Date: 'Tue, 27 Mar 2007 19:36:42 +0000' } }), 'qgk2+6Sv9/oM7G3qLEjTH1a1l1g=');
  assert.equal(
    sign({ ...host, method: 'PUT', pathAndQuery: '/photos/puppy.jpg', headers: { 'Content-Type': 'image/jpeg', 'Content-Length': '94328', Date: 'Tue, 27 Mar 2007 21:15:45 +0000' } }),
    'iqRzw+ileNPu1fhspnRs8nOjjIA=',
  );
  assert.equal(sign({ ...host, method: 'GET', pathAndQuery: '/?prefix=photos&max-keys=50&marker=puppy', headers: { 'User-Agent': 'Mozilla/5.0', Date: 'Tue, 27 Mar 2007 19:42:41 +0000' } }), 'm0WP8eCtspQl5Ahe6L1SozdX9YA=');
  assert.equal(sign({ ...host, method: 'GET', pathAndQuery: '/?acl', headers: { Date: 'Tue, 27 Mar 2007 19:44:46 +0000' } }), '82ZHiFIjc+WbcwFKGUVEQspPn+0=');
  const del = { method: 'DELETE', pathAndQuery: '/awsexamplebucket1/photos/puppy.jpg', headers: { Date: 'Tue, 27 Mar 2007 21:20:27 +0000', 'x-amz-date': 'Tue, 27 Mar 2007 21:20:26 +0000' } };
  assert.equal(sign({ ...del, amzDateOnDateLine: true }), 'XbyTlbQdu9Xw5o8P4iMwPktxQd8=');
  // "Query string request authentication alternative" (its older johnsmith example).
  assert.equal(sign({ hostBucket: 'johnsmith', method: 'GET', pathAndQuery: '/photos/puppy.jpg', headers: {}, expires: 1175139620 }), 'NpgCjnDzrM+WFzoENXmpNDUsSn8=');
});

void test('header auth: CreateBucket, PUT with metadata, GET, ?tagging, ?acl, a listing, DELETE, each as the SDK reads it back', async () => {
  const bucket = await newBucket();
  const put = await v2(node, { method: 'PUT', pathAndQuery: `/${bucket}/a%20b.txt`, headers: { date: httpDate(), 'content-type': 'text/plain', 'x-amz-meta-color': 'blue', ...contentMd5('hello') } }, Buffer.from('hello'));
  assert.equal(put.status, 200, put.body);
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'a b.txt' }));
  assert.deepEqual([await got.Body?.transformToString(), got.ContentType, got.Metadata], ['hello', 'text/plain', { color: 'blue' }]);
  const get = await v2(node, { method: 'GET', pathAndQuery: `/${bucket}/a%20b.txt`, headers: { date: httpDate() } });
  assert.deepEqual([get.status, get.body], [200, 'hello']);
  const tagging = Buffer.from('<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>');
  const tag = await v2(node, { method: 'PUT', pathAndQuery: `/${bucket}/a%20b.txt?tagging`, headers: { date: httpDate(), ...contentMd5(tagging) } }, tagging);
  assert.equal(tag.status, 200, tag.body);
  assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'a b.txt' }))).TagSet, [{ Key: 'k', Value: 'v' }]);
  const acl = await v2(node, { method: 'GET', pathAndQuery: `/${bucket}?acl`, headers: { date: httpDate() } });
  assert.match(acl.body, /<AccessControlPolicy/);
  const list = await v2(node, { method: 'GET', pathAndQuery: `/${bucket}?prefix=a&max-keys=5`, headers: { date: httpDate() } });
  assert.match(list.body, /<Key>a b\.txt<\/Key>/);
  const del = await v2(node, { method: 'DELETE', pathAndQuery: `/${bucket}/a%20b.txt`, headers: { date: httpDate() } });
  assert.equal(del.status, 204);
  assert.equal(await exists(bucket, 'a b.txt'), false);
});

void test('header auth in virtual-hosted style: the bucket of the Host is in the signed resource', async () => {
  const bucket = await newBucket();
  const headers = { host: `${bucket}.localhost:${node.port}`, date: httpDate() };
  const put = await v2(node, { hostBucket: bucket, method: 'PUT', pathAndQuery: '/vh.txt', headers }, Buffer.from('virtual'));
  assert.equal(put.status, 200, put.body);
  assert.equal(await read(bucket, 'vh.txt'), 'virtual');
  // Signed as if path-style (/vh.txt with no bucket): another resource, refused.
  const wrong = await v2(node, { method: 'GET', pathAndQuery: '/vh.txt', headers });
  assert.deepEqual([wrong.status, wrong.code], [403, 'SignatureDoesNotMatch']);
});

void test('x-amz-date: either documented reading verifies; its time is the one checked', async () => {
  const bucket = await newBucket();
  for (const amzDateOnDateLine of [false, true]) {
    const key = `amz-${String(amzDateOnDateLine)}`;
    const answer = await v2(node, { method: 'PUT', pathAndQuery: `/${bucket}/${key}`, headers: { date: httpDate(-3_600_000), 'x-amz-date': httpDate() }, amzDateOnDateLine }, Buffer.from('x'));
    assert.equal(answer.status, 200, answer.body);
  }
  // botocore's reading (the Date header on the Date line and x-amz-date among the x-amz-* headers) is neither: refused.
  const [date, amzDate] = [httpDate(-3_600_000), httpDate()];
  const botocore = `AWS ${ACCESS_KEY}:${signatureV2(SECRET_KEY, `PUT\n\n\n${date}\nx-amz-date:${amzDate}\n/${bucket}/boto`)}`;
  const answer = await sendRaw(node.port, 'PUT', `/${bucket}/boto`, { date, 'x-amz-date': amzDate, authorization: botocore, 'content-length': '1' }, Buffer.from('x'));
  assert.deepEqual([answer.status, answer.code], [403, 'SignatureDoesNotMatch']);
});

void test('presigned GET and PUT; expired is 403 AccessDenied; more than 7 days ahead is 400; a changed query is refused', async () => {
  const bucket = await newBucket();
  const expires = Math.floor(Date.now() / 1000) + 600;
  const putUrl = presignV2(ACCESS_KEY, SECRET_KEY, { method: 'PUT', pathAndQuery: `/${bucket}/p.txt`, headers: {}, expires });
  assert.equal((await sendRaw(node.port, 'PUT', putUrl, { 'content-length': '2' }, Buffer.from('pp'))).status, 200);
  const getUrl = presignV2(ACCESS_KEY, SECRET_KEY, { method: 'GET', pathAndQuery: `/${bucket}/p.txt`, headers: {}, expires });
  const got = await sendRaw(node.port, 'GET', getUrl, {}, undefined);
  assert.deepEqual([got.status, got.body], [200, 'pp']);
  const expired = presignV2(ACCESS_KEY, SECRET_KEY, { method: 'GET', pathAndQuery: `/${bucket}/p.txt`, headers: {}, expires: expires - 1200 });
  const old = await sendRaw(node.port, 'GET', expired, {}, undefined);
  assert.deepEqual([old.status, old.code], [403, 'AccessDenied']);
  assert.match(old.body, /expired/);
  const far = presignV2(ACCESS_KEY, SECRET_KEY, { method: 'GET', pathAndQuery: `/${bucket}/p.txt`, headers: {}, expires: expires + 8 * 86_400 });
  assert.equal((await sendRaw(node.port, 'GET', far, {}, undefined)).status, 400);
  // The URL of a GetObject turned into GetObjectTagging (?tagging is a signed sub-resource), and the PUT URL given other headers.
  const tagged = await sendRaw(node.port, 'GET', getUrl.replace('?', '?tagging&'), {}, undefined);
  assert.deepEqual([tagged.status, tagged.code], [403, 'SignatureDoesNotMatch']);
  const meta = await sendRaw(node.port, 'PUT', putUrl, { 'content-length': '2', 'x-amz-meta-evil': '1' }, Buffer.from('qq'));
  assert.deepEqual([meta.status, meta.code], [403, 'SignatureDoesNotMatch']);
  assert.equal(await read(bucket, 'p.txt'), 'pp');
});

void test('refusals: unknown key, wrong signature, malformed header, skewed, missing, empty, unparseable and pre-1970 dates; nothing stored', async () => {
  const bucket = await newBucket();
  const put = (headers: Record<string, string>, secret = SECRET_KEY, keyId = ACCESS_KEY): Promise<Answer> =>
    v2(node, { method: 'PUT', pathAndQuery: `/${bucket}/r`, headers }, Buffer.from('bar'), undefined, secret, keyId);
  const outcome = (a: Answer): [number, string | undefined] => [a.status, a.code];
  assert.deepEqual(outcome(await put({ date: httpDate() }, SECRET_KEY, 'AKIAIGR7ZNNBHC5BKSUB')), [403, 'InvalidAccessKeyId']);
  assert.deepEqual(outcome(await put({ date: httpDate() }, 'not-the-secret')), [403, 'SignatureDoesNotMatch']);
  assert.deepEqual(outcome(await sendRaw(node.port, 'PUT', `/${bucket}/r`, { date: httpDate(), authorization: 'AWS HAHAHA', 'content-length': '3' }, Buffer.from('bar'))), [400, 'InvalidArgument']);
  assert.deepEqual(outcome(await put({ date: httpDate(-20 * 60_000) })), [403, 'RequestTimeTooSkewed']);
  assert.deepEqual(outcome(await put({ date: httpDate(20 * 60_000) })), [403, 'RequestTimeTooSkewed']);
  // s3-tests: x-amz-date in 2010 and 9999 are skewed; "Bad Date", empty, and 1950 are 403 AccessDenied; no date at all too.
  assert.deepEqual(outcome(await put({ 'x-amz-date': 'Tue, 07 Jul 2010 21:53:04 GMT' })), [403, 'RequestTimeTooSkewed']);
  assert.deepEqual(outcome(await put({ 'x-amz-date': 'Tue, 07 Jul 9999 21:53:04 GMT' })), [403, 'RequestTimeTooSkewed']);
  for (const bad of ['Bad Date', '', 'Tue, 07 Jul 1950 21:53:04 GMT']) assert.deepEqual(outcome(await put({ date: httpDate(), 'x-amz-date': bad })), [403, 'AccessDenied'], bad);
  assert.deepEqual(outcome(await put({})), [403, 'AccessDenied']);
  assert.equal(await exists(bucket, 'r'), false);
});

void test('every x-amz-* header is signed: one changed or added after signing is refused and nothing is written', async () => {
  const bucket = await newBucket();
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: 'secret source' }));
  const signed = { date: httpDate(), 'x-amz-meta-a': '1' };
  const r = { method: 'PUT', pathAndQuery: `/${bucket}/t`, headers: signed };
  const changed = await v2(node, r, Buffer.from('x'), { ...signed, 'x-amz-meta-a': '2' });
  assert.deepEqual([changed.status, changed.code], [403, 'SignatureDoesNotMatch']);
  const copy = await v2(node, r, Buffer.alloc(0), { ...signed, 'x-amz-copy-source': `/${bucket}/src` });
  assert.deepEqual([copy.status, copy.code], [403, 'SignatureDoesNotMatch']);
  const type = await v2(node, r, Buffer.from('x'), { ...signed, 'content-type': 'text/html' });
  assert.deepEqual([type.status, type.code], [403, 'SignatureDoesNotMatch']);
  // A request signed with no x-amz-* header at all, one added after signing: refused as well.
  const plain = { method: 'PUT', pathAndQuery: `/${bucket}/t`, headers: { date: httpDate() } };
  const added = await v2(node, plain, Buffer.alloc(0), { ...plain.headers, 'x-amz-copy-source': `/${bucket}/src` });
  assert.deepEqual([added.status, added.code], [403, 'SignatureDoesNotMatch']);
  assert.equal(await exists(bucket, 't'), false);
});

void test('Content-MD5 and x-amz-checksum-* are checked against the body: a mismatch is 400 BadDigest, garbage 400 InvalidDigest; nothing stored', async () => {
  const bucket = await newBucket();
  const mismatch = await v2(node, { method: 'PUT', pathAndQuery: `/${bucket}/m`, headers: { date: httpDate(), ...contentMd5('other') } }, Buffer.from('bar'));
  assert.deepEqual([mismatch.status, mismatch.code], [400, 'BadDigest']);
  const garbage = await v2(node, { method: 'PUT', pathAndQuery: `/${bucket}/m`, headers: { date: httpDate(), 'content-md5': 'AWS HAHAHA' } }, Buffer.from('bar'));
  assert.deepEqual([garbage.status, garbage.code], [400, 'InvalidDigest']);
  // s3-tests' Content-Length one short of 'bar': the node reads 'ba', which matches neither digest botocore sends of 'bar'.
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32('bar'));
  for (const digest of [contentMd5('bar'), { 'x-amz-checksum-crc32': crc.toString('base64') }]) {
    const short = await v2(node, { method: 'PUT', pathAndQuery: `/${bucket}/m`, headers: { date: httpDate(), ...digest } }, Buffer.from('ba'));
    assert.deepEqual([short.status, short.code], [400, 'BadDigest']);
  }
  assert.equal(await exists(bucket, 'm'), false);
});

void test('POST forms signed with V2: stored; a bad signature, an unknown key, a missing signature, a failed or missing condition, an expired policy, both signatures: refused, nothing stored', async () => {
  const bucket = await newBucket();
  const expiration = new Date(Date.now() + 600_000).toISOString();
  const conditions = [{ bucket }, ['starts-with', '$key', 'foo'], { acl: 'private' }, ['starts-with', '$Content-Type', 'text/plain'], ['content-length-range', 0, 1024]];
  const post = async (fields: Array<[string, string]>, file = 'bar'): Promise<[number, string | undefined]> => {
    const res = await fetch(`${node.endpoint}/${bucket}`, { method: 'POST', headers: { 'content-type': FORM_CONTENT_TYPE }, body: formBody(fields, Buffer.from(file)) });
    const text = await res.text();
    return [res.status, /<Code>([^<]*)<\/Code>/.exec(text)?.[1]];
  };
  const form = (signed: Array<[string, string]>, key = 'foo.txt', extra: Array<[string, string]> = []): Array<[string, string]> => [
    ['key', key], ['acl', 'private'], ['Content-Type', 'text/plain'], ...signed, ...extra,
  ];
  const good = formFieldsV2(ACCESS_KEY, SECRET_KEY, { expiration, conditions });
  assert.deepEqual(await post(form(good)), [204, undefined]);
  assert.equal(await read(bucket, 'foo.txt'), 'bar');
  const forged = formFieldsV2(ACCESS_KEY, 'not-the-secret', { expiration, conditions });
  assert.deepEqual(await post(form(forged, 'foo-forged')), [403, 'SignatureDoesNotMatch']);
  const unknown = formFieldsV2('AKIANOTAKEY', SECRET_KEY, { expiration, conditions });
  assert.deepEqual(await post(form(unknown, 'foo-unknown')), [403, 'InvalidAccessKeyId']);
  assert.deepEqual(await post(form(good.filter(([n]) => n !== 'signature'), 'foo-unsigned')), [400, 'InvalidArgument']);
  assert.deepEqual(await post(form(good, 'bar-key')), [403, 'AccessDenied']);
  assert.deepEqual(await post(form(good, 'foo-meta', [['x-amz-meta-foo', 'x']])), [403, 'AccessDenied']);
  assert.deepEqual(await post(form(good, 'foo-big'), 'x'.repeat(2000)), [400, 'EntityTooLarge']);
  const stale = formFieldsV2(ACCESS_KEY, SECRET_KEY, { expiration: new Date(Date.now() - 600_000).toISOString(), conditions });
  assert.deepEqual(await post(form(stale, 'foo-stale')), [403, 'AccessDenied']);
  const v4 = signingFields({ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY, nowMs: Date.now(), bucket, key: 'foo-both' }).fields.filter(([n]) => n !== 'policy');
  assert.deepEqual(await post(form(good, 'foo-both', v4)), [400, 'InvalidArgument']);
  for (const key of ['foo-forged', 'foo-unknown', 'foo-unsigned', 'bar-key', 'foo-meta', 'foo-big', 'foo-stale', 'foo-both']) assert.equal(await exists(bucket, key), false, key);
});

void test('policy conditions s3:signatureversion and s3:authType tell V2 from SigV4 and the header from the query', async () => {
  const bucket = await newBucket();
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'v' }));
  const deny = (key: string, value: string): string =>
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*`, Condition: { StringEquals: { [key]: value } } }],
    });
  const header = (): Promise<Answer> => v2(node, { method: 'GET', pathAndQuery: `/${bucket}/k`, headers: { date: httpDate() } });
  const query = (): Promise<Answer> =>
    sendRaw(node.port, 'GET', presignV2(ACCESS_KEY, SECRET_KEY, { method: 'GET', pathAndQuery: `/${bucket}/k`, headers: {}, expires: Math.floor(Date.now() / 1000) + 600 }), {}, undefined);
  await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: deny('s3:signatureversion', 'AWS') }));
  assert.deepEqual([(await header()).status, (await query()).status], [403, 403]);
  assert.equal(await read(bucket, 'k'), 'v');
  await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: deny('s3:signatureversion', 'AWS4-HMAC-SHA256') }));
  assert.deepEqual([(await header()).status, (await query()).status], [200, 200]);
  assert.equal(await s3ErrorName(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }))), 'AccessDenied');
  await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: deny('s3:authType', 'REST-QUERY-STRING') }));
  assert.deepEqual([(await header()).status, (await query()).status], [200, 403]);
});

void test('--s3-sigv2 off: header-signed and presigned V2 requests and V2 forms answer 501 NotImplemented, nothing made', async () => {
  const create = await v2(off, { method: 'PUT', pathAndQuery: '/sigv2-off', headers: { date: httpDate() } });
  assert.deepEqual([create.status, create.code], [501, 'NotImplemented']);
  const offS3 = off.client();
  assert.equal(await s3ErrorName(offS3.send(new HeadBucketCommand({ Bucket: 'sigv2-off' }))), 'NotFound');
  await offS3.send(new CreateBucketCommand({ Bucket: 'sigv2-off' }));
  const url = presignV2(ACCESS_KEY, SECRET_KEY, { method: 'PUT', pathAndQuery: '/sigv2-off/p', headers: {}, expires: Math.floor(Date.now() / 1000) + 600 });
  const presigned = await sendRaw(off.port, 'PUT', url, { 'content-length': '1' }, Buffer.from('p'));
  assert.deepEqual([presigned.status, presigned.code], [501, 'NotImplemented']);
  assert.equal(await s3ErrorName(offS3.send(new HeadObjectCommand({ Bucket: 'sigv2-off', Key: 'p' }))), 'NotFound');
  const fields = formFieldsV2(ACCESS_KEY, SECRET_KEY, { expiration: new Date(Date.now() + 600_000).toISOString(), conditions: [] });
  const res = await fetch(`${off.endpoint}/sigv2-off`, { method: 'POST', headers: { 'content-type': FORM_CONTENT_TYPE }, body: formBody([['key', 'f'], ...fields], Buffer.from('f')) });
  assert.equal(res.status, 501);
  assert.match(await res.text(), /<Code>NotImplemented<\/Code>/);
  assert.equal(await s3ErrorName(offS3.send(new HeadObjectCommand({ Bucket: 'sigv2-off', Key: 'f' }))), 'NotFound');
});
