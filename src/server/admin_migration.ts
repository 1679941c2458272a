// GET /v1/admin/export and POST /v1/admin/import: the migration stream
// (docs/format/migration.md) over HTTP, streamed both ways.
//
// Export: the status line waits until the stream's header and the start of
// its first record (or its end) are ready, so a range that cannot be listed
// (a disk out of service) or a damaged first chunk is an ordinary error answer. A failure after that cuts the
// connection: the importer sees a stream without its end record
// (incomplete), never a whole one.
//
// Import: answered once every applied record is durable, with the report;
// 200 if the stream was whole, else the error's status, and the report says
// `durableThrough`, where to resume.
//
// The S3 front's reserved keys (reserved_keys.ts) stay out of both unless
// the call says include-s3=true: without it a bound in the reserved range is
// refused (400 ReservedKey), an export skips the range (its header's start
// says so), and an import stops at the first record there (400 ReservedKey,
// nothing of that record applied). include-s3=true is the explicit
// whole-node migration: every key, S3 records and data included, both ways.
import { ShardStoreError } from '../base/index.js';
import type { AdminApi, KeyRange } from '../node/index.js';
import { MIGRATION_CONTENT_TYPE } from '../node/index.js';
import { booleanParam, bufferParam, importReportJson, queryParams } from './admin_json.js';
import { bodyPrimer, requestBody, writeBody } from './body_stream.js';
import type { Exchange } from './exchange.js';
import { closeAfterResponse, sendJson } from './exchange.js';
import { STATUS_BY_CODE } from './http_errors.js';
import { RESERVED_KEY_CODE, nativeExportRange, refuseReservedRecord, reservedKeys } from './reserved_keys.js';

const INCLUDE_S3 = 'include-s3';

export async function exportHandler(admin: AdminApi, ex: Exchange, query: string): Promise<void> {
  const params = queryParams(query, ['prefix', 'start', 'end', 'start-after', INCLUDE_S3]);
  const includeS3 = booleanParam(params, INCLUDE_S3);
  const range: KeyRange = {};
  const bounds = [['prefix', 'prefix'], ['start', 'start'], ['end', 'end'], ['start-after', 'startAfter']] as const;
  for (const [param, field] of bounds) {
    const value = bufferParam(params, param);
    if (!includeS3) reservedKeys.refuse(value, param);
    if (value !== undefined) Object.assign(range, { [field]: value });
  }
  // Three pieces: the stream's header, then the first record's header and first value piece (or the end):
  // a range that cannot be listed, or a first value that fails its checksum, is an ordinary error answer.
  const body = await bodyPrimer.prime(admin.exportRange(includeS3 ? range : nativeExportRange(range)), 3);
  ex.res.writeHead(200, { 'Content-Type': MIGRATION_CONTENT_TYPE });
  await writeBody(ex.res, body, ex.bytesOut);
}

export async function importHandler(admin: AdminApi, ex: Exchange, query: string): Promise<void> {
  const includeS3 = booleanParam(queryParams(query, [INCLUDE_S3]), INCLUDE_S3);
  const report = await admin.importStream(requestBody(ex), includeS3 ? {} : { refuse: refuseReservedRecord });
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
  if (code === 'Aborted' || code === RESERVED_KEY_CODE) return 400;
  const known = (STATUS_BY_CODE as Readonly<Record<string, number>>)[code];
  // A bad or truncated stream is the client's: 400.
  return code === 'Corruption' ? 400 : (known ?? 500);
}
