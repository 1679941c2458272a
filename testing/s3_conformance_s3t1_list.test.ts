// ListObjects v1 and v2, ListObjectVersions' entries: what the first part
// of an S3 conformance suite checks of listings (docs/s3tests/s3t1.md lists
// each of its functions and where it is checked), held to what AWS
// documents.
//
// Strategy: one node over the real store, a bucket per test, the AWS SDK
// for each listing, and the raw XML (signed by the SDK's signer,
// testing/s3_wire.ts) where the SDK would hide the answer: it trims
// element text, so a newline echoed as Delimiter is read raw, and it does
// not decode url-encoded keys. Each test asserts exact pages, markers and
// echoed fields, so a dropped element or a page boundary off by one fails.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  GetObjectAclCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import type { ListObjectsCommandOutput } from '@aws-sdk/client-s3';
import { conformanceNode, keysOf, prefixesOf } from './s3_conformance_s3t1_shared.js';
import { sendSigned } from './s3_wire.js';

const c = conformanceNode('s3t1-list');

void test('ListObjects v1 pages a delimited listing by NextMarker: keys and common prefixes each count toward max-keys', async () => {
  const bucket = await c.bucketWith(['asdf', 'boo/bar', 'boo/baz/xyzzy', 'cquux/thud', 'cquux/bla']);
  const page = (marker: string, maxKeys: number, prefix = ''): Promise<ListObjectsCommandOutput> =>
    c.s3().send(new ListObjectsCommand({ Bucket: bucket, Delimiter: '/', Marker: marker, MaxKeys: maxKeys, Prefix: prefix }));
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
  const bucket = await c.bucketWith(['_obj1_', '_under1/bar', '_under1/baz/xyzzy', '_under2/thud', '_under2/bla']);
  const page = async (token: string | undefined, maxKeys: number, prefix: string, keys: string[], prefixes: string[]): Promise<string | undefined> => {
    const out = await c.s3().send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: '/', MaxKeys: maxKeys, Prefix: prefix, ...(token === undefined ? { StartAfter: '' } : { ContinuationToken: token }) }));
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
    const bucket = await c.bucketWith(keys);
    const v1 = await c.s3().send(new ListObjectsCommand({ Bucket: bucket, Delimiter: delimiter }));
    const v2 = await c.s3().send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: delimiter }));
    for (const out of [v1, v2]) {
      assert.equal(out.Delimiter, delimiter);
      assert.deepEqual([keysOf(out), prefixesOf(out)], [wantKeys, wantPrefixes], JSON.stringify(delimiter));
    }
  }
  const bucket = await c.bucketWith(['asdf/']);
  const v1 = await c.s3().send(new ListObjectsCommand({ Bucket: bucket, Delimiter: '/', Prefix: 'asdf/', MaxKeys: 1000 }));
  const v2 = await c.s3().send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: '/', Prefix: 'asdf/', MaxKeys: 1000 }));
  for (const out of [v1, v2]) assert.deepEqual([keysOf(out), prefixesOf(out), out.IsTruncated], [['asdf/'], [], false]);
});

void test('a newline as delimiter, prefix, marker or start-after is echoed as sent (the SDK trims element text, so the XML is read raw)', async () => {
  const bucket = await c.bucketWith(['bar', 'baz', 'cab', 'foo']);
  const all = '<Key>bar</Key>.*<Key>baz</Key>.*<Key>cab</Key>.*<Key>foo</Key>';
  for (const [query, element, keys] of [
    [{ delimiter: '\n' }, 'Delimiter', all],
    [{ 'list-type': '2', delimiter: '\n' }, 'Delimiter', all],
    [{ prefix: '\n' }, 'Prefix', undefined],
    [{ 'list-type': '2', prefix: '\n' }, 'Prefix', undefined],
    [{ marker: '\n' }, 'Marker', all],
    [{ 'list-type': '2', 'start-after': '\n' }, 'StartAfter', all],
  ] as const) {
    const answer = await sendSigned(c.node().port, { method: 'GET', path: `/${bucket}`, query });
    assert.equal(answer.status, 200);
    assert.ok(answer.body.includes(`<${element}>\n</${element}>`), `${JSON.stringify(query)}: ${answer.body}`);
    assert.ok(!answer.body.includes('<CommonPrefixes>'));
    if (keys === undefined) assert.ok(!answer.body.includes('<Contents>'));
    else assert.match(answer.body, new RegExp(keys, 's'));
  }
});

void test('an empty or absent delimiter lists every key and the answer carries no Delimiter element', async () => {
  const keys = ['bar', 'baz', 'cab', 'foo'];
  const bucket = await c.bucketWith(keys);
  for (const delimiter of ['', undefined]) {
    const v1 = await c.s3().send(new ListObjectsCommand({ Bucket: bucket, ...(delimiter === undefined ? {} : { Delimiter: delimiter }) }));
    const v2 = await c.s3().send(new ListObjectsV2Command({ Bucket: bucket, ...(delimiter === undefined ? {} : { Delimiter: delimiter }) }));
    for (const out of [v1, v2]) {
      assert.equal(out.Delimiter, undefined);
      assert.deepEqual([keysOf(out), prefixesOf(out)], [keys, []]);
    }
  }
});

void test('prefix with and without a delimiter: the answer echoes Prefix (empty, a newline, one matching nothing) and lists only what starts with it', async () => {
  const bucket = await c.bucketWith(['foo/bar', 'foo/baz', 'quux']);
  for (const [prefix, want] of [['foo/', ['foo/bar', 'foo/baz']], ['', ['foo/bar', 'foo/baz', 'quux']], ['d', []]] as const) {
    const v1 = await c.s3().send(new ListObjectsCommand({ Bucket: bucket, Prefix: prefix }));
    const v2 = await c.s3().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    for (const out of [v1, v2]) assert.deepEqual([out.Prefix, keysOf(out), prefixesOf(out)], [prefix, want, []], JSON.stringify(prefix));
  }
  const alt = await c.bucketWith(['bar', 'bazar', 'cab', 'foo']);
  for (const out of [
    await c.s3().send(new ListObjectsCommand({ Bucket: alt, Prefix: 'ba', Delimiter: 'a' })),
    await c.s3().send(new ListObjectsV2Command({ Bucket: alt, Prefix: 'ba', Delimiter: 'a' })),
  ]) assert.deepEqual([out.Prefix, out.Delimiter, keysOf(out), prefixesOf(out)], ['ba', 'a', ['bar'], ['baza']]);
  const deep = await c.bucketWith(['b/a/c', 'b/a/g', 'b/a/r', 'g']);
  for (const [prefix, delimiter, want] of [['/', 'd', []], ['b', 'z', ['b/a/c', 'b/a/g', 'b/a/r']], ['y', 'z', []]] as const) {
    const v1 = await c.s3().send(new ListObjectsCommand({ Bucket: deep, Prefix: prefix, Delimiter: delimiter }));
    const v2 = await c.s3().send(new ListObjectsV2Command({ Bucket: deep, Prefix: prefix, Delimiter: delimiter }));
    for (const out of [v1, v2]) assert.deepEqual([keysOf(out), prefixesOf(out)], [want, []]);
  }
});

void test('max-keys: 1 truncates, 0 answers nothing and is not truncated, absent is 1000; a non-number is 400 InvalidArgument', async () => {
  const keys = ['bar', 'baz', 'foo', 'quxx'];
  const bucket = await c.bucketWith(keys);
  const one = await c.s3().send(new ListObjectsCommand({ Bucket: bucket, MaxKeys: 1 }));
  assert.deepEqual([keysOf(one), one.IsTruncated], [['bar'], true]);
  const rest = await c.s3().send(new ListObjectsCommand({ Bucket: bucket, Marker: 'bar' }));
  assert.deepEqual([keysOf(rest), rest.IsTruncated], [keys.slice(1), false]);
  const oneV2 = await c.s3().send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1 }));
  assert.deepEqual([keysOf(oneV2), oneV2.IsTruncated], [['bar'], true]);
  const restV2 = await c.s3().send(new ListObjectsV2Command({ Bucket: bucket, StartAfter: 'bar' }));
  assert.deepEqual([keysOf(restV2), restV2.IsTruncated], [keys.slice(1), false]);
  for (const out of [await c.s3().send(new ListObjectsCommand({ Bucket: bucket, MaxKeys: 0 })), await c.s3().send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 0 }))]) {
    assert.deepEqual([keysOf(out), out.IsTruncated], [[], false]);
  }
  for (const out of [await c.s3().send(new ListObjectsCommand({ Bucket: bucket })), await c.s3().send(new ListObjectsV2Command({ Bucket: bucket }))]) {
    assert.deepEqual([keysOf(out), out.IsTruncated, out.MaxKeys], [keys, false, 1000]);
  }
  const bad = await sendSigned(c.node().port, { method: 'GET', path: `/${bucket}`, query: { 'max-keys': 'blah' } });
  assert.deepEqual([bad.status, bad.code], [400, 'InvalidArgument']);
});

void test('marker and start-after: echoed as given (empty, a newline, a key not stored, one after every key) and listing starts after them', async () => {
  const keys = ['bar', 'baz', 'foo', 'quxx'];
  const bucket = await c.bucketWith(keys);
  const none = await c.s3().send(new ListObjectsCommand({ Bucket: bucket }));
  assert.equal(none.Marker, '');
  for (const [marker, want] of [['', keys], ['blah', ['foo', 'quxx']], ['zzz', []]] as const) {
    const v1 = await c.s3().send(new ListObjectsCommand({ Bucket: bucket, Marker: marker }));
    assert.deepEqual([v1.Marker, keysOf(v1), v1.IsTruncated], [marker, want, false], JSON.stringify(marker));
    if (marker === '') continue;
    const v2 = await c.s3().send(new ListObjectsV2Command({ Bucket: bucket, StartAfter: marker }));
    assert.deepEqual([v2.StartAfter, keysOf(v2), v2.IsTruncated], [marker, want, false], JSON.stringify(marker));
  }
});

void test('continuation tokens: an empty one is echoed and lists from the start; a real one is echoed and resumes; with start-after both are echoed', async () => {
  const keys = ['bar', 'baz', 'foo', 'quxx'];
  const bucket = await c.bucketWith(keys);
  const empty = await c.s3().send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: '' }));
  assert.deepEqual([empty.ContinuationToken, empty.IsTruncated, keysOf(empty)], ['', false, keys]);
  const first = await c.s3().send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1 }));
  const token = first.NextContinuationToken;
  assert.ok(token !== undefined);
  const second = await c.s3().send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
  assert.deepEqual([second.ContinuationToken, second.IsTruncated, keysOf(second)], [token, false, keys.slice(1)]);
  const firstAfter = await c.s3().send(new ListObjectsV2Command({ Bucket: bucket, StartAfter: 'bar', MaxKeys: 1 }));
  const token2 = firstAfter.NextContinuationToken;
  assert.ok(token2 !== undefined);
  const both = await c.s3().send(new ListObjectsV2Command({ Bucket: bucket, StartAfter: 'bar', ContinuationToken: token2 }));
  assert.deepEqual([both.ContinuationToken, both.StartAfter, both.IsTruncated, keysOf(both)], [token2, 'bar', false, ['foo', 'quxx']]);
});

void test('listing entries agree with HEAD and the object ACL: ETag, Size, LastModified to the second, Owner (v1 always, v2 only with fetch-owner)', async () => {
  const bucket = await c.bucketWith(['bar', 'baz', 'foo']);
  const v1 = await c.s3().send(new ListObjectsCommand({ Bucket: bucket }));
  for (const entry of v1.Contents ?? []) {
    const head = await c.s3().send(new HeadObjectCommand({ Bucket: bucket, Key: entry.Key }));
    const acl = await c.s3().send(new GetObjectAclCommand({ Bucket: bucket, Key: entry.Key }));
    assert.equal(entry.ETag, head.ETag);
    assert.equal(entry.Size, head.ContentLength);
    assert.equal(Math.floor((entry.LastModified?.getTime() ?? 0) / 1000), Math.floor((head.LastModified?.getTime() ?? 0) / 1000));
    assert.deepEqual([entry.Owner?.ID, entry.Owner?.DisplayName], [acl.Owner?.ID, acl.Owner?.DisplayName]);
  }
  const plain = await c.s3().send(new ListObjectsV2Command({ Bucket: bucket }));
  const notAsked = await c.s3().send(new ListObjectsV2Command({ Bucket: bucket, FetchOwner: false }));
  const asked = await c.s3().send(new ListObjectsV2Command({ Bucket: bucket, FetchOwner: true }));
  assert.equal(plain.Contents?.[0]?.Owner, undefined);
  assert.equal(notAsked.Contents?.[0]?.Owner, undefined);
  assert.ok(asked.Contents?.[0]?.Owner?.ID !== undefined);
});

void test('ListObjectVersions entries agree with HEAD and the object ACL: ETag, Size, VersionId, LastModified to the second, Owner', async () => {
  const bucket = await c.bucketWith([]);
  await c.s3().send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled', MFADelete: 'Disabled' } }));
  for (const key of ['bar', 'baz', 'foo']) await c.s3().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
  const versions = (await c.s3().send(new ListObjectVersionsCommand({ Bucket: bucket }))).Versions ?? [];
  assert.equal(versions.length, 3);
  for (const v of versions) {
    const head = await c.s3().send(new HeadObjectCommand({ Bucket: bucket, Key: v.Key }));
    const acl = await c.s3().send(new GetObjectAclCommand({ Bucket: bucket, Key: v.Key }));
    assert.deepEqual([v.ETag, v.Size, v.VersionId], [head.ETag, head.ContentLength, head.VersionId]);
    assert.equal(Math.floor((v.LastModified?.getTime() ?? 0) / 1000), Math.floor((head.LastModified?.getTime() ?? 0) / 1000));
    assert.deepEqual([v.Owner?.ID, v.Owner?.DisplayName], [acl.Owner?.ID, acl.Owner?.DisplayName]);
  }
});

void test('buckets start empty and apart; encoding-type=url encodes keys and common prefixes in both listings; KeyCount counts the keys', async () => {
  const one = await c.bucketWith(['asdf']);
  const two = await c.bucketWith([]);
  assert.deepEqual(keysOf(await c.s3().send(new ListObjectsV2Command({ Bucket: two }))), []);
  assert.deepEqual(keysOf(await c.s3().send(new ListObjectsV2Command({ Bucket: one }))), ['asdf']);
  const bucket = await c.bucketWith(['foo+1/bar', 'foo/bar/xyzzy', 'quux ab/thud', 'asdf+b']);
  for (const query of [{ delimiter: '/', 'encoding-type': 'url' }, { 'list-type': '2', delimiter: '/', 'encoding-type': 'url' }]) {
    const answer = await sendSigned(c.node().port, { method: 'GET', path: `/${bucket}`, query });
    const keys = [...answer.body.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]);
    const prefixes = [...answer.body.matchAll(/<CommonPrefixes><Prefix>([^<]*)<\/Prefix><\/CommonPrefixes>/g)].map((m) => m[1]);
    assert.deepEqual([keys, prefixes], [['asdf%2Bb'], ['foo%2B1/', 'foo/', 'quux%20ab/']]);
  }
  const five = await c.bucketWith(['0', '1', '2', '3', '4']);
  assert.equal((await c.s3().send(new ListObjectsV2Command({ Bucket: five }))).KeyCount, 5);
});
