// Object operations: PutObject, GetObject, HeadObject, DeleteObject,
// DeleteObjects, CopyObject.
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { bodyPrimer, writeBody } from '../body_stream.js';
import { parseRangeHeader, resolveRange } from '../range.js';
import type { ByteRange } from '../../store/index.js';
import { requireBucket } from './buckets.js';
import { mapLimit } from './core.js';
import { checkCopySourceConditions, checkReadConditions, checkWriteConditions, hasWriteConditions, refuseUndefinedWriteConditions } from './conditions.js';
import { CHECKSUM_ALGORITHMS, isChecksumAlgorithm, newChecksum } from './checksums.js';
import { checksumOf, fullObjectChecksum, withChecksum } from './checksum_section.js';
import type { Checksum, ChecksumAlgorithm } from './checksums.js';
import { setExpirationHeader } from './lifecycle_headers.js';
import { metadataOf, objectHeaders } from './object_headers.js';
import { bypassOf, lockHeaders, lockOfWrite, lockedRecord, removalGuard } from './object_lock.js';
import type { ObjectMetadata } from './object_headers.js';
import type { OpenedObject, WrittenData } from './objects.js';
import type { StoredBody } from './sse_ops.js';
import { commitObject, readObject, requireObject, writeData } from './objects.js';
import { CUSTOMER_PREFIX, COPY_SOURCE_CUSTOMER_PREFIX, asksEncryption, checkKey, customerKeyOf, encryptionHeaders, encryptionOf, newEncryption } from './sse.js';
import { openReadable, storedBody } from './sse_ops.js';
import { requestedObjectAcl, withRequestedAcl } from './object_acl.js';
import type { OpContext, Operation } from './operation.js';
import { bucketOf, keyOf } from './operation.js';
import type { ObjectRecord, StoredChecksum, TagSet } from './records.js';
import { openBody, readXmlBody, requireDeclaredLength } from './request_body.js';
import { headerOf } from './request.js';
import { idHeaders, isoTime, mergeHeaders, quotedEtag, sendEmpty, sendXml } from './respond.js';
import { S3Error, invalidArgument, invalidRequest, malformedXml } from './s3_errors.js';
import { taggingCountHeader, tagsOfHeader } from './tagging.js';
import type { VersionSelector } from './versioning.js';
import { parseVersionId, versionIdOf } from './versioning.js';
import type { Deleted } from './versioning_ops.js';
import { deleteRequested, deletedHeaders, requestedVersion, requireVersion, versionHeaders, writtenVersionHeaders } from './versioning_ops.js';
import type { XmlNode } from './xml.js';
import { objectShardKey, validateBucketName, validateObjectKey } from './shard_keys.js';
import { decodePercent } from '../key_codec.js';
import { asNode, child, children, optionalText, parseXml, text } from './xml.js';

/** S3's limit for one PUT (and for a copy source). */
export const MAX_PUT_BYTES = 5 * 1024 ** 3;
/** 1000 keys of up to 1 KiB, with their XML. */
const MAX_DELETE_BODY_BYTES = 2 * 1024 * 1024;
const MAX_DELETE_KEYS = 1000;
const DELETE_CONCURRENCY = 8;

export const putObjectOp: Operation = {
  name: 'PutObject',
  run: async (c) => {
    const [bucket, key] = [bucketOf(c), keyOf(c)];
    requireDeclaredLength(c.r.ex, c.auth);
    const headers = c.r.ex.req.headers;
    const meta = metadataOf(headers);
    const tags = tagsOfHeader(headers);
    // Fail before reading a large body when the answer is already known.
    refuseUndefinedWriteConditions(headers, 'put');
    await requireBucket(c.core, bucket);
    const lock = await lockOfWrite(c, bucket, key);
    const grants = await requestedObjectAcl(c.core, { bucket, bucketOwnerId: c.owner.id, writerId: c.access.requesterId, headers });
    if (hasWriteConditions(headers)) checkWriteConditions(headers, await readObject(c.core, bucket, key), key.toString('utf8'));
    const encryption = await newEncryption(c.core, bucket, c.r.ex);
    const body = openBody(c.r.ex, c.auth, MAX_PUT_BYTES);
    const stored = storedBody(encryption, body, 0);
    const written = await writeData(c.core, { bucket, key, part: 0, recordKey: objectShardKey(bucket, key) }, stored.body, true);
    // The lock state, the encryption parameters and the ACL are committed in the same record as the data (object_lock.ts, invariant 2; sse.ts; object_acl.ts).
    const sealed = stored.seal(recordOf(written, body.md5, { contentType: meta.contentType, headers: meta.headers, tags }, c.core.now()));
    // The checksum the body was verified against is kept for GetObjectAttributes (checksum_section.ts).
    const record = withRequestedAcl(lockedRecord(withChecksum(sealed, fullObjectChecksum(body.verifiedChecksum)), lock), grants);
    // Only a conditional put reads the record it replaces: a plain one also replaces a damaged record.
    const committed = await commitObject(c.core, bucket, key, record, { check: writeCheck(headers, key), written: [written] });
    await setExpirationHeader(c.core, c.r.ex, { bucket, key }, committed);
    sendEmpty(
      c.r.ex,
      c.r.requestId,
      200,
      mergeHeaders({ ETag: quotedEtag(record.etag) }, checksumEcho(body.verifiedChecksum), writtenVersionHeaders(committed), encryptionHeaders(encryption?.params, encryption?.customerKey)),
    );
  },
};

/** The destination's If-Match / If-None-Match as a commit check (undefined if the request has no condition). */
export function writeCheck(headers: IncomingHttpHeaders, key: Buffer): ((old: ObjectRecord | undefined) => void) | undefined {
  if (!hasWriteConditions(headers)) return undefined;
  return (old) => checkWriteConditions(headers, old, key.toString('utf8'));
}

/** The x-amz-checksum-* header of an answer: the checksum the body was verified against, as S3 echoes it. */
export function checksumEcho(checksum: StoredChecksum | undefined): Record<string, string> {
  return checksum === undefined ? {} : { [`x-amz-checksum-${checksum.algorithm}`]: checksum.value };
}

export function recordOf(written: WrittenData, md5: Buffer, meta: ObjectMetadata & { readonly tags: TagSet }, nowMs: number): ObjectRecord {
  // Every field named (no spread of a common part: spreads followed by more fields are slow in V8).
  const inline = written.kind === 'inline';
  return {
    mtimeMs: nowMs,
    etag: md5.toString('hex'),
    contentType: meta.contentType,
    headers: meta.headers,
    tags: meta.tags,
    uploadId: undefined,
    sizeBytes: inline ? written.bytes.length : written.ref.sizeBytes,
    parts: inline ? [] : [written.ref],
    inline: inline ? written.bytes : undefined,
  };
}

export const getObjectOp: Operation = {
  name: 'GetObject',
  run: async (c) => {
    const [bucket, key] = [bucketOf(c), keyOf(c)];
    const rangeHeader = c.r.ex.req.headers.range;
    const spec = parseRangeHeader(rangeHeader);
    const selector = requestedVersion(c);
    let ranged = false;
    const opened = await openReadable(
      c.core,
      { bucket, key, given: customerKeyOf(c.r.ex, CUSTOMER_PREFIX) },
      (record) => {
        checkReadConditions(c.r.ex.req.headers, record);
        if (spec === undefined) return { start: 0, end: record.sizeBytes };
        ranged = true;
        return satisfiable(resolveRange(spec, record.sizeBytes), record, rangeHeader ?? '');
      },
      selector === undefined ? decidedFirst(c, bucket, key) : () => requireVersion(c.core, { bucket, key }, selector, 'GET'),
    );
    if (selector === undefined) await setExpirationHeader(c.core, c.r.ex, { bucket, key }, opened.record).catch((err: unknown) => releasing(opened, err));
    // A range is not what the checksum covers: S3 answers it for whole objects only.
    await streamObject(c, opened, ranged, ranged ? {} : keptChecksumHeaders(c, opened.record));
  },
};

/**
 * The current record's reader of a GET: first the record authorization
 * decided on (RequestAccess.decidedRecord: the object the requester was
 * allowed, read once), then, if the object must be read again (its data
 * replaced under the read), the record as it is now.
 */
function decidedFirst(c: OpContext, bucket: string, key: Buffer): () => Promise<ObjectRecord> {
  let decided = c.access.decidedRecord(bucket, key);
  return () => {
    const record = decided;
    decided = undefined;
    return record !== undefined ? Promise.resolve(record) : requireObject(c.core, bucket, key);
  };
}

/** Release `opened` (its data stays pinned otherwise) and throw `err` on. */
function releasing(opened: OpenedObject, err: unknown): never {
  opened.release();
  throw err;
}

function satisfiable(range: ByteRange | 'unsatisfiable', record: ObjectRecord, asked: string): ByteRange {
  if (range !== 'unsatisfiable') return range;
  throw new S3Error(416, 'InvalidRange', 'The requested range is not satisfiable', { RangeRequested: asked, ActualObjectSize: String(record.sizeBytes) }, {
    'Content-Range': `bytes */${record.sizeBytes}`,
  });
}

/** Answer with the opened bytes: 206 if `ranged` (Content-Range as given in `extra`, or of the range), else 200. */
export async function streamObject(c: OpContext, opened: OpenedObject, ranged: boolean, extra: Record<string, string> = {}): Promise<void> {
  try {
    const { record } = opened;
    const headers = mergeHeaders(objectHeaders(record, c.r.query), taggingCountHeader(record.tags), versionHeaders(record), lockHeaders(record), readEncryptionHeaders(c, record), extra);
    const { range } = opened;
    if (ranged && extra['Content-Range'] === undefined) headers['Content-Range'] = `bytes ${range.start}-${range.end - 1}/${record.sizeBytes}`;
    // The first chunk is read (verified) before the status line: damage there is a 500 InternalError document.
    const body = await bodyPrimer.prime(opened.body);
    c.r.ex.res.writeHead(ranged ? 206 : 200, mergeHeaders(idHeaders(c.r.requestId), headers, { 'Content-Length': range.end - range.start }));
    await writeBody(c.r.ex.res, body, c.r.ex.bytesOut, range.end - range.start);
  } finally {
    opened.release();
  }
}

export const headObjectOp: Operation = {
  name: 'HeadObject',
  run: async (c) => {
    const [bucket, key] = [bucketOf(c), keyOf(c)];
    const selector = requestedVersion(c);
    // The record authorization decided on, if it read one (decidedFirst).
    const record = selector === undefined ? (c.access.decidedRecord(bucket, key) ?? (await requireObject(c.core, bucket, key))) : await requireVersion(c.core, { bucket, key }, selector, 'HEAD');
    const encryption = readEncryptionHeaders(c, record);
    checkReadConditions(c.r.ex.req.headers, record);
    if (selector === undefined) await setExpirationHeader(c.core, c.r.ex, { bucket, key }, record);
    sendEmpty(
      c.r.ex,
      c.r.requestId,
      200,
      mergeHeaders(objectHeaders(record, c.r.query), taggingCountHeader(record.tags), versionHeaders(record), lockHeaders(record), encryption, keptChecksumHeaders(c, record), {
        'Content-Length': record.sizeBytes,
      }),
    );
  },
};

/**
 * GET and HEAD with x-amz-checksum-mode: ENABLED: the checksum the object
 * keeps (checksum_section.ts), as S3 answers it, a composite one with its
 * `-N`; nothing if it keeps none or the mode is not asked for. With
 * `partIndex` (a partNumber GET or HEAD, 0-based in the object's order):
 * the part's own checksum, which an object with a COMPOSITE checksum keeps
 * per part (S3 answers it so a client can check each part it downloads);
 * an object of one part (a PUT, a copy) answers its whole checksum for
 * part 1, which is the whole object; a FULL_OBJECT checksum of several
 * parts (CRC64NVME uploads) none.
 */
export function keptChecksumHeaders(c: OpContext, record: ObjectRecord, partIndex?: number): Record<string, string> {
  if (headerOf(c.r.ex.req.headers, 'x-amz-checksum-mode')?.trim().toUpperCase() !== 'ENABLED') return {};
  const kept = checksumOf(record);
  if (kept === undefined) return {};
  if (partIndex !== undefined && kept.type === 'COMPOSITE') {
    const part = kept.parts[partIndex];
    return part === undefined ? {} : { [`x-amz-checksum-${kept.algorithm}`]: part, 'x-amz-checksum-type': kept.type };
  }
  // A full-object checksum of an object of several parts covers no one part: none for a part.
  if (partIndex !== undefined && record.etag.includes('-') && record.parts.length > 1) return {};
  const value = kept.type === 'COMPOSITE' ? `${kept.value}-${kept.parts.length}` : kept.value;
  return { [`x-amz-checksum-${kept.algorithm}`]: value, 'x-amz-checksum-type': kept.type };
}

/** GET and HEAD: the request's SSE-C key checked against the object (sse.ts), and the encryption headers of the answer. */
export function readEncryptionHeaders(c: OpContext, record: ObjectRecord): Record<string, string> {
  const given = customerKeyOf(c.r.ex, CUSTOMER_PREFIX);
  const params = encryptionOf(record);
  checkKey(params, given);
  return encryptionHeaders(params, given);
}

export const deleteObjectOp: Operation = {
  name: 'DeleteObject',
  run: async (c) => {
    const [bucket, key] = [bucketOf(c), keyOf(c)];
    const headers = c.r.ex.req.headers;
    refuseUndefinedWriteConditions(headers, 'delete');
    const selector = requestedVersion(c);
    await requireBucket(c.core, bucket);
    const guard = selector === undefined ? undefined : removalGuard(c.core, await bypassOf(c, bucket, key));
    // A wrong If-Match deletes nothing: the check runs under the object's lock.
    const deleted = await deleteRequested(c.core, { bucket, key, writerId: c.access.requesterId }, selector, writeCheck(headers, key), guard);
    sendEmpty(c.r.ex, c.r.requestId, 204, deletedHeaders(deleted));
  },
};

export const deleteObjectsOp: Operation = {
  name: 'DeleteObjects',
  run: async (c) => {
    const bucket = bucketOf(c);
    requireIntegrityHeader(c.r.ex.req.headers);
    const doc = asNode(child(parseXml(await readXmlBody(c.r.ex, c.auth, MAX_DELETE_BODY_BYTES)), 'Delete'), 'Delete');
    const quiet = optionalText(doc, 'Quiet')?.trim() === 'true';
    const objects = children(doc, 'Object').map((o) => {
      const node = asNode(o, 'Object');
      return { key: text(child(node, 'Key'), 'Key'), versionId: optionalText(node, 'VersionId') };
    });
    if (objects.length > MAX_DELETE_KEYS) throw malformedXml(`at most ${MAX_DELETE_KEYS} keys per request`);
    await requireBucket(c.core, bucket);
    const outcomes = await mapLimit(objects, DELETE_CONCURRENCY, async ({ key, versionId }) => {
      try {
        const bytes = Buffer.from(key, 'utf8');
        validateObjectKey(bucket, bytes);
        await c.access.checkObject('DeleteObject', bucket, bytes, versionId !== undefined);
        const guard = versionId === undefined ? undefined : removalGuard(c.core, await bypassOf(c, bucket, bytes));
        const deleted = await deleteRequested(c.core, { bucket, key: bytes, writerId: c.access.requesterId }, versionId === undefined ? undefined : parseVersionId(versionId), undefined, guard);
        return { Key: key, ...deletedEntry(deleted, versionId !== undefined) } as const;
      } catch (err) {
        if (!(err instanceof S3Error)) throw err;
        return { error: { Key: key, ...(versionId === undefined ? {} : { VersionId: versionId }), Code: err.code, Message: err.message } } as const;
      }
    });
    sendXml(c.r.ex, c.r.requestId, 200, 'DeleteResult', {
      Deleted: quiet ? [] : outcomes.filter((o) => !('error' in o)),
      Error: outcomes.flatMap((o) => ('error' in o ? [o.error] : [])),
    });
  },
};

/** A DeleteResult <Deleted> entry's version fields, as S3 gives them. */
function deletedEntry(d: Deleted, named: boolean): XmlNode {
  if (d.versionId === undefined) return {};
  if (named) return { VersionId: d.versionId, ...(d.deleteMarker ? { DeleteMarker: true, DeleteMarkerVersionId: d.versionId } : {}) };
  return { DeleteMarker: true, DeleteMarkerVersionId: d.versionId };
}

/**
 * DeleteObjects must carry Content-MD5 or an x-amz-checksum-* value (a
 * header, or the trailer x-amz-trailer names), as in S3: a body altered on
 * the way could otherwise delete keys nobody asked to delete. openBody
 * verifies whichever is given.
 */
export function requireIntegrityHeader(headers: IncomingHttpHeaders): void {
  if (headers['content-md5'] !== undefined) return;
  if (CHECKSUM_ALGORITHMS.some((a) => headers[`x-amz-checksum-${a}`] !== undefined)) return;
  if ((headerOf(headers, 'x-amz-trailer') ?? '').trim().toLowerCase().startsWith('x-amz-checksum-')) return;
  throw invalidRequest('Missing required header for this request: Content-MD5 or x-amz-checksum-*');
}

export const copyObjectOp: Operation = {
  name: 'CopyObject',
  run: async (c) => {
    const [bucket, key] = [bucketOf(c), keyOf(c)];
    const headers = c.r.ex.req.headers;
    const source = copySourceOf(c);
    const directive = directiveOf(headers, 'x-amz-metadata-directive', 'Unknown metadata directive.');
    const tagging = directiveOf(headers, 'x-amz-tagging-directive', 'Unknown tagging directive.');
    // With COPY the source's tags are the copy's: x-amz-tagging would be ignored, so it is refused.
    if (tagging === 'COPY' && headers['x-amz-tagging'] !== undefined) throw invalidArgument('x-amz-tagging is given but x-amz-tagging-directive is COPY; use REPLACE to set new tags', { ArgumentName: 'x-amz-tagging' });
    const replacedTags = tagging === 'REPLACE' ? tagsOfHeader(headers) : undefined;
    const askedAlgorithm = copyChecksumAlgorithm(headers);
    refuseUndefinedWriteConditions(headers, 'put');
    await requireBucket(c.core, bucket);
    // The copy's lock state is the request's (or the bucket's default), never the source's, as in S3.
    const lock = await lockOfWrite(c, bucket, key);
    // The source's ACL and owner are not copied either: the copy has the ACL its own headers ask for, and its writer's ownership (object_acl.ts).
    const grants = await requestedObjectAcl(c.core, { bucket, bucketOwnerId: c.owner.id, writerId: c.access.requesterId, headers });
    // Copying a named version onto its own key is how S3 restores a version: allowed.
    const sameObject = source.bucket === bucket && source.key.equals(key) && source.version === undefined && !asksEncryption(headers);
    const opened = await openCopySource(c, source, () => {
      if (sameObject && directive === 'COPY') {
        throw invalidRequest("This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.");
      }
    }, undefined);
    // The copy's checksum (S3): of the algorithm asked for, else of the source's, computed over the bytes copied.
    const algorithm = askedAlgorithm ?? checksumOf(opened.record)?.algorithm;
    const hashed = new Md5Tap(opened.body, algorithm);
    let written: WrittenData;
    let stored: StoredBody;
    try {
      // The copy is encrypted as its own request (or its bucket's default) says, not as its source was (as in S3).
      stored = storedBody(await newEncryption(c.core, bucket, c.r.ex), hashed, 0);
      written = await writeData(c.core, { bucket, key, part: 0, recordKey: objectShardKey(bucket, key) }, stored.body, true);
    } finally {
      opened.release();
    }
    const meta = directive === 'COPY' ? { contentType: opened.record.contentType, headers: opened.record.headers } : metadataOf(headers);
    const checksum = fullObjectChecksum(hashed.checksum);
    const record = withChecksum(withRequestedAcl(lockedRecord(stored.seal(recordOf(written, hashed.md5, { ...meta, tags: replacedTags ?? opened.record.tags }, c.core.now())), lock), grants), checksum);
    const committed = await commitObject(c.core, bucket, key, record, { check: writeCheck(headers, key), written: [written] });
    await setExpirationHeader(c.core, c.r.ex, { bucket, key }, committed);
    const sourceVersion = opened.record.version === undefined ? {} : { 'x-amz-copy-source-version-id': versionIdOf(opened.record) };
    const encryption = encryptionHeaders(encryptionOf(record), customerKeyOf(c.r.ex, CUSTOMER_PREFIX));
    const checksumResult = checksum === undefined ? {} : { ChecksumType: checksum.type, ...checksumElements(hashed.checksum) };
    sendXml(c.r.ex, c.r.requestId, 200, 'CopyObjectResult', { LastModified: isoTime(record.mtimeMs), ETag: quotedEtag(record.etag), ...checksumResult }, { ...writtenVersionHeaders(committed), ...sourceVersion, ...encryption });
  },
};

/**
 * CopyObject's x-amz-checksum-algorithm (undefined: none asked; the copy
 * keeps the source's algorithm). Any of S3's five; another value is S3's
 * 400. The copy is one whole object: its checksum is FULL_OBJECT.
 */
function copyChecksumAlgorithm(headers: IncomingHttpHeaders): ChecksumAlgorithm | undefined {
  const asked = headerOf(headers, 'x-amz-checksum-algorithm')?.trim().toLowerCase();
  if (asked === undefined) return undefined;
  if (!isChecksumAlgorithm(asked)) throw invalidRequest('Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]');
  return asked;
}

/** The Checksum<ALG> element of an XML answer (CopyObjectResult, CopyPartResult, CompleteMultipartUploadResult). */
export function checksumElements(checksum: StoredChecksum | undefined): XmlNode {
  return checksum === undefined ? {} : { [checksumElementName(checksum.algorithm)]: checksum.value };
}

/** crc32 -> ChecksumCRC32, as S3's XML names it. */
export function checksumElementName(algorithm: string): string {
  return `Checksum${algorithm.toUpperCase()}`;
}

/** A COPY / REPLACE directive header (COPY when absent). Throws InvalidArgument. */
function directiveOf(headers: IncomingHttpHeaders, name: string, message: string): 'COPY' | 'REPLACE' {
  const value = (headerOf(headers, name) ?? 'COPY').toUpperCase();
  if (value !== 'COPY' && value !== 'REPLACE') throw invalidArgument(message, { ArgumentName: name });
  return value;
}

export interface CopySource {
  readonly bucket: string;
  readonly key: Buffer;
  /** The version asked for (versionId in x-amz-copy-source); the current one when absent. */
  readonly version?: VersionSelector | undefined;
}

/** x-amz-copy-source: [/]bucket/key[?versionId=...], percent-encoded. */
export function copySourceOf(c: OpContext): CopySource {
  const header = headerOf(c.r.ex.req.headers, 'x-amz-copy-source') ?? '';
  const q = header.indexOf('?');
  const versionId = q < 0 ? null : new URLSearchParams(header.slice(q + 1)).get('versionId');
  let path: Buffer;
  try {
    path = decodePercent(q < 0 ? header : header.slice(0, q));
  } catch {
    throw copySourceError();
  }
  const text = path.toString('utf8').replace(/^\//, '');
  const slash = text.indexOf('/');
  if (slash <= 0 || slash === text.length - 1) throw copySourceError();
  const source = { bucket: text.slice(0, slash), key: Buffer.from(text.slice(slash + 1), 'utf8'), version: versionId === null ? undefined : parseVersionId(versionId) };
  validateBucketName(source.bucket);
  validateObjectKey(source.bucket, source.key);
  return source;
}

function copySourceError(): S3Error {
  return new S3Error(400, 'InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', { ArgumentName: 'x-amz-copy-source' });
}

/** Open the copy source (whole, or `range`), after its conditions and the 5 GiB limit. */
export async function openCopySource(c: OpContext, source: CopySource, extraCheck: (record: ObjectRecord) => void, range: ((record: ObjectRecord) => ByteRange) | undefined): Promise<OpenedObject> {
  await c.access.checkObject('GetObject', source.bucket, source.key, source.version !== undefined, source.version);
  await requireBucket(c.core, source.bucket);
  const version = source.version;
  return openReadable(
    c.core,
    { bucket: source.bucket, key: source.key, given: customerKeyOf(c.r.ex, COPY_SOURCE_CUSTOMER_PREFIX) },
    (record) => {
      checkCopySourceConditions(c.r.ex.req.headers, record);
      extraCheck(record);
      const chosen = range === undefined ? { start: 0, end: record.sizeBytes } : range(record);
      if (chosen.end - chosen.start > MAX_PUT_BYTES) {
        throw invalidRequest(`The specified copy source is larger than the maximum allowable size for a copy source: ${MAX_PUT_BYTES}`);
      }
      return chosen;
    },
    ...(version === undefined ? [] : [() => requireVersion(c.core, source, version, 'GET', copyOfDeleteMarker())]),
  );
}

/** S3's answer to a copy source that names a delete marker by its version id. */
function copyOfDeleteMarker(): S3Error {
  return invalidRequest('The source of a copy request may not specifically refer to a delete marker by version id.');
}

/**
 * Passes bytes through and hashes them (MD5, and the additional checksum
 * `algorithm` if given); `md5` and `checksum` are final once iteration has ended.
 */
export class Md5Tap implements AsyncIterable<Buffer> {
  private readonly hash = createHash('md5');
  private readonly extra: Checksum | undefined;
  private digest: Buffer | undefined;
  private extraDigest: StoredChecksum | undefined;

  constructor(
    private readonly source: AsyncIterable<Buffer>,
    private readonly algorithm?: ChecksumAlgorithm,
  ) {
    this.extra = algorithm === undefined ? undefined : newChecksum(algorithm);
  }

  get md5(): Buffer {
    if (this.digest === undefined) throw new Error('copy source not read to its end');
    return this.digest;
  }

  /** The additional checksum asked for (undefined if none was). REQUIRES: read to its end. */
  get checksum(): StoredChecksum | undefined {
    if (this.digest === undefined) throw new Error('copy source not read to its end');
    return this.extraDigest;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    for await (const piece of this.source) {
      this.hash.update(piece);
      this.extra?.update(piece);
      yield piece;
    }
    if (this.algorithm !== undefined && this.extra !== undefined) this.extraDigest = { algorithm: this.algorithm, value: this.extra.digest() };
    this.digest = this.hash.digest();
  }
}
