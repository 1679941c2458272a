// Where an admin command works: on the data files directly (offline: the
// command takes the files' locks, so it is refused while a server runs on
// them; disk/disk_lock.ts), or on a running
// server through its /v1/admin/ endpoints (--url). One options table for
// every admin command, so they read alike.
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { Readable } from 'node:stream';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from './usage_error.js';

export interface AdminOptionSpec {
  readonly name: string;
  readonly value?: string;
  readonly help: string;
  readonly multiple?: boolean;
}

export const TARGET_OPTIONS: readonly AdminOptionSpec[] = [
  { name: 'data-dir', value: 'dir', help: 'work offline on the data files <dir>/disk-N.dat (refused while a server runs)' },
  { name: 'path', value: 'file', help: 'work offline on these data files or devices (repeat, in disk order)', multiple: true },
  { name: 'disks', value: 'n', help: 'with --data-dir: the number of disks (default: the disk-N.dat files found)' },
  { name: 'url', value: 'url', help: 'work through a running server, e.g. http://127.0.0.1:7380' },
];

export type Target = { readonly kind: 'url'; readonly url: string } | { readonly kind: 'files'; readonly dataDir: string; readonly paths: readonly string[] };

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

/** The target of the command: --url, or the data files. */
export function targetOf(flags: Flags): Target {
  const url = stringFlag(flags, 'url');
  const dataDir = stringFlag(flags, 'data-dir');
  const paths = flags['path'];
  const given = [url !== undefined, dataDir !== undefined, Array.isArray(paths) && paths.length > 0].filter((g) => g).length;
  if (given !== 1) throw new UsageError('give exactly one of --url, --data-dir or --path');
  if (url !== undefined) {
    if (!/^https?:\/\/[^/]+\/?$/.test(url)) throw new UsageError(`--url: expected http://host:port, got ${JSON.stringify(url)}`);
    return { kind: 'url', url: url.replace(/\/$/, '') };
  }
  if (Array.isArray(paths) && paths.length > 0) return { kind: 'files', dataDir: '.', paths };
  const dir = dataDir ?? '.';
  return { kind: 'files', dataDir: dir, paths: diskFiles(dir, stringFlag(flags, 'disks')) };
}

function diskFiles(dir: string, disksText: string | undefined): string[] {
  if (disksText !== undefined) {
    const n = /^[0-9]{1,3}$/.test(disksText) ? Number(disksText) : 0;
    if (n < 1) throw new UsageError(`--disks: expected 1..999, got ${JSON.stringify(disksText)}`);
    return Array.from({ length: n }, (_, i) => join(dir, `disk-${i}.dat`));
  }
  const out: string[] = [];
  while (existsSync(join(dir, `disk-${out.length}.dat`))) out.push(join(dir, `disk-${out.length}.dat`));
  if (out.length === 0) throw new UsageError(`no data file ${join(dir, 'disk-0.dat')}; give --disks if the first one is missing`);
  return out;
}

export function targetHelp(): string[] {
  return TARGET_OPTIONS.map((o) => `  ${`--${o.name} <${o.value ?? ''}>`.padEnd(26)}${o.help}`);
}

export interface HttpAnswer {
  readonly status: number;
  readonly body: Readable;
}

/** One request to the server; `body` streams the request body. */
export function request(url: string, method: string, body?: Readable): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method }, (res) => resolve({ status: res.statusCode ?? 0, body: res }));
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
export async function requestJson(url: string, method: string, body?: Readable): Promise<unknown> {
  const answer = await request(url, method, body);
  const text = await readAll(answer.body);
  const parsed: unknown = text === '' ? undefined : JSON.parse(text);
  if (answer.status < 200 || answer.status > 299) throw new Error(`${method} ${url}: ${answer.status} ${errorText(parsed) ?? text}`);
  return parsed;
}

function errorText(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || !('error' in body)) return undefined;
  return JSON.stringify(body.error);
}
