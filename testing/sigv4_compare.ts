// The SigV4 verifier (src/server/s3/sigv4.ts) against an independent
// signer, the AWS SDK's @smithy/signature-v4.
//
// Strategy: fast-check draws a request (method, a path of odd characters
// sent in one of several equivalent percent-encodings, query parameters,
// headers with odd values and spacing, non-ASCII included, names in mixed
// case), signs it with smithy (Authorization header, or presigned in the
// query) at a fixed clock, then applies one change: none, an added header
// (x-amz-* or not), a changed signed header, method, path or query, or a
// wrong secret. The wire form is what node hands the server: header values
// as latin1 strings of their UTF-8 bytes.
//
// Invariants (the verdict a model of AWS S3 gives):
// 1. What smithy signed, unchanged or with an added header outside x-amz-*
//    (or x-amz-content-sha256), is accepted, whatever encoding the path uses.
// 2. An added unsigned x-amz-* header is refused: 403 AccessDenied naming it.
// 3. Any other change is refused (403 SignatureDoesNotMatch, or a 400/403
//    for the malformed date or payload hash a changed value can make).
import fc from 'fast-check';
import type { SignedRequest } from '../src/server/s3/sigv4.js';
import { UNSIGNED_AMZ_HEADERS, uriEncode, verifyRequest } from '../src/server/s3/sigv4.js';
import { S3Error } from '../src/server/s3/s3_errors.js';
import type { SmithyRequest } from './signed_fetch.js';
import { testSigner, TEST_ACCESS_KEY, TEST_SECRET_KEY } from './signed_fetch.js';

const NOW_MS = Date.UTC(2026, 11, 4, 12, 0, 0);
const HOST = '127.0.0.1:7380';

type Change =
  | { readonly kind: 'none' }
  | { readonly kind: 'add-header'; readonly name: string; readonly value: string }
  | { readonly kind: 'header-value'; readonly index: number }
  | { readonly kind: 'method' }
  | { readonly kind: 'path' }
  | { readonly kind: 'query' }
  | { readonly kind: 'secret' };

interface Case {
  readonly method: string;
  readonly segments: readonly string[];
  readonly query: ReadonlyArray<readonly [string, string]>;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly presigned: boolean;
  readonly pathEncoding: 'spec' | 'lower-hex' | 'component';
  readonly change: Change;
}

// Values: printable text with odd spacing; no control characters and no
// non-ASCII whitespace (smithy collapses Unicode spaces in the text, AWS
// and the node work on bytes: a difference of the signer, not a verdict).
const valueChar = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...'aZ09-_.~!*()\'/:;,=&?%+@$ "'.split('')) },
  { weight: 2, arbitrary: fc.constantFrom(' ', '  ', '\t') },
  { weight: 2, arbitrary: fc.constantFrom('é', 'à', 'ñ', '日', '本', '€', 'ü', '\u00a0x'.slice(1), '😀') },
);
const headerValue = fc.array(valueChar, { maxLength: 12 }).map((cs) => cs.join(''));
// No '/' inside a segment: the verifier signs a path as its decoded bytes
// with '/' kept (S3's rule, what SDKs sign for a key), so a client that
// signs an encoded slash (%2F) is refused: a documented difference.
const pathSegment = fc
  .array(fc.oneof(valueChar, fc.constantFrom('%', '+', '#', '[', ']')), { minLength: 1, maxLength: 8 })
  .map((cs) => cs.join('').replace(/\t/g, ' ').replaceAll('/', '_'));
const queryText = fc.array(fc.oneof(valueChar, fc.constantFrom('%', '+')), { maxLength: 8 }).map((cs) => cs.join('').replace(/\t/g, ' '));
const headerName = fc.oneof(
  fc.constantFrom('x-amz-meta-a', 'X-Amz-Meta-Note', 'x-amz-copy-source', 'x-amz-acl', 'x-amz-tagging', 'x-amz-storage-class'),
  fc.constantFrom('content-type', 'Content-MD5', 'cache-control', 'x-custom', 'range', 'if-match'),
);

const changeArb: fc.Arbitrary<Change> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Change>({ kind: 'none' }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('add-header' as const), name: fc.oneof(headerName, fc.constantFrom('x-amz-meta-injected', 'x-amz-server-side-encryption', 'x-amzn-trace-id', 'x-amz-content-sha256', 'user-agent')), value: headerValue }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('header-value' as const), index: fc.nat() }) },
  { weight: 1, arbitrary: fc.constantFrom<Change>({ kind: 'method' }, { kind: 'path' }, { kind: 'query' }, { kind: 'secret' }) },
);

export const caseArb: fc.Arbitrary<Case> = fc.record({
  method: fc.constantFrom('GET', 'PUT', 'HEAD', 'DELETE', 'POST'),
  segments: fc.array(pathSegment, { minLength: 1, maxLength: 3 }),
  query: fc.uniqueArray(fc.tuple(queryText.filter((n) => n !== '' && !n.toLowerCase().startsWith('x-amz-')), queryText), { maxLength: 3, selector: ([n]) => n }),
  headers: fc.uniqueArray(fc.tuple(headerName, headerValue), { maxLength: 4, selector: ([n]) => n.toLowerCase() }),
  presigned: fc.boolean(),
  pathEncoding: fc.constantFrom('spec', 'lower-hex', 'component'),
  change: changeArb,
});

/** The path as a client might send it: the spec's encoding, lower-case escapes, or encodeURIComponent per segment. */
function wirePath(segments: readonly string[], encoding: Case['pathEncoding']): string {
  const spec = '/' + segments.map((s) => uriEncode(Buffer.from(s, 'utf8'), true)).join('/');
  if (encoding === 'spec') return spec;
  if (encoding === 'lower-hex') return spec.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase());
  return '/' + segments.map((s) => encodeURIComponent(s)).join('/');
}

const wireValue = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');
const wireQuery = (pairs: ReadonlyArray<readonly [string, string]>): string =>
  pairs.map(([n, v]) => `${uriEncode(Buffer.from(n, 'utf8'), true)}=${uriEncode(Buffer.from(v, 'utf8'), true)}`).join('&');

type Verdict = 'accept' | 'refuse' | `refuse ${string}`;

/**
 * The model's verdict. `signed`: the header names smithy signed (it leaves
 * some unsigned, e.g. cache-control); `changed`: the header a header-value
 * change touched.
 */
function expected(c: Case, signed: ReadonlySet<string>, changed: string): Verdict {
  switch (c.change.kind) {
    case 'none':
      return 'accept';
    case 'add-header': {
      const name = c.change.name.toLowerCase();
      // A second value of a signed header changes what was signed (or the payload hash).
      if (signed.has(name)) return 'refuse';
      return name.startsWith('x-amz-') && !UNSIGNED_AMZ_HEADERS.has(name) ? 'refuse AccessDenied' : 'accept';
    }
    case 'header-value':
      return signed.has(changed) ? 'refuse' : 'accept';
    default:
      // Mostly SignatureDoesNotMatch; a changed x-amz-date or payload hash may be refused as malformed first.
      return 'refuse';
  }
}

/** Sign with smithy, apply the change, verify; the model's verdict and the verifier's. */
async function verdictsOf(c: Case): Promise<{ readonly want: Verdict; readonly got: Verdict }> {
  const path = '/' + c.segments.map((s) => uriEncode(Buffer.from(s, 'utf8'), true)).join('/');
  const query: Record<string, string> = Object.fromEntries(c.query);
  const headers: Record<string, string> = { host: HOST, ...Object.fromEntries(c.headers.map(([n, v]) => [n, v])) };
  const request: SmithyRequest = { method: c.method, protocol: 'http:', hostname: '127.0.0.1', port: 7380, path, query, headers };
  const secret = c.change.kind === 'secret' ? TEST_SECRET_KEY + 'x' : TEST_SECRET_KEY;
  const signer = testSigner({ accessKeyId: TEST_ACCESS_KEY, secretAccessKey: secret });
  const signingDate = new Date(NOW_MS);
  const signed = c.presigned
    ? await signer.presign({ ...request, headers: { ...headers, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }, { expiresIn: 600, signingDate })
    : await signer.sign(request, { signingDate });
  const sentHeaders = Object.entries(signed.headers).map(([n, v]) => [c.headers.find(([h]) => h.toLowerCase() === n)?.[0] ?? n, String(v)] as const);
  const sentQuery = Object.entries(signed.query ?? {}).map(([n, v]) => [n, String(v)] as const);
  const { request: wire, changed } = applyChange(c, {
    method: c.method,
    rawPath: wirePath(c.segments, c.pathEncoding),
    rawQuery: wireQuery(sentQuery),
    rawHeaders: sentHeaders.flatMap(([n, v]) => [n, wireValue(v)]),
  });
  const signedList = c.presigned ? String(signed.query?.['X-Amz-SignedHeaders'] ?? '') : (/SignedHeaders=([^,]*)/.exec(String(signed.headers['authorization'] ?? ''))?.[1] ?? '');
  return { want: expected(c, new Set(signedList.split(';')), changed), got: verify(c, wire) };
}

function verify(c: Case, wire: SignedRequest): Verdict {
  try {
    verifyRequest(wire, (id) => (id === TEST_ACCESS_KEY ? TEST_SECRET_KEY : undefined), NOW_MS);
    return 'accept';
  } catch (err) {
    if (!(err instanceof S3Error)) throw err;
    const named = String(err.details['HeadersNotSigned'] ?? '');
    if (named !== '' && !(c.change.kind === 'add-header' && named.includes(c.change.name.toLowerCase()))) {
      return `refuse AccessDenied (wrong header named: ${named})`;
    }
    return `refuse ${err.code}`;
  }
}

/** The request after the change, and the header a header-value change touched (lower case). */
function applyChange(c: Case, r: SignedRequest): { readonly request: SignedRequest; readonly changed: string } {
  const change = c.change;
  const same = (request: SignedRequest): { request: SignedRequest; changed: string } => ({ request, changed: '' });
  switch (change.kind) {
    case 'add-header':
      return same({ ...r, rawHeaders: [...r.rawHeaders, change.name, wireValue(change.value)] });
    case 'header-value': {
      // Change the value of one header (Host counts) to something no spacing rule maps back.
      const names = r.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
      const candidates = names.map((n, i) => [n, i] as const).filter(([n]) => n !== 'authorization');
      const [changed, at] = candidates[change.index % candidates.length] ?? ['', 0];
      return { request: { ...r, rawHeaders: r.rawHeaders.map((v, i) => (i === 2 * at + 1 ? v + 'X' : v)) }, changed };
    }
    case 'method':
      return same({ ...r, method: r.method === 'GET' ? 'PUT' : 'GET' });
    case 'path':
      return same({ ...r, rawPath: r.rawPath + 'x' });
    case 'query':
      return same({ ...r, rawQuery: r.rawQuery === '' ? 'tampered=1' : `${r.rawQuery}&tampered=1` });
    default:
      return same(r);
  }
}

/**
 * The comparison as a fast-check run: resolves with fast-check's details
 * (failed, counterexample, error). Each failure message starts
 * "verdict mismatch:" with the expected and the actual verdict.
 */
export function compareWithSmithy(options: { readonly seed: number; readonly numRuns: number }): Promise<fc.RunDetails<[Case]>> {
  return fc.check(
    fc.asyncProperty(caseArb, async (c) => {
      const { want, got } = await verdictsOf(c);
      const agree = want === 'refuse' ? got.startsWith('refuse ') : got === want;
      if (!agree) throw new Error(`verdict mismatch: expected ${want}, got ${got}`);
    }),
    { seed: options.seed, numRuns: options.numRuns },
  );
}
