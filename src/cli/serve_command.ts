// `shardstore serve`: parse options, open the node, serve until a signal.
import { jsonLineLogger } from '../server/index.js';
import type { Command, CliIo } from './command.js';
import { serveApi, stopOnSignal } from './serve_lifecycle.js';
import { parseServeArgs, serveHelp } from './serve_options.js';
import { EXIT_OK } from './usage_error.js';

export const serveCommand: Command = {
  summary: 'open (or create) the node and serve the native shard API',
  help: serveHelp,
  async run(argv: readonly string[], io: CliIo): Promise<number> {
    const config = parseServeArgs(argv, io.env);
    if (config === 'help') {
      io.out(serveHelp());
      return EXIT_OK;
    }
    const { openNode } = await import('./serve.js');
    const api = await openNode(config.node);
    const signals = stopOnSignal(() => {
      io.err('shardstore: second signal, exiting now');
      process.exit(130);
    });
    try {
      return await serveApi(api, config, { out: io.out, logger: jsonLineLogger(), stop: signals.stop });
    } finally {
      signals.dispose();
    }
  },
};
