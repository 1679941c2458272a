// The aws cli (Debian's awscli package, /usr/bin/aws) against the S3 front,
// over the real store: what a user would type.
//
// Strategy: a node serves S3 on a free port; the cli runs with the test's
// credentials in a private HOME (no user config leaks in). It makes a
// bucket, copies files in (a 20 MiB file goes multipart: the cli's
// threshold is 8 MiB), lists, syncs a folder twice (the second sync sends
// only what changed, and --delete removes what is gone), reads a range
// with s3api, copies back and compares MD5s, presigns a URL, and removes
// everything. A second test copies a tagged 9 MiB object from S3 to S3
// with default options (the cli's multipart copy: HeadObject,
// GetObjectTagging, CreateMultipartUpload with the tags, UploadPartCopy,
// Complete; cli v2 copies the tags and Content-Type, v1 copies the bytes
// only). The first test needs Debian's cli (/usr/bin/aws, v2: its presign
// is SigV4, v1's is SigV2, which testing/s3_sigv2.test.ts covers); the second runs any
// cli, /usr/bin/aws else the first `aws` on PATH. A third copies files in
// and out with the cli's SSE flags (--sse AES256, --sse-c, and an S3-to-S3
// copy from SSE-C to SSE-S3). A fourth copies a 20 MiB file in with every
// cli found and checks the checksum the object keeps: the COMPOSITE CRC32
// of a cli that sends checksums by default, none for Debian's 2.9. Each is
// skipped with a message where its cli is missing (.ci/run installs Debian's).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { test } from 'node:test';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { GetObjectTaggingCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { StaticNodeKey } from '../src/server/index.js';
import type { S3Node } from './s3_harness.js';
import { ACCESS_KEY, MiB, SECRET_KEY, deterministicBytes, md5Of, startS3Node } from './s3_harness.js';

const DEBIAN_AWS = '/usr/bin/aws';
const skipDebian = existsSync(DEBIAN_AWS) ? false : `${DEBIAN_AWS} is missing: install the awscli Debian package (.ci/run does) to run this test`;
/** Debian's cli, else the first `aws` on PATH (e.g. a pip install). */
const ANY_AWS = [DEBIAN_AWS, ...(process.env.PATH ?? '').split(delimiter).filter((d) => d !== '').map((d) => join(d, 'aws'))].find((p) => existsSync(p));
const skipAny = ANY_AWS !== undefined ? false : 'no aws cli (/usr/bin/aws or aws on PATH): install the awscli Debian package (.ci/run does) to run this test';

/** Runs the cli `bin` against `node` with the test's credentials and a private HOME. */
function awsCli(bin: string, node: S3Node, home: string): (...args: string[]) => Promise<string> {
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    // A pyenv shim finds its interpreters under PYENV_ROOT (by default under the real HOME, hidden by the private one).
    PYENV_ROOT: process.env.PYENV_ROOT ?? join(homedir(), '.pyenv'),
    AWS_ACCESS_KEY_ID: ACCESS_KEY,
    AWS_SECRET_ACCESS_KEY: SECRET_KEY,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  };
  return (...args: string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      execFile(bin, ['--endpoint-url', node.endpoint, ...args], { env, maxBuffer: 16 * MiB }, (err, stdout, stderr) => {
        if (err !== null) reject(new Error(`aws ${args.join(' ')} failed: ${stderr}`));
        else resolve(stdout);
      });
    });
}

function md5File(path: string): string {
  return createHash('md5').update(readFileSync(path)).digest('hex');
}

void test('aws cli: mb, cp (multipart), ls, sync, s3api get-object --range, presign, rm, rb', { skip: skipDebian }, async () => {
  const node = await startS3Node({ diskSizeBytes: 512 * MiB });
  const home = mkdtempSync(join(tmpdir(), 'shardstore-awscli-'));
  const aws = awsCli(DEBIAN_AWS, node, home);
  try {
    const dir = join(home, 'files');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'a.txt'), 'alpha\n');
    writeFileSync(join(dir, 'sub', 'b.bin'), Buffer.concat([...deterministicBytes('cli-b', MiB + 3)]));
    const big = join(home, 'big.bin');
    writeFileSync(big, Buffer.concat([...deterministicBytes('cli-big', 20 * MiB + 1)]));

    await aws('s3', 'mb', 's3://cli-bucket');
    await aws('s3', 'cp', big, 's3://cli-bucket/big.bin');

    await aws('s3', 'sync', dir, 's3://cli-bucket/synced/');
    const listed = await aws('s3', 'ls', '--recursive', 's3://cli-bucket/');
    for (const key of ['big.bin', 'synced/a.txt', 'synced/sub/b.bin']) assert.match(listed, new RegExp(key.replace('.', '\\.')));
    assert.match(await aws('s3', 'ls', 's3://cli-bucket/'), /PRE synced\//);
    assert.match(await aws('s3', 'ls'), /cli-bucket/);

    writeFileSync(join(dir, 'a.txt'), 'alpha, changed\n');
    rmSync(join(dir, 'sub', 'b.bin'));
    const second = await aws('s3', 'sync', '--delete', dir, 's3://cli-bucket/synced/');
    assert.match(second, /upload: .*a\.txt/);
    assert.match(second, /delete: s3:\/\/cli-bucket\/synced\/sub\/b\.bin/);
    assert.doesNotMatch(await aws('s3', 'ls', '--recursive', 's3://cli-bucket/synced/'), /b\.bin/);

    const back = join(home, 'back.bin');
    await aws('s3', 'cp', 's3://cli-bucket/big.bin', back);
    assert.equal(md5File(back), md5File(big));
    const part = join(home, 'part.bin');
    const ranged = JSON.parse(await aws('s3api', 'get-object', '--bucket', 'cli-bucket', '--key', 'big.bin', '--range', `bytes=${8 * MiB - 2}-${8 * MiB + 1}`, part)) as { ContentRange: string; ETag: string };
    assert.equal(ranged.ContentRange, `bytes ${8 * MiB - 2}-${8 * MiB + 1}/${20 * MiB + 1}`);
    assert.match(ranged.ETag, /^"[0-9a-f]{32}-\d+"$/, 'a 20 MiB cp is a multipart upload');
    assert.ok(readFileSync(part).equals(readFileSync(big).subarray(8 * MiB - 2, 8 * MiB + 2)));

    const url = (await aws('s3', 'presign', 's3://cli-bucket/synced/a.txt', '--expires-in', '60')).trim();
    assert.equal(await (await fetch(url)).text(), 'alpha, changed\n');

    await aws('s3', 'rm', '--recursive', 's3://cli-bucket/synced/');
    await aws('s3', 'rb', '--force', 's3://cli-bucket');
    assert.equal((await node.api.list({ prefix: Buffer.from('\0', 'latin1') })).shards.length, 0, 'rb leaves no S3 shard');
  } finally {
    await node.stop();
    rmSync(home, { recursive: true, force: true });
  }
});

void test('aws cli: s3 cp from S3 to S3 of a tagged object over 8 MiB, default options (multipart copy with GetObjectTagging)', { skip: skipAny }, async (t) => {
  // Checks issue 16's report: the cli's S3-to-S3 copy above its 8 MiB
  // threshold reads the source's tags (GetObjectTagging) and copies in
  // parts (UploadPartCopy). The copy must be whole (same MD5 of the bytes,
  // a multipart ETag); cli v2 also keeps Content-Type and the source's
  // tags (v1 copies only the bytes: it sends neither).
  const node = await startS3Node({ diskSizeBytes: 512 * MiB });
  const home = mkdtempSync(join(tmpdir(), 'shardstore-awscli-'));
  const aws = awsCli(ANY_AWS ?? DEBIAN_AWS, node, home);
  try {
    const v2 = (await aws('--version')).startsWith('aws-cli/2');
    const s3 = node.client();
    const size = 9 * MiB + 7;
    await aws('s3', 'mb', 's3://cli-copy');
    await s3.send(new PutObjectCommand({ Bucket: 'cli-copy', Key: 'big', Body: Buffer.concat([...deterministicBytes('cli-copy', size)]), ContentType: 'application/x-test', Tagging: 'team=storage&kind=big%20one' }));
    await aws('s3', 'cp', 's3://cli-copy/big', 's3://cli-copy/big2');
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'cli-copy', Key: 'big2' }));
    assert.equal(head.ContentLength, size);
    assert.match(head.ETag ?? '', /^"[0-9a-f]{32}-\d+"$/, 'the cli copied in parts');
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: 'cli-copy', Key: 'big2' }));
    if (v2) {
      assert.equal(head.ContentType, 'application/x-test');
      assert.deepEqual(tags.TagSet, [{ Key: 'team', Value: 'storage' }, { Key: 'kind', Value: 'big one' }]);
    } else {
      t.diagnostic(`${ANY_AWS ?? ''} is aws cli v1: it copies bytes only, so tags and Content-Type are not checked`);
      assert.deepEqual(tags.TagSet, []);
    }
    const back = join(home, 'big2.bin');
    await aws('s3', 'cp', 's3://cli-copy/big2', back);
    assert.equal(md5File(back), md5Of('cli-copy', size));
  } finally {
    await node.stop();
    rmSync(home, { recursive: true, force: true });
  }
});

/** Every cli found (Debian's, then each `aws` on PATH that is another program), by its real path. */
const ALL_AWS = [...new Set([DEBIAN_AWS, ...(process.env.PATH ?? '').split(delimiter).filter((d) => d !== '').map((d) => join(d, 'aws'))].filter((p) => existsSync(p)).map((p) => realpathSync(p)))];

/** True for a cli that sends CRC32 checksums by default (awscli 1.37 and 2.23, January 2025, and later). */
function checksumsByDefault(version: string): boolean {
  const m = /^aws-cli\/(\d+)\.(\d+)/.exec(version);
  const [major, minor] = [Number(m?.[1]), Number(m?.[2])];
  return major === 1 ? minor >= 37 : major === 2 ? minor >= 23 : major > 2;
}

void test('aws cli: a 20 MiB s3 cp with default options, by every cli found: multipart, read back whole; one that sends checksums by default leaves the COMPOSITE CRC32 of its 8 MiB parts, answered by head-object --checksum-mode ENABLED', { skip: skipAny }, async (t) => {
  // Issue 16: current clis create the upload with CRC32 and send each
  // part's (their default since January 2025); Debian's (2.9) sends
  // Content-MD5 only, so its object keeps no checksum. The expected
  // composite is computed here with zlib over the cli's 8 MiB parts.
  const node = await startS3Node({ diskSizeBytes: 512 * MiB });
  const home = mkdtempSync(join(tmpdir(), 'shardstore-awscli-'));
  try {
    const size = 20 * MiB + 5;
    const big = join(home, 'big.bin');
    const bytes = Buffer.concat([...deterministicBytes('cli-sum', size)]);
    writeFileSync(big, bytes);
    const crc = (b: Buffer): Buffer => { const out = Buffer.alloc(4); out.writeUInt32BE(zlibCrc32(b) >>> 0, 0); return out; };
    const parts = [bytes.subarray(0, 8 * MiB), bytes.subarray(8 * MiB, 16 * MiB), bytes.subarray(16 * MiB)];
    const composite = `${crc(Buffer.concat(parts.map(crc))).toString('base64')}-3`;
    for (const [i, bin] of ALL_AWS.entries()) {
      const aws = awsCli(bin, node, home);
      const version = (await aws('--version')).trim();
      const bucket = `cli-sum-${i}`;
      await aws('s3', 'mb', `s3://${bucket}`);
      await aws('s3', 'cp', big, `s3://${bucket}/big.bin`);
      const head = JSON.parse(await aws('s3api', 'head-object', '--bucket', bucket, '--key', 'big.bin', '--checksum-mode', 'ENABLED')) as { ETag: string; ContentLength: number; ChecksumCRC32?: string; ChecksumType?: string };
      assert.match(head.ETag, /^"[0-9a-f]{32}-3"$/, `${version}: a multipart upload of 8 MiB parts`);
      assert.equal(head.ContentLength, size);
      const byDefault = checksumsByDefault(version);
      t.diagnostic(`${bin}: ${version}, checksums by default: ${byDefault}`);
      assert.deepEqual([head.ChecksumCRC32, head.ChecksumType], byDefault ? [composite, 'COMPOSITE'] : [undefined, undefined], version);
      const back = join(home, `back-${i}.bin`);
      await aws('s3', 'cp', `s3://${bucket}/big.bin`, back);
      assert.equal(md5File(back), createHash('md5').update(bytes).digest('hex'), version);
    }
  } finally {
    await node.stop();
    rmSync(home, { recursive: true, force: true });
  }
});

void test('aws cli: s3api put-, get-, delete-bucket-lifecycle-configuration (its body carries Content-MD5 or a checksum as the cli computes it)', { skip: skipDebian }, async () => {
  const node = await startS3Node({ s3: { lifecycleIntervalMs: 0 } });
  const home = mkdtempSync(join(tmpdir(), 'shardstore-awscli-lc-'));
  const aws = awsCli(DEBIAN_AWS, node, home);
  try {
    await aws('s3', 'mb', 's3://cli-lifecycle');
    const config = { Rules: [{ ID: 'logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 30 }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 } }] };
    writeFileSync(join(home, 'lifecycle.json'), JSON.stringify(config));
    await aws('s3api', 'put-bucket-lifecycle-configuration', '--bucket', 'cli-lifecycle', '--lifecycle-configuration', `file://${join(home, 'lifecycle.json')}`);
    const got = JSON.parse(await aws('s3api', 'get-bucket-lifecycle-configuration', '--bucket', 'cli-lifecycle')) as { Rules?: unknown };
    assert.deepEqual(got.Rules, config.Rules);
    await aws('s3api', 'delete-bucket-lifecycle', '--bucket', 'cli-lifecycle');
    await assert.rejects(aws('s3api', 'get-bucket-lifecycle-configuration', '--bucket', 'cli-lifecycle'), /NoSuchLifecycleConfiguration/);
  } finally {
    await node.stop();
    rmSync(home, { recursive: true, force: true });
  }
});

void test('aws cli: encryption at rest: cp --sse AES256 and --sse-c (multipart), the key needed to read, an S3-to-S3 copy from SSE-C to SSE-S3', { skip: skipAny }, async () => {
  // Checks the cli's own SSE flags end to end (docs/S3.md, "Encryption at
  // rest"): each object reads back whole, a missing SSE-C key is refused,
  // and the 20 MiB copy (UploadPartCopy with the source key) decrypts and
  // re-encrypts in parts.
  const node = await startS3Node({ diskSizeBytes: 512 * MiB, s3: { nodeKey: new StaticNodeKey(Buffer.alloc(32, 0x5e)) } });
  const home = mkdtempSync(join(tmpdir(), 'shardstore-awscli-'));
  const aws = awsCli(ANY_AWS ?? DEBIAN_AWS, node, home);
  const key = '0123456789abcdef0123456789abcdef';
  try {
    const big = join(home, 'big.bin');
    writeFileSync(big, Buffer.concat([...deterministicBytes('cli-sse', 20 * MiB + 5)]));
    await aws('s3', 'mb', 's3://cli-sse');
    await aws('s3', 'cp', big, 's3://cli-sse/s3', '--sse', 'AES256');
    await aws('s3', 'cp', big, 's3://cli-sse/c', '--sse-c', 'AES256', '--sse-c-key', key);
    const head = JSON.parse(await aws('s3api', 'head-object', '--bucket', 'cli-sse', '--key', 's3')) as { ServerSideEncryption: string; ContentLength: number };
    assert.deepEqual([head.ServerSideEncryption, head.ContentLength], ['AES256', 20 * MiB + 5]);
    await assert.rejects(aws('s3', 'cp', 's3://cli-sse/c', join(home, 'nokey.bin')), /400|Bad Request/);
    await aws('s3', 'cp', 's3://cli-sse/c', 's3://cli-sse/copied', '--sse-c-copy-source', 'AES256', '--sse-c-copy-source-key', key, '--sse', 'AES256');
    for (const [name, extra] of [['s3', []], ['c', ['--sse-c', 'AES256', '--sse-c-key', key]], ['copied', []]] as const) {
      const back = join(home, `${name}.bin`);
      await aws('s3', 'cp', `s3://cli-sse/${name}`, back, ...extra);
      assert.equal(md5File(back), md5File(big), name);
    }
  } finally {
    await node.stop();
    rmSync(home, { recursive: true, force: true });
  }
});
