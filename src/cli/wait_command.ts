// `shardstore wait`: return once the node just started answers, for scripts
// and the README (`npm start &` then `npx shardstore wait --pid $!`).
//
// "Answers" means this node, not whoever owns the port: after /healthz
// says 200, a request signed with the first key pair of the node's
// credentials file (the one `serve` just wrote or read) must be accepted.
// Only a node holding that secret accepts it; another server on the port
// refuses it (another shardstore: 403 InvalidAccessKeyId) or does not speak
// the API at all, and `wait` says so in one line instead of returning.
// Limits: a node started with --insecure-no-auth accepts any signature on
// the native API, so there the check proves only "a shardstore node".
//
// With --pid (the server's process), a server that exits before it is ready
// (port in use, data files locked, bad option) fails the wait at once.
//
// Exit: 0 ready; 1 not ready within --timeout, the server exited, or the
// port belongs to another server; 2 usage.
import http from 'node:http';
import type { OutgoingHttpHeaders } from 'node:http';
import type { S3KeyPair } from './bench_sigv4.js';
import { HeaderSigner } from './bench_sigv4.js';
import { credentialsFileOf, CREDENTIALS_OPTION, firstKeyPair, parseFlags, stringFlag } from './admin_target.js';
import type { AdminOptionSpec } from './admin_target.js';
import type { CliIo, Command } from './command.js';
import { DEFAULT_PORT } from './serve_options.js';
import { formatDurationMs, parseDurationMs } from './units.js';
import { EXIT_FAILURE, EXIT_OK, UsageError } from './usage_error.js';

const DEFAULT_URL = `http://127.0.0.1:${DEFAULT_PORT}`;
const DEFAULT_TIMEOUT_MS = 30_000;
const POLL_MS = 100;

const OPTIONS: readonly AdminOptionSpec[] = [
  { name: 'url', value: 'url', help: `the node to wait for (default ${DEFAULT_URL})` },
  CREDENTIALS_OPTION,
  { name: 'pid', value: 'pid', help: 'the server process (e.g. $! after `npm start &`): fail at once if it exits' },
  { name: 'timeout', value: 'duration', help: `give up after this long (default ${formatDurationMs(DEFAULT_TIMEOUT_MS)})` },
];

export function waitHelp(): string {
  return [
    'Usage: shardstore wait [--url <url>] [--credentials-file <file>] [--pid <pid>] [--timeout <duration>]',
    '',
    'Wait until the node at --url is ready and is the node of --credentials-file: /healthz',
    'answers 200 and a request signed with the first key pair of that file is accepted',
    '(another server owning the port is told apart: it cannot accept the signature).',
    'Prints one line when ready. With --pid, a server process that exits first fails the wait',
    'at once.',
    '',
    'Options:',
    ...OPTIONS.map((o) => `  ${`--${o.name} <${o.value ?? ''}>`.padEnd(26)}${o.help}`),
    `  ${'-h, --help'.padEnd(26)}show this help`,
    '',
    'Exit status: 0 ready, 1 not ready (timeout, the server exited, another server has the port), 2 usage error.',
  ].join('\n');
}

/** Why the wait ends without success: `final` ends it now; otherwise it is retried until the timeout. */
interface NotReady {
  readonly final: boolean;
  readonly why: string;
}

export const waitCommand: Command = {
  summary: 'wait until the node just started answers (and is this node, not another server on the port)',
  help: waitHelp,
  async run(argv: readonly string[], io: CliIo): Promise<number> {
    const { flags } = parseFlags(argv, OPTIONS);
    if (flags['help'] === true) {
      io.out(waitHelp());
      return EXIT_OK;
    }
    const url = (stringFlag(flags, 'url') ?? DEFAULT_URL).replace(/\/$/, '');
    if (!/^http:\/\/[^/]+$/.test(url)) throw new UsageError(`--url: expected http://host:port, got ${JSON.stringify(url)}`);
    const pid = pidOf(stringFlag(flags, 'pid'));
    const timeoutText = stringFlag(flags, 'timeout');
    const timeoutMs = timeoutText === undefined ? DEFAULT_TIMEOUT_MS : parseDurationMs(timeoutText, 'timeout');
    const credentialsFile = credentialsFileOf(flags, io.env);
    const deadline = performance.now() + timeoutMs;
    let last: NotReady = { final: false, why: `nothing answered at ${url}` };
    for (;;) {
      if (pid !== undefined && !alive(pid)) {
        io.err(`shardstore wait: the server process ${pid} exited before ${url} was ready (its output says why)`);
        return EXIT_FAILURE;
      }
      const remainingMs = deadline - performance.now();
      const outcome = await probe(url, credentialsFile, Math.max(1, remainingMs));
      if (outcome === 'ready') {
        io.out(`shardstore wait: ${url} is ready (the node of ${credentialsFile})`);
        return EXIT_OK;
      }
      last = outcome;
      if (outcome.final) break;
      if (performance.now() + POLL_MS >= deadline) {
        io.err(`shardstore wait: ${url} not ready after ${formatDurationMs(timeoutMs)}: ${last.why}`);
        return EXIT_FAILURE;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    io.err(`shardstore wait: ${last.why}`);
    return EXIT_FAILURE;
  },
};

function pidOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const pid = /^[1-9][0-9]{0,9}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(pid)) throw new UsageError(`--pid: expected a process id, got ${JSON.stringify(text)}`);
  return pid;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, but belongs to someone else.
    return err instanceof Error && 'code' in err && err.code === 'EPERM';
  }
}

/** One round: /healthz, then the signed identity check. */
async function probe(url: string, credentialsFile: string, timeoutMs: number): Promise<'ready' | NotReady> {
  const health = await get(url, '/healthz', {}, timeoutMs);
  if (typeof health === 'string') return { final: false, why: `${url}: ${health}` };
  if (health.status === 503) return { final: false, why: `${url}/healthz answers 503 (starting or shutting down)` };
  if (health.status !== 200 || !/"ok":/.test(health.body)) {
    return { final: true, why: `${url} is not a shardstore node (GET /healthz answered ${health.status}): another server owns the port; stop it, or start the node with --port <n> and wait with --url` };
  }
  const keys = firstKeyPair(credentialsFile);
  if (keys === undefined) return { final: false, why: `${url} answers, but there is no credentials file ${credentialsFile} to tell whether it is this node (give --credentials-file <data-dir>/credentials)` };
  return identify(url, keys, credentialsFile, timeoutMs);
}

/** Accepted signed requests: the native listing, else (native API off) S3's ListBuckets. */
async function identify(url: string, keys: S3KeyPair, credentialsFile: string, timeoutMs: number): Promise<'ready' | NotReady> {
  const host = new URL(url).host;
  const signer = new HeaderSigner(keys, host, 'us-east-1');
  const answers: string[] = [];
  for (const [target, accepted] of [
    ['/v1/shards?limit=1', (body: string): boolean => body.includes('"shards"')],
    ['/', (body: string): boolean => body.includes('ListAllMyBucketsResult')],
  ] as const) {
    const answer = await get(url, target, signer.sign('GET', target), timeoutMs);
    if (typeof answer === 'string') return { final: false, why: `${url}: ${answer}` };
    if (answer.status === 200 && accepted(answer.body)) return 'ready';
    if (answer.status === 401 || answer.status === 403) {
      return { final: true, why: `${url} refuses the key pair of ${credentialsFile} (${answer.status} ${errorCode(answer.body)}): it is another node, not the one of this credentials file; stop it, or start this node with --port <n> and wait with --url` };
    }
    answers.push(`GET ${target}: ${answer.status}`);
  }
  return { final: true, why: `${url} answers /healthz but neither a signed listing nor ListBuckets (${answers.join(', ')}): is it a shardstore node with --native-api and --s3 off?` };
}

function errorCode(body: string): string {
  return /"code":"([A-Za-z]+)"/.exec(body)?.[1] ?? /<Code>([A-Za-z]+)<\/Code>/.exec(body)?.[1] ?? 'refused';
}

/** A GET; a string says why there was no answer (refused, reset, timed out). */
function get(url: string, target: string, headers: OutgoingHttpHeaders, timeoutMs: number): Promise<{ status: number; body: string } | string> {
  return new Promise((resolve) => {
    const req = http.get(url + target, { headers, timeout: timeoutMs }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (piece: Buffer) => parts.push(piece));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8') }));
      res.on('error', (err) => resolve(err.message));
    });
    req.on('timeout', () => req.destroy(new Error('no answer in time')));
    req.on('error', (err) => resolve('code' in err && typeof err.code === 'string' ? `${err.code} (${err.message})` : err.message));
  });
}
