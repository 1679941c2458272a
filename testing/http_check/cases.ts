// The requests the HTTP check sends, each with what must happen to it
// (the model). A case is one family's request, generated from the seed's
// random stream, and an expectation:
//   - 'success': a 2xx answer (well-formed calls, signed with the node's key);
//   - a list of statuses: the request must be refused with one of them, and
//     must change nothing in the store.
// `property` names what is broken when the expectation fails (the failure
// a broken variant must cause: testing/mutants/http_mutants.ts).
//
// The world every seed starts from (testing/http_check/http_check.ts):
// buckets `alpha` (objects a/one, a/two), `private` (object secret, what a
// smuggled copy would steal) and `empty`; native shards native-1, native-2.
import { createHash } from 'node:crypto';
import type { Rng } from '../rng.js';
import type { HttpCall } from './signing.js';
import { CHECK_HOST, call, presign, serialize, signHeader } from './signing.js';

export type Expect = 'success' | readonly number[];

export interface AttackCase {
  readonly family: string;
  /** The property the answer breaks if it does not meet `expect`. */
  readonly property: string;
  /** One line: what was sent, readable. */
  readonly describe: string;
  readonly expect: Expect;
  /** A refused request must leave the store as it was; a successful one may change it. */
  readonly mayChange: boolean;
  /** The bytes on the wire, and the method of each request in them (to frame HEAD answers). */
  build(nowMs: number): Promise<{ readonly bytes: Buffer; readonly methods: readonly string[] }>;
}

export const SEEDED_OBJECTS = ['a/one', 'a/two'] as const;
export const SEEDED_SHARDS = ['native-1', 'native-2'] as const;

const one = (c: HttpCall): { bytes: Buffer; methods: string[] } => ({ bytes: serialize(c), methods: [c.method] });
const withHeader = (c: HttpCall, name: string, value: string): HttpCall => ({ ...c, headers: [...c.headers, [name, value]] });
const md5 = (body: Buffer): string => createHash('md5').update(body).digest('base64');

function signed(family: string, property: string, describe: string, expect: Expect, make: () => HttpCall, finish: (c: HttpCall) => HttpCall = (c) => c): AttackCase {
  return {
    family,
    property,
    describe,
    expect,
    mayChange: expect === 'success',
    build: async (nowMs) => one(finish(await signHeader(make(), nowMs))),
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
    return { family: 'well-formed', property: 'well-formed-call-refused', describe: `presigned PUT ${key}`, expect: 'success', mayChange: true, build: async (nowMs) => one(await presign(call('PUT', key, { body }), nowMs)) };
  }
  const [describe, make] = rng.pick(calls);
  return signed('well-formed', 'well-formed-call-refused', `signed ${describe}`, 'success', make);
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
    expect: [400, 403],
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
  return signed('tampered', 'tampered-request-honoured', `PUT /alpha/${key} signed, then ${what}`, [400, 403, 405], base, change);
}

// ---- issue 12 (4): every S3 subresource with every method ----

/** Subresources S3 documents; those the node implements are listed in IMPLEMENTED below. */
export const S3_SUBRESOURCES = [
  'accelerate', 'acl', 'analytics', 'attributes', 'cors', 'delete', 'encryption', 'intelligent-tiering', 'inventory',
  'legal-hold', 'lifecycle', 'location', 'logging', 'metadataTable', 'metrics', 'notification', 'object-lock',
  'ownershipControls', 'policy', 'policyStatus', 'publicAccessBlock', 'renameObject', 'replication', 'requestPayment',
  'restore', 'retention', 'select', 'session', 'tagging', 'torrent', 'uploads', 'versioning', 'versions', 'website',
] as const;

/** `<level> <METHOD> <subresource>`: what docs/S3.md says the node serves. */
const IMPLEMENTED = new Set(['bucket GET acl', 'bucket GET location', 'bucket GET versioning', 'bucket GET uploads', 'bucket POST delete', 'object GET acl', 'object POST uploads']);
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

/** `target` is a bucket: alpha and empty exist, any other does not (then NoSuchBucket is a refusal too). */
export function subresourceCase(route: { level: 'bucket' | 'object'; method: string; name: string }, target: string): AttackCase {
  const exists = target === 'alpha' || target === 'empty';
  const path = route.level === 'object' ? `/${target}/a/one` : `/${target}`;
  const body = route.method === 'PUT' || route.method === 'POST' ? Buffer.from('<Configuration/>') : Buffer.alloc(0);
  return signed(
    'subresource',
    'subresource-fell-through',
    `signed ${route.method} ${path}?${route.name}`,
    exists ? [405, 501] : [404, 405, 501],
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
  [['x-amz-server-side-encryption', 'AES256']],
  [['x-amz-server-side-encryption', 'aws:kms'], ['x-amz-server-side-encryption-aws-kms-key-id', 'arn:aws:kms:us-east-1:1:key/k']],
  [['x-amz-server-side-encryption', 'aws:kms:dsse']],
  [
    ['x-amz-server-side-encryption-customer-algorithm', 'AES256'],
    ['x-amz-server-side-encryption-customer-key', Buffer.alloc(32, 7).toString('base64')],
    ['x-amz-server-side-encryption-customer-key-md5', createHash('md5').update(Buffer.alloc(32, 7)).digest('base64')],
  ],
  [['x-amz-tagging', 'team=blue']],
  [['x-amz-object-lock-mode', 'GOVERNANCE'], ['x-amz-object-lock-retain-until-date', '2030-01-01T00:00:00Z']],
  [['x-amz-object-lock-legal-hold', 'ON']],
  [['x-amz-grant-read', 'id=1234']],
  [['x-amz-grant-full-control', 'id=1234']],
  [['x-amz-acl', 'public-read']],
  [['x-amz-acl', 'authenticated-read']],
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
  const lockBucket: Array<[string, () => HttpCall]> = [
    [`PUT /locked-${n} (CreateBucket)`, () => call('PUT', `/locked-${n}`, { headers: [['x-amz-bucket-object-lock-enabled', 'true']] })],
    [`PUT /granted-${n} (CreateBucket)`, () => call('PUT', `/granted-${n}`, { headers: [['x-amz-acl', 'public-read']] })],
  ];
  const [describe, make] = rng.pick([...shapes, ...lockBucket]);
  const names = make().headers.filter(([h]) => h.startsWith('x-amz-') && h !== 'x-amz-copy-source').map(([h, v]) => `${h}: ${v}`);
  return signed('guarantee', 'unimplemented-guarantee-accepted', `signed ${describe} with ${names.join(', ')}`, [400, 501], make);
}

// ---- issue 12 (2): no credentials on the native API, the control plane, S3 ----

function noCredentials(rng: Rng): AttackCase {
  const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
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
  return { family: 'no-credentials', property: 'unauthenticated-access', describe: `unsigned ${describe}`, expect: [401, 403], mayChange: false, build: () => Promise.resolve(one(make())) };
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
  const [describe, make] = rng.pick([...shapes, ...rebinding]);
  return signed('browser', 'browser-request-honoured', `signed ${describe}`, [400, 403, 415, 421], make);
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
    expect: [400, 501],
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
    expect: [400, 403],
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
  // Signed as sent: the server must refuse the encoding (400), not the signature.
  return signed('bad-encoding', 'bad-encoding-accepted', `signed ${describe}`, [400], make);
}

function nonAsciiMetadata(rng: Rng): AttackCase {
  const key = `/alpha/meta-${rng.int(0, 999)}`;
  return {
    family: 'bad-encoding',
    property: 'signed-request-refused',
    describe: `PUT ${key} with a non-ASCII x-amz-meta-* value, signed by the SDK`,
    // Stored, or refused as a bad header (400), but never a signature its own client made that fails.
    expect: [200, 400],
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
  return signed('xml', 'bad-xml-accepted', `signed ${describe}`, [400, 413], () => call(method, path, { query, body, headers: [['content-md5', md5(body)]] }));
}

function hugeHeaders(rng: Rng): AttackCase {
  const bytes = rng.pick([17 * 1024, 64 * 1024]);
  return {
    family: 'huge-headers',
    property: 'huge-headers-accepted',
    describe: `PUT /v1/shards/big-header with a ${bytes >> 10} KiB header (limit 16 KiB)`,
    expect: [400, 431],
    mayChange: false,
    build: async (nowMs) => one(await signHeader(call('PUT', '/v1/shards/big-header', { body: Buffer.from('x'), headers: [['x-padding', 'p'.repeat(bytes)]] }), nowMs)),
  };
}

function conditions(rng: Rng): AttackCase {
  const key = rng.pick(SEEDED_OBJECTS);
  const deleteBody = Buffer.from(`<Delete><Object><Key>${key}</Key></Object></Delete>`);
  const shapes: Array<[string, string, Expect, () => HttpCall]> = [
    [`DELETE /alpha/${key}, If-Match: "wrong"`, 'precondition-ignored', [412], () => call('DELETE', `/alpha/${key}`, { headers: [['if-match', '"0123456789abcdef0123456789abcdef"']] })],
    [`PUT /alpha/${key}, If-None-Match: *`, 'precondition-ignored', [412], () => call('PUT', `/alpha/${key}`, { body: Buffer.from('over'), headers: [['if-none-match', '*']] })],
    [`PUT /alpha/${key}, If-Match: "wrong"`, 'precondition-ignored', [412], () => call('PUT', `/alpha/${key}`, { body: Buffer.from('over'), headers: [['if-match', '"0123456789abcdef0123456789abcdef"']] })],
    [`POST /alpha?delete of ${key} without Content-MD5 or checksum`, 'unprotected-batch-delete', [400], () => call('POST', '/alpha', { query: [['delete', '']], body: deleteBody })],
  ];
  const [describe, property, expect, make] = rng.pick(shapes);
  return signed('conditions', property, `signed ${describe}`, expect, make);
}

const FAMILIES: ReadonlyArray<readonly [string, number, (rng: Rng) => AttackCase]> = [
  ['well-formed', 6, wellFormed],
  ['unsigned-header', 3, unsignedHeader],
  ['tampered', 2, tampered],
  ['subresource', 4, subresource],
  ['guarantee', 3, guarantee],
  ['no-credentials', 3, noCredentials],
  ['browser', 2, browser],
  ['smuggling', 2, smuggling],
  ['aws-chunked', 1, awsChunkedForgery],
  ['bad-encoding', 2, badEncoding],
  ['non-ascii-metadata', 1, nonAsciiMetadata],
  ['xml', 1, xmlLimits],
  ['huge-headers', 1, hugeHeaders],
  ['conditions', 2, conditions],
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
