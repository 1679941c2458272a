// Where an admin command works: on the data files directly (offline: the
// command takes the files' locks, so it is refused while a server runs on
// them; disk/disk_lock.ts), or on a running
// server through its /v1/admin/ endpoints (--url). One options table for
// every admin command, so they read alike.
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { Readable } from 'node:stream';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_S3_REGION, parseCredentialsFile } from '../server/index.js';
import { HeaderSigner } from './bench_sigv4.js';
import type { S3KeyPair } from './bench_sigv4.js';
import { DEFAULT_DATA_DIR } from './serve_options.js';
import { UsageError } from './usage_error.js';

export interface AdminOptionSpec {
  readonly name: string;
  readonly value?: string;
  readonly help: string;
  readonly multiple?: boolean;
}

/** The default credentials file: serve's, under its default data folder. */
export const DEFAULT_CREDENTIALS_FILE = `${DEFAULT_DATA_DIR}/credentials`;
const CREDENTIALS_ENV = 'SHARDSTORE_CREDENTIALS_FILE';

export const CREDENTIALS_OPTION: AdminOptionSpec = {
  name: 'credentials-file',
  value: 'file',
  help: `with --url: the node's key pairs, its first one signs (default $${CREDENTIALS_ENV}, else ${DEFAULT_CREDENTIALS_FILE})`,
};

export const TARGET_OPTIONS: readonly AdminOptionSpec[] = [
  { name: 'data-dir', value: 'dir', help: `work offline on the data files <dir>/disk-N.dat (refused while a server runs; default ${DEFAULT_DATA_DIR}, as for serve)` },
  { name: 'path', value: 'file', help: 'work offline on these data files or devices (repeat, in disk order)', multiple: true },
  { name: 'disks', value: 'n', help: 'with --data-dir: the number of disks (default: the disk-N.dat files found)' },
  { name: 'url', value: 'url', help: 'work through a running server, e.g. http://127.0.0.1:7380' },
  CREDENTIALS_OPTION,
];

/** A running server, and the key pair that signs requests to it (none: the credentials file is missing; requests go unsigned). */
export interface ServerTarget {
  readonly kind: 'url';
  readonly url: string;
  readonly keys: S3KeyPair | undefined;
  readonly credentialsFile: string;
}

export type Target = ServerTarget | { readonly kind: 'files'; readonly dataDir: string; readonly paths: readonly string[] };

export type Flags = Record<string, string | boolean | string[] | undefined>;

export function parseFlags(argv: readonly string[], specs: readonly AdminOptionSpec[], positionals = false): { flags: Flags; positionals: string[] } {
  const options = Object.fromEntries(
    specs.map((o) => [o.name, o.value === undefined ? { type: 'boolean' as const } : o.multiple === true ? { type: 'string' as const, multiple: true } : { type: 'string' as const }]),
  );
  try {
    const parsed = parseArgs({ args: [...argv], options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: positionals });
    return { flags: parsed.values, positionals: parsed.positionals };
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

export function stringFlag(flags: Flags, name: string): string | undefined {
  const v = flags[name];
  return typeof v === 'string' ? v : undefined;
}

/**
 * The target of the command: --url, or the data files (--path, or
 * --data-dir, by default ./data as for `serve`). `specs` are the command's
 * options: a usage error names only the target options it accepts.
 */
export function targetOf(flags: Flags, env: NodeJS.ProcessEnv, specs: readonly AdminOptionSpec[]): Target {
  const url = stringFlag(flags, 'url');
  const dataDir = stringFlag(flags, 'data-dir');
  const paths = flags['path'];
  const given = [url !== undefined, dataDir !== undefined, Array.isArray(paths) && paths.length > 0].filter((g) => g).length;
  if (given > 1) {
    const names = specs.filter((o) => ['url', 'data-dir', 'path'].includes(o.name)).map((o) => `--${o.name}`);
    throw new UsageError(`give only one of ${names.slice(0, -1).join(', ')} or ${names.at(-1) ?? ''}`);
  }
  if (url !== undefined) {
    return serverTarget(url, flags, env);
  }
  if (Array.isArray(paths) && paths.length > 0) return { kind: 'files', dataDir: '.', paths };
  const dir = dataDir ?? DEFAULT_DATA_DIR;
  return { kind: 'files', dataDir: dir, paths: diskFiles(dir, stringFlag(flags, 'disks'), dataDir === undefined) };
}

/** --url with the key pair of --credentials-file (or its default). */
export function serverTarget(url: string, flags: Flags, env: NodeJS.ProcessEnv): ServerTarget {
  if (!/^https?:\/\/[^/]+\/?$/.test(url)) throw new UsageError(`--url: expected http://host:port, got ${JSON.stringify(url)}`);
  const credentialsFile = credentialsFileOf(flags, env);
  return { kind: 'url', url: url.replace(/\/$/, ''), keys: firstKeyPair(credentialsFile), credentialsFile };
}

/** --credentials-file, else $SHARDSTORE_CREDENTIALS_FILE, else serve's default. */
export function credentialsFileOf(flags: Flags, env: NodeJS.ProcessEnv): string {
  const fromEnv = env[CREDENTIALS_ENV];
  return stringFlag(flags, 'credentials-file') ?? (fromEnv === undefined || fromEnv === '' ? DEFAULT_CREDENTIALS_FILE : fromEnv);
}

/** The first key pair of a credentials file; undefined if there is no such file. */
export function firstKeyPair(file: string): S3KeyPair | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'ENOENT') return undefined;
    throw new UsageError(`--credentials-file ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const first = parseCredentialsFile(text)[0];
  if (first === undefined) throw new UsageError(`--credentials-file ${file} holds no aws_access_key_id / aws_secret_access_key pair`);
  return first;
}

function diskFiles(dir: string, disksText: string | undefined, defaulted: boolean): string[] {
  if (disksText !== undefined) {
    const n = /^[0-9]{1,3}$/.test(disksText) ? Number(disksText) : 0;
    if (n < 1) throw new UsageError(`--disks: expected 1..999, got ${JSON.stringify(disksText)}`);
    return Array.from({ length: n }, (_, i) => join(dir, `disk-${i}.dat`));
  }
  const out: string[] = [];
  while (existsSync(join(dir, `disk-${out.length}.dat`))) out.push(join(dir, `disk-${out.length}.dat`));
  if (out.length === 0) {
    const hint = defaulted ? `(the default --data-dir ${dir}, as for serve): give --data-dir <dir> or --path <file>` : 'give --disks if the first one is missing';
    throw new UsageError(`no data file ${join(dir, 'disk-0.dat')} ${hint}`);
  }
  return out;
}

/** The options of a command that works on data files only (fsck, inspect, repair). */
export const OFFLINE_TARGET_OPTIONS: readonly AdminOptionSpec[] = TARGET_OPTIONS.filter((o) => o.name !== 'url' && o !== CREDENTIALS_OPTION);

export function offlineTargetHelp(): string[] {
  return targetHelp().filter((l) => !l.includes('--url') && !l.includes('--credentials-file'));
}

export function targetHelp(): string[] {
  return TARGET_OPTIONS.map((o) => `  ${`--${o.name} <${o.value ?? ''}>`.padEnd(26)}${o.help}`);
}

export interface HttpAnswer {
  readonly status: number;
  readonly body: Readable;
}

/** One request to the server at `target` (path and query), signed with its key pair if it has one; `body` streams the request body. */
export function request(server: ServerTarget, target: string, method: string, body?: Readable): Promise<HttpAnswer> {
  const url = server.url + target;
  const headers = server.keys === undefined ? {} : new HeaderSigner(server.keys, new URL(url).host, DEFAULT_S3_REGION).sign(method, target);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => resolve({ status: res.statusCode ?? 0, body: res }));
    req.on('error', reject);
    if (body === undefined) req.end();
    else body.on('error', (err) => req.destroy(err)).pipe(req);
  });
}

export async function readAll(body: Readable): Promise<string> {
  const parts: Buffer[] = [];
  for await (const piece of body) parts.push(Buffer.isBuffer(piece) ? piece : Buffer.from(String(piece)));
  return Buffer.concat(parts).toString('utf8');
}

/** A JSON answer; a non-2xx status throws with the server's error message. */
export async function requestJson(server: ServerTarget, target: string, method: string, body?: Readable): Promise<unknown> {
  const answer = await request(server, target, method, body);
  const text = await readAll(answer.body);
  if (answer.status < 200 || answer.status > 299) throw new Error(`${method} ${server.url}${target}: ${answer.status} ${errorText(text)}${authHint(server, answer.status)}`);
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

/** What to do about a refused signature, told where the key pair came from. */
export function authHint(server: ServerTarget, status: number): string {
  if (status !== 401 && status !== 403) return '';
  return server.keys === undefined
    ? ` (no credentials file at ${server.credentialsFile}: give --credentials-file <data-dir>/credentials of the node)`
    : ` (signed with the first key pair of ${server.credentialsFile})`;
}

function errorText(text: string): string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    void err; // not JSON: show the answer as it came
    return text;
  }
  return typeof body === 'object' && body !== null && 'error' in body ? JSON.stringify(body.error) : text;
}
