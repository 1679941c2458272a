// A newcomer's first hour (issue 15): what the CLI does when the port is
// taken, when another server owns it, when a command line is wrong, and
// when the server stops. Each check is a function of the command it runs, so
// the broken variants of testing/mutants/first_hour_mutants.ts (the bugs as
// they shipped) are shown to be caught by the failure they must cause.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { CliIo, Command } from '../src/cli/index.js';
import { runCli } from '../src/cli/index.js';
import { serveCommand } from '../src/cli/serve_command.js';
import { waitCommand } from '../src/cli/wait_command.js';
import { createShardServer, loadOrCreateCredentials, silentLogger } from '../src/server/index.js';
import { ShardNode } from '../src/node/index.js';
import { serveBindsLast, waitTrustsHealthz } from './mutants/first_hour_mutants.js';
import { HangBoundError, withinHangBound } from './hang_bound.js';

const ROOT = join(import.meta.dirname, '..');

interface Captured {
  readonly io: CliIo;
  readonly out: string[];
  readonly err: string[];
}

function capture(): Captured {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l) => out.push(...l.split('\n')), err: (l) => err.push(...l.split('\n')), env: {} }, out, err };
}

/** Runs `command` as cli.ts does (a throw is one line and exit 1 or 2); resolves with the code. */
async function runAs(command: Command, argv: readonly string[], c: Captured): Promise<number> {
  try {
    return await command.run(argv, c.io);
  } catch (err) {
    c.io.err(err instanceof Error ? err.message : String(err));
    return 1;
  }
}

async function busyPort(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer((s) => s.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return { port: address.port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** What is wrong with how `serve` meets a taken port: it must refuse, in one line naming the port, having created nothing. */
async function busyPortProblems(serve: Command): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'shardstore-busy-'));
  const taken = await busyPort();
  const data = join(dir, 'data');
  const c = capture();
  try {
    const code = await runAs(serve, ['--port', String(taken.port), '--data-dir', data, '--disk-size', '64MiB', '--extent-size', '1MiB'], c);
    const problems: string[] = [];
    if (code === 0) problems.push('serve exited 0 on a taken port');
    if (existsSync(data)) problems.push(`serve created ${data} before the port was refused`);
    if (c.out.some((l) => l.startsWith('Credentials were generated'))) problems.push('serve printed a key pair "shown once" for a node that never started');
    const lines = c.err.filter((l) => l !== '');
    if (lines.length !== 1 || !lines[0]?.includes(`port ${taken.port}`)) problems.push(`expected one line naming port ${taken.port}, got ${JSON.stringify(lines)}`);
    return problems;
  } finally {
    await taken.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

void test('serve on a taken port: one line naming the port, exit 1, nothing created; the old order (port last) is caught by what it created', async () => {
  assert.deepEqual(await busyPortProblems(serveCommand), []);
  const broken = await busyPortProblems(serveBindsLast);
  assert.ok(broken.some((p) => /created .*data before the port was refused/.test(p)), broken.join('\n'));
});

/** What is wrong with how `wait` meets another node on the port: it must fail in one line saying so, and pass for the right node. */
async function waitProblems(wait: Command): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'shardstore-wait-'));
  const ours = await loadOrCreateCredentials({ accessKeyId: undefined, secretAccessKey: undefined, file: join(dir, 'ours') });
  await loadOrCreateCredentials({ accessKeyId: undefined, secretAccessKey: undefined, file: join(dir, 'other') });
  const node = await ShardNode.openOrCreate({ dataDir: dir, disks: 1, diskSizeBytes: 64 * 1024 * 1024, extentSizeBytes: 1024 * 1024 });
  const server = createShardServer(node, { logger: silentLogger, credentials: new Map(ours.credentials.map((k) => [k.accessKeyId, k.secretAccessKey])) }, node);
  try {
    const { port } = await server.listen(0, '127.0.0.1');
    const url = `http://127.0.0.1:${port}`;
    const problems: string[] = [];
    const right = capture();
    if ((await runAs(wait, ['--url', url, '--credentials-file', join(dir, 'ours'), '--timeout', '20s'], right)) !== 0) problems.push(`wait failed for its own node: ${right.err.join(' ')}`);
    const wrong = capture();
    const code = await runAs(wait, ['--url', url, '--credentials-file', join(dir, 'other'), '--timeout', '20s'], wrong);
    if (code === 0) problems.push('wait reported ready for another node (it does not hold the key pair of the credentials file)');
    else if (!wrong.err.some((l) => /refuses the key pair of .*other .*403 InvalidAccessKeyId.*another node/.test(l))) problems.push(`wait failed without saying another node has the port: ${wrong.err.join(' ')}`);
    return problems;
  } finally {
    await server.close();
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

void test('wait tells this node from another node on the port (signed with the credentials file); a health-only wait is caught reporting the other node ready', async () => {
  assert.deepEqual(await waitProblems(waitCommand), []);
  const broken = await waitProblems(waitTrustsHealthz);
  assert.ok(broken.includes('wait reported ready for another node (it does not hold the key pair of the credentials file)'), broken.join('\n'));
});

/** Why a usage error's output is not what the user should get: exit 2, one line on stderr, no stack frames. */
function usageProblems(code: number | null, stderr: string): string[] {
  const lines = stderr.split('\n').filter((l) => l !== '');
  return [
    ...(code === 2 ? [] : [`exit code ${String(code)}, not 2`]),
    ...(lines.length === 1 ? [] : [`${lines.length} lines on stderr`]),
    ...(/^\s+at /m.test(stderr) ? ['a stack trace'] : []),
  ];
}

const BAD_LINES: readonly (readonly string[])[] = [
  ['fsck', '--url', 'http://127.0.0.1:7380'],
  ['inspect', '--url', 'http://127.0.0.1:7380'],
  ['fsck', '--data-dir', 'a', '--path', 'b'],
  ['scrub', '--data-dir', 'a', '--url', 'http://127.0.0.1:7380'],
  ['export', '--data-dir', 'a'],
  ['stats', '--bogus'],
  ['serve', '--port', 'abc'],
  ['serve', '--disk-size', 'huge'],
  ['wait', '--pid', 'x'],
  ['wait', '--timeout', 'soon'],
  ['disk', 'out'],
  ['bench', '--endpoint'],
  ['frobnicate'],
];

void test('every usage mistake is one line on stderr and exit 2, naming only options the command accepts', async () => {
  for (const argv of BAD_LINES) {
    const c = capture();
    const code = await runCli(argv, c.io);
    assert.deepEqual(usageProblems(code, c.err.join('\n')), [], `${argv.join(' ')}: ${c.err.join('\n')}`);
  }
  const fsck = capture();
  await runCli(['fsck', '--data-dir', 'a', '--path', 'b'], fsck.io);
  assert.match(fsck.err[0] ?? '', /give only one of --data-dir or --path/);
  assert.doesNotMatch(fsck.err[0] ?? '', /--url/);
});

void test('offline tools default to ./data as serve does: fsck with no target reads ./data and says so when it is missing', async () => {
  const c = capture();
  const code = await runCli(['fsck'], c.io);
  if (existsSync(join(process.cwd(), 'data', 'disk-0.dat'))) return; // a real ./data here: fsck read it (any exit is its verdict)
  assert.equal(code, 2);
  assert.match(c.err[0] ?? '', /no data file data\/disk-0\.dat \(the default --data-dir \.\/data, as for serve\)/);
});

void test('the bin and npm run bench: a bad option is one line and exit 2, no stack trace (the old bench output is caught)', () => {
  const bin = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bin', 'shardstore.ts'), 'inspect', '--url', 'http://127.0.0.1:7380'], { cwd: ROOT, encoding: 'utf8' });
  assert.deepEqual(usageProblems(bin.status, bin.stderr), [], bin.stderr);
  // What `npm run bench` runs (npm adds only its banner on stdout).
  const bench = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'run.ts'), '--json'], { cwd: ROOT, encoding: 'utf8' });
  assert.deepEqual(usageProblems(bench.status, bench.stderr), [], bench.stderr);
  assert.match(bench.stderr, /^bench: Unknown option '--json' \(usage: npm run bench -- /);
  const before = "bench failed: TypeError [ERR_PARSE_ARGS_UNKNOWN_OPTION]: Unknown option '--json'\n    at parseArgs (node:internal/util/parse_args/parse_args:339:11)\n    at main (bench/run.ts:100:22)\n";
  assert.deepEqual(usageProblems(1, before), ['exit code 1, not 2', '3 lines on stderr', 'a stack trace']);
});

interface ExitReport {
  readonly code: number;
  readonly active: readonly string[];
}

/** Runs the fixture; resolves once it printed its report (and, if it exits by itself, with its exit). */
function serveAndStop(env: NodeJS.ProcessEnv): Promise<{ report: ExitReport; text: string; exited: Promise<number | null>; kill: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'shardstore-exit-'));
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'testing', 'serve_exit_fixture.ts'), join(dir, 'data')], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    rmSync(dir, { recursive: true, force: true });
    resolve(code);
  }));
  let text = '';
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (piece: Buffer) => {
      text += piece.toString('utf8');
      const line = text.split('\n').find((l) => l.startsWith('{"code":'));
      if (line !== undefined) resolve({ report: JSON.parse(line) as ExitReport, text, exited, kill: () => child.kill('SIGKILL') });
    });
    void exited.then(() => reject(new Error(`the fixture exited without a report:\n${text}`)));
  });
}

/** What keeps a stopped server's process alive: timers, sockets, servers, workers. */
function keepsAlive(report: ExitReport): string[] {
  return report.active.filter((kind) => ['Timeout', 'TCPWrap', 'TCPServerWrap', 'Worker', 'MessagePort', 'ProcessWrap'].includes(kind));
}

void test('after "stopped cleanly" nothing keeps the process alive: it exits by itself (a leaked timer is caught); the credentials hint names the port bound', async () => {
  // The latch is the fixture's report line, printed once runCli resolved;
  // the exit must then come by itself. The 60 s bound only fails the test.
  const good = await serveAndStop({});
  assert.equal(good.report.code, 0);
  // The new node's credentials hint names the port bound (the fixture serves on --port 0), as the serving line does.
  const hint = /aws --endpoint-url (\S+) s3 ls/.exec(good.text)?.[1];
  const serving = /shardstore serving .* at (http:\/\/\S+)/.exec(good.text)?.[1];
  assert.ok(serving !== undefined && !serving.endsWith(':0'), good.text);
  assert.equal(hint, serving, 'the credentials hint names another endpoint than the one served');
  assert.deepEqual(keepsAlive(good.report), [], good.report.active.join(', '));
  const code = await withinHangBound(good.exited, 60_000, () => 'the exit after "stopped cleanly"').catch((err: unknown) => {
    if (!(err instanceof HangBoundError)) throw err;
    good.kill();
    return 'stuck';
  });
  assert.equal(code, 0, 'the process did not exit by itself after stopping cleanly');
  const leaking = await serveAndStop({ FIXTURE_LEAK_TIMER: '1' });
  try {
    assert.deepEqual(keepsAlive(leaking.report), ['Timeout']);
  } finally {
    leaking.kill();
    await leaking.exited;
  }
});
