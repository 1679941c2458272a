#!/usr/bin/env node
// The `shardstore` bin (dist/bin/shardstore.js): the production command line
// of src/cli plus the validation commands of testing/ (`check`). It sits
// above both trees because src/ may not import testing/ (STYLE.md). The
// validation commands load lazily, so `serve` and `--help` do not load the
// suites (nor fast-check).
import type { Command, CommandTable } from '../src/cli/index.js';
import { runCli } from '../src/cli/index.js';

const VALIDATION_COMMANDS: CommandTable = new Map([
  [
    'check',
    {
      summary: 'run the validation suites for a time budget on all cores; replay a failure',
      load: async (): Promise<Command> => (await import('../testing/check/check_command.js')).checkCommand,
    },
  ],
]);

const code = await runCli(process.argv.slice(2), {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
  env: process.env,
  execArgv: process.execArgv,
}, VALIDATION_COMMANDS);
// Exit explicitly, as src/cli/main.ts does: nothing left on the event loop
// (a worker being terminated, a signal listener) may keep the process alive.
process.exit(code);
