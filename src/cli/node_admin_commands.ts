// `shardstore stats` (per disk: capacity, used, live, reclaimable bytes,
// extents by owner, shards; offline or through a server) and
// `shardstore disk` (list, take out of service, return to service: a
// running server's state, so --url only).
import type { DiskStats, NodeStats } from '../node/index.js';
import { CREDENTIALS_OPTION, parseFlags, requestJson, serverTarget, stringFlag, targetHelp, targetOf, TARGET_OPTIONS } from './admin_target.js';
import type { AdminOptionSpec } from './admin_target.js';
import type { CliIo, Command } from './command.js';
import { formatBytes } from './progress.js';
import { EXIT_OK, UsageError } from './usage_error.js';

const STATS_OPTIONS: readonly AdminOptionSpec[] = [...TARGET_OPTIONS, { name: 'json', help: 'print the stats as JSON' }];
const DISK_OPTIONS: readonly AdminOptionSpec[] = [
  { name: 'url', value: 'url', help: 'the running server, e.g. http://127.0.0.1:7380' },
  CREDENTIALS_OPTION,
  { name: 'reason', value: 'text', help: 'why the disk leaves service (shown in `disk list`)' },
];

export function statsHelp(): string {
  return [
    'Usage: shardstore stats [--data-dir <dir> | --path <file>... | --url <url>] [--json]',
    '',
    'Per disk: service state, capacity, used, free, live and reclaimable bytes, extents by',
    'owner, shard count; and the totals over the disks in service.',
    'Offline the data files are opened read-only; refused while a server runs on them (use --url).',
    '',
    'Options:',
    ...targetHelp(),
    `  ${'--json'.padEnd(26)}print the stats as JSON`,
    `  ${'-h, --help'.padEnd(26)}show this help`,
  ].join('\n');
}

export const statsCommand: Command = {
  summary: 'per-disk capacity, used, live and reclaimable bytes, extents, shard count',
  help: statsHelp,
  async run(argv: readonly string[], io: CliIo): Promise<number> {
    const { flags } = parseFlags(argv, STATS_OPTIONS);
    if (flags['help'] === true) {
      io.out(statsHelp());
      return EXIT_OK;
    }
    const target = targetOf(flags, io.env, STATS_OPTIONS);
    let stats: NodeStats;
    if (target.kind === 'url') stats = (await requestJson(target, '/v1/admin/stats', 'GET')) as NodeStats;
    else {
      const { openExistingNode } = await import('./serve.js');
      const node = await openExistingNode(target.dataDir, target.paths, { readOnly: true });
      stats = node.nodeStats();
      await node.close();
    }
    if (flags['json'] === true) io.out(JSON.stringify(stats, null, 2));
    else for (const line of statsTable(stats)) io.out(line);
    return EXIT_OK;
  },
};

function statsTable(stats: NodeStats): string[] {
  const head = ['disk', 'state', 'capacity', 'used', 'free', 'live', 'reclaimable', 'shards', 'extents d/i/m/free'];
  const row = (name: string, d: Omit<DiskStats, 'disk' | 'state' | 'extentSizeBytes'>, state: string): string[] => [
    name,
    state,
    formatBytes(d.capacityBytes),
    formatBytes(d.usedBytes),
    formatBytes(d.freeBytes),
    formatBytes(d.liveBytes),
    formatBytes(d.reclaimableBytes),
    String(d.shardCount),
    `${d.extents.data}/${d.extents.index}/${d.extents.meta}/${d.extents.free}`,
  ];
  const rows = [head, ...stats.disks.map((d) => row(String(d.disk), d, d.state)), row('total', stats.total, `${stats.disksInService} in service`)];
  const widths = head.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const lines = rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
  for (const d of stats.disks) if (d.reason !== undefined) lines.push(`disk ${d.disk}: ${d.reason}`);
  return lines;
}

export function diskHelp(): string {
  return [
    'Usage: shardstore disk list --url <url> [--credentials-file <file>]',
    '       shardstore disk out <n> --url <url> [--reason <text>] [--credentials-file <file>]',
    '       shardstore disk in <n> --url <url> [--credentials-file <file>]',
    '',
    'Take a disk of a running node out of service (its keys answer 503 Unavailable; nothing is',
    'routed elsewhere), or return it (its store is reopened with full recovery).',
    '',
    'Options:',
    ...DISK_OPTIONS.map((o) => `  ${`--${o.name} <${o.value ?? ''}>`.padEnd(26)}${o.help}`),
    `  ${'-h, --help'.padEnd(26)}show this help`,
  ].join('\n');
}

export const diskCommand: Command = {
  summary: 'list disks, take one out of service or return it (running server)',
  help: diskHelp,
  async run(argv: readonly string[], io: CliIo): Promise<number> {
    const { flags, positionals } = parseFlags(argv, DISK_OPTIONS, true);
    if (flags['help'] === true) {
      io.out(diskHelp());
      return EXIT_OK;
    }
    const url = stringFlag(flags, 'url');
    if (url === undefined) throw new UsageError('--url is required');
    const server = serverTarget(url, flags, io.env);
    const [verb, n] = positionals;
    if (verb === 'list' && n === undefined) {
      io.out(JSON.stringify(await requestJson(server, '/v1/admin/disks', 'GET'), null, 2));
      return EXIT_OK;
    }
    if ((verb !== 'out' && verb !== 'in') || n === undefined || !/^[0-9]{1,3}$/.test(n)) throw new UsageError('expected: list | out <n> | in <n>');
    const reason = stringFlag(flags, 'reason');
    const query = verb === 'out' && reason !== undefined ? `?reason=${encodeURIComponent(reason)}` : '';
    io.out(JSON.stringify(await requestJson(server, `/v1/admin/disks/${n}/${verb}${query}`, 'POST'), null, 2));
    return EXIT_OK;
  },
};
