// The README's "Try it" lines, run as written, in order, by bash: `npm start &`,
// `npm run wait -- --pid $!`, the lines that read the key pair from
// data/credentials, the signed curl lines, and (where the aws cli is
// installed; CI installs it) the S3 block. Nothing in them is substituted:
// they run in a scratch folder holding the project's package.json, dist and
// node_modules (links) and a copy of README.md, so `npm start` creates its
// ./data there, and on the default port 7380.
//
// Port 7380 is made private to the test by a network namespace of its own
// (`unshare -rn`, loopback only) where the host allows one; else the host's
// port is used if it is free; else the test is skipped, saying why. Two runs:
//   1. a free port: every line succeeds, with the answers the README implies;
//   2. a busy port (another server answering on 7380, recording what it gets):
//      `npm start` refuses in one line naming port 7380 and creates nothing,
//      `wait` fails, and the flow stops there: the other server never sees
//      a signed request, a PUT or the README's bytes.
// The lines run as a script stops at the first failing line (set -e), as
// the README says to; a marker after each line tells how far it got.
//
// REQUIRES: dist/ built (npm ci builds it; else `npm run build`).
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const ROOT = join(import.meta.dirname, '..');
const README = join(ROOT, 'README.md');
const MARK = '@@readme-line-done@@';

/** The shell lines of the first ```sh block after `heading`. */
function shBlock(heading: string): string[] {
  const text = readFileSync(README, 'utf8');
  const section = text.slice(text.indexOf(heading));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return block.split('\n').filter((l) => l.trim() !== '');
}

function tryItLines(): string[] {
  return shBlock('## Try it');
}

function s3Lines(): string[] {
  return shBlock('The same port speaks S3');
}

function has(cmd: string, args: string[], needle: string): boolean {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes(needle);
}

/** How to get a private port 7380: a network namespace, the host's free port, or none (why). */
function isolation(): { kind: 'netns' | 'host' } | { kind: 'none'; why: string } {
  if (spawnSync('unshare', ['-rn', 'sh', '-c', 'ip link set lo up'], { encoding: 'utf8' }).status === 0) return { kind: 'netns' };
  const probe = spawnSync(process.execPath, ['-e', "require('net').createServer().listen(7380,'127.0.0.1',function(){this.close()}).on('error',()=>process.exit(3))"]);
  if (probe.status === 0) return { kind: 'host' };
  return { kind: 'none', why: 'no network namespace (unshare -rn) and port 7380 of this host is in use' };
}

/** A scratch project folder: npm start and npx shardstore work there as in a checkout, and ./data is created there. */
function scratchProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'shardstore-readme-'));
  for (const name of ['package.json', 'package-lock.json', 'dist', 'node_modules']) symlinkSync(join(ROOT, name), join(dir, name));
  copyFileSync(README, join(dir, 'README.md'));
  return dir;
}

/** The lines as one bash script, stopping at the first failure; a marker after each line, and the server stopped at the end. */
function script(lines: readonly string[], setup: readonly string[] = [], cleanup = ''): string {
  // The server's output (its JSON request log) goes to server.out instead of
  // mixing into the curl answers: stdout is redirected around the line, which stays as written.
  const body = lines.flatMap((line, i) =>
    line.startsWith('npm start &') ? ['exec 3>&1 1>server.out', line, 'SERVER_PID=$!', 'exec 1>&3', `echo "${MARK}${i}"`] : [line, `echo "${MARK}${i}"`],
  );
  return [
    'set -e',
    'SERVER_PID=',
    // SIGTERM to serve itself (npm's child, or its grandchild through sh): a
    // background job of a non-interactive shell ignores SIGINT, and npm does not pass SIGTERM on.
    `trap 'if [ -n "$SERVER_PID" ]; then kill -TERM $(pgrep -P "$SERVER_PID") $(for c in $(pgrep -P "$SERVER_PID"); do pgrep -P "$c"; done) 2>/dev/null || true; wait "$SERVER_PID" || true; fi; ${cleanup}' EXIT`,
    ...setup,
    ...body,
  ].join('\n');
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Index of the last line that finished successfully (-1: none). */
  readonly lastDone: number;
}

function runScript(dir: string, text: string, kind: 'netns' | 'host'): Promise<Run> {
  const file = join(dir, 'readme.sh');
  writeFileSync(file, text);
  const [cmd, args] = kind === 'netns' ? ['unshare', ['-rn', 'bash', '-c', 'ip link set lo up && exec bash "$0"', file]] as const : ['bash', [file]] as const;
  return new Promise((resolve) => {
    execFile(cmd, [...args], { cwd: dir, env: { ...process.env, npm_config_update_notifier: 'false' }, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      const done = [...stdout.matchAll(new RegExp(`${MARK}(\\d+)`, 'g'))].map((m) => Number(m[1]));
      resolve({ code, stdout, stderr, lastDone: done.length === 0 ? -1 : Math.max(...done) });
    });
  });
}

/** Output printed by line i (between the markers of lines i-1 and i). */
function outputOf(run: Run, i: number): string {
  const start = i === 0 ? 0 : run.stdout.indexOf(`${MARK}${i - 1}\n`) + `${MARK}${i - 1}\n`.length;
  return run.stdout.slice(start, run.stdout.indexOf(`${MARK}${i}\n`));
}

/** Node's own source for the other server on the busy port: it answers like a shardstore /healthz and records every request. */
const OCCUPIER = `
const http = require('http'); const fs = require('fs'); const log = process.argv[2];
http.createServer((req, res) => {
  let n = 0; req.on('data', (b) => (n += b.length));
  req.on('end', () => {
    fs.appendFileSync(log, JSON.stringify({ method: req.method, url: req.url, signed: req.headers.authorization !== undefined, bytes: n }) + '\\n');
    if (req.url === '/healthz') { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"ok":true}'); return; }
    res.writeHead(403, { 'content-type': 'application/json' }); res.end('{"error":{"code":"InvalidAccessKeyId","message":"not ours"}}');
  });
}).listen(7380, '127.0.0.1', () => fs.appendFileSync(log, ''));
`;

function preconditions(t: { skip: (why: string) => void }): { kind: 'netns' | 'host' } | undefined {
  if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'wait_command.js'))) {
    assert.fail('dist/ is missing or older than `shardstore wait`: run `npm run build` (npm ci does it)');
  }
  if (!has('curl', ['--help', 'all'], '--aws-sigv4')) {
    t.skip('curl without --aws-sigv4 on this machine');
    return undefined;
  }
  const iso = isolation();
  if (iso.kind === 'none') {
    t.skip(iso.why);
    return undefined;
  }
  return iso;
}

void test("the README's Try it lines, as written, on a free default port: start, wait, signed curl (and the aws cli lines where installed)", async (t) => {
  // Checks each line's effect: wait says ready, the PUT answers with the
  // key, the GET returns README.md byte for byte, the listing names the key,
  // the DELETE answers nothing; and the aws lines make a bucket and list
  // the copied README.md.
  const iso = preconditions(t);
  if (iso === undefined) return;
  const lines = tryItLines();
  assert.equal(lines.filter((l) => l.startsWith('curl --aws-sigv4')).length, 4, lines.join('\n'));
  const aws = spawnSync('aws', ['--version']).status === 0 ? s3Lines() : [];
  const all = [...lines, ...aws];
  const dir = scratchProject();
  try {
    const run = await runScript(dir, script(all), iso.kind);
    assert.equal(run.lastDone, all.length - 1, `stopped after line ${run.lastDone}: ${all[run.lastDone + 1] ?? ''}\n${run.stderr}`);
    assert.equal(run.code, 0, run.stderr);
    const index = (prefix: string, nth = 0): number => all.map((l, i) => [l, i] as const).filter(([l]) => l.startsWith(prefix))[nth]?.[1] ?? -1;
    assert.match(outputOf(run, index('npm run wait')), /is ready \(the node of \.\/data\/credentials\)/);
    const curl = (n: number): string => outputOf(run, index('curl --aws-sigv4', n));
    assert.match(curl(0), /"key":"readme"/);
    assert.equal(curl(1), readFileSync(README, 'utf8'));
    assert.match(curl(2), /"key":"readme"/);
    assert.equal(curl(3), '');
    if (aws.length > 0) assert.match(outputOf(run, all.length - 1), /README\.md/);
    else t.diagnostic('aws cli not installed: its README lines were not run');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test("the README's Try it lines on a busy default port: npm start refuses in one line, creates nothing, wait fails, and the other server gets no signed request", async (t) => {
  // Checks the flow stops at the wait line (the first two lines' markers:
  // npm start & returns at once, wait fails), that serve said why in one
  // line naming port 7380, that ./data does not exist, and that the other
  // server saw at most unsigned GET /healthz probes.
  const iso = preconditions(t);
  if (iso === undefined) return;
  const lines = tryItLines();
  const dir = scratchProject();
  const log = join(dir, 'occupier.log');
  writeFileSync(join(dir, 'occupier.cjs'), OCCUPIER);
  const occupy = [`node occupier.cjs ${log} &`, 'OCCUPIER_PID=$!', `for i in $(seq 400); do [ -e ${log} ] && break; kill -0 $OCCUPIER_PID; sleep 0.05; done; [ -e ${log} ]`];
  try {
    const run = await runScript(dir, script(lines, occupy, 'kill $OCCUPIER_PID'), iso.kind);
    assert.notEqual(run.code, 0, 'the flow went on past a busy port');
    assert.equal(run.lastDone, 0, `expected to stop at the wait line; last line done: ${run.lastDone}\n${run.stdout}\n${run.stderr}`);
    const refusals = run.stderr.split('\n').filter((l) => l.includes('port 7380'));
    assert.equal(refusals.length, 1, run.stderr);
    assert.match(refusals[0] ?? '', /^shardstore serve: port 7380 on 127\.0\.0\.1 is in use by another process: nothing was created or opened; .*--port <n>/);
    assert.match(run.stderr, /^shardstore wait: .*(exited before|another)/m);
    assert.doesNotMatch(run.stderr, /^\s+at /m, 'a stack trace');
    assert.equal(existsSync(join(dir, 'data')), false, 'serve created ./data on a busy port');
    const seen = readFileSync(log, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { method: string; url: string; signed: boolean; bytes: number });
    assert.deepEqual(seen.filter((r) => r.signed || r.url !== '/healthz' || r.bytes > 0), [], 'the other server got more than health probes');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('a signed curl line without its signature is refused (the Try it check is about signing)', async () => {
  // The same GET line, signature removed, against a node of this process:
  // 401 Unauthenticated, so a README whose lines stopped signing would fail above.
  const { createShardServer, loadOrCreateCredentials, silentLogger } = await import('../src/server/index.js');
  const { ShardNode } = await import('../src/node/index.js');
  const dir = mkdtempSync(join(tmpdir(), 'shardstore-readme-unsigned-'));
  const loaded = await loadOrCreateCredentials({ accessKeyId: undefined, secretAccessKey: undefined, file: join(dir, 'credentials') });
  const node = await ShardNode.openOrCreate({ dataDir: dir, disks: 1, diskSizeBytes: 64 * 1024 * 1024, extentSizeBytes: 1024 * 1024 });
  const server = createShardServer(node, { logger: silentLogger, credentials: new Map(loaded.credentials.map((c) => [c.accessKeyId, c.secretAccessKey])) }, node);
  const { port } = await server.listen(0, '127.0.0.1');
  try {
    const get = tryItLines().filter((l) => l.startsWith('curl --aws-sigv4'))[1] ?? '';
    const unsigned = get.replace(/--aws-sigv4 "[^"]*" --user "[^"]*" /, '').replaceAll('127.0.0.1:7380', `127.0.0.1:${port}`);
    assert.notEqual(unsigned, get);
    // Async: the node answering curl runs in this process.
    const { stdout: out } = await promisify(execFile)('bash', ['-c', unsigned]);
    assert.match(out, /"code":"Unauthenticated"/);
  } finally {
    await server.close();
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
