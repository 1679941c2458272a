// Multipart uploads (docs/S3.md, "Multipart"). An upload is a record under
// \0U; each uploaded part is a data shard of its own (a fresh version per
// attempt, so a retried part never overwrites bytes someone reads) plus a
// part record under \0P naming it with its size and MD5.
//
// Complete writes the object record listing the chosen parts' data shards in
// order: nothing is copied, whatever the size. The upload's records go once
// that record is durable; the parts left out, and the object's previous
// data, are then garbage for the collector. Abort deletes the upload's
// records (durably) and leaves the data to the collector likewise.
import { createHash } from 'node:crypto';
import { CorruptionError, assert } from '../../base/index.js';
import type { Dependency } from '../../dependency/index.js';
import { requireBucket } from './buckets.js';
import type { Core } from './core.js';
import { bucketLock, mapLimit, objectLock } from './core.js';
import { discardData, readObject, stageNaming, writeData } from './objects.js';
import { VERSION_RULES, readReplaced } from './versioning.js';
import { isChecksumAlgorithm, newChecksum } from './checksums.js';
import type { ChecksumType, ObjectChecksum } from './checksum_section.js';
import { checksumOf, decodeUploadChecksumType, withChecksum } from './checksum_section.js';
import { combinedCrc, isCombinable } from './crc_combine.js';
import type { ObjectRecord, PartRecord, RecordSectionName, RecordSections, StoredChecksum, UploadRecord } from './records.js';
import { decodePart, decodeUpload, encodeObject, encodePart, encodeUpload } from './records.js';
import { S3Error, noSuchUpload, notImplemented } from './s3_errors.js';
import { partSize, sizeOfParts } from './sse.js';
import { newVersion, objectShardKey, partPrefix, partShardKey, uploadIdText, uploadShardKey } from './shard_keys.js';

export const MIN_PART_BYTES = 5 * 1024 * 1024;
export const MAX_PART_NUMBER = 10_000;
const READ_CONCURRENCY = 16;

export interface UploadTarget {
  readonly bucket: string;
  readonly key: Buffer;
  readonly uploadId: Buffer;
}

export async function readUpload(core: Core, t: UploadTarget): Promise<UploadRecord | undefined> {
  const bytes = await core.getOptional(uploadShardKey(t.bucket, t.key, t.uploadId));
  return bytes === undefined ? undefined : decodeUpload(bytes);
}

export async function requireUpload(core: Core, t: UploadTarget): Promise<UploadRecord> {
  const record = await readUpload(core, t);
  if (record === undefined) throw noSuchUpload(uploadIdText(t.uploadId));
  return record;
}

/** What an upload keeps for the object it will make. */
export type UploadSettings = Omit<UploadRecord, 'initiatedMs'>;

export async function createUpload(core: Core, bucket: string, key: Buffer, meta: UploadSettings): Promise<Buffer> {
  await requireBucket(core, bucket);
  const uploadId = newVersion(core.now());
  await core.putDurable(uploadShardKey(bucket, key, uploadId), encodeUpload({ initiatedMs: core.now(), ...meta }));
  return uploadId;
}

/** What a part's body was found to be once read: its MD5, and the additional checksum verified or computed. */
export interface PartDigests {
  readonly md5: Buffer;
  readonly checksum: StoredChecksum | undefined;
}

/**
 * Store one part from `body`; `digests` gives what the body hashed to once
 * it has been read. `checkUpload` may refuse the part given its upload
 * (before any byte is read).
 */
export async function uploadPart(
  core: Core,
  t: UploadTarget,
  part: { partNumber: number; body: AsyncIterable<Buffer>; digests: () => PartDigests; checkUpload?: (upload: UploadRecord) => void },
): Promise<PartRecord> {
  const { partNumber } = part;
  part.checkUpload?.(await requireUpload(core, t));
  const key = partShardKey(t.bucket, t.key, t.uploadId, partNumber);
  const written = await writeData(core, { bucket: t.bucket, key: t.key, part: partNumber, recordKey: key }, part.body, false);
  if (written.kind !== 'shard') throw new Error('a part is always written as a data shard');
  const { md5, checksum } = part.digests();
  const record: PartRecord = { version: written.ref.version, sizeBytes: written.ref.sizeBytes, mtimeMs: core.now(), md5, checksum };
  let replaced = false;
  // Durable before the object's lock is released (Core.writeDurably): the collector
  // must not take a replaced part's data while the new part record is not durable.
  await core.writeDurably(objectLock(t.bucket, t.key), async () => {
    try {
      await requireUpload(core, t);
      replaced = (await core.getOptional(key)) !== undefined;
      const dependency = await stageNaming(core, key, encodePart(record), [written]);
      core.liveness.endWrite(written.shardKey);
      return { dependency, value: undefined };
    } catch (err) {
      discardData(core, t, written);
      throw err;
    }
  });
  if (replaced) core.collector.schedule(t.bucket, t.key);
  return record;
}

export interface RequestedPart {
  readonly partNumber: number;
  readonly etag: string;
  /** The part's additional checksum, if the Complete request gives it (it must match the part's). */
  readonly checksum: StoredChecksum | undefined;
}

export interface Completed {
  readonly record: ObjectRecord;
  /** The composite checksum (checksum of the parts' checksums, `-N`), or the full-object one (a FULL_OBJECT upload's), if the upload asked for an algorithm. */
  readonly checksum: StoredChecksum | undefined;
  /** COMPOSITE or FULL_OBJECT, with `checksum`. */
  readonly checksumType: ChecksumType | undefined;
}

/**
 * Complete the upload, if `check` (run under the object's lock, on the
 * object it replaces) does not throw. A retried Complete of an upload
 * already completed (its records are gone) answers as the first did, as
 * long as the object is still the one that upload made and the part list
 * gives the same ETag: SDKs retry a Complete whose answer was lost.
 * Throws NoSuchUpload, InvalidPart, InvalidPartOrder, EntityTooSmall, InvalidRequest, NoSuchBucket.
 */
/** What a CompleteMultipartUpload says the object's checksum is (its x-amz-checksum-* and x-amz-checksum-type headers). */
export interface ClaimedChecksum {
  readonly checksum: StoredChecksum | undefined;
  readonly type: string | undefined;
}

export interface CompleteChecks {
  /** Run under the object's lock, on the object it replaces (If-Match...); may throw. */
  readonly check?: ((old: ObjectRecord | undefined) => void) | undefined;
  /** Checked against the checksum the upload makes before anything is committed. */
  readonly claimed?: ClaimedChecksum | undefined;
}

export async function completeUpload(core: Core, t: UploadTarget, requested: readonly RequestedPart[], checks: CompleteChecks = {}): Promise<Completed> {
  const { check } = checks;
  checkPartList(requested);
  const done = await core.locks.shared(bucketLock(t.bucket), () =>
    core.locks.exclusive(objectLock(t.bucket, t.key), async (): Promise<Completed & { retried: boolean }> => {
      await requireBucket(core, t.bucket);
      const upload = await readUpload(core, t);
      if (upload === undefined) return { ...(await retriedComplete(core, t, requested)), retried: true };
      // Only a conditional complete reads the record it replaces: a plain one also replaces a damaged record.
      if (check !== undefined) check(await readObject(core, t.bucket, t.key));
      const parts = await mapLimit(requested, READ_CONCURRENCY, (r) => matchingPart(core, t, r));
      const full =
        uploadChecksumType(upload) === 'FULL_OBJECT'
          ? fullObjectChecksumOf(upload, upload.checksumAlgorithm, { requested, parts })
          : upload.checksumAlgorithm === '' && checks.claimed !== undefined
            ? claimedOfPlainUpload(upload, checks.claimed, { requested, parts })
            : undefined;
      const checksum = full ?? compositeChecksum(upload.checksumAlgorithm, requested);
      // The composite checksum and the parts' (or the full-object one) are kept for GetObjectAttributes and GET (checksum_section.ts).
      const kept = full === undefined ? keptChecksum(checksum, parts) : fullObjectKept(full);
      if (checks.claimed !== undefined) checkClaimed(checks.claimed, kept);
      const made = withChecksum(objectOfParts(core, { upload, uploadId: t.uploadId }, requested, parts), kept);
      // In a versioned bucket the version replaced is kept first (versioning.ts).
      const committed = await VERSION_RULES.stamp(core, t, await readReplaced(core, t.bucket, t.key), made);
      // Durable before the upload's records go: until then they still name the parts.
      await core.putDurable(objectShardKey(t.bucket, t.key), encodeObject(committed));
      await endUpload(core, t);
      return { record: committed, checksum, checksumType: kept?.type, retried: false };
    }),
  );
  if (!done.retried) core.collector.schedule(t.bucket, t.key);
  return { record: done.record, checksum: done.checksum, checksumType: done.checksumType };
}

/** The answer to a Complete of an upload that is gone: the first Complete's, if it made the object as it is now. */
async function retriedComplete(core: Core, t: UploadTarget, requested: readonly RequestedPart[]): Promise<Completed> {
  const object = await readObject(core, t.bucket, t.key);
  if (object === undefined || object.uploadId?.equals(t.uploadId) !== true || object.etag !== multipartEtag(requested.map((r) => normalEtag(r.etag)))) {
    throw noSuchUpload(uploadIdText(t.uploadId));
  }
  // A full-object checksum is the object's own: answered as kept.
  const kept = checksumOf(object);
  if (kept?.type === 'FULL_OBJECT') return { record: object, checksum: { algorithm: kept.algorithm, value: kept.value }, checksumType: 'FULL_OBJECT' };
  const algorithm = requested[0]?.checksum?.algorithm ?? '';
  const sameKind = requested.every((r) => r.checksum?.algorithm === algorithm);
  const checksum = sameKind ? compositeChecksum(algorithm, requested) : undefined;
  return { record: object, checksum, checksumType: checksum === undefined ? undefined : 'COMPOSITE' };
}

/**
 * The Complete's claim against the checksum the upload makes, as S3 checks
 * it: a type other than the upload's is 400 BadDigest; a checksum of another
 * algorithm 400 InvalidRequest; a value that differs 400 BadDigest (a
 * COMPOSITE one may carry its `-N`).
 */
function checkClaimed(claimed: ClaimedChecksum, kept: ObjectChecksum | undefined): void {
  assert(kept !== undefined, 'a claim is checked against the checksum the upload makes (claimedOfPlainUpload makes one or refuses)');
  if (claimed.type !== undefined && claimed.type !== kept.type) {
    throw new S3Error(400, 'BadDigest', `The upload was created using the ${kept.type} checksum mode. The complete request must use the same checksum mode.`);
  }
  const given = claimed.checksum;
  if (given === undefined) return;
  if (given.algorithm !== kept.algorithm) throw new S3Error(400, 'InvalidRequest', `The upload was created using a ${kept.algorithm} checksum; the complete request gives a ${given.algorithm} one.`);
  const value = kept.type === 'COMPOSITE' ? given.value.replace(new RegExp(`-${kept.parts.length}$`), '') : given.value;
  if (value !== kept.value) throw new S3Error(400, 'BadDigest', `The ${kept.algorithm.toUpperCase()} you specified did not match the calculated checksum.`);
}

/**
 * A Complete's claim (x-amz-checksum-<algorithm>, x-amz-checksum-type) on an
 * upload created without an algorithm. S3 gives such an upload a
 * FULL_OBJECT CRC64NVME it computes from the bytes (and, by AWS's own
 * conformance tests, ignores the claimed value); this node computes no
 * checksum an upload did not ask for, and accepts no claim it does not
 * check. So: COMPOSITE is 400 BadDigest, as S3 (the type of such an upload
 * is FULL_OBJECT); a CRC claim (or FULL_OBJECT alone) is checked when every
 * part was uploaded with a CRC of that algorithm (current SDKs and clis send
 * a CRC32 with each part by default): the parts' CRCs are combined
 * (crc_combine.ts) into the whole object's, which checkClaimed compares and
 * the object keeps; anything else cannot be checked: 501.
 */
function claimedOfPlainUpload(upload: UploadRecord, claimed: ClaimedChecksum, list: PartList): StoredChecksum {
  if (claimed.type === 'COMPOSITE') {
    throw new S3Error(400, 'BadDigest', 'The upload was created using the FULL_OBJECT checksum mode. The complete request must use the same checksum mode.');
  }
  const algorithm = claimed.checksum?.algorithm ?? list.parts[0]?.checksum?.algorithm ?? '';
  const checkable = isChecksumAlgorithm(algorithm) && isCombinable(algorithm) && list.parts.every((p) => p.checksum?.algorithm === algorithm);
  if (!checkable) {
    throw notImplemented('a checksum on CompleteMultipartUpload of an upload created without x-amz-checksum-algorithm, unless it is a CRC every part was uploaded with');
  }
  return fullObjectChecksumOf(upload, algorithm, list);
}

/** The parts a Complete lists, and their records, in the same order. */
interface PartList {
  readonly requested: readonly RequestedPart[];
  readonly parts: readonly PartRecord[];
}

/** The checksum type an algorithm gets when CreateMultipartUpload names none: FULL_OBJECT for CRC64NVME (S3 allows it no other), COMPOSITE for the others. */
export function defaultChecksumType(algorithm: string): ChecksumType {
  return algorithm === 'crc64nvme' ? 'FULL_OBJECT' : 'COMPOSITE';
}

/**
 * The checksum type of an upload (none: created without an algorithm): the
 * one its CreateMultipartUpload asked for when not its algorithm's default
 * (the upload's checksumType section: FULL_OBJECT with CRC32 or CRC32C),
 * else the default. Throws CorruptionError (a FULL_OBJECT type on an
 * algorithm whose checksums do not combine).
 */
export function uploadChecksumType(upload: Pick<UploadRecord, 'checksumAlgorithm' | 'sections'>): ChecksumType | undefined {
  const algorithm = upload.checksumAlgorithm;
  if (algorithm === '') return undefined;
  const asked = upload.sections?.checksumType;
  if (asked === undefined) return defaultChecksumType(algorithm);
  const type = decodeUploadChecksumType(asked);
  if (type === 'FULL_OBJECT' && !(isChecksumAlgorithm(algorithm) && isCombinable(algorithm))) throw new CorruptionError(`upload record: a FULL_OBJECT checksum of ${algorithm}`);
  return type;
}

/**
 * The full-object `algorithm` checksum of an upload of type FULL_OBJECT
 * (CRC32, CRC32C, CRC64NVME), or of one whose claim names it: the CRC of
 * the whole object, combined from the parts' verified CRCs and their
 * plaintext sizes (crc_combine.ts), as S3 computes it. Every part carries
 * its CRC (UploadPart refuses one without it into a FULL_OBJECT upload):
 * 400 InvalidRequest otherwise.
 */
function fullObjectChecksumOf(upload: UploadRecord, algorithm: string, { requested, parts }: PartList): StoredChecksum {
  assert(isChecksumAlgorithm(algorithm) && isCombinable(algorithm), 'a full-object checksum is a CRC');
  const pieces = parts.map((p, i) => {
    if (p.checksum?.algorithm !== algorithm) {
      throw new S3Error(400, 'InvalidRequest', `The upload was created using a ${algorithm} checksum; part ${requested[i]?.partNumber ?? '?'} has none.`);
    }
    return { value: p.checksum.value, sizeBytes: partSize(upload, p.sizeBytes) };
  });
  return { algorithm, value: combinedCrc(algorithm, pieces) };
}

function fullObjectKept(checksum: StoredChecksum): ObjectChecksum {
  assert(isChecksumAlgorithm(checksum.algorithm), 'a known algorithm');
  return { algorithm: checksum.algorithm, type: 'FULL_OBJECT', value: checksum.value, parts: [] };
}

/** An ETag as the client sent it, without quotes, lower case. */
function normalEtag(etag: string): string {
  return etag.replaceAll('"', '').trim().toLowerCase();
}

/** S3's ETag of a multipart object: the MD5 of the parts' MD5s, then `-N`. */
function multipartEtag(partMd5sHex: readonly string[]): string {
  const md5s = createHash('md5');
  for (const hex of partMd5sHex) md5s.update(Buffer.from(hex, 'hex'));
  return `${md5s.digest('hex')}-${partMd5sHex.length}`;
}

/**
 * The composite checksum of an upload made with `algorithm` ('' none): the
 * checksum of the concatenated binary part checksums, then `-N`, as S3
 * computes a COMPOSITE checksum. Every listed part must give its checksum
 * (matched against the stored one by matchingPart): InvalidRequest otherwise.
 */
function compositeChecksum(algorithm: string, requested: readonly RequestedPart[]): StoredChecksum | undefined {
  if (algorithm === '' || !isChecksumAlgorithm(algorithm)) return undefined;
  const composite = newChecksum(algorithm);
  for (const r of requested) {
    if (r.checksum?.algorithm !== algorithm) {
      throw new S3Error(400, 'InvalidRequest', `The upload was created using a ${algorithm} checksum. The complete request must include the checksum for each part. It was missing for part ${r.partNumber} in the request.`);
    }
    composite.update(Buffer.from(r.checksum.value, 'base64'));
  }
  return { algorithm, value: `${composite.digest()}-${requested.length}` };
}

/** What the object keeps of an upload's composite checksum: the value without `-N`, and each part's (matchingPart checked them equal to the Complete's). */
function keptChecksum(composite: StoredChecksum | undefined, parts: readonly PartRecord[]): ObjectChecksum | undefined {
  if (composite === undefined || !isChecksumAlgorithm(composite.algorithm)) return undefined;
  const partValues = parts.flatMap((p) => (p.checksum?.algorithm === composite.algorithm ? [p.checksum.value] : []));
  assert(partValues.length === parts.length, 'every part of a composite upload has its checksum');
  return { algorithm: composite.algorithm, type: 'COMPOSITE', value: composite.value.replace(/-\d+$/, ''), parts: partValues };
}

function checkPartList(requested: readonly RequestedPart[]): void {
  if (requested.length === 0) throw new S3Error(400, 'MalformedXML', 'You must specify at least one part.');
  for (let i = 1; i < requested.length; i++) {
    const [prev, cur] = [requested[i - 1], requested[i]];
    if (prev !== undefined && cur !== undefined && cur.partNumber <= prev.partNumber) {
      throw new S3Error(400, 'InvalidPartOrder', 'The list of parts was not in ascending order. The parts list must be specified in order by part number.');
    }
  }
}

async function matchingPart(core: Core, t: UploadTarget, r: RequestedPart): Promise<PartRecord> {
  const bytes = await core.getOptional(partShardKey(t.bucket, t.key, t.uploadId, r.partNumber));
  const part = bytes === undefined ? undefined : decodePart(bytes);
  const checksumDiffers = r.checksum !== undefined && (part?.checksum?.algorithm !== r.checksum.algorithm || part.checksum.value !== r.checksum.value);
  if (part === undefined || part.md5.toString('hex') !== normalEtag(r.etag) || checksumDiffers) {
    throw new S3Error(400, 'InvalidPart', 'One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part\'s entity tag.', {
      PartNumber: String(r.partNumber),
      ETag: r.etag,
    });
  }
  return part;
}

function objectOfParts(core: Core, from: { upload: UploadRecord; uploadId: Buffer }, requested: readonly RequestedPart[], parts: readonly PartRecord[]): ObjectRecord {
  const { upload } = from;
  parts.forEach((p, i) => {
    if (i < parts.length - 1 && partSize(upload, p.sizeBytes) < MIN_PART_BYTES) {
      throw new S3Error(400, 'EntityTooSmall', `Your proposed upload is smaller than the minimum allowed size: part ${requested[i]?.partNumber ?? '?'} has ${p.sizeBytes} bytes, the minimum is ${MIN_PART_BYTES}.`);
    }
  });
  const dataRefs = parts.map((p, i) => ({ version: p.version, part: requested[i]?.partNumber ?? 0, sizeBytes: p.sizeBytes }));
  return {
    // An encrypted upload's object is its parts' plaintext (sse.ts); its parts are stored larger.
    sizeBytes: sizeOfParts(upload, dataRefs),
    mtimeMs: core.now(),
    etag: multipartEtag(parts.map((p) => p.md5.toString('hex'))),
    contentType: upload.contentType,
    headers: upload.headers,
    parts: dataRefs,
    inline: undefined,
    tags: upload.tags,
    uploadId: from.uploadId,
    // What the upload keeps for the object (object lock, the ACL its CreateMultipartUpload asked for, ...), committed with it.
    ...objectSectionsOf(upload),
  };
}

/** The sections an upload keeps for itself, not for its object. */
const UPLOAD_ONLY_SECTIONS: readonly RecordSectionName[] = ['initiator', 'checksumType'];

/** The sections an upload gives its object: all but the upload's own (the initiator, the checksum type). */
function objectSectionsOf(upload: UploadRecord): { sections?: RecordSections } {
  if (upload.sections === undefined) return {};
  const kept: Partial<Record<RecordSectionName, Buffer>> = {};
  for (const [name, bytes] of Object.entries(upload.sections) as Array<[RecordSectionName, Buffer | undefined]>) if (!UPLOAD_ONLY_SECTIONS.includes(name) && bytes !== undefined) kept[name] = bytes;
  return Object.keys(kept).length > 0 ? { sections: kept } : {};
}

/** Throws NoSuchUpload unless `missingOk`. */
export async function abortUpload(core: Core, bucket: string, key: Buffer, uploadId: Buffer, missingOk = false): Promise<void> {
  const t = { bucket, key, uploadId };
  await core.locks.exclusive(objectLock(bucket, key), async () => {
    if ((await readUpload(core, t)) === undefined) {
      if (missingOk) return;
      throw noSuchUpload(uploadIdText(uploadId));
    }
    await endUpload(core, t);
  });
  core.collector.schedule(bucket, key);
}

/** Delete the upload record and its part records, durably (the collector may then take their data). */
async function endUpload(core: Core, t: UploadTarget): Promise<void> {
  const pending: Dependency[] = [];
  const upload = await core.deleteIfPresent(uploadShardKey(t.bucket, t.key, t.uploadId));
  if (upload !== undefined) pending.push(upload);
  for await (const page of core.listAll(partPrefix(t.bucket, t.key, t.uploadId))) {
    for (const s of page) {
      const d = await core.deleteIfPresent(s.key);
      if (d !== undefined) pending.push(d);
    }
  }
  await Promise.all(pending.map((d) => core.durable(d)));
}

export interface ListedPart {
  readonly partNumber: number;
  readonly record: PartRecord;
}

export async function listParts(core: Core, t: UploadTarget, afterPart: number, maxParts: number): Promise<{ upload: UploadRecord; parts: ListedPart[]; truncated: boolean }> {
  const upload = await requireUpload(core, t);
  const prefix = partPrefix(t.bucket, t.key, t.uploadId);
  const page = await core.api.list({
    prefix,
    limit: Math.max(1, maxParts),
    ...(afterPart > 0 ? { startAfter: partShardKey(t.bucket, t.key, t.uploadId, afterPart) } : {}),
  });
  const shards = maxParts === 0 ? [] : page.shards;
  const parts = await mapLimit(shards, READ_CONCURRENCY, async (s) => {
    const bytes = await core.getOptional(s.key);
    return bytes === undefined ? undefined : { partNumber: s.key.readUInt16BE(prefix.length), record: decodePart(bytes) };
  });
  return { upload, parts: parts.filter((p): p is ListedPart => p !== undefined), truncated: page.truncated || (maxParts === 0 && page.shards.length > 0) };
}

