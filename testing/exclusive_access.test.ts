// Exclusive access and read-only tools on real data files, with the real
// server process and the real command line (issue 11, parts 2 and 3).
//
// Strategy: a server (`shardstore serve`, the bin from source) runs on a
// data dir of two disks and takes some puts. Then:
// 1. A second `serve` on the same dir exits 1 at once, one line on stderr
//    naming the first server's pid; so do fsck, scrub, inspect, export,
//    stats, import and repair on the live dir (run through the CLI in this
//    process).
// 2. The server is killed with SIGKILL: its lock files stay, naming a dead
//    pid. A new server starts on them all the same (a stale lock does not
//    block) and serves what the first acknowledged; SIGTERM stops it
//    cleanly and removes its lock files.
// 3. With the node stopped, cleanly and then after another SIGKILL (where
//    recovery replays records a clean close would have ended), fsck,
//    scrub, inspect, export and stats each leave every data file
//    byte-identical (sha256 of the whole file before and after each), and
//    take and release the lock (no lock file is left).
// Readiness is the server's own startup line on stdout; no sleeps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { runCli } from '../src/cli/index.js';
import type { CliIo } from '../src/cli/index.js';
import { signedFetch, TEST_ACCESS_KEY, TEST_SECRET_KEY } from './signed_fetch.js';
import { withinHangBound } from './hang_bound.js';

const BIN = new URL('../bin/shardstore.ts', import.meta.url).pathname;
const STARTUP_TIMEOUT_MS = 30_000;
const SERVE_ARGS = ['--port', '0', '--disks', '2', '--disk-size', '16MiB', '--extent-size', '1MiB', '--s3', 'off'];
const KEYS = Array.from({ length: 24 }, (_, i) => `access/key-${String(i).padStart(2, '0')}`);

type Child = ChildProcessByStdio<null, Readable, Readable>;

interface Server {
  readonly child: Child;
  readonly pid: number;
  readonly url: string;
  readonly exited: Promise<number | null>;
}

function spawnBin(args: readonly string[]): { child: Child; exited: Promise<number | null>; stderr: () => string } {
  // The node's key pair: the test's, so signedFetch signs for it.
  const child = spawn(process.execPath, ['--import', 'tsx', BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SHARDSTORE_S3_ACCESS_KEY: TEST_ACCESS_KEY, SHARDSTORE_S3_SECRET_KEY: TEST_SECRET_KEY } });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => (stderr += s));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

async function startServer(dir: string): Promise<Server> {
  const { child, exited, stderr } = spawnBin(['serve', '--data-dir', dir, ...SERVE_ARGS]);
  const lines = createInterface({ input: child.stdout });
  const startup = new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      const m = /^shardstore serving .* at (http:\/\/\S+) /.exec(line);
      if (m?.[1] !== undefined) resolve(m[1]);
    });
    void exited.then((code) => reject(new Error(`server exited with ${String(code)} before serving; stderr: ${stderr()}`)));
  });
  const url = await withinHangBound(startup, STARTUP_TIMEOUT_MS, () => `the startup line (stderr: ${stderr()})`);
  return { child, pid: child.pid ?? 0, url, exited };
}

function valueOf(key: string): Buffer {
  return Buffer.alloc(3000 + key.length * 101, key);
}

async function putAll(s: Server, keys: readonly string[]): Promise<void> {
  for (const key of keys) {
    const res = await signedFetch(`${s.url}/v1/shards/${encodeURIComponent(key)}`, { method: 'PUT', body: valueOf(key) });
    await res.arrayBuffer();
    assert.equal(res.status, 201, `PUT ${key}`);
  }
}

async function getAll(s: Server, keys: readonly string[]): Promise<void> {
  for (const key of keys) {
    const res = await signedFetch(`${s.url}/v1/shards/${encodeURIComponent(key)}`);
    assert.equal(res.status, 200, `GET ${key}`);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), valueOf(key), `GET ${key}`);
  }
}

function capture(): CliIo & { readonly errLines: () => string[] } {
  const err: string[] = [];
  return { out: () => undefined, err: (l) => err.push(...l.split('\n')), env: {}, errLines: () => err.filter((l) => l.trim() !== '') };
}

function dataFiles(dir: string): string[] {
  return [0, 1].map((i) => join(dir, `disk-${i}.dat`));
}

function hashes(dir: string): string[] {
  return dataFiles(dir).map((f) => createHash('sha256').update(readFileSync(f)).digest('hex'));
}

/** The offline tools, each as a user would type it (minus the program name). */
function toolCommands(dir: string): Array<readonly string[]> {
  return [
    ['fsck', '--data-dir', dir],
    ['scrub', '--data-dir', dir],
    ['inspect', '--data-dir', dir, '--out', join(dir, 'map.svg')],
    ['export', '--data-dir', dir, '--out', join(dir, 'export.bin')],
    ['stats', '--data-dir', dir],
  ];
}

/** Every tool on the stopped node: exit 0, every data file byte-identical after each, no lock file left. */
async function toolsLeaveFilesAlone(dir: string, when: string): Promise<void> {
  for (const argv of toolCommands(dir)) {
    const before = hashes(dir);
    const io = capture();
    const code = await runCli(argv, io);
    assert.equal(code, 0, `${argv[0] ?? ''} ${when}: exit ${code}: ${io.errLines().join(' / ')}`);
    assert.deepEqual(hashes(dir), before, `${argv[0] ?? ''} ${when} changed a data file`);
    for (const f of dataFiles(dir)) assert.equal(existsSync(`${f}.lock`), false, `${argv[0] ?? ''} ${when} left ${f}.lock`);
  }
}

void test('a second server and every offline tool are refused on a live node, naming its pid; tools on a stopped node change no byte', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'access-'));
  const servers: Server[] = [];
  try {
    const first = await startServer(dir);
    servers.push(first);
    await putAll(first, KEYS.slice(0, 16));

    const second = spawnBin(['serve', '--data-dir', dir, ...SERVE_ARGS]);
    assert.equal(await second.exited, 1, 'a second server exits 1');
    const lines = second.stderr().split('\n').filter((l) => l.trim() !== '');
    assert.equal(lines.length, 1, `one line on stderr: ${second.stderr()}`);
    assert.match(lines[0] ?? '', new RegExp(`^shardstore serve: .*disk-0\\.dat is in use by pid ${first.pid} \\(.*serve.*\\): refused .*\\[Locked\\]$`));

    writeFileSync(join(dir, 'empty.stream'), '');
    for (const argv of [...toolCommands(dir), ['import', '--data-dir', dir, '--in', join(dir, 'empty.stream')], ['repair', '--data-dir', dir]]) {
      const io = capture();
      assert.equal(await runCli(argv, io), 1, `${argv[0] ?? ''} on a live node exits 1`);
      assert.equal(io.errLines().length, 1, `${argv[0] ?? ''}: one line: ${io.errLines().join(' / ')}`);
      assert.match(io.errLines()[0] ?? '', new RegExp(`^shardstore ${argv[0] ?? ''}: .* is in use by pid ${first.pid} .*\\[Locked\\]$`));
    }
    await getAll(first, KEYS.slice(0, 16));

    first.child.kill('SIGKILL');
    assert.equal(await first.exited, null);
    assert.match(readFileSync(join(dir, 'disk-0.dat.lock'), 'utf8'), new RegExp(`"pid":${first.pid},`), 'the killed server left its lock');
    const next = await startServer(dir);
    servers.push(next);
    await getAll(next, KEYS.slice(0, 16));
    await putAll(next, KEYS.slice(16));
    next.child.kill('SIGTERM');
    assert.equal(await next.exited, 0, 'SIGTERM stops cleanly');
    for (const f of dataFiles(dir)) assert.equal(existsSync(`${f}.lock`), false, 'a clean stop releases the locks');
    await toolsLeaveFilesAlone(dir, 'after a clean stop');

    const last = await startServer(dir);
    servers.push(last);
    await putAll(last, KEYS.slice(0, 8));
    last.child.kill('SIGKILL');
    assert.equal(await last.exited, null);
    await toolsLeaveFilesAlone(dir, 'after SIGKILL');
  } finally {
    for (const s of servers) s.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
