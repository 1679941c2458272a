// `shardstore fsck`: an offline check of every data file of a node: label,
// both checkpoint slots, metadata log replay, extent table, index runs, and
// every chunk's checksum (tools/fsck.ts). Exit 0: clean; 1: problems found;
// 2: usage. Warnings (a checkpoint slot recovery did not need) do not fail.
import { damagedJson, damagedLabel } from '../server/index.js';
import type { FsckDiskReport } from '../tools/index.js';
import { parseFlags, offlineTargetHelp, targetOf, OFFLINE_TARGET_OPTIONS } from './admin_target.js';
import type { AdminOptionSpec } from './admin_target.js';
import type { CliIo, Command } from './command.js';
import { formatBytes, ProgressLine } from './progress.js';
import { EXIT_FAILURE, EXIT_OK } from './usage_error.js';

const OPTIONS: readonly AdminOptionSpec[] = [...OFFLINE_TARGET_OPTIONS, { name: 'json', help: 'print the report as JSON' }];

export function fsckHelp(): string {
  return [
    'Usage: shardstore fsck [--data-dir <dir> [--disks <n>] | --path <file>...] [--json]',
    '',
    'Check the data files offline (refused while a server runs on them): the label, both checkpoint slots',
    '(which are valid and their sequences), the metadata log replay, the extent table (owners,',
    'write pointers, every chunk the index names below its write pointer), every index run, and',
    'every chunk checksum. Damaged shards are listed by key (percent-encoded; a shard of the',
    'S3 front by its bucket/key and record type).',
    'Each file is opened read-only and recovered in memory, as the server does at start:',
    'fsck never writes to the data files.',
    '',
    'Options:',
    ...offlineTargetHelp(),
    `  ${'--json'.padEnd(26)}print the report as JSON`,
    `  ${'-h, --help'.padEnd(26)}show this help`,
    '',
    'Exit status: 0 clean, 1 problems found, 2 usage error.',
  ].join('\n');
}

export const fsckCommand: Command = {
  summary: 'check the data files offline: superblock, metadata log, extent table, index, every checksum',
  help: fsckHelp,
  async run(argv: readonly string[], io: CliIo): Promise<number> {
    const { flags } = parseFlags(argv, OPTIONS);
    if (flags['help'] === true) {
      io.out(fsckHelp());
      return EXIT_OK;
    }
    const target = targetOf(flags, io.env, OPTIONS);
    if (target.kind !== 'files') return EXIT_OK; // --url is not an option of fsck: parseFlags refused it
    const { fsckClean, fsckNode } = await import('../tools/index.js');
    const progress = new ProgressLine(io.err);
    const started = performance.now();
    const reports = await fsckNode(target.paths, {
      onProgress: (p) => progress.update(`fsck: ${formatBytes(p.bytesVerified)} verified, ${p.shardsVerified} shards`),
    });
    const verified = reports.reduce((n, r) => n + r.bytesVerified, 0);
    progress.finish(`fsck: ${formatBytes(verified)} verified, ${reports.reduce((n, r) => n + r.shards, 0)} shards`);
    const clean = reports.every(fsckClean);
    if (flags['json'] === true) io.out(JSON.stringify({ clean, disks: reports.map(reportJson) }, null, 2));
    else {
      for (const r of reports) printDisk(r, io);
      io.out(`fsck: ${reports.length} disk(s) in ${((performance.now() - started) / 1000).toFixed(1)}s: ${clean ? 'clean' : 'PROBLEMS FOUND'}`);
    }
    return clean ? EXIT_OK : EXIT_FAILURE;
  },
};

function reportJson(r: FsckDiskReport): Record<string, unknown> {
  return { ...r, damaged: r.damaged.map(damagedJson) };
}

function printDisk(r: FsckDiskReport, io: CliIo): void {
  io.out(`disk ${r.disk}  ${r.path}`);
  const l = r.label;
  if (l !== undefined) {
    io.out(`  label       node ${l.nodeId}, disk ${l.diskIndex} of ${l.diskCount}, ${l.extentCount} extents of ${formatBytes(l.extentSizeBytes)}`);
  }
  (r.labelCopies ?? []).forEach((state, i) => io.out(`  label       copy ${i}: ${state === 'valid' ? 'valid' : `DAMAGED: ${state}`}`));
  for (const s of r.slots) {
    const used = r.usedSlot === s.slot ? ' (used)' : '';
    const what = s.state === 'valid' ? `valid, sequence ${s.sequence ?? '?'}${used}` : s.state === 'empty' ? 'empty (never written)' : `INVALID: ${s.error ?? ''}`;
    io.out(`  checkpoint  slot ${s.slot} copy ${s.copy}: ${what}`);
  }
  if (r.logRecords !== undefined) io.out(`  metadata    ${r.logRecords} log record(s) replayed`);
  io.out(`  index       ${r.runs} run(s), ${r.indexChunks} index chunk(s) verified`);
  io.out(`  data        ${r.shards} shard(s), ${r.dataChunks} chunk(s), ${formatBytes(r.bytesVerified)} verified`);
  for (const w of r.warnings) io.out(`  warning     ${w}`);
  for (const p of r.problems) io.out(`  PROBLEM     ${p}`);
  if (r.problemCount > r.problems.length) io.out(`  PROBLEM     ... and ${r.problemCount - r.problems.length} more`);
  for (const d of r.damaged) io.out(`  DAMAGED     shard ${damagedLabel(damagedJson(d))}  ${d.problem}  (extent ${d.extent} offset ${d.offset}: ${d.message})`);
  for (const d of r.indexDamage) io.out(`  DAMAGED     index run ${d.run}  ${d.problem}  (extent ${d.extent} offset ${d.offset}: ${d.message})`);
}
