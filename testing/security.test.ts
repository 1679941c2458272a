// tier: quick (npm run test:quick; docs/TESTING.md)
// Issue 12, cases 1-3, against a real node (two disks on a temporary folder)
// served with the S3 front and the control plane, over loopback:
//   1. unsigned x-amz-* headers are refused (403), never honored: no
//      CopyObject through an added x-amz-copy-source, no unsigned metadata;
//      a non-ASCII x-amz-meta-* value that is signed verifies;
//   2. the native API and /v1/admin/* answer nobody without a signature by
//      a node key (and the CLI signs with no extra step); /healthz is open,
//      /metrics as configured; --insecure-no-auth turns it off and says so;
//   3. browser-shaped requests (Origin, form content types) are refused on
//      the native API and the control plane, a Host that is not the node's
//      is refused everywhere (DNS rebinding), and no CORS header is sent
//      where no bucket CORS rule allows it; the S3 front serves a page's
//      request when it is signed (issue 16: the signature is the credential).
// Each refusal is also checked for what it must not do: nothing changed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { runCli } from '../src/cli/index.js';
import type { CliIo } from '../src/cli/index.js';
import type { LogFields, ShardServer } from '../src/server/index.js';
import { createShardServer, silentLogger } from '../src/server/index.js';
import { formatCredentialsFile } from '../src/server/s3/credentials.js';
import { ShardNode } from '../src/node/index.js';
import { ModelStore } from './model.js';
import { s3ErrorName } from './s3_harness.js';
import { S3Client } from '@aws-sdk/client-s3';
import { signedFetch, signedHeaders, smithyRequest, TEST_ACCESS_KEY, TEST_CREDENTIALS, TEST_SECRET_KEY, testSigner } from './signed_fetch.js';

const MiB = 1024 * 1024;

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** One request exactly as given (Host included), over node:http (which sends header values as UTF-8). */
function raw(port: number, method: string, path: string, headers: Record<string, string>, body?: string | Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, setHost: headers['host'] === undefined }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function errorCodeOf(a: Answer): string {
  const m = /<Code>([^<]+)<\/Code>/.exec(a.body);
  if (m !== null) return m[1] ?? '';
  return (JSON.parse(a.body) as { error: { code: string } }).error.code;
}

let dir = '';
let node: ShardNode;
let server: ShardServer;
let port = 0;
let base = '';
let s3: S3Client;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shardstore-security-'));
  node = await ShardNode.openOrCreate({ dataDir: dir, disks: 2, diskSizeBytes: 64 * MiB, extentSizeBytes: MiB });
  server = createShardServer(node, { logger: silentLogger, shutdownGraceMs: 2_000, credentials: TEST_CREDENTIALS, s3: { credentials: TEST_CREDENTIALS, sweepOnStart: false } }, node);
  port = (await server.listen(0, '127.0.0.1')).port;
  base = `http://127.0.0.1:${port}`;
  s3 = new S3Client({ endpoint: base, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET_KEY }, maxAttempts: 1 });
  await s3.send(new CreateBucketCommand({ Bucket: 'private' }));
  await s3.send(new PutObjectCommand({ Bucket: 'private', Key: 'secret', Body: 'the secret bytes' }));
  await s3.send(new CreateBucketCommand({ Bucket: 'uploads' }));
});

after(async () => {
  s3.destroy();
  await server.close();
  await node.close();
  rmSync(dir, { recursive: true, force: true });
});

async function exists(bucket: string, key: string): Promise<boolean> {
  const name = await s3ErrorName(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
  if (name === 'no error') return true;
  assert.equal(name, 'NotFound');
  return false;
}

/** A presigned URL (SignedHeaders=host) for `method` on `path`. */
async function presign(method: string, path: string): Promise<string> {
  // As the SDK's presigner: the payload is UNSIGNED-PAYLOAD (hoisted to X-Amz-Content-Sha256).
  const signed = await testSigner().presign(smithyRequest(method, new URL(base + path), { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }), { expiresIn: 300 });
  const query = Object.entries(signed.query ?? {}).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return `${path}?${query.join('&')}`;
}

const NOT_SIGNED = 'There were headers present in the request which were not signed';

void test('case 1: an unsigned x-amz-copy-source on a presigned PUT is refused, never a CopyObject', async () => {
  // Checks the attack of the issue: a presigned PUT URL plus an added header.
  // The answer must be 403 AccessDenied with AWS's message, and the upload
  // key must not exist afterwards (no copy of the private object).
  const target = await presign('PUT', '/uploads/stolen');
  const a = await raw(port, 'PUT', target, { host: `127.0.0.1:${port}`, 'x-amz-copy-source': '/private/secret', 'content-length': '0' }, '');
  assert.equal(a.status, 403, a.body);
  assert.equal(errorCodeOf(a), 'AccessDenied');
  assert.ok(a.body.includes(NOT_SIGNED), a.body);
  assert.equal(await exists('uploads', 'stolen'), false);
});

void test('case 1: a signed UNSIGNED-PAYLOAD PUT with an added x-amz-copy-source or x-amz-meta-* is refused and stores nothing', async () => {
  // Checks header auth: the signature covers host, x-amz-content-sha256 and
  // x-amz-date; an x-amz-* header added after signing is refused (403) and
  // neither the copy nor the metadata is stored.
  for (const [name, value] of [
    ['x-amz-copy-source', '/private/secret'],
    ['x-amz-meta-owner', 'mallory'],
  ] as const) {
    const key = `/uploads/added-${name}`;
    const headers = await signedHeaders('PUT', base + key);
    const a = await raw(port, 'PUT', key, { ...headers, [name]: value, 'content-length': '4' }, 'body');
    assert.equal(a.status, 403, `${name}: ${a.body}`);
    assert.ok(a.body.includes(NOT_SIGNED), a.body);
    assert.ok(a.body.includes(name), `the answer names the unsigned header: ${a.body}`);
    assert.equal(await exists('uploads', key.slice('/uploads/'.length)), false);
  }
});

void test('case 1: a presigned PUT with an unsigned x-amz-meta-* is refused; the same URL without it works', async () => {
  // Checks the metadata half and that the refusal is for the added header,
  // not for the presigned URL itself.
  const target = await presign('PUT', '/uploads/meta');
  const refused = await raw(port, 'PUT', target, { host: `127.0.0.1:${port}`, 'x-amz-meta-injected': 'yes', 'content-length': '2' }, 'hi');
  assert.equal(refused.status, 403, refused.body);
  assert.equal(await exists('uploads', 'meta'), false);
  const accepted = await raw(port, 'PUT', target, { host: `127.0.0.1:${port}`, 'content-length': '2' }, 'hi');
  assert.equal(accepted.status, 200, accepted.body);
  const head = await s3.send(new HeadObjectCommand({ Bucket: 'uploads', Key: 'meta' }));
  assert.deepEqual(head.Metadata ?? {}, {});
});

void test('case 1 (item 7): a signed non-ASCII x-amz-meta-* value verifies and is stored byte for byte', async () => {
  // Checks the canonical header value rule: the value's UTF-8 bytes on the
  // wire are what the signer hashed (here smithy, given the decoded text).
  // "à" is C3 A0 in UTF-8: an A0 byte taken for a space broke it before.
  // (node's http client takes header strings of chars up to U+00FF and
  // writes them as UTF-8; the server reads the bytes as latin1.)
  const text = 'café à ñ';
  const headers = await signedHeaders('PUT', `${base}/uploads/utf8`, { 'x-amz-meta-note': text });
  const a = await raw(port, 'PUT', '/uploads/utf8', { ...headers, 'content-length': '1' }, 'x');
  assert.equal(a.status, 200, a.body);
  const got = await raw(port, 'HEAD', '/uploads/utf8', await signedHeaders('HEAD', `${base}/uploads/utf8`));
  assert.equal(Buffer.from(String(got.headers['x-amz-meta-note']), 'latin1').toString('utf8'), text);
});

const NATIVE_DOORS: ReadonlyArray<readonly [string, string, string?]> = [
  ['GET', '/v1/shards'],
  ['GET', '/v1/shards/private%2Fsecret'],
  ['PUT', '/v1/shards/planted', 'x'],
  ['DELETE', '/v1/shards/planted'],
  ['GET', '/v1/admin/export'],
  ['GET', '/v1/admin/stats'],
  ['GET', '/v1/admin/shards'],
  ['POST', '/v1/admin/bulk-create', '{"shards":[{"key":"planted","value":"eA=="}]}'],
  ['POST', '/v1/admin/bulk-remove', '{"keys":["planted"]}'],
  ['POST', '/v1/admin/disks/1/out?reason=attack'],
  ['POST', '/v1/admin/scrub'],
  ['POST', '/v1/admin/import', ''],
  ['POST', '/v1/admin/reclaim'],
];

void test('case 2: without a signature the native API and every /v1/admin/* route answer 401 and change nothing', async () => {
  // Checks each door the issue found open: reading any shard (an S3 object's
  // internal key included), export, bulk writes and deletes, taking a disk
  // out of service. Each answers 401 Unauthenticated (JSON, stable code)
  // before its route runs; afterwards no shard was planted and both disks
  // are in service. A wrong secret answers 403 SignatureDoesNotMatch.
  const before = (await node.list()).shards.length;
  for (const [method, path, body] of NATIVE_DOORS) {
    const a = await raw(port, method, path, { host: `127.0.0.1:${port}`, 'content-type': 'application/json' }, body);
    assert.equal(a.status, 401, `${method} ${path}: ${a.body}`);
    assert.equal(errorCodeOf(a), 'Unauthenticated', `${method} ${path}`);
    assert.equal(a.headers['www-authenticate'], 'AWS4-HMAC-SHA256');
  }
  const wrongKey = testSigner({ accessKeyId: TEST_ACCESS_KEY, secretAccessKey: 'not-the-secret' });
  const forged = await raw(port, 'POST', '/v1/admin/disks/1/out', await signedHeaders('POST', `${base}/v1/admin/disks/1/out`, {}, wrongKey));
  assert.equal(forged.status, 403);
  assert.equal(errorCodeOf(forged), 'SignatureDoesNotMatch');
  assert.equal((await node.list()).shards.length, before);
  await assert.rejects(node.head(Buffer.from('planted')));
  assert.ok(node.disks().every((d) => d.state === 'in-service'));
  // Signed, the same doors open.
  assert.equal((await signedFetch(`${base}/v1/admin/stats`)).status, 200);
  assert.equal((await signedFetch(`${base}/v1/shards/planted`, { method: 'PUT', body: 'x' })).status, 201);
  assert.equal((await signedFetch(`${base}/v1/shards/planted`, { method: 'DELETE' })).status, 204);
});

void test('case 2: a body signed by its SHA-256 (curl --aws-sigv4 style, no x-amz-content-sha256) is checked before anything runs', async () => {
  // Checks the payload rule of the native API: without x-amz-content-sha256
  // the signature covers the body's hash, so a changed body is refused (403)
  // and not stored; the body it was signed with is accepted.
  const path = '/v1/shards/hashed';
  const signer = testSigner(undefined, { applyChecksum: false });
  const signed = await signer.sign({ ...smithyRequest('PUT', new URL(base + path), { 'content-type': 'application/octet-stream' }), body: 'signed body' });
  const headers = Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k, String(v)]));
  const tampered = await raw(port, 'PUT', path, headers, 'other body!');
  assert.equal(tampered.status, 403, tampered.body);
  await assert.rejects(node.head(Buffer.from('hashed')));
  const ok = await raw(port, 'PUT', path, headers, 'signed body');
  assert.equal(ok.status, 201, ok.body);
  assert.equal((await node.get(Buffer.from('hashed'))).toString(), 'signed body');
});

void test('case 2: a declared x-amz-content-sha256 that the body does not match stores nothing', async () => {
  // Checks the streamed check: the hash is known only after the last byte,
  // and the put must not commit.
  const path = '/v1/shards/declared';
  const headers = await signedHeaders('PUT', base + path, { 'x-amz-content-sha256': '0'.repeat(64), 'content-type': 'application/octet-stream' });
  const a = await raw(port, 'PUT', path, headers, 'some bytes');
  assert.equal(a.status, 400, a.body);
  assert.equal(errorCodeOf(a), 'ContentSHA256Mismatch');
  await assert.rejects(node.head(Buffer.from('declared')));
});

void test('case 2: /healthz is open, /metrics open by default and signed with metricsAuth', async () => {
  // Checks the two documented exceptions and the metricsAuth switch.
  assert.equal((await raw(port, 'GET', '/healthz', { host: `127.0.0.1:${port}` })).status, 200);
  assert.equal((await raw(port, 'GET', '/metrics', { host: `127.0.0.1:${port}` })).status, 200);
  const guarded = createShardServer(new ModelStore(), { logger: silentLogger, credentials: TEST_CREDENTIALS, metricsAuth: true });
  const g = await guarded.listen(0, '127.0.0.1');
  try {
    assert.equal((await raw(g.port, 'GET', '/metrics', { host: `127.0.0.1:${g.port}` })).status, 401);
    assert.equal((await raw(g.port, 'GET', '/healthz', { host: `127.0.0.1:${g.port}` })).status, 200);
    assert.equal((await signedFetch(`http://127.0.0.1:${g.port}/metrics`)).status, 200);
  } finally {
    await guarded.close();
  }
});

void test('case 2: insecureNoAuth serves unsigned requests and logs a warning at every start', async () => {
  // Checks the opt-out: unsigned requests pass, and each listen() logs the
  // warning (two starts, two lines). Browser-shaped requests stay refused.
  const warnings: LogFields[] = [];
  const logger = { log: (level: string, message: string, fields: LogFields): void => void (level === 'warn' && message.includes('AUTHENTICATION IS OFF') && warnings.push(fields)) };
  for (let start = 1; start <= 2; start++) {
    const open = createShardServer(new ModelStore(), { logger, insecureNoAuth: true });
    const o = await open.listen(0, '127.0.0.1');
    try {
      assert.equal((await raw(o.port, 'PUT', '/v1/shards/k', { host: `127.0.0.1:${o.port}`, 'content-type': 'application/octet-stream' }, 'v')).status, 201);
      assert.equal((await raw(o.port, 'PUT', '/v1/shards/k', { host: `127.0.0.1:${o.port}`, origin: 'http://evil.example' }, 'v')).status, 403);
    } finally {
      await open.close();
    }
    assert.equal(warnings.length, start);
  }
});

function capture(env: NodeJS.ProcessEnv = {}): CliIo & { text: () => string; errText: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return { out: (l) => out.push(l), err: (l) => err.push(l), env, text: () => out.join('\n'), errText: () => err.join('\n') };
}

void test('case 2: CLI commands with --url sign from the credentials file with no extra step', async () => {
  // Checks stats, disk list and export through the server: with the node's
  // credentials file (flag or SHARDSTORE_CREDENTIALS_FILE) they succeed;
  // without one the error names the missing file.
  const file = join(dir, 'credentials');
  writeFileSync(file, formatCredentialsFile([{ accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET_KEY }], new Date(0)), { mode: 0o600 });
  const stats = capture();
  assert.equal(await runCli(['stats', '--url', base, '--credentials-file', file, '--json'], stats), 0, stats.errText());
  assert.match(stats.text(), /"disksInService": 2/);
  const disks = capture({ SHARDSTORE_CREDENTIALS_FILE: file });
  assert.equal(await runCli(['disk', 'list', '--url', base], disks), 0, disks.errText());
  const out = join(dir, 'export.bin');
  assert.equal(await runCli(['export', '--url', base, '--credentials-file', file, '--out', out], capture()), 0);
  const missing = capture();
  assert.equal(await runCli(['stats', '--url', base, '--credentials-file', join(dir, 'none')], missing), 1);
  assert.match(missing.errText(), /401 .*Unauthenticated.*no credentials file at/);
});

void test('case 3: a cross-origin simple request (text/plain, Origin) to the control plane is refused, even signed', async () => {
  // Checks the attack (POST bulk-create, text/plain, Origin:
  // evil.example) and each marker alone: 403 BrowserRequestRefused, and no
  // shard was created.
  const body = '{"shards":[{"key":"csrf","value":"eA=="}]}';
  const url = `${base}/v1/admin/bulk-create`;
  const shapes: Array<Record<string, string>> = [
    { 'content-type': 'text/plain', origin: 'http://evil.example' },
    { 'content-type': 'text/plain;charset=UTF-8' },
    { 'content-type': 'application/x-www-form-urlencoded' },
    { 'content-type': 'multipart/form-data; boundary=x' },
    { 'content-type': 'application/json', origin: 'http://127.0.0.1' },
    { 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' },
  ];
  for (const shape of shapes) {
    for (const signed of [false, true]) {
      const headers = signed ? await signedHeaders('POST', url, shape) : { host: `127.0.0.1:${port}`, ...shape };
      const a = await raw(port, 'POST', '/v1/admin/bulk-create', headers, body);
      assert.equal(a.status, 403, `${JSON.stringify(shape)} signed=${signed}: ${a.body}`);
      assert.equal(errorCodeOf(a), 'BrowserRequestRefused');
    }
  }
  await assert.rejects(node.head(Buffer.from('csrf')));
});

void test('case 3: a Host that is not a name of the node is refused on every API (DNS rebinding)', async () => {
  // Checks the Host rule: evil.example (what a rebinding page sends) is
  // refused with 421 on /healthz, the native API and S3 paths, signed or
  // not; the node's names, IP literals and S3 virtual hosts pass.
  for (const path of ['/healthz', '/v1/shards', '/private/secret', '/v1/admin/stats']) {
    const a = await raw(port, 'GET', path, { ...(await signedHeaders('GET', base + path)), host: `evil.example:${port}` });
    assert.equal(a.status, 421, `${path}: ${a.body}`);
    assert.equal(errorCodeOf(a), 'MisdirectedRequest');
  }
  for (const host of [`localhost:${port}`, 'localhost', `127.0.0.1:${port}`, `[::1]:${port}`, '10.1.2.3']) {
    assert.equal((await raw(port, 'GET', '/healthz', { host })).status, 200, host);
  }
  // A virtual-host S3 request passes the Host rule (and meets S3's: unsigned, 403).
  const vhost = await raw(port, 'GET', '/secret', { host: `private.localhost:${port}` });
  assert.equal(errorCodeOf(vhost), 'AccessDenied');
  assert.equal((await raw(port, 'GET', '/healthz', { host: `localhost.evil.example:${port}` })).status, 421);
});

void test('case 3: no CORS headers, on preflights or answers, of any API', async () => {
  // Checks that a page can read nothing: no Access-Control-* header in the
  // answer to an OPTIONS preflight or a GET with an Origin, native or S3.
  for (const [method, path] of [
    ['OPTIONS', '/v1/shards/x'],
    ['OPTIONS', '/private/secret'],
    ['GET', '/private/secret'],
    ['GET', '/healthz'],
  ] as const) {
    const a = await raw(port, method, path, { host: `127.0.0.1:${port}`, origin: 'http://evil.example', 'access-control-request-method': 'PUT' });
    const cors = Object.keys(a.headers).filter((h) => h.startsWith('access-control-'));
    assert.deepEqual(cors, [], `${method} ${path}`);
  }
});

void test('case 3 (issue 16): the S3 front serves a signed request from a page, the native API still refuses it', async () => {
  // Checks the line docs/SECURITY.md draws: S3 authenticates by signature,
  // which a page cannot make without the secret, so a signed S3 request
  // with an Origin and a form content type is served; the same shape on
  // the native API is refused; an unsigned one changes nothing on either.
  const shape = { origin: 'http://evil.example', 'content-type': 'text/plain' };
  const url = `${base}/uploads/from-page`;
  const signedPut = await raw(port, 'PUT', '/uploads/from-page', await signedHeaders('PUT', url, shape), 'page bytes');
  assert.equal(signedPut.status, 200, signedPut.body);
  const unsigned = await raw(port, 'PUT', '/uploads/unsigned-page', { host: `127.0.0.1:${port}`, ...shape }, 'x');
  assert.equal(errorCodeOf(unsigned), 'AccessDenied');
  await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: 'uploads', Key: 'unsigned-page' })));
  const native = await raw(port, 'PUT', '/v1/shards/from-page', await signedHeaders('PUT', `${base}/v1/shards/from-page`, shape), 'x');
  assert.equal(errorCodeOf(native), 'BrowserRequestRefused');
  // An anonymous form upload is refused: no ACL or policy grants public write here.
  const form = await raw(port, 'POST', '/uploads', { host: `127.0.0.1:${port}`, origin: 'http://evil.example', 'content-type': 'multipart/form-data; boundary=b' }, '--b\r\nContent-Disposition: form-data; name="key"\r\n\r\nanon\r\n--b\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\nx\r\n--b--\r\n');
  assert.equal(form.status, 403, form.body);
  assert.equal(errorCodeOf(form), 'AccessDenied');
  await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: 'uploads', Key: 'anon' })));
});
