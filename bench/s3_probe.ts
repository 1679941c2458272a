// A focused probe of the S3 rows of the server group: `shardstore serve` of
// each checkout given (its compiled dist/bin/shardstore.js, default options,
// a fresh sparse data file, S3 credentials through the environment), driven
// over loopback by the AWS SDK from this process: PUTs then GETs of each
// size at one in-flight count, for a fixed time each. Checkouts run in turn,
// `--pairs` rounds (the order of each round alternates, so neither side
// always runs on a machine warmed or loaded by the other), and the per-pair
// ratios of the last root to the first are summarised by their median.
// Reported per cell: requests/s, and the server's CPU time per request
// (/proc/<pid>/stat), which the load of a shared machine disturbs less.
//
//   node --import tsx bench/s3_probe.ts --roots /work/before,. --pairs 5 [--ms 3000] [--in-flight 16] [--sizes 4096,1048576] [--cpu-prof DIR]
//
// --client wrk drives the cells with wrk (C, one thread, keep-alive) on
// presigned URLs instead, as the bench's low-cost rows do: the client costs
// next to nothing, so at one in flight the latency is the server's. With
// it, --native adds a PUT cell of the native shard API (presigned too) on
// the same server: S3 and native PUTs take turns in 1 s windows for --ms
// of each (a cell's p50 is the median of its windows'), so a shared disk's
// and machine's load falls on both alike, and the summary gives the ratio
// S3 / native of the p50 latency per round. With wrk, --warmup-ms (default
// 1000) of each load at 16 connections or more comes first, not counted: a
// server's JIT compiles by invocation counts, and at one in flight a
// fresh server needs over ten seconds before its S3 path is compiled
// (docs/BENCHMARKS.md, "S3 PUT of 4 KiB at 1 in flight"). --gets off skips
// the GET cells.
//
// docs/BENCHMARKS.md, "The cost of authentication" and "S3 PUT of 4 KiB at
// 1 in flight", record runs.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SourceData } from '@smithy/types';
import { startNodeFlagsOf } from './lib/dist.js';
import { load1, processCpuSeconds } from './lib/os.js';
import { waitForPreparation } from './servers/ours.js';

const ACCESS_KEY = 'BENCHPROBEACCESSKEY1';
const SECRET_KEY = 'bench-probe-secret-0000000000000000000000';
const GET_KEYS = 16;
/** wrk PUTs rotate over this many keys per connection (the bench's low-cost rows do the same). */
const WRK_KEYS_PER_CONNECTION = 4;

const { values } = parseArgs({
  options: {
    roots: { type: 'string', default: '.' },
    pairs: { type: 'string', default: '5' },
    ms: { type: 'string', default: '3000' },
    'in-flight': { type: 'string', default: '16' },
    sizes: { type: 'string', default: '4096,1048576' },
    'cpu-prof': { type: 'string' },
    client: { type: 'string', default: 'sdk' },
    native: { type: 'boolean', default: false },
    'warmup-ms': { type: 'string', default: '1000' },
    gets: { type: 'string', default: 'on' },
  },
});
const roots = values.roots.split(',').map((r) => resolve(r));
const rounds = Number(values.pairs);
const cellMs = Number(values.ms);
const inFlight = Number(values['in-flight']);
const sizes = values.sizes.split(',').map(Number);
const warmupMs = Number(values['warmup-ms']);
const useWrk = values.client === 'wrk';
if (!useWrk && values.client !== 'sdk') throw new Error(`--client ${values.client}: sdk or wrk`);
if (values.native && !useWrk) throw new Error('--native needs --client wrk');

interface Cell {
  readonly name: string;
  readonly perSec: number;
  readonly cpuUsPerReq: number;
  /** Median latency (wrk cells only). */
  readonly p50Ms?: number;
}

async function startServer(root: string, dir: string): Promise<{ child: ChildProcess; endpoint: string }> {
  const log = join(dir, 'serve.log');
  // --cpu-prof DIR: the server writes a V8 profile there when it exits (SIGTERM), for bench/profile_summary.ts.
  const profile = values['cpu-prof'] === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', resolve(values['cpu-prof'])];
  // node's flags as that checkout's `npm start` gives them.
  const child = spawn(process.execPath, [...startNodeFlagsOf(root), ...profile, join(root, 'dist/bin/shardstore.js'), 'serve', '--data-dir', join(dir, 'data'), '--disk-size', '8GiB', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SHARDSTORE_S3_ACCESS_KEY: ACCESS_KEY, SHARDSTORE_S3_SECRET_KEY: SECRET_KEY },
  });
  let text = '';
  child.stdout?.on('data', (b: Buffer) => (text += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (text += b.toString()));
  for (let waitedMs = 0; waitedMs < 60_000; waitedMs += 100) {
    const url = /serving .*?(http:\/\/[^\s)]+)/.exec(text)?.[1];
    if (url !== undefined) {
      // Its background preparation of the sparse file (--prepare-ahead all) is over before any cell.
      await waitForPreparation(join(dir, 'data'));
      return { child, endpoint: url };
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`${root}: shardstore serve did not start: ${text.slice(-1000)} ${readFileSafe(log)}`);
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err: unknown) {
    return `(no log: ${String(err)})`;
  }
}

/**
 * `op` by `inFlight` workers for warmupMs (not counted: the JIT of both
 * processes warms up), then until `cellMs` passed; requests per second and
 * the server's CPU per request.
 */
async function cell(name: string, pid: number, op: (i: number) => Promise<unknown>): Promise<Cell> {
  await load(op, warmupMs);
  const cpu0 = processCpuSeconds(pid);
  const started = performance.now();
  const done = await load(op, cellMs);
  const seconds = (performance.now() - started) / 1000;
  return { name, perSec: done / seconds, cpuUsPerReq: ((processCpuSeconds(pid) - cpu0) * 1e6) / done };
}

async function load(op: (i: number) => Promise<unknown>, ms: number): Promise<number> {
  const started = performance.now();
  let done = 0;
  const worker = async (w: number): Promise<void> => {
    for (let i = w; performance.now() - started < ms; i += inFlight) {
      await op(i);
      done++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, (_, w) => worker(w)));
  return done;
}

// ---- wrk on presigned URLs (--client wrk) ----

/** The SHA-256 and HMAC the signer asks for, from node:crypto. */
class NodeSha256 {
  private readonly hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', typeof secret === 'string' ? secret : new Uint8Array(ArrayBuffer.isView(secret) ? secret.buffer.slice(secret.byteOffset, secret.byteOffset + secret.byteLength) : secret));
  }
  update(data: Uint8Array | string): void {
    this.hash.update(data);
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.hash.digest());
  }
}

const signer = new SignatureV4({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, region: 'us-east-1', service: 's3', sha256: NodeSha256, uriEscapePath: false, applyChecksum: false });

/** `path` with a presigned query (UNSIGNED-PAYLOAD, as the SDK's presigner signs), valid for an hour. */
async function presignedPath(endpoint: URL, method: 'GET' | 'PUT', path: string): Promise<string> {
  const headers = { host: endpoint.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' };
  const signed = await signer.presign({ method, protocol: 'http:', hostname: endpoint.hostname, port: Number(endpoint.port), path, query: {}, headers }, { expiresIn: 3600 });
  const query = Object.entries(signed.query ?? {}).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return `${path}?${query.join('&')}`;
}

/** wrk's "50%  1.19ms" in ms. */
function wrkMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text);
  if (m === null) throw new Error(`wrk latency ${text}`);
  return Number(m[1]) * (m[2] === 'us' ? 1e-3 : m[2] === 's' ? 1e3 : 1);
}

/** How many connections warm a server up: thousands of requests in a few seconds, whatever --in-flight (the JIT compiles by invocation counts). */
const WARMUP_CONNECTIONS = 16;

interface WrkWindow {
  readonly done: number;
  readonly seconds: number;
  readonly p50Ms: number;
  readonly cpuS: number;
}

/** wrk on `paths` in turn (keep-alive); any non-2xx answer fails the run. */
class WrkLoad {
  private readonly file: string;

  constructor(
    readonly name: string,
    private readonly pid: number,
    private readonly run: { origin: string; dir: string; method: 'GET' | 'PUT'; paths: readonly string[]; sizeBytes: number },
  ) {
    // Lua long strings: presigned paths hold % and = but never "]]".
    const script = [
      `local paths = { ${run.paths.map((p) => `[[${p}]]`).join(', ')} }`,
      run.method === 'PUT' ? `local body = string.rep("b", ${run.sizeBytes})` : 'local body = nil',
      'local headers = { ["Content-Type"] = "application/octet-stream" }',
      'local i = 0',
      `request = function()\n  i = i + 1\n  return wrk.format("${run.method}", paths[(i % #paths) + 1], headers, body)\nend`,
    ].join('\n');
    this.file = join(run.dir, `wrk-${name.replace(/\W+/g, '-')}.lua`);
    writeFileSync(this.file, script);
  }

  /** warmupMs at WARMUP_CONNECTIONS (or more), not counted. */
  warm(): void {
    if (warmupMs > 0) this.wrk(warmupMs, Math.max(inFlight, WARMUP_CONNECTIONS));
  }

  window(ms: number): WrkWindow {
    const cpu0 = processCpuSeconds(this.pid);
    const out = this.wrk(ms, inFlight);
    const cpuS = processCpuSeconds(this.pid) - cpu0;
    const m = /(\d+) requests in ([\d.]+)(ms|s)/.exec(out);
    const p50 = /^\s+50%\s+(\S+)/m.exec(out)?.[1];
    if (m === null || p50 === undefined) throw new Error(`${this.name}: no wrk summary: ${out}`);
    return { done: Number(m[1]), seconds: Number(m[2]) / (m[3] === 'ms' ? 1000 : 1), p50Ms: wrkMs(p50), cpuS };
  }

  private wrk(ms: number, connections: number): string {
    const r = spawnSync('wrk', ['-t1', `-c${connections}`, `-d${Math.max(1, Math.round(ms / 1000))}s`, '--latency', '-s', this.file, this.run.origin], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`wrk failed (${String(r.error ?? r.status)}): ${r.stderr}`);
    if (/Non-2xx|Socket errors/.test(r.stdout)) throw new Error(`${this.name}: wrk saw failed requests: ${r.stdout}`);
    return r.stdout;
  }
}

/** A cell of windows: their requests/s and server CPU over all, the median of their p50s. */
function cellOf(name: string, windows: readonly WrkWindow[]): Cell {
  const done = windows.reduce((n, w) => n + w.done, 0);
  const seconds = windows.reduce((n, w) => n + w.seconds, 0);
  const cpuS = windows.reduce((n, w) => n + w.cpuS, 0);
  return { name, perSec: done / seconds, cpuUsPerReq: (cpuS * 1e6) / done, p50Ms: median(windows.map((w) => w.p50Ms)) };
}

/**
 * S3 PUT, then (--native) the native PUT in 1 s windows taking turns,
 * `cellMs` of each, so that the load of a shared machine and disk falls on
 * both alike; GET (unless --gets off).
 */
async function wrkCells(endpoint: string, pid: number, dir: string): Promise<Cell[]> {
  const url = new URL(endpoint);
  const cells: Cell[] = [];
  const keys = Array.from({ length: WRK_KEYS_PER_CONNECTION * inFlight }, (_, i) => i);
  const s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, maxAttempts: 1 });
  try {
    for (const size of sizes) {
      const put = { origin: endpoint, dir, method: 'PUT' as const, sizeBytes: size };
      const loads = [new WrkLoad(`PUT ${size} B`, pid, { ...put, paths: await Promise.all(keys.map((k) => presignedPath(url, 'PUT', `/bench/put-${size}-${k}`))) })];
      if (values.native) loads.push(new WrkLoad(`native PUT ${size} B`, pid, { ...put, paths: await Promise.all(keys.map((k) => presignedPath(url, 'PUT', `/v1/shards/put-${size}-${k}`))) }));
      for (const l of loads) l.warm();
      const windows = loads.map((): WrkWindow[] => []);
      const turns = loads.length === 1 ? 1 : Math.max(1, Math.round(cellMs / 1000));
      for (let t = 0; t < turns; t++) loads.forEach((l, i) => windows[i]?.push(l.window(cellMs / turns)));
      loads.forEach((l, i) => cells.push(cellOf(l.name, windows[i] ?? [])));
      if (values.gets === 'off') continue;
      for (let k = 0; k < GET_KEYS; k++) await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: `get-${size}-${k}`, Body: Buffer.alloc(size, 7) }));
      const gets = new WrkLoad(`GET ${size} B`, pid, { origin: endpoint, dir, method: 'GET', paths: await Promise.all(Array.from({ length: GET_KEYS }, (_, k) => presignedPath(url, 'GET', `/bench/get-${size}-${k}`))), sizeBytes: size });
      gets.warm();
      cells.push(cellOf(gets.name, [gets.window(cellMs)]));
    }
  } finally {
    s3.destroy();
  }
  return cells;
}

async function sdkCells(s3: S3Client, pid: number): Promise<Cell[]> {
  const cells: Cell[] = [];
  for (const size of sizes) {
    const body = Buffer.alloc(size, 7);
    cells.push(await cell(`PUT ${size} B`, pid, (i) => s3.send(new PutObjectCommand({ Bucket: 'bench', Key: `put-${size}-${i % inFlight}`, Body: body }))));
    if (values.gets === 'off') continue;
    for (let k = 0; k < GET_KEYS; k++) await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: `get-${size}-${k}`, Body: body }));
    cells.push(await cell(`GET ${size} B`, pid, async (i) => (await s3.send(new GetObjectCommand({ Bucket: 'bench', Key: `get-${size}-${i % GET_KEYS}` }))).Body?.transformToByteArray()));
  }
  return cells;
}

async function runOnce(root: string): Promise<Cell[]> {
  const dir = mkdtempSync(join(tmpdir(), 's3-probe-'));
  const { child, endpoint } = await startServer(root, dir);
  const s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, maxAttempts: 1 });
  try {
    const pid = child.pid ?? 0;
    await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
    return useWrk ? await wrkCells(endpoint, pid, dir) : await sdkCells(s3, pid);
  } finally {
    s3.destroy();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? (s[(s.length - 1) / 2] ?? NaN) : ((s[s.length / 2 - 1] ?? NaN) + (s[s.length / 2] ?? NaN)) / 2;
};

const results = new Map<string, Cell[][]>(roots.map((r) => [r, []]));
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? roots : [...roots].reverse();
  for (const root of order) {
    const cells = await runOnce(root);
    results.get(root)?.push(cells);
    const p50 = (c: Cell): string => (c.p50Ms === undefined ? '' : ` p50 ${c.p50Ms.toFixed(2)} ms`);
    process.stdout.write(`round ${round + 1} ${root} (load ${load1().toFixed(1)}): ${cells.map((c) => `${c.name} ${c.perSec.toFixed(0)}/s${p50(c)} ${c.cpuUsPerReq.toFixed(0)} us`).join('; ')}\n`);
  }
}
const first = results.get(roots[0] ?? '') ?? [];
const last = results.get(roots.at(-1) ?? '') ?? [];
for (const [i, name] of (first[0] ?? []).map((c) => c.name).entries()) {
  const rate = first.map((r, p) => (last[p]?.[i]?.perSec ?? NaN) / (r[i]?.perSec ?? NaN));
  const cpu = first.map((r, p) => (last[p]?.[i]?.cpuUsPerReq ?? NaN) / (r[i]?.cpuUsPerReq ?? NaN));
  const fmt = (xs: number[]): string => `median ${median(xs).toFixed(3)} (min ${Math.min(...xs).toFixed(3)}, max ${Math.max(...xs).toFixed(3)})`;
  process.stdout.write(`${name} x${inFlight}: last/first requests/s ${fmt(rate)}; server CPU per request ${fmt(cpu)}\n`);
}
// S3 / native on the same server, round by round: the p50 latency ratio of each size's PUT cells.
if (values.native) {
  for (const [root, rounds] of results) {
    for (const size of sizes) {
      const ratios = rounds.map((cells) => (cells.find((c) => c.name === `PUT ${size} B`)?.p50Ms ?? NaN) / (cells.find((c) => c.name === `native PUT ${size} B`)?.p50Ms ?? NaN));
      process.stdout.write(`${root} PUT ${size} B x${inFlight}: p50 S3 / native per round ${ratios.map((r) => r.toFixed(2)).join(', ')}; median ${median(ratios).toFixed(2)}\n`);
    }
  }
}
