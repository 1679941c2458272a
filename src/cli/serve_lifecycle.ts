// The life of a serving node, given an opened ShardApi:
//   listen -> print one startup line -> wait for a stop signal ->
//   server.close() (stop accepting, let requests in flight finish within the
//   grace period) -> api.close() (every Dependency handed out is persistent)
//   -> exit code 0.
// The store is closed on every path once it was opened, even if listen fails.
import type { AddressInfo } from 'node:net';
import type { Logger } from '../server/index.js';
import { createShardServer } from '../server/index.js';
import type { ShardApi } from '../store/index.js';
import type { ServeConfig } from './serve_options.js';
import { EXIT_OK } from './usage_error.js';

export interface ServeIo {
  readonly out: (line: string) => void;
  readonly logger: Logger;
  /** Resolves with the reason to stop (a signal name). */
  readonly stop: Promise<string>;
}

export async function serveApi(api: ShardApi, config: ServeConfig, io: ServeIo): Promise<number> {
  const shardServer = createShardServer(api, { ...config.server, logger: io.logger });
  try {
    const address = await shardServer.listen(config.port, config.host);
    io.out(`shardstore serving ${config.node.disks} disk(s) at ${urlOf(address)} (data: ${dataOf(config)})`);
    const reason = await io.stop;
    io.logger.log('info', 'shutting down', { reason, inFlight: shardServer.inFlight() });
    await shardServer.close();
  } finally {
    await api.close();
  }
  io.logger.log('info', 'stopped cleanly', {});
  return EXIT_OK;
}

export function urlOf(address: AddressInfo): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

function dataOf(config: ServeConfig): string {
  return config.node.paths?.join(', ') ?? config.node.dataDir;
}

/**
 * Resolves on the first SIGINT or SIGTERM. A second one means "now": the
 * process exits at once with 130 (acknowledged writes are durable already;
 * only unacknowledged ones are lost).
 */
export function stopOnSignal(onForce: () => never): { readonly stop: Promise<string>; dispose(): void } {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  let stopped = false;
  let resolveStop: (reason: string) => void = () => undefined;
  const stop = new Promise<string>((resolve) => (resolveStop = resolve));
  const onSignal = (signal: string): void => {
    if (stopped) onForce();
    stopped = true;
    resolveStop(signal);
  };
  const listeners = signals.map((signal) => [signal, (): void => onSignal(signal)] as const);
  for (const [signal, listener] of listeners) process.on(signal, listener);
  return { stop, dispose: () => listeners.forEach(([signal, listener]) => process.off(signal, listener)) };
}
