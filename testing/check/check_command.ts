// `shardstore check`: the validation suites for a time budget on all cores.
// Lives in testing/ (src/ may not import the validation tree); the bin
// bin/shardstore.ts adds it to the production command table.
//
// Output: the start line and progress on stderr (one updating line on a
// terminal, else a line every PROGRESS_INTERVAL_MS); the summary, or the
// JSON summary with --json, on stdout. Exit 0: no failure; 1: failures (or,
// for --replay, the failure still happens); 2: usage error.
import { randomInt } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { CliIo, Command } from '../../src/cli/index.js';
import { EXIT_FAILURE, EXIT_OK, formatDurationMs, stopOnSignal } from '../../src/cli/index.js';
import { DEFAULT_OUT_DIR, DEFAULT_SEED_TIMEOUT_MS, DEFAULT_TIME_MS, parseCheckArgs } from './check_options.js';
import type { CheckOptions, CheckRequest } from './check_options.js';
import { budgetText, formatSummary } from './check_report.js';
import type { CheckSummary } from './check_report.js';
import { runCheck } from './check_run.js';
import type { ProgressSink } from './check_run.js';
import { MUTANTS } from './mutant_registry.js';
import { SUITES } from './registry.js';
import { replayFailure } from './replay.js';
import type { ReplayOutcome } from './replay.js';

export const PROGRESS_INTERVAL_MS = 10_000;
const TTY_INTERVAL_MS = 1_000;

/** Where an updating progress line goes, when stderr is a terminal. */
export interface Terminal {
  readonly isTTY: boolean;
  write(text: string): void;
}

export const checkCommand: Command = {
  summary: 'run the validation suites for a time budget on all cores; replay a failure',
  help: checkHelp,
  run: (argv: readonly string[], io: CliIo): Promise<number> => runCheckCommand(argv, io, processTerminal()),
};

function processTerminal(): Terminal {
  return { isTTY: process.stderr.isTTY, write: (text) => process.stderr.write(text) };
}

/** The command with its terminal passed in (tests pass none: progress goes to io.err). Throws UsageError. */
export async function runCheckCommand(argv: readonly string[], io: CliIo, terminal?: Terminal): Promise<number> {
  const request: CheckRequest = parseCheckArgs(argv, io.env, {
    cpus: availableParallelism(),
    random: () => randomInt(2 ** 32 - 1),
  });
  switch (request.kind) {
    case 'help':
      io.out(checkHelp());
      return EXIT_OK;
    case 'list-mutants':
      io.out(request.json ? JSON.stringify(MUTANTS.map(({ name, bugClass, caughtBy }) => ({ name, bugClass, caughtBy }))) : mutantList());
      return EXIT_OK;
    case 'replay':
      return printReplay(await replayFailure(request.target, request.mutant), request.json, io);
    case 'run':
      return runAndReport(request.options, io, terminal);
  }
}

async function runAndReport(options: CheckOptions, io: CliIo, terminal: Terminal | undefined): Promise<number> {
  io.err(startLine(options));
  const signals = stopOnSignal(() => {
    io.err('shardstore check: second signal, exiting now');
    process.exit(130);
  });
  let summary: CheckSummary;
  try {
    summary = await runCheck(options, { progress: progressSink(io, terminal), stop: signals.stop });
  } finally {
    signals.dispose();
  }
  io.out(options.json ? JSON.stringify(summary, null, 2) : formatSummary(summary));
  return summary.ok ? EXIT_OK : EXIT_FAILURE;
}

function startLine(o: CheckOptions): string {
  return (
    `shardstore check: suites ${o.suites.join(',')}; budget ${budgetText(o.budget)}; ${o.workers} worker(s); ` +
    `base seed ${o.baseSeed} (${o.baseSeedSource}); shard ${o.shard.index}/${o.shard.count} (${o.shard.source}); ` +
    `failures to ${o.outDir}` +
    (o.mutant === undefined ? '' : `; mutant ${o.mutant} installed${o.stopOnFailure ? ', stopping at the first failure' : ''}`)
  );
}

function progressSink(io: CliIo, terminal: Terminal | undefined): ProgressSink {
  if (terminal?.isTTY !== true) return { intervalMs: PROGRESS_INTERVAL_MS, update: (line) => io.err(line), done: () => undefined };
  let shown = false;
  return {
    intervalMs: TTY_INTERVAL_MS,
    update: (line) => {
      shown = true;
      terminal.write(`\r\x1b[2K${line}`);
    },
    done: () => {
      if (shown) terminal.write('\n');
    },
  };
}

function printReplay(outcome: ReplayOutcome, json: boolean, io: CliIo): number {
  if (json) {
    io.out(JSON.stringify(outcome, null, 2));
  } else if (outcome.failed) {
    io.out(`FAILS: ${outcome.token}${outcome.mutant === null ? '' : ` (mutant ${outcome.mutant})`}`);
    io.out(`message:\n${indent(outcome.message ?? '')}`);
    io.out(`minimized:\n${indent(outcome.minimized ?? '') || '  (none)'}`);
  } else {
    io.out(`passes now: ${outcome.token}${outcome.mutant === null ? '' : ` (mutant ${outcome.mutant})`}`);
    if (outcome.mutant === null) io.err('(a failure found under --mutant replays only with the same --mutant, or from its replay file)');
  }
  return outcome.failed ? EXIT_FAILURE : EXIT_OK;
}

function indent(text: string): string {
  return text === '' ? '' : text.replace(/^/gm, '  ');
}

function mutantList(): string {
  const width = Math.max(...MUTANTS.map((m) => m.name.length)) + 2;
  return MUTANTS.map((m) => `${m.name.padEnd(width)}${m.caughtBy.padEnd(17)}${m.bugClass}`).join('\n');
}

export function checkHelp(): string {
  const suiteWidth = Math.max(...SUITES.map((s) => s.name.length)) + 4;
  return [
    'Usage: shardstore check [options]',
    '       shardstore check --replay <token|file> [--mutant NAME] [--json]',
    '',
    'Run the validation suites on random seeds for a time budget on every core, print progress',
    'and rates, and save each failure as a replay file (docs/TESTING.md).',
    '',
    'Options:',
    `  --time <duration>      run for this long (s, m, h) [default: ${formatDurationMs(DEFAULT_TIME_MS)}]`,
    '  --count <n>            run n seeds of each suite instead of a time budget',
    '  --suite <name>         a suite to run; repeat or comma-separate [default: all]',
    '  --seed <int>           base seed, 0..2^32-1 [default: SHARDSTORE_SEED, else the AWS Batch',
    '                         parent job id, else random]',
    '  --workers <n>          worker threads [default: the available parallelism]',
    '  --shard <i/N>          run shard i of N (seeds base+i+N*j) [default: SHARDSTORE_SHARD,',
    '                         AWS_BATCH_JOB_ARRAY_INDEX/AWS_BATCH_JOB_ARRAY_SIZE, JOB_COMPLETION_INDEX/SHARDSTORE_SHARDS, else 0/1]',
    `  --out <dir>            where replay files go [default: ${DEFAULT_OUT_DIR}]`,
    '  --json                 print the summary (or the replay outcome) as JSON on stdout',
    '  --mutant <name>        install a deliberately broken variant in every worker first',
    '  --list-mutants         list the mutants and exit',
    '  --stop-on-failure      stop at the first failure [default: on with --mutant]',
    '  --keep-going           do not stop at the first failure, even with --mutant',
    `  --seed-timeout <dur>   a seed running longer is a failure (hang) [default: ${formatDurationMs(DEFAULT_SEED_TIMEOUT_MS)}]`,
    '  --replay <token|file>  rerun one failure in this process; exit 1 if it still fails',
    '  -h, --help             show this help',
    '',
    'Suites:',
    ...SUITES.map((s) => `  ${s.name.padEnd(suiteWidth)}${s.summary}`),
    '',
    'Exit status: 0 no failure, 1 failure(s), 2 usage error.',
  ].join('\n');
}
