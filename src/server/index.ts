// server: the node over HTTP: the native shard API (docs/API.md), the
// S3-compatible front (docs/S3.md, in s3/) and Prometheus metrics.
// The server speaks ShardApi (src/store/types.ts) and imports nothing else of
// the store, so it serves the node, one disk's store or the reference model
// alike, and loads no storage code in tests.
export { createShardServer } from './shard_server.js';
export type { ShardServer } from './shard_server.js';
export type { ShardServerOptions, ResolvedServerOptions } from './server_options.js';
export { DEFAULT_SERVER_OPTIONS, resolveServerOptions } from './server_options.js';
export type { Logger, LogLevel, LogFields } from './logger.js';
export { jsonLineLogger, silentLogger } from './logger.js';
export { RequestAbortedError } from './body_stream.js';
export { STATUS_BY_CODE, HttpError } from './http_errors.js';
export type { ErrorPayload } from './http_errors.js';
export { decodeKey, decodeNativeKey, decodePercent, encodeKey } from './key_codec.js';
export { SHARDS_PATH } from './router.js';
export { parseRangeHeader, resolveRange } from './range.js';
export type { RangeSpec } from './range.js';
export { Metrics } from './metrics.js';
export type { RequestSample } from './metrics.js';
export { S3Front, DEFAULT_S3_DOMAINS, DEFAULT_S3_REGION, DEFAULT_UPLOAD_EXPIRY_MS, DEFAULT_LIFECYCLE_INTERVAL_MS, loadOrCreateCredentials, parseCredentialsFile, canonicalQuery, deriveSigningKey, queryPairs, SIGV4_ALGORITHM, FileUsers, StaticUsers, LEGACY_OWNER_ID, usersOf, addUser, listUsers, removeUser, FileNodeKey, StaticNodeKey } from './s3/index.js';
export type { S3Options, S3Credentials, CredentialSource, LoadedCredentials, User, UserDirectory } from './s3/index.js';
export { DEFAULT_HOST_NAMES } from './browser_guard.js';
export { MAX_BUFFERED_BODY_BYTES } from './node_auth.js';
export { damagedJson, damagedLabel, importReportJson, scrubReportJson, scrubStatusJson } from './admin_json.js';
export type { DamagedShardJson, ScrubReportJson } from './admin_json.js';
export { nativeExportRange, refuseReservedRecord } from './reserved_keys.js';
