// GET /v1/admin/export and POST /v1/admin/import: the migration stream
// (docs/format/migration.md) over HTTP, streamed both ways.
//
// Export: the status line waits until the stream's header and its first
// record (or its end) are ready, so a range that cannot be listed (a disk out
// of service) is an ordinary error answer. A failure after that cuts the
// connection: the importer sees a stream without its end record
// (incomplete), never a whole one.
//
// Import: answered once every applied record is durable, with the report;
// 200 if the stream was whole, else the error's status, and the report says
// `durableThrough`, where to resume.
import { ShardStoreError } from '../base/index.js';
import type { AdminApi, KeyRange } from '../store/admin_types.js';
import { MIGRATION_CONTENT_TYPE } from '../store/migration_format.js';
import { bufferParam, importReportJson, queryParams } from './admin_json.js';
import { requestBody, writeBody } from './body_stream.js';
import type { Exchange } from './exchange.js';
import { closeAfterResponse, sendJson } from './exchange.js';
import { STATUS_BY_CODE } from './http_errors.js';

export async function exportHandler(admin: AdminApi, ex: Exchange, query: string): Promise<void> {
  const params = queryParams(query, ['prefix', 'start', 'end', 'start-after']);
  const range: KeyRange = {};
  const bounds = [['prefix', 'prefix'], ['start', 'start'], ['end', 'end'], ['start-after', 'startAfter']] as const;
  for (const [param, field] of bounds) {
    const value = bufferParam(params, param);
    if (value !== undefined) Object.assign(range, { [field]: value });
  }
  const it = admin.exportRange(range)[Symbol.asyncIterator]();
  const first: Buffer[] = [];
  for (let i = 0; i < 2; i++) {
    const next = await it.next();
    if (next.done === true) break;
    first.push(next.value);
  }
  ex.res.writeHead(200, { 'Content-Type': MIGRATION_CONTENT_TYPE });
  await writeBody(ex.res, prefixed(first, it), ex.bytesOut);
}

async function* prefixed(first: readonly Buffer[], rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  yield* first;
  try {
    for (;;) {
      const next = await rest.next();
      if (next.done === true) return;
      yield next.value;
    }
  } finally {
    await rest.return?.();
  }
}

export async function importHandler(admin: AdminApi, ex: Exchange): Promise<void> {
  const report = await admin.importStream(requestBody(ex));
  let error = report.error;
  try {
    await report.dependency.persisted();
  } catch (err: unknown) {
    error ??= { code: err instanceof ShardStoreError ? err.code : 'Internal', message: String(err) };
  }
  const status = error === undefined ? 200 : statusOf(error.code);
  // Stopped before the end of the body: the rest must not be read as the next request.
  if (!ex.req.complete) closeAfterResponse(ex);
  sendJson(ex, status, { ...importReportJson(report), ...(error === undefined ? {} : { error }) });
}

function statusOf(code: string): number {
  if (code === 'Aborted') return 400;
  const known = (STATUS_BY_CODE as Readonly<Record<string, number>>)[code];
  // A bad or truncated stream is the client's: 400.
  return code === 'Corruption' ? 400 : (known ?? 500);
}
