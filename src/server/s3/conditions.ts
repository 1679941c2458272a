// Conditional requests (RFC 9110 section 13, as S3 applies them).
//
// GET/HEAD: If-Match fails -> 412; else If-Unmodified-Since fails -> 412;
// If-None-Match matches -> 304; else If-Modified-Since not newer -> 304.
// Dates compare at one-second resolution (Last-Modified has no more), and
// an unparsable date is ignored, as HTTP says.
// CopyObject's and UploadPartCopy's x-amz-copy-source-if-* work alike on
// the source, but every failure is 412.
// Writes (PutObject, CompleteMultipartUpload, DeleteObject) honour If-Match
// (412 if the ETag differs; 404 NoSuchKey if there is no object) and, except
// DeleteObject, If-None-Match: * (412 if the object exists). What S3 does not
// define for a write (If-None-Match with an ETag, If-Modified-Since,
// If-Unmodified-Since; If-None-Match on a delete) is refused 501: a
// condition that was silently ignored would be a write the client did not ask
// for. The check runs under the object's lock, against the object the write
// replaces, so no other write slips in between.
import type { IncomingHttpHeaders } from 'node:http';
import type { ObjectRecord } from './records.js';
import { S3Error, noSuchKey, notImplemented, preconditionFailed } from './s3_errors.js';
import { httpTime, quotedEtag } from './respond.js';

interface Conditions {
  readonly ifMatch: string | undefined;
  readonly ifNoneMatch: string | undefined;
  readonly ifModifiedSince: string | undefined;
  readonly ifUnmodifiedSince: string | undefined;
}

export function checkReadConditions(headers: IncomingHttpHeaders, record: ObjectRecord): void {
  const outcome = evaluate(
    {
      ifMatch: headers['if-match'],
      ifNoneMatch: headers['if-none-match'],
      ifModifiedSince: headers['if-modified-since'],
      ifUnmodifiedSince: headers['if-unmodified-since'],
    },
    record,
  );
  if (outcome === 'failed') throw preconditionFailed();
  if (outcome === 'not-modified') {
    throw new S3Error(304, 'NotModified', 'Not Modified', {}, { ETag: quotedEtag(record.etag), 'Last-Modified': httpTime(record.mtimeMs) });
  }
}

export function checkCopySourceConditions(headers: IncomingHttpHeaders, record: ObjectRecord): void {
  const one = (name: string): string | undefined => {
    const v = headers[name];
    return typeof v === 'string' ? v : undefined;
  };
  const outcome = evaluate(
    {
      ifMatch: one('x-amz-copy-source-if-match'),
      ifNoneMatch: one('x-amz-copy-source-if-none-match'),
      ifModifiedSince: one('x-amz-copy-source-if-modified-since'),
      ifUnmodifiedSince: one('x-amz-copy-source-if-unmodified-since'),
    },
    record,
  );
  if (outcome !== 'ok') throw preconditionFailed();
}

/** True if the request carries a condition a write must check. */
export function hasWriteConditions(headers: IncomingHttpHeaders): boolean {
  return WRITE_CONDITION_HEADERS.some((name) => headers[name] !== undefined);
}

const WRITE_CONDITION_HEADERS = ['if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since'] as const;

/**
 * Throws 501 for a condition S3 does not define on this write (see the
 * header comment); call before reading the body.
 */
export function refuseUndefinedWriteConditions(headers: IncomingHttpHeaders, write: 'put' | 'delete'): void {
  for (const name of ['if-modified-since', 'if-unmodified-since']) {
    if (headers[name] !== undefined) throw notImplemented(`${name} on a write`);
  }
  const ifNoneMatch = headers['if-none-match'];
  if (ifNoneMatch === undefined) return;
  if (write === 'delete') throw notImplemented('if-none-match on DeleteObject');
  if (ifNoneMatch.trim() !== '*') throw notImplemented('if-none-match other than * on a write');
}

/** A write's conditions against the object it replaces or deletes (absent: undefined). */
export function checkWriteConditions(headers: IncomingHttpHeaders, old: ObjectRecord | undefined, key: string): void {
  const ifNoneMatch = headers['if-none-match'];
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() === '*' && old !== undefined) throw preconditionFailed();
  const ifMatch = headers['if-match'];
  if (ifMatch === undefined) return;
  if (old === undefined) throw noSuchKey(key);
  if (!etagMatches(ifMatch, old.etag)) throw preconditionFailed();
}

function evaluate(c: Conditions, record: ObjectRecord): 'ok' | 'failed' | 'not-modified' {
  const modifiedS = Math.floor(record.mtimeMs / 1000);
  if (c.ifMatch !== undefined) {
    if (!etagMatches(c.ifMatch, record.etag)) return 'failed';
  } else {
    const since = seconds(c.ifUnmodifiedSince);
    if (since !== undefined && modifiedS > since) return 'failed';
  }
  if (c.ifNoneMatch !== undefined) {
    if (etagMatches(c.ifNoneMatch, record.etag)) return 'not-modified';
  } else {
    const since = seconds(c.ifModifiedSince);
    if (since !== undefined && modifiedS <= since) return 'not-modified';
  }
  return 'ok';
}

/** A header's entity tags ("a", W/"b", or *) against an ETag without quotes. */
export function etagMatches(header: string, etag: string): boolean {
  return header.split(',').some((raw) => {
    const tag = raw.trim();
    return tag === '*' || tag.replace(/^W\//, '').replaceAll('"', '') === etag;
  });
}

function seconds(date: string | undefined): number | undefined {
  if (date === undefined) return undefined;
  const ms = Date.parse(date);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}
