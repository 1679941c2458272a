// Multipart operations: CreateMultipartUpload, UploadPart, UploadPartCopy,
// CompleteMultipartUpload, AbortMultipartUpload.
import type { ByteRange } from '../../store/index.js';
import { abortUpload, completeUpload, createUpload, defaultChecksumType, MAX_PART_NUMBER, readUpload, requireUpload, uploadPart } from './multipart.js';
import type { ClaimedChecksum, RequestedPart } from './multipart.js';
import { refuseUndefinedWriteConditions } from './conditions.js';
import { metadataOf } from './object_headers.js';
import { requestedObjectAcl, withWriteAcl } from './object_acl.js';
import { requireBucket } from './buckets.js';
import { lockOfWrite } from './object_lock.js';
import { encodeLockSection } from './object_lock_records.js';
import { MAX_PUT_BYTES, Md5Tap, checksumEcho, checksumElementName, checksumElements, copySourceOf, openCopySource, writeCheck } from './object_ops.js';
import type { OpContext, Operation } from './operation.js';
import { bucketOf, keyOf, partNumberParam } from './operation.js';
import type { ObjectRecord, PartRecord, UploadRecord } from './records.js';
import { openBody, readXmlBody, requireDeclaredLength } from './request_body.js';
import { isoTime, quotedEtag, sendEmpty, sendXml } from './respond.js';
import { versionIdOf } from './versioning.js';
import { writtenVersionHeaders } from './versioning_ops.js';
import { S3Error, invalidArgument, invalidRequest, malformedXml } from './s3_errors.js';
import { parseUploadId, uploadIdText } from './shard_keys.js';
import { headerOf } from './request.js';
import { asNode, child, children, optionalText, parseXml, text } from './xml.js';
import { tagsOfHeader } from './tagging.js';
import { CHECKSUM_ALGORITHMS, isChecksumAlgorithm } from './checksums.js';
import type { ChecksumType } from './checksum_section.js';
import { encodeUploadChecksumType } from './checksum_section.js';
import { isCombinable } from './crc_combine.js';
import type { IncomingHttpHeaders } from 'node:http';
import { CUSTOMER_PREFIX, checkKey, customerKeyOf, encryptionHeaders, encryptionOf, etagDigest, newEncryption } from './sse.js';
import { storedBody, uploadEncryption, uploadSections } from './sse_ops.js';

/** 10,000 parts of ~120 bytes of XML each, with room to spare. */
const MAX_COMPLETE_BODY_BYTES = 4 * 1024 * 1024;

function target(c: OpContext): { bucket: string; key: Buffer; uploadId: Buffer } {
  return { bucket: bucketOf(c), key: keyOf(c), uploadId: parseUploadId(c.r.query.get('uploadId') ?? '') };
}

export const createMultipartUploadOp: Operation = {
  name: 'CreateMultipartUpload',
  run: async (c) => {
    const [bucket, key] = [bucketOf(c), keyOf(c)];
    const headers = c.r.ex.req.headers;
    const { algorithm: checksumAlgorithm, type: checksumType } = uploadChecksum(headers);
    await requireBucket(c.core, bucket);
    // The lock state (headers, or the bucket's default counted from now) is the upload's, then the object's; so is the encryption.
    const lock = await lockOfWrite(c, bucket, key);
    const encryption = await newEncryption(c.core, bucket, c.r.ex);
    const encrypted = uploadSections(encryption).sections;
    const locked = lock === undefined && encrypted === undefined ? undefined : { ...encrypted, ...(lock === undefined ? {} : { lock: encodeLockSection(lock) }) };
    // The owner and the ACL asked for are kept in the upload record too; Complete gives every section to the object (object_acl.ts).
    const withAcl = withWriteAcl(locked, await requestedObjectAcl(c.core, { bucket, bucketOwnerId: c.owner.id, writerId: c.access.requesterId, headers }));
    // Who started the upload, for the listings (records.ts, RecordSection.initiator).
    const initiator = c.access.requesterId;
    const withInitiator = initiator === undefined ? withAcl : { ...withAcl, initiator: Buffer.from(initiator, 'utf8') };
    // A type other than the algorithm's default is kept with the upload (records.ts, RecordSection.checksumType).
    const withType = checksumType === undefined || checksumType === defaultChecksumType(checksumAlgorithm) ? withInitiator : { ...withInitiator, checksumType: encodeUploadChecksumType(checksumType) };
    const sections = withType === undefined ? {} : { sections: withType };
    const uploadId = await createUpload(c.core, bucket, key, { ...metadataOf(headers), tags: tagsOfHeader(headers), checksumAlgorithm, ...sections });
    const answerHeaders = {
      ...(checksumType === undefined ? {} : { 'x-amz-checksum-algorithm': checksumAlgorithm.toUpperCase(), 'x-amz-checksum-type': checksumType }),
      ...encryptionHeaders(encryption?.params, encryption?.customerKey),
    };
    sendXml(c.r.ex, c.r.requestId, 200, 'InitiateMultipartUploadResult', { Bucket: bucket, Key: key.toString('utf8'), UploadId: uploadIdText(uploadId) }, answerHeaders);
  },
};

/**
 * x-amz-checksum-algorithm ('' if absent) and x-amz-checksum-type of
 * CreateMultipartUpload, as S3 allows them: COMPOSITE with CRC32, CRC32C,
 * SHA-1 and SHA-256 (their default), FULL_OBJECT with CRC32, CRC32C and
 * CRC64NVME (CRC64NVME's default and only type: the CRCs combine,
 * crc_combine.ts); another pair is 400 InvalidRequest.
 */
function uploadChecksum(headers: IncomingHttpHeaders): { algorithm: string; type: ChecksumType | undefined } {
  const asked = (headerOf(headers, 'x-amz-checksum-algorithm') ?? '').trim().toLowerCase();
  const type = (headerOf(headers, 'x-amz-checksum-type') ?? '').trim().toUpperCase();
  if (type !== '' && type !== 'COMPOSITE' && type !== 'FULL_OBJECT') throw invalidArgument('Value for x-amz-checksum-type header is invalid.', { ArgumentName: 'x-amz-checksum-type' });
  if (asked === '') {
    if (type !== '') throw new S3Error(400, 'InvalidRequest', 'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.');
    return { algorithm: '', type: undefined };
  }
  if (!isChecksumAlgorithm(asked)) throw new S3Error(400, 'InvalidRequest', 'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]');
  if (type === '') return { algorithm: asked, type: defaultChecksumType(asked) };
  const allowed = type === 'FULL_OBJECT' ? isCombinable(asked) : asked !== 'crc64nvme';
  if (!allowed) throw new S3Error(400, 'InvalidRequest', `The ${type} checksum type cannot be used with the ${asked} checksum algorithm.`);
  return { algorithm: asked, type };
}

export const uploadPartOp: Operation = {
  name: 'UploadPart',
  run: async (c) => {
    const t = target(c);
    requireDeclaredLength(c.r.ex, c.auth);
    const partNumber = partNumberParam(c);
    const encryption = await uploadEncryption(c.core, t, customerKeyOf(c.r.ex, CUSTOMER_PREFIX));
    const body = openBody(c.r.ex, c.auth, MAX_PUT_BYTES);
    const checkUpload = (upload: UploadRecord): void => {
      const sent = body.checksumAlgorithm ?? '';
      if (upload.checksumAlgorithm !== '' && sent !== upload.checksumAlgorithm) {
        throw new S3Error(400, 'InvalidRequest', `Checksum Type mismatch occurred, expected checksum Type: ${upload.checksumAlgorithm}, actual checksum Type: ${sent === '' ? 'null' : sent}`);
      }
    };
    const stored = storedBody(encryption, body, partNumber).body;
    const part = await uploadPart(c.core, t, { partNumber, body: stored, digests: () => ({ md5: etagDigest(encryption, body.md5), checksum: body.verifiedChecksum }), checkUpload });
    sendEmpty(c.r.ex, c.r.requestId, 200, { ETag: quotedEtag(part.md5.toString('hex')), ...checksumEcho(part.checksum), ...encryptionHeaders(encryption?.params, encryption?.customerKey) });
  },
};

export const uploadPartCopyOp: Operation = {
  name: 'UploadPartCopy',
  run: async (c) => {
    const t = target(c);
    const partNumber = partNumberParam(c);
    const upload = await requireUpload(c.core, t);
    const encryption = await uploadEncryption(c.core, t, customerKeyOf(c.r.ex, CUSTOMER_PREFIX));
    const rangeHeader = headerOf(c.r.ex.req.headers, 'x-amz-copy-source-range');
    const opened = await openCopySource(c, copySourceOf(c), () => undefined, rangeHeader === undefined ? undefined : (record) => copyRange(rangeHeader, record));
    // An upload made with a checksum algorithm gets each copied part's checksum computed, as S3 does.
    const hashed = new Md5Tap(opened.body, isChecksumAlgorithm(upload.checksumAlgorithm) ? upload.checksumAlgorithm : undefined);
    let part: PartRecord;
    try {
      part = await uploadPart(c.core, t, { partNumber, body: storedBody(encryption, hashed, partNumber).body, digests: () => ({ md5: etagDigest(encryption, hashed.md5), checksum: hashed.checksum }) });
    } finally {
      opened.release();
    }
    sendXml(c.r.ex, c.r.requestId, 200, 'CopyPartResult', {
      LastModified: isoTime(part.mtimeMs),
      ETag: quotedEtag(part.md5.toString('hex')),
      ...checksumElements(part.checksum),
    }, {
      // As CopyObject: the version copied, when the source bucket has versions.
      ...(opened.record.version === undefined ? {} : { 'x-amz-copy-source-version-id': versionIdOf(opened.record) }),
      ...encryptionHeaders(encryption?.params, encryption?.customerKey),
    });
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
    // Its x-amz-checksum-* header is the object's checksum (checked by completeUpload), not the part list's.
    const requested = partsOfBody(await readXmlBody(c.r.ex, c.auth, MAX_COMPLETE_BODY_BYTES, 'object'));
    const claimed = claimedChecksum(headers);
    // An SSE-C key given to Complete is checked against the upload (a retried Complete finds none: the object answers).
    const given = customerKeyOf(c.r.ex, CUSTOMER_PREFIX);
    const pending = given === undefined ? undefined : await readUpload(c.core, t);
    if (pending !== undefined) checkKey(encryptionOf(pending), given);
    // A failed condition leaves the upload as it was: the client may retry or abort it.
    const { record, checksum, checksumType } = await completeUpload(c.core, t, requested, { check: writeCheck(headers, t.key), claimed });
    const host = c.r.ex.req.headers.host ?? 'localhost';
    sendXml(c.r.ex, c.r.requestId, 200, 'CompleteMultipartUploadResult', {
      Location: `http://${host}/${t.bucket}/${encodeURI(t.key.toString('utf8'))}`,
      Bucket: t.bucket,
      Key: t.key.toString('utf8'),
      ETag: quotedEtag(record.etag),
      ...checksumElements(checksum),
      ...(checksumType === undefined ? {} : { ChecksumType: checksumType }),
    }, { ...writtenVersionHeaders(record), ...encryptionHeaders(encryptionOf(record), given) });
  },
};


/** CompleteMultipartUpload's x-amz-checksum-<algorithm> (the object's checksum) and x-amz-checksum-type, if given. Throws InvalidRequest, InvalidArgument. */
function claimedChecksum(headers: IncomingHttpHeaders): ClaimedChecksum | undefined {
  const given = CHECKSUM_ALGORITHMS.flatMap((algorithm) => {
    const value = headerOf(headers, `x-amz-checksum-${algorithm}`);
    return value === undefined ? [] : [{ algorithm, value: value.trim() }];
  });
  if (given.length > 1) throw invalidRequest('Expecting a single x-amz-checksum- header.');
  const type = headerOf(headers, 'x-amz-checksum-type')?.trim().toUpperCase();
  if (type !== undefined && type !== 'COMPOSITE' && type !== 'FULL_OBJECT') throw invalidArgument('Value for x-amz-checksum-type header is invalid.', { ArgumentName: 'x-amz-checksum-type' });
  const checksum = given[0];
  if (checksum === undefined && type === undefined) return undefined;
  return { checksum, type };
}

function partsOfBody(body: Buffer): RequestedPart[] {
  const doc = asNode(child(parseXml(body), 'CompleteMultipartUpload'), 'CompleteMultipartUpload');
  const parts = children(doc, 'Part').map((p) => {
    const node = asNode(p, 'Part');
    const numberText = text(child(node, 'PartNumber'), 'PartNumber').trim();
    const partNumber = /^\d{1,5}$/.test(numberText) ? Number(numberText) : NaN;
    if (!(partNumber >= 1 && partNumber <= MAX_PART_NUMBER)) throw malformedXml(`bad PartNumber ${JSON.stringify(numberText)}`);
    const given = CHECKSUM_ALGORITHMS.flatMap((algorithm) => {
      const value = optionalText(node, checksumElementName(algorithm));
      return value === undefined ? [] : [{ algorithm, value: value.trim() }];
    });
    if (given.length > 1) throw invalidRequest(`part ${partNumber} gives more than one checksum`);
    return { partNumber, etag: text(child(node, 'ETag'), 'ETag'), checksum: given[0] };
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
