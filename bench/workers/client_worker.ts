// The load-generating client, in its own process (so that its CPU is not
// the server's, and is measured: the two share the machine's 2 cores).
// Three clients:
//   sdk         @aws-sdk/client-s3 (pinned in bench/package.json), defaults
//               (flexible checksums: a CRC32 header on every PUT), no
//               retries; what users see;
//   fetch       Node's fetch (undici) for the native API: what a plain HTTP
//               user sees;
//   wrk         the low-cost generator (C, one thread, keep-alive; Debian's
//               package), on presigned URLs for S3 so nothing is signed per
//               request: the server, not the client, is what is measured;
//   autocannon  the fallback where wrk is not installed (JavaScript: it
//               costs the client far more CPU on large bodies, reported).
// PUTs: each in-flight slot overwrites its own key (wrk: requests rotate
// over 4 keys per connection). GETs: a preloaded set.
// Client CPU: this process and its waited-for children (wrk), from /proc.
// Every response is checked (status, and GET length): errors are counted
// and reported, never averaged into throughput.
import http from 'node:http';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { closedLoop } from '../lib/loop.js';
import { processCpuSeconds } from '../lib/os.js';
import { member, requirePeer } from '../lib/peer_module.js';
import { serveRequests } from '../lib/service.js';
import type { ClientRequest, ClientResult, S3Target, Target } from '../servers/targets.js';

interface S3ClientLike {
  send(command: unknown): Promise<unknown>;
  destroy(): void;
}
type Ctor<T> = new (input: Record<string, unknown>) => T;

interface Sdk {
  readonly S3Client: Ctor<S3ClientLike>;
  readonly PutObjectCommand: Ctor<unknown>;
  readonly GetObjectCommand: Ctor<unknown>;
  readonly CreateBucketCommand: Ctor<unknown>;
  readonly getSignedUrl: (client: S3ClientLike, command: unknown, options: { expiresIn: number }) => Promise<string>;
}

function loadSdk(): Sdk {
  const s3 = requirePeer('@aws-sdk/client-s3');
  const presigner = requirePeer('@aws-sdk/s3-request-presigner');
  return {
    S3Client: member<Ctor<S3ClientLike>>(s3, 'S3Client', '@aws-sdk/client-s3'),
    PutObjectCommand: member<Ctor<unknown>>(s3, 'PutObjectCommand', '@aws-sdk/client-s3'),
    GetObjectCommand: member<Ctor<unknown>>(s3, 'GetObjectCommand', '@aws-sdk/client-s3'),
    CreateBucketCommand: member<Ctor<unknown>>(s3, 'CreateBucketCommand', '@aws-sdk/client-s3'),
    getSignedUrl: member<Sdk['getSignedUrl']>(presigner, 'getSignedUrl', '@aws-sdk/s3-request-presigner'),
  };
}

/** Values at least this large run by count (autocannon) or longer (wrk): see there. */
const LARGE_BYTES = 256 * 1024;

let sdk: Sdk | undefined;
const clients = new Map<string, S3ClientLike>();

function s3Client(t: S3Target, forPresign = false): S3ClientLike {
  sdk ??= loadSdk();
  const id = `${t.endpoint}|${t.accessKeyId}|${forPresign}`;
  let c = clients.get(id);
  if (c === undefined) {
    c = new sdk.S3Client({
      endpoint: t.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: t.accessKeyId, secretAccessKey: t.secretAccessKey },
      maxAttempts: 1,
      requestHandler: { httpAgent: new http.Agent({ keepAlive: true, maxSockets: 256 }) },
      // Presigned PUT URLs must not carry a checksum of an empty body.
      ...(forPresign ? { requestChecksumCalculation: 'WHEN_REQUIRED' } : {}),
    });
    clients.set(id, c);
  }
  return c;
}

serveRequests(async (body: unknown) => {
  const req = body as ClientRequest;
  if (req.kind === 'setup') return setup(req.target);
  if (req.kind === 'preload') return preload(req.target, req.keys, req.sizeBytes);
  return run(req);
});

async function setup(t: Target): Promise<string> {
  if (t.kind === 'native') return 'ok';
  sdk ??= loadSdk();
  try {
    await s3Client(t).send(new sdk.CreateBucketCommand({ Bucket: t.bucket }));
  } catch (err: unknown) {
    const name = err instanceof Error ? err.name : '';
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw err;
  }
  return 'ok';
}

async function preload(t: Target, keys: readonly string[], sizeBytes: number): Promise<number> {
  const value = randomBytes(sizeBytes);
  const r = await closedLoop({ inFlight: 8, durationMs: 600_000, maxOps: keys.length, op: (i) => putOnce(t, keys[i] ?? 'missing', value) });
  return r.ops;
}

async function putOnce(t: Target, key: string, value: Buffer): Promise<number> {
  if (t.kind === 'native') {
    const res = await fetch(nativeUrl(t.baseUrl, key), { method: 'PUT', body: value });
    await res.arrayBuffer();
    if (res.status !== 201 && res.status !== 200) throw new Error(`native PUT ${key}: HTTP ${res.status}`);
    return value.length;
  }
  sdk ??= loadSdk();
  await s3Client(t).send(new sdk.PutObjectCommand({ Bucket: t.bucket, Key: key, Body: value }));
  return value.length;
}

async function getOnce(t: Target, key: string, sizeBytes: number): Promise<number> {
  let got: number;
  if (t.kind === 'native') {
    const res = await fetch(nativeUrl(t.baseUrl, key));
    got = (await res.arrayBuffer()).byteLength;
    if (res.status !== 200) throw new Error(`native GET ${key}: HTTP ${res.status}`);
  } else {
    sdk ??= loadSdk();
    const out = await s3Client(t).send(new sdk.GetObjectCommand({ Bucket: t.bucket, Key: key }));
    const stream: unknown = typeof out === 'object' && out !== null && 'Body' in out ? out.Body : undefined;
    const toBytes = member<() => Promise<Uint8Array>>(stream, 'transformToByteArray', 'GetObject Body');
    got = (await toBytes.call(stream)).length;
  }
  if (got !== sizeBytes) throw new Error(`GET ${key}: ${got} bytes, expected ${sizeBytes}`);
  return got;
}

function nativeUrl(baseUrl: string, key: string): string {
  return `${baseUrl}/v1/shards/${encodeURIComponent(key)}`;
}

async function run(req: Extract<ClientRequest, { kind: 'run' }>): Promise<ClientResult> {
  const cpu0 = processCpuSeconds('self', { children: true });
  const value = randomBytes(req.sizeBytes);
  let result: Omit<ClientResult, 'clientCpuS'>;
  if (req.client === 'autocannon') {
    result = await cannon(req, value);
  } else if (req.client === 'wrk') {
    result = await wrk(req);
  } else {
    const r = await closedLoop({
      inFlight: req.inFlight,
      durationMs: req.durationMs,
      maxOps: Number.MAX_SAFE_INTEGER,
      op: (i, w) => (req.method === 'PUT' ? putOnce(req.target, `put-w${w}`, value) : getOnce(req.target, req.getKeys[i % req.getKeys.length] ?? '', req.sizeBytes)),
    });
    result = { ...r, errors: 0 };
  }
  return { ...result, clientCpuS: processCpuSeconds('self', { children: true }) - cpu0 };
}

// ---- wrk ---------------------------------------------------------------------

const WRK_REPORT = `done = function(summary, latency, requests)
  io.write(string.format('WRK {"requests":%d,"durationUs":%d,"status":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"p50Us":%d,"p99Us":%d}\\n',
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout, latency:percentile(50), latency:percentile(99)))
end
`;

interface WrkReport {
  readonly requests: number;
  readonly durationUs: number;
  readonly status: number;
  readonly connect: number;
  readonly read: number;
  readonly write: number;
  readonly timeout: number;
  readonly p50Us: number;
  readonly p99Us: number;
}

async function wrk(req: Extract<ClientRequest, { kind: 'run' }>): Promise<Omit<ClientResult, 'clientCpuS'>> {
  const origin = req.target.kind === 'native' ? req.target.baseUrl : req.target.endpoint;
  const keys = req.method === 'PUT' ? Array.from({ length: 4 * req.inFlight }, (_, i) => `put-k${i}`) : req.getKeys;
  const paths: string[] = [];
  for (const key of keys) paths.push(await pathFor(req.target, req.method, key));
  // Lua long strings: presigned paths hold % and = but never "]]".
  const script = [
    `local paths = { ${paths.map((p) => `[[${p}]]`).join(', ')} }`,
    req.method === 'PUT' ? `local body = string.rep("b", ${req.sizeBytes})` : 'local body = nil',
    'local headers = { ["Content-Type"] = "application/octet-stream" }',
    'local i = 0',
    `request = function()\n  i = i + 1\n  return wrk.format("${req.method}", paths[(i % #paths) + 1], headers, body)\nend`,
    WRK_REPORT,
  ].join('\n');
  const scriptPath = join(req.tmp, `wrk-${process.pid}.lua`);
  await writeFile(scriptPath, script);
  // wrk takes whole seconds; large values get 2 s so that requests cut off at the end are few.
  const seconds = Math.max(1, Math.round(req.durationMs / 1000)) + (req.sizeBytes >= LARGE_BYTES ? 1 : 0);
  const out = await runProcess('wrk', ['-t1', `-c${req.inFlight}`, `-d${seconds}s`, '--timeout', '30s', '-s', scriptPath, origin]);
  const line = out.split('\n').find((l) => l.startsWith('WRK '));
  if (line === undefined) throw new Error(`wrk printed no report: ${out.slice(-500)}`);
  const r = JSON.parse(line.slice(4)) as WrkReport;
  const ok = r.requests - r.status;
  const secondsRun = r.durationUs / 1e6;
  return {
    ops: ok,
    bytes: ok * req.sizeBytes,
    seconds: secondsRun,
    opsPerSec: ok / secondsRun,
    mbPerSec: (ok * req.sizeBytes) / secondsRun / 1e6,
    p50Ms: r.p50Us / 1000,
    p99Ms: r.p99Us / 1000,
    loadAvg1: 0,
    errors: r.status + r.connect + r.read + r.write + r.timeout,
  };
}

function runProcess(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${String(code)}: ${out.slice(-500)}`))));
  });
}

// ---- autocannon ------------------------------------------------------------

interface CannonRequest {
  method: string;
  path: string;
  body?: Buffer;
  headers?: Record<string, string>;
}
interface CannonClient {
  setRequests(requests: CannonRequest[]): void;
}
interface CannonResult {
  readonly requests: { readonly total: number };
  readonly latency: { readonly p50: number; readonly p99: number };
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly '2xx': number;
  readonly start: Date;
  readonly finish: Date;
}
type Cannon = (options: Record<string, unknown>) => Promise<CannonResult>;

async function cannon(req: Extract<ClientRequest, { kind: 'run' }>, value: Buffer): Promise<Omit<ClientResult, 'clientCpuS'>> {
  const autocannon = requirePeer('autocannon');
  if (typeof autocannon !== 'function') throw new TypeError('autocannon is not a function');
  const run = autocannon as Cannon;
  const origin = req.target.kind === 'native' ? req.target.baseUrl : req.target.endpoint;
  // One request list per connection: PUTs to its own key, GETs over the set.
  const perConnection: CannonRequest[][] = [];
  for (let c = 0; c < req.inFlight; c++) {
    if (req.method === 'PUT') {
      perConnection.push([{ method: 'PUT', path: await pathFor(req.target, 'PUT', `put-c${c}`), body: value, headers: { 'content-type': 'application/octet-stream' } }]);
    } else {
      const list: CannonRequest[] = [];
      for (let i = 0; i < req.getKeys.length; i++) {
        const key = req.getKeys[(i + c) % req.getKeys.length] ?? '';
        list.push({ method: 'GET', path: await pathFor(req.target, 'GET', key) });
      }
      perConnection.push(list);
    }
  }
  let next = 0;
  // Large values: a count, not a duration. A duration cut short drops the
  // requests in flight, and at 64 x 1 MiB those are most of them.
  const bound = req.sizeBytes >= LARGE_BYTES ? { amount: Math.max(32, 4 * req.inFlight) } : { duration: req.durationMs / 1000 };
  const result = await run({
    url: origin,
    connections: req.inFlight,
    ...bound,
    requests: perConnection[0],
    setupClient: (client: CannonClient) => client.setRequests(perConnection[next++ % perConnection.length] ?? []),
  });
  // Only answered-2xx requests count as throughput; the rest are errors.
  const ops = result['2xx'];
  // Not result.duration: it is rounded, which capped short runs at N requests per whole second.
  const seconds = (result.finish.getTime() - result.start.getTime()) / 1000;
  const errors = result.errors + result.timeouts + result.non2xx;
  return {
    ops,
    bytes: ops * req.sizeBytes,
    seconds,
    opsPerSec: ops / seconds,
    mbPerSec: (ops * req.sizeBytes) / seconds / 1e6,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    loadAvg1: 0,
    errors,
  };
}

async function pathFor(t: Target, method: 'GET' | 'PUT', key: string): Promise<string> {
  if (t.kind === 'native') return `/v1/shards/${encodeURIComponent(key)}`;
  sdk ??= loadSdk();
  const Command = method === 'PUT' ? sdk.PutObjectCommand : sdk.GetObjectCommand;
  const url = new URL(await sdk.getSignedUrl(s3Client(t, true), new Command({ Bucket: t.bucket, Key: key }), { expiresIn: 3600 }));
  return url.pathname + url.search;
}
