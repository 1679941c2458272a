// What the SigV4 verifier costs per request, in isolation: the compiled
// verifyRequest of each checkout given (`<root>/dist/src/server/s3/sigv4.js`)
// on the same requests, signed once by the AWS SDK's signer with the
// headers the SDK sends on a PutObject and a GetObject. Rounds alternate the
// order of the checkouts; each round times `--count` verifications of each
// request per checkout. Prints microseconds per verification and the median
// per-round ratio of the last root to the first: the part of the S3 rows'
// server CPU (bench/s3_probe.ts) that signing checks can account for.
//
// --presigned verifies presigned URLs instead (the signature in the query,
// as the bench's wrk rows send them).
//
//   node --import tsx bench/sigv4_probe.ts --roots /work/before,. [--rounds 7] [--count 20000] [--presigned]
import { resolve, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { testSigner } from '../testing/signed_fetch.js';

interface SignedRequest {
  readonly method: string;
  readonly rawPath: string;
  readonly rawQuery: string;
  readonly rawHeaders: readonly string[];
}
type Verify = (req: SignedRequest, lookup: (id: string) => string | undefined, nowMs: number) => unknown;

const { values } = parseArgs({
  options: {
    roots: { type: 'string', default: '.' },
    rounds: { type: 'string', default: '7' },
    count: { type: 'string', default: '20000' },
    presigned: { type: 'boolean', default: false },
  },
});
const roots = values.roots.split(',').map((r) => resolve(r));
const rounds = Number(values.rounds);
const count = Number(values.count);
const KEYS = { accessKeyId: 'BENCHPROBEACCESSKEY1', secretAccessKey: 'bench-probe-secret-0000000000000000000000' };
const NOW_MS = Date.UTC(2026, 11, 4, 12, 0, 0);

/** A request as the AWS SDK v3 sends it (its header set), signed by the SDK's signer. */
async function sdkLike(method: 'PUT' | 'GET', path: string, body: Buffer): Promise<SignedRequest> {
  const headers: Record<string, string> = {
    host: '127.0.0.1:7380',
    'user-agent': 'aws-sdk-js/3.1175.0 ua/2.1 os/linux lang/js md/nodejs#20.20.2 api/s3#3.1175.0',
    'x-amz-user-agent': 'aws-sdk-js/3.1175.0',
    'amz-sdk-invocation-id': '0f3c6a2e-1c5b-4f0e-9d57-0a4c2d3b8e11',
    'amz-sdk-request': 'attempt=1; max=1',
    'x-amz-content-sha256': method === 'PUT' ? 'UNSIGNED-PAYLOAD' : 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  };
  if (method === 'PUT') {
    headers['content-type'] = 'application/octet-stream';
    headers['content-length'] = String(body.length);
    headers['x-amz-checksum-crc32'] = 'AAAAAA==';
    headers['x-amz-sdk-checksum-algorithm'] = 'CRC32';
  }
  const signed = await testSigner(KEYS, { applyChecksum: false }).sign({ method, protocol: 'http:', hostname: '127.0.0.1', port: 7380, path, query: {}, headers, body }, { signingDate: new Date(NOW_MS) });
  return { method, rawPath: path, rawQuery: '', rawHeaders: Object.entries(signed.headers).flat() };
}

/** A presigned URL of `method` on `path` (host signed only), as wrk sends it. */
async function presigned(method: 'PUT' | 'GET', path: string): Promise<SignedRequest> {
  const url = await testSigner(KEYS, { applyChecksum: false }).presign(
    { method, protocol: 'http:', hostname: '127.0.0.1', port: 7380, path, query: {}, headers: { host: '127.0.0.1:7380', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } },
    { signingDate: new Date(NOW_MS), expiresIn: 3600 },
  );
  const rawQuery = Object.entries(url.query ?? {})
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  return { method, rawPath: path, rawQuery, rawHeaders: ['Host', '127.0.0.1:7380', 'Content-Length', method === 'PUT' ? '4096' : '0'] };
}

const requests = values.presigned
  ? [await presigned('PUT', '/bench/put-4096-3'), await presigned('GET', '/bench/get-4096-3')]
  : [await sdkLike('PUT', '/bench/put-4096-3', Buffer.alloc(4096, 7)), await sdkLike('GET', '/bench/get-4096-3', Buffer.alloc(0))];
const verifiers = new Map<string, Verify>();
for (const root of roots) {
  const mod = (await import(pathToFileURL(join(root, 'dist/src/server/s3/sigv4.js')).href)) as { verifyRequest: Verify };
  verifiers.set(root, mod.verifyRequest);
}
const lookup = (id: string): string | undefined => (id === KEYS.accessKeyId ? KEYS.secretAccessKey : undefined);

function timeUs(verify: Verify): number {
  const started = performance.now();
  for (let i = 0; i < count; i++) for (const r of requests) verify(r, lookup, NOW_MS);
  return ((performance.now() - started) * 1000) / (count * requests.length);
}

const perRoot = new Map<string, number[]>(roots.map((r) => [r, []]));
for (const verify of verifiers.values()) timeUs(verify); // warm-up: JIT both
for (let round = 0; round < rounds; round++) {
  for (const root of round % 2 === 0 ? roots : [...roots].reverse()) perRoot.get(root)?.push(timeUs(verifiers.get(root) ?? ((): never => { throw new Error(root); })));
}
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
for (const [root, us] of perRoot) process.stdout.write(`${root}: ${us.map((u) => u.toFixed(1)).join(' ')} us per verification (median ${median(us).toFixed(1)})\n`);
const first = perRoot.get(roots[0] ?? '') ?? [];
const last = perRoot.get(roots.at(-1) ?? '') ?? [];
process.stdout.write(`last/first per round: median ${median(first.map((f, i) => (last[i] ?? NaN) / f)).toFixed(3)}\n`);
