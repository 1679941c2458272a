// POST object (browser form uploads, docs/S3.md "POST object") over the
// real store, with forms built here as AWS documents them: the policy
// document in base64, signed with an HMAC chain written in this file (not
// the server's), the file last. Objects are read back with the AWS SDK.
//
// Strategy: one node; each test its own keys. Every rule of the policy is
// crossed once (a changed policy, another secret, an unknown key, an expired
// policy, a condition that fails, a field no condition names, a file
// outside content-length-range, no signature at all, a field after the
// file, a field asking for what the node does not do, a body that is not a
// form) and must answer S3's code with nothing stored.
//
// Invariants: a refused form stores nothing; an accepted one stores exactly
// the file, with the fields' metadata, under the key with ${filename}
// replaced.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { CreateBucketCommand, GetObjectAttributesCommand, GetObjectCommand, HeadObjectCommand, PutBucketCorsCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import { FormReader } from '../src/server/s3/form_data.js';
import { FORM_BOUNDARY, FORM_CONTENT_TYPE, formBody, signingFields } from './post_form.js';
import type { S3Node } from './s3_harness.js';
import { ACCESS_KEY, MiB, SECRET_KEY, deterministicRange, s3ErrorName, startS3Node } from './s3_harness.js';

let node: S3Node;
let s3: S3Client;
const BUCKET = 'forms';

before(async () => {
  node = await startS3Node();
  s3 = node.client();
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

after(async () => {
  await node.stop();
});

interface FormOptions {
  readonly key?: string;
  readonly conditions?: unknown[];
  /** Fields beyond the signing ones (named by a condition unless `unnamed`). */
  readonly fields?: Record<string, string>;
  readonly unnamed?: Record<string, string>;
  readonly expiresInMs?: number;
  readonly secret?: string;
  readonly accessKey?: string;
  /** Change the policy after it was signed. */
  readonly tamper?: boolean;
  readonly unsigned?: boolean;
}

/** Form fields, signed as a browser page would be given them by its server (testing/post_form.ts). */
function formFields(o: FormOptions): Array<[string, string]> {
  const key = o.key ?? 'k';
  const signing = signingFields({
    accessKeyId: o.accessKey ?? ACCESS_KEY,
    secretAccessKey: SECRET_KEY,
    nowMs: Date.now(),
    bucket: BUCKET,
    key,
    ...(o.conditions === undefined ? {} : { allConditions: o.conditions }),
    ...(o.fields === undefined ? {} : { fields: o.fields }),
    ...(o.expiresInMs === undefined ? {} : { expiresInMs: o.expiresInMs }),
    ...(o.secret === undefined ? {} : { signingSecret: o.secret }),
    ...(o.tamper === undefined ? {} : { tamper: o.tamper }),
  });
  return [['key', key], ...(o.unsigned === true ? [] : signing.fields), ...Object.entries(o.fields ?? {}), ...Object.entries(o.unnamed ?? {})];
}

const BOUNDARY = FORM_BOUNDARY;

function post(body: Buffer, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${node.endpoint}/${BUCKET}`, { method: 'POST', body, headers: { 'content-type': FORM_CONTENT_TYPE, ...headers }, redirect: 'manual' });
}

const codeOf = async (r: Response): Promise<string> => /<Code>([^<]+)<\/Code>/.exec(await r.text())?.[1] ?? `status ${r.status}`;

async function stored(key: string): Promise<boolean> {
  return (await s3ErrorName(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })))) !== 'NotFound';
}

void test('a signed form stores its file under the key with ${filename}, with the metadata of its fields', async () => {
  const file = Buffer.from('the bytes of a photo\r\n--not-the-boundary\r\n');
  const fields = { 'Content-Type': 'image/png', 'x-amz-meta-owner': 'alice', success_action_status: '201' };
  const r = await post(formBody(formFields({ key: 'uploads/${filename}', fields }), file));
  assert.equal(r.status, 201);
  const text = await r.text();
  assert.match(text, /<Key>uploads\/photo.jpg<\/Key>/);
  assert.match(text, new RegExp(`<ETag>&quot;${createHash('md5').update(file).digest('hex')}&quot;</ETag>`));
  const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'uploads/photo.jpg' }));
  assert.deepEqual(Buffer.from(await got.Body?.transformToByteArray() ?? []), file);
  assert.equal(got.ContentType, 'image/png');
  assert.deepEqual(got.Metadata, { owner: 'alice' });
});

void test('a 3 MiB file streams into the object; the default answer is 204, success_action_redirect a 303', async () => {
  const file = deterministicRange('post-big', 0, 3 * MiB);
  const r = await post(formBody(formFields({ key: 'big' }), file));
  assert.equal(r.status, 204, await r.text());
  const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'big' }));
  assert.equal(createHash('sha256').update(await got.Body?.transformToByteArray() ?? new Uint8Array()).digest('hex'), createHash('sha256').update(file).digest('hex'));
  const redirect = await post(formBody(formFields({ key: 'redirected', fields: { success_action_redirect: 'https://app.example/done?x=1' } }), Buffer.from('r')));
  assert.equal(redirect.status, 303);
  const to = new URL(redirect.headers.get('location') ?? '');
  assert.deepEqual([to.origin + to.pathname, to.searchParams.get('x'), to.searchParams.get('bucket'), to.searchParams.get('key')], ['https://app.example/done', '1', BUCKET, 'redirected']);
  assert.equal(to.searchParams.get('etag'), `"${createHash('md5').update('r').digest('hex')}"`);
});

void test('every rule of the policy is enforced: each broken form is refused with S3 code and stores nothing', async () => {
  const cases: Array<[string, Buffer, string]> = [
    ['SignatureDoesNotMatch', formBody(formFields({ key: 'r-tampered', tamper: true }), Buffer.from('x')), 'r-tampered'],
    ['SignatureDoesNotMatch', formBody(formFields({ key: 'r-secret', secret: 'another secret' }), Buffer.from('x')), 'r-secret'],
    ['InvalidAccessKeyId', formBody(formFields({ key: 'r-key', accessKey: 'AKIDNOTKNOWNHERE0001' }), Buffer.from('x')), 'r-key'],
    ['AccessDenied', formBody(formFields({ key: 'r-expired', expiresInMs: -1_000 }), Buffer.from('x')), 'r-expired'],
    ['AccessDenied', formBody(formFields({ key: 'r-unnamed', unnamed: { 'x-amz-meta-sneaky': 'yes' } }), Buffer.from('x')), 'r-unnamed'],
    ['AccessDenied', formBody(formFields({ key: 'r-anonymous', unsigned: true }), Buffer.from('x')), 'r-anonymous'],
    ['InvalidArgument', formBody(formFields({ key: 'r-after' }), Buffer.from('x'), { 'x-ignore-late': 'field' }), 'r-after'],
    ['NotImplemented', formBody(formFields({ key: 'r-sse', fields: { 'x-amz-server-side-encryption': 'AES256' } }), Buffer.from('x')), 'r-sse'],
  ];
  for (const [code, body, key] of cases) {
    const r = await post(body);
    assert.equal(await codeOf(r), code, key);
    assert.equal(await stored(key), false, `${key} was stored`);
  }
  // A condition that fails: the key outside the prefix the policy allows.
  const fields = formFields({ key: 'allowed/x' }).map(([n, v]): [string, string] => [n, n === 'key' ? 'elsewhere/x' : v]);
  const outside = await post(formBody(fields, Buffer.from('x')));
  assert.equal(outside.status, 403);
  assert.match(await outside.text(), /Invalid according to Policy: Policy Condition failed: \[&quot;starts-with&quot;,&quot;\$key&quot;,&quot;allowed\/x&quot;\]/);
  assert.equal(await stored('elsewhere/x'), false);
  // content-length-range, both ends.
  const withRange = (key: string, file: Buffer): Buffer => {
    const base = formFields({ key });
    const conditions = [{ bucket: BUCKET }, ['eq', '$key', key], ['content-length-range', 2, 10], ...base.filter(([n]) => ['x-amz-algorithm', 'x-amz-credential', 'x-amz-date'].includes(n)).map(([n, v]) => ({ [n]: v }))];
    return formBody(formFields({ key, conditions }), file);
  };
  assert.equal(await codeOf(await post(withRange('r-big', Buffer.alloc(11)))), 'EntityTooLarge');
  assert.equal(await codeOf(await post(withRange('r-small', Buffer.alloc(1)))), 'EntityTooSmall');
  assert.equal((await post(withRange('r-fits', Buffer.alloc(10)))).status, 204);
  assert.deepEqual([await stored('r-big'), await stored('r-small'), await stored('r-fits')], [false, false, true]);
  // Not a form at all.
  const notForm = await post(Buffer.from('key=x'), { 'content-type': 'application/x-www-form-urlencoded' });
  assert.equal(await codeOf(notForm), 'PreconditionFailed');
  const noFile = await post(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="key"\r\n\r\nx\r\n--${BOUNDARY}--\r\n`));
  assert.equal(await codeOf(noFile), 'InvalidArgument');
});

void test('Content-MD5 and x-amz-checksum-<algorithm> fields are checked against the file (400 BadDigest, nothing stored); a matching checksum is echoed and kept (FULL_OBJECT)', async () => {
  const file = Buffer.from('a form file with digests');
  const md5 = createHash('md5').update(file).digest('base64');
  const sha256 = createHash('sha256').update(file).digest('base64');
  const good = await post(formBody(formFields({ key: 'sum-good', fields: { 'Content-MD5': md5, 'x-amz-checksum-algorithm': 'SHA256', 'x-amz-checksum-sha256': sha256 } }), file));
  assert.equal(good.status, 204, await good.text());
  assert.equal(good.headers.get('x-amz-checksum-sha256'), sha256);
  const attrs = await s3.send(new GetObjectAttributesCommand({ Bucket: BUCKET, Key: 'sum-good', ObjectAttributes: ['Checksum'] }));
  assert.deepEqual({ ...attrs.Checksum }, { ChecksumSHA256: sha256, ChecksumType: 'FULL_OBJECT' });
  const other = createHash('sha256').update('another file').digest('base64');
  const cases: Array<[string, Record<string, string>, string]> = [
    ['BadDigest', { 'x-amz-checksum-sha256': other }, 'sum-bad-sha'],
    ['BadDigest', { 'x-amz-checksum-crc32': 'AAAAAA==' }, 'sum-bad-crc'],
    ['BadDigest', { 'Content-MD5': createHash('md5').update('another file').digest('base64') }, 'sum-bad-md5'],
    ['InvalidDigest', { 'Content-MD5': 'not an md5' }, 'sum-invalid-md5'],
    ['InvalidRequest', { 'x-amz-checksum-algorithm': 'SHA256' }, 'sum-no-value'],
    ['InvalidRequest', { 'x-amz-checksum-algorithm': 'CRC32', 'x-amz-checksum-sha256': sha256 }, 'sum-other-algorithm'],
    ['InvalidRequest', { 'x-amz-checksum-sha256': sha256, 'x-amz-checksum-sha1': createHash('sha1').update(file).digest('base64') }, 'sum-two'],
  ];
  for (const [code, fields, key] of cases) {
    const r = await post(formBody(formFields({ key, fields }), file));
    assert.equal(await codeOf(r), code, key);
    assert.equal(await stored(key), false, `${key} was stored`);
  }
});

void test('a form upload from a page the bucket CORS rules allow gets their headers, and others none', async () => {
  await s3.send(new PutBucketCorsCommand({ Bucket: BUCKET, CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['https://app.example'], AllowedMethods: ['POST'] }] } }));
  const allowed = await post(formBody(formFields({ key: 'from-page' }), Buffer.from('p')), { origin: 'https://app.example' });
  assert.equal(allowed.status, 204);
  assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example');
  const other = await post(formBody(formFields({ key: 'from-other' }), Buffer.from('p')), { origin: 'http://evil.example' });
  assert.equal(other.status, 204);
  assert.equal(other.headers.get('access-control-allow-origin'), null);
  const refused = await post(formBody(formFields({ key: 'refused', tamper: true }), Buffer.from('p')), { origin: 'https://app.example' });
  assert.equal(refused.status, 403);
  assert.equal(refused.headers.get('access-control-allow-origin'), null);
});

void test('the form reader recovers fields and file exactly however the body is cut into chunks', async () => {
  // Property (fast-check, fixed seed): a form whose file holds pieces of
  // its own delimiter, cut at random points (a delimiter straddling two
  // chunks included), reads back as the fields and the file sent.
  const piece = fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.constantFrom(...['\r\n--', `\r\n--${BOUNDARY.slice(0, 10)}`, `--${BOUNDARY}`, '\r\n\r\n'].map((t) => new Uint8Array(Buffer.from(t)))));
  await fc.assert(
    fc.asyncProperty(fc.array(piece, { maxLength: 12 }), fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }), async (pieces, cuts) => {
      const file = Buffer.concat(pieces.map((p) => Buffer.from(p)));
      // A client picks a boundary its content does not hold (RFC 2046); such a form is ambiguous by construction.
      fc.pre(!file.includes(`\r\n--${BOUNDARY}`) && !Buffer.concat([Buffer.from('\r\n'), file]).includes(`\r\n--${BOUNDARY}`));
      const body = formBody([['key', 'k'], ['x-ignore-a', 'a\r\nb']], file);
      const chunks: Buffer[] = [];
      for (let at = 0, i = 0; at < body.length; i++) {
        const n = cuts[i % cuts.length] ?? 1;
        chunks.push(body.subarray(at, at + n));
        at += n;
      }
      const reader = new FormReader(Readable.from(chunks, { objectMode: true }) as AsyncIterable<Buffer>, BOUNDARY);
      const { fields, file: part } = await reader.readUntilFile();
      assert.deepEqual(fields, [{ name: 'key', value: 'k' }, { name: 'x-ignore-a', value: 'a\r\nb' }]);
      const got: Buffer[] = [];
      for await (const p of part?.body ?? []) got.push(p);
      assert.deepEqual(Buffer.concat(got), file);
      assert.equal(await reader.endsAfterFile(), true);
    }),
    { seed: 16, numRuns: 300 },
  );
});

void test('a body that never reaches its first boundary is refused after 20 KiB, not read on', async () => {
  // Checks the bound on what an unauthenticated client can make the reader take before any field.
  const endless = Readable.from((function* () {
    for (let i = 0; i < 1000; i++) yield Buffer.alloc(1024, 0x61);
  })());
  const reader = new FormReader(endless as AsyncIterable<Buffer>, BOUNDARY);
  await assert.rejects(reader.readUntilFile(), { code: 'MalformedPOSTRequest' });
  assert.ok(endless.readableLength === 0 && !endless.readableEnded, 'the reader stopped before the end');
});
