// The `shardstore` command line.
//
// Strategy: option parsing and dispatch are pure functions of argv and env,
// checked in-process; the serve lifecycle runs over the reference model with
// a stop promise standing in for the signal; two spawned runs of the real
// entry point check the bin's exit codes end to end.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ClosedError } from '../base/index.js';
import {
  DEFAULT_PORT,
  parseDurationMs,
  parseServeArgs,
  parseSizeBytes,
  runCli,
  serveApi,
  stopOnSignal,
  UsageError,
} from './index.js';
import type { CliIo, ServeConfig } from './index.js';
import { silentLogger } from '../server/index.js';
import { ModelStore } from '../../testing/model.js';
import { signedFetch, TEST_CREDENTIALS } from '../../testing/signed_fetch.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

function capture(env: NodeJS.ProcessEnv = {}): CliIo & { readonly outText: () => string; readonly errText: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    env,
    outText: () => out.join('\n'),
    errText: () => err.join('\n'),
  };
}

function config(argv: string[], env: NodeJS.ProcessEnv = {}): ServeConfig {
  const parsed = parseServeArgs(argv, env);
  assert.ok(parsed !== 'help');
  return parsed;
}

void test('sizes and durations parse with their units, and nothing else', () => {
  // Checks binary and decimal size units, case-insensitivity, fractions that
  // land on whole bytes, and that ambiguous or malformed values are rejected.
  assert.equal(parseSizeBytes('4096', 'x'), 4096);
  assert.equal(parseSizeBytes('512MiB', 'x'), 512 * MiB);
  assert.equal(parseSizeBytes('10gib', 'x'), 10 * GiB);
  assert.equal(parseSizeBytes('1G', 'x'), GiB);
  assert.equal(parseSizeBytes('1.5GiB', 'x'), 1.5 * GiB);
  assert.equal(parseSizeBytes('2 TB', 'x'), 2e12);
  for (const bad of ['', 'GiB', '-1', '1.1B', '1 XB', '1e3', '12 34']) {
    assert.throws(() => parseSizeBytes(bad, 'x'), UsageError, bad);
  }
  assert.equal(parseDurationMs('500ms', 'x'), 500);
  assert.equal(parseDurationMs('30s', 'x'), 30_000);
  assert.equal(parseDurationMs('5m', 'x'), 300_000);
  assert.equal(parseDurationMs('1h', 'x'), 3_600_000);
  assert.equal(parseDurationMs('0', 'x'), 0);
  for (const bad of ['30', '1d', 's', '']) assert.throws(() => parseDurationMs(bad, 'x'), UsageError, bad);
});

void test('serve options: defaults, then environment, then flags', () => {
  // Checks every documented default, that SHARDSTORE_* variables override
  // them (empty ones do not), that flags override variables, and the
  // --path / --disks agreement rule.
  const defaults = config([]);
  assert.deepEqual(defaults.node, { dataDir: './data', disks: 1, diskSizeBytes: 16 * GiB, extentSizeBytes: 64 * MiB, cacheBytes: 256 * MiB, preallocate: false, prepareAheadExtents: 'all' });
  assert.equal(defaults.host, '127.0.0.1');
  assert.equal(defaults.port, DEFAULT_PORT);
  assert.equal(defaults.port, 7380);

  const env = {
    SHARDSTORE_DATA_DIR: '/srv/shards',
    SHARDSTORE_DISKS: '4',
    SHARDSTORE_DISK_SIZE: '10GiB',
    SHARDSTORE_EXTENT_SIZE: '',
    SHARDSTORE_PORT: '9999',
    SHARDSTORE_CACHE_SIZE: '1GiB',
    SHARDSTORE_PREALLOCATE: 'on',
    SHARDSTORE_PREPARE_AHEAD: '0',
    SHARDSTORE_REQUEST_TIMEOUT: '5m',
  };
  const fromEnv = config([], env);
  assert.deepEqual(fromEnv.node, { dataDir: '/srv/shards', disks: 4, diskSizeBytes: 10 * GiB, extentSizeBytes: 64 * MiB, cacheBytes: GiB, preallocate: true, prepareAheadExtents: 0 });
  assert.equal(fromEnv.port, 9999);
  assert.equal(fromEnv.server.requestTimeoutMs, 300_000);

  const fromFlags = config(['--port', '0', '--disks=2', '--host', '::1', '--shutdown-grace', '1s', '--cache-size', '0', '--prepare-ahead', '16'], env);
  assert.equal(fromFlags.port, 0);
  assert.equal(fromFlags.node.prepareAheadExtents, 16);
  assert.equal(config(['--prepare-ahead', 'all'], env).node.prepareAheadExtents, 'all');
  assert.equal(fromFlags.node.disks, 2);
  assert.equal(fromFlags.node.cacheBytes, 0);
  assert.equal(fromFlags.host, '::1');
  assert.equal(fromFlags.server.shutdownGraceMs, 1_000);

  assert.deepEqual(config(['--path', '/dev/a', '--path', '/dev/b']).node.paths, ['/dev/a', '/dev/b']);
  assert.equal(config(['--path', '/dev/a', '--path', '/dev/b']).node.disks, 2);
  assert.deepEqual(config([], { SHARDSTORE_PATH: 'a.dat, b.dat' }).node.paths, ['a.dat', 'b.dat']);
  assert.throws(() => parseServeArgs(['--disks', '3', '--path', 'a'], {}), UsageError);

  for (const bad of [['--port', '70000'], ['--disks', '0'], ['--prepare-ahead', '-1'], ['--prepare-ahead', '1025'], ['--prepare-ahead', 'most'], ['--bogus'], ['positional'], ['--port']]) {
    assert.throws(() => parseServeArgs(bad, {}), UsageError, bad.join(' '));
  }
  assert.equal(parseServeArgs(['--help'], {}), 'help');
});

void test('dispatch: help, version, unknown commands and usage errors', async () => {
  // Checks the exit codes (0, 2) and where each text goes, and that
  // `help serve` documents every environment variable.
  const help = capture();
  assert.equal(await runCli(['--help'], help), 0);
  assert.match(help.outText(), /serve/);

  const none = capture();
  assert.equal(await runCli([], none), 2);
  assert.match(none.errText(), /Usage: shardstore/);

  const unknown = capture();
  assert.equal(await runCli(['frobnicate'], unknown), 2);
  assert.match(unknown.errText(), /unknown command "frobnicate"/);

  const version = capture();
  assert.equal(await runCli(['--version'], version), 0);
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.equal(version.outText(), pkg.version);

  const serveHelp = capture();
  assert.equal(await runCli(['help', 'serve'], serveHelp), 0);
  for (const name of ['DATA_DIR', 'DISKS', 'DISK_SIZE', 'EXTENT_SIZE', 'PATH', 'HOST', 'PORT', 'REQUEST_TIMEOUT']) {
    assert.match(serveHelp.outText(), new RegExp(`SHARDSTORE_${name}\\b`));
  }
  const badFlag = capture();
  assert.equal(await runCli(['serve', '--port', 'x'], badFlag), 2);
  assert.match(badFlag.errText(), /port/);
});

void test('serve lifecycle: startup line, serving, clean stop closes the store', async () => {
  // Checks serveApi over the model: it prints one line with the URL, serves
  // requests there, and on the stop signal closes the server and then the
  // store (the model refuses calls after close), resolving with exit code 0.
  const model = new ModelStore();
  const lines: string[] = [];
  let stop: (reason: string) => void = () => undefined;
  const stopped = new Promise<string>((resolve) => (stop = resolve));
  let printed: (line: string) => void = () => undefined;
  const firstLine = new Promise<string>((resolve) => (printed = resolve));
  const out = (line: string): void => {
    lines.push(line);
    printed(line);
  };
  const running = serveApi(model, config(['--port', '0']), { out, logger: silentLogger, stop: stopped, credentials: TEST_CREDENTIALS });
  const line = await firstLine;
  const url = /http:\/\/[^ ]+/.exec(line)?.[0];
  assert.ok(url !== undefined, line);
  assert.equal((await signedFetch(`${url}/v1/shards/k`, { method: 'PUT', body: 'v' })).status, 201);
  stop('SIGTERM');
  assert.equal(await running, 0);
  assert.equal(lines.length, 1);
  await assert.rejects(model.list(), ClosedError);
  await assert.rejects(signedFetch(`${url}/healthz`));
});

void test('stopOnSignal: first signal stops, second forces', () => {
  // Checks the signal handling by emitting the events in-process: the first
  // resolves `stop` with the signal's name, the second calls the force hook,
  // and dispose removes the listeners.
  const before = process.listenerCount('SIGINT');
  let forced = 0;
  const handle = stopOnSignal(() => {
    forced++;
    throw new Error('forced');
  });
  process.emit('SIGTERM');
  assert.throws(() => process.emit('SIGINT'), /forced/);
  assert.equal(forced, 1);
  handle.dispose();
  assert.equal(process.listenerCount('SIGINT'), before);
  return handle.stop.then((reason) => assert.equal(reason, 'SIGTERM'));
});

function runBin(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const main = new URL('./main.ts', import.meta.url).pathname;
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', main, ...args], (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

void test('the bin exits 0 on --help and 2 on an unknown command', async () => {
  // Checks the real entry point (shebang file main.ts) in a child process.
  const [help, unknown] = await Promise.all([runBin(['--help']), runBin(['nope'])]);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /Usage: shardstore <command>/);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "nope"/);
});
