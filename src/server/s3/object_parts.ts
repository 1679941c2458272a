// GET and HEAD of one part of an object (`?partNumber=N`, docs/S3.md,
// "Parts of an object"), as S3 answers them:
//   1. N is an integer in 1..10000, else 400 InvalidArgument; with a Range
//      header too, 400 InvalidRequest (one or the other).
//   2. An object made by CompleteMultipartUpload has as many parts as the
//      Complete listed; any other object (a PUT, a copy, a POST form) has
//      one, its whole self. N counts the parts in order from 1: the part
//      numbers the upload used (which may have gaps) are not what N names,
//      since clients ask for 1..x-amz-mp-parts-count.
//   3. N beyond the parts: 416 InvalidPartNumber.
//   4. The answer is the part's bytes as a ranged answer: 206 Partial
//      Content, Content-Range of the part within the object, the ETag of
//      the whole object; x-amz-mp-parts-count for an object made of parts
//      (S3 gives it only to such objects, and only with partNumber). An
//      empty object's one part is empty: 200, no Content-Range (there is no
//      byte range to name).
// A versionId names the version whose parts are read; the conditions
// (If-Match...) are checked against it as on a plain GET. An encrypted
// object's parts are its plaintext's (sizes and bytes), read with the
// SSE-C key as a plain GET reads them (sse_ops.ts). With
// x-amz-checksum-mode: ENABLED the part's checksum is answered where the
// object keeps one (object_ops.ts keptChecksumHeaders).
import type { ByteRange } from '../../store/index.js';
import { checkReadConditions } from './conditions.js';
import { requireObject } from './objects.js';
import { keptChecksumHeaders, readEncryptionHeaders, streamObject } from './object_ops.js';
import { CUSTOMER_PREFIX, customerKeyOf, partSize } from './sse.js';
import { openReadable } from './sse_ops.js';
import { objectHeaders } from './object_headers.js';
import { lockHeaders } from './object_lock.js';
import type { OpContext, Operation } from './operation.js';
import { bucketOf, keyOf, partNumberParam } from './operation.js';
import type { ObjectRecord } from './records.js';
import { sendEmpty } from './respond.js';
import { S3Error } from './s3_errors.js';
import { taggingCountHeader } from './tagging.js';
import { requestedVersion, requireVersion, versionHeaders } from './versioning_ops.js';

/** True for an object made by CompleteMultipartUpload (its ETag is `md5-N`). */
export function isMultipart(record: ObjectRecord): boolean {
  return record.uploadId !== undefined || record.etag.includes('-');
}

/** How many parts N may name (rule 2). */
export function partsCountOf(record: ObjectRecord): number {
  return isMultipart(record) ? record.parts.length : 1;
}

/** The plaintext size of each part of the object, in order (an encrypted part's stored bytes are more). */
export function partSizesOf(record: ObjectRecord): number[] {
  return record.parts.map((p) => partSize(record, p.sizeBytes));
}

/** The ranges of parts, an object so that a broken variant can replace it (testing/mutants/http_check_mutants.ts). */
export class PartRanges {
  /** The bytes of part `partNumber` (rule 2) within the object. Throws 416 InvalidPartNumber (rule 3). */
  rangeOf(record: ObjectRecord, partNumber: number): ByteRange {
    if (partNumber > partsCountOf(record)) throw new S3Error(416, 'InvalidPartNumber', 'The requested partnumber is not satisfiable', { PartNumberRequested: String(partNumber), ActualPartCount: String(partsCountOf(record)) });
    if (!isMultipart(record)) return { start: 0, end: record.sizeBytes };
    const sizes = partSizesOf(record);
    let start = 0;
    for (const size of sizes.slice(0, partNumber - 1)) start += size;
    const size = sizes[partNumber - 1];
    if (size === undefined) throw new Error(`unreachable: part ${partNumber} of ${sizes.length}`);
    return { start, end: start + size };
  }
}

export const PART_RANGES = new PartRanges();

/** The part number asked for (rule 1). */
function requestedPart(c: OpContext): number {
  const partNumber = partNumberParam(c);
  if (c.r.ex.req.headers.range !== undefined) throw new S3Error(400, 'InvalidRequest', 'Cannot specify both Range header and partNumber query parameter');
  return partNumber;
}

/** The headers a part answer adds to the object's (rule 4): Content-Range when there are bytes, the part count of a multipart object. */
function partHeaders(record: ObjectRecord, range: ByteRange): Record<string, string> {
  return {
    ...(range.end > range.start ? { 'Content-Range': `bytes ${range.start}-${range.end - 1}/${record.sizeBytes}` } : {}),
    ...(isMultipart(record) ? { 'x-amz-mp-parts-count': String(record.parts.length) } : {}),
  };
}

/** The record the request names: its version, or the current one. */
function namedRecord(c: OpContext, method: 'GET' | 'HEAD'): () => Promise<ObjectRecord> {
  const [bucket, key] = [bucketOf(c), keyOf(c)];
  const selector = requestedVersion(c);
  return selector === undefined ? () => requireObject(c.core, bucket, key) : () => requireVersion(c.core, { bucket, key }, selector, method);
}

/** GetObject with partNumber (authorized as GetObject, or GetObjectVersion with a versionId). */
export const getObjectPartOp: Operation = {
  name: 'GetObject',
  run: async (c) => {
    const partNumber = requestedPart(c);
    const opened = await openReadable(
      c.core,
      { bucket: bucketOf(c), key: keyOf(c), given: customerKeyOf(c.r.ex, CUSTOMER_PREFIX) },
      (record) => {
        checkReadConditions(c.r.ex.req.headers, record);
        return PART_RANGES.rangeOf(record, partNumber);
      },
      namedRecord(c, 'GET'),
    );
    const extra = { ...partHeaders(opened.record, opened.range), ...keptChecksumHeaders(c, opened.record, partNumber - 1) };
    await streamObject(c, opened, extra['Content-Range'] !== undefined, extra);
  },
};

/** HeadObject with partNumber: the headers GET would send, and the part's length. */
export const headObjectPartOp: Operation = {
  name: 'HeadObject',
  run: async (c) => {
    const partNumber = requestedPart(c);
    const record = await namedRecord(c, 'HEAD')();
    const encryption = readEncryptionHeaders(c, record);
    checkReadConditions(c.r.ex.req.headers, record);
    const range = PART_RANGES.rangeOf(record, partNumber);
    const extra = { ...partHeaders(record, range), ...keptChecksumHeaders(c, record, partNumber - 1) };
    const headers = { ...objectHeaders(record, c.r.query), ...taggingCountHeader(record.tags), ...versionHeaders(record), ...lockHeaders(record), ...encryption, ...extra, 'Content-Length': range.end - range.start };
    sendEmpty(c.r.ex, c.r.requestId, extra['Content-Range'] !== undefined ? 206 : 200, headers);
  },
};
