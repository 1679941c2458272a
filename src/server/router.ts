// Routes of the native shard API (docs/API.md). Matching is on the raw path:
// everything after /v1/shards/ is the percent-encoded key, '/' included.
import { InvalidArgumentError } from '../base/index.js';
import type { ShardApi } from '../store/types.js';
import { MAX_KEY_BYTES } from '../store/types.js';
import type { Exchange } from './exchange.js';
import { sendJson } from './exchange.js';
import { HttpError } from './http_errors.js';
import { decodePercent } from './key_codec.js';
import { listShards } from './list_handler.js';
import { deleteShard, getShard, headShard, putShard } from './shard_handlers.js';

export const SHARDS_PATH = '/v1/shards';
const SHARD_PREFIX = SHARDS_PATH + '/';

export interface RouteContext {
  readonly api: ShardApi;
  /** True once close() began: health checks fail so balancers drain the node. */
  readonly closing: () => boolean;
}

interface Target {
  readonly path: string;
  readonly query: string;
}

type Handler = (ctx: RouteContext, ex: Exchange, target: Target) => Promise<void>;
type MethodTable = ReadonlyMap<string, Handler>;

const health: Handler = (ctx, ex) => {
  sendJson(ex, ctx.closing() ? 503 : 200, { ok: !ctx.closing() });
  return Promise.resolve();
};
const list: Handler = (ctx, ex, target) => listShards(ctx.api, ex, target.query);

function withKey(fn: (api: ShardApi, ex: Exchange, key: Buffer) => Promise<void>): Handler {
  return (ctx, ex, target) => fn(ctx.api, ex, decodeKey(target.path.slice(SHARD_PREFIX.length)));
}

const HEALTH_ROUTE: MethodTable = new Map([
  ['GET', health],
  ['HEAD', health],
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
  const target = splitTarget(ex.req.url ?? '');
  const table = routeOf(target.path);
  if (table === undefined) throw new HttpError(404, 'NotFound', `no route ${target.path}`);
  const handler = table.get(ex.req.method ?? '');
  if (handler === undefined) {
    const allow = [...table.keys()].join(', ');
    throw new HttpError(405, 'MethodNotAllowed', `${ex.req.method ?? '?'} not allowed; use ${allow}`, { Allow: allow });
  }
  await handler(ctx, ex, target);
}

function routeOf(path: string): MethodTable | undefined {
  if (path === '/healthz') return HEALTH_ROUTE;
  if (path === SHARDS_PATH) return LIST_ROUTE;
  if (path.startsWith(SHARD_PREFIX)) return SHARD_ROUTE;
  return undefined;
}

function splitTarget(url: string): Target {
  // Only origin-form ("/path?query"); node passes absolute-form through from proxies.
  if (!url.startsWith('/')) throw new HttpError(400, 'InvalidArgument', 'request target must start with /');
  const q = url.indexOf('?');
  return q < 0 ? { path: url, query: '' } : { path: url.slice(0, q), query: url.slice(q + 1) };
}

/** The key bytes of a path tail. Throws InvalidArgumentError (400) unless 1..MAX_KEY_BYTES bytes. */
export function decodeKey(encoded: string): Buffer {
  // Cheap bound before decoding: each byte takes at most 3 characters.
  if (encoded.length > 3 * MAX_KEY_BYTES) throw keyLengthError(`more than ${MAX_KEY_BYTES}`);
  const key = decodePercent(encoded);
  if (key.length < 1 || key.length > MAX_KEY_BYTES) throw keyLengthError(String(key.length));
  return key;
}

function keyLengthError(got: string): InvalidArgumentError {
  return new InvalidArgumentError(`key must be 1..${MAX_KEY_BYTES} bytes, got ${got}`);
}
