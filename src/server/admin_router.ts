// Routes of the control plane under /v1/admin/ (docs/CONTROL_PLANE.md).
// Like the native shard API, they carry no authentication: serve them on a
// trusted network only. Served when the server was given an AdminApi (the
// node); otherwise every /v1/admin/ path is 404.
import type { AdminApi } from '../node/index.js';
import {
  adminMetrics,
  bulkCreate,
  bulkRemove,
  diskTransition,
  listAvailable,
  listDisks,
  nodeStats,
  reclaim,
  scrubReport,
  scrubStatus,
  startScrub,
} from './admin_handlers.js';
import { exportHandler, importHandler } from './admin_migration.js';
import type { Exchange } from './exchange.js';
import { HttpError } from './http_errors.js';

export const ADMIN_PREFIX = '/v1/admin/';

export interface AdminContext {
  readonly admin?: AdminApi;
}

export interface AdminTarget {
  readonly path: string;
  readonly query: string;
}

type AdminHandler = (ctx: AdminContext, ex: Exchange, target: AdminTarget) => Promise<void>;
export type AdminMethodTable = ReadonlyMap<string, AdminHandler>;

function withAdmin(fn: (admin: AdminApi, ex: Exchange, target: AdminTarget) => Promise<void>): AdminHandler {
  return (ctx, ex, target) => {
    if (ctx.admin === undefined) throw new HttpError(404, 'NotFound', 'this server has no admin API');
    return fn(ctx.admin, ex, target);
  };
}

const get = (fn: (admin: AdminApi, ex: Exchange, target: AdminTarget) => Promise<void>): AdminMethodTable =>
  new Map([
    ['GET', withAdmin(fn)],
    ['HEAD', withAdmin(fn)],
  ]);
const post = (fn: (admin: AdminApi, ex: Exchange, target: AdminTarget) => Promise<void>): AdminMethodTable => new Map([['POST', withAdmin(fn)]]);

const FIXED: ReadonlyMap<string, AdminMethodTable> = new Map([
  ['bulk-create', post((a, ex) => bulkCreate(a, ex))],
  ['bulk-remove', post((a, ex) => bulkRemove(a, ex))],
  ['disks', get((a, ex) => listDisks(a, ex))],
  ['shards', get((a, ex, t) => listAvailable(a, ex, t.query))],
  [
    'scrub',
    new Map([
      ['GET', withAdmin((a, ex) => scrubStatus(a, ex))],
      ['POST', withAdmin((a, ex, t) => startScrub(a, ex, t.query))],
    ]),
  ],
  ['scrub/report', get((a, ex) => scrubReport(a, ex))],
  ['export', get((a, ex, t) => exportHandler(a, ex, t.query))],
  ['import', post((a, ex, t) => importHandler(a, ex, t.query))],
  ['stats', get((a, ex) => nodeStats(a, ex))],
  ['reclaim', post((a, ex, t) => reclaim(a, ex, t.query))],
  ['metrics', get((a, ex) => adminMetrics(a, ex))],
]);

const DISK_TRANSITION = /^disks\/([0-9]{1,3})\/(out|in)$/;

const NO_ROUTE: AdminMethodTable = new Map(
  ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'].map((m) => [
    m,
    (_ctx: AdminContext, _ex: Exchange, t: AdminTarget): Promise<void> => Promise.reject(new HttpError(404, 'NotFound', `no admin route ${t.path}`)),
  ]),
);

/** The method table of an admin path (every path under the prefix has one: unknown ones answer 404). */
export function adminRoute(path: string): AdminMethodTable {
  const rest = path.slice(ADMIN_PREFIX.length);
  const fixed = FIXED.get(rest);
  if (fixed !== undefined) return fixed;
  const m = DISK_TRANSITION.exec(rest);
  if (m === null) return NO_ROUTE;
  const disk = Number(m[1]);
  const to = m[2] === 'in' ? 'in' : 'out';
  return post((a, ex, t) => diskTransition(a, ex, disk, to, t.query));
}
