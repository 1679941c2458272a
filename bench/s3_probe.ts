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
// docs/BENCHMARKS.md, "The cost of authentication", records a run.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { processCpuSeconds } from './lib/os.js';

const ACCESS_KEY = 'BENCHPROBEACCESSKEY1';
const SECRET_KEY = 'bench-probe-secret-0000000000000000000000';
const GET_KEYS = 16;
const WARMUP_MS = 1000;

const { values } = parseArgs({
  options: {
    roots: { type: 'string', default: '.' },
    pairs: { type: 'string', default: '5' },
    ms: { type: 'string', default: '3000' },
    'in-flight': { type: 'string', default: '16' },
    sizes: { type: 'string', default: '4096,1048576' },
    'cpu-prof': { type: 'string' },
  },
});
const roots = values.roots.split(',').map((r) => resolve(r));
const rounds = Number(values.pairs);
const cellMs = Number(values.ms);
const inFlight = Number(values['in-flight']);
const sizes = values.sizes.split(',').map(Number);

interface Cell {
  readonly name: string;
  readonly perSec: number;
  readonly cpuUsPerReq: number;
}

async function startServer(root: string, dir: string): Promise<{ child: ChildProcess; endpoint: string }> {
  const log = join(dir, 'serve.log');
  // --cpu-prof DIR: the server writes a V8 profile there when it exits (SIGTERM), for bench/profile_summary.ts.
  const profile = values['cpu-prof'] === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', resolve(values['cpu-prof'])];
  const child = spawn(process.execPath, [...profile, join(root, 'dist/bin/shardstore.js'), 'serve', '--data-dir', join(dir, 'data'), '--disk-size', '8GiB', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SHARDSTORE_S3_ACCESS_KEY: ACCESS_KEY, SHARDSTORE_S3_SECRET_KEY: SECRET_KEY },
  });
  let text = '';
  child.stdout?.on('data', (b: Buffer) => (text += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (text += b.toString()));
  for (let waitedMs = 0; waitedMs < 60_000; waitedMs += 100) {
    const url = /serving .*?(http:\/\/[^\s)]+)/.exec(text)?.[1];
    if (url !== undefined) return { child, endpoint: url };
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
 * `op` by `inFlight` workers for WARMUP_MS (not counted: the JIT of both
 * processes warms up), then until `cellMs` passed; requests per second and
 * the server's CPU per request.
 */
async function cell(name: string, pid: number, op: (i: number) => Promise<unknown>): Promise<Cell> {
  await load(op, WARMUP_MS);
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

async function runOnce(root: string): Promise<Cell[]> {
  const dir = mkdtempSync(join(tmpdir(), 's3-probe-'));
  const { child, endpoint } = await startServer(root, dir);
  const s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, maxAttempts: 1 });
  try {
    const pid = child.pid ?? 0;
    await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
    const cells: Cell[] = [];
    for (const size of sizes) {
      const body = Buffer.alloc(size, 7);
      cells.push(await cell(`PUT ${size} B`, pid, (i) => s3.send(new PutObjectCommand({ Bucket: 'bench', Key: `put-${size}-${i % inFlight}`, Body: body }))));
      for (let k = 0; k < GET_KEYS; k++) await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: `get-${size}-${k}`, Body: body }));
      cells.push(await cell(`GET ${size} B`, pid, async (i) => (await s3.send(new GetObjectCommand({ Bucket: 'bench', Key: `get-${size}-${i % GET_KEYS}` }))).Body?.transformToByteArray()));
    }
    return cells;
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
    process.stdout.write(`round ${round + 1} ${root}: ${cells.map((c) => `${c.name} ${c.perSec.toFixed(0)}/s ${c.cpuUsPerReq.toFixed(0)} us`).join('; ')}\n`);
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
