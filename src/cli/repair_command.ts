// `shardstore repair`: salvage data files whose metadata is damaged beyond
// what its two copies repair (tools/salvage.ts): keep everything readable,
// restore what reachable chunks need, write a fresh checkpoint, and report
// by key what could not be read. Writes to the files (it is the one offline
// tool that does); the server must be stopped. Exit 0: nothing lost;
// 1: something was lost or is unreadable (listed); 2: usage.
import { LockedError } from '../base/index.js';
import { FileDisk } from '../disk/index.js';
import { encodeKey } from '../server/index.js';
import type { SalvageReport } from '../tools/index.js';
import { parseFlags, offlineTargetHelp, targetOf, OFFLINE_TARGET_OPTIONS } from './admin_target.js';
import type { AdminOptionSpec } from './admin_target.js';
import type { CliIo, Command } from './command.js';
import { EXIT_FAILURE, EXIT_OK } from './usage_error.js';

const OPTIONS: readonly AdminOptionSpec[] = [...OFFLINE_TARGET_OPTIONS, { name: 'json', help: 'print the report as JSON' }];

export function repairHelp(): string {
  return [
    'Usage: shardstore repair [--data-dir <dir> [--disks <n>] | --path <file>...] [--json]',
    '',
    'Salvage data files that do not open because their metadata is damaged in both of its copies',
    '(open refuses and says so; `shardstore fsck` shows what is damaged). Keeps every commit that',
    'can be read, skipping metadata log records lost in both copies, makes sure every chunk the',
    'index still names stays allocated, verifies every chunk, and writes a fresh checkpoint, so',
    'the store opens again. It reports what was lost: the log records (each one group commit of',
    'puts and deletes) and, by key (percent-encoded), every shard whose value cannot be read.',
    'This WRITES to the data files: it takes them exclusively, as a server does (refused, naming',
    'the holder, while a server or another tool uses them). Copy the files first if you can.',
    '',
    'Options:',
    ...offlineTargetHelp(),
    `  ${'--json'.padEnd(26)}print the report as JSON`,
    `  ${'-h, --help'.padEnd(26)}show this help`,
    '',
    'Exit status: 0 nothing lost, 1 something lost or unreadable (listed), 2 usage error.',
  ].join('\n');
}

interface DiskOutcome {
  readonly disk: number;
  readonly path: string;
  readonly report?: SalvageReport;
  readonly error?: string;
}

export const repairCommand: Command = {
  summary: 'salvage data files whose metadata is damaged in both copies; report by key what was lost',
  help: repairHelp,
  async run(argv: readonly string[], io: CliIo): Promise<number> {
    const { flags } = parseFlags(argv, OPTIONS);
    if (flags['help'] === true) {
      io.out(repairHelp());
      return EXIT_OK;
    }
    const target = targetOf(flags, io.env, OPTIONS);
    if (target.kind !== 'files') return EXIT_OK; // --url is not an option of repair: parseFlags refused it
    const { salvageDiskStore } = await import('../tools/index.js');
    const outcomes: DiskOutcome[] = [];
    for (const [disk, path] of target.paths.entries()) {
      try {
        // Repair writes: it takes the file exclusively, as a server does.
        const file = await FileDisk.open(path);
        outcomes.push({ disk, path, report: await salvageDiskStore(file, disk) });
      } catch (err: unknown) {
        // Another process holds the files: refuse the whole repair at once, in one line (cli.ts).
        if (err instanceof LockedError) throw err;
        outcomes.push({ disk, path, error: err instanceof Error ? err.message : String(err) });
      }
    }
    const clean = outcomes.every((o) => o.report !== undefined && lossless(o.report));
    if (flags['json'] === true) io.out(JSON.stringify({ clean, disks: outcomes.map(outcomeJson) }, null, 2));
    else {
      for (const o of outcomes) printOutcome(o, io);
      io.out(`repair: ${outcomes.length} disk(s): ${clean ? 'nothing lost' : 'SOMETHING WAS LOST OR IS UNREADABLE (listed above)'}`);
    }
    return clean ? EXIT_OK : EXIT_FAILURE;
  },
};

function lossless(r: SalvageReport): boolean {
  return r.lostRecords.length === 0 && r.damaged.length === 0 && r.indexDamage.length === 0;
}

function outcomeJson(o: DiskOutcome): Record<string, unknown> {
  if (o.report === undefined) return { disk: o.disk, path: o.path, error: o.error };
  return { disk: o.disk, path: o.path, ...o.report, damaged: o.report.damaged.map((d) => ({ ...d, key: encodeKey(d.key) })) };
}

function printOutcome(o: DiskOutcome, io: CliIo): void {
  io.out(`disk ${o.disk}  ${o.path}`);
  const r = o.report;
  if (r === undefined) {
    io.out(`  FAILED      ${o.error ?? ''}`);
    return;
  }
  for (const what of r.repaired) io.out(`  repaired    ${what}`);
  if (r.lostRecords.length > 0) {
    io.out(`  LOST        ${r.lostRecords.length} metadata log record(s) (${r.lostRecords.slice(0, 10).join(', ')}${r.lostRecords.length > 10 ? ', ...' : ''}): the puts and deletes of those commit cycles are gone; the keys they changed hold their earlier values`);
  }
  for (const what of r.reattached) io.out(`  reattached  ${what}`);
  io.out(`  verified    ${r.shardsVerified} shard(s) readable`);
  for (const d of r.damaged) io.out(`  UNREADABLE  shard key=${encodeKey(d.key)}  ${d.problem}  (extent ${d.extent} offset ${d.offset}: ${d.message})`);
  for (const d of r.indexDamage) io.out(`  UNREADABLE  index run ${d.run}  ${d.problem}  (extent ${d.extent} offset ${d.offset}: ${d.message})`);
}
