// Child process of first_hour.test.ts: `shardstore serve` through runCli,
// stopped by its own SIGINT once it serves, and then left to exit BY ITSELF
// (no process.exit, unlike the bin): whatever keeps the event loop alive
// after "stopped cleanly" keeps this process alive. Prints, after runCli
// resolved, the kinds of what is still on the event loop as one JSON line.
// argv: <data dir>. With FIXTURE_LEAK_TIMER=1, a timer is left running, as a
// component that forgot to clear or unref one would (the broken variant).
import { runCli } from '../src/cli/index.js';

const dataDir = process.argv[2] ?? '';
const code = await runCli(['serve', '--port', '0', '--data-dir', dataDir, '--disk-size', '64MiB', '--extent-size', '1MiB'], {
  out: (line) => {
    process.stdout.write(line + '\n');
    if (line.startsWith('shardstore serving')) {
      // eslint-disable-next-line no-restricted-syntax -- the leaked timer is what the first-hour test must detect, not a wait
      if (process.env['FIXTURE_LEAK_TIMER'] === '1') setInterval(() => undefined, 1000);
      process.kill(process.pid, 'SIGINT');
    }
  },
  err: (line) => process.stderr.write(line + '\n'),
  env: {},
});
// One turn later, so callbacks already queued by the shutdown have run.
setImmediate(() => process.stdout.write(`${JSON.stringify({ code, active: process.getActiveResourcesInfo() })}\n`));
