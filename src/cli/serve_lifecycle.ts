// The life of a serving node, given an opened ShardApi:
//   listen -> print one startup line -> wait for a stop signal ->
//   server.close() (stop accepting, let requests in flight finish within the
//   grace period) -> api.close() (every Dependency handed out is persistent)
//   -> exit code 0.
// The store is closed on every path once it was opened, even if listen fails.
import type { AddressInfo } from 'node:net';
import type { Logger, S3Options } from '../server/index.js';
import { createShardServer } from '../server/index.js';
import type { AdminApi, ShardApi } from '../store/index.js';
import type { ServeConfig } from './serve_options.js';
import { EXIT_OK } from './usage_error.js';

export interface ServeIo {
  readonly out: (line: string) => void;
  readonly logger: Logger;
  /** Resolves with the reason to stop (a signal name). */
  readonly stop: Promise<string>;
  /** Access key id -> secret, as serve_command resolved them (none: every S3 request is refused). */
  readonly s3Credentials?: ReadonlyMap<string, string>;
  /** The control plane to serve under /v1/admin/ (the node's). */
  readonly admin?: AdminApi;
}

export async function serveApi(api: ShardApi, config: ServeConfig, io: ServeIo): Promise<number> {
  const shardServer = createShardServer(api, { ...config.server, logger: io.logger, ...s3Options(config, io) }, io.admin);
  try {
    const address = await shardServer.listen(config.port, config.host);
    io.out(`shardstore serving ${config.node.disks} disk(s) at ${urlOf(address)} (data: ${dataOf(config)}; ${apisOf(config)})`);
    const reason = await io.stop;
    io.logger.log('info', 'shutting down', { reason, inFlight: shardServer.inFlight() });
    await shardServer.close();
  } finally {
    await api.close();
  }
  io.logger.log('info', 'stopped cleanly', {});
  return EXIT_OK;
}

function s3Options(config: ServeConfig, io: ServeIo): { s3?: S3Options } {
  if (!config.s3.enabled) return {};
  if (io.s3Credentials === undefined) io.logger.log('warn', 'S3 front has no credentials: every S3 request will be refused', {});
  return {
    s3: {
      credentials: io.s3Credentials ?? new Map(),
      region: config.s3.region,
      domains: config.s3.domains,
      uploadExpiryMs: config.s3.uploadExpiryMs,
    },
  };
}

function apisOf(config: ServeConfig): string {
  const apis = [...(config.s3.enabled ? [`S3 (region ${config.s3.region})`] : []), ...(config.server.nativeApi === false ? [] : ['native API at /v1/shards']), 'metrics at /metrics'];
  return apis.join(', ');
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
