// JSON of the admin API (docs/CONTROL_PLANE.md): request bodies read with a
// size limit, query parameters by name, and reports with their keys
// percent-encoded as everywhere else in the native API.
import { InvalidArgumentError } from '../base/index.js';
import type { DamagedShard } from '../store/index.js';
import type { BulkPutEntry, ImportReport, ScrubReport, ScrubStatus } from '../node/index.js';
import { requestBody } from './body_stream.js';
import type { Exchange } from './exchange.js';
import { HttpError } from './http_errors.js';
import { decodeQueryComponent, encodeKey } from './key_codec.js';
import { decodeNativeKey } from './key_codec.js';
import type { S3KeyName } from './s3/key_names.js';
import { describeS3Key, s3KeyName } from './s3/key_names.js';

/** The request body parsed as JSON; 413 past `maxBytes`, 400 if it is not JSON. */
export async function readJsonBody(ex: Exchange, maxBytes: number): Promise<unknown> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const piece of requestBody(ex)) {
    n += piece.length;
    if (n > maxBytes) throw new HttpError(413, 'TooLarge', `request body above ${maxBytes} bytes`);
    parts.push(piece);
  }
  try {
    return JSON.parse(Buffer.concat(parts).toString('utf8')) as unknown;
  } catch (err: unknown) {
    throw new InvalidArgumentError(`request body is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Query parameters among `known`, by name; a repeated one is an error, unknown ones are ignored. */
export function queryParams(query: string, known: readonly string[]): Map<string, Buffer> {
  const params = new Map<string, Buffer>();
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decodeQueryComponent(eq < 0 ? part : part.slice(0, eq)).toString('latin1');
    if (!known.includes(name)) continue;
    if (params.has(name)) throw new InvalidArgumentError(`query parameter ${name} given twice`);
    params.set(name, decodeQueryComponent(eq < 0 ? '' : part.slice(eq + 1)));
  }
  return params;
}

/** A non-negative number parameter (integer unless `fraction`), or undefined. */
export function numberParam(params: Map<string, Buffer>, name: string, fraction = false): number | undefined {
  const text = params.get(name)?.toString('latin1');
  if (text === undefined) return undefined;
  const ok = fraction ? /^[0-9]{1,12}(\.[0-9]{1,6})?$/.test(text) : /^[0-9]{1,15}$/.test(text);
  if (!ok) throw new InvalidArgumentError(`${name} must be a non-negative ${fraction ? 'number' : 'integer'}, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** A true/false parameter; absent or empty means false. */
export function booleanParam(params: Map<string, Buffer>, name: string): boolean {
  const text = params.get(name)?.toString('latin1') ?? '';
  if (text === '' || text === 'false') return false;
  if (text === 'true') return true;
  throw new InvalidArgumentError(`${name} must be true or false, got ${JSON.stringify(text)}`);
}

/** A key bound parameter: absent or empty means none. */
export function bufferParam(params: Map<string, Buffer>, name: string): Buffer | undefined {
  const value = params.get(name);
  return value === undefined || value.length === 0 ? undefined : value;
}

function field(obj: unknown, name: string): unknown {
  return typeof obj === 'object' && obj !== null ? (obj as Record<string, unknown>)[name] : undefined;
}

function arrayField(body: unknown, name: string): unknown[] {
  const value = field(body, name);
  if (!Array.isArray(value)) throw new InvalidArgumentError(`body must be an object with an array "${name}"`);
  return value;
}

function stringOf(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new InvalidArgumentError(`${what} must be a string`);
  return value;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** {"shards":[{"key":"<percent-encoded>","value":"<base64>"}]} */
export function parseBulkCreate(body: unknown): BulkPutEntry[] {
  return arrayField(body, 'shards').map((item, i) => {
    const key = decodeNativeKey(stringOf(field(item, 'key'), `shards[${i}].key`), `shards[${i}].key`);
    const value = stringOf(field(item, 'value'), `shards[${i}].value`);
    if (!BASE64.test(value)) throw new InvalidArgumentError(`shards[${i}].value is not base64`);
    return { key, value: Buffer.from(value, 'base64') };
  });
}

/** {"keys":["<percent-encoded>", ...]} */
export function parseBulkRemove(body: unknown): Buffer[] {
  return arrayField(body, 'keys').map((item, i) => decodeNativeKey(stringOf(item, `keys[${i}]`), `keys[${i}]`));
}

/**
 * A damaged shard as the admin API shows it: the key percent-encoded, and
 * for a shard of the S3 front, what it is to S3 users (`s3.name` is
 * `bucket/key`, `s3.type` the kind of record: object, data, bucket, upload, part).
 */
export type DamagedShardJson = Omit<DamagedShard, 'key'> & { readonly key: string; readonly s3?: S3KeyName };

/** A scrub report as the admin API shows it. */
export type ScrubReportJson = Omit<ScrubReport, 'damaged'> & { readonly damaged: readonly DamagedShardJson[] };

export function damagedJson(d: DamagedShard): DamagedShardJson {
  const s3 = s3KeyName(d.key);
  return { key: encodeKey(d.key), ...(s3 === undefined ? {} : { s3 }), disk: d.disk, problem: d.problem, extent: d.extent, offset: d.offset, message: d.message };
}

/** How a report line names a damaged shard: `S3 bucket/key (object data)`, or `key=<percent-encoded>`. */
export function damagedLabel(d: { readonly key: string; readonly s3?: S3KeyName }): string {
  return d.s3 === undefined ? `key=${d.key}` : `S3 ${describeS3Key(d.s3)}  key=${d.key}`;
}

export function scrubReportJson(r: ScrubReport): ScrubReportJson {
  return { ...r, damaged: r.damaged.map(damagedJson) };
}

export function scrubStatusJson(s: ScrubStatus): Record<string, unknown> {
  return { ...s, ...(s.last === undefined ? {} : { last: scrubReportJson(s.last) }) };
}

export function importReportJson(r: ImportReport): Record<string, unknown> {
  return {
    records: r.records,
    bytes: r.bytes,
    complete: r.complete,
    ...(r.lastKey === undefined ? {} : { lastKey: encodeKey(r.lastKey) }),
    ...(r.durableThrough === undefined ? {} : { durableThrough: encodeKey(r.durableThrough) }),
    ...(r.error === undefined ? {} : { error: r.error }),
  };
}
