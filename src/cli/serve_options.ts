// Options of `shardstore serve`: one table drives parsing, environment
// variables and --help, so the three cannot drift apart.
//
// Precedence: command-line flag, then SHARDSTORE_<NAME> (the flag name in
// upper case, '-' as '_'), then the default. An empty variable counts as unset.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_HOST_NAMES, DEFAULT_S3_DOMAINS, DEFAULT_S3_REGION, DEFAULT_SERVER_OPTIONS, DEFAULT_UPLOAD_EXPIRY_MS, DEFAULT_LIFECYCLE_INTERVAL_MS } from '../server/index.js';
import type { ShardServerOptions } from '../server/index.js';
import { DEFAULT_CACHE_BYTES, DEFAULT_PREPARE_AHEAD_EXTENTS } from '../store/index.js';
import type { PrepareAhead } from '../store/index.js';
import type { NodeOpenOptions } from '../node/index.js';
import { formatDurationMs, formatSizeBytes, parseDurationMs, parseSizeBytes } from './units.js';
import { UsageError } from './usage_error.js';

/** The native API's default port: clear of 8080/8000 (everything), 9000 (MinIO), 7480 (Ceph RGW), 8333 (SeaweedFS), 3900 (Garage), 4566 (LocalStack), and below the ephemeral range. */
export const DEFAULT_PORT = 7380;
export const MAX_DISKS = 256;
/** Bound of a count given to --prepare-ahead: 1,024 extents (64 GiB of 64 MiB extents); more is `all`. */
export const MAX_PREPARE_AHEAD_EXTENTS = 1024;
/** Where serve keeps its data files; the offline tools (fsck, inspect, ...) look there too when given no target. */
export const DEFAULT_DATA_DIR = './data';

interface OptionSpec {
  readonly name: string;
  /** Undefined: a flag without a value (its variable takes on/off). */
  readonly value?: string;
  readonly help: string;
  readonly defaultText?: string;
}

const OPTIONS: readonly OptionSpec[] = [
  { name: 'data-dir', value: 'dir', help: 'folder of the data files (created if missing)', defaultText: DEFAULT_DATA_DIR },
  { name: 'disks', value: 'n', help: `number of disks (data files), 1..${MAX_DISKS}; fixed at creation`, defaultText: '1' },
  { name: 'disk-size', value: 'size', help: 'size of each data file when created (sparse unless --preallocate on)', defaultText: '16GiB' },
  { name: 'preallocate', value: 'on|off', help: 'write each data file whole when creating it: slow to create, faster durable writes after', defaultText: 'off' },
  { name: 'prepare-ahead', value: 'n|all', help: 'free extents kept zero-filled on the host ahead of puts, so a sparse file writes at preallocated speed: a few before a new store starts, the rest in the background while the store is idle (beside the puts once they have taken them all); all: every free extent, a one-time fill of the file that leaves the host file system 5% (at most 4GiB) free (0: off; a preallocated file or a block device needs none)', defaultText: String(DEFAULT_PREPARE_AHEAD_EXTENTS) },
  { name: 'extent-size', value: 'size', help: 'extent size when created', defaultText: '64MiB' },
  { name: 'cache-size', value: 'size', help: 'buffer cache of verified chunks, per disk', defaultText: formatSizeBytes(DEFAULT_CACHE_BYTES) },
  { name: 'path', value: 'file', help: 'a data file or block device instead of <data-dir>/disk-N.dat; repeat for more disks (env: comma-separated)' },
  { name: 'host', value: 'addr', help: 'address to listen on (0.0.0.0 for every interface)', defaultText: '127.0.0.1' },
  { name: 'port', value: 'n', help: 'TCP port of the native API (0: any free port)', defaultText: String(DEFAULT_PORT) },
  { name: 'headers-timeout', value: 'duration', help: 'time allowed to send the request headers', defaultText: formatDurationMs(DEFAULT_SERVER_OPTIONS.headersTimeoutMs) },
  { name: 'request-timeout', value: 'duration', help: 'time allowed to send a whole request, body included (0: none)', defaultText: formatDurationMs(DEFAULT_SERVER_OPTIONS.requestTimeoutMs) },
  { name: 'idle-timeout', value: 'duration', help: 'close a connection silent for this long (0: never)', defaultText: formatDurationMs(DEFAULT_SERVER_OPTIONS.idleTimeoutMs) },
  { name: 'max-header-size', value: 'size', help: 'largest request line plus headers', defaultText: formatSizeBytes(DEFAULT_SERVER_OPTIONS.maxHeaderSizeBytes) },
  { name: 'max-connections', value: 'n', help: 'at this many connections, a new one closes the longest-idle one or is refused', defaultText: String(DEFAULT_SERVER_OPTIONS.maxConnections) },
  { name: 'max-connections-per-client', value: 'n', help: 'the same cap for the connections of one remote address', defaultText: 'a quarter of --max-connections' },
  { name: 'shutdown-grace', value: 'duration', help: 'on SIGINT/SIGTERM, time for requests in flight to finish', defaultText: formatDurationMs(DEFAULT_SERVER_OPTIONS.shutdownGraceMs) },
  { name: 's3', value: 'on|off', help: 'serve the S3 API on every path but /v1/shards, /healthz, /metrics', defaultText: 'on' },
  { name: 'native-api', value: 'on|off', help: 'serve the native shard API under /v1/shards (signed requests only)', defaultText: 'on' },
  { name: 'insecure-no-auth', help: 'NO AUTHENTICATION on the native API, the control plane and /metrics: a trusted test network only (logged at every start)' },
  { name: 'metrics-auth', value: 'on|off', help: '/metrics needs a signature like the native API (off: open, it tells counts and sizes, no data)', defaultText: 'off' },
  { name: 'host-names', value: 'names', help: 'comma-separated names the Host header may carry (IP literals always pass; DNS rebinding guard)', defaultText: `${DEFAULT_HOST_NAMES.join(',')} and --host` },
  { name: 's3-region', value: 'name', help: 'region GetBucketLocation reports (requests signed for any region are accepted)', defaultText: DEFAULT_S3_REGION },
  { name: 's3-sigv2', value: 'on|off', help: 'serve S3 requests and POST forms signed with Signature Version 2 (off: 501; weaker than SigV4, docs/SECURITY.md)', defaultText: 'on' },
  { name: 's3-domain', value: 'names', help: 'comma-separated base domains of virtual-host requests (<bucket>.<domain>)', defaultText: DEFAULT_S3_DOMAINS.join(',') },
  { name: 's3-access-key', value: 'id', help: 'S3 access key id (with --s3-secret-key; else the credentials file)' },
  { name: 's3-secret-key', value: 'secret', help: 'S3 secret access key (prefer the environment variable: flags show in ps)' },
  { name: 'credentials-file', value: 'file', help: 'the node\'s key pairs for S3, the native API and the control plane (AWS credentials-file format), generated on first start if missing', defaultText: '<data-dir>/credentials' },
  { name: 's3-upload-expiry', value: 'duration', help: 'abort multipart uploads not completed within this time', defaultText: formatDurationMs(DEFAULT_UPLOAD_EXPIRY_MS) },
  { name: 's3-lifecycle-interval', value: 'duration', help: 'how often bucket lifecycle rules are applied (expirations, aborts; 0: never)', defaultText: formatDurationMs(DEFAULT_LIFECYCLE_INTERVAL_MS) },
];

/** The S3 front's settings as configured (credentials are resolved at start, see serve_command.ts). */
export interface S3Config {
  readonly enabled: boolean;
  readonly region: string;
  readonly domains: readonly string[];
  /** Signature Version 2 served (--s3-sigv2). */
  readonly sigv2: boolean;
  readonly uploadExpiryMs: number;
  readonly lifecycleIntervalMs: number;
  readonly credentialsFile: string;
  readonly accessKeyId: string | undefined;
  readonly secretAccessKey: string | undefined;
}

export interface ServeConfig {
  readonly node: NodeOpenOptions;
  readonly host: string;
  readonly port: number;
  readonly server: Omit<ShardServerOptions, 'logger' | 's3' | 'credentials'>;
  readonly s3: S3Config;
}

/**
 * The default of an option as the table (and so --help and the docs) states
 * it: parsing reads the same text, so what is documented is what runs.
 */
function tableDefault(name: string): string {
  const text = OPTIONS.find((o) => o.name === name)?.defaultText;
  if (text === undefined) throw new Error(`serve option --${name} has no default in the option table`);
  return text;
}

export function envName(option: string): string {
  return 'SHARDSTORE_' + option.toUpperCase().replaceAll('-', '_');
}

export function serveHelp(): string {
  const rows = OPTIONS.map((o) => {
    const left = o.value === undefined ? `  --${o.name}` : `  --${o.name} <${o.value}>`;
    const tail = o.defaultText === undefined ? '' : ` [default: ${o.defaultText}]`;
    return `${left.padEnd(34)}${o.help}${tail}\n${' '.repeat(34)}env ${envName(o.name)}`;
  });
  return [
    'Usage: shardstore serve [options]',
    '',
    'Open (or create) the node and serve it over HTTP on one port: the S3-compatible API',
    '(docs/S3.md) on every path except the node\'s own: /v1/shards (native shard API,',
    'docs/API.md), /v1/admin/ (control plane), /healthz and /metrics (Prometheus).',
    'Every API but /healthz (and /metrics, unless --metrics-auth on) needs AWS SigV4',
    'signatures by a key pair of the node (docs/SECURITY.md). The key pairs come from',
    '--s3-access-key/--s3-secret-key, else the credentials file; on first start with',
    'neither, a key pair is generated, saved there (mode 0600) and printed once.',
    'Stops cleanly on SIGINT or SIGTERM.',
    '',
    'Options (a flag wins over its environment variable, which wins over the default):',
    ...rows,
    `  ${'-h, --help'.padEnd(32)}show this help`,
    '',
    'Sizes: 4096, 512MiB, 10GiB (K/M/G/T and KiB..TiB are powers of 1024; KB..TB of 1000).',
    'Durations: 500ms, 30s, 5m, 1h, or 0.',
  ].join('\n');
}

/**
 * The serve options as a Markdown table (flag, variable, default, meaning),
 * straight from the option table: `npm run docs:options` writes it into
 * docs/API.md, and a test fails when the docs fall behind.
 */
export function serveOptionsMarkdown(): string {
  const cell = (text: string): string => text.replaceAll('|', '\\|');
  const rows = OPTIONS.map((o) => {
    const flag = o.value === undefined ? `\`--${o.name}\`` : `\`--${o.name} <${cell(o.value)}>\``;
    return `| ${flag} | \`${envName(o.name)}\` | ${o.defaultText === undefined ? '' : `\`${cell(o.defaultText)}\``} | ${cell(o.help)} |`;
  });
  return ['| Flag | Variable | Default | Meaning |', '|---|---|---|---|', ...rows].join('\n');
}

/** The default of a serve option as --help states it; undefined for an option without one. */
export function serveOptionDefault(name: string): string | undefined {
  return OPTIONS.find((o) => o.name === name)?.defaultText;
}

/** Parsed flags; `help` set means: print serveHelp() and stop. */
export function parseServeArgs(argv: readonly string[], env: NodeJS.ProcessEnv): ServeConfig | 'help' {
  const flags = parseFlags(argv);
  if (flags.help === true) return 'help';
  const pick = (name: string): string | undefined => {
    const flag = flags[name];
    if (typeof flag === 'string') return flag;
    const fromEnv = env[envName(name)];
    return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
  };
  const node = nodeOptions(pick, pathsOf(flags.path, env));
  return {
    node,
    host: pick('host') ?? tableDefault('host'),
    port: intInRange(pick('port') ?? tableDefault('port'), 'port', 0, 65535),
    server: {
      ...serverOptions(pick),
      nativeApi: onOff(pick('native-api'), 'native-api'),
      insecureNoAuth: flags['insecure-no-auth'] === true || onOff(env[envName('insecure-no-auth')] ?? 'off', 'insecure-no-auth'),
      metricsAuth: onOff(pick('metrics-auth') ?? tableDefault('metrics-auth'), 'metrics-auth'),
      hostNames: hostNamesOf(pick('host-names')),
    },
    s3: s3Config(pick, node.dataDir),
  };
}

function s3Config(pick: (name: string) => string | undefined, dataDir: string): S3Config {
  const expiry = pick('s3-upload-expiry');
  const domains = (pick('s3-domain') ?? DEFAULT_S3_DOMAINS.join(','))
    .split(',')
    .map((d) => d.trim().toLowerCase())
    .filter((d) => d !== '');
  return {
    enabled: onOff(pick('s3'), 's3'),
    region: pick('s3-region') ?? DEFAULT_S3_REGION,
    domains,
    sigv2: onOff(pick('s3-sigv2'), 's3-sigv2'),
    uploadExpiryMs: expiry === undefined ? DEFAULT_UPLOAD_EXPIRY_MS : parseDurationMs(expiry, 's3-upload-expiry'),
    lifecycleIntervalMs: parseDurationMs(pick('s3-lifecycle-interval') ?? tableDefault('s3-lifecycle-interval'), 's3-lifecycle-interval'),
    credentialsFile: pick('credentials-file') ?? join(dataDir, 'credentials'),
    accessKeyId: pick('s3-access-key'),
    secretAccessKey: pick('s3-secret-key'),
  };
}

function hostNamesOf(text: string | undefined): readonly string[] {
  if (text === undefined) return DEFAULT_HOST_NAMES;
  const names = text.split(',').map((n) => n.trim().toLowerCase()).filter((n) => n !== '');
  const bad = names.find((n) => !/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)$/.test(n));
  if (bad !== undefined) throw new UsageError(`host-names: ${JSON.stringify(bad)} is not a host name (no port, IPv6 in brackets)`);
  return names;
}

function onOff(text: string | undefined, what: string): boolean {
  if (text === undefined) return true;
  const value = text.trim().toLowerCase();
  if (['on', 'true', '1', 'yes'].includes(value)) return true;
  if (['off', 'false', '0', 'no'].includes(value)) return false;
  throw new UsageError(`${what}: expected on or off, got ${JSON.stringify(text)}`);
}

type Flags = Record<string, string | boolean | string[] | undefined>;

function parseFlags(argv: readonly string[]): Flags {
  const options = Object.fromEntries(
    OPTIONS.map((o) => [o.name, o.value === undefined ? { type: 'boolean' } : o.name === 'path' ? { type: 'string', multiple: true } : { type: 'string' }] as const),
  );
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    });
    return values;
  } catch (err) {
    // parseArgs throws TypeErrors with ERR_PARSE_ARGS_* codes for unknown or malformed flags.
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

function pathsOf(flag: Flags[string], env: NodeJS.ProcessEnv): string[] | undefined {
  if (Array.isArray(flag) && flag.length > 0) return flag;
  const fromEnv = env[envName('path')];
  if (fromEnv === undefined || fromEnv === '') return undefined;
  return fromEnv.split(',').map((p) => p.trim()).filter((p) => p !== '');
}

function nodeOptions(pick: (name: string) => string | undefined, paths: string[] | undefined): NodeOpenOptions {
  const disksText = pick('disks');
  const disks = disksText === undefined ? (paths?.length ?? 1) : intInRange(disksText, 'disks', 1, MAX_DISKS);
  if (paths !== undefined && paths.length !== disks) {
    throw new UsageError(`--disks ${disks} disagrees with ${paths.length} --path value(s)`);
  }
  return {
    dataDir: pick('data-dir') ?? tableDefault('data-dir'),
    disks,
    diskSizeBytes: parseSizeBytes(pick('disk-size') ?? tableDefault('disk-size'), 'disk-size'),
    extentSizeBytes: parseSizeBytes(pick('extent-size') ?? tableDefault('extent-size'), 'extent-size'),
    cacheBytes: parseSizeBytes(pick('cache-size') ?? tableDefault('cache-size'), 'cache-size'),
    preallocate: onOff(pick('preallocate') ?? tableDefault('preallocate'), 'preallocate'),
    prepareAheadExtents: prepareAhead(pick('prepare-ahead') ?? tableDefault('prepare-ahead')),
    ...(paths !== undefined ? { paths } : {}),
  };
}

function serverOptions(pick: (name: string) => string | undefined): Omit<ShardServerOptions, 'logger' | 's3' | 'credentials'> {
  const duration = (name: string, fallback: number): number => {
    const text = pick(name);
    return text === undefined ? fallback : parseDurationMs(text, name);
  };
  const headerText = pick('max-header-size');
  const connectionsText = pick('max-connections');
  const perClientText = pick('max-connections-per-client');
  return {
    ...(perClientText === undefined ? {} : { maxConnectionsPerClient: intInRange(perClientText, 'max-connections-per-client', 1, 1_000_000) }),
    maxConnections:
      connectionsText === undefined
        ? DEFAULT_SERVER_OPTIONS.maxConnections
        : intInRange(connectionsText, 'max-connections', 1, 1_000_000),
    headersTimeoutMs: duration('headers-timeout', DEFAULT_SERVER_OPTIONS.headersTimeoutMs),
    requestTimeoutMs: duration('request-timeout', DEFAULT_SERVER_OPTIONS.requestTimeoutMs),
    idleTimeoutMs: duration('idle-timeout', DEFAULT_SERVER_OPTIONS.idleTimeoutMs),
    shutdownGraceMs: duration('shutdown-grace', DEFAULT_SERVER_OPTIONS.shutdownGraceMs),
    maxHeaderSizeBytes:
      headerText === undefined ? DEFAULT_SERVER_OPTIONS.maxHeaderSizeBytes : parseSizeBytes(headerText, 'max-header-size'),
  };
}

/** --prepare-ahead: a count of extents, or all. */
function prepareAhead(text: string): PrepareAhead {
  return text.trim() === 'all' ? 'all' : intInRange(text, 'prepare-ahead', 0, MAX_PREPARE_AHEAD_EXTENTS, ' or all');
}

function intInRange(text: string, what: string, min: number, max: number, orElse = ''): number {
  const value = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${what}: expected an integer in ${min}..${max}${orElse}, got ${JSON.stringify(text)}`);
  }
  return value;
}
