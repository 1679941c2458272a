// Lifecycle configuration is authorized like every bucket subresource
// (docs/S3.md, "How a request is decided"): another user is refused
// (403 AccessDenied) until a bucket policy grants him
// s3:PutLifecycleConfiguration, which covers PutBucketLifecycleConfiguration
// and DeleteBucketLifecycle, or s3:GetLifecycleConfiguration.
//
// Strategy: a node whose users come from a credentials file, as `serve`
// runs it; the owner's bucket; bob (`shardstore user add`) tries each
// operation before and after the owner's policy names him. Fails if a
// lifecycle row of authorize.ts is removed or names another action.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  CreateBucketCommand,
  DeleteBucketLifecycleCommand,
  GetBucketLifecycleConfigurationCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
} from '@aws-sdk/client-s3';
import { silentLogger } from '../src/server/index.js';
import { FileUsers, addUser } from '../src/server/s3/index.js';
import { ACCESS_KEY, SECRET_KEY, s3ErrorName, startS3Node } from './s3_harness.js';

void test('lifecycle operations: another user is refused until a policy grants s3:PutLifecycleConfiguration / s3:GetLifecycleConfiguration', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shardstore-lc-users-'));
  const file = join(dir, 'credentials');
  writeFileSync(file, `[default]\naws_access_key_id = ${ACCESS_KEY}\naws_secret_access_key = ${SECRET_KEY}\n`, { mode: 0o600 });
  const bobUser = await addUser(file, 'bob');
  const node = await startS3Node({ s3: { users: new FileUsers(file, silentLogger), lifecycleIntervalMs: 0 } });
  try {
    const owner = node.client();
    const bob = node.client({ accessKeyId: bobUser.accessKeyId, secretAccessKey: bobUser.secretAccessKey });
    const b = 'owner-lifecycle';
    await owner.send(new CreateBucketCommand({ Bucket: b }));
    const config = { Rules: [{ ID: 'r', Status: 'Enabled' as const, Filter: { Prefix: 'tmp/' }, Expiration: { Days: 1 } }] };
    const put = (): Promise<unknown> => bob.send(new PutBucketLifecycleConfigurationCommand({ Bucket: b, LifecycleConfiguration: config }));
    const get = (): Promise<unknown> => bob.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b }));
    const del = (): Promise<unknown> => bob.send(new DeleteBucketLifecycleCommand({ Bucket: b }));
    for (const [what, call] of [['put', put], ['get', get], ['delete', del]] as const) assert.equal(await s3ErrorName(call()), 'AccessDenied', what);
    assert.equal(await s3ErrorName(owner.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b }))), 'NoSuchLifecycleConfiguration', 'bob stored nothing');
    const grant = (action: string): object => ({ Effect: 'Allow', Principal: { CanonicalUser: bobUser.id }, Action: action, Resource: `arn:aws:s3:::${b}` });
    await owner.send(new PutBucketPolicyCommand({ Bucket: b, Policy: JSON.stringify({ Statement: [grant('s3:PutLifecycleConfiguration')] }) }));
    await put();
    assert.equal(await s3ErrorName(get()), 'AccessDenied', 'GetLifecycleConfiguration is not granted');
    assert.deepEqual((await owner.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b }))).Rules?.map((r) => r.ID), ['r']);
    await owner.send(new PutBucketPolicyCommand({ Bucket: b, Policy: JSON.stringify({ Statement: [grant('s3:GetLifecycleConfiguration')] }) }));
    assert.equal(await s3ErrorName(get()), 'no error');
    assert.equal(await s3ErrorName(del()), 'AccessDenied', 'the put/delete action is no longer granted');
  } finally {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
