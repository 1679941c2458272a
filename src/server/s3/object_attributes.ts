// GetObjectAttributes (`GET /bucket/key?attributes`, docs/S3.md, "Object
// attributes"): what S3 knows about an object without its bytes.
//
// x-amz-object-attributes lists what is asked, of ETag, Checksum,
// ObjectParts, StorageClass, ObjectSize (comma-separated, case as S3
// spells them); missing or empty is 400 InvalidRequest, an unknown name 400
// InvalidArgument. A versionId names the version; Last-Modified and
// x-amz-version-id are answered as headers. Decisions:
//   1. ETag is the whole object's, without quotes (as S3 gives it here).
//   2. Checksum is the checksum the object was uploaded with
//      (checksum_section.ts): a PutObject's verified x-amz-checksum-*
//      (ChecksumType FULL_OBJECT), or the composite checksum of an upload
//      created with x-amz-checksum-algorithm (ChecksumType COMPOSITE; the
//      value without the `-N` that Complete and HEAD show). An object
//      stored without one, or before checksums were kept, has none, and
//      asking for it is not an error (S3 omits it likewise).
//   3. ObjectParts only for an object made by CompleteMultipartUpload (S3
//      omits it for others): PartsCount, and, as S3 documents, Part
//      elements only when the object keeps a composite checksum: each with
//      its number, size and checksum, paged by the
//      x-amz-part-number-marker and x-amz-max-parts headers (at most 1000,
//      as S3). A part's number is its position in the object
//      (1..PartsCount), the number GET ?partNumber takes (object_parts.ts,
//      rule 2), whatever numbers the upload used.
//   4. StorageClass is STANDARD, the only class stored.
// An SSE-C object needs its key (x-amz-server-side-encryption-customer-*);
// sizes are the plaintext's.
// Authorized as s3:GetObjectAttributes (s3:GetObjectVersionAttributes with
// a versionId, authorize.ts) and, as S3 requires both, s3:GetObject
// (s3:GetObjectVersion) on the object.
import { CorruptionError } from '../../base/index.js';
import type { ObjectChecksum } from './checksum_section.js';
import { checksumOf } from './checksum_section.js';
import { MAX_PART_NUMBER } from './multipart.js';
import { isMultipart, partSizesOf } from './object_parts.js';
import { requireObject } from './objects.js';
import type { OpContext, Operation } from './operation.js';
import { bucketOf, keyOf } from './operation.js';
import type { ObjectRecord } from './records.js';
import { headerOf } from './request.js';
import { httpTime, sendXml } from './respond.js';
import { S3Error, invalidArgument } from './s3_errors.js';
import { CUSTOMER_PREFIX, checkKey, customerKeyOf, encryptionOf } from './sse.js';
import { requestedVersion, requireVersion, versionHeaders } from './versioning_ops.js';
import type { XmlNode } from './xml.js';

const ATTRIBUTES = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'] as const;
type Attribute = (typeof ATTRIBUTES)[number];
/** S3's page of parts. */
const MAX_PARTS_PER_PAGE = 1000;

/** The attributes x-amz-object-attributes asks for. Throws InvalidRequest (none), InvalidArgument (unknown). */
export function requestedAttributes(header: string | undefined): Set<Attribute> {
  const names = (header ?? '').split(',').map((n) => n.trim()).filter((n) => n !== '');
  if (names.length === 0) throw new S3Error(400, 'InvalidRequest', 'The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty');
  const out = new Set<Attribute>();
  for (const name of names) {
    const known = ATTRIBUTES.find((a) => a === name);
    if (known === undefined) throw invalidArgument('Invalid attribute name specified.', { ArgumentName: 'x-amz-object-attributes', ArgumentValue: name });
    out.add(known);
  }
  return out;
}

/** A decimal header in [min, max] (values above max are max), or `fallback`. Throws InvalidArgument. */
function intHeader(c: OpContext, name: string, fallback: number, min: number, max: number): number {
  const text = headerOf(c.r.ex.req.headers, name)?.trim();
  if (text === undefined) return fallback;
  const value = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
  if (!(value >= min)) throw invalidArgument(`${name} must be an integer >= ${min}`, { ArgumentName: name, ArgumentValue: text });
  return Math.min(value, max);
}

/** The ObjectParts element (decision 3): the parts after `marker`, at most `maxParts`; Part elements only with part checksums. */
export function objectPartsOf(record: ObjectRecord, checksum: ObjectChecksum | undefined, page: { marker: number; maxParts: number }): XmlNode {
  const sizes = partSizesOf(record);
  const partSums = checksum?.type === 'COMPOSITE' ? checksum.parts : [];
  if (partSums.length > 0 && partSums.length !== sizes.length) throw new CorruptionError(`object record: ${sizes.length} parts but ${partSums.length} part checksums`);
  const numbered = partSums.map((value, i) => ({ PartNumber: i + 1, Size: sizes[i] ?? 0, ...checksumElement(checksum, value) }));
  const after = numbered.slice(page.marker);
  const shown = after.slice(0, page.maxParts);
  const truncated = after.length > shown.length;
  const last = shown.at(-1);
  return {
    PartsCount: record.parts.length,
    PartNumberMarker: page.marker,
    ...(truncated && last !== undefined ? { NextPartNumberMarker: last.PartNumber } : {}),
    MaxParts: page.maxParts,
    IsTruncated: truncated,
    ...(shown.length > 0 ? { Part: shown } : {}),
  };
}

/** `Checksum<ALG>`: `value` as S3's XML names it (crc64nvme -> ChecksumCRC64NVME). */
function checksumElement(checksum: ObjectChecksum | undefined, value: string): XmlNode {
  return checksum === undefined ? {} : { [`Checksum${checksum.algorithm.toUpperCase()}`]: value };
}

/** The Checksum element (decision 2). */
function checksumNode(checksum: ObjectChecksum): XmlNode {
  return { ...checksumElement(checksum, checksum.value), ChecksumType: checksum.type };
}

export const getObjectAttributesOp: Operation = {
  name: 'GetObjectAttributes',
  run: async (c) => {
    const [bucket, key] = [bucketOf(c), keyOf(c)];
    const asked = requestedAttributes(headerOf(c.r.ex.req.headers, 'x-amz-object-attributes'));
    const marker = intHeader(c, 'x-amz-part-number-marker', 0, 0, MAX_PART_NUMBER);
    const maxParts = intHeader(c, 'x-amz-max-parts', MAX_PARTS_PER_PAGE, 0, MAX_PARTS_PER_PAGE);
    const selector = requestedVersion(c);
    await c.access.checkObject('GetObject', bucket, key, selector !== undefined, selector);
    const record = selector === undefined ? await requireObject(c.core, bucket, key) : await requireVersion(c.core, { bucket, key }, selector, 'GET');
    // An SSE-C object's attributes need its key, as S3 asks for it (sse.ts).
    checkKey(encryptionOf(record), customerKeyOf(c.r.ex, CUSTOMER_PREFIX));
    const checksum = checksumOf(record);
    sendXml(c.r.ex, c.r.requestId, 200, 'GetObjectAttributesResponse', {
      ...(asked.has('ETag') ? { ETag: record.etag } : {}),
      ...(asked.has('Checksum') && checksum !== undefined ? { Checksum: checksumNode(checksum) } : {}),
      ...(asked.has('ObjectParts') && isMultipart(record) ? { ObjectParts: objectPartsOf(record, checksum, { marker, maxParts }) } : {}),
      ...(asked.has('StorageClass') ? { StorageClass: 'STANDARD' } : {}),
      ...(asked.has('ObjectSize') ? { ObjectSize: record.sizeBytes } : {}),
    }, { 'Last-Modified': httpTime(record.mtimeMs), ...versionHeaders(record) });
  },
};
