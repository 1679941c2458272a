// Limits and knobs of the shard server, with their defaults (docs/API.md, "Limits").
import type { Logger } from './logger.js';
import { jsonLineLogger } from './logger.js';
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
  /** Connections beyond this many are refused (closed at once). */
  readonly maxConnections?: number;
  /** close() waits at most this long for in-flight requests, then cuts them off. */
  readonly shutdownGraceMs?: number;
  /** Serve the native shard API under /v1/shards (default true). It has no authentication. */
  readonly nativeApi?: boolean;
  /** Serve the S3-compatible API on every path the node does not use itself (default: off). */
  readonly s3?: S3Options;
}

export type ResolvedServerOptions = Required<Omit<ShardServerOptions, 's3'>> & { readonly s3: S3Options | undefined };

export const DEFAULT_SERVER_OPTIONS: Omit<ResolvedServerOptions, 'logger' | 's3'> = {
  maxHeaderSizeBytes: 16 * 1024,
  headersTimeoutMs: 30_000,
  // A 5 GiB value at ~1.5 MB/s: long enough for big uploads, short enough to shed stuck ones.
  requestTimeoutMs: 3_600_000,
  idleTimeoutMs: 120_000,
  keepAliveTimeoutMs: 5_000,
  shutdownGraceMs: 10_000,
  maxConnections: 1024,
  nativeApi: true,
};

export function resolveServerOptions(options: ShardServerOptions): ResolvedServerOptions {
  const out: ResolvedServerOptions = {
    ...DEFAULT_SERVER_OPTIONS,
    logger: jsonLineLogger(),
    s3: undefined,
    ...options,
  };
  for (const [name, value] of Object.entries(out)) {
    if (typeof value === 'number' && !(Number.isSafeInteger(value) && value >= 0)) {
      throw new RangeError(`server option ${name} must be a non-negative integer, got ${value}`);
    }
  }
  return out;
}
