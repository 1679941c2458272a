// The requests the HTTP check sends, each with what must happen to it
// (the model). A case is one family's request, generated from the seed's
// random stream, and the answers it may get (`Expect`): '2xx' for a
// well-formed call signed with the node's key; for anything else the one
// refusal today's server owes it, status and error code, and a refused
// request must change nothing in the store.
//
// The rules the model states (docs/SECURITY.md, docs/S3.md), in the order
// the server applies them:
//   1. framing node's parser refuses (smuggling shapes, obs-fold, a space
//      before the colon, bad chunk sizes): 400, no body, connection closed;
//      headers over 16 KiB: 431;
//   2. a Host that is not a name of the node (DNS rebinding): 421
//      MisdirectedRequest, on every API;
//   3. native API and control plane: a browser-shaped request (Origin,
//      Sec-Fetch-Site, a form content type): 403 BrowserRequestRefused,
//      signed or not; no signature: 401 Unauthenticated; a bad one: the
//      verifier's 403 (SignatureDoesNotMatch, InvalidAccessKeyId,
//      AccessDenied for an x-amz-* header outside SignedHeaders); an
//      aws-chunked body: 400 InvalidArgument; a bad escape in the key: 400
//      InvalidArgument;
//   4. S3: no signature: 403 AccessDenied; a bad one as above (a body that
//      does not match its signed SHA-256: 400 XAmzContentSHA256Mismatch);
//      then fail closed (src/server/s3/fail_closed.ts): an unimplemented
//      subresource or a header asking for an unimplemented guarantee: 501
//      NotImplemented, whatever the bucket; a bad escape or a key that is
//      not UTF-8: 400 InvalidURI; XML past its limits (depth 32, 1000 keys,
//      2 MiB for a batch delete, 64 KiB for a bucket configuration): 400
//      MalformedXML; a failed precondition: 412 PreconditionFailed; a batch
//      delete without Content-MD5 or a checksum: 400 InvalidRequest; a tag
//      set past S3's limits: 400 InvalidTag; x-amz-tagging on an operation
//      that does not set tags: 501 NotImplemented;
//   4b. S3 signed with Signature Version 2 (src/server/s3/sigv2.ts): an
//      x-amz-* header added, a sub-resource, path or method changed after
//      signing, a wrong secret: 403 SignatureDoesNotMatch; an unknown key:
//      403 InvalidAccessKeyId; a stale Date: 403 RequestTimeTooSkewed; an
//      expired presigned URL: 403 AccessDenied; on the native API: 501;
//   5. S3 access (src/server/s3/authorize.ts): a signed request of another
//      user to the owner's buckets: 403 AccessDenied, on every operation
//      family; an unsigned one: 403 AccessDenied, except exactly where a
//      policy or an ACL names everyone; an explicit Deny beats any Allow;
//      the native API takes only the owner's keys (403 InvalidAccessKeyId).
// AWS S3 answers each of these the same way, except the native API's own
// codes (401 Unauthenticated, BrowserRequestRefused, InvalidArgument) and
// the 421, which S3 has no use for.
// `property` names what is broken when the expectation fails (the failure
// a broken variant must cause: testing/mutants/http_check_mutants.ts).
//
// The world every seed starts from (testing/http_check/http_check.ts):
// buckets `alpha` (objects a/one, a/two, and `tagged` with the tags
// SEEDED_OBJECT_TAGS), `private` (object secret, what a smuggled copy would
// steal; the bucket tags SEEDED_BUCKET_TAGS) and `empty`; native shards
// native-1, native-2; for access control, `open` (objects pub/doc,
// pub/denied, closed; OPEN_POLICY), `listable` (public-read bucket ACL,
// object item) and mallory's own `mallory-own`.
import { createHash } from 'node:crypto';
import type { Rng } from '../rng.js';
import type { SimDisk } from '../sim_disk.js';
import type { HttpCall, KeyPair } from './signing.js';
import { CHECK_ACCESS_KEY, CHECK_HOST, CHECK_SECRET_KEY, MALLORY_ID, MALLORY_KEYS, call, presign, presignV2, serialize, signHeader, signV2 } from './signing.js';
import { FORM_CONTENT_TYPE, formBody, signingFields } from '../post_form.js';

/**
 * One answer a case may get: '2xx' (any success), 'NNN' (that status,
 * whatever its code: node's parser refuses bad framing with no body; an
 * injected disk fault is a 500 or 503 of several codes), or
 * 'NNN Code' (that status, and that code in the error body: S3 XML <Code>,
 * the native API's JSON error.code; a HEAD answer has no body, so there only
 * the status is held).
 */
export type Outcome = '2xx' | `${number}` | `${number} ${string}`;
export type Expect = readonly Outcome[];

export interface AttackCase {
  readonly family: string;
  /** The property the answer breaks if it does not meet `expect`. */
  readonly property: string;
  /** One line: what was sent, readable. */
  readonly describe: string;
  readonly expect: Expect;
  /** A refused request must leave the store as it was; one that may succeed may change it. */
  readonly mayChange: boolean;
  /** A 2xx answer must carry exactly these bytes (wrong bytes are never returned). */
  readonly body?: Buffer;
  /**
   * The Origin a CORS rule of the world allows for this request: the first
   * answer must carry Access-Control-Allow-Origin with it. Absent: no
   * answer may carry any Access-Control-* header.
   */
  readonly corsOrigin?: string;
  /** Faults to inject on the node's simulated disks before the request (the world is set up afresh after the case). */
  readonly faults?: (disks: readonly SimDisk[]) => void;
  /** The bytes on the wire, and the method of each request in them (to frame HEAD answers); `seeded`: the world's version ids. */
  build(nowMs: number, seeded: SeededVersions): Promise<{ readonly bytes: Buffer; readonly methods: readonly string[] }>;
}

export const SEEDED_OBJECTS = ['a/one', 'a/two'] as const;
export const SEEDED_SHARDS = ['native-1', 'native-2'] as const;

const one = (c: HttpCall): { bytes: Buffer; methods: string[] } => ({ bytes: serialize(c), methods: [c.method] });
const withHeader = (c: HttpCall, name: string, value: string): HttpCall => ({ ...c, headers: [...c.headers, [name, value]] });
const md5 = (body: Buffer): string => createHash('md5').update(body).digest('base64');

function signed(family: string, property: string, describe: string, expect: Expect, make: (seeded: SeededVersions) => HttpCall, finish: (c: HttpCall) => HttpCall = (c) => c): AttackCase {
  return {
    family,
    property,
    describe,
    expect,
    mayChange: expect.includes('2xx'),
    build: async (nowMs, seeded) => one(finish(await signHeader(make(seeded), nowMs))),
  };
}

// ---- well-formed calls: must succeed (the check is not vacuous) ----

function wellFormed(rng: Rng): AttackCase {
  const n = rng.int(0, 999);
  const body = rng.bytes(rng.int(0, 300));
  const calls: Array<[string, () => HttpCall]> = [
    [`PUT /alpha/b-${n}`, () => call('PUT', `/alpha/b-${n}`, { body })],
    ['GET /alpha/a/one', () => call('GET', '/alpha/a/one')],
    ['HEAD /alpha/a/two', () => call('HEAD', '/alpha/a/two')],
    ['GET /alpha?list-type=2', () => call('GET', '/alpha', { query: [['list-type', '2']] })],
    ['GET / (ListBuckets)', () => call('GET', '/')],
    [`DELETE /alpha/b-${n}`, () => call('DELETE', `/alpha/b-${n}`)],
    [`PUT /v1/shards/native-b${n}`, () => call('PUT', `/v1/shards/native-b${n}`, { body })],
    ['GET /v1/shards/native-1', () => call('GET', '/v1/shards/native-1')],
    ['GET /v1/shards', () => call('GET', '/v1/shards')],
    ['GET /v1/admin/disks', () => call('GET', '/v1/admin/disks')],
  ];
  if (rng.bool(0.1)) {
    const key = `/alpha/p-${n}`;
    return { family: 'well-formed', property: 'well-formed-call-refused', describe: `presigned PUT ${key}`, expect: ['2xx'], mayChange: true, build: async (nowMs) => one(await presign(call('PUT', key, { body }), nowMs)) };
  }
  const [describe, make] = rng.pick(calls);
  return signed('well-formed', 'well-formed-call-refused', `signed ${describe}`, ['2xx'], make);
}

// ---- issue 12 (1): unsigned x-amz-* headers must not be honoured ----

const UNSIGNED_EXTRAS: ReadonlyArray<readonly [string, string]> = [
  ['x-amz-copy-source', '/private/secret'],
  ['x-amz-meta-owner', 'mallory'],
  ['x-amz-server-side-encryption', 'AES256'],
  ['x-amz-tagging', 'team=mallory'],
  ['x-amz-acl', 'public-read'],
  ['x-amz-website-redirect-location', '/elsewhere'],
];

function unsignedHeader(rng: Rng): AttackCase {
  const [name, value] = rng.pick(UNSIGNED_EXTRAS);
  const key = `/alpha/u-${rng.int(0, 999)}`;
  const carrier = rng.pick(['header, hashed body', 'header, UNSIGNED-PAYLOAD', 'presigned URL'] as const);
  const body = Buffer.from('attacker body');
  return {
    family: 'unsigned-header',
    property: 'unsigned-header-honoured',
    describe: `PUT ${key} signed (${carrier}), then unsigned ${name}: ${value} added`,
    // AWS: "There were headers present in the request which were not signed".
    expect: ['403 AccessDenied'],
    mayChange: false,
    build: async (nowMs) => {
      const c = call('PUT', key, { body });
      const authed = carrier === 'presigned URL' ? await presign(c, nowMs) : await signHeader(c, nowMs, carrier === 'header, hashed body' ? 'hash' : 'unsigned');
      return one(withHeader(authed, name, value));
    },
  };
}

// ---- changed after signing: method, path, query, a signed header ----

function tampered(rng: Rng): AttackCase {
  const key = `t-${rng.int(0, 999)}`;
  const body = Buffer.from('tampered');
  const base = (): HttpCall => call('PUT', `/alpha/${key}`, { body, headers: [['x-amz-meta-owner', 'alice']] });
  const changes: Array<[string, (c: HttpCall) => HttpCall]> = [
    ['path changed', (c) => ({ ...c, path: `/alpha/${key}-other` })],
    ['bucket changed', (c) => ({ ...c, path: `/private/${key}` })],
    ['method changed to POST', (c) => ({ ...c, method: 'POST' })],
    ['query added', (c) => ({ ...c, query: [...c.query, ['x-id', 'PutObject']] })],
    ['signed header changed', (c) => ({ ...c, headers: c.headers.map(([n, v]) => [n, n === 'x-amz-meta-owner' ? 'mallory' : v] as const) })],
  ];
  const [what, change] = rng.pick(changes);
  return signed('tampered', 'tampered-request-honoured', `PUT /alpha/${key} signed, then ${what}`, ['403 SignatureDoesNotMatch'], base, change);
}

// ---- issue 12 (4): every S3 subresource with every method ----

/**
 * Subresources S3 documents (the API reference's operations, by the query
 * parameter that selects each), written out here rather than taken from the
 * server's list (src/server/s3/fail_closed.ts), so that a name the server
 * forgot is a name the check still sends. Those the node implements are
 * listed in IMPLEMENTED below.
 */
export const S3_SUBRESOURCES = [
  'abac', 'accelerate', 'acl', 'analytics', 'attributes', 'cors', 'delete', 'encryption', 'intelligent-tiering',
  'inventory', 'legal-hold', 'lifecycle', 'location', 'logging', 'metadataConfiguration', 'metadataTable', 'metrics',
  'notification', 'object-lock', 'ownershipControls', 'partNumber', 'policy', 'policyStatus', 'publicAccessBlock',
  'renameObject', 'replication', 'requestPayment', 'restore', 'retention', 'select', 'session', 'tagging', 'torrent',
  'uploadId', 'uploads', 'versionId', 'versioning', 'versions', 'website',
] as const;

/**
 * `<level> <METHOD> <subresource>`: what docs/S3.md says the node serves
 * (uploadId alone on an object: UploadPart, CompleteMultipartUpload,
 * AbortMultipartUpload, ListParts; their answers to a made-up upload id are
 * 404 NoSuchUpload, not part of the walk).
 */
const IMPLEMENTED = new Set([
  'bucket PUT acl', 'object PUT acl', 'bucket GET policy', 'bucket PUT policy', 'bucket DELETE policy', 'bucket GET policyStatus',
  'bucket GET publicAccessBlock', 'bucket PUT publicAccessBlock', 'bucket DELETE publicAccessBlock', 'bucket GET ownershipControls', 'bucket PUT ownershipControls', 'bucket DELETE ownershipControls',
  'bucket GET acl', 'bucket GET location', 'bucket GET versioning', 'bucket GET uploads', 'bucket POST delete', 'object GET acl', 'object POST uploads',
  'object PUT uploadId', 'object POST uploadId', 'object DELETE uploadId', 'object GET uploadId',
  'bucket GET tagging', 'bucket PUT tagging', 'bucket DELETE tagging', 'object GET tagging', 'object PUT tagging', 'object DELETE tagging',
  'bucket GET cors', 'bucket PUT cors', 'bucket DELETE cors',
  'bucket GET lifecycle', 'bucket PUT lifecycle', 'bucket DELETE lifecycle',
  'bucket GET encryption', 'bucket PUT encryption', 'bucket DELETE encryption',
  'bucket PUT versioning', 'bucket GET versions', 'object GET versionId', 'object HEAD versionId', 'object DELETE versionId',
  'bucket GET object-lock', 'bucket PUT object-lock', 'object GET retention', 'object PUT retention', 'object GET legal-hold', 'object PUT legal-hold',
  'object GET partNumber', 'object HEAD partNumber', 'object GET attributes',
]);
const METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'] as const;

/** Every unimplemented (level, method, subresource): the walk the fixed-seed test does in full. */
export function unimplementedRoutes(): Array<{ level: 'bucket' | 'object'; method: string; name: string }> {
  const out: Array<{ level: 'bucket' | 'object'; method: string; name: string }> = [];
  for (const level of ['bucket', 'object'] as const) {
    for (const method of METHODS) {
      for (const name of S3_SUBRESOURCES) if (!IMPLEMENTED.has(`${level} ${method} ${name}`)) out.push({ level, method, name });
    }
  }
  return out;
}

/**
 * `target` is a bucket: alpha and empty exist, any other does not. The
 * route is decided before the bucket is looked up, so a missing bucket is
 * 501 too (as S3 answers an operation it does not have before looking).
 */
export function subresourceCase(route: { level: 'bucket' | 'object'; method: string; name: string }, target: string): AttackCase {
  const path = route.level === 'object' ? `/${target}/a/one` : `/${target}`;
  const body = route.method === 'PUT' || route.method === 'POST' ? Buffer.from('<Configuration/>') : Buffer.alloc(0);
  return signed(
    'subresource',
    'subresource-fell-through',
    `signed ${route.method} ${path}?${route.name}`,
    ['501 NotImplemented'],
    () => call(route.method, path, { query: [[route.name, '']], body, headers: body.length > 0 ? [['content-md5', md5(body)]] : [] }),
  );
}

function subresource(rng: Rng): AttackCase {
  const route = rng.pick(unimplementedRoutes());
  // `empty` is an empty bucket (a DELETE that falls through deletes it); `fresh-*` does not exist (a PUT creates it).
  const target = route.level === 'object' ? 'alpha' : rng.pick(['alpha', 'empty', `fresh-${rng.int(0, 99)}`]);
  return subresourceCase(route, target);
}

// ---- issue 12 (5): headers asking for a guarantee the node does not give ----

const GUARANTEES: ReadonlyArray<ReadonlyArray<readonly [string, string]>> = [
  // SSE-S3 and SSE-C are served (the sse family); SSE-KMS is not.
  [['x-amz-server-side-encryption', 'aws:kms'], ['x-amz-server-side-encryption-aws-kms-key-id', 'arn:aws:kms:us-east-1:1:key/k']],
  [['x-amz-server-side-encryption', 'aws:kms:dsse']],
  [['x-amz-server-side-encryption-context', 'e30=']],
  // Object lock is served (the object-lock family); a lock header the node does not know is still refused.
  [['x-amz-object-lock-token', 'token']],
  // x-amz-acl and x-amz-grant-* are served on these writes now (the object-acl family), except the canned ACLs S3 has and the node does not.
  [['x-amz-acl', 'log-delivery-write']],
  [['x-amz-acl', 'aws-exec-read']],
  [['x-amz-website-redirect-location', '/elsewhere']],
];

function guarantee(rng: Rng): AttackCase {
  const headers = rng.pick(GUARANTEES);
  const n = rng.int(0, 999);
  const shapes: Array<[string, () => HttpCall]> = [
    [`PUT /alpha/g-${n}`, () => call('PUT', `/alpha/g-${n}`, { body: Buffer.from('plaintext?'), headers })],
    [`POST /alpha/g-${n}?uploads`, () => call('POST', `/alpha/g-${n}`, { query: [['uploads', '']], headers })],
    [`PUT /alpha/g-${n} copied from /alpha/a/one`, () => call('PUT', `/alpha/g-${n}`, { headers: [['x-amz-copy-source', '/alpha/a/one'], ...headers] })],
  ];
  const elsewhere: Array<[string, () => HttpCall]> = [
    // CreateBucket and the object writes store x-amz-acl now (the access and object-acl families).
    // Tags are served on PutObject, CopyObject and CreateMultipartUpload (the tagging family); CreateBucket would ignore them.
    [`PUT /tagged-${n} (CreateBucket)`, () => call('PUT', `/tagged-${n}`, { headers: [['x-amz-tagging', 'team=blue']] })],
    [`GET /alpha/a/one`, () => call('GET', '/alpha/a/one', { headers: [['x-amz-tagging', 'team=blue']] })],
    // A read stores no ACL: the grant would be ignored.
    [`GET /alpha/a/one (a grant on a read)`, () => call('GET', '/alpha/a/one', { headers: [['x-amz-grant-read', 'uri="http://acs.amazonaws.com/groups/global/AllUsers"']] })],
  ];
  const [describe, make] = rng.pick([...shapes, ...elsewhere]);
  const names = make().headers.filter(([h]) => h.startsWith('x-amz-') && h !== 'x-amz-copy-source').map(([h, v]) => `${h}: ${v}`);
  return signed('guarantee', 'unimplemented-guarantee-accepted', `signed ${describe} with ${names.join(', ')}`, ['501 NotImplemented'], make);
}

// ---- issue 12 (2): no credentials on the native API, the control plane, S3 ----

function noCredentials(rng: Rng): AttackCase {
  const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
  // The node's own APIs say 401 Unauthenticated (nothing to sign with was sent); S3 says what S3 says, 403 AccessDenied.
  const calls: Array<[string, () => HttpCall]> = [
    ['GET /v1/shards/native-1', () => call('GET', '/v1/shards/native-1')],
    ['PUT /v1/shards/native-1', () => call('PUT', '/v1/shards/native-1', { body: Buffer.from('overwritten') })],
    ['DELETE /v1/shards/native-2', () => call('DELETE', '/v1/shards/native-2')],
    ['GET /v1/shards', () => call('GET', '/v1/shards')],
    ['POST /v1/admin/bulk-create', () => call('POST', '/v1/admin/bulk-create', { body: json({ shards: [{ key: 'planted', value: 'cGxhbnRlZA==' }] }), headers: [['content-type', 'application/json']] })],
    ['POST /v1/admin/bulk-remove', () => call('POST', '/v1/admin/bulk-remove', { body: json({ keys: ['native-1'] }), headers: [['content-type', 'application/json']] })],
    ['GET /v1/admin/export', () => call('GET', '/v1/admin/export')],
    ['GET /v1/admin/shards', () => call('GET', '/v1/admin/shards')],
    ['POST /v1/admin/disks/1/out', () => call('POST', '/v1/admin/disks/1/out')],
    ['GET /alpha/a/one', () => call('GET', '/alpha/a/one')],
    ['PUT /alpha/anonymous', () => call('PUT', '/alpha/anonymous', { body: Buffer.from('anon') })],
  ];
  const [describe, make] = rng.pick(calls);
  const expect: Expect = describe.includes(' /v1/') ? ['401 Unauthenticated'] : ['403 AccessDenied'];
  return { family: 'no-credentials', property: 'unauthenticated-access', describe: `unsigned ${describe}`, expect, mayChange: false, build: () => Promise.resolve(one(make())) };
}

// ---- signed, but not rightly: a forged key, an unknown one, a stale date, a body changed after signing ----

const FORGED_KEYS: KeyPair = { accessKeyId: CHECK_ACCESS_KEY, secretAccessKey: 'not/the/secret+0123456789abcdefghijklmno' };
const UNKNOWN_KEYS: KeyPair = { accessKeyId: 'SSUNKNOWNACCESSKEY01', secretAccessKey: CHECK_SECRET_KEY };
/** Past SigV4's 15 minutes of allowed skew. */
const STALE_MS = 20 * 60_000;

function badSignature(rng: Rng): AttackCase {
  // Each overwrites or deletes what the world holds: a refusal that ran anyway shows in the store.
  const s3 = rng.bool(0.5);
  const target = s3 ? '/alpha/a/one' : '/v1/shards/native-1';
  const put = (body = Buffer.from('overwritten')): HttpCall => call('PUT', target, { body });
  const shapes: Array<[string, Expect, (nowMs: number) => Promise<HttpCall>]> = [
    ['PUT signed with the node\'s key id and a wrong secret', ['403 SignatureDoesNotMatch'], (now) => signHeader(put(), now, 'hash', FORGED_KEYS)],
    ['DELETE signed with an unknown key id', ['403 InvalidAccessKeyId'], (now) => signHeader(call('DELETE', target), now, 'hash', UNKNOWN_KEYS)],
    ['DELETE signed 20 minutes ago', ['403 RequestTimeTooSkewed'], (now) => signHeader(call('DELETE', target), now - STALE_MS)],
    [
      'PUT whose body was changed after its SHA-256 was signed',
      // S3's code; the native API names the same refusal its own way.
      [s3 ? '400 XAmzContentSHA256Mismatch' : '400 ContentSHA256Mismatch'],
      async (now) => ({ ...(await signHeader(put(Buffer.from('signed body')), now)), body: Buffer.from('other body!') }),
    ],
  ];
  if (s3) shapes.push(['PUT by a presigned URL that expired 100 s ago', ['403 AccessDenied'], (now) => presign(put(), now - 700_000)]);
  else shapes.push(['PUT with an aws-chunked body (the native API takes none)', ['400 InvalidArgument'], (now) => signHeader(call('PUT', target, { body: Buffer.from('0;chunk-signature=' + '0'.repeat(64) + '\r\n\r\n'), headers: [['content-encoding', 'aws-chunked'], ['x-amz-decoded-content-length', '0']] }), now, 'streaming')]);
  const [describe, expect, make] = rng.pick(shapes);
  return { family: 'bad-signature', property: 'bad-signature-honoured', describe: `${describe}: ${target}`, expect, mayChange: false, build: async (nowMs) => one(await make(nowMs)) };
}

// ---- injected disk faults: the only 5xx the model allows on a well-formed call ----

function injectedFault(rng: Rng): AttackCase {
  const kind = rng.pick(['read', 'write', 'flush'] as const);
  const n = rng.int(0, 999);
  const reads: Array<[string, () => HttpCall, Buffer | undefined]> = [
    ['GET /alpha/a/one', () => call('GET', '/alpha/a/one'), Buffer.from('object a/one')],
    ['GET /v1/shards/native-1', () => call('GET', '/v1/shards/native-1'), Buffer.from('shard native-1')],
    ['GET /alpha?list-type=2', () => call('GET', '/alpha', { query: [['list-type', '2']] }), undefined],
  ];
  const writes: Array<[string, () => HttpCall, Buffer | undefined]> = [
    [`PUT /alpha/f-${n}`, () => call('PUT', `/alpha/f-${n}`, { body: Buffer.from('under a fault') }), undefined],
    [`PUT /v1/shards/f-${n}`, () => call('PUT', `/v1/shards/f-${n}`, { body: Buffer.from('under a fault') }), undefined],
    ['DELETE /alpha/a/two', () => call('DELETE', '/alpha/a/two'), undefined],
  ];
  const [describe, make, body] = rng.pick(kind === 'read' ? reads : writes);
  return {
    family: 'disk-fault',
    property: 'fault-answered-badly',
    describe: `signed ${describe}, every disk failing its next ${kind}`,
    // Served (a read may come from cache, a write from the other disk) or a clear 500/503; never a crash, a hang or wrong bytes.
    expect: ['2xx', '500', '503'],
    mayChange: true,
    ...(body === undefined ? {} : { body }),
    faults: (disks) => {
      for (const d of disks) {
        if (kind === 'read') d.failReads(() => true);
        else if (kind === 'write') d.failWrites(() => true);
        else d.failFlush();
      }
    },
    build: async (nowMs) => one(await signHeader(make(), nowMs)),
  };
}

// ---- issue 12 (3): browser-shaped requests and DNS rebinding ----

function browser(rng: Rng): AttackCase {
  const body = Buffer.from(JSON.stringify({ shards: [{ key: 'from-browser', value: 'eA==' }] }));
  const shapes: Array<[string, () => HttpCall]> = [
    ['POST /v1/admin/bulk-create, Content-Type: text/plain', () => call('POST', '/v1/admin/bulk-create', { body, headers: [['content-type', 'text/plain']] })],
    ['POST /v1/admin/bulk-create, Origin: http://evil.example', () => call('POST', '/v1/admin/bulk-create', { body, headers: [['content-type', 'application/json'], ['origin', 'http://evil.example']] })],
    ['PUT /v1/shards/from-browser, Content-Type: application/x-www-form-urlencoded', () => call('PUT', '/v1/shards/from-browser', { body: Buffer.from('a=b'), headers: [['content-type', 'application/x-www-form-urlencoded']] })],
    ['PUT /v1/shards/from-browser, Origin: http://evil.example', () => call('PUT', '/v1/shards/from-browser', { body: Buffer.from('x'), headers: [['origin', 'http://evil.example']] })],
    ['POST /v1/admin/disks/0/out, Content-Type: multipart/form-data', () => call('POST', '/v1/admin/disks/0/out', { headers: [['content-type', 'multipart/form-data; boundary=x']] })],
  ];
  const rebinding: Array<[string, () => HttpCall]> = [
    ['DELETE /v1/shards/native-1, Host: rebind.attacker.example', () => rehost(call('DELETE', '/v1/shards/native-1'))],
    ['PUT /alpha/rebound, Host: rebind.attacker.example', () => rehost(call('PUT', '/alpha/rebound', { body: Buffer.from('x') }))],
    ['GET /v1/admin/export, Host: rebind.attacker.example', () => rehost(call('GET', '/v1/admin/export'))],
  ];
  // The Host is checked first, on every API; a signature does not make a page's request a program's.
  if (rng.bool(0.4)) {
    const [describe, make] = rng.pick(rebinding);
    return signed('browser', 'browser-request-honoured', `signed ${describe}`, ['421 MisdirectedRequest'], make);
  }
  const [describe, make] = rng.pick(shapes);
  return signed('browser', 'browser-request-honoured', `signed ${describe}`, ['403 BrowserRequestRefused'], make);
}

/** The same call to a name the node was not configured with (signed for it: DNS rebinding sends the attacker's name). */
function rehost(c: HttpCall): HttpCall {
  return { ...c, headers: c.headers.map(([n, v]) => [n, n === 'host' ? CHECK_HOST.replace('127.0.0.1', 'rebind.attacker.example') : v] as const) };
}

// ---- request smuggling and framing ----

function smuggling(rng: Rng): AttackCase {
  const shapes: Array<[string, (hidden: Buffer) => Buffer]> = [
    ['Content-Length with Transfer-Encoding: chunked', (h) => raw('POST /v1/shards/smuggle', [`Content-Length: ${h.length + 5}`, 'Transfer-Encoding: chunked'], Buffer.concat([Buffer.from('0\r\n\r\n'), h]))],
    ['two different Content-Lengths', (h) => raw('PUT /v1/shards/smuggle', ['Content-Length: 5', `Content-Length: ${h.length + 5}`], Buffer.concat([Buffer.from('hello'), h]))],
    ['obs-fold in a header', (h) => raw('PUT /v1/shards/smuggle', ['Content-Length: 5', 'X-Note: a', ' folded'], Buffer.concat([Buffer.from('hello'), h]))],
    ['bad chunk size', (h) => raw('PUT /v1/shards/smuggle', ['Transfer-Encoding: chunked'], Buffer.concat([Buffer.from('zz\r\nhello\r\n0\r\n\r\n'), h]))],
    ['Transfer-Encoding: chunked, identity', (h) => raw('PUT /v1/shards/smuggle', ['Transfer-Encoding: chunked, identity'], Buffer.concat([Buffer.from('5\r\nhello\r\n0\r\n\r\n'), h]))],
    ['a space before the colon', (h) => raw('PUT /v1/shards/smuggle', ['Content-Length : 5'], Buffer.concat([Buffer.from('hello'), h]))],
  ];
  const [describe, frame] = rng.pick(shapes);
  const hiddenKey = rng.pick(SEEDED_SHARDS);
  return {
    family: 'smuggling',
    property: 'smuggled-request-honoured',
    describe: `${describe}, a signed DELETE /v1/shards/${hiddenKey} hidden after it`,
    // node's parser refuses each shape before any handler runs: a bare 400, the connection closed.
    expect: ['400'],
    mayChange: false,
    build: async (nowMs) => {
      const hidden = serialize(await signHeader(call('DELETE', `/v1/shards/${hiddenKey}`), nowMs));
      // Only the first answer is judged; the hidden request must never run (the store is compared).
      return { bytes: frame(hidden), methods: ['PUT', 'DELETE'] };
    },
  };
}

function raw(requestLine: string, headers: readonly string[], body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([`${requestLine} HTTP/1.1`, `Host: ${CHECK_HOST}`, ...headers].join('\r\n') + '\r\n\r\n', 'latin1'), body]);
}

function awsChunkedForgery(rng: Rng): AttackCase {
  const key = `/alpha/chunked-${rng.int(0, 999)}`;
  const data = Buffer.from('forged chunk data');
  return {
    family: 'smuggling',
    property: 'forged-chunk-honoured',
    describe: `PUT ${key}, aws-chunked STREAMING-AWS4-HMAC-SHA256-PAYLOAD with a forged chunk signature`,
    expect: ['403 SignatureDoesNotMatch'],
    mayChange: false,
    build: async (nowMs) => {
      const forged = '0'.repeat(64);
      const body = Buffer.from(`${data.length.toString(16)};chunk-signature=${forged}\r\n${data.toString()}\r\n0;chunk-signature=${forged}\r\n\r\n`);
      const headers: Array<readonly [string, string]> = [
        ['content-encoding', 'aws-chunked'],
        ['x-amz-decoded-content-length', String(data.length)],
      ];
      // The seed signature is good; the chunk signatures are not.
      return one(await signHeader(call('PUT', key, { body, headers }), nowMs, 'streaming'));
    },
  };
}

// ---- bad percent-encodings and UTF-8 ----

function badEncoding(rng: Rng): AttackCase {
  const shapes: Array<[string, () => HttpCall]> = [
    ['PUT /alpha/%ZZ (bad escape)', () => call('PUT', '/alpha/%ZZ', { body: Buffer.from('x') })],
    ['PUT /alpha/%C3%28 (not UTF-8)', () => call('PUT', '/alpha/%C3%28', { body: Buffer.from('x') })],
    ['PUT /alpha/%FF%FE (not UTF-8)', () => call('PUT', '/alpha/%FF%FE', { body: Buffer.from('x') })],
    ['PUT /v1/shards/%G0 (bad escape)', () => call('PUT', '/v1/shards/%G0', { body: Buffer.from('x') })],
    ['PUT /v1/shards/abc%2 (cut escape)', () => call('PUT', '/v1/shards/abc%2', { body: Buffer.from('x') })],
  ];
  const [describe, make] = rng.pick(shapes);
  // Signed as sent: the server must refuse the encoding, not the signature (S3's code, and the native API's).
  return signed('bad-encoding', 'bad-encoding-accepted', `signed ${describe}`, [describe.includes('/v1/') ? '400 InvalidArgument' : '400 InvalidURI'], make);
}

function nonAsciiMetadata(rng: Rng): AttackCase {
  const key = `/alpha/meta-${rng.int(0, 999)}`;
  return {
    family: 'bad-encoding',
    property: 'signed-request-refused',
    describe: `PUT ${key} with a non-ASCII x-amz-meta-* value, signed by the SDK`,
    // Stored, or refused as a bad header, but never a signature its own client made that fails.
    expect: ['2xx', '400 InvalidArgument'],
    mayChange: true,
    build: async (nowMs) => one(await signHeader(call('PUT', key, { body: Buffer.from('x'), headers: [['x-amz-meta-name', 'café']] }), nowMs)),
  };
}

// ---- issue 12 (7): XML limits, conditions, unprotected batch deletes ----

function nestedXml(depth: number): Buffer {
  return Buffer.from('<Delete>' + '<Object>'.repeat(depth) + '</Object>'.repeat(depth) + '</Delete>');
}

function xmlLimits(rng: Rng): AttackCase {
  const many = Buffer.from(`<Delete>${Array.from({ length: 1001 }, (_, i) => `<Object><Key>a/k${i}</Key></Object>`).join('')}</Delete>`);
  const padded = (bytes: number, open: string, close: string): Buffer => Buffer.from(open + ' '.repeat(bytes) + close);
  const fresh = `/fresh-${rng.int(0, 99)}`;
  const config = (inner: string): string => `<CreateBucketConfiguration>${inner}</CreateBucketConfiguration>`;
  const shapes: Array<[string, string, ReadonlyArray<readonly [string, string]>, Buffer]> = [
    ['POST /alpha?delete, 20,000 nested tags', '/alpha', [['delete', '']], nestedXml(20_000)],
    ['POST /alpha?delete, 1,001 keys', '/alpha', [['delete', '']], many],
    ['POST /alpha?delete, not XML', '/alpha', [['delete', '']], Buffer.from('<Delete><Object><Key>a/one</Key></Object')],
    ['POST /alpha?delete, a 3 MiB body', '/alpha', [['delete', '']], padded(3 * 1024 * 1024, '<Delete><Object><Key>a/one</Key></Object>', '</Delete>')],
    [`PUT ${fresh} (CreateBucket), 20,000 nested tags`, fresh, [], Buffer.from(config('<a>'.repeat(20_000) + '</a>'.repeat(20_000)))],
    [`PUT ${fresh} (CreateBucket), a 100 KiB configuration`, fresh, [], padded(100 * 1024, config('<LocationConstraint>us-east-1</LocationConstraint>'), '')],
  ];
  const [describe, path, query, body] = rng.pick(shapes);
  const method = path === '/alpha' ? 'POST' : 'PUT';
  return signed('xml', 'bad-xml-accepted', `signed ${describe}`, ['400 MalformedXML'], () => call(method, path, { query, body, headers: [['content-md5', md5(body)]] }));
}

function hugeHeaders(rng: Rng): AttackCase {
  const bytes = rng.pick([17 * 1024, 64 * 1024]);
  return {
    family: 'huge-headers',
    property: 'huge-headers-accepted',
    describe: `PUT /v1/shards/big-header with a ${bytes >> 10} KiB header (limit 16 KiB)`,
    // node's parser, before any handler: 431 Request Header Fields Too Large.
    expect: ['431'],
    mayChange: false,
    build: async (nowMs) => one(await signHeader(call('PUT', '/v1/shards/big-header', { body: Buffer.from('x'), headers: [['x-padding', 'p'.repeat(bytes)]] }), nowMs)),
  };
}

function conditions(rng: Rng): AttackCase {
  const key = rng.pick(SEEDED_OBJECTS);
  const deleteBody = Buffer.from(`<Delete><Object><Key>${key}</Key></Object></Delete>`);
  const failed: Expect = ['412 PreconditionFailed'];
  const shapes: Array<[string, string, Expect, () => HttpCall]> = [
    [`DELETE /alpha/${key}, If-Match: "wrong"`, 'precondition-ignored', failed, () => call('DELETE', `/alpha/${key}`, { headers: [['if-match', '"0123456789abcdef0123456789abcdef"']] })],
    [`PUT /alpha/${key}, If-None-Match: *`, 'precondition-ignored', failed, () => call('PUT', `/alpha/${key}`, { body: Buffer.from('over'), headers: [['if-none-match', '*']] })],
    [`PUT /alpha/${key}, If-Match: "wrong"`, 'precondition-ignored', failed, () => call('PUT', `/alpha/${key}`, { body: Buffer.from('over'), headers: [['if-match', '"0123456789abcdef0123456789abcdef"']] })],
    [`POST /alpha?delete of ${key} without Content-MD5 or checksum`, 'unprotected-batch-delete', ['400 InvalidRequest'], () => call('POST', '/alpha', { query: [['delete', '']], body: deleteBody })],
  ];
  const [describe, property, expect, make] = rng.pick(shapes);
  return signed('conditions', property, `signed ${describe}`, expect, make);
}

// ---- tagging (issue 16): tag sets kept whole, S3's limits enforced ----

/** The world's tag sets (http_check.ts setUp): the object alpha/tagged and the bucket private. */
export const SEEDED_OBJECT_TAGS: ReadonlyArray<readonly [string, string]> = [['team', 'blue'], ['tier', 'gold & silver']];
export const SEEDED_BUCKET_TAGS: ReadonlyArray<readonly [string, string]> = [['cost-center', '42'], ['owner', 'storage <team>']];
export const TAGGED_OBJECT = 'tagged';

const escapeXml = (text: string): string => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/** A <Tagging> document, as a request sends it and (with the XML declaration and S3's namespace) as S3 answers it. */
export function taggingXml(tags: ReadonlyArray<readonly [string, string]>, answer: boolean): Buffer {
  const set = tags.map(([k, v]) => `<Tag><Key>${escapeXml(k)}</Key><Value>${escapeXml(v)}</Value></Tag>`).join('');
  const doc = answer ? `<?xml version="1.0" encoding="UTF-8"?>\n<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>${set}</TagSet></Tagging>` : `<Tagging><TagSet>${set}</TagSet></Tagging>`;
  return Buffer.from(doc, 'utf8');
}

/** `count` tags whose key is `keyChars` characters long. */
function manyTags(count: number, keyChars = 8): Array<[string, string]> {
  return Array.from({ length: count }, (_, i): [string, string] => [`${i}`.padStart(keyChars, 'k'), `v${i}`]);
}

/**
 * The model of tagging: a tag set read back is the one the world stored
 * (property tags-lost, body compared byte for byte); a set past S3's
 * limits (11 object tags, 51 bucket tags, a 129-character key, a
 * 257-character value) is 400 InvalidTag and changes nothing
 * (tag-limit-ignored); tags of a missing object: 404 NoSuchKey; a bucket
 * without tags: 404 NoSuchTagSet; a valid set on an existing object: 2xx.
 */
function tagging(rng: Rng): AttackCase {
  const n = rng.int(0, 999);
  const put = (path: string, tags: ReadonlyArray<readonly [string, string]>): (() => HttpCall) => () => {
    const body = taggingXml(tags, false);
    return call('PUT', path, { query: [['tagging', '']], body, headers: [['content-md5', md5(body)]] });
  };
  const shapes: Array<[string, string, Expect, () => HttpCall, Buffer?]> = [
    [`GET /alpha/${TAGGED_OBJECT}?tagging`, 'tags-lost', ['2xx'], () => call('GET', `/alpha/${TAGGED_OBJECT}`, { query: [['tagging', '']] }), taggingXml(SEEDED_OBJECT_TAGS, true)],
    ['GET /private?tagging', 'tags-lost', ['2xx'], () => call('GET', '/private', { query: [['tagging', '']] }), taggingXml(SEEDED_BUCKET_TAGS, true)],
    [`PUT /alpha/${TAGGED_OBJECT}?tagging with 11 tags`, 'tag-limit-ignored', ['400 InvalidTag'], put(`/alpha/${TAGGED_OBJECT}`, manyTags(11))],
    [`PUT /alpha/${TAGGED_OBJECT}?tagging with a 129-character key`, 'tag-limit-ignored', ['400 InvalidTag'], put(`/alpha/${TAGGED_OBJECT}`, manyTags(1, 129))],
    [`PUT /alpha/${TAGGED_OBJECT}?tagging with a 257-character value`, 'tag-limit-ignored', ['400 InvalidTag'], put(`/alpha/${TAGGED_OBJECT}`, [['k', 'v'.repeat(257)]])],
    ['PUT /private?tagging with 51 tags', 'tag-limit-ignored', ['400 InvalidTag'], put('/private', manyTags(51))],
    [`PUT /alpha/tl-${n} with x-amz-tagging of 11 tags`, 'tag-limit-ignored', ['400 InvalidTag'], () => call('PUT', `/alpha/tl-${n}`, { body: Buffer.from('x'), headers: [['x-amz-tagging', manyTags(11).map(([k, v]) => `${k}=${v}`).join('&')]] })],
    [`PUT /alpha/missing-${n}?tagging`, 'tags-on-nothing', ['404 NoSuchKey'], put(`/alpha/missing-${n}`, manyTags(1))],
    ['GET /empty?tagging', 'tags-lost', ['404 NoSuchTagSet'], () => call('GET', '/empty', { query: [['tagging', '']] })],
    ['PUT /alpha/a/two?tagging', 'well-formed-call-refused', ['2xx'], put('/alpha/a/two', manyTags(rng.int(0, 10)))],
    [`PUT /alpha/tg-${n} with x-amz-tagging`, 'well-formed-call-refused', ['2xx'], () => call('PUT', `/alpha/tg-${n}`, { body: Buffer.from('tagged'), headers: [['x-amz-tagging', 'a=1&b=2']] })],
  ];
  const [describe, property, expect, make, body] = rng.pick(shapes);
  const c = signed('tagging', property, `signed ${describe}`, expect, make);
  return body === undefined ? c : { ...c, body };
}

// ---- issue 16: CORS and browser form uploads (POST object) ----

/** The one origin the world's CORS rule on `alpha` allows (GET, PUT, POST, any header); `private` has no CORS configuration. */
export const CORS_ORIGIN = 'https://app.example';
export const CORS_XML = Buffer.from(
  `<CORSConfiguration><CORSRule><AllowedOrigin>${CORS_ORIGIN}</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedMethod>POST</AllowedMethod><AllowedHeader>*</AllowedHeader><MaxAgeSeconds>300</MaxAgeSeconds></CORSRule></CORSConfiguration>`,
);
const EVIL_ORIGIN = 'http://evil.example';

function preflightCall(path: string, origin: string, method: string): HttpCall {
  return call('OPTIONS', path, { headers: [['origin', origin], ['access-control-request-method', method], ['access-control-request-headers', 'content-type, x-amz-date']] });
}

function unsignedCase(family: string, property: string, describe: string, expect: Expect, make: (nowMs: number) => HttpCall, extra: Partial<AttackCase> = {}): AttackCase {
  return { family, property, describe, expect, mayChange: expect.includes('2xx'), build: (nowMs) => Promise.resolve(one(make(nowMs))), ...extra };
}

/**
 * Preflights (unsigned, as browsers send them) and signed requests with an
 * Origin: headers exactly when the rule matches (S3 accepts a page's
 * signed request: the signature, not the browser, is the credential).
 */
function cors(rng: Rng): AttackCase {
  const n = rng.int(0, 999);
  const allowed = { corsOrigin: CORS_ORIGIN };
  const object = { body: Buffer.from('object a/one') };
  const shapes: AttackCase[] = [
    unsignedCase('cors', 'cors-rule-not-applied', `preflight OPTIONS /alpha/a/one from ${CORS_ORIGIN} for PUT`, ['2xx'], () => preflightCall('/alpha/a/one', CORS_ORIGIN, 'PUT'), { ...allowed, mayChange: false }),
    unsignedCase('cors', 'cors-rule-not-applied', `preflight OPTIONS /alpha from ${CORS_ORIGIN} for GET`, ['2xx'], () => preflightCall('/alpha', CORS_ORIGIN, 'GET'), { ...allowed, mayChange: false }),
    unsignedCase('cors', 'cors-for-foreign-origin', `preflight OPTIONS /alpha/a/one from ${EVIL_ORIGIN}`, ['403 CORSResponse'], () => preflightCall('/alpha/a/one', EVIL_ORIGIN, 'GET')),
    unsignedCase('cors', 'cors-for-foreign-origin', `preflight OPTIONS /alpha/a/one from ${CORS_ORIGIN} for DELETE`, ['403 CORSResponse'], () => preflightCall('/alpha/a/one', CORS_ORIGIN, 'DELETE')),
    unsignedCase('cors', 'cors-for-foreign-origin', `preflight OPTIONS /private/secret (no CORS configuration) from ${CORS_ORIGIN}`, ['403 CORSResponse'], () => preflightCall('/private/secret', CORS_ORIGIN, 'GET')),
    { ...signed('cors', 'cors-rule-not-applied', `signed GET /alpha/a/one, Origin: ${CORS_ORIGIN}`, ['2xx'], () => call('GET', '/alpha/a/one', { headers: [['origin', CORS_ORIGIN]] })), ...allowed, ...object },
    { ...signed('cors', 'cors-for-foreign-origin', `signed GET /alpha/a/one, Origin: ${EVIL_ORIGIN}`, ['2xx'], () => call('GET', '/alpha/a/one', { headers: [['origin', EVIL_ORIGIN]] })), ...object },
    signed('cors', 'cors-for-foreign-origin', `signed DELETE /alpha/c-${n}, Origin: ${CORS_ORIGIN} (DELETE not allowed)`, ['2xx'], () => call('DELETE', `/alpha/c-${n}`, { headers: [['origin', CORS_ORIGIN]] })),
    signed('cors', 'cors-for-foreign-origin', `signed GET /private/secret, Origin: ${CORS_ORIGIN} (no configuration)`, ['2xx'], () => call('GET', '/private/secret', { headers: [['origin', CORS_ORIGIN]] })),
    unsignedCase('cors', 'unauthenticated-access', `unsigned GET /alpha/a/one, Origin: ${CORS_ORIGIN}`, ['403 AccessDenied'], () => call('GET', '/alpha/a/one', { headers: [['origin', CORS_ORIGIN]] })),
    signed('cors', 'cors-limit-ignored', 'signed PUT /alpha?cors with AllowedMethod PATCH', ['400 InvalidRequest'], () => call('PUT', '/alpha', { query: [['cors', '']], body: Buffer.from(CORS_XML.toString().replace('<AllowedMethod>GET', '<AllowedMethod>PATCH')) })),
    signed('cors', 'well-formed-call-refused', 'signed GET /alpha?cors', ['2xx'], () => call('GET', '/alpha', { query: [['cors', '']] })),
  ];
  return rng.pick(shapes);
}

/** A POST /alpha form for key `key`, signed with the node's key pair at `nowMs`, changed as `form` says. */
function postForm(nowMs: number, key: string, form: { conditions?: unknown[]; fields?: Record<string, string>; unnamed?: Record<string, string>; expiresInMs?: number; tamper?: boolean; unsigned?: boolean; sentKey?: string; file?: Buffer }): HttpCall {
  const signing = signingFields({
    accessKeyId: CHECK_ACCESS_KEY,
    secretAccessKey: CHECK_SECRET_KEY,
    nowMs,
    bucket: 'alpha',
    key,
    ...(form.conditions === undefined ? {} : { conditions: form.conditions }),
    ...(form.fields === undefined ? {} : { fields: form.fields }),
    ...(form.expiresInMs === undefined ? {} : { expiresInMs: form.expiresInMs }),
    ...(form.tamper === undefined ? {} : { tamper: form.tamper }),
  });
  const fields: Array<[string, string]> = [['key', form.sentKey ?? key], ...(form.unsigned === true ? [] : signing.fields), ...Object.entries(form.fields ?? {}), ...Object.entries(form.unnamed ?? {})];
  return call('POST', '/alpha', { body: formBody(fields, form.file ?? Buffer.from('form bytes')), headers: [['content-type', FORM_CONTENT_TYPE]] });
}

/** Browser form uploads: a well-formed one stores, each broken rule of the policy is refused and stores nothing. */
function postObject(rng: Rng): AttackCase {
  const key = `form-${rng.int(0, 999)}`;
  const shapes: Array<[string, string, Expect, Parameters<typeof postForm>[2]]> = [
    ['a well-formed signed form', 'well-formed-call-refused', ['2xx'], {}],
    ['a form with success_action_status 201 and metadata', 'well-formed-call-refused', ['2xx'], { fields: { success_action_status: '201', 'x-amz-meta-from': 'form' } }],
    ['the policy changed after signing', 'tampered-request-honoured', ['403 SignatureDoesNotMatch'], { tamper: true }],
    ['no policy and no signature (anonymous)', 'unauthenticated-access', ['403 AccessDenied'], { unsigned: true }],
    ['the key outside the starts-with condition', 'post-policy-not-enforced', ['403 AccessDenied'], { sentKey: `elsewhere/${key}` }],
    ['a field no condition names', 'post-policy-not-enforced', ['403 AccessDenied'], { unnamed: { 'x-amz-meta-sneaky': 'yes' } }],
    ['an expired policy', 'post-policy-not-enforced', ['403 AccessDenied'], { expiresInMs: -60_000 }],
    ['a file over content-length-range', 'post-policy-not-enforced', ['400 EntityTooLarge'], { conditions: [['content-length-range', 0, 4]] }],
    ['x-amz-server-side-encryption named by the policy', 'unimplemented-guarantee-accepted', ['501 NotImplemented'], { fields: { 'x-amz-server-side-encryption': 'AES256' } }],
  ];
  const [what, property, expect, form] = rng.pick(shapes);
  return unsignedCase('post-object', property, `POST /alpha form for ${key}: ${what}`, expect, (nowMs) => postForm(nowMs, key, form));
}

// ---- versioning (issue 16): every version kept, the newest served ----

/** The versioned bucket of the world (http_check.ts setUp): `doc` written twice, `gone` written then deleted. */
export const VERSIONED_BUCKET = 'ver';
export const DOC_BODIES = ['doc version 1', 'doc version 2'] as const;
export const GONE_BODY = 'gone before';

/** The version ids setUp was told; the cases name versions by them. */
export interface SeededVersions {
  readonly docV1: string;
  readonly docV2: string;
  readonly goneV1: string;
  readonly goneMarker: string;
  /** The versions of the lock bucket's objects (LOCK_BUCKET): GOVERNANCE, COMPLIANCE, legal hold ON. */
  readonly lockGov: string;
  readonly lockComp: string;
  readonly lockHeld: string;
}

const versioningXml = (inner: string): Buffer => Buffer.from(`<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</VersioningConfiguration>`);

/**
 * The model of versioning: GET without a versionId serves the newest
 * version (wrong-bytes otherwise); an overwritten version reads back by its
 * id, whole (noncurrent-version-lost); a delete marker as the newest is 404
 * NoSuchKey, by its id 405 MethodNotAllowed (delete-marker-ignored); an id
 * that names nothing is 404 NoSuchVersion, one that cannot be ours 400
 * InvalidArgument (unknown-version-served); the bucket says Enabled
 * (versioning-state-lost); MFA delete is refused 501 and a bad Status 400,
 * changing nothing (versioning-config-accepted).
 */
function versioning(rng: Rng): AttackCase {
  const n = rng.int(0, 999);
  const at = `/${VERSIONED_BUCKET}`;
  const get = (key: string, versionId?: (s: SeededVersions) => string, method = 'GET'): ((s: SeededVersions) => HttpCall) => (s) => call(method, `${at}/${key}`, versionId === undefined ? {} : { query: [['versionId', versionId(s)]] });
  const putConfig = (body: Buffer): (() => HttpCall) => () => call('PUT', '/empty', { query: [['versioning', '']], body, headers: [['content-md5', md5(body)]] });
  const shapes: Array<[string, string, Expect, (s: SeededVersions) => HttpCall, Buffer?]> = [
    [`GET ${at}/doc`, 'latest-version-not-served', ['2xx'], get('doc'), Buffer.from(DOC_BODIES[1])],
    [`GET ${at}/doc?versionId=<first>`, 'noncurrent-version-lost', ['2xx'], get('doc', (s) => s.docV1), Buffer.from(DOC_BODIES[0])],
    [`GET ${at}/doc?versionId=<second>`, 'noncurrent-version-lost', ['2xx'], get('doc', (s) => s.docV2), Buffer.from(DOC_BODIES[1])],
    [`HEAD ${at}/doc?versionId=<first>`, 'noncurrent-version-lost', ['2xx'], get('doc', (s) => s.docV1, 'HEAD')],
    [`GET ${at}/gone?versionId=<before the marker>`, 'noncurrent-version-lost', ['2xx'], get('gone', (s) => s.goneV1), Buffer.from(GONE_BODY)],
    [`GET ${at}/gone`, 'delete-marker-ignored', ['404 NoSuchKey'], get('gone')],
    [`GET ${at}/gone?versionId=<marker>`, 'delete-marker-ignored', ['405 MethodNotAllowed'], get('gone', (s) => s.goneMarker)],
    [`GET ${at}/doc?versionId=<none such>`, 'unknown-version-served', ['404 NoSuchVersion'], get('doc', () => '0'.repeat(32))],
    [`GET ${at}/doc?versionId=not-ours`, 'unknown-version-served', ['400 InvalidArgument'], get('doc', () => 'not-ours')],
    [`GET ${at}?versioning`, 'versioning-state-lost', ['2xx'], () => call('GET', at, { query: [['versioning', '']] }), Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n${versioningXml('<Status>Enabled</Status>').toString()}`)],
    ['PUT /empty?versioning with MfaDelete Enabled', 'versioning-config-accepted', ['501 NotImplemented'], putConfig(versioningXml('<Status>Enabled</Status><MfaDelete>Enabled</MfaDelete>'))],
    ['PUT /empty?versioning with Status On', 'versioning-config-accepted', ['400 MalformedXML'], putConfig(versioningXml('<Status>On</Status>'))],
    [`GET ${at}?versions`, 'well-formed-call-refused', ['2xx'], () => call('GET', at, { query: [['versions', '']] })],
    [`PUT ${at}/v-${n}`, 'well-formed-call-refused', ['2xx'], () => call('PUT', `${at}/v-${n}`, { body: Buffer.from(`v ${n}`) })],
    ['GET /alpha/a/one?versionId=null', 'noncurrent-version-lost', ['2xx'], () => call('GET', '/alpha/a/one', { query: [['versionId', 'null']] }), Buffer.from('object a/one')],
  ];
  const [describe, property, expect, make, body] = rng.pick(shapes);
  const c = signed('versioning', property, `signed ${describe}`, expect, make);
  return body === undefined ? c : { ...c, body };
}

// ---- object lock (issue 16): protected versions stay, retention only grows ----

/** The lock bucket of the world (http_check.ts setUp): `gov`, `comp` retained until LOCK_UNTIL, `held` under a legal hold. */
export const LOCK_BUCKET = 'locked';
/** Far after any seed's virtual time (http_check.ts EPOCH_MS plus at most a day). */
export const LOCK_UNTIL = '2100-01-01T00:00:00.000Z';
/** The lock headers of each seeded object of LOCK_BUCKET, in setUp's order. */
export const LOCKED_OBJECTS: ReadonlyArray<readonly [string, ReadonlyArray<readonly [string, string]>]> = [
  ['gov', [['x-amz-object-lock-mode', 'GOVERNANCE'], ['x-amz-object-lock-retain-until-date', LOCK_UNTIL]]],
  ['comp', [['x-amz-object-lock-mode', 'COMPLIANCE'], ['x-amz-object-lock-retain-until-date', LOCK_UNTIL]]],
  ['held', [['x-amz-object-lock-legal-hold', 'ON']]],
];

/**
 * The model of object lock (src/server/s3/object_lock.ts): a version under
 * GOVERNANCE is not removed without x-amz-bypass-governance-retention
 * (governance-delete-without-bypass), nor its retention shortened
 * (governance-shortened-without-bypass); under COMPLIANCE neither happens
 * even with the bypass (compliance-removed, compliance-shortened); a legal
 * hold blocks removal (legal-hold-ignored); a DELETE without versionId adds
 * a delete marker (well-formed-call-refused); the lock state reads back
 * (lock-state-lost); lock headers on a bucket without object lock are 400
 * InvalidRequest, and a lock bucket's versioning cannot be suspended
 * (lock-config-ignored).
 */
function objectLock(rng: Rng): AttackCase {
  const n = rng.int(0, 999);
  const at = `/${LOCK_BUCKET}`;
  const bypass: Array<[string, string]> = [['x-amz-bypass-governance-retention', 'true']];
  const remove = (key: string, version: (s: SeededVersions) => string, headers: Array<[string, string]> = []): ((s: SeededVersions) => HttpCall) => (s) =>
    call('DELETE', `${at}/${key}`, { query: [['versionId', version(s)]], headers });
  const retention = (key: string, version: (s: SeededVersions) => string, mode: string, until: string, headers: Array<[string, string]> = []): ((s: SeededVersions) => HttpCall) => (s) => {
    const body = Buffer.from(`<Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Mode>${mode}</Mode><RetainUntilDate>${until}</RetainUntilDate></Retention>`);
    return call('PUT', `${at}/${key}`, { query: [['retention', ''], ['versionId', version(s)]], body, headers: [['content-md5', md5(body)], ...headers] });
  };
  const sooner = '2099-01-01T00:00:00.000Z';
  const xml = (root: string, inner: string): Buffer => Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>
<${root} xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</${root}>`);
  const shapes: Array<[string, string, Expect, (s: SeededVersions) => HttpCall, Buffer?]> = [
    [`DELETE ${at}/gov?versionId=<gov>`, 'governance-delete-without-bypass', ['403 AccessDenied'], remove('gov', (s) => s.lockGov)],
    [`PUT ${at}/gov?retention&versionId=<gov> shortened`, 'governance-shortened-without-bypass', ['403 AccessDenied'], retention('gov', (s) => s.lockGov, 'GOVERNANCE', sooner)],
    [`DELETE ${at}/comp?versionId=<comp> with the bypass`, 'compliance-removed', ['403 AccessDenied'], remove('comp', (s) => s.lockComp, bypass)],
    [`PUT ${at}/comp?retention&versionId=<comp> shortened with the bypass`, 'compliance-shortened', ['403 AccessDenied'], retention('comp', (s) => s.lockComp, 'COMPLIANCE', sooner, bypass)],
    [`PUT ${at}/comp?retention&versionId=<comp> as GOVERNANCE with the bypass`, 'compliance-shortened', ['403 AccessDenied'], retention('comp', (s) => s.lockComp, 'GOVERNANCE', LOCK_UNTIL, bypass)],
    [`DELETE ${at}/held?versionId=<held> with the bypass`, 'legal-hold-ignored', ['403 AccessDenied'], remove('held', (s) => s.lockHeld, bypass)],
    [`GET ${at}/comp?retention&versionId=<comp>`, 'lock-state-lost', ['2xx'], (s) => call('GET', `${at}/comp`, { query: [['retention', ''], ['versionId', s.lockComp]] }), xml('Retention', `<Mode>COMPLIANCE</Mode><RetainUntilDate>${LOCK_UNTIL}</RetainUntilDate>`)],
    [`GET ${at}/held?legal-hold&versionId=<held>`, 'lock-state-lost', ['2xx'], (s) => call('GET', `${at}/held`, { query: [['legal-hold', ''], ['versionId', s.lockHeld]] }), xml('LegalHold', '<Status>ON</Status>')],
    [`DELETE ${at}/gov (a delete marker)`, 'well-formed-call-refused', ['2xx'], () => call('DELETE', `${at}/gov`)],
    [`PUT ${at}/l-${n} with GOVERNANCE retention`, 'well-formed-call-refused', ['2xx'], () => call('PUT', `${at}/l-${n}`, { body: Buffer.from(`l ${n}`), headers: [...(LOCKED_OBJECTS[0]?.[1] ?? [])] })],
    [`PUT /alpha/l-${n} with a legal hold (no object lock on alpha)`, 'lock-config-ignored', ['400 InvalidRequest'], () => call('PUT', `/alpha/l-${n}`, { body: Buffer.from('unlocked'), headers: [['x-amz-object-lock-legal-hold', 'ON']] })],
    [`PUT ${at}?versioning Suspended`, 'lock-config-ignored', ['409 InvalidBucketState'], () => call('PUT', at, { query: [['versioning', '']], body: Buffer.from('<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>') })],
  ];
  const [describe, property, expect, make, body] = rng.pick(shapes);
  const c = signed('object-lock', property, `signed ${describe}`, expect, make);
  return body === undefined ? c : { ...c, body };
}

// ---- issue 16: a second user and anonymous requests against the owner's buckets ----

/** The policy of bucket `open`: anyone may read pub/*, and nobody pub/denied (the Deny must win over the Allow). */
export const OPEN_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::open/pub/*' },
    { Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::open/pub/denied' },
  ],
});

const PUBLIC_POLICY = (bucket: string): Buffer =>
  Buffer.from(JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`] }] }));

/** A case signed by mallory, the second user. */
function malloryCase(family: string, describe: string, property: string, expect: Expect, make: () => HttpCall, body?: Buffer): AttackCase {
  return {
    family,
    property,
    describe: `signed by mallory: ${describe}`,
    expect,
    mayChange: expect.includes('2xx'),
    ...(body !== undefined ? { body } : {}),
    build: async (nowMs) => one(await signHeader(make(), nowMs, 'hash', MALLORY_KEYS)),
  };
}

function access(rng: Rng): AttackCase {
  const n = rng.int(0, 999);
  const denied: Expect = ['403 AccessDenied'];
  const asMallory = (describe: string, property: string, expect: Expect, make: () => HttpCall, body?: Buffer): AttackCase => malloryCase('access', describe, property, expect, make, body);
  const unsigned = (describe: string, property: string, expect: Expect, make: () => HttpCall, body?: Buffer): AttackCase => ({
    family: 'access',
    property,
    describe: `unsigned ${describe}`,
    expect,
    mayChange: expect.includes('2xx'),
    ...(body !== undefined ? { body } : {}),
    build: () => Promise.resolve(one(make())),
  });
  const shapes: Array<() => AttackCase> = [
    // Another user: nothing of the owner's, whatever the operation.
    () => asMallory('GET /private/secret', 'cross-user-access', denied, () => call('GET', '/private/secret')),
    () => asMallory(`PUT /private/m-${n}`, 'cross-user-access', denied, () => call('PUT', `/private/m-${n}`, { body: Buffer.from('planted') })),
    () => asMallory('DELETE /private/secret', 'cross-user-access', denied, () => call('DELETE', '/private/secret')),
    () => asMallory('GET /private?list-type=2', 'cross-user-access', denied, () => call('GET', '/private', { query: [['list-type', '2']] })),
    () => asMallory('HEAD /private/secret', 'cross-user-access', ['403'], () => call('HEAD', '/private/secret')),
    () => asMallory('PUT /private?acl (public-read)', 'cross-user-access', denied, () => call('PUT', '/private', { query: [['acl', '']], headers: [['x-amz-acl', 'public-read']] })),
    () => asMallory('PUT /private?policy (public)', 'cross-user-access', denied, () => call('PUT', '/private', { query: [['policy', '']], body: PUBLIC_POLICY('private') })),
    () => asMallory('GET /private?tagging', 'cross-user-access', denied, () => call('GET', '/private', { query: [['tagging', '']] })),
    () => asMallory('DELETE /alpha/a/one', 'cross-user-access', denied, () => call('DELETE', '/alpha/a/one')),
    () => asMallory('DELETE /empty', 'cross-user-access', denied, () => call('DELETE', '/empty')),
    () => asMallory(`PUT /mallory-own/stolen-${n} copied from /private/secret`, 'cross-user-access', denied, () => call('PUT', `/mallory-own/stolen-${n}`, { headers: [['x-amz-copy-source', '/private/secret']] })),
    () => asMallory('PUT /open/closed (a policy that allows only reads)', 'cross-user-access', denied, () => call('PUT', '/open/closed', { body: Buffer.from('overwritten') })),
    () => asMallory('GET /v1/shards/native-1 (the native API takes the owner\'s keys only)', 'cross-user-access', ['403 InvalidAccessKeyId'], () => call('GET', '/v1/shards/native-1')),
    () => asMallory('GET /open/pub/denied (Deny beats the Allow to everyone)', 'policy-deny-ignored', denied, () => call('GET', '/open/pub/denied')),
    // What is granted to everyone is granted to mallory too; mallory's own bucket is mallory's.
    () => asMallory('GET /open/pub/doc (allowed to everyone by policy)', 'grant-refused', ['2xx'], () => call('GET', '/open/pub/doc'), Buffer.from('open pub/doc')),
    () => asMallory(`PUT /mallory-own/m-${n}`, 'grant-refused', ['2xx'], () => call('PUT', `/mallory-own/m-${n}`, { body: Buffer.from('mine') })),
    // Anonymous: exactly what the policy and the ACLs give everyone.
    () => unsigned('GET /open/pub/doc (policy: anyone may read pub/*)', 'grant-refused', ['2xx'], () => call('GET', '/open/pub/doc'), Buffer.from('open pub/doc')),
    () => unsigned('GET /listable?list-type=2 (bucket ACL public-read)', 'grant-refused', ['2xx'], () => call('GET', '/listable', { query: [['list-type', '2']] })),
    () => unsigned('GET /open/pub/denied (Deny beats the Allow)', 'policy-deny-ignored', denied, () => call('GET', '/open/pub/denied')),
    () => unsigned('GET /open/closed (outside the policy\'s Resource)', 'anonymous-access', denied, () => call('GET', '/open/closed')),
    () => unsigned('GET /open?list-type=2 (the policy allows GetObject only)', 'anonymous-access', denied, () => call('GET', '/open', { query: [['list-type', '2']] })),
    () => unsigned(`PUT /open/pub/a-${n}`, 'anonymous-access', denied, () => call('PUT', `/open/pub/a-${n}`, { body: Buffer.from('anon') })),
    () => unsigned('DELETE /open/pub/doc', 'anonymous-access', denied, () => call('DELETE', '/open/pub/doc')),
    () => unsigned('GET /listable/item (a bucket ACL is not an object ACL)', 'anonymous-access', denied, () => call('GET', '/listable/item')),
    () => unsigned('DELETE /listable/item (READ is not WRITE)', 'anonymous-access', denied, () => call('DELETE', '/listable/item')),
    () => unsigned('PUT /listable?acl (public-read-write)', 'anonymous-access', denied, () => call('PUT', '/listable', { query: [['acl', '']], headers: [['x-amz-acl', 'public-read-write']] })),
  ];
  return rng.pick(shapes)();
}

// ---- issue 16: ACL headers on object writes, parts of an object, object attributes ----

/** Objects of `alpha` written with ACL headers by setUp (http_check.ts), and their bodies. */
export const ACL_OBJECTS = {
  'acl-public': { header: ['x-amz-acl', 'public-read'], body: 'acl public' },
  'acl-private': { header: ['x-amz-acl', 'private'], body: 'acl private' },
  'acl-mallory': { header: ['x-amz-grant-read', `id="${MALLORY_ID}"`], body: 'acl for mallory' },
} as const;
/** A bucket with BucketOwnerEnforced, one with BlockPublicAcls (setUp). */
export const ENFORCED_BUCKET = 'enforced';
export const BLOCKED_BUCKET = 'blocked';

/**
 * The model of ACL headers on object writes: an object written with
 * public-read is read by anyone, with a grant to mallory by mallory, and
 * neither is written by them (object-acl-header-ignored, anonymous-access,
 * cross-user-access); a version named by its id is read with its own ACL,
 * not the current version's (version-acl-crossed); BucketOwnerEnforced refuses an ACL header with 400
 * AccessControlListNotSupported, BlockPublicAcls a public one with 403
 * AccessDenied, a canned ACL with grants 400 InvalidRequest, each storing
 * nothing (object-acl-accepted).
 */
function objectAcl(rng: Rng): AttackCase {
  const n = rng.int(0, 999);
  const body = Buffer.from('with an acl');
  const put = (path: string, headers: ReadonlyArray<readonly [string, string]>): (() => HttpCall) => () => call('PUT', path, { body, headers });
  const everyone: readonly [string, string] = ['x-amz-grant-read', 'uri="http://acs.amazonaws.com/groups/global/AllUsers"'];
  const shapes: Array<() => AttackCase> = [
    () => unsignedCase('object-acl', 'object-acl-header-ignored', 'unsigned GET /alpha/acl-public (written with x-amz-acl: public-read)', ['2xx'], () => call('GET', '/alpha/acl-public'), { body: Buffer.from(ACL_OBJECTS['acl-public'].body) }),
    () => malloryCase('object-acl', 'GET /alpha/acl-public (public-read)', 'object-acl-header-ignored', ['2xx'], () => call('GET', '/alpha/acl-public'), Buffer.from(ACL_OBJECTS['acl-public'].body)),
    () => malloryCase('object-acl', 'GET /alpha/acl-mallory (written with x-amz-grant-read to mallory)', 'object-acl-header-ignored', ['2xx'], () => call('GET', '/alpha/acl-mallory'), Buffer.from(ACL_OBJECTS['acl-mallory'].body)),
    () => unsignedCase('object-acl', 'anonymous-access', 'unsigned GET /alpha/acl-mallory (granted to mallory only)', ['403 AccessDenied'], () => call('GET', '/alpha/acl-mallory')),
    () => unsignedCase('object-acl', 'anonymous-access', 'unsigned GET /alpha/acl-private (x-amz-acl: private)', ['403 AccessDenied'], () => call('GET', '/alpha/acl-private')),
    () => malloryCase('object-acl', 'GET /alpha/acl-private (x-amz-acl: private)', 'cross-user-access', ['403 AccessDenied'], () => call('GET', '/alpha/acl-private')),
    () => malloryCase('object-acl', 'PUT /alpha/acl-public (READ is not WRITE)', 'cross-user-access', ['403 AccessDenied'], put('/alpha/acl-public', [])),
    () => signed('object-acl', 'object-acl-accepted', `signed PUT /${ENFORCED_BUCKET}/k-${n} with x-amz-acl: public-read (BucketOwnerEnforced)`, ['400 AccessControlListNotSupported'], put(`/${ENFORCED_BUCKET}/k-${n}`, [['x-amz-acl', 'public-read']])),
    () => signed('object-acl', 'object-acl-accepted', `signed POST /${ENFORCED_BUCKET}/k-${n}?uploads with a grant (BucketOwnerEnforced)`, ['400 AccessControlListNotSupported'], () => call('POST', `/${ENFORCED_BUCKET}/k-${n}`, { query: [['uploads', '']], headers: [everyone] })),
    () => signed('object-acl', 'object-acl-accepted', `signed PUT /${BLOCKED_BUCKET}/k-${n} with x-amz-acl: public-read (BlockPublicAcls)`, ['403 AccessDenied'], put(`/${BLOCKED_BUCKET}/k-${n}`, [['x-amz-acl', 'public-read']])),
    () => signed('object-acl', 'object-acl-accepted', `signed PUT /${BLOCKED_BUCKET}/k-${n} copied with a grant to everyone (BlockPublicAcls)`, ['403 AccessDenied'], () => call('PUT', `/${BLOCKED_BUCKET}/k-${n}`, { headers: [['x-amz-copy-source', '/alpha/a/one'], everyone] })),
    () => signed('object-acl', 'object-acl-accepted', `signed PUT /alpha/k-${n} with x-amz-acl and a grant`, ['400 InvalidRequest'], put(`/alpha/k-${n}`, [['x-amz-acl', 'public-read'], everyone])),
    () => signed('object-acl', 'well-formed-call-refused', `signed PUT /${ENFORCED_BUCKET}/k-${n} with x-amz-acl: bucket-owner-full-control`, ['2xx'], put(`/${ENFORCED_BUCKET}/k-${n}`, [['x-amz-acl', 'bucket-owner-full-control']])),
    () => signed('object-acl', 'well-formed-call-refused', `signed PUT /alpha/k-${n} with x-amz-acl: authenticated-read`, ['2xx'], put(`/alpha/k-${n}`, [['x-amz-acl', 'authenticated-read']])),
    // ver/doc: its current (second) version written public-read, its first private; a version's ACL is its own.
    () => unsignedCase('object-acl', 'object-acl-header-ignored', `unsigned GET /${VERSIONED_BUCKET}/doc (the current version is public-read)`, ['2xx'], () => call('GET', `/${VERSIONED_BUCKET}/doc`), { body: Buffer.from(DOC_BODIES[1]) }),
    () => ({
      ...unsignedCase('object-acl', 'version-acl-crossed', `unsigned GET /${VERSIONED_BUCKET}/doc?versionId=<first> (private, though the current version is public)`, ['403 AccessDenied'], () => call('GET', '/')),
      build: (_nowMs: number, seeded: SeededVersions) => Promise.resolve(one(call('GET', `/${VERSIONED_BUCKET}/doc`, { query: [['versionId', seeded.docV1]] }))),
    }),
  ];
  return rng.pick(shapes)();
}

/** x-amz-object-attributes: ObjectSize of /alpha/a/one, as the answer must give it. */
const A_ONE_SIZE_XML = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n<GetObjectAttributesResponse xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ObjectSize>${'object a/one'.length}</ObjectSize></GetObjectAttributesResponse>`);

/**
 * The model of parts and attributes: a single-part object's part 1 is the
 * whole object (2xx, its bytes), part 2 is 416 InvalidPartNumber, a bad
 * number 400 InvalidArgument, a part with a Range 400 InvalidRequest
 * (part-number-wrong-range); a version's part 1 is that version
 * (noncurrent-version-lost); GetObjectAttributes gives the size asked for
 * (attributes-wrong), refuses an unknown attribute (400 InvalidArgument),
 * mallory and anonymous requests (403).
 */
function parts(rng: Rng): AttackCase {
  const aOne = (query: ReadonlyArray<readonly [string, string]>, headers: ReadonlyArray<readonly [string, string]> = [], method = 'GET'): (() => HttpCall) => () => call(method, '/alpha/a/one', { query, headers });
  const attributes = (names: string): (() => HttpCall) => aOne([['attributes', '']], [['x-amz-object-attributes', names]]);
  const whole = Buffer.from('object a/one');
  const bad = rng.pick(['0', '10001', 'x']);
  const shapes: Array<() => AttackCase> = [
    () => ({ ...signed('parts', 'part-number-wrong-range', 'signed GET /alpha/a/one?partNumber=1 (a single-part object: the whole of it)', ['2xx'], aOne([['partNumber', '1']])), body: whole }),
    () => signed('parts', 'part-number-wrong-range', 'signed HEAD /alpha/a/one?partNumber=1', ['2xx'], aOne([['partNumber', '1']], [], 'HEAD')),
    () => signed('parts', 'part-number-wrong-range', 'signed GET /alpha/a/one?partNumber=2 (one part only)', ['416 InvalidPartNumber'], aOne([['partNumber', '2']])),
    () => signed('parts', 'part-number-wrong-range', 'signed HEAD /alpha/a/one?partNumber=2 (one part only)', ['416'], aOne([['partNumber', '2']], [], 'HEAD')),
    () => signed('parts', 'part-number-wrong-range', `signed GET /alpha/a/one?partNumber=${bad}`, ['400 InvalidArgument'], aOne([['partNumber', bad]])),
    () => signed('parts', 'part-number-wrong-range', 'signed GET /alpha/a/one?partNumber=1 with a Range', ['400 InvalidRequest'], aOne([['partNumber', '1']], [['range', 'bytes=0-3']])),
    () => ({ ...signed('parts', 'noncurrent-version-lost', `signed GET /${VERSIONED_BUCKET}/doc?partNumber=1&versionId=<first>`, ['2xx'], (s) => call('GET', `/${VERSIONED_BUCKET}/doc`, { query: [['partNumber', '1'], ['versionId', s.docV1]] })), body: Buffer.from(DOC_BODIES[0]) }),
    () => ({ ...signed('parts', 'attributes-wrong', 'signed GET /alpha/a/one?attributes (ObjectSize)', ['2xx'], attributes('ObjectSize')), body: A_ONE_SIZE_XML }),
    () => signed('parts', 'attributes-wrong', 'signed GET /alpha/a/one?attributes (Colour)', ['400 InvalidArgument'], attributes('ObjectSize,Colour')),
    () => signed('parts', 'attributes-wrong', 'signed GET /alpha/a/one?attributes (none named)', ['400 InvalidRequest'], aOne([['attributes', '']])),
    () => malloryCase('parts', 'GET /alpha/a/one?attributes', 'cross-user-access', ['403 AccessDenied'], attributes('ETag')),
    () => unsignedCase('parts', 'anonymous-access', 'unsigned GET /alpha/a/one?attributes', ['403 AccessDenied'], attributes('ETag')),
  ];
  return rng.pick(shapes)();
}

// ---- issue 16: encryption at rest (src/server/s3/sse.ts) ----

/** The bucket of the encrypted objects: `c` (SSE-C under SSE_KEY_A, SSE_C_BODY) and `s3` (SSE-S3, SSE_S3_BODY). */
export const VAULT = 'vault';
export const SSE_KEY_A = Buffer.alloc(32, 0xa1);
const SSE_KEY_B = Buffer.alloc(32, 0xb2);
export const SSE_C_BODY = Buffer.from('customer-encrypted '.repeat(40));
export const SSE_S3_BODY = Buffer.from('node-encrypted '.repeat(30));

export function ssecHeaders(key: Buffer, prefix = 'x-amz-server-side-encryption-customer-'): Array<[string, string]> {
  return [[`${prefix}algorithm`, 'AES256'], [`${prefix}key`, key.toString('base64')], [`${prefix}key-md5`, createHash('md5').update(key).digest('base64')]];
}

function sse(rng: Rng): AttackCase {
  const n = rng.int(0, 999);
  const c = `/${VAULT}/c`;
  const [first, last] = [rng.int(0, SSE_C_BODY.length - 1), rng.int(0, SSE_C_BODY.length - 1)].sort((a, b) => a - b) as [number, number];
  const withBody = (kase: AttackCase, body: Buffer): AttackCase => ({ ...kase, body });
  const shapes: Array<() => AttackCase> = [
    () => withBody(signed('sse', 'sse-object-unreadable', `signed GET ${c} with its key`, ['2xx'], () => call('GET', c, { headers: ssecHeaders(SSE_KEY_A) })), SSE_C_BODY),
    () => withBody(signed('sse', 'sse-object-unreadable', `signed GET ${c} bytes=${first}-${last} with its key`, ['2xx'], () => call('GET', c, { headers: [...ssecHeaders(SSE_KEY_A), ['range', `bytes=${first}-${last}`]] })), SSE_C_BODY.subarray(first, last + 1)),
    () => withBody(signed('sse', 'sse-object-unreadable', `signed GET /${VAULT}/s3 (SSE-S3)`, ['2xx'], () => call('GET', `/${VAULT}/s3`)), SSE_S3_BODY),
    () => signed('sse', 'sse-c-key-not-checked', `signed GET ${c} without its key`, ['400 InvalidRequest'], () => call('GET', c)),
    () => signed('sse', 'sse-c-key-not-checked', `signed GET ${c} with another key`, ['403 AccessDenied'], () => call('GET', c, { headers: ssecHeaders(SSE_KEY_B) })),
    () => signed('sse', 'sse-c-key-not-checked', `signed HEAD ${c} with another key`, ['403'], () => call('HEAD', c, { headers: ssecHeaders(SSE_KEY_B) })),
    () => signed('sse', 'sse-c-key-not-checked', 'signed GET /alpha/a/one with an SSE-C key it was not stored with', ['400 InvalidRequest'], () => call('GET', '/alpha/a/one', { headers: ssecHeaders(SSE_KEY_A) })),
    () => signed('sse', 'sse-c-key-not-checked', `signed copy of ${c} to /${VAULT}/k-${n} with another source key`, ['403 AccessDenied'], () => call('PUT', `/${VAULT}/k-${n}`, { headers: [['x-amz-copy-source', c], ...ssecHeaders(SSE_KEY_B, 'x-amz-copy-source-server-side-encryption-customer-')] })),
    () => signed('sse', 'sse-c-key-not-checked', `signed copy of ${c} to /${VAULT}/k-${n} without its key`, ['400 InvalidRequest'], () => call('PUT', `/${VAULT}/k-${n}`, { headers: [['x-amz-copy-source', c]] })),
    () => signed('sse', 'sse-header-unchecked', `signed PUT /${VAULT}/n-${n} with an SSE-C key and no MD5`, ['400 InvalidArgument'], () => call('PUT', `/${VAULT}/n-${n}`, { body: Buffer.from('x'), headers: ssecHeaders(SSE_KEY_A).slice(0, 2) })),
    () => signed('sse', 'sse-header-unchecked', `signed PUT /${VAULT}/n-${n} with SSE-S3 and SSE-C at once`, ['400 InvalidArgument'], () => call('PUT', `/${VAULT}/n-${n}`, { body: Buffer.from('x'), headers: [['x-amz-server-side-encryption', 'AES256'], ...ssecHeaders(SSE_KEY_A)] })),
    () => signed('sse', 'unimplemented-guarantee-accepted', `signed PUT /${VAULT}?encryption with aws:kms`, ['501 NotImplemented'], () => call('PUT', `/${VAULT}`, { query: [['encryption', '']], body: Buffer.from('<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>') })),
    () => signed('sse', 'well-formed-call-refused', `signed PUT /${VAULT}/p-${n} with SSE-S3`, ['2xx'], () => call('PUT', `/${VAULT}/p-${n}`, { body: Buffer.from('x'), headers: [['x-amz-server-side-encryption', 'AES256']] })),
  ];
  return rng.pick(shapes)();
}

// ---- Signature Version 2 (src/server/s3/sigv2.ts): served on S3, as strict as SigV4 where it can be; never on the native API ----

function sigv2(rng: Rng): AttackCase {
  const key = `/alpha/v2-${rng.int(0, 999)}`;
  const body = Buffer.from('v2 body');
  const v2Case = (property: string, describe: string, expect: Expect, make: (nowMs: number) => HttpCall, extra: Partial<AttackCase> = {}): AttackCase => ({
    family: 'sigv2',
    property,
    describe,
    expect,
    mayChange: expect.includes('2xx'),
    ...extra,
    build: (nowMs) => Promise.resolve(one(make(nowMs))),
  });
  const shapes: Array<() => AttackCase> = [
    () => v2Case('well-formed-call-refused', `V2-signed PUT ${key}`, ['2xx'], (now) => signV2(call('PUT', key, { body }), now)),
    () => v2Case('well-formed-call-refused', 'V2-signed GET /alpha/a/one', ['2xx'], (now) => signV2(call('GET', '/alpha/a/one'), now)),
    () => v2Case('well-formed-call-refused', `V2-presigned PUT ${key}`, ['2xx'], (now) => presignV2(call('PUT', key, { body }), now)),
    () => {
      // Every x-amz-* header is in the string to sign: one added after signing breaks the signature.
      const [name, value] = rng.pick(UNSIGNED_EXTRAS);
      return v2Case('unsigned-header-honoured', `V2-signed PUT ${key}, then ${name}: ${value} added`, ['403 SignatureDoesNotMatch'], (now) => withHeader(signV2(call('PUT', key, { body }), now), name, value));
    },
    () => v2Case('unsigned-header-honoured', `V2-presigned PUT ${key}, then x-amz-copy-source added`, ['403 SignatureDoesNotMatch'], (now) => withHeader(presignV2(call('PUT', key), now), 'x-amz-copy-source', '/private/secret')),
    () => v2Case('tampered-request-honoured', 'V2-signed PUT /alpha/a/one, then ?tagging added', ['403 SignatureDoesNotMatch'], (now) => ({ ...signV2(call('PUT', '/alpha/a/one', { body }), now), query: [['tagging', '']] })),
    () => v2Case('tampered-request-honoured', `V2-signed PUT ${key}, then the bucket changed`, ['403 SignatureDoesNotMatch'], (now) => ({ ...signV2(call('PUT', key, { body }), now), path: '/private/secret' })),
    () => v2Case('tampered-request-honoured', 'V2-signed GET /alpha/a/one, then sent as DELETE', ['403 SignatureDoesNotMatch'], (now) => ({ ...signV2(call('GET', '/alpha/a/one'), now), method: 'DELETE' })),
    () => v2Case('bad-signature-honoured', 'V2 PUT /alpha/a/one signed with a wrong secret', ['403 SignatureDoesNotMatch'], (now) => signV2(call('PUT', '/alpha/a/one', { body }), now, FORGED_KEYS)),
    () => v2Case('bad-signature-honoured', 'V2 DELETE /alpha/a/one signed with an unknown key id', ['403 InvalidAccessKeyId'], (now) => signV2(call('DELETE', '/alpha/a/one'), now, UNKNOWN_KEYS)),
    () => v2Case('bad-signature-honoured', 'V2 DELETE /alpha/a/one dated 20 minutes ago', ['403 RequestTimeTooSkewed'], (now) => signV2(call('DELETE', '/alpha/a/one'), now - STALE_MS)),
    () => v2Case('bad-signature-honoured', 'V2-presigned PUT /alpha/a/one that expired 100 s ago', ['403 AccessDenied'], (now) => presignV2(call('PUT', '/alpha/a/one', { body }), now - 700_000)),
    () => v2Case('cross-user-access', 'V2-signed by mallory: GET /private/secret', ['403 AccessDenied'], (now) => signV2(call('GET', '/private/secret'), now, MALLORY_KEYS)),
    () => v2Case('unauthenticated-access', 'V2-signed DELETE /v1/shards/native-1 (the native API takes SigV4 only)', ['501 NotImplemented'], (now) => signV2(call('DELETE', '/v1/shards/native-1'), now)),
  ];
  return rng.pick(shapes)();
}

const FAMILIES: ReadonlyArray<readonly [string, number, (rng: Rng) => AttackCase]> = [
  ['well-formed', 6, wellFormed],
  ['unsigned-header', 3, unsignedHeader],
  ['tampered', 2, tampered],
  ['subresource', 4, subresource],
  ['guarantee', 3, guarantee],
  ['no-credentials', 3, noCredentials],
  ['bad-signature', 3, badSignature],
  ['disk-fault', 1, injectedFault],
  ['browser', 2, browser],
  ['smuggling', 2, smuggling],
  ['aws-chunked', 1, awsChunkedForgery],
  ['bad-encoding', 2, badEncoding],
  ['non-ascii-metadata', 1, nonAsciiMetadata],
  ['xml', 1, xmlLimits],
  ['huge-headers', 1, hugeHeaders],
  ['conditions', 2, conditions],
  ['tagging', 2, tagging],
  ['cors', 2, cors],
  ['post-object', 2, postObject],
  ['versioning', 2, versioning],
  ['object-lock', 2, objectLock],
  ['access', 4, access],
  ['object-acl', 3, objectAcl],
  ['parts', 2, parts],
  ['sse', 2, sse],
  ['sigv2', 3, sigv2],
];

export const FAMILY_NAMES: readonly string[] = FAMILIES.map(([name]) => name);

/** The next case, its family drawn by weight among `families` (all when empty). */
export function nextCase(rng: Rng, families: readonly string[]): AttackCase {
  const pool = FAMILIES.filter(([name]) => families.length === 0 || families.includes(name));
  if (pool.length === 0) throw new RangeError(`no case family among ${families.join(', ')} (known: ${FAMILY_NAMES.join(', ')})`);
  const total = pool.reduce((sum, [, weight]) => sum + weight, 0);
  let pick = rng.int(0, total - 1);
  for (const [, weight, make] of pool) {
    if (pick < weight) return make(rng);
    pick -= weight;
  }
  throw new Error('unreachable: weights exhausted');
}
