// `shardstore export` and `shardstore import`: move the shards of a key
// range between nodes as a migration stream (docs/format/migration.md),
// offline on the data files or through a running server.
//
// Resuming: an import reports `durableThrough`, the key up to which every
// record is durable; export again with --start-after that key and import
// the rest. Records are idempotent puts, so overlapping is harmless.
//
// The S3 front's keys (those starting with 0x00, src/server/reserved_keys.ts)
// are left out unless --include-s3 is given, online and offline alike: an
// export skips them (a bound there is refused), an import stops at the
// first record there. --include-s3 on both ends moves a node whole.
import { createReadStream, createWriteStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { KeyRange } from '../node/index.js';
import { decodePercent, encodeKey } from '../server/index.js';
import { nativeExportRange, refuseReservedRecord } from '../server/index.js';
import { authHint, parseFlags, readAll, request, stringFlag, targetHelp, targetOf, TARGET_OPTIONS } from './admin_target.js';
import type { AdminOptionSpec, Flags, ServerTarget, Target } from './admin_target.js';
import type { CliIo, Command } from './command.js';
import { formatBytes, formatRate, ProgressLine } from './progress.js';
import { EXIT_FAILURE, EXIT_OK, UsageError } from './usage_error.js';

const BOUNDS = [
  ['prefix', 'prefix', 'only keys starting with these bytes'],
  ['start', 'start', 'only keys >= this'],
  ['end', 'end', 'only keys < this'],
  ['start-after', 'startAfter', 'only keys > this (resume after an import\'s durableThrough)'],
] as const;

const EXPORT_OPTIONS: readonly AdminOptionSpec[] = [
  ...TARGET_OPTIONS,
  ...BOUNDS.map(([name, , help]) => ({ name, value: 'key', help })),
  { name: 'out', value: 'file', help: 'write the stream here (- for stdout)' },
  { name: 'include-s3', help: "also the S3 front's buckets and objects (keys starting with 0x00): a whole-node move" },
];
const IMPORT_OPTIONS: readonly AdminOptionSpec[] = [
  ...TARGET_OPTIONS,
  { name: 'in', value: 'file', help: 'read the stream from here (- for stdin)' },
  { name: 'include-s3', help: "accept records of the S3 front's keys (starting with 0x00): a whole-node move" },
];

function optionLines(specs: readonly AdminOptionSpec[]): string[] {
  return specs.filter((o) => !TARGET_OPTIONS.includes(o)).map((o) => `  ${(o.value === undefined ? `--${o.name}` : `--${o.name} <${o.value}>`).padEnd(26)}${o.help}`);
}

export function exportHelp(): string {
  return [
    'Usage: shardstore export [--data-dir <dir> | --path <file>... | --url <url>] [range] [--include-s3] --out <file>',
    '',
    'Write the shards of a key range as a migration stream (docs/format/migration.md).',
    'Offline (--data-dir/--path) the data files are opened read-only: nothing is written to them;',
    'refused while a server runs on them (use --url).',
    'Keys are percent-encoded bytes (plain text works as is; write % as %25).',
    '',
    'Options:',
    ...targetHelp(),
    ...optionLines(EXPORT_OPTIONS),
    `  ${'-h, --help'.padEnd(26)}show this help`,
  ].join('\n');
}

export function importHelp(): string {
  return [
    'Usage: shardstore import [--data-dir <dir> | --path <file>... | --url <url>] [--include-s3] --in <file>',
    '',
    'Put every shard of a migration stream. Reports durableThrough: if the import stops early,',
    'export again with --start-after <durableThrough> and import that.',
    'Offline (--data-dir/--path) import writes: it takes the data files exclusively, as a',
    'server does; refused while a server runs on them (use --url).',
    'Exit status: 0 the whole stream was imported and is durable, 1 otherwise.',
    '',
    'Options:',
    ...targetHelp(),
    ...optionLines(IMPORT_OPTIONS),
    `  ${'-h, --help'.padEnd(26)}show this help`,
  ].join('\n');
}

function rangeOf(flags: Flags): KeyRange {
  const range: Record<string, Buffer> = {};
  for (const [flag, field] of BOUNDS) {
    const text = stringFlag(flags, flag);
    if (text !== undefined && text !== '') range[field] = decodePercent(text);
  }
  return range;
}

function rangeQuery(flags: Flags): string {
  return [
    ...BOUNDS.flatMap(([flag]) => {
      const text = stringFlag(flags, flag);
      return text === undefined || text === '' ? [] : [`${flag}=${encodeKey(decodePercent(text))}`];
    }),
    ...(flags['include-s3'] === true ? ['include-s3=true'] : []),
  ].join('&');
}

export const exportCommand: Command = {
  summary: 'write the shards of a key range as a migration stream',
  help: exportHelp,
  async run(argv: readonly string[], io: CliIo): Promise<number> {
    const { flags } = parseFlags(argv, EXPORT_OPTIONS);
    if (flags['help'] === true) {
      io.out(exportHelp());
      return EXIT_OK;
    }
    const out = stringFlag(flags, 'out');
    if (out === undefined) throw new UsageError('--out <file> is required (- for stdout)');
    const target = targetOf(flags, io.env, EXPORT_OPTIONS);
    const started = performance.now();
    const counter = { bytes: 0 };
    const includeS3 = flags['include-s3'] === true;
    const source = target.kind === 'url' ? await exportOnline(target, rangeQuery(flags)) : await exportOffline(target, includeS3 ? rangeOf(flags) : nativeExportRange(rangeOf(flags)));
    const progress = new ProgressLine(io.err);
    try {
      await pipeline(source.stream, counting(counter, progress, started, 'export'), out === '-' ? process.stdout : createWriteStream(out));
    } finally {
      await source.close();
    }
    const ms = performance.now() - started;
    progress.finish(`export: ${formatBytes(counter.bytes)} in ${(ms / 1000).toFixed(1)}s (${formatRate(counter.bytes, ms)})${source.records() === undefined ? '' : `, ${source.records()} shards`}`);
    return EXIT_OK;
  },
};

interface ExportSource {
  readonly stream: Readable;
  close(): Promise<void>;
  records(): number | undefined;
}

async function exportOnline(server: ServerTarget, query: string): Promise<ExportSource> {
  const answer = await request(server, `/v1/admin/export${query === '' ? '' : `?${query}`}`, 'GET');
  if (answer.status !== 200) throw new Error(`export: ${answer.status} ${await readAll(answer.body)}${authHint(server, answer.status)}`);
  return { stream: answer.body, close: () => Promise.resolve(), records: () => undefined };
}

async function exportOffline(target: Extract<Target, { kind: 'files' }>, range: KeyRange): Promise<ExportSource> {
  const { openExistingNode } = await import('./serve.js');
  const { exportRange } = await import('../node/index.js');
  const node = await openExistingNode(target.dataDir, target.paths, { readOnly: true });
  const progress = { records: 0, bytes: 0 };
  return { stream: Readable.from(exportRange(node, range, progress), { objectMode: false }), close: () => node.close(), records: () => progress.records };
}

function counting(counter: { bytes: number }, progress: ProgressLine, startedMs: number, what: string): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done): void {
      counter.bytes += chunk.length;
      const ms = performance.now() - startedMs;
      progress.update(`${what}: ${formatBytes(counter.bytes)}  ${formatRate(counter.bytes, ms)}`);
      done(null, chunk);
    },
  });
}

export const importCommand: Command = {
  summary: 'put every shard of a migration stream (resumable)',
  help: importHelp,
  async run(argv: readonly string[], io: CliIo): Promise<number> {
    const { flags } = parseFlags(argv, IMPORT_OPTIONS);
    if (flags['help'] === true) {
      io.out(importHelp());
      return EXIT_OK;
    }
    const input = stringFlag(flags, 'in');
    if (input === undefined) throw new UsageError('--in <file> is required (- for stdin)');
    const target = targetOf(flags, io.env, IMPORT_OPTIONS);
    const started = performance.now();
    const counter = { bytes: 0 };
    const progress = new ProgressLine(io.err);
    const body = (input === '-' ? process.stdin : createReadStream(input)).pipe(counting(counter, progress, started, 'import'));
    const includeS3 = flags['include-s3'] === true;
    const report = target.kind === 'url' ? await importOnline(target, `/v1/admin/import${includeS3 ? '?include-s3=true' : ''}`, body) : await importOffline(target, body, includeS3);
    const ms = performance.now() - started;
    progress.finish(`import: ${formatBytes(counter.bytes)} read in ${(ms / 1000).toFixed(1)}s (${formatRate(counter.bytes, ms)})`);
    io.out(JSON.stringify(report, null, 2));
    const complete = typeof report === 'object' && report !== null && 'complete' in report && report.complete === true;
    if (!complete) io.err('import incomplete: export again with --start-after <durableThrough> and import that');
    return complete ? EXIT_OK : EXIT_FAILURE;
  },
};

async function importOnline(server: ServerTarget, target: string, body: Readable): Promise<unknown> {
  const answer = await request(server, target, 'POST', body);
  const text = await readAll(answer.body);
  try {
    return JSON.parse(text) as unknown;
  } catch (err: unknown) {
    void err; // not JSON: show the answer as it came
    return { complete: false, status: answer.status, answer: text + authHint(server, answer.status) };
  }
}

async function importOffline(target: Extract<Target, { kind: 'files' }>, body: Readable, includeS3: boolean): Promise<unknown> {
  const { openExistingNode } = await import('./serve.js');
  const { importReportJson } = await import('../server/index.js');
  const node = await openExistingNode(target.dataDir, target.paths, { readOnly: false });
  try {
    const report = await node.importStream(body, includeS3 ? {} : { refuse: refuseReservedRecord });
    await report.dependency.persisted();
    return importReportJson(report);
  } finally {
    await node.close();
  }
}
