// Multipart operations: CreateMultipartUpload, UploadPart, UploadPartCopy,
// CompleteMultipartUpload, AbortMultipartUpload.
import type { ByteRange } from '../../store/index.js';
import { abortUpload, completeUpload, createUpload, MAX_PART_NUMBER, requireUpload, uploadPart } from './multipart.js';
import type { RequestedPart } from './multipart.js';
import { refuseUndefinedWriteConditions } from './conditions.js';
import { metadataOf } from './object_headers.js';
import { MAX_PUT_BYTES, Md5Tap, copySourceOf, openCopySource, writeCheck } from './object_ops.js';
import type { OpContext, Operation } from './operation.js';
import { bucketOf, keyOf, partNumberParam } from './operation.js';
import type { ObjectRecord, PartRecord } from './records.js';
import { openBody, readXmlBody } from './request_body.js';
import { isoTime, quotedEtag, sendEmpty, sendXml } from './respond.js';
import { S3Error, invalidArgument, malformedXml } from './s3_errors.js';
import { parseUploadId, uploadIdText } from './shard_keys.js';
import { headerOf } from './request.js';
import { asNode, child, children, parseXml, text } from './xml.js';

/** 10,000 parts of ~120 bytes of XML each, with room to spare. */
const MAX_COMPLETE_BODY_BYTES = 4 * 1024 * 1024;

function target(c: OpContext): { bucket: string; key: Buffer; uploadId: Buffer } {
  return { bucket: bucketOf(c), key: keyOf(c), uploadId: parseUploadId(c.r.query.get('uploadId') ?? '') };
}

export const createMultipartUploadOp: Operation = {
  name: 'CreateMultipartUpload',
  run: async (c) => {
    const [bucket, key] = [bucketOf(c), keyOf(c)];
    const uploadId = await createUpload(c.core, bucket, key, metadataOf(c.r.ex.req.headers));
    sendXml(c.r.ex, c.r.requestId, 200, 'InitiateMultipartUploadResult', { Bucket: bucket, Key: key.toString('utf8'), UploadId: uploadIdText(uploadId) });
  },
};

export const uploadPartOp: Operation = {
  name: 'UploadPart',
  run: async (c) => {
    const t = target(c);
    const partNumber = partNumberParam(c);
    const body = openBody(c.r.ex, c.auth, MAX_PUT_BYTES);
    const part = await uploadPart(c.core, t, partNumber, body, () => body.md5);
    sendEmpty(c.r.ex, c.r.requestId, 200, { ETag: quotedEtag(part.md5.toString('hex')) });
  },
};

export const uploadPartCopyOp: Operation = {
  name: 'UploadPartCopy',
  run: async (c) => {
    const t = target(c);
    const partNumber = partNumberParam(c);
    await requireUpload(c.core, t);
    const rangeHeader = headerOf(c.r.ex.req.headers, 'x-amz-copy-source-range');
    const opened = await openCopySource(c, copySourceOf(c), () => undefined, rangeHeader === undefined ? undefined : (record) => copyRange(rangeHeader, record));
    const hashed = new Md5Tap(opened.body);
    let part: PartRecord;
    try {
      part = await uploadPart(c.core, t, partNumber, hashed, () => hashed.md5);
    } finally {
      opened.release();
    }
    sendXml(c.r.ex, c.r.requestId, 200, 'CopyPartResult', { LastModified: isoTime(part.mtimeMs), ETag: quotedEtag(part.md5.toString('hex')) });
  },
};

/** x-amz-copy-source-range: bytes=first-last, both given and inside the source. */
function copyRange(header: string, record: ObjectRecord): ByteRange {
  const m = /^bytes=(\d+)-(\d+)$/.exec(header.trim());
  const [first, last] = [Number(m?.[1]), Number(m?.[2])];
  if (m === null || !(first <= last)) throw invalidArgument('The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy', { ArgumentName: 'x-amz-copy-source-range' });
  if (last >= record.sizeBytes) throw new S3Error(416, 'InvalidRange', 'The requested range is not satisfiable', { ActualObjectSize: String(record.sizeBytes) });
  return { start: first, end: last + 1 };
}

export const completeMultipartUploadOp: Operation = {
  name: 'CompleteMultipartUpload',
  run: async (c) => {
    const t = target(c);
    const headers = c.r.ex.req.headers;
    refuseUndefinedWriteConditions(headers, 'put');
    const requested = partsOfBody(await readXmlBody(c.r.ex, c.auth, MAX_COMPLETE_BODY_BYTES));
    // A failed condition leaves the upload as it was: the client may retry or abort it.
    const record = await completeUpload(c.core, t, requested, writeCheck(headers, t.key).check);
    const host = c.r.ex.req.headers.host ?? 'localhost';
    sendXml(c.r.ex, c.r.requestId, 200, 'CompleteMultipartUploadResult', {
      Location: `http://${host}/${t.bucket}/${encodeURI(t.key.toString('utf8'))}`,
      Bucket: t.bucket,
      Key: t.key.toString('utf8'),
      ETag: quotedEtag(record.etag),
    });
  },
};

function partsOfBody(body: Buffer): RequestedPart[] {
  const doc = asNode(child(parseXml(body), 'CompleteMultipartUpload'), 'CompleteMultipartUpload');
  const parts = children(doc, 'Part').map((p) => {
    const node = asNode(p, 'Part');
    const numberText = text(child(node, 'PartNumber'), 'PartNumber').trim();
    const partNumber = /^\d{1,5}$/.test(numberText) ? Number(numberText) : NaN;
    if (!(partNumber >= 1 && partNumber <= MAX_PART_NUMBER)) throw malformedXml(`bad PartNumber ${JSON.stringify(numberText)}`);
    return { partNumber, etag: text(child(node, 'ETag'), 'ETag') };
  });
  if (parts.length > MAX_PART_NUMBER) throw malformedXml(`more than ${MAX_PART_NUMBER} parts`);
  return parts;
}

export const abortMultipartUploadOp: Operation = {
  name: 'AbortMultipartUpload',
  run: async (c) => {
    const t = target(c);
    await abortUpload(c.core, t.bucket, t.key, t.uploadId);
    sendEmpty(c.r.ex, c.r.requestId, 204);
  },
};
