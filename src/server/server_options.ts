// Limits and knobs of the shard server, with their defaults (docs/API.md, "Limits").
import type { Logger } from './logger.js';
import { jsonLineLogger } from './logger.js';
import { DEFAULT_HOST_NAMES } from './browser_guard.js';
import type { S3Options } from './s3/index.js';

export interface ShardServerOptions {
  /** Request log and error reports (default: JSON lines on stdout). */
  readonly logger?: Logger;
  /** Request line plus headers, in bytes; larger requests get 431. */
  readonly maxHeaderSizeBytes?: number;
  /** Time to receive the request headers; slower clients get 408. */
  readonly headersTimeoutMs?: number;
  /** Time to receive the whole request, body included (0: no limit); slower clients get 408. */
  readonly requestTimeoutMs?: number;
  /** A socket with no traffic for this long is closed (0: never). */
  readonly idleTimeoutMs?: number;
  /** How long an idle keep-alive connection stays open between requests. */
  readonly keepAliveTimeoutMs?: number;
  /** Connections beyond this many close the longest-idle one, or are refused (503) if none is idle (connection_gate.ts). */
  readonly maxConnections?: number;
  /** Connections from one remote address beyond this many close that client's longest-idle one, or are refused. At most maxConnections. */
  readonly maxConnectionsPerClient?: number;
  /** close() waits at most this long for in-flight requests, then cuts them off. */
  readonly shutdownGraceMs?: number;
  /** Serve the native shard API under /v1/shards (default true). */
  readonly nativeApi?: boolean;
  /** Serve the S3-compatible API on every path the node does not use itself (default: off). */
  readonly s3?: S3Options;
  /**
   * The node's key pairs (access key id -> secret) that sign requests to the
   * native API and the control plane (docs/SECURITY.md). Default: the S3
   * front's; with neither, every such request is refused (401).
   */
  readonly credentials?: ReadonlyMap<string, string>;
  /** Turn authentication of the native API, the control plane and /metrics off (a trusted test network only; logged at start). */
  readonly insecureNoAuth?: boolean;
  /** /metrics needs a signature too (default false: it tells request counts and sizes, no data). */
  readonly metricsAuth?: boolean;
  /** Names the Host header may carry besides IP literals (default DEFAULT_HOST_NAMES; the listen address is added). */
  readonly hostNames?: readonly string[];
}

export type ResolvedServerOptions = Required<Omit<ShardServerOptions, 's3' | 'credentials'>> & {
  readonly s3: S3Options | undefined;
  readonly credentials: ReadonlyMap<string, string>;
};

/** maxConnectionsPerClient defaults to defaultConnectionsPerClient(maxConnections). */
export const DEFAULT_SERVER_OPTIONS: Omit<ResolvedServerOptions, 'logger' | 's3' | 'credentials' | 'maxConnectionsPerClient'> = {
  maxHeaderSizeBytes: 16 * 1024,
  headersTimeoutMs: 30_000,
  // A 5 GiB value at ~1.5 MB/s: long enough for big uploads, short enough to shed stuck ones.
  requestTimeoutMs: 3_600_000,
  idleTimeoutMs: 120_000,
  keepAliveTimeoutMs: 5_000,
  shutdownGraceMs: 10_000,
  maxConnections: 1024,
  nativeApi: true,
  insecureNoAuth: false,
  metricsAuth: false,
  hostNames: DEFAULT_HOST_NAMES,
};

export function resolveServerOptions(options: ShardServerOptions): ResolvedServerOptions {
  const out: ResolvedServerOptions = {
    ...DEFAULT_SERVER_OPTIONS,
    logger: jsonLineLogger(),
    s3: undefined,
    maxConnectionsPerClient: defaultConnectionsPerClient(options.maxConnections ?? DEFAULT_SERVER_OPTIONS.maxConnections),
    ...options,
    credentials: options.credentials ?? options.s3?.credentials ?? new Map<string, string>(),
  };
  for (const [name, value] of Object.entries(out)) {
    if (typeof value === 'number' && !(Number.isSafeInteger(value) && value >= 0)) {
      throw new RangeError(`server option ${name} must be a non-negative integer, got ${value}`);
    }
  }
  if (!(out.maxConnectionsPerClient >= 1 && out.maxConnectionsPerClient <= out.maxConnections)) {
    throw new RangeError(`server option maxConnectionsPerClient (${out.maxConnectionsPerClient}) must be between 1 and maxConnections (${out.maxConnections})`);
  }
  return out;
}

/** A quarter of the node: one client (the bench's 256 sockets at the default cap) cannot lock the others out. */
export function defaultConnectionsPerClient(maxConnections: number): number {
  return Math.max(1, Math.floor(maxConnections / 4));
}

/**
 * How often node checks the headers and request timeouts. Its default (30 s)
 * let a 10 s headers timeout fire after 28 s; at this period a timeout fires
 * within half a second of its value. The check walks the open connections:
 * at the 1024 cap, two walks a second cost microseconds.
 */
export const TIMEOUT_CHECK_INTERVAL_MS = 500;
