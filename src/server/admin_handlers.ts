// Handlers of /v1/admin/ (docs/CONTROL_PLANE.md): bulk calls, disks in and
// out of service, the listing of the disks in service, scrub, stats,
// reclamation. Export and import are in admin_migration.ts.
//
// Invariant: a bulk answer names each key's final outcome, and says
// "applied" only for a change that is durable (its Dependency persistent),
// as a single PUT or DELETE answers 2xx only then.
import { ShardStoreError } from '../base/index.js';
import type { AdminApi, BulkKeyOutcome, BulkResult } from '../node/index.js';
import { MAX_BULK_KEYS, MAX_BULK_VALUE_BYTES } from '../node/index.js';
import { bufferParam, numberParam, parseBulkCreate, parseBulkRemove, queryParams, readJsonBody, scrubReportJson, scrubStatusJson } from './admin_json.js';
import { adminMetricsText } from './admin_metrics.js';
import type { Exchange } from './exchange.js';
import { sendJson } from './exchange.js';
import { HttpError } from './http_errors.js';
import { encodeKey } from './key_codec.js';
import { nativeListOptions } from './list_handler.js';

/** base64 takes 4 characters per 3 bytes; keys and JSON add the rest. */
const MAX_BULK_BODY_BYTES = Math.ceil((MAX_BULK_VALUE_BYTES * 4) / 3) + MAX_BULK_KEYS * 4 * 1024;
const MAX_REMOVE_BODY_BYTES = MAX_BULK_KEYS * 4 * 1024;

export async function bulkCreate(admin: AdminApi, ex: Exchange): Promise<void> {
  const entries = parseBulkCreate(await readJsonBody(ex, MAX_BULK_BODY_BYTES));
  await answerBulk(ex, await admin.bulkPut(entries));
}

export async function bulkRemove(admin: AdminApi, ex: Exchange): Promise<void> {
  const keys = parseBulkRemove(await readJsonBody(ex, MAX_REMOVE_BODY_BYTES));
  await answerBulk(ex, await admin.bulkDelete(keys));
}

async function answerBulk(ex: Exchange, result: BulkResult): Promise<void> {
  // Each applied key is told once its own change is durable (or could not be made so).
  const results = await Promise.all(result.outcomes.map(durableOutcome));
  const count = (status: string): number => results.filter((r) => r['status'] === status).length;
  sendJson(ex, 200, { results, applied: count('applied'), absent: count('absent'), failed: count('failed') });
}

async function durableOutcome(o: BulkKeyOutcome): Promise<Record<string, unknown>> {
  const key = encodeKey(o.key);
  if (o.status !== 'applied' || o.dependency === undefined) {
    return { key, status: o.status, ...(o.code === undefined ? {} : { code: o.code, message: o.message }) };
  }
  try {
    await o.dependency.persisted();
    return { key, status: 'applied' };
  } catch (err: unknown) {
    const code = err instanceof ShardStoreError ? err.code : 'Internal';
    return { key, status: 'failed', code, message: `applied but could not be made durable (may or may not survive a crash): ${String(err)}` };
  }
}

export function listDisks(admin: AdminApi, ex: Exchange): Promise<void> {
  sendJson(ex, 200, { disks: admin.disks() });
  return Promise.resolve();
}

/** POST /v1/admin/disks/{i}/out?reason=... and /in */
export async function diskTransition(admin: AdminApi, ex: Exchange, disk: number, to: 'out' | 'in', query: string): Promise<void> {
  if (to === 'in') {
    sendJson(ex, 200, await admin.returnToService(disk));
    return;
  }
  const reason = queryParams(query, ['reason']).get('reason')?.toString('utf8');
  sendJson(ex, 200, await admin.takeOutOfService(disk, reason === undefined || reason === '' ? undefined : reason));
}

/** GET /v1/admin/shards: a listing page of the disks in service, naming those out of service. */
export async function listAvailable(admin: AdminApi, ex: Exchange, query: string): Promise<void> {
  const params = queryParams(query, ['prefix', 'start-after', 'limit']);
  const prefix = bufferParam(params, 'prefix');
  const startAfter = bufferParam(params, 'start-after');
  const limit = numberParam(params, 'limit');
  const result = await admin.listAvailable(
    nativeListOptions({ ...(prefix === undefined ? {} : { prefix }), ...(startAfter === undefined ? {} : { startAfter }), ...(limit === undefined ? {} : { limit }) }),
  );
  const last = result.shards.at(-1);
  sendJson(ex, 200, {
    shards: result.shards.map((s) => ({ key: encodeKey(s.key), sizeBytes: s.sizeBytes })),
    truncated: result.truncated,
    ...(result.truncated && last !== undefined ? { nextStartAfter: encodeKey(last.key) } : {}),
    complete: result.unavailableDisks.length === 0,
    unavailableDisks: result.unavailableDisks,
  });
}

/** POST /v1/admin/scrub?rate-bytes-per-sec=N: start a background pass (202). */
export function startScrub(admin: AdminApi, ex: Exchange, query: string): Promise<void> {
  const rate = numberParam(queryParams(query, ['rate-bytes-per-sec']), 'rate-bytes-per-sec');
  sendJson(ex, 202, scrubStatusJson(admin.startScrub(rate === undefined ? {} : { rateBytesPerSec: rate })));
  return Promise.resolve();
}

export function scrubStatus(admin: AdminApi, ex: Exchange): Promise<void> {
  sendJson(ex, 200, scrubStatusJson(admin.scrubStatus()));
  return Promise.resolve();
}

/** GET /v1/admin/scrub/report: the last finished pass (404 before the first). */
export function scrubReport(admin: AdminApi, ex: Exchange): Promise<void> {
  const last = admin.scrubStatus().last;
  if (last === undefined) throw new HttpError(404, 'NotFound', 'no scrub pass has finished yet; POST /v1/admin/scrub starts one');
  sendJson(ex, 200, scrubReportJson(last));
  return Promise.resolve();
}

export function nodeStats(admin: AdminApi, ex: Exchange): Promise<void> {
  sendJson(ex, 200, admin.nodeStats());
  return Promise.resolve();
}

/** POST /v1/admin/reclaim?max-extents=N&max-live-ratio=R */
export async function reclaim(admin: AdminApi, ex: Exchange, query: string): Promise<void> {
  const params = queryParams(query, ['max-extents', 'max-live-ratio']);
  const maxExtents = numberParam(params, 'max-extents') ?? 16;
  const maxLiveRatio = numberParam(params, 'max-live-ratio', true);
  const extentsReclaimed = await admin.reclaimNow({ maxExtents, ...(maxLiveRatio === undefined ? {} : { maxLiveRatio }) });
  sendJson(ex, 200, { extentsReclaimed });
}

export function adminMetrics(admin: AdminApi, ex: Exchange): Promise<void> {
  const body = Buffer.from(adminMetricsText(admin));
  ex.res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': body.length });
  if (ex.req.method !== 'HEAD') ex.bytesOut.bytes += body.length;
  ex.res.end(ex.req.method === 'HEAD' ? undefined : body);
  return Promise.resolve();
}
