// Listings: ListObjectsV2, ListObjects (v1), ListMultipartUploads, ListParts.
// The walk itself is listing.ts; this file maps query parameters onto it
// and the page onto S3's XML (with EncodingType=url when asked).
import { CUSTOMER_PREFIX, checkKey, customerKeyOf, encryptionOf, partSize } from './sse.js';
import type { BucketAccess } from './access_records.js';
import { readBucketAccess } from './access.js';
import { requireBucket } from './buckets.js';
import type { Core } from './core.js';
import { mapLimit } from './core.js';
import type { ListItem, ListPage } from './listing.js';
import { afterCommonPrefix, decodeToken, encodeToken, listPage } from './listing.js';
import { MAX_PART_NUMBER, listParts, uploadChecksumType } from './multipart.js';
import type { OpContext, Operation } from './operation.js';
import { bucketOf, intParam, keyOf } from './operation.js';
import { ownerOfRecord } from './object_owner.js';
import { decodeObject, decodeUpload } from './records.js';
import type { ObjectRecord, UploadRecord } from './records.js';
import { isoTime, quotedEtag, sendXml } from './respond.js';
import { invalidArgument } from './s3_errors.js';
import { NS_OBJECT, NS_UPLOAD, VERSION_BYTES, bucketPrefix, parseUploadId, uploadIdText } from './shard_keys.js';
import { uriEncode } from './sigv4.js';
import type { XmlNode } from './xml.js';

/** S3's largest max-keys (ListObjects, ListObjectVersions) and max-parts. */
export const MAX_KEYS = 1000;
const READ_CONCURRENCY = 16;

interface Common {
  readonly bucket: string;
  readonly prefix: Buffer;
  readonly delimiter: Buffer | undefined;
  readonly maxKeys: number;
  readonly encode: (b: Buffer) => string;
  readonly encodingType: 'url' | undefined;
}

function commonParams(c: OpContext, maxName: string): Common {
  const q = c.r.query;
  const encodingType = q.get('encoding-type');
  if (encodingType !== undefined && encodingType !== 'url') throw invalidArgument('Invalid Encoding Method specified in Request', { ArgumentName: 'encoding-type' });
  const delimiter = q.get('delimiter');
  return {
    bucket: bucketOf(c),
    prefix: Buffer.from(q.get('prefix') ?? '', 'utf8'),
    delimiter: delimiter === undefined || delimiter === '' ? undefined : Buffer.from(delimiter, 'utf8'),
    maxKeys: intParam(c, maxName, MAX_KEYS, 0, MAX_KEYS),
    encode: encodingType === 'url' ? (b) => uriEncode(b, false) : (b) => b.toString('utf8'),
    encodingType: encodingType === 'url' ? 'url' : undefined,
  };
}

function objectPage(c: OpContext, p: Common, after: Buffer | undefined): Promise<ListPage> {
  return listPage(c.core, { ns: bucketPrefix(NS_OBJECT, p.bucket), prefix: p.prefix, delimiter: p.delimiter, after, maxItems: p.maxKeys, nameOf: (t) => t });
}

/** The Owner element of a listed object (or version): its owner (object_owner.ts). */
export function ownerNodeOf(c: OpContext, access: BucketAccess, record: ObjectRecord): XmlNode {
  const id = ownerOfRecord(record, access);
  return { ID: id, DisplayName: id === c.owner.id ? c.owner.displayName : c.access.users.displayName(id) };
}

/** Contents entries with their records (keys deleted since the listing are left out). */
async function contentsOf(c: OpContext, items: readonly ListItem[], withOwner: boolean, encode: (b: Buffer) => string): Promise<XmlNode[]> {
  const entries = items.flatMap((i) => (i.kind === 'entry' ? [i] : []));
  const access = withOwner ? await readBucketAccess(c.core, bucketOf(c)) : undefined;
  const rows = await mapLimit(entries, READ_CONCURRENCY, async (e) => {
    const bytes = await c.core.getOptional(e.shard.key);
    if (bytes === undefined) return undefined;
    // A damaged record is left out (and logged); its GET and HEAD answer 500.
    const record = c.core.decodeListed(e.shard.key, bytes, decodeObject);
    // A key whose current version is a delete marker is not listed (versioning.ts).
    if (record === undefined || record.version?.deleteMarker === true) return undefined;
    const row: XmlNode = {
      Key: encode(e.name),
      LastModified: isoTime(record.mtimeMs),
      ETag: quotedEtag(record.etag),
      Size: record.sizeBytes,
      StorageClass: 'STANDARD',
      ...(access !== undefined ? { Owner: ownerNodeOf(c, access, record) } : {}),
    };
    return row;
  });
  return rows.filter((r): r is XmlNode => r !== undefined);
}

function prefixesOf(items: readonly ListItem[], encode: (b: Buffer) => string): XmlNode[] {
  return items.flatMap((i) => (i.kind === 'prefix' ? [{ Prefix: encode(i.name) }] : []));
}

export const listObjectsV2Op: Operation = {
  name: 'ListObjectsV2',
  run: async (c) => {
    const p = commonParams(c, 'max-keys');
    await requireBucket(c.core, p.bucket);
    // An empty continuation-token is no token, as S3 treats it (and, as S3, echoed as sent).
    const tokenParam = c.r.query.get('continuation-token');
    const token = tokenParam === '' ? undefined : tokenParam;
    const startAfter = c.r.query.get('start-after');
    const after = token !== undefined ? decodeToken(token) : startAfter === undefined || startAfter === '' ? undefined : Buffer.from(startAfter, 'utf8');
    const page = await objectPage(c, p, after);
    const contents = await contentsOf(c, page.items, c.r.query.get('fetch-owner') === 'true', p.encode);
    const prefixes = prefixesOf(page.items, p.encode);
    sendXml(c.r.ex, c.r.requestId, 200, 'ListBucketResult', {
      Name: p.bucket,
      Prefix: p.encode(p.prefix),
      ...(p.delimiter !== undefined ? { Delimiter: p.encode(p.delimiter) } : {}),
      MaxKeys: p.maxKeys,
      ...(p.encodingType !== undefined ? { EncodingType: p.encodingType } : {}),
      KeyCount: contents.length + prefixes.length,
      IsTruncated: page.truncated,
      ...(tokenParam !== undefined ? { ContinuationToken: tokenParam } : {}),
      ...(page.truncated && page.next !== undefined ? { NextContinuationToken: encodeToken(page.next) } : {}),
      ...(startAfter !== undefined ? { StartAfter: p.encode(Buffer.from(startAfter, 'utf8')) } : {}),
      Contents: contents,
      CommonPrefixes: prefixes,
    });
  },
};

export const listObjectsV1Op: Operation = {
  name: 'ListObjects',
  run: async (c) => {
    const p = commonParams(c, 'max-keys');
    await requireBucket(c.core, p.bucket);
    const marker = Buffer.from(c.r.query.get('marker') ?? '', 'utf8');
    // A marker that is a common prefix (our own NextMarker) resumes after everything under it.
    const rolledUp = p.delimiter !== undefined && marker.length > 0 && marker.subarray(marker.length - p.delimiter.length).equals(p.delimiter);
    const after = marker.length === 0 ? undefined : rolledUp ? afterCommonPrefix(marker) : marker;
    const page = await objectPage(c, p, after);
    const last = page.items.at(-1);
    sendXml(c.r.ex, c.r.requestId, 200, 'ListBucketResult', {
      Name: p.bucket,
      // S3 encodes Delimiter, Marker, NextMarker, Key and CommonPrefixes in v1, but not Prefix (v2 encodes Prefix too).
      Prefix: p.prefix.toString('utf8'),
      Marker: p.encode(marker),
      ...(page.truncated && last !== undefined ? { NextMarker: p.encode(last.name) } : {}),
      MaxKeys: p.maxKeys,
      ...(p.delimiter !== undefined ? { Delimiter: p.encode(p.delimiter) } : {}),
      ...(p.encodingType !== undefined ? { EncodingType: p.encodingType } : {}),
      IsTruncated: page.truncated,
      Contents: await contentsOf(c, page.items, true, p.encode),
      CommonPrefixes: prefixesOf(page.items, p.encode),
    });
  },
};

/** `key \0 uploadId` -> key. */
function uploadName(tail: Buffer): Buffer | undefined {
  const at = tail.length - VERSION_BYTES - 1;
  return at >= 1 && tail[at] === 0 ? tail.subarray(0, at) : undefined;
}

function uploadCursor(c: OpContext): Buffer | undefined {
  const keyMarker = c.r.query.get('key-marker');
  if (keyMarker === undefined || keyMarker === '') return undefined;
  const idMarker = c.r.query.get('upload-id-marker');
  // Without an upload id marker, every upload of key-marker itself is skipped too.
  const id = idMarker === undefined || idMarker === '' ? Buffer.alloc(VERSION_BYTES, 0xff) : parseUploadId(idMarker);
  return Buffer.concat([Buffer.from(keyMarker, 'utf8'), Buffer.from([0]), id]);
}

export const listMultipartUploadsOp: Operation = {
  name: 'ListMultipartUploads',
  run: async (c) => {
    const p = commonParams(c, 'max-uploads');
    await requireBucket(c.core, p.bucket);
    const page = await listPage(c.core, { ns: bucketPrefix(NS_UPLOAD, p.bucket), prefix: p.prefix, delimiter: p.delimiter, after: uploadCursor(c), maxItems: p.maxKeys, nameOf: uploadName });
    const uploads = await uploadRows(c.core, c, page.items, p);
    const last = page.items.at(-1);
    sendXml(c.r.ex, c.r.requestId, 200, 'ListMultipartUploadsResult', {
      Bucket: p.bucket,
      KeyMarker: c.r.query.get('key-marker') ?? '',
      UploadIdMarker: c.r.query.get('upload-id-marker') ?? '',
      ...(page.truncated && last !== undefined ? nextUploadMarkers(last) : {}),
      Prefix: p.encode(p.prefix),
      ...(p.delimiter !== undefined ? { Delimiter: p.encode(p.delimiter) } : {}),
      MaxUploads: p.maxKeys,
      ...(p.encodingType !== undefined ? { EncodingType: p.encodingType } : {}),
      IsTruncated: page.truncated,
      Upload: uploads,
      CommonPrefixes: prefixesOf(page.items, p.encode),
    });
  },
};

function nextUploadMarkers(last: ListItem): XmlNode {
  if (last.kind === 'prefix') return { NextKeyMarker: last.name.toString('utf8') };
  return { NextKeyMarker: last.name.toString('utf8'), NextUploadIdMarker: uploadIdText(last.tail.subarray(last.tail.length - VERSION_BYTES)) };
}

async function uploadRows(core: Core, c: OpContext, items: readonly ListItem[], p: Common): Promise<XmlNode[]> {
  const entries = items.flatMap((i) => (i.kind === 'entry' ? [i] : []));
  const rows = await mapLimit(entries, READ_CONCURRENCY, async (e) => {
    const uploadId = e.tail.subarray(e.tail.length - VERSION_BYTES);
    const bytes = await core.getOptional(e.shard.key);
    const record = bytes === undefined ? undefined : core.decodeListed(e.shard.key, bytes, decodeUpload);
    if (record === undefined) return undefined;
    const owner = initiatorOf(c, record);
    const row: XmlNode = { Key: p.encode(e.name), UploadId: uploadIdText(uploadId), Initiator: owner, Owner: owner, StorageClass: 'STANDARD', Initiated: isoTime(record.initiatedMs), ...uploadChecksumElements(record) };
    return row;
  });
  return rows.filter((r): r is XmlNode => r !== undefined);
}

/** An upload's ChecksumAlgorithm and ChecksumType, as ListMultipartUploads and ListParts answer them (none for an upload created without an algorithm). */
function uploadChecksumElements(upload: UploadRecord): XmlNode {
  const type = uploadChecksumType(upload);
  return type === undefined ? {} : { ChecksumAlgorithm: upload.checksumAlgorithm.toUpperCase(), ChecksumType: type };
}

/** The user who created an upload (its initiator section), else the bucket owner (an older upload, or an anonymous one). */
function initiatorOf(c: OpContext, upload: UploadRecord): XmlNode {
  const id = upload.sections?.initiator?.toString('utf8');
  return id === undefined ? { ID: c.owner.id, DisplayName: c.owner.displayName } : { ID: id, DisplayName: c.access.users.displayName(id) };
}

export const listPartsOp: Operation = {
  name: 'ListParts',
  run: async (c) => {
    const [bucket, key] = [bucketOf(c), keyOf(c)];
    const uploadId = parseUploadId(c.r.query.get('uploadId') ?? '');
    const marker = intParam(c, 'part-number-marker', 0, 0, MAX_PART_NUMBER);
    const maxParts = intParam(c, 'max-parts', MAX_KEYS, 0, MAX_KEYS);
    const listed = await listParts(c.core, { bucket, key, uploadId }, marker, maxParts);
    checkKey(encryptionOf(listed.upload), customerKeyOf(c.r.ex, CUSTOMER_PREFIX), 'given');
    const owner = initiatorOf(c, listed.upload);
    const last = listed.parts.at(-1);
    sendXml(c.r.ex, c.r.requestId, 200, 'ListPartsResult', {
      Bucket: bucket,
      Key: key.toString('utf8'),
      UploadId: uploadIdText(uploadId),
      Initiator: owner,
      Owner: owner,
      StorageClass: 'STANDARD',
      PartNumberMarker: marker,
      ...(listed.truncated && last !== undefined ? { NextPartNumberMarker: last.partNumber } : {}),
      MaxParts: maxParts,
      IsTruncated: listed.truncated,
      Part: listed.parts.map((part) => ({
        PartNumber: part.partNumber,
        LastModified: isoTime(part.record.mtimeMs),
        ETag: quotedEtag(part.record.md5.toString('hex')),
        Size: partSize(listed.upload, part.record.sizeBytes),
        // The part's checksum of the upload's algorithm (every part of such an upload has it), for a Complete that lists them.
        ...(part.record.checksum !== undefined && part.record.checksum.algorithm === listed.upload.checksumAlgorithm ? { [`Checksum${part.record.checksum.algorithm.toUpperCase()}`]: part.record.checksum.value } : {}),
      })),
      ...uploadChecksumElements(listed.upload),
    });
  },
};
