// Routes of the node (docs/API.md, docs/S3.md). Matching is on the raw path:
// everything after /v1/shards/ is the percent-encoded key, '/' included.
//
// The node's own paths are /healthz, /metrics and the native shard API under
// /v1/shards; with the S3 front on, every other path (and every request
// whose Host names a bucket, virtual-host style) is an S3 request.
//
// Doors (docs/SECURITY.md): every request's Host is checked first (DNS
// rebinding); the native API and the control plane then refuse
// browser-shaped requests and need a SigV4 signature by a node key, before
// the method table is even consulted; /metrics needs one with metricsAuth;
// /healthz is open; the S3 front checks its own signatures.
import { ShardStoreError } from '../base/index.js';
import type { ShardApi, StoreStats } from '../store/index.js';
import type { Exchange } from './exchange.js';
import { sendJson } from './exchange.js';
import { HttpError } from './http_errors.js';
import { decodeNativeKey } from './key_codec.js';
import { listShards } from './list_handler.js';
import type { Metrics } from './metrics.js';
import type { S3Front } from './s3/index.js';
import type { AdminApi } from '../node/index.js';
import { ADMIN_PREFIX, adminRoute } from './admin_router.js';
import type { HostCheck } from './browser_guard.js';
import { refuseBrowserRequest } from './browser_guard.js';
import type { NodeAuth } from './node_auth.js';
import { deleteShard, getShard, headShard, putShard } from './shard_handlers.js';

export const SHARDS_PATH = '/v1/shards';
const SHARD_PREFIX = SHARDS_PATH + '/';

export interface RouteContext {
  readonly api: ShardApi;
  /** True once close() began: health checks fail so balancers drain the node. */
  readonly closing: () => boolean;
  readonly nativeApi: boolean;
  readonly s3: S3Front | undefined;
  readonly metrics: Metrics;
  /** The control plane under /v1/admin/ (docs/CONTROL_PLANE.md), when the server has one. */
  readonly admin?: AdminApi;
  readonly hosts: HostCheck;
  readonly auth: NodeAuth;
  readonly metricsAuth: boolean;
}

interface Target {
  readonly path: string;
  readonly query: string;
}

type Handler = (ctx: RouteContext, ex: Exchange, target: Target) => Promise<void>;
type MethodTable = ReadonlyMap<string, Handler>;

/**
 * 200 {"ok":true} when healthy; 503 {"ok":false} while shutting down (a
 * balancer drains the node). Degraded (a disk read-only, the host file
 * system full, the reserve not prepared): 200 with {"ok":false,
 * "status":"degraded","reasons":[...]}. 200, not 503: a degraded node still
 * serves reads and deletes (what frees space), so a balancer should keep
 * it; monitoring reads the body or the metrics (docs/API.md).
 */
const health: Handler = (ctx, ex) => {
  if (ctx.closing()) {
    sendJson(ex, 503, { ok: false });
    return Promise.resolve();
  }
  const reasons = degradedReasons(ctx.api);
  sendJson(ex, 200, reasons.length === 0 ? { ok: true } : { ok: false, status: 'degraded', reasons });
  return Promise.resolve();
};

function degradedReasons(api: ShardApi): readonly string[] {
  try {
    return api.stats().degraded ?? [];
  } catch (err: unknown) {
    // A store that cannot even report is not healthy: say why.
    if (!(err instanceof ShardStoreError)) throw err;
    return [`stats unavailable: ${err.message}`];
  }
}
const list: Handler = (ctx, ex, target) => listShards(ctx.api, ex, target.query);
const metrics: Handler = (ctx, ex) => {
  let stats: StoreStats | undefined;
  try {
    stats = ctx.api.stats();
  } catch (err) {
    // A closed or failed store still has request metrics worth scraping.
    if (!(err instanceof ShardStoreError)) throw err;
  }
  const body = Buffer.from(ctx.metrics.render(stats));
  ex.res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': body.length });
  if (ex.req.method !== 'HEAD') ex.bytesOut.bytes += body.length;
  ex.res.end(ex.req.method === 'HEAD' ? undefined : body);
  return Promise.resolve();
};

function withKey(fn: (api: ShardApi, ex: Exchange, key: Buffer, onDurableWait: (ms: number) => void) => Promise<void>): Handler {
  return (ctx, ex, target) =>
    fn(ctx.api, ex, decodeNativeKey(target.path.slice(SHARD_PREFIX.length), 'key'), (ms) => ctx.metrics.observeDurableWait(ms));
}

const HEALTH_ROUTE: MethodTable = new Map([
  ['GET', health],
  ['HEAD', health],
]);
const METRICS_ROUTE: MethodTable = new Map([
  ['GET', metrics],
  ['HEAD', metrics],
]);
const LIST_ROUTE: MethodTable = new Map([
  ['GET', list],
  ['HEAD', list],
]);
const SHARD_ROUTE: MethodTable = new Map([
  ['GET', withKey(getShard)],
  ['HEAD', withKey(headShard)],
  ['PUT', withKey(putShard)],
  ['DELETE', withKey(deleteShard)],
]);

export async function dispatch(ctx: RouteContext, ex: Exchange): Promise<void> {
  ctx.hosts.check(ex);
  if (ctx.s3 !== undefined && ctx.s3.isVirtualHost(ex)) return s3Request(ctx.s3, ex);
  const target = splitTarget(ex.req.url ?? '');
  const route = routeOf(target.path, ctx.nativeApi);
  if (route === undefined) {
    if (ctx.s3 !== undefined) return s3Request(ctx.s3, ex);
    throw new HttpError(404, 'NotFound', `no route ${target.path}`);
  }
  const [name, table] = route;
  ex.labels.api = name === 'health' || name === 'metrics' ? 'node' : 'native';
  ex.labels.op = `${name}.${(ex.req.method ?? '?').toLowerCase()}`;
  if (name !== 'health' && !(name === 'metrics' && !ctx.metricsAuth)) {
    // Before the method table: an unsigned request learns nothing, not even a 405.
    if (name !== 'metrics') refuseBrowserRequest(ex);
    await ctx.auth.authenticate(ex, target);
  }
  const handler = table.get(ex.req.method ?? '');
  if (handler === undefined) {
    const allow = [...table.keys()].join(', ');
    throw new HttpError(405, 'MethodNotAllowed', `${ex.req.method ?? '?'} not allowed; use ${allow}`, { Allow: allow });
  }
  await handler(ctx, ex, target);
}

function routeOf(path: string, nativeApi: boolean): readonly [string, MethodTable] | undefined {
  if (path === '/healthz') return ['health', HEALTH_ROUTE];
  if (path === '/metrics') return ['metrics', METRICS_ROUTE];
  if (!nativeApi) return undefined;
  if (path === SHARDS_PATH) return ['list', LIST_ROUTE];
  if (path.startsWith(SHARD_PREFIX)) return ['shard', SHARD_ROUTE];
  if (path.startsWith(ADMIN_PREFIX)) return ['admin', adminRoute(path)];
  return undefined;
}

/** The S3 front answers (errors included) itself. */
function s3Request(s3: S3Front, ex: Exchange): Promise<void> {
  ex.labels.api = 's3';
  ex.labels.op = 'unknown';
  return s3.handle(ex);
}

function splitTarget(url: string): Target {
  // Only origin-form ("/path?query"); node passes absolute-form through from proxies.
  if (!url.startsWith('/')) throw new HttpError(400, 'InvalidArgument', 'request target must start with /');
  const q = url.indexOf('?');
  return q < 0 ? { path: url, query: '' } : { path: url.slice(0, q), query: url.slice(q + 1) };
}

