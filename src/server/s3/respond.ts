// Writing S3 answers: XML documents, empty answers, and errors. Every
// answer carries x-amz-request-id (clients print it in their errors).
import { lastSecondText } from '../../base/index.js';
import type { Exchange } from '../exchange.js';
import { closeAfterResponse } from '../exchange.js';
import type { S3Error } from './s3_errors.js';
import type { XmlNode } from './xml.js';
import { xmlDocument } from './xml.js';

export type Headers = Readonly<Record<string, string | number>>;

export function idHeaders(requestId: string): Record<string, string> {
  return { 'x-amz-request-id': requestId, 'x-amz-id-2': requestId, Server: 'ShardStore' };
}

/**
 * Headers merged left to right, a later name replacing an earlier one in
 * its place, as an object spread does. Not a spread: in V8 a spread
 * followed by more names costs about a microsecond a name, and an answer's
 * headers were built from five or six of them (3-7 us of a 4 KiB GET's
 * server CPU); Object.assign costs a fraction of that. (A target without
 * prototype was 6x slower: V8 keeps it as a dictionary. A header named
 * __proto__ cannot reach the prototype: its value is a string or number,
 * which the setter ignores.)
 */
export function mergeHeaders(...parts: ReadonlyArray<Headers | undefined>): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const part of parts) if (part !== undefined) Object.assign(out, part);
  return out;
}

/** `xmlns`: false for the one document S3 sends without its namespace (POST object's PostResponse). */
export function sendXml(ex: Exchange, requestId: string, status: number, root: string, body: XmlNode, headers: Headers = {}, xmlns = true): void {
  const bytes = xmlDocument(root, body, xmlns);
  ex.res.writeHead(status, mergeHeaders(idHeaders(requestId), headers, { 'Content-Type': 'application/xml', 'Content-Length': bytes.length }));
  if (ex.req.method !== 'HEAD') ex.bytesOut.bytes += bytes.length;
  ex.res.end(ex.req.method === 'HEAD' ? undefined : bytes);
}

export function sendEmpty(ex: Exchange, requestId: string, status: number, headers: Headers = {}): void {
  ex.res.writeHead(status, mergeHeaders({ 'Content-Length': 0 }, idHeaders(requestId), headers));
  ex.res.end();
}

/**
 * The error as S3 sends it. HEAD and 304 answers carry no body. If the
 * request body was not read to its end, the connection closes after the
 * answer, so the rest of the body is not parsed as the next request.
 */
export function sendError(ex: Exchange, requestId: string, error: S3Error, resource: string): void {
  if (!ex.req.complete) closeAfterResponse(ex);
  if (ex.req.method === 'HEAD' || error.status === 304) {
    sendEmpty(ex, requestId, error.status, { ...error.headers, ...(error.status === 304 ? {} : { 'x-amz-error-code': error.code }) });
    return;
  }
  const details: Record<string, string> = { ...error.details };
  const bytes = xmlDocument(
    'Error',
    { Code: error.code, Message: error.message, ...details, Resource: resource, RequestId: requestId, HostId: requestId },
    false,
  );
  ex.res.writeHead(error.status, mergeHeaders(idHeaders(requestId), error.headers, { 'Content-Type': 'application/xml', 'Content-Length': bytes.length }));
  ex.bytesOut.bytes += bytes.length;
  ex.res.end(bytes);
}

/** ISO 8601 with milliseconds, as S3 writes times in XML. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** RFC 7231 IMF-fixdate, for Last-Modified (objects written in one burst share their second: formatting a date was 2 us of a 4 KiB GET). */
export const httpTime: (ms: number) => string = lastSecondText((ms) => new Date(ms).toUTCString());

export function quotedEtag(etag: string): string {
  return `"${etag}"`;
}
