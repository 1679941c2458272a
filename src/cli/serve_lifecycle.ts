// The life of a serving node, given an opened ShardApi (serve_command.ts
// bound the port before opening it: port_reservation.ts):
//   listen (take over the bound port) -> print one startup line -> wait for a stop signal ->
//   server.close() (stop accepting, let requests in flight finish within the
//   grace period) -> api.close() (every Dependency handed out is persistent)
//   -> exit code 0.
// The store is closed on every path once it was opened, even if listen fails.
import type { AddressInfo } from 'node:net';
import type { Logger, S3Options, UserDirectory } from '../server/index.js';
import { FileNodeKey, createShardServer } from '../server/index.js';
import type { ShardApi } from '../store/index.js';
import type { AdminApi } from '../node/index.js';
import type { PortReservation } from './port_reservation.js';
import type { ServeConfig } from './serve_options.js';
import { EXIT_OK } from './usage_error.js';

export interface ServeIo {
  readonly out: (line: string) => void;
  readonly logger: Logger;
  /** Resolves with the reason to stop (a signal name). */
  readonly stop: Promise<string>;
  /** The node's key pairs (access key id -> secret), as serve_command resolved them: they sign S3, native and control-plane requests (none: every such request is refused). */
  readonly credentials?: ReadonlyMap<string, string>;
  /** The S3 users (the credentials file, re-read when it changes); without it, `credentials` are S3's keys too. */
  readonly users?: UserDirectory;
  /** The control plane to serve under /v1/admin/ (the node's). */
  readonly admin?: AdminApi;
  /** The port, bound before the node was opened (serve_command.ts); else config.host:config.port is bound here. */
  readonly reservation?: PortReservation;
}

export async function serveApi(api: ShardApi, config: ServeConfig, io: ServeIo): Promise<number> {
  const credentials = io.credentials ?? new Map<string, string>();
  const shardServer = createShardServer(api, { ...config.server, credentials, logger: io.logger, ...s3Options(config, credentials, io.users) }, io.admin);
  try {
    if (credentials.size === 0 && config.server.insecureNoAuth !== true) io.logger.log('warn', 'the node has no key pairs: every signed API will refuse every request', {});
    const address = await listenOn(shardServer, config, io.reservation);
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

async function listenOn(shardServer: ReturnType<typeof createShardServer>, config: ServeConfig, reservation: PortReservation | undefined): Promise<AddressInfo> {
  if (reservation === undefined) return shardServer.listen(config.port, config.host);
  const address = await shardServer.listen(reservation.server, config.host);
  reservation.handOver((socket) => shardServer.server.emit('connection', socket));
  return address;
}

function s3Options(config: ServeConfig, credentials: ReadonlyMap<string, string>, users: UserDirectory | undefined): { s3?: S3Options } {
  if (!config.s3.enabled) return {};
  return {
    s3: {
      credentials,
      ...(users !== undefined ? { users } : {}),
      region: config.s3.region,
      domains: config.s3.domains,
      sigv2: config.s3.sigv2,
      uploadExpiryMs: config.s3.uploadExpiryMs,
      lifecycleIntervalMs: config.s3.lifecycleIntervalMs,
      // SSE-S3's key, beside the credentials file, made at the first SSE-S3 write (node_key.ts).
      nodeKey: FileNodeKey.besideCredentials(config.s3.credentialsFile),
    },
  };
}

function apisOf(config: ServeConfig): string {
  const apis = [...(config.s3.enabled ? [`S3 (region ${config.s3.region})`] : []), ...(config.server.nativeApi === false ? [] : ['native API at /v1/shards']), 'metrics at /metrics'];
  return apis.join(', ') + (config.server.insecureNoAuth === true ? '; AUTHENTICATION OFF (--insecure-no-auth)' : '');
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
