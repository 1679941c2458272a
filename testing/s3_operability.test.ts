// Operability of the S3 front: credentials on first start, serve options,
// and the Prometheus metrics.
//
// Strategy: credentials are loaded from a temporary folder twice (generated
// with mode 0600, then read back unchanged) and from configuration; serve
// options are parsed from flags and environment; /metrics is scraped after
// a few S3 and native requests against a server over the reference model.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { parseServeArgs } from '../src/cli/index.js';
import { createShardServer, loadOrCreateCredentials, silentLogger } from '../src/server/index.js';
import { ModelStore } from './model.js';
import { ACCESS_KEY, SECRET_KEY } from './s3_harness.js';
import { signedFetch } from './signed_fetch.js';

void test('credentials: generated once (mode 0600), then read back; configured ones win; half a pair is an error', async () => {
  // Checks loadOrCreateCredentials through every source, the file's mode,
  // several sections in one file, and the warning for a readable file.
  const dir = mkdtempSync(join(tmpdir(), 'shardstore-creds-'));
  try {
    const file = join(dir, 'sub', 'credentials');
    const first = await loadOrCreateCredentials({ accessKeyId: undefined, secretAccessKey: undefined, file });
    assert.equal(first.source, 'generated');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const [generated] = first.credentials;
    assert.ok(generated !== undefined && /^SS[A-Z2-7]{18}$/.test(generated.accessKeyId) && generated.secretAccessKey.length === 40);
    const second = await loadOrCreateCredentials({ accessKeyId: undefined, secretAccessKey: undefined, file });
    assert.deepEqual([second.source, second.credentials], ['file', first.credentials]);
    const configured = await loadOrCreateCredentials({ accessKeyId: 'AK', secretAccessKey: 'SK', file });
    assert.deepEqual([configured.source, configured.credentials], ['configured', [{ accessKeyId: 'AK', secretAccessKey: 'SK' }]]);
    await assert.rejects(loadOrCreateCredentials({ accessKeyId: 'AK', secretAccessKey: undefined, file }), TypeError);
    const shared = join(dir, 'shared');
    writeFileSync(shared, '[default]\naws_access_key_id = A1\naws_secret_access_key = S1\n[ci]\naws_access_key_id=A2\naws_secret_access_key=S2\n', { mode: 0o644 });
    const two = await loadOrCreateCredentials({ accessKeyId: undefined, secretAccessKey: undefined, file: shared });
    assert.deepEqual(two.credentials.map((c) => c.accessKeyId), ['A1', 'A2']);
    assert.match(two.warnings.join(), /other users/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('serve options: S3 on by default with its defaults; every S3 option from flags or SHARDSTORE_* variables', () => {
  // Checks parseServeArgs for the S3 rows of the option table.
  const defaults = parseServeArgs([], {});
  assert.ok(defaults !== 'help');
  assert.deepEqual(defaults.s3, {
    enabled: true,
    region: 'us-east-1',
    domains: ['localhost'],
    sigv2: true,
    uploadExpiryMs: 24 * 3_600_000,
    lifecycleIntervalMs: 3_600_000,
    credentialsFile: join('./data', 'credentials'),
    accessKeyId: undefined,
    secretAccessKey: undefined,
  });
  assert.equal(defaults.server.nativeApi, true);
  const env = { SHARDSTORE_S3_REGION: 'eu-west-3', SHARDSTORE_S3_DOMAIN: 's3.example, S3.Local', SHARDSTORE_S3_ACCESS_KEY: 'AK', SHARDSTORE_S3_SECRET_KEY: 'SK', SHARDSTORE_NATIVE_API: 'off' };
  const fromEnv = parseServeArgs(['--s3-upload-expiry', '2h', '--s3-lifecycle-interval', '10m', '--data-dir', '/srv'], env);
  assert.ok(fromEnv !== 'help');
  assert.deepEqual([fromEnv.s3.region, fromEnv.s3.domains, fromEnv.s3.accessKeyId, fromEnv.s3.secretAccessKey], ['eu-west-3', ['s3.example', 's3.local'], 'AK', 'SK']);
  assert.deepEqual([fromEnv.s3.uploadExpiryMs, fromEnv.s3.lifecycleIntervalMs, fromEnv.s3.credentialsFile, fromEnv.server.nativeApi], [7_200_000, 600_000, '/srv/credentials', false]);
  const off = parseServeArgs(['--s3', 'off'], {});
  assert.ok(off !== 'help' && !off.s3.enabled);
  assert.throws(() => parseServeArgs(['--s3', 'maybe'], {}), /on or off/);
  // Signature Version 2 (docs/SECURITY.md): on by default, off by flag or variable.
  for (const [argv, variables] of [[['--s3-sigv2', 'off'], {}], [[], { SHARDSTORE_S3_SIGV2: 'off' }]] as const) {
    const noV2 = parseServeArgs(argv, variables);
    assert.ok(noV2 !== 'help' && noV2.s3.sigv2 === false);
  }
  assert.throws(() => parseServeArgs(['--s3-sigv2', 'maybe'], {}), /s3-sigv2: expected on or off/);
});

void test('/metrics counts requests by API, operation and status, with latency, bytes and durability waits', async () => {
  // Checks the exposition text after S3 and native requests (one of them an error).
  const server = createShardServer(new ModelStore(), { logger: silentLogger, s3: { credentials: new Map([[ACCESS_KEY, SECRET_KEY]]) } });
  const { port } = await server.listen(0, '127.0.0.1');
  const s3 = new S3Client({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'metered' }));
    await s3.send(new PutObjectCommand({ Bucket: 'metered', Key: 'k', Body: 'twelve bytes' }));
    await s3.send(new GetObjectCommand({ Bucket: 'metered', Key: 'missing' })).catch(() => undefined);
    await signedFetch(`http://127.0.0.1:${port}/v1/shards/native`, { method: 'PUT', body: 'n' });
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(text, /shardstore_http_requests_total\{api="s3",op="PutObject",status="200"\} 1/);
    assert.match(text, /shardstore_http_requests_total\{api="s3",op="GetObject",status="404"\} 1/);
    assert.match(text, /shardstore_http_requests_total\{api="native",op="shard.put",status="201"\} 1/);
    assert.match(text, /shardstore_http_request_duration_seconds_bucket\{api="s3",op="PutObject",le="\+Inf"\} 1/);
    assert.match(text, /shardstore_http_request_body_bytes_total\{api="s3",op="PutObject"\} 12/);
    assert.match(text, /shardstore_dependency_wait_seconds_count [1-9]/);
    assert.match(text, /shardstore_extents\{owner="free"\} \d+/);
    assert.match(text, /# TYPE shardstore_http_request_duration_seconds histogram/);
  } finally {
    s3.destroy();
    await server.close();
  }
});
