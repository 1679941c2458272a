// `shardstore scrub`: one scrub pass, offline on the data files or through
// a running server, with a progress bar; prints the damaged shards by key.
// Exit 0: every disk read, nothing damaged; 1: damage found, or the pass
// could not read every disk; 2: usage.
import type { ScrubReportJson as ReportJson } from '../server/index.js';
import { damagedLabel } from '../server/index.js';
import type { AdminApi, ScrubProgress, ScrubReport } from '../node/index.js';
import type { ServerTarget } from './admin_target.js';
import { parseFlags, requestJson, stringFlag, targetHelp, targetOf, TARGET_OPTIONS } from './admin_target.js';
import type { AdminOptionSpec } from './admin_target.js';
import type { CliIo, Command } from './command.js';
import { formatBytes, formatRate, ProgressLine, progressText } from './progress.js';
import { parseSizeBytes } from './units.js';
import { EXIT_FAILURE, EXIT_OK } from './usage_error.js';

const OPTIONS: readonly AdminOptionSpec[] = [
  ...TARGET_OPTIONS,
  { name: 'rate', value: 'size', help: 'read at most this many bytes a second per disk, e.g. 100MiB (default: no limit)' },
  { name: 'json', help: 'print the report as JSON' },
];

const POLL_MS = 500;

/** GET /v1/admin/scrub, as the admin API gives it. */
interface StatusJson {
  readonly state: string;
  readonly passes: number;
  readonly progress?: ScrubProgress;
  readonly last?: ReportJson;
}

export function scrubHelp(): string {
  return [
    'Usage: shardstore scrub [--data-dir <dir> | --path <file>... | --url <url>] [--rate <size>] [--json]',
    '',
    'Read every chunk of every shard (and of the index runs) back from the disks and verify',
    'its checksums. Damaged shards are listed by key (percent-encoded; a shard of the S3 front',
    'by its bucket/key and record type): delete or replace them.',
    'Offline (--data-dir/--path) the data files are opened read-only (nothing is written) and',
    'the command is refused while a server runs on them; with --url the pass runs in the',
    'server (POST /v1/admin/scrub) and this command follows it.',
    '',
    'Options:',
    ...targetHelp(),
    `  ${'--rate <size>'.padEnd(26)}${OPTIONS.find((o) => o.name === 'rate')?.help ?? ''}`,
    `  ${'--json'.padEnd(26)}print the report as JSON`,
    `  ${'-h, --help'.padEnd(26)}show this help`,
    '',
    'Exit status: 0 nothing damaged, 1 damage found or a disk not read, 2 usage error.',
  ].join('\n');
}

export const scrubCommand: Command = {
  summary: 'read back and verify every chunk; name the damaged shards (progress bar)',
  help: scrubHelp,
  async run(argv: readonly string[], io: CliIo): Promise<number> {
    const { flags } = parseFlags(argv, OPTIONS);
    if (flags['help'] === true) {
      io.out(scrubHelp());
      return EXIT_OK;
    }
    const target = targetOf(flags, io.env, OPTIONS);
    const rateText = stringFlag(flags, 'rate');
    const rate = rateText === undefined ? 0 : parseSizeBytes(rateText, 'rate');
    const progress = new ProgressLine(io.err);
    const report = target.kind === 'url' ? await scrubOnline(target, rate, progress) : await scrubOffline(target.dataDir, target.paths, rate, progress);
    if (flags['json'] === true) io.out(JSON.stringify(report, null, 2));
    else printReport(report, io);
    const clean = report.complete && report.counters.damagedShards === 0 && report.counters.damagedIndexChunks === 0;
    return clean ? EXIT_OK : EXIT_FAILURE;
  },
};

async function scrubOffline(dataDir: string, paths: readonly string[], rate: number, progress: ProgressLine): Promise<ReportJson> {
  const { openExistingNode } = await import('./serve.js');
  const { scrubReportJson } = await import('../server/index.js');
  const node = await openExistingNode(dataDir, paths, { readOnly: true });
  try {
    const report = await runPass(node, rate, progress);
    return scrubReportJson(report);
  } finally {
    await node.close();
  }
}

async function runPass(node: AdminApi, rate: number, progress: ProgressLine): Promise<ScrubReport> {
  const report = await node.scrub({
    rateBytesPerSec: rate,
    progressEveryMs: 100,
    onProgress: (p) => progress.update(progressText(p.bytesVerified, p.bytesTotal, p.elapsedMs, `${p.shardsVerified} shards`)),
  });
  progress.finish(progressText(report.counters.bytesVerified, report.counters.bytesVerified, report.elapsedMs, `${report.counters.shardsVerified} shards`));
  return report;
}

async function scrubOnline(server: ServerTarget, rate: number, progress: ProgressLine): Promise<ReportJson> {
  const started = (await requestJson(server, `/v1/admin/scrub?rate-bytes-per-sec=${rate}`, 'POST')) as StatusJson;
  const passesBefore = started.state === 'running' ? started.passes : started.passes - 1;
  for (;;) {
    const status = (await requestJson(server, '/v1/admin/scrub', 'GET')) as StatusJson;
    const p = status.progress;
    if (p !== undefined) progress.update(progressText(p.bytesVerified, p.bytesTotal, p.elapsedMs, `${p.shardsVerified} shards`));
    if (status.state !== 'running' && status.passes > passesBefore && status.last !== undefined) {
      progress.finish(progressText(status.last.counters.bytesVerified, status.last.counters.bytesVerified, status.last.elapsedMs, `${status.last.counters.shardsVerified} shards`));
      return status.last;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function printReport(r: ReportJson, io: CliIo): void {
  const c = r.counters;
  io.out(
    `scrub: ${c.shardsVerified} shards, ${c.chunksVerified} chunks, ${formatBytes(c.bytesVerified)} verified in ${(r.elapsedMs / 1000).toFixed(1)}s ` +
      `(${formatRate(c.bytesVerified, r.elapsedMs)}), ${c.indexChunksVerified} index chunks; ${c.damagedShards} damaged shard(s), ${c.damagedIndexChunks} damaged index chunk(s)`,
  );
  for (const d of r.damaged) io.out(`  damaged shard  ${damagedLabel(d)}  disk ${d.disk}  ${d.problem}  (extent ${d.extent} offset ${d.offset}: ${d.message})`);
  for (const d of r.indexDamage) io.out(`  damaged index  disk ${d.disk} run ${d.run}  ${d.problem}  (extent ${d.extent} offset ${d.offset}: ${d.message})`);
  for (const d of r.skippedDisks) io.out(`  disk ${d} not scrubbed: out of service`);
  for (const e of r.errors) io.out(`  disk ${e.disk} pass stopped: ${e.code} ${e.message}`);
}
