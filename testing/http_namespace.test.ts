// The S3 front's key range kept out of the native API and the control plane
// (issue 11, part 6), against the real server over a real node on files.
//
// Strategy: a node holds native keys and an S3 bucket with a small (inline)
// and a larger object (record plus data shard), all of them keys starting
// with 0x00. Each native and control-plane call is made with a reserved
// key, prefix, bound, bulk item or import record, and must answer 400
// ReservedKey with nothing changed: the engine's own listing of every key
// (below the API) is the same before and after, and S3 still serves the
// bucket. Listings and export of the whole key space must show native keys
// only; export and import with include-s3=true move a node whole, S3 data
// included (checked by reading the object back through S3 on a second
// node), and so do `shardstore export/import --include-s3` on the files.
// The broken variant native-api-in-s3-range
// (testing/mutants/http_mutants.ts) must be caught by the failure it causes.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { runCli } from '../src/cli/index.js';
import type { CliIo } from '../src/cli/index.js';
import { encodeKey } from '../src/server/index.js';
import { bucketShardKey, dataPrefix, objectShardKey } from '../src/server/s3/shard_keys.js';
import { MigrationReader } from '../src/node/index.js';
import type { ShardNode } from '../src/node/index.js';
import type { Seen, Served } from './damage_harness.js';
import { jsonCode, pattern, request, serve, xmlCode } from './damage_harness.js';
import { nativeApiInS3Range } from './mutants/http_mutants.js';

const NATIVE = ['a', 'b', 'z'];
const BIG = pattern(7, 100 * 1024);
const dirs: string[] = [];
let s: Served;

function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'http-namespace-'));
  dirs.push(dir);
  return dir;
}

function s3(on: Served, method: string, path: string, body?: Buffer): Promise<Seen> {
  return request(`${on.base}${path}`, method, on.signed(method, path, body?.length), body);
}

async function status(seen: Promise<Seen>, expected: number): Promise<Seen> {
  const got = await seen;
  assert.equal(got.status, expected, `${got.status ?? 'no status'}: ${got.body.toString('utf8').slice(0, 300)}`);
  return got;
}

/** Every key of the node, read below the API: what "nothing changed" is checked against. */
async function allKeys(node: ShardNode): Promise<string[]> {
  const page = await node.list({});
  assert.equal(page.truncated, false);
  return page.shards.map((sh) => sh.key.toString('hex'));
}

function nativeRequest(method: string, path: string, json?: unknown): Promise<Seen> {
  const body = json === undefined ? undefined : Buffer.from(JSON.stringify(json));
  return request(`${s.base}${path}`, method, body === undefined ? {} : { 'content-type': 'application/json' }, body);
}

async function refused(seen: Promise<Seen>, what: string): Promise<void> {
  const got = await seen;
  assert.equal(got.status, 400, `${what}: 400 (got ${got.status ?? 'no status'} ${got.body.toString('utf8').slice(0, 200)})`);
  if (got.body.length > 0) assert.equal(jsonCode(got), 'ReservedKey', what);
}

async function keysOfStream(bytes: Buffer): Promise<string[]> {
  const reader = await MigrationReader.open(Readable.from([bytes]));
  const keys: string[] = [];
  for (let r = await reader.next(); r !== undefined; r = await reader.next()) {
    for await (const piece of r.body) void piece; // a record's body must be read before the next record
    keys.push(r.key.toString('latin1'));
  }
  return keys;
}

const bucketRecord = encodeKey(bucketShardKey('photos'));

before(async () => {
  s = await serve(freshDir());
  for (const key of NATIVE) await status(request(`${s.base}/v1/shards/${key}`, 'PUT', {}, Buffer.from(`value of ${key}`)), 201);
  await status(s3(s, 'PUT', '/photos'), 200);
  await status(s3(s, 'PUT', '/photos/cat.txt', Buffer.from('meow')), 200);
  await status(s3(s, 'PUT', '/photos/big.bin', BIG), 200);
});

after(async () => {
  await s.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

void test('native PUT, GET, HEAD and DELETE of a reserved key: 400 ReservedKey, nothing changed', async () => {
  const before = await allKeys(s.node);
  const dataShard = (await s.node.list({ prefix: dataPrefix('photos', Buffer.from('big.bin')) })).shards[0];
  assert.ok(dataShard !== undefined);
  await refused(request(`${s.base}/v1/shards/%00Bevil`, 'PUT', {}, Buffer.from('garbage')), 'PUT of a would-be bucket record');
  await refused(request(`${s.base}/v1/shards/%00`, 'PUT', {}, Buffer.from('x')), 'PUT of the key 0x00');
  await refused(request(`${s.base}/v1/shards/${bucketRecord}`, 'GET'), 'GET of a bucket record');
  await refused(request(`${s.base}/v1/shards/${encodeKey(dataShard.key)}`, 'GET'), 'GET of object data');
  await refused(request(`${s.base}/v1/shards/${encodeKey(objectShardKey('photos', Buffer.from('cat.txt')))}`, 'HEAD'), 'HEAD of an object record');
  await refused(request(`${s.base}/v1/shards/${bucketRecord}`, 'DELETE'), 'DELETE of a bucket record');
  assert.deepEqual(await allKeys(s.node), before, 'nothing changed');
  const buckets = await status(s3(s, 'GET', '/'), 200);
  assert.match(buckets.body.toString('utf8'), /<Name>photos<\/Name>/);
  assert.equal((await status(s3(s, 'GET', '/photos/cat.txt'), 200)).body.toString(), 'meow');
});

void test('native and admin listings show native keys only; a reserved prefix or start-after is 400', async () => {
  for (const path of ['/v1/shards', '/v1/admin/shards']) {
    const whole = JSON.parse((await status(nativeRequest('GET', path), 200)).body.toString()) as { shards: Array<{ key: string }> };
    assert.deepEqual(whole.shards.map((sh) => sh.key), NATIVE, `${path} from the start`);
    // Page by page from the start: the first page starts after the reserved range too.
    const paged: string[] = [];
    let after = '';
    for (let page = 0; page < 10; page++) {
      const got = JSON.parse((await status(nativeRequest('GET', `${path}?limit=1${after === '' ? '' : `&start-after=${after}`}`), 200)).body.toString()) as {
        shards: Array<{ key: string }>;
        nextStartAfter?: string;
      };
      paged.push(...got.shards.map((sh) => sh.key));
      if (got.nextStartAfter === undefined) break;
      after = got.nextStartAfter;
    }
    assert.deepEqual(paged, NATIVE, `${path} page by page`);
    await refused(nativeRequest('GET', `${path}?prefix=%00`), `${path} prefix in the reserved range`);
    await refused(nativeRequest('GET', `${path}?start-after=%00B`), `${path} start-after in the reserved range`);
  }
});

void test('bulk create and bulk remove with one reserved key are refused whole', async () => {
  const before = await allKeys(s.node);
  const value = Buffer.from('v').toString('base64');
  await refused(nativeRequest('POST', '/v1/admin/bulk-create', { shards: [{ key: 'new1', value }, { key: '%00Bevil', value }] }), 'bulk create');
  await refused(nativeRequest('POST', '/v1/admin/bulk-remove', { keys: ['a', bucketRecord] }), 'bulk remove');
  assert.deepEqual(await allKeys(s.node), before, 'nothing changed, not even the good keys');
});

void test('export: native keys by default, every key with include-s3=true; reserved bounds are 400', async () => {
  const native = await status(nativeRequest('GET', '/v1/admin/export'), 200);
  assert.deepEqual(await keysOfStream(native.body), NATIVE);
  for (const bound of ['prefix=%00', 'start=%00', 'end=%00C', 'start-after=%00B']) await refused(nativeRequest('GET', `/v1/admin/export?${bound}`), `export ${bound}`);
  const whole = await status(nativeRequest('GET', '/v1/admin/export?include-s3=true'), 200);
  const keys = await keysOfStream(whole.body);
  assert.deepEqual(keys.map((k) => Buffer.from(k, 'latin1').toString('hex')), await allKeys(s.node), 'include-s3: every key of the node');
  const bad = await status(nativeRequest('GET', '/v1/admin/export?include-s3=yes'), 400);
  assert.equal(jsonCode(bad), 'InvalidArgument');
});

void test('import: a reserved record stops it (400 ReservedKey, nothing applied) unless include-s3=true, which migrates S3 data whole', async () => {
  const whole = (await status(nativeRequest('GET', '/v1/admin/export?include-s3=true'), 200)).body;
  const native = (await status(nativeRequest('GET', '/v1/admin/export'), 200)).body;
  const other = await serve(freshDir());
  try {
    const stopped = await request(`${other.base}/v1/admin/import`, 'POST', {}, whole);
    assert.equal(stopped.status, 400);
    const report = JSON.parse(stopped.body.toString()) as { records: number; complete: boolean; error: { code: string } };
    assert.deepEqual([report.records, report.complete, report.error.code], [0, false, 'ReservedKey']);
    assert.deepEqual(await allKeys(other.node), [], 'nothing applied');
    await status(request(`${other.base}/v1/admin/import`, 'POST', {}, native), 200);
    assert.deepEqual((await allKeys(other.node)).length, NATIVE.length);
    await status(request(`${other.base}/v1/admin/import?include-s3=true`, 'POST', {}, whole), 200);
    assert.deepEqual(await allKeys(other.node), await allKeys(s.node), 'the node moved whole');
    assert.match((await status(s3(other, 'GET', '/'), 200)).body.toString(), /<Name>photos<\/Name>/);
    assert.ok((await status(s3(other, 'GET', '/photos/big.bin'), 200)).body.equals(BIG), 'the object reads back through S3 on the new node');
  } finally {
    await other.stop();
  }
});

void test('shardstore export and import on the files: native keys unless --include-s3', async () => {
  const dir = dirs[0] ?? '';
  const all = await allKeys(s.node);
  await s.stop();
  try {
    const io: CliIo = { out: () => undefined, err: () => undefined, env: {} };
    const nativeFile = join(dir, 'native.migration');
    const wholeFile = join(dir, 'whole.migration');
    assert.equal(await runCli(['export', '--data-dir', dir, '--out', nativeFile], io), 0);
    assert.deepEqual(await keysOfStream(readFileSync(nativeFile)), NATIVE);
    assert.equal(await runCli(['export', '--data-dir', dir, '--include-s3', '--out', wholeFile], io), 0);
    assert.equal((await keysOfStream(readFileSync(wholeFile))).length, all.length);
    assert.notEqual(await runCli(['export', '--data-dir', dir, '--prefix', '%00', '--out', join(dir, 'x')], io), 0, 'a reserved bound is refused');
    const target = freshDir();
    await (await serve(target)).stop();
    assert.equal(await runCli(['import', '--data-dir', target, '--in', wholeFile], io), 1, 'a reserved record stops the import');
    assert.equal(await runCli(['import', '--data-dir', target, '--include-s3', '--in', wholeFile], io), 0);
    const moved = await serve(target);
    try {
      assert.deepEqual(await allKeys(moved.node), all);
    } finally {
      await moved.stop();
    }
  } finally {
    s = await serve(dir);
  }
});

void test('mutant native-api-in-s3-range is caught: a native PUT there is taken, and then read back as garbage by S3', async () => {
  const restore = nativeApiInS3Range.install();
  let put: Seen;
  try {
    put = await request(`${s.base}/v1/shards/%00Bevil`, 'PUT', {}, Buffer.from('garbage'));
  } finally {
    restore();
  }
  try {
    await assert.rejects(refused(Promise.resolve(put), 'PUT of a would-be bucket record'), /PUT of a would-be bucket record: 400 \(got 201/);
    // What the issue saw: S3 now meets a bucket record it cannot read (HeadBucket of it fails).
    assert.equal((await s3(s, 'HEAD', '/evil')).status, 500);
    assert.equal(xmlCode(await s3(s, 'GET', '/evil')), 'InternalError');
  } finally {
    await (await s.node.delete(bucketShardKey('evil'))).persisted();
  }
});
