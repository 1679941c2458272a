// The aws cli (Debian's awscli package, /usr/bin/aws) against the S3 front,
// over the real store: what a user would type.
//
// Strategy: a node serves S3 on a free port; the cli runs with the test's
// credentials in a private HOME (no user config leaks in). It makes a
// bucket, copies files in (a 20 MiB file goes multipart: the cli's
// threshold is 8 MiB), lists, syncs a folder twice (the second sync sends
// only what changed, and --delete removes what is gone), reads a range
// with s3api, copies back and compares MD5s, presigns a URL, and removes
// everything. Skipped with a message where /usr/bin/aws is not installed
// (.ci/run installs it).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ACCESS_KEY, MiB, SECRET_KEY, deterministicBytes, startS3Node } from './s3_harness.js';

const AWS = '/usr/bin/aws';
const skip = existsSync(AWS) ? false : `${AWS} is missing: install the awscli Debian package (.ci/run does) to run this test`;

function md5File(path: string): string {
  return createHash('md5').update(readFileSync(path)).digest('hex');
}

void test('aws cli: mb, cp (multipart), ls, sync, s3api get-object --range, presign, rm, rb', { skip }, async () => {
  const node = await startS3Node({ diskSizeBytes: 512 * MiB });
  const home = mkdtempSync(join(tmpdir(), 'shardstore-awscli-'));
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    AWS_ACCESS_KEY_ID: ACCESS_KEY,
    AWS_SECRET_ACCESS_KEY: SECRET_KEY,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  };
  const aws = (...args: string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      execFile(AWS, ['--endpoint-url', node.endpoint, ...args], { env, maxBuffer: 16 * MiB }, (err, stdout, stderr) => {
        if (err !== null) reject(new Error(`aws ${args.join(' ')} failed: ${stderr}`));
        else resolve(stdout);
      });
    });
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
