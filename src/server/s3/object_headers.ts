// Which request headers an object keeps and gives back on GET and HEAD:
// Content-Type, the representation headers S3 stores (Content-Encoding,
// Content-Disposition, Content-Language, Cache-Control, Expires) and user
// metadata (x-amz-meta-*, at most 2 KiB as in S3).
import type { IncomingHttpHeaders } from 'node:http';
import type { ObjectRecord, StoredHeaders } from './records.js';
import { S3Error } from './s3_errors.js';
import { httpTime, quotedEtag } from './respond.js';

const KEPT = ['content-encoding', 'content-disposition', 'content-language', 'cache-control', 'expires'] as const;
const DEFAULT_CONTENT_TYPE = 'binary/octet-stream';
const MAX_USER_METADATA_BYTES = 2048;

/** GET's response-* query parameters and the header each overrides. */
const OVERRIDES: ReadonlyArray<readonly [string, string]> = [
  ['response-content-type', 'Content-Type'],
  ['response-content-language', 'Content-Language'],
  ['response-expires', 'Expires'],
  ['response-cache-control', 'Cache-Control'],
  ['response-content-disposition', 'Content-Disposition'],
  ['response-content-encoding', 'Content-Encoding'],
];

export interface ObjectMetadata {
  readonly contentType: string;
  readonly headers: StoredHeaders;
}

/** What the request asks the object to keep. Throws MetadataTooLarge. */
export function metadataOf(headers: IncomingHttpHeaders): ObjectMetadata {
  const kept: Array<[string, string]> = [];
  let userBytes = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string') continue;
    if (name.startsWith('x-amz-meta-')) {
      userBytes += name.length - 'x-amz-meta-'.length + Buffer.byteLength(value);
      kept.push([name, value]);
    } else if ((KEPT as readonly string[]).includes(name)) {
      // aws-chunked is how the body travelled, not how the object is encoded.
      const stored = name === 'content-encoding' ? withoutAwsChunked(value) : value;
      if (stored !== '') kept.push([name, stored]);
    }
  }
  if (userBytes > MAX_USER_METADATA_BYTES) {
    throw new S3Error(400, 'MetadataTooLarge', `Your metadata headers exceed the maximum allowed metadata size of ${MAX_USER_METADATA_BYTES} bytes.`);
  }
  kept.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { contentType: headers['content-type'] ?? DEFAULT_CONTENT_TYPE, headers: kept };
}

function withoutAwsChunked(value: string): string {
  return value
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '' && e !== 'aws-chunked')
    .join(', ');
}

/** Headers of a GET or HEAD answer for `record` (before Content-Length and ranges). */
export function objectHeaders(record: ObjectRecord, query: ReadonlyMap<string, string>): Record<string, string> {
  const out: Record<string, string> = {
    'Content-Type': record.contentType,
    ETag: quotedEtag(record.etag),
    'Last-Modified': httpTime(record.mtimeMs),
    'Accept-Ranges': 'bytes',
  };
  for (const [name, value] of record.headers) out[name] = value;
  // x-amz-mp-parts-count only on an answer about one part (object_parts.ts), as S3 sends it.
  for (const [param, header] of OVERRIDES) {
    const value = query.get(param);
    if (value !== undefined) {
      delete out[header.toLowerCase()];
      out[header] = value;
    }
  }
  return out;
}
