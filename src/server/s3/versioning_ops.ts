// Versioning operations: PutBucketVersioning, GetBucketVersioning,
// ListObjectVersions, and what GetObject, HeadObject, DeleteObject(s) and
// CopyObject do with a versionId (the storage side is versioning.ts).
import { requireBucket } from './buckets.js';
import type { Core } from './core.js';
import { bucketLock, objectLock } from './core.js';
import type { ListItem } from './listing.js';
import { afterCommonPrefix, listPage } from './listing.js';
import type { BucketAccess } from './access_records.js';
import { readBucketAccess } from './access.js';
import { MAX_KEYS, ownerNodeOf } from './list_ops.js';
import { commitObject, deleteObject } from './objects.js';
import { readLockConfig } from './object_lock.js';
import { ownerOfWrite, withOwnerSection } from './object_owner.js';
import type { OpContext, Operation } from './operation.js';
import { bucketOf, intParam } from './operation.js';
import type { ObjectRecord } from './records.js';
import { readXmlBody } from './request_body.js';
import { httpTime, isoTime, quotedEtag, sendEmpty, sendXml } from './respond.js';
import { S3Error, invalidArgument, malformedXml, notImplemented } from './s3_errors.js';
import { NS_OBJECT, bucketPrefix } from './shard_keys.js';
import { uriEncode } from './sigv4.js';
import type { VersionSelector } from './versioning.js';
import {
  NULL_VERSION_ID,
  deleteMarkerRecord,
  findVersion,
  isDeleteMarker,
  noSuchVersion,
  noncurrentVersions,
  parseVersionId,
  readCurrent,
  removeVersion,
  setVersioning,
  stampOf,
  versionIdOf,
  versioningOf,
} from './versioning.js';
import type { XmlNode } from './xml.js';
import { asNode, child, optionalText, parseXml } from './xml.js';

/** A VersioningConfiguration is a few hundred bytes. */
const MAX_VERSIONING_BODY_BYTES = 64 * 1024;

/** The versionId query parameter, if the request names a version. Throws InvalidArgument. */
export function requestedVersion(c: OpContext): VersionSelector | undefined {
  const text = c.r.query.get('versionId');
  return text === undefined ? undefined : parseVersionId(text);
}

/** x-amz-version-id of an answer about `record`: only records of a versioned bucket carry one. */
export function versionHeaders(record: ObjectRecord): Record<string, string> {
  return record.version === undefined ? {} : { 'x-amz-version-id': versionIdOf(record) };
}

/**
 * x-amz-version-id of a write's answer (PutObject, CopyObject,
 * CompleteMultipartUpload): as versionHeaders, but a null version (a write
 * to a Suspended bucket) is not announced, as S3 answers such writes
 * without the header (GET and HEAD of it still say "null").
 */
export function writtenVersionHeaders(record: ObjectRecord): Record<string, string> {
  return record.version === undefined || versionIdOf(record) === NULL_VERSION_ID ? {} : versionHeaders(record);
}

/**
 * The version `selector` names, for GET, HEAD and a copy source. Throws
 * NoSuchVersion, NoSuchBucket, and 405 MethodNotAllowed for a delete
 * marker (S3 answers a delete marker named by its version id that way), or
 * `markerError` if the caller answers it otherwise.
 */
export async function requireVersion(core: Core, target: { bucket: string; key: Buffer }, selector: VersionSelector, method: string, markerError?: S3Error): Promise<ObjectRecord> {
  const found = await findVersion(core, target.bucket, target.key, selector);
  if (found === undefined) {
    await requireBucket(core, target.bucket);
    throw noSuchVersion(target.key, selector.kind === 'null' ? NULL_VERSION_ID : selector.rank.toString('hex'));
  }
  if (!isDeleteMarker(found.record)) return found.record;
  throw markerError ?? new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.', { Method: method, ResourceType: 'DeleteMarker' }, {
    'x-amz-delete-marker': 'true',
    'x-amz-version-id': versionIdOf(found.record),
    'Last-Modified': httpTime(found.record.mtimeMs),
    Allow: 'DELETE',
  });
}

export interface Deleted {
  /** x-amz-version-id of the answer: the version removed, or the delete marker made. */
  readonly versionId: string | undefined;
  /** The version removed was a delete marker, or a delete marker was made. */
  readonly deleteMarker: boolean;
}

/**
 * DeleteObject as the bucket's versioning says: with a version id the
 * version is removed for good; without one an unversioned bucket removes
 * the object, a versioned one adds a delete marker. `check` is the
 * request's If-Match (run on the current object, under its lock).
 */
export async function deleteRequested(
  core: Core,
  /** `writerId`: the requester (undefined: anonymous), who owns a delete marker it makes as it would own an object it wrote (object_owner.ts). */
  target: { bucket: string; key: Buffer; writerId?: string | undefined },
  selector: VersionSelector | undefined,
  check?: (old: ObjectRecord | undefined) => void,
  /** Run on the version a versionId names before it is removed (object lock, object_lock.ts); may throw. */
  guard?: (version: ObjectRecord) => void,
): Promise<Deleted> {
  const { bucket, key } = target;
  if (selector !== undefined) {
    if (check !== undefined) throw notImplemented('conditions (If-Match) on a DeleteObject with a versionId');
    const removed = await core.locks.shared(bucketLock(bucket), () =>
      core.locks.exclusive(objectLock(bucket, key), async () => {
        await requireBucket(core, bucket);
        return removeVersion(core, bucket, key, selector, guard);
      }),
    );
    core.collector.schedule(bucket, key);
    return { versionId: selector.kind === 'null' ? NULL_VERSION_ID : selector.rank.toString('hex'), deleteMarker: isDeleteMarker(removed) };
  }
  if ((await versioningOf(core, bucket)) === 'unversioned') {
    await deleteObject(core, bucket, key, check);
    return { versionId: undefined, deleteMarker: false };
  }
  const access = await readBucketAccess(core, bucket);
  const sections = withOwnerSection(undefined, ownerOfWrite(access, target.writerId, undefined), access.ownerId);
  const marker = await commitObject(core, bucket, key, { ...deleteMarkerRecord(core.now()), ...(sections === undefined ? {} : { sections }) }, check === undefined ? {} : { check });
  return { versionId: versionIdOf(marker), deleteMarker: true };
}

export function deletedHeaders(d: Deleted): Record<string, string> {
  return { ...(d.versionId === undefined ? {} : { 'x-amz-version-id': d.versionId }), ...(d.deleteMarker ? { 'x-amz-delete-marker': 'true' } : {}) };
}

export const putBucketVersioningOp: Operation = {
  name: 'PutBucketVersioning',
  run: async (c) => {
    const bucket = bucketOf(c);
    // A missing bucket is NoSuchBucket whatever the body says.
    await requireBucket(c.core, bucket);
    const doc = asNode(child(parseXml(await readXmlBody(c.r.ex, c.auth, MAX_VERSIONING_BODY_BYTES)), 'VersioningConfiguration'), 'VersioningConfiguration');
    const status = optionalText(doc, 'Status');
    // The element is MfaDelete on the wire (the API reference calls the field MFADelete).
    const mfaDelete = optionalText(doc, 'MfaDelete');
    if (mfaDelete !== undefined && mfaDelete !== 'Disabled') {
      if (mfaDelete === 'Enabled') throw notImplemented('MFADelete (MFA delete)');
      throw malformedXml('MfaDelete must be Enabled or Disabled');
    }
    if (status !== 'Enabled' && status !== 'Suspended') throw malformedXml('Status must be Enabled or Suspended');
    if (status === 'Suspended' && (await readLockConfig(c.core, bucket)) !== undefined) {
      throw new S3Error(409, 'InvalidBucketState', 'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.');
    }
    await setVersioning(c.core, bucket, status === 'Enabled' ? 'enabled' : 'suspended');
    sendEmpty(c.r.ex, c.r.requestId, 200);
  },
};

export const getBucketVersioningOp: Operation = {
  name: 'GetBucketVersioning',
  run: async (c) => {
    const bucket = bucketOf(c);
    await requireBucket(c.core, bucket);
    const state = await versioningOf(c.core, bucket);
    // A bucket never configured answers an empty configuration, as S3 does.
    sendXml(c.r.ex, c.r.requestId, 200, 'VersioningConfiguration', state === 'unversioned' ? {} : { Status: state === 'enabled' ? 'Enabled' : 'Suspended' });
  },
};

interface VersionsQuery {
  readonly bucket: string;
  readonly prefix: Buffer;
  readonly delimiter: Buffer | undefined;
  readonly maxKeys: number;
  readonly keyMarker: Buffer | undefined;
  /** Resume inside keyMarker's versions, after this one. */
  readonly versionMarker: VersionSelector | undefined;
}

interface VersionRow {
  readonly key: Buffer;
  readonly record: ObjectRecord;
  readonly latest: boolean;
}

type Row = { readonly kind: 'version'; readonly row: VersionRow } | { readonly kind: 'prefix'; readonly name: Buffer };

function versionsQuery(c: OpContext): VersionsQuery {
  const q = c.r.query;
  const delimiter = q.get('delimiter');
  const keyMarker = q.get('key-marker');
  const versionMarker = q.get('version-id-marker');
  if (versionMarker !== undefined && versionMarker !== '' && (keyMarker === undefined || keyMarker === '')) {
    throw invalidArgument('A version-id marker cannot be specified without a key marker.', { ArgumentName: 'version-id-marker', ArgumentValue: versionMarker });
  }
  return {
    bucket: bucketOf(c),
    prefix: Buffer.from(q.get('prefix') ?? '', 'utf8'),
    delimiter: delimiter === undefined || delimiter === '' ? undefined : Buffer.from(delimiter, 'utf8'),
    maxKeys: intParam(c, 'max-keys', MAX_KEYS, 0, MAX_KEYS),
    keyMarker: keyMarker === undefined || keyMarker === '' ? undefined : Buffer.from(keyMarker, 'utf8'),
    versionMarker: versionMarker === undefined || versionMarker === '' ? undefined : parseVersionId(versionMarker),
  };
}

/** The versions of one key after `after` (a rank; the current one is listed when `after` is undefined), at most `limit`. */
async function versionsOfKey(core: Core, bucket: string, key: Buffer, after: VersionSelector | undefined, limit: number): Promise<VersionRow[]> {
  const current = await readCurrent(core, bucket, key);
  if (current === undefined || limit <= 0) return [];
  const rows: VersionRow[] = [];
  let afterRank: Buffer | undefined;
  if (after === undefined) {
    rows.push({ key, record: current, latest: true });
  } else {
    const marker = await findVersion(core, bucket, key, after);
    // A marker version that is gone: resume after its rank if it has one, else after the key.
    if (marker === undefined && after.kind === 'null') return [];
    afterRank = marker === undefined ? (after.kind === 'rank' ? after.rank : undefined) : stampOf(marker.record).rank;
  }
  const older = await noncurrentVersions(core, { bucket, key, current }, { after: afterRank, limit: limit - rows.length });
  for (const v of older) rows.push({ key, record: v.record, latest: false });
  return rows;
}

/** One page of ListObjectVersions: rows in key order, each key's versions newest first. */
async function versionsPage(core: Core, q: VersionsQuery): Promise<{ rows: Row[]; truncated: boolean }> {
  const rows: Row[] = [];
  if (q.maxKeys === 0) return { rows, truncated: false };
  const room = (): number => q.maxKeys + 1 - rows.length;
  if (q.keyMarker !== undefined && q.versionMarker !== undefined) {
    for (const row of await versionsOfKey(core, q.bucket, q.keyMarker, q.versionMarker, room())) rows.push({ kind: 'version', row });
  }
  const rolledUp = q.keyMarker !== undefined && q.delimiter !== undefined && q.keyMarker.subarray(q.keyMarker.length - q.delimiter.length).equals(q.delimiter);
  let after = q.keyMarker === undefined ? undefined : rolledUp ? afterCommonPrefix(q.keyMarker) : q.keyMarker;
  const ns = bucketPrefix(NS_OBJECT, q.bucket);
  while (room() > 0) {
    const page = await listPage(core, { ns, prefix: q.prefix, delimiter: q.delimiter, after, maxItems: Math.min(room(), MAX_KEYS), nameOf: (t) => t });
    for (const item of page.items) await addItem(core, q, item, rows, room);
    if (!page.truncated || page.next === undefined) break;
    after = page.next;
  }
  const truncated = rows.length > q.maxKeys;
  return { rows: rows.slice(0, q.maxKeys), truncated };
}

async function addItem(core: Core, q: VersionsQuery, item: ListItem, rows: Row[], room: () => number): Promise<void> {
  if (room() <= 0) return;
  if (item.kind === 'prefix') {
    rows.push({ kind: 'prefix', name: item.name });
    return;
  }
  for (const row of await versionsOfKey(core, q.bucket, item.name, undefined, room())) rows.push({ kind: 'version', row });
}

function versionNode(row: VersionRow, c: OpContext, access: BucketAccess, encode: (b: Buffer) => string): XmlNode {
  const common = { Key: encode(row.key), VersionId: versionIdOf(row.record), IsLatest: row.latest, LastModified: isoTime(row.record.mtimeMs) };
  const owner = { Owner: ownerNodeOf(c, access, row.record) };
  if (isDeleteMarker(row.record)) return { ...common, ...owner };
  return { ...common, ETag: quotedEtag(row.record.etag), Size: row.record.sizeBytes, StorageClass: 'STANDARD', ...owner };
}

export const listObjectVersionsOp: Operation = {
  name: 'ListObjectVersions',
  run: async (c) => {
    const q = versionsQuery(c);
    const encodingType = c.r.query.get('encoding-type');
    if (encodingType !== undefined && encodingType !== 'url') throw invalidArgument('Invalid Encoding Method specified in Request', { ArgumentName: 'encoding-type' });
    const encode = encodingType === 'url' ? (b: Buffer): string => uriEncode(b, false) : (b: Buffer): string => b.toString('utf8');
    await requireBucket(c.core, q.bucket);
    const access = await readBucketAccess(c.core, q.bucket);
    const { rows, truncated } = await versionsPage(c.core, q);
    const last = rows.at(-1);
    const versions = rows.flatMap((r) => (r.kind === 'version' ? [r.row] : []));
    sendXml(c.r.ex, c.r.requestId, 200, 'ListVersionsResult', {
      Name: q.bucket,
      Prefix: encode(q.prefix),
      KeyMarker: encode(q.keyMarker ?? Buffer.alloc(0)),
      VersionIdMarker: c.r.query.get('version-id-marker') ?? '',
      ...(truncated && last !== undefined ? nextMarkers(last, encode) : {}),
      MaxKeys: q.maxKeys,
      ...(q.delimiter !== undefined ? { Delimiter: encode(q.delimiter) } : {}),
      ...(encodingType === 'url' ? { EncodingType: 'url' } : {}),
      IsTruncated: truncated,
      Version: versions.filter((v) => !isDeleteMarker(v.record)).map((v) => versionNode(v, c, access, encode)),
      DeleteMarker: versions.filter((v) => isDeleteMarker(v.record)).map((v) => versionNode(v, c, access, encode)),
      CommonPrefixes: rows.flatMap((r) => (r.kind === 'prefix' ? [{ Prefix: encode(r.name) }] : [])),
    });
  },
};

function nextMarkers(last: Row, encode: (b: Buffer) => string): XmlNode {
  if (last.kind === 'prefix') return { NextKeyMarker: encode(last.name) };
  return { NextKeyMarker: encode(last.row.key), NextVersionIdMarker: versionIdOf(last.row.record) };
}
