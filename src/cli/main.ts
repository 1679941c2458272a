#!/usr/bin/env node
// Production-only entry point (dist/src/cli/main.js): runs the command line
// and exits with its code. Everything else is in cli.ts. The published
// `shardstore` bin is bin/shardstore.ts, which adds the validation commands.
import { runCli } from './cli.js';

const code = await runCli(process.argv.slice(2), {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
  env: process.env,
  execArgv: process.execArgv,
});
// Exit explicitly: a clean shutdown has closed the store and the server, and
// nothing left on the event loop should keep the process alive.
process.exit(code);
