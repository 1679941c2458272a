// Versioning against the AWS SDK, over the real store (docs/S3.md,
// "Versioning").
//
// Strategy: one node; each test in its own bucket. Objects are written,
// overwritten and deleted in Enabled and Suspended buckets; every version
// is read back by its id (GET, HEAD, CopyObject's source) and listed
// (ListObjectVersions, page by page with key and version-id markers). The
// last test stops the node and opens its data folder again.
//
// Invariants:
//   1. an overwrite in an Enabled bucket keeps the previous version, whole;
//   2. GET without a versionId answers the newest version; a delete marker
//      as the newest is 404 NoSuchKey with x-amz-delete-marker;
//   3. a delete marker named by its id is 405 MethodNotAllowed; an unknown
//      id is 404 NoSuchVersion, a malformed one 400 InvalidArgument;
//   4. ListObjectVersions lists every version once, newest first per key,
//      and its pages put together are the unpaged listing;
//   5. the null version: objects written before versioning and writes
//      while Suspended; a Suspended write replaces it, and only it.
import assert from 'node:assert/strict';
import { test, before, after } from 'node:test';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import type { ListObjectVersionsCommandOutput, S3Client } from '@aws-sdk/client-s3';
import { CorruptionError } from '../src/base/index.js';
import { decodeObject, decodeSettings, encodeObject, encodeSettings } from '../src/server/s3/index.js';
import type { S3Node } from './s3_harness.js';
import { s3ErrorName, startS3Node } from './s3_harness.js';
import { sendSigned } from './s3_wire.js';

let node: S3Node;
let s3: S3Client;

before(async () => {
  node = await startS3Node();
  s3 = node.client();
});

after(async () => {
  await node.stop();
});

async function versionedBucket(name: string, status: 'Enabled' | 'Suspended' | 'unversioned' = 'Enabled'): Promise<string> {
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  if (status !== 'unversioned') await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: status } }));
  return name;
}

async function put(bucket: string, key: string, body: string): Promise<string | undefined> {
  return (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))).VersionId;
}

async function read(bucket: string, key: string, versionId?: string): Promise<string> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId === undefined ? {} : { VersionId: versionId }) }));
  return (await out.Body?.transformToString()) ?? '';
}

/**
 * Every version and delete marker of a listing as `key id latest kind`, in
 * S3's order (key, then newest first). The SDK gives versions and markers
 * as two lists, each in that order; they are merged by key, the latest
 * first, then by id (ours sort newest first).
 */
function rowsOf(out: ListObjectVersionsCommandOutput): string[] {
  const rows = [
    ...(out.Versions ?? []).map((v) => ({ key: v.Key ?? '', id: v.VersionId ?? '', latest: v.IsLatest === true, kind: 'version' })),
    ...(out.DeleteMarkers ?? []).map((m) => ({ key: m.Key ?? '', id: m.VersionId ?? '', latest: m.IsLatest === true, kind: 'marker' })),
  ];
  const lines = (list: typeof rows): string[] => list.map((r) => `${r.key} ${r.id} ${r.latest ? 'latest' : '-'} ${r.kind}`);
  const versions = lines(rows.filter((r) => r.kind === 'version'));
  const markers = lines(rows.filter((r) => r.kind === 'marker'));
  // Each list on its own is in S3's order.
  for (const list of [versions, markers]) assert.deepEqual(list, [...list].sort(byKeyNewestFirst), 'a listing out of order');
  return [...versions, ...markers].sort(byKeyNewestFirst);
}

function byKeyNewestFirst(a: string, b: string): number {
  const [ka = '', ia = '', la = ''] = a.split(' ');
  const [kb = '', ib = '', lb = ''] = b.split(' ');
  if (ka !== kb) return ka < kb ? -1 : 1;
  if (la !== lb) return la === 'latest' ? -1 : 1;
  return ia < ib ? -1 : ia > ib ? 1 : 0;
}

void test('GetBucketVersioning: empty until configured; Enabled, Suspended; MFADelete Enabled is 501, a bad Status MalformedXML', async () => {
  const b = await versionedBucket('ver-config', 'unversioned');
  assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status, undefined);
  await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
  assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status, 'Enabled');
  await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended', MFADelete: 'Disabled' } }));
  assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status, 'Suspended');
  assert.equal(await s3ErrorName(s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled', MFADelete: 'Enabled' } }))), 'NotImplemented');
  const bad = Buffer.from('<VersioningConfiguration><Status>On</Status></VersioningConfiguration>');
  assert.equal((await sendSigned(node.port, { method: 'PUT', path: `/${b}`, query: { versioning: '' }, body: bad })).code, 'MalformedXML');
  assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status, 'Suspended');
  assert.equal(await s3ErrorName(s3.send(new PutBucketVersioningCommand({ Bucket: 'ver-missing', VersioningConfiguration: { Status: 'Enabled' } }))), 'NoSuchBucket');
});

void test('an overwrite keeps the previous version; GET, HEAD and CopyObject by versionId; the newest without one', async () => {
  const b = await versionedBucket('ver-overwrite');
  const v1 = await put(b, 'doc', 'first');
  const v2 = await put(b, 'doc', 'second, longer');
  assert.ok(v1 !== undefined && v2 !== undefined && v1 !== v2, `version ids ${v1} ${v2}`);
  assert.match(v1, /^[0-9a-f]{32}$/);
  assert.ok(v2 < v1, 'ids sort newest first');
  assert.equal(await read(b, 'doc'), 'second, longer');
  assert.equal(await read(b, 'doc', v1), 'first');
  assert.equal(await read(b, 'doc', v2), 'second, longer');
  const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'doc', VersionId: v1 }));
  assert.deepEqual([head.ContentLength, head.VersionId], [5, v1]);
  assert.equal((await s3.send(new GetObjectCommand({ Bucket: b, Key: 'doc' }))).VersionId, v2);
  const copy = await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'copy', CopySource: `${b}/doc?versionId=${v1}` }));
  assert.equal(copy.CopySourceVersionId, v1);
  assert.equal(await read(b, 'copy'), 'first');
  await node.settle();
  // The collector keeps the data of noncurrent versions.
  assert.equal(await read(b, 'doc', v1), 'first');
  // Copying an old version onto its own key restores it as a new version (the way S3 documents).
  const restored = await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'doc', CopySource: `${b}/doc?versionId=${v1}` }));
  assert.ok(restored.VersionId !== undefined && restored.VersionId < v2);
  assert.equal(await read(b, 'doc'), 'first');
  assert.equal(await read(b, 'doc', v2), 'second, longer');
});

void test('delete markers: DELETE adds one; GET is 404 with x-amz-delete-marker; by id 405; removing it brings the object back', async () => {
  const b = await versionedBucket('ver-marker');
  const v1 = await put(b, 'k', 'kept');
  const del = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
  assert.equal(del.DeleteMarker, true);
  const marker = del.VersionId ?? '';
  assert.match(marker, /^[0-9a-f]{32}$/);
  const gone = await sendSigned(node.port, { method: 'GET', path: `/${b}/k` });
  assert.deepEqual([gone.status, gone.code, gone.headers['x-amz-delete-marker'], gone.headers['x-amz-version-id']], [404, 'NoSuchKey', 'true', marker]);
  const byId = await sendSigned(node.port, { method: 'GET', path: `/${b}/k`, query: { versionId: marker } });
  assert.deepEqual([byId.status, byId.code, byId.headers['x-amz-delete-marker']], [405, 'MethodNotAllowed', 'true']);
  assert.equal((await sendSigned(node.port, { method: 'HEAD', path: `/${b}/k`, query: { versionId: marker } })).status, 405);
  assert.equal(await s3ErrorName(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'c', CopySource: `${b}/k?versionId=${marker}` }))), 'InvalidRequest');
  assert.equal(await read(b, 'k', v1), 'kept');
  assert.deepEqual((await s3.send(new ListObjectsV2Command({ Bucket: b }))).Contents ?? [], [], 'a deleted key is not listed');
  const removed = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: marker }));
  assert.deepEqual([removed.DeleteMarker, removed.VersionId], [true, marker]);
  assert.equal(await read(b, 'k'), 'kept');
  assert.equal(await s3ErrorName(s3.send(new DeleteBucketCommand({ Bucket: b }))), 'BucketNotEmpty');
});

void test('unknown, malformed and removed version ids: NoSuchVersion, InvalidArgument; removing the current version promotes the previous', async () => {
  const b = await versionedBucket('ver-ids');
  const v1 = await put(b, 'k', 'one');
  const v2 = await put(b, 'k', 'two');
  assert.equal(await s3ErrorName(read(b, 'k', '0'.repeat(32))), 'NoSuchVersion');
  assert.equal(await s3ErrorName(read(b, 'k', 'not-a-version')), 'InvalidArgument');
  assert.equal(await s3ErrorName(read(b, 'k', 'null')), 'NoSuchVersion');
  await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: v2 }));
  assert.equal(await read(b, 'k'), 'one');
  assert.equal(await s3ErrorName(read(b, 'k', v2)), 'NoSuchVersion');
  // Deleting a version that is not there succeeds, as in S3.
  assert.equal((await sendSigned(node.port, { method: 'DELETE', path: `/${b}/k`, query: { versionId: v2 ?? '' } })).status, 204);
  await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: v1 }));
  assert.equal(await s3ErrorName(read(b, 'k')), 'NoSuchKey');
  assert.deepEqual(rowsOf(await s3.send(new ListObjectVersionsCommand({ Bucket: b }))), []);
  await s3.send(new DeleteBucketCommand({ Bucket: b }));
});

void test('the null version: written before versioning and while Suspended; a Suspended write replaces only it', async () => {
  const b = await versionedBucket('ver-null', 'unversioned');
  await put(b, 'k', 'unversioned');
  assert.equal(await read(b, 'k', 'null'), 'unversioned');
  await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
  const v1 = await put(b, 'k', 'enabled');
  assert.equal(await read(b, 'k', 'null'), 'unversioned', 'the null version is kept by the first versioned write');
  await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended' } }));
  // A write while Suspended answers no version id (as S3's PutObject), though it is the null version.
  assert.equal(await put(b, 'k', 'suspended 1'), undefined);
  assert.equal(await read(b, 'k', 'null'), 'suspended 1');
  assert.equal(await put(b, 'k', 'suspended 2'), undefined);
  assert.equal(await read(b, 'k'), 'suspended 2');
  assert.equal(await read(b, 'k', v1), 'enabled', 'a Suspended write keeps the versions that are not null');
  const ids = rowsOf(await s3.send(new ListObjectVersionsCommand({ Bucket: b })));
  assert.deepEqual(ids, ['k null latest version', `k ${v1} - version`]);
  // A Suspended DELETE makes a null delete marker, replacing the null version.
  const del = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
  assert.deepEqual([del.DeleteMarker, del.VersionId], [true, 'null']);
  await node.settle();
  assert.deepEqual(rowsOf(await s3.send(new ListObjectVersionsCommand({ Bucket: b }))), ['k null latest marker', `k ${v1} - version`]);
  // Removing the marker makes v1 current again; the replaced null versions stay gone.
  await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: 'null' }));
  assert.equal(await read(b, 'k'), 'enabled');
  assert.equal(await s3ErrorName(read(b, 'k', 'null')), 'NoSuchVersion');
});

void test('ListObjectVersions: prefix, delimiter, and pages of every size put together are the whole listing', async () => {
  const b = await versionedBucket('ver-list');
  for (const key of ['a/1', 'a/2', 'b', 'c']) for (let i = 0; i < 3; i++) await put(b, key, `${key} ${i}`);
  await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'b' }));
  const whole = rowsOf(await s3.send(new ListObjectVersionsCommand({ Bucket: b })));
  assert.equal(whole.length, 13);
  assert.deepEqual(whole.filter((r) => r.includes('latest')).length, 4);
  const rolled = await s3.send(new ListObjectVersionsCommand({ Bucket: b, Delimiter: '/' }));
  assert.deepEqual((rolled.CommonPrefixes ?? []).map((p) => p.Prefix), ['a/']);
  assert.equal(rowsOf(rolled).length, 7);
  assert.equal(rowsOf(await s3.send(new ListObjectVersionsCommand({ Bucket: b, Prefix: 'a/' }))).length, 6);
  for (const maxKeys of [1, 2, 5]) {
    const pages: string[] = [];
    let markers: { KeyMarker?: string; VersionIdMarker?: string } = {};
    for (let n = 0; n < 20; n++) {
      const page = await s3.send(new ListObjectVersionsCommand({ Bucket: b, MaxKeys: maxKeys, ...markers }));
      const rows = rowsOf(page);
      assert.ok(rows.length <= maxKeys);
      pages.push(...rows);
      if (page.IsTruncated !== true) break;
      markers = { ...(page.NextKeyMarker === undefined ? {} : { KeyMarker: page.NextKeyMarker }), ...(page.NextVersionIdMarker === undefined ? {} : { VersionIdMarker: page.NextVersionIdMarker }) };
    }
    assert.deepEqual(pages, whole, `pages of ${maxKeys}`);
  }
});

void test('DeleteObjects with and without VersionId; encoding-type=url', async () => {
  const b = await versionedBucket('ver-batch');
  const v1 = await put(b, 'x', 'x1');
  await put(b, 'y', 'y1');
  const out = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'x', VersionId: v1 }, { Key: 'y' }] } }));
  const byKey = new Map((out.Deleted ?? []).map((d) => [d.Key, d]));
  assert.equal(byKey.get('x')?.VersionId, v1);
  assert.equal(byKey.get('y')?.DeleteMarker, true);
  assert.match(byKey.get('y')?.DeleteMarkerVersionId ?? '', /^[0-9a-f]{32}$/);
  assert.equal(await s3ErrorName(read(b, 'x')), 'NoSuchKey');
  assert.equal(await s3ErrorName(read(b, 'y')), 'NoSuchKey');
  assert.equal((await s3.send(new ListObjectVersionsCommand({ Bucket: b }))).Versions?.length, 1);
  await put(b, 'sp ace/k', 'encoded');
  const encoded = await sendSigned(node.port, { method: 'GET', path: `/${b}`, query: { versions: '', 'encoding-type': 'url', prefix: 'sp' } });
  assert.match(encoded.body, /<Key>sp%20ace\/k<\/Key>/);
  assert.match(encoded.body, /<EncodingType>url<\/EncodingType>/);
});

void test('records: a stamp makes format 3 and reads back whole; no stamp keeps format 1; settings records round-trip; damage is CorruptionError', () => {
  const base = { sizeBytes: 3, mtimeMs: 1_700_000_000_000, etag: 'abc', contentType: 'text/plain', headers: [], parts: [], inline: Buffer.from('xyz'), tags: [], uploadId: undefined };
  const plain = encodeObject(base);
  assert.equal(plain[4], 1, 'an unversioned record keeps format 1');
  const rank = Buffer.alloc(16, 0x5a);
  const stamped = encodeObject({ ...base, version: { rank, isNull: false, deleteMarker: false } });
  assert.equal(stamped[4], 3);
  assert.deepEqual(decodeObject(stamped).version, { rank, isNull: false, deleteMarker: false });
  assert.equal(decodeObject(plain).version, undefined);
  const marker = encodeObject({ ...base, sizeBytes: 0, inline: undefined, etag: '', version: { rank, isNull: true, deleteMarker: true } });
  assert.deepEqual(decodeObject(marker).version, { rank, isNull: true, deleteMarker: true });
  for (const versioning of ['unversioned', 'enabled', 'suspended'] as const) assert.equal(decodeSettings(encodeSettings({ versioning })).versioning, versioning);
  const flipped = Buffer.from(stamped);
  flipped[flipped.length - 10] = (flipped[flipped.length - 10] ?? 0) ^ 1;
  assert.throws(() => decodeObject(flipped), CorruptionError);
  const badState = encodeSettings({ versioning: 'enabled' });
  badState[5] = 9;
  assert.throws(() => decodeSettings(badState), CorruptionError);
});
