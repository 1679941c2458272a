// Listing, bucket and object basics, POST forms, GET conditions and request
// headers, checked against what AWS documents for them (the behaviours the
// first part of an S3 conformance suite exercises: docs/s3tests/s3t1.md
// lists each of its functions and where it is checked).
//
// Strategy: one node over the real store, a bucket per test, the AWS SDK
// for what the SDK can send and requests signed by the SDK's own signer
// (testing/s3_wire.ts) or sent raw on a socket for what it cannot (a
// garbage max-keys, an Expect header, a control character in a header,
// Signature Version 2). Each test asserts the exact answer AWS gives, so a
// listing field dropped, a code changed or a refusal turned into an accept
// fails it.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { after, before, test } from 'node:test';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import type { ListObjectsCommandOutput, ListObjectsV2CommandOutput, S3Client } from '@aws-sdk/client-s3';
import { FORM_CONTENT_TYPE, formBody, signingFields } from './post_form.js';
import type { S3Node } from './s3_harness.js';
import { ACCESS_KEY, SECRET_KEY, s3ErrorName, startS3Node } from './s3_harness.js';
import { sendRaw, sendSigned } from './s3_wire.js';

let node: S3Node;
let s3: S3Client;
let bucketCount = 0;

before(async () => {
  node = await startS3Node();
  s3 = node.client();
});

after(async () => {
  await node.stop();
});

/** A new bucket holding `keys`, each object's body its own key. */
async function bucketWith(keys: readonly string[]): Promise<string> {
  bucketCount += 1;
  const bucket = `s3t1-${bucketCount}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
  return bucket;
}

const keysOf = (out: ListObjectsCommandOutput | ListObjectsV2CommandOutput): string[] => (out.Contents ?? []).map((c) => c.Key ?? '');
const prefixesOf = (out: ListObjectsCommandOutput | ListObjectsV2CommandOutput): string[] => (out.CommonPrefixes ?? []).map((c) => c.Prefix ?? '');

void test('ListObjects v1 pages a delimited listing by NextMarker: keys and common prefixes each count toward max-keys', async () => {
  const bucket = await bucketWith(['asdf', 'boo/bar', 'boo/baz/xyzzy', 'cquux/thud', 'cquux/bla']);
  const page = (marker: string, maxKeys: number, prefix = ''): Promise<ListObjectsCommandOutput> =>
    s3.send(new ListObjectsCommand({ Bucket: bucket, Delimiter: '/', Marker: marker, MaxKeys: maxKeys, Prefix: prefix }));
  const expectPage = async (marker: string, maxKeys: number, prefix: string, want: { keys: string[]; prefixes: string[]; next: string | undefined }): Promise<string> => {
    const out = await page(marker, maxKeys, prefix);
    assert.deepEqual([keysOf(out), prefixesOf(out)], [want.keys, want.prefixes], `marker ${marker} max ${maxKeys} prefix ${prefix}`);
    assert.equal(out.IsTruncated, want.next !== undefined);
    assert.equal(out.NextMarker, want.next);
    return out.NextMarker ?? '';
  };
  let m = await expectPage('', 1, '', { keys: ['asdf'], prefixes: [], next: 'asdf' });
  m = await expectPage(m, 1, '', { keys: [], prefixes: ['boo/'], next: 'boo/' });
  await expectPage(m, 1, '', { keys: [], prefixes: ['cquux/'], next: undefined });
  m = await expectPage('', 2, '', { keys: ['asdf'], prefixes: ['boo/'], next: 'boo/' });
  await expectPage(m, 2, '', { keys: [], prefixes: ['cquux/'], next: undefined });
  m = await expectPage('', 1, 'boo/', { keys: ['boo/bar'], prefixes: [], next: 'boo/bar' });
  await expectPage(m, 1, 'boo/', { keys: [], prefixes: ['boo/baz/'], next: undefined });
  await expectPage('', 2, 'boo/', { keys: ['boo/bar'], prefixes: ['boo/baz/'], next: undefined });
});

void test('ListObjectsV2 pages a delimited listing by continuation token; the last page has no token; KeyCount counts keys and prefixes', async () => {
  const bucket = await bucketWith(['_obj1_', '_under1/bar', '_under1/baz/xyzzy', '_under2/thud', '_under2/bla']);
  const page = async (token: string | undefined, maxKeys: number, prefix: string, keys: string[], prefixes: string[]): Promise<string | undefined> => {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: '/', MaxKeys: maxKeys, Prefix: prefix, ...(token === undefined ? { StartAfter: '' } : { ContinuationToken: token }) }));
    assert.deepEqual([keysOf(out), prefixesOf(out)], [keys, prefixes]);
    assert.equal(out.KeyCount, keys.length + prefixes.length);
    assert.equal(out.IsTruncated, out.NextContinuationToken !== undefined);
    return out.NextContinuationToken;
  };
  let t = await page(undefined, 1, '', ['_obj1_'], []);
  t = await page(t, 1, '', [], ['_under1/']);
  assert.equal(await page(t, 1, '', [], ['_under2/']), undefined);
  t = await page(undefined, 2, '', ['_obj1_'], ['_under1/']);
  assert.equal(await page(t, 2, '', [], ['_under2/']), undefined);
  t = await page(undefined, 1, '_under1/', ['_under1/bar'], []);
  assert.equal(await page(t, 1, '_under1/', [], ['_under1/baz/']), undefined);
  assert.equal(await page(undefined, 2, '_under1/', ['_under1/bar'], ['_under1/baz/']), undefined);
});

void test('a delimiter of any character (a, %, space, dot, newline) splits keys at its first occurrence after the prefix; a key ending in the delimiter under that prefix is a key', async () => {
  for (const [delimiter, keys, wantKeys, wantPrefixes] of [
    ['a', ['bar', 'baz', 'cab', 'foo'], ['foo'], ['ba', 'ca']],
    ['%', ['b%ar', 'b%az', 'c%ab', 'foo'], ['foo'], ['b%', 'c%']],
    [' ', ['b ar', 'b az', 'c ab', 'foo'], ['foo'], ['b ', 'c ']],
    ['.', ['b.ar', 'b.az', 'c.ab', 'foo'], ['foo'], ['b.', 'c.']],
    ['/', ['bar', 'baz', 'cab', 'foo'], ['bar', 'baz', 'cab', 'foo'], []],
  ] as const) {
    const bucket = await bucketWith(keys);
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: bucket, Delimiter: delimiter }));
    const v2 = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: delimiter }));
    for (const out of [v1, v2]) {
      assert.equal(out.Delimiter, delimiter);
      assert.deepEqual([keysOf(out), prefixesOf(out)], [wantKeys, wantPrefixes], JSON.stringify(delimiter));
    }
  }
  const bucket = await bucketWith(['asdf/']);
  const v1 = await s3.send(new ListObjectsCommand({ Bucket: bucket, Delimiter: '/', Prefix: 'asdf/', MaxKeys: 1000 }));
  const v2 = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: '/', Prefix: 'asdf/', MaxKeys: 1000 }));
  for (const out of [v1, v2]) assert.deepEqual([keysOf(out), prefixesOf(out), out.IsTruncated], [['asdf/'], [], false]);
});

void test('a newline as delimiter, prefix, marker or start-after is echoed as sent (the SDK trims element text, so the XML is read raw)', async () => {
  const bucket = await bucketWith(['bar', 'baz', 'cab', 'foo']);
  const all = '<Key>bar</Key>.*<Key>baz</Key>.*<Key>cab</Key>.*<Key>foo</Key>';
  for (const [query, element, keys] of [
    [{ delimiter: '\n' }, 'Delimiter', all],
    [{ 'list-type': '2', delimiter: '\n' }, 'Delimiter', all],
    [{ prefix: '\n' }, 'Prefix', undefined],
    [{ 'list-type': '2', prefix: '\n' }, 'Prefix', undefined],
    [{ marker: '\n' }, 'Marker', all],
    [{ 'list-type': '2', 'start-after': '\n' }, 'StartAfter', all],
  ] as const) {
    const answer = await sendSigned(node.port, { method: 'GET', path: `/${bucket}`, query });
    assert.equal(answer.status, 200);
    assert.ok(answer.body.includes(`<${element}>\n</${element}>`), `${JSON.stringify(query)}: ${answer.body}`);
    assert.ok(!answer.body.includes('<CommonPrefixes>'));
    if (keys === undefined) assert.ok(!answer.body.includes('<Contents>'));
    else assert.match(answer.body, new RegExp(keys, 's'));
  }
});

void test('an empty or absent delimiter lists every key and the answer carries no Delimiter element', async () => {
  const keys = ['bar', 'baz', 'cab', 'foo'];
  const bucket = await bucketWith(keys);
  for (const delimiter of ['', undefined]) {
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: bucket, ...(delimiter === undefined ? {} : { Delimiter: delimiter }) }));
    const v2 = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ...(delimiter === undefined ? {} : { Delimiter: delimiter }) }));
    for (const out of [v1, v2]) {
      assert.equal(out.Delimiter, undefined);
      assert.deepEqual([keysOf(out), prefixesOf(out)], [keys, []]);
    }
  }
});

void test('prefix with and without a delimiter: the answer echoes Prefix (empty, a newline, one matching nothing) and lists only what starts with it', async () => {
  const bucket = await bucketWith(['foo/bar', 'foo/baz', 'quux']);
  for (const [prefix, want] of [['foo/', ['foo/bar', 'foo/baz']], ['', ['foo/bar', 'foo/baz', 'quux']], ['d', []]] as const) {
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: bucket, Prefix: prefix }));
    const v2 = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    for (const out of [v1, v2]) assert.deepEqual([out.Prefix, keysOf(out), prefixesOf(out)], [prefix, want, []], JSON.stringify(prefix));
  }
  const alt = await bucketWith(['bar', 'bazar', 'cab', 'foo']);
  for (const out of [
    await s3.send(new ListObjectsCommand({ Bucket: alt, Prefix: 'ba', Delimiter: 'a' })),
    await s3.send(new ListObjectsV2Command({ Bucket: alt, Prefix: 'ba', Delimiter: 'a' })),
  ]) assert.deepEqual([out.Prefix, out.Delimiter, keysOf(out), prefixesOf(out)], ['ba', 'a', ['bar'], ['baza']]);
  const deep = await bucketWith(['b/a/c', 'b/a/g', 'b/a/r', 'g']);
  for (const [prefix, delimiter, want] of [['/', 'd', []], ['b', 'z', ['b/a/c', 'b/a/g', 'b/a/r']], ['y', 'z', []]] as const) {
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: deep, Prefix: prefix, Delimiter: delimiter }));
    const v2 = await s3.send(new ListObjectsV2Command({ Bucket: deep, Prefix: prefix, Delimiter: delimiter }));
    for (const out of [v1, v2]) assert.deepEqual([keysOf(out), prefixesOf(out)], [want, []]);
  }
});

void test('a delimited listing does not skip keys after a common prefix of a thousand keys', async () => {
  const many = ['0/', ...Array.from({ length: 999 }, (_, i) => `0/${1000 + i}`)];
  const after = ['1999', '1999#', '1999+', '2000'];
  const bucket = await bucketWith([]);
  for (let i = 0; i < many.length; i += 50) {
    await Promise.all(many.slice(i, i + 50).map((key) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: new Uint8Array(0) }))));
  }
  for (const key of after) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: new Uint8Array(0) }));
  const out = await s3.send(new ListObjectsCommand({ Bucket: bucket, Delimiter: '/' }));
  assert.deepEqual([keysOf(out), prefixesOf(out)], [after, ['0/']]);
});

void test('max-keys: 1 truncates, 0 answers nothing and is not truncated, absent is 1000; a non-number is 400 InvalidArgument', async () => {
  const keys = ['bar', 'baz', 'foo', 'quxx'];
  const bucket = await bucketWith(keys);
  const one = await s3.send(new ListObjectsCommand({ Bucket: bucket, MaxKeys: 1 }));
  assert.deepEqual([keysOf(one), one.IsTruncated], [['bar'], true]);
  const rest = await s3.send(new ListObjectsCommand({ Bucket: bucket, Marker: 'bar' }));
  assert.deepEqual([keysOf(rest), rest.IsTruncated], [keys.slice(1), false]);
  const oneV2 = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1 }));
  assert.deepEqual([keysOf(oneV2), oneV2.IsTruncated], [['bar'], true]);
  const restV2 = await s3.send(new ListObjectsV2Command({ Bucket: bucket, StartAfter: 'bar' }));
  assert.deepEqual([keysOf(restV2), restV2.IsTruncated], [keys.slice(1), false]);
  for (const out of [await s3.send(new ListObjectsCommand({ Bucket: bucket, MaxKeys: 0 })), await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 0 }))]) {
    assert.deepEqual([keysOf(out), out.IsTruncated], [[], false]);
  }
  for (const out of [await s3.send(new ListObjectsCommand({ Bucket: bucket })), await s3.send(new ListObjectsV2Command({ Bucket: bucket }))]) {
    assert.deepEqual([keysOf(out), out.IsTruncated, out.MaxKeys], [keys, false, 1000]);
  }
  const bad = await sendSigned(node.port, { method: 'GET', path: `/${bucket}`, query: { 'max-keys': 'blah' } });
  assert.deepEqual([bad.status, bad.code], [400, 'InvalidArgument']);
});

void test('marker and start-after: echoed as given (empty, a newline, a key not stored, one after every key) and listing starts after them', async () => {
  const keys = ['bar', 'baz', 'foo', 'quxx'];
  const bucket = await bucketWith(keys);
  const none = await s3.send(new ListObjectsCommand({ Bucket: bucket }));
  assert.equal(none.Marker, '');
  for (const [marker, want] of [['', keys], ['blah', ['foo', 'quxx']], ['zzz', []]] as const) {
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: bucket, Marker: marker }));
    assert.deepEqual([v1.Marker, keysOf(v1), v1.IsTruncated], [marker, want, false], JSON.stringify(marker));
    if (marker === '') continue;
    const v2 = await s3.send(new ListObjectsV2Command({ Bucket: bucket, StartAfter: marker }));
    assert.deepEqual([v2.StartAfter, keysOf(v2), v2.IsTruncated], [marker, want, false], JSON.stringify(marker));
  }
});

void test('continuation tokens: an empty one is echoed and lists from the start; a real one is echoed and resumes; with start-after both are echoed', async () => {
  const keys = ['bar', 'baz', 'foo', 'quxx'];
  const bucket = await bucketWith(keys);
  const empty = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: '' }));
  assert.deepEqual([empty.ContinuationToken, empty.IsTruncated, keysOf(empty)], ['', false, keys]);
  const first = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1 }));
  const token = first.NextContinuationToken;
  assert.ok(token !== undefined);
  const second = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
  assert.deepEqual([second.ContinuationToken, second.IsTruncated, keysOf(second)], [token, false, keys.slice(1)]);
  const firstAfter = await s3.send(new ListObjectsV2Command({ Bucket: bucket, StartAfter: 'bar', MaxKeys: 1 }));
  const token2 = firstAfter.NextContinuationToken;
  assert.ok(token2 !== undefined);
  const both = await s3.send(new ListObjectsV2Command({ Bucket: bucket, StartAfter: 'bar', ContinuationToken: token2 }));
  assert.deepEqual([both.ContinuationToken, both.StartAfter, both.IsTruncated, keysOf(both)], [token2, 'bar', false, ['foo', 'quxx']]);
});

void test('listing entries agree with HEAD and the object ACL: ETag, Size, LastModified to the second, Owner (v1 always, v2 only with fetch-owner)', async () => {
  const bucket = await bucketWith(['bar', 'baz', 'foo']);
  const v1 = await s3.send(new ListObjectsCommand({ Bucket: bucket }));
  for (const entry of v1.Contents ?? []) {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: entry.Key }));
    const acl = await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: entry.Key }));
    assert.equal(entry.ETag, head.ETag);
    assert.equal(entry.Size, head.ContentLength);
    assert.equal(Math.floor((entry.LastModified?.getTime() ?? 0) / 1000), Math.floor((head.LastModified?.getTime() ?? 0) / 1000));
    assert.deepEqual([entry.Owner?.ID, entry.Owner?.DisplayName], [acl.Owner?.ID, acl.Owner?.DisplayName]);
  }
  const plain = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  const notAsked = await s3.send(new ListObjectsV2Command({ Bucket: bucket, FetchOwner: false }));
  const asked = await s3.send(new ListObjectsV2Command({ Bucket: bucket, FetchOwner: true }));
  assert.equal(plain.Contents?.[0]?.Owner, undefined);
  assert.equal(notAsked.Contents?.[0]?.Owner, undefined);
  assert.ok(asked.Contents?.[0]?.Owner?.ID !== undefined);
});

void test('anonymous listing: allowed on a public-read bucket, 403 AccessDenied on a private one', async () => {
  const open = await bucketWith(['a']);
  await s3.send(new PutBucketAclCommand({ Bucket: open, ACL: 'public-read' }));
  const closed = await bucketWith(['a']);
  for (const query of ['', '?list-type=2']) {
    assert.equal((await fetch(`${node.endpoint}/${open}${query}`)).status, 200);
    const refused = await fetch(`${node.endpoint}/${closed}${query}`);
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /<Code>AccessDenied<\/Code>/);
  }
});

void test('a missing bucket: listing, DeleteBucket and PutObject answer 404 NoSuchBucket; a bucket with an object is 409 BucketNotEmpty; a missing key 404 NoSuchKey whose RequestId matches the header', async () => {
  for (const call of [
    s3.send(new ListObjectsCommand({ Bucket: 's3t1-missing' })),
    s3.send(new ListObjectsV2Command({ Bucket: 's3t1-missing' })),
    s3.send(new DeleteBucketCommand({ Bucket: 's3t1-missing' })),
    s3.send(new PutObjectCommand({ Bucket: 's3t1-missing', Key: 'foo', Body: 'foo' })),
  ]) assert.equal(await s3ErrorName(call), 'NoSuchBucket');
  const full = await bucketWith(['foo']);
  assert.equal(await s3ErrorName(s3.send(new DeleteBucketCommand({ Bucket: full }))), 'BucketNotEmpty');
  const gone = await bucketWith([]);
  await s3.send(new DeleteBucketCommand({ Bucket: gone }));
  assert.equal(await s3ErrorName(s3.send(new DeleteBucketCommand({ Bucket: gone }))), 'NoSuchBucket');
  const answer = await sendSigned(node.port, { method: 'GET', path: `/${full}/bar` });
  assert.deepEqual([answer.status, answer.code], [404, 'NoSuchKey']);
  const bodyId = /<RequestId>([^<]+)<\/RequestId>/.exec(answer.body)?.[1];
  assert.ok(bodyId !== undefined);
  assert.equal(bodyId, answer.headers['x-amz-request-id']);
});

void test('fifty concurrent PutBucketAcl calls all succeed', async () => {
  const bucket = await bucketWith([]);
  const results = await Promise.all(Array.from({ length: 50 }, () => s3ErrorName(s3.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'public-read' })))));
  assert.deepEqual(new Set(results), new Set(['no error']));
});

void test('DeleteObjects deletes up to 1000 keys (again: each reported Deleted) and refuses 1001 with 400', async () => {
  const bucket = await bucketWith(['key0', 'key1', 'key2']);
  const objects = { Objects: ['key0', 'key1', 'key2'].map((Key) => ({ Key })) };
  for (let round = 0; round < 2; round++) {
    const out = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: objects }));
    assert.deepEqual([out.Deleted?.length, out.Errors], [3, undefined]);
    assert.equal((await s3.send(new ListObjectsCommand({ Bucket: bucket }))).Contents, undefined);
  }
  const tooMany = Buffer.from(`<Delete>${Array.from({ length: 1001 }, (_, i) => `<Object><Key>key-${i}</Key></Object>`).join('')}</Delete>`);
  const refused = await sendSigned(node.port, { method: 'POST', path: `/${bucket}`, query: { delete: '' }, body: tooMany, headers: { 'content-md5': createHash('md5').update(tooMany).digest('base64') } });
  assert.equal(refused.status, 400);
});

void test('objects: empty body HEADs as length 0; ETag is the MD5; Cache-Control and Expires come back; overwrite replaces body and metadata; empty metadata values survive', async () => {
  const bucket = await bucketWith([]);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'empty', Body: new Uint8Array(0) }));
  assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'empty' }))).ContentLength, 0);
  const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'foo', Body: 'bar', CacheControl: 'public, max-age=14400', Expires: new Date('2030-01-02T03:04:05Z'), Metadata: { meta1: 'bar' } }));
  assert.equal(put.ETag, '"37b51d194a7513e45b56f6524f2d51f2"');
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'foo' }));
  assert.equal(head.CacheControl, 'public, max-age=14400');
  assert.equal(head.Expires?.toISOString(), '2030-01-02T03:04:05.000Z');
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'foo', Body: 'soup' }));
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'foo' }));
  assert.equal(await got.Body?.transformToString(), 'soup');
  assert.deepEqual(got.Metadata, {});
  for (const value of ['mymeta', '']) {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'meta', Body: 'bar', Metadata: { meta1: value } }));
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'meta' }));
    assert.equal(out.Metadata?.meta1, value);
  }
});

/** Send `head` (request line and headers, CRLF-separated) and `body` on a fresh socket; the status of the answer. */
function rawStatus(head: string, body = ''): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(node.port, '127.0.0.1', () => socket.end(`${head}\r\n\r\n${body}`));
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)));
  });
}

void test('metadata with a control character (prefix, suffix, infix) is refused with 400, nothing stored', async () => {
  const bucket = await bucketWith([]);
  for (const value of ['\x04mymeta', '\x04w', 'h\x04', 'h\x04w']) {
    const status = await rawStatus(`PUT /${bucket}/bar HTTP/1.1\r\nHost: 127.0.0.1:${node.port}\r\nContent-Length: 3\r\nx-amz-meta-meta1: ${value}`, 'bar');
    assert.equal(status, 400, JSON.stringify(value));
  }
  assert.equal(await s3ErrorName(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'bar' }))), 'NotFound');
});

void test('GET conditions: If-Match with the ETag reads, a wrong one is 412 PreconditionFailed; If-None-Match with the ETag is 304, another reads', async () => {
  const bucket = await bucketWith([]);
  const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'foo', Body: 'bar' }));
  /** The body read, or the error's name. */
  const read = async (cond: { IfMatch?: string; IfNoneMatch?: string }): Promise<string> => {
    let body = '';
    const name = await s3ErrorName(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'foo', ...cond })).then(async (out) => (body = (await out.Body?.transformToString()) ?? '')));
    return name === 'no error' ? body : name;
  };
  assert.equal(await read({ IfMatch: put.ETag ?? '' }), 'bar');
  assert.equal(await read({ IfMatch: '"ABCORZ"' }), 'PreconditionFailed');
  assert.equal(await read({ IfNoneMatch: put.ETag ?? '' }), '304');
  assert.equal(await read({ IfNoneMatch: 'ABCORZ' }), 'bar');
});

void test('request headers: Content-MD5 too short or empty is 400 InvalidDigest, wrong is 400 BadDigest; Expect of any value is served; a negative Content-Length is 400', async () => {
  const bucket = await bucketWith([]);
  const body = Buffer.from('bar');
  for (const [md5, code] of [['YWJyYWNhZGFicmE=', 'InvalidDigest'], ['', 'InvalidDigest'], ['rL0Y20xC+Fzt72VPzMSk2A==', 'BadDigest']] as const) {
    const answer = await sendSigned(node.port, { method: 'PUT', path: `/${bucket}/foo`, headers: { 'content-md5': md5 }, body });
    assert.deepEqual([answer.status, answer.code], [400, code], JSON.stringify(md5));
  }
  for (const expect of ['200', '']) {
    const put = await sendSigned(node.port, { method: 'PUT', path: `/${bucket}/e${expect}`, headers: { expect }, body });
    assert.equal(put.status, 200, `Expect: ${expect}`);
    const create = await sendSigned(node.port, { method: 'PUT', path: `/s3t1-expect${expect}`, headers: { expect } });
    assert.equal(create.status, 200, `Expect: ${expect} on CreateBucket`);
  }
  for (const type of ['text/plain', '']) {
    const put = await sendSigned(node.port, { method: 'PUT', path: `/${bucket}/t`, headers: { 'content-type': type }, body });
    assert.equal(put.status, 200);
  }
  assert.equal(await rawStatus(`PUT /${bucket}/neg HTTP/1.1\r\nHost: 127.0.0.1:${node.port}\r\nContent-Length: -1`), 400);
  assert.equal(await rawStatus(`PUT /s3t1-neg HTTP/1.1\r\nHost: 127.0.0.1:${node.port}\r\nContent-Length: -1`), 400);
});

void test('authorization: none or empty is 403 AccessDenied; a canned ACL header that is not one is 400; a Date beside x-amz-date is fine', async () => {
  const bucket = await bucketWith([]);
  for (const auth of [undefined, '']) {
    const headers: Record<string, string> = { 'content-length': '3', ...(auth === undefined ? {} : { authorization: auth }) };
    const put = await sendRaw(node.port, 'PUT', `/${bucket}/foo`, headers, Buffer.from('bar'));
    assert.deepEqual([put.status, put.code], [403, 'AccessDenied']);
    const create = await sendRaw(node.port, 'PUT', '/s3t1-noauth', auth === undefined ? {} : { authorization: auth }, undefined);
    assert.deepEqual([create.status, create.code], [403, 'AccessDenied']);
  }
  const bad = await sendSigned(node.port, { method: 'PUT', path: `/${bucket}`, query: { acl: '' }, headers: { 'x-amz-acl': 'public-ready' } });
  assert.equal(bad.status, 400);
  const dated = await sendSigned(node.port, { method: 'PUT', path: `/${bucket}/dated`, headers: { date: new Date().toUTCString() }, body: Buffer.from('bar') });
  assert.equal(dated.status, 200);
});

void test('POST form: an anonymous form into a public-read-write bucket stores the file (204); success_action_status 201 answers the key, another value 204 with no body', async () => {
  const bucket = await bucketWith([]);
  await s3.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'public-read-write' }));
  const post = (fields: Array<[string, string]>): Promise<Response> =>
    fetch(`${node.endpoint}/${bucket}`, { method: 'POST', headers: { 'content-type': FORM_CONTENT_TYPE }, body: formBody(fields, Buffer.from('bar')) });
  const plain = await post([['key', 'foo.txt'], ['acl', 'public-read'], ['Content-Type', 'text/plain']]);
  assert.equal(plain.status, 204, await plain.text());
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'foo.txt' }));
  assert.equal(await got.Body?.transformToString(), 'bar');
  const created = await post([['key', 'foo.txt'], ['acl', 'public-read'], ['success_action_status', '201'], ['Content-Type', 'text/plain']]);
  assert.equal(created.status, 201);
  assert.match(await created.text(), /<Key>foo\.txt<\/Key>/);
  const other = await post([['key', 'foo.txt'], ['acl', 'public-read'], ['success_action_status', '404'], ['Content-Type', 'text/plain']]);
  assert.equal(other.status, 204);
  assert.equal(await other.text(), '');
});

void test('POST form signed with SigV4: a policy with conditions in any case, expiration and conditions spelt exactly, content-length-range checked', async () => {
  const bucket = await bucketWith([]);
  const nowMs = Date.now();
  const send = async (conditions: readonly unknown[] | undefined, fields: Record<string, string>, file = 'bar'): Promise<number> => {
    const signed = signingFields({ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY, nowMs, bucket, key: 'foo.txt', ...(conditions === undefined ? {} : { conditions }), fields });
    const body = formBody([['key', 'foo.txt'], ...signed.fields, ...Object.entries(fields)], Buffer.from(file));
    const res = await fetch(`${node.endpoint}/${bucket}`, { method: 'POST', headers: { 'content-type': FORM_CONTENT_TYPE }, body });
    await res.text();
    return res.status;
  };
  assert.equal(await send([['content-length-range', 0, 1024]], { 'Content-Type': 'text/plain' }), 204);
  assert.equal(await send([['content-length-range', 0, 0]], {}), 400);
  assert.equal(await send([['content-length-range', 512, 1000]], {}), 400);
});
