// Fail closed, against the real server (the S3 front over an in-memory
// store, through node:http): every S3 subresource and every header asking
// for an unimplemented guarantee answers 501 NotImplemented and changes
// nothing (testing/s3_fail_closed.ts walks them), the cases of issue 12
// ("Why" 4 and 5) one by one, and the walk catches the two broken variants
// of testing/mutants/s3_mutants.ts by the violation each must cause.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ShardServer } from '../src/server/index.js';
import { createShardServer, silentLogger } from '../src/server/index.js';
import { ModelStore } from './model.js';
import type { S3Mutant } from './mutants/s3_mutants.js';
import { subresourceFallsThrough, unimplementedHeaderIgnored } from './mutants/s3_mutants.js';
import type { Violation } from './s3_fail_closed.js';
import { prepareWalk, storeDigest, walkFailClosed } from './s3_fail_closed.js';
import { ACCESS_KEY, SECRET_KEY } from './s3_harness.js';
import { sendSigned } from './s3_wire.js';

interface Served {
  readonly port: number;
  readonly model: ModelStore;
  readonly server: ShardServer;
}

async function withServer<T>(run: (s: Served) => Promise<T>): Promise<T> {
  const model = new ModelStore();
  const server = createShardServer(model, { logger: silentLogger, s3: { credentials: new Map([[ACCESS_KEY, SECRET_KEY]]), sweepOnStart: false } });
  const { port } = await server.listen(0, '127.0.0.1');
  try {
    await prepareWalk(port);
    return await run({ port, model, server });
  } finally {
    await server.close();
  }
}

/** The violations as the lines a report prints: `request: problem`. */
function report(violations: readonly Violation[]): string {
  return violations.map((v) => `${v.request}: ${v.problem}`).join('\n');
}

async function walkWith(mutant: S3Mutant | undefined): Promise<Violation[]> {
  const restore = mutant?.install();
  try {
    return await withServer(({ port, model }) => walkFailClosed(port, model));
  } finally {
    restore?.();
  }
}

void test('every S3 subresource and every unimplemented-guarantee header answers 501 and changes nothing', async () => {
  // The walk sends ~600 signed requests; each must be 501 NotImplemented
  // with the store's digest unchanged, and the accepted values (x-amz-acl:
  // private, ...) must store.
  const violations = await walkWith(undefined);
  assert.deepEqual(violations, []);
});

void test('issue 12, Why 4 and 5: the requests that used to fall through or be ignored', async () => {
  // Checks each reported case on the wire: the answer is 501 and what the
  // request would have done did not happen (no bucket created or deleted,
  // no object stored in plaintext, no "locked" object).
  await withServer(async ({ port, model }) => {
    const before = await storeDigest(model);
    const cases = [
      { method: 'DELETE', path: '/walk-empty', query: { versioning: '' } },
      // SSE-C is served now (testing/s3_sse.test.ts); SSE-KMS is not (an SSE-KMS key id alone is AWS's 400, below).
      { method: 'PUT', path: '/walk/ssec', headers: { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': 'arn:aws:kms:us-east-1:1:key/k' }, body: Buffer.from('secret') },
      { method: 'PUT', path: '/walk/kms', headers: { 'x-amz-server-side-encryption': 'aws:kms' }, body: Buffer.from('secret') },
      // Tags are served on PutObject now, not on CreateBucket: there they would be ignored.
      { method: 'PUT', path: '/taggedbucket', headers: { 'x-amz-tagging': 'a=b' }, body: Buffer.alloc(0) },
    ];
    for (const r of cases) {
      const a = await sendSigned(port, r);
      assert.deepEqual([a.status, a.code], [501, 'NotImplemented'], `${r.method} ${r.path}: ${a.body}`);
    }
    // An SSE-KMS key id without aws:kms (alone, or with AES256) is AWS's 400 InvalidArgument, and stores nothing.
    for (const sse of [{}, { 'x-amz-server-side-encryption': 'AES256' }]) {
      const a = await sendSigned(port, { method: 'PUT', path: '/walk/ssec', headers: { ...sse, 'x-amz-server-side-encryption-aws-kms-key-id': 'k' }, body: Buffer.from('secret') });
      assert.deepEqual([a.status, a.code], [400, 'InvalidArgument'], a.body);
    }
    // Object lock is served now (object_lock.ts): lock headers on a bucket without object lock are refused, and store nothing.
    for (const r of [
      { method: 'PUT', path: '/walk/locked', headers: { 'x-amz-object-lock-mode': 'COMPLIANCE', 'x-amz-object-lock-retain-until-date': '2099-01-01T00:00:00Z' }, body: Buffer.from('keep') },
      { method: 'PUT', path: '/walk/held', headers: { 'x-amz-object-lock-legal-hold': 'ON' }, body: Buffer.from('keep') },
    ]) {
      const a = await sendSigned(port, r);
      assert.deepEqual([a.status, a.code], [400, 'InvalidRequest'], `${r.method} ${r.path}: ${a.body}`);
    }
    // PutBucketVersioning is served now: on a bucket that does not exist it is NoSuchBucket, and creates nothing.
    const versioning = await sendSigned(port, { method: 'PUT', path: '/fresh', query: { versioning: '' }, body: Buffer.alloc(0) });
    assert.deepEqual([versioning.status, versioning.code], [404, 'NoSuchBucket'], versioning.body);
    assert.equal(await storeDigest(model), before, 'a refused request changed the store');
    assert.equal((await sendSigned(port, { method: 'HEAD', path: '/fresh' })).status, 404);
    assert.equal((await sendSigned(port, { method: 'HEAD', path: '/taggedbucket' })).status, 404);
    assert.equal((await sendSigned(port, { method: 'HEAD', path: '/walk-empty' })).status, 200);
    assert.equal((await sendSigned(port, { method: 'GET', path: '/walk/ssec' })).code, 'NoSuchKey');
  });
});

void test('the walk catches an unimplemented subresource falling through to the plain operation', async () => {
  // Broken variant: the router sees only the subresources it implements,
  // as before issue 12. DELETE ?accelerate then deletes the empty bucket.
  const violations = await walkWith(subresourceFallsThrough);
  assert.match(report(violations), subresourceFallsThrough.expect);
  const on = (request: string): string[] => violations.filter((v) => v.request === request).map((v) => v.problem);
  // The walk goes subresource by subresource: DELETE ?accelerate deletes the
  // bucket first, so PUT ?analytics creates it again, and DELETE ?analytics
  // deletes it again.
  assert.deepEqual(on('DELETE /walk-empty?accelerate='), ['answered 204, expected 501 NotImplemented', 'changed the store']);
  assert.deepEqual(on('PUT /walk-empty?analytics='), ['answered 200, expected 501 NotImplemented', 'changed the store']);
  assert.deepEqual(on('DELETE /walk-empty?analytics='), ['answered 204, expected 501 NotImplemented', 'changed the store']);
});

void test('the walk catches a header asking for SSE-KMS being accepted and ignored', async () => {
  // Broken variant: no header is refused. A PUT with an SSE-KMS context is
  // then stored (without KMS), and the walk sees both the 200 and the change.
  const violations = await walkWith(unimplementedHeaderIgnored);
  assert.match(report(violations), unimplementedHeaderIgnored.expect);
  const request = 'PUT /walk/new [x-amz-server-side-encryption-context: e30=]';
  assert.deepEqual(violations.filter((v) => v.request === request).map((v) => v.problem), ['answered 200, expected 501 NotImplemented', 'changed the store']);
});
