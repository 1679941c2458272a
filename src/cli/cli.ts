// The `shardstore` command line: a small dispatch table of subcommands.
//
// Exit codes: 0 success, 1 failure while running, 2 usage mistake (unknown
// command or option, bad value). To add a subcommand (check, fsck, inspect,
// scrub, bench), add one row to COMMANDS: commands load lazily, so the
// storage code is not loaded for `--help` or `--version`.
//
// An outer entry point may pass extra rows (bin/shardstore.ts adds the
// validation commands from testing/, which src/ may not import); a
// production command of the same name wins.
import type { CliIo, Command } from './command.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from './usage_error.js';
import { packageVersion } from './version.js';

export interface CommandEntry {
  readonly summary: string;
  readonly load: () => Promise<Command>;
}

export type CommandTable = ReadonlyMap<string, CommandEntry>;

const COMMANDS: CommandTable = new Map([
  [
    'serve',
    {
      summary: 'open (or create) the node and serve the S3 API and the native shard API over HTTP',
      load: async (): Promise<Command> => (await import('./serve_command.js')).serveCommand,
    },
  ],
  [
    'user',
    {
      summary: 'add, list or remove the S3 users of the node (its credentials file)',
      load: async (): Promise<Command> => (await import('./user_command.js')).userCommand,
    },
  ],
  [
    'wait',
    {
      summary: 'wait until the node just started answers (and is this node, not another server on the port)',
      load: async (): Promise<Command> => (await import('./wait_command.js')).waitCommand,
    },
  ],
  [
    'scrub',
    {
      summary: 'read back and verify every chunk; name the damaged shards (progress bar)',
      load: async (): Promise<Command> => (await import('./scrub_command.js')).scrubCommand,
    },
  ],
  [
    'fsck',
    {
      summary: 'check the data files offline: superblock, metadata log, extent table, index, every checksum',
      load: async (): Promise<Command> => (await import('./fsck_command.js')).fsckCommand,
    },
  ],
  [
    'repair',
    {
      summary: 'salvage data files whose metadata is damaged in both copies; report by key what was lost',
      load: async (): Promise<Command> => (await import('./repair_command.js')).repairCommand,
    },
  ],
  [
    'inspect',
    {
      summary: "draw each disk's extent map (owner, fill, live ratio) as SVG or HTML",
      load: async (): Promise<Command> => (await import('./inspect_command.js')).inspectCommand,
    },
  ],
  [
    'export',
    {
      summary: 'write the shards of a key range as a migration stream',
      load: async (): Promise<Command> => (await import('./migrate_commands.js')).exportCommand,
    },
  ],
  [
    'import',
    {
      summary: 'put every shard of a migration stream (resumable)',
      load: async (): Promise<Command> => (await import('./migrate_commands.js')).importCommand,
    },
  ],
  [
    'stats',
    {
      summary: 'per-disk capacity, used, live and reclaimable bytes, extents, shard count',
      load: async (): Promise<Command> => (await import('./node_admin_commands.js')).statsCommand,
    },
  ],
  [
    'bench',
    {
      summary: 'measure a running node: PUT/GET requests/s, MB/s, p50/p99 (writes, then deletes, keys of its own)',
      load: async (): Promise<Command> => (await import('./bench_command.js')).benchCommand,
    },
  ],
  [
    'disk',
    {
      summary: 'list disks, take one out of service or return it (running server)',
      load: async (): Promise<Command> => (await import('./node_admin_commands.js')).diskCommand,
    },
  ],
]);

export function usage(commands: CommandTable = COMMANDS): string {
  const width = Math.max('-v, --version'.length, ...[...commands.keys()].map((n) => n.length)) + 4;
  return [
    'Usage: shardstore <command> [options]',
    '',
    'Commands:',
    ...[...commands].map(([name, entry]) => `  ${name.padEnd(width)}${entry.summary}`),
    '',
    'Options:',
    `  ${'-h, --help'.padEnd(width)}show this help (or \`shardstore <command> --help\`)`,
    `  ${'-v, --version'.padEnd(width)}print the version`,
  ].join('\n');
}

/**
 * Runs the command line `argv` (without node and the script); resolves with the exit code.
 * `extra` adds commands to the production table (a production command of the same name wins).
 */
export async function runCli(argv: readonly string[], io: CliIo, extra: CommandTable = new Map()): Promise<number> {
  const commands: CommandTable = new Map([...extra, ...COMMANDS]);
  const [first, ...rest] = argv;
  if (first === undefined) {
    io.err(usage(commands));
    return EXIT_USAGE;
  }
  if (first === '-h' || first === '--help' || first === 'help') return help(rest[0], io, commands);
  if (first === '-v' || first === '--version' || first === 'version') {
    io.out(packageVersion());
    return EXIT_OK;
  }
  const entry = commands.get(first);
  if (entry === undefined) {
    io.err(unknownCommand(first, commands));
    return EXIT_USAGE;
  }
  return runCommand(first, await entry.load(), rest, io);
}

async function runCommand(name: string, command: Command, argv: readonly string[], io: CliIo): Promise<number> {
  try {
    return await command.run(argv, io);
  } catch (err) {
    if (err instanceof UsageError) {
      // One line: the mistake and where the help is (no stack, no second line to miss).
      io.err(`shardstore ${name}: ${err.message} (see \`shardstore ${name} --help\`)`);
      return EXIT_USAGE;
    }
    io.err(`shardstore ${name}: ${describe(err)}`);
    return EXIT_FAILURE;
  }
}

async function help(topic: string | undefined, io: CliIo, commands: CommandTable): Promise<number> {
  if (topic === undefined) {
    io.out(usage(commands));
    return EXIT_OK;
  }
  const entry = commands.get(topic);
  if (entry === undefined) {
    io.err(unknownCommand(topic, commands));
    return EXIT_USAGE;
  }
  io.out((await entry.load()).help());
  return EXIT_OK;
}

function unknownCommand(name: string, commands: CommandTable): string {
  return `shardstore: unknown command ${JSON.stringify(name)}; commands: ${[...commands.keys()].join(', ')} (see \`shardstore --help\`)`;
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = 'code' in err && typeof err.code === 'string' ? ` [${err.code}]` : '';
  return `${err.message}${code}`;
}
