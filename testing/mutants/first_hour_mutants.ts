// Broken variants of the first-hour commands (issue 15), each the bug a
// newcomer met, kept so that testing/first_hour.test.ts shows its checks
// catch them by the failure they must cause. They are whole commands (the
// CLI's commands are plain objects, not classes a prototype patch reaches),
// run in place of the real ones by the checks, which take the command to run.
import { loadOrCreateCredentials, silentLogger } from '../../src/server/index.js';
import type { CliIo, Command } from '../../src/cli/index.js';
import { parseServeArgs, serveApi } from '../../src/cli/index.js';
import { openNode } from '../../src/cli/serve.js';

/**
 * serve as it was: key pair and data files first, the port last. On a taken
 * port it has created ./data, a data file and a key pair "shown once" by
 * the time listen fails.
 */
export const serveBindsLast: Command = {
  summary: 'serve, binding its port after creating the node (the old order)',
  help: () => '',
  async run(argv: readonly string[], io: CliIo): Promise<number> {
    const config = parseServeArgs(argv, io.env);
    if (config === 'help') return 0;
    const loaded = await loadOrCreateCredentials({ accessKeyId: undefined, secretAccessKey: undefined, file: config.s3.credentialsFile });
    const api = await openNode(config.node);
    return serveApi(api, config, { out: io.out, logger: silentLogger, stop: Promise.resolve('SIGTERM'), credentials: new Map(loaded.credentials.map((c) => [c.accessKeyId, c.secretAccessKey])) });
  },
};

/** A readiness wait that polls /healthz only: any server that answers 200 there passes, another node included. */
export const waitTrustsHealthz: Command = {
  summary: 'wait for /healthz only',
  help: () => '',
  async run(argv: readonly string[], io: CliIo): Promise<number> {
    const url = argv[argv.indexOf('--url') + 1] ?? '';
    const res = await fetch(`${url}/healthz`);
    if (res.status !== 200) return 1;
    io.out(`shardstore wait: ${url} is ready`);
    return 0;
  },
};
