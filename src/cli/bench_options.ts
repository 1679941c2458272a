// What `shardstore bench` is told: the endpoint of a running node, which
// APIs, value sizes and in-flight counts to measure, for how long each, and
// the S3 key pair. Pure function of argv and env (tested without a server).
import { CREDENTIALS_OPTION, credentialsFileOf, firstKeyPair, parseFlags, stringFlag } from './admin_target.js';
import { KEY_BUDGET_BYTES, MAX_BENCH_KEYS } from './bench_keys.js';
import type { BenchApi } from './bench_keys.js';
import type { S3KeyPair } from './bench_sigv4.js';
import type { AdminOptionSpec } from './admin_target.js';
import { formatDurationMs, formatSizeBytes, parseDurationMs, parseSizeBytes } from './units.js';
import { UsageError } from './usage_error.js';

export interface BenchConfig {
  /** http://host:port, no trailing slash. */
  readonly endpoint: string;
  readonly apis: readonly BenchApi[];
  readonly sizesBytes: readonly number[];
  readonly inFlights: readonly number[];
  /** Of each cell (one op at one size and one in-flight count). */
  readonly durationMs: number;
  readonly credentials: S3KeyPair | undefined;
  readonly bucket: string;
  readonly json: boolean;
  readonly keep: boolean;
}

// Limits: every worker holds one value in memory, and the server's default
// connection limit is 1024.
const MAX_IN_FLIGHT = 1024;
const MAX_SIZE_BYTES = 1024 ** 3;
const MAX_CLIENT_BUFFER_BYTES = 4 * 1024 ** 3;
const MAX_DURATION_MS = 3_600_000;
const MAX_LIST_ITEMS = 16;

export const DEFAULT_BUCKET = 'shardstore-bench';
const DEFAULTS = { sizes: '4KiB,1MiB', inflight: '1,16,64', duration: '2s' } as const;

const OPTIONS: readonly AdminOptionSpec[] = [
  { name: 'endpoint', value: 'url', help: 'the running node, e.g. http://127.0.0.1:7380 (required)' },
  { name: 'api', value: 'native|s3|both', help: 'which API to load (default: both with an S3 key pair, else native)' },
  { name: 'sizes', value: 'list', help: `value sizes, comma-separated (default ${DEFAULTS.sizes})` },
  { name: 'inflight', value: 'list', help: `requests in flight, comma-separated (default ${DEFAULTS.inflight})` },
  { name: 'duration', value: 'time', help: `of each PUT and each GET cell (default ${DEFAULTS.duration})` },
  { name: 'access-key-id', value: 'id', help: 'S3 access key id (default: $AWS_ACCESS_KEY_ID)' },
  { name: 'secret-access-key', value: 'key', help: 'S3 secret (default: $AWS_SECRET_ACCESS_KEY; prefer the variable)' },
  { ...CREDENTIALS_OPTION, help: 'without a key pair above: the first one of this file signs (default $SHARDSTORE_CREDENTIALS_FILE, else ./data/credentials)' },
  { name: 'bucket', value: 'name', help: `S3 bucket, created if missing (default ${DEFAULT_BUCKET})` },
  { name: 'json', help: 'print the result as JSON (progress still goes to stderr)' },
  { name: 'keep', help: 'do not delete the objects written (nor a bucket this run created)' },
];

export function benchHelp(): string {
  const option = (o: AdminOptionSpec): string => `  ${`--${o.name}${o.value === undefined ? '' : ` <${o.value}>`}`.padEnd(34)}${o.help}`;
  return [
    'Usage: shardstore bench --endpoint <url> [--api native|s3|both] [--sizes 4KiB,1MiB] [--inflight 1,16,64]',
    '                        [--duration 2s] [--access-key-id <id> --secret-access-key <key>] [--bucket <name>]',
    '                        [--json] [--keep]',
    '',
    'Measure a running node from this machine: for each API, value size and in-flight count, a',
    'closed loop of PUTs for --duration, then one of GETs of the objects just written. Every GET',
    'is checked byte for byte (length, and a stamp naming the key at both ends): a wrong answer',
    'fails the run. Prints a line per cell, then requests/s, MB/s, p50/p99 latency and errors.',
    '',
    'It writes only keys of its own, so it never touches user data: native shards under',
    '"shardstore-bench/<run id>/", S3 objects under the same prefix in --bucket. PUTs overwrite',
    `their keys in turn: at most ${MAX_BENCH_KEYS} keys and ${formatSizeBytes(KEY_BUDGET_BYTES)} per API and size (but one key per request`,
    'in flight at least). At the end it deletes every key it wrote, and the bucket if it created it,',
    'also after a failure or Ctrl-C (not with --keep). Existing keys are never read or changed.',
    '',
    'Options:',
    ...OPTIONS.map(option),
    `  ${'-h, --help'.padEnd(34)}show this help`,
    '',
    'Exit status: 0 every request answered and verified, 1 errors, a wrong answer or an',
    'unreachable node, 2 usage error.',
  ].join('\n');
}

/** The configuration, or 'help'. Throws UsageError. */
export function parseBenchArgs(argv: readonly string[], env: NodeJS.ProcessEnv): BenchConfig | 'help' {
  const { flags } = parseFlags(argv, OPTIONS);
  if (flags['help'] === true) return 'help';
  // One key pair signs both APIs (the node's key pairs sign the native API too).
  const credentials =
    keyPair(stringFlag(flags, 'access-key-id') ?? env['AWS_ACCESS_KEY_ID'], stringFlag(flags, 'secret-access-key') ?? env['AWS_SECRET_ACCESS_KEY']) ??
    firstKeyPair(credentialsFileOf(flags, env));
  const apis = apisOf(stringFlag(flags, 'api'), credentials !== undefined);
  if (apis.includes('s3') && credentials === undefined) {
    throw new UsageError('--api s3 needs a key pair: --access-key-id and --secret-access-key (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)');
  }
  const sizesBytes = listOf(stringFlag(flags, 'sizes') ?? DEFAULTS.sizes, 'sizes', (t) => inRange(parseSizeBytes(t, 'sizes'), 1, MAX_SIZE_BYTES, 'sizes', formatSizeBytes));
  const inFlights = listOf(stringFlag(flags, 'inflight') ?? DEFAULTS.inflight, 'inflight', (t) => inRange(integer(t), 1, MAX_IN_FLIGHT, 'inflight', String));
  const clientBytes = Math.max(...sizesBytes) * Math.max(...inFlights);
  if (clientBytes > MAX_CLIENT_BUFFER_BYTES) {
    throw new UsageError(`largest size x largest inflight is ${formatSizeBytes(clientBytes)} of buffers here; at most ${formatSizeBytes(MAX_CLIENT_BUFFER_BYTES)}`);
  }
  const bucket = stringFlag(flags, 'bucket') ?? DEFAULT_BUCKET;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new UsageError(`--bucket: not an S3 bucket name: ${JSON.stringify(bucket)}`);
  return {
    endpoint: endpointOf(stringFlag(flags, 'endpoint')),
    apis,
    sizesBytes,
    inFlights,
    durationMs: inRange(parseDurationMs(stringFlag(flags, 'duration') ?? DEFAULTS.duration, 'duration'), 1, MAX_DURATION_MS, 'duration', formatDurationMs),
    credentials,
    bucket,
    json: flags['json'] === true,
    keep: flags['keep'] === true,
  };
}

function endpointOf(text: string | undefined): string {
  if (text === undefined) throw new UsageError('--endpoint is required, e.g. --endpoint http://127.0.0.1:7380');
  if (/^https:/i.test(text)) throw new UsageError('--endpoint: https is not supported; give the http:// address of the node');
  if (!/^http:\/\/[^/?#]+\/?$/i.test(text)) throw new UsageError(`--endpoint: expected http://host:port, got ${JSON.stringify(text)}`);
  return text.replace(/\/$/, '');
}

function keyPair(accessKeyId: string | undefined, secretAccessKey: string | undefined): S3KeyPair | undefined {
  const given = (accessKeyId ?? '') !== '' || (secretAccessKey ?? '') !== '';
  if (!given) return undefined;
  if (accessKeyId === undefined || accessKeyId === '' || secretAccessKey === undefined || secretAccessKey === '') {
    throw new UsageError('give both the access key id and the secret access key (flags or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)');
  }
  return { accessKeyId, secretAccessKey };
}

function apisOf(text: string | undefined, haveKeys: boolean): BenchApi[] {
  switch (text) {
    case undefined:
      return haveKeys ? ['native', 's3'] : ['native'];
    case 'native':
    case 's3':
      return [text];
    case 'both':
      return ['native', 's3'];
    default:
      throw new UsageError(`--api: expected native, s3 or both, got ${JSON.stringify(text)}`);
  }
}

function listOf(text: string, what: string, parse: (item: string) => number): number[] {
  const items = text.split(',').map((t) => t.trim());
  if (items.length > MAX_LIST_ITEMS || items.some((t) => t === '')) throw new UsageError(`--${what}: expected 1 to ${MAX_LIST_ITEMS} comma-separated values, got ${JSON.stringify(text)}`);
  return [...new Set(items.map(parse))];
}

function integer(text: string): number {
  if (!/^[0-9]{1,7}$/.test(text)) throw new UsageError(`--inflight: expected whole numbers, got ${JSON.stringify(text)}`);
  return Number(text);
}

function inRange(value: number, min: number, max: number, what: string, show: (n: number) => string): number {
  if (value < min || value > max) throw new UsageError(`--${what}: ${show(value)} is out of range ${show(min)}..${show(max)}`);
  return value;
}
