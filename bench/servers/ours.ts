// Our server as users run it: `shardstore serve` (dist/bin/shardstore.js,
// as `npm start` runs it) in its own process, on a fresh data dir, its log going to a file.
//
// The S3 front (src/server/s3) is being built. This file is the one place
// that knows how to reach it, and it only assumes what issue 5 promises:
// `shardstore serve --help` documents it, and credentials come from options
// or the environment, or are printed at first start. In order:
//   1. BENCH_S3_ENDPOINT (+ BENCH_S3_ACCESS_KEY_ID, BENCH_S3_SECRET_ACCESS_KEY):
//      use that running endpoint as is;
//   2. `serve --help` lists no S3 option: no S3 front, rows skipped with that reason;
//   3. an `--s3-port` option: pass `--s3-port 0` and take the S3 URL from the
//      startup lines (a line naming S3 with an http:// URL); otherwise S3 is
//      served on the native port;
//   4. credentials: options named like access-key / secret (then we pass
//      our own, through their SHARDSTORE_* environment variables, since flags
//      show in ps), else parsed from the startup lines (KEY=VALUE or "access key: X").
// If any step fails, the S3 rows are skipped with the message; the native
// rows still run.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { OUR_BIN, START_NODE_FLAGS } from '../lib/dist.js';
import type { S3Target } from './targets.js';

const BIN = OUR_BIN;
const STARTUP_TIMEOUT_MS = 60_000;
const BENCH_ACCESS_KEY = 'BENCHACCESSKEY000001';
const BENCH_SECRET = 'bench-secret-key-0000000000000000000000';

export interface OurServer {
  readonly pid: number;
  readonly nativeUrl: string;
  readonly s3: S3Target | { readonly skip: string };
  stop(): Promise<void>;
}

export function serveHelp(): string {
  const r = spawnSync(process.execPath, [BIN, 'serve', '--help'], { encoding: 'utf8', timeout: 60_000 });
  return `${r.stdout}\n${r.stderr}`;
}

interface S3Plan {
  readonly args: string[];
  /** Credentials go by environment (flags show in ps), named as `serve --help` says. */
  readonly env: Record<string, string>;
  readonly separatePort: boolean;
  readonly credentialsPassed: boolean;
  readonly skip?: string;
}

function planS3(help: string): S3Plan {
  if (!/\bs3\b/i.test(help)) return { args: [], env: {}, separatePort: false, credentialsPassed: false, skip: 'S3 front not available: `shardstore serve --help` lists no S3 option (src/server/s3 not wired into serve yet)' };
  const options = [...help.matchAll(/--([a-z0-9-]+)/g)].map((m) => m[1] ?? '');
  const args: string[] = [];
  const separatePort = options.includes('s3-port');
  if (separatePort) args.push('--s3-port', '0');
  // The native rows' clients (fetch, autocannon) do not sign; the S3 rows are signed as ever.
  if (options.includes('insecure-no-auth')) args.push('--insecure-no-auth');
  const keyOption = options.find((o) => /access-key(-id)?$/.test(o));
  const secretOption = options.find((o) => /secret/.test(o));
  const credentialsPassed = keyOption !== undefined && secretOption !== undefined;
  const env: Record<string, string> = {};
  if (credentialsPassed) {
    env[envName(keyOption)] = BENCH_ACCESS_KEY;
    env[envName(secretOption)] = BENCH_SECRET;
  }
  return { args, env, separatePort, credentialsPassed };
}

/** serve's rule: SHARDSTORE_ and the flag name in upper case, '-' as '_'. */
function envName(option: string): string {
  return 'SHARDSTORE_' + option.toUpperCase().replaceAll('-', '_');
}

export async function startOurServer(dataDir: string, logPath: string, diskSize: string, execArgv: readonly string[] = []): Promise<OurServer> {
  const plan = planS3(serveHelp());
  const log = openSync(logPath, 'w');
  const child = spawn(
    process.execPath,
    [...START_NODE_FLAGS, ...execArgv, BIN, 'serve', '--data-dir', dataDir, '--disk-size', diskSize, '--port', '0', ...plan.args],
    { stdio: ['ignore', log, log], env: { ...process.env, ...plan.env } },
  );
  closeSync(log);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const text = await waitFor(logPath, /serving .*?(http:\/\/[^\s)]+)/, () => child.exitCode !== null);
    const nativeUrl = /serving .*?(http:\/\/[^\s)]+)/.exec(text)?.[1] ?? '';
    if (child.pid === undefined) throw new Error('shardstore serve has no pid');
    return { pid: child.pid, nativeUrl, s3: s3Target(plan, text, nativeUrl), stop };
  } catch (err: unknown) {
    await stop();
    throw err;
  }
}

function s3Target(plan: S3Plan, startup: string, nativeUrl: string): S3Target | { skip: string } {
  const fromEnv = process.env.BENCH_S3_ENDPOINT;
  if (fromEnv !== undefined && fromEnv !== '') {
    return {
      kind: 's3',
      endpoint: fromEnv,
      accessKeyId: process.env.BENCH_S3_ACCESS_KEY_ID ?? '',
      secretAccessKey: process.env.BENCH_S3_SECRET_ACCESS_KEY ?? '',
      bucket: 'bench',
    };
  }
  if (plan.skip !== undefined) return { skip: plan.skip };
  const endpoint = plan.separatePort ? /s3[^\n]*?(http:\/\/[^\s)]+)/i.exec(startup)?.[1] : nativeUrl;
  if (endpoint === undefined) return { skip: 'S3 front: --s3-port given but no S3 URL in the startup lines' };
  if (plan.credentialsPassed) return { kind: 's3', endpoint, accessKeyId: BENCH_ACCESS_KEY, secretAccessKey: BENCH_SECRET, bucket: 'bench' };
  const key = /access[_ -]?key[_ -]?(?:id)?\s*[:=]\s*"?([A-Za-z0-9/+=_-]{8,})/i.exec(startup)?.[1];
  const secret = /secret[_ -]?(?:access[_ -]?)?key\s*[:=]\s*"?([A-Za-z0-9/+=_-]{8,})/i.exec(startup)?.[1];
  if (key === undefined || secret === undefined) return { skip: 'S3 front: no way to pass credentials (no access-key/secret option) and none printed at startup' };
  return { kind: 's3', endpoint, accessKeyId: key, secretAccessKey: secret, bucket: 'bench' };
}

async function waitFor(path: string, pattern: RegExp, dead: () => boolean): Promise<string> {
  const start = performance.now();
  for (;;) {
    const text = readFileSync(path, 'utf8');
    // Give the lines after the match (credentials, the S3 URL) a moment to arrive.
    if (pattern.test(text)) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return readFileSync(path, 'utf8');
    }
    if (dead()) throw new Error(`shardstore serve exited: ${text.slice(-2000)}`);
    if (performance.now() - start > STARTUP_TIMEOUT_MS) throw new Error(`shardstore serve did not start within ${STARTUP_TIMEOUT_MS} ms: ${text.slice(-2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Wait until the new server's background preparation of its data files is
 * over (serve's default --prepare-ahead all zero-fills the sparse files
 * while the store is idle, host_space.ts): their allocated bytes (stat
 * blocks) stop growing for `quietMs`. Every cell, ours and the peers', then
 * runs beside no zeros of ours, on the store a server is once it has been
 * up for a minute. Returns the seconds waited; at most `maxMs`.
 */
export async function waitForPreparation(dataDir: string, quietMs = 2_000, maxMs = 300_000): Promise<number> {
  const started = performance.now();
  const pollMs = 250;
  let last = -1;
  let quietSince = started;
  while (performance.now() - started < maxMs) {
    const names = (await readdir(dataDir)).filter((n) => /^disk-\d+\.dat$/.test(n));
    let allocated = 0;
    for (const n of names) allocated += (await stat(join(dataDir, n))).blocks * 512;
    const now = performance.now();
    if (allocated !== last) {
      last = allocated;
      quietSince = now;
    } else if (now - quietSince >= quietMs) {
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  return (performance.now() - started) / 1000;
}

