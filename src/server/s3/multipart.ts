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
import type { Dependency } from '../../dependency/index.js';
import { requireBucket } from './buckets.js';
import type { Core } from './core.js';
import { bucketLock, mapLimit, objectLock } from './core.js';
import { discardData, readObject, writeData } from './objects.js';
import type { ObjectRecord, PartRecord, StoredHeaders, UploadRecord } from './records.js';
import { decodePart, decodeUpload, encodeObject, encodePart, encodeUpload } from './records.js';
import { S3Error, noSuchUpload } from './s3_errors.js';
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

export async function createUpload(core: Core, bucket: string, key: Buffer, meta: { contentType: string; headers: StoredHeaders }): Promise<Buffer> {
  await requireBucket(core, bucket);
  const uploadId = newVersion(core.now());
  await core.putDurable(uploadShardKey(bucket, key, uploadId), encodeUpload({ initiatedMs: core.now(), ...meta }));
  return uploadId;
}

/** Store one part from `body`; `md5` gives the body's MD5 once it has been read. */
export async function uploadPart(core: Core, t: UploadTarget, partNumber: number, body: AsyncIterable<Buffer>, md5: () => Buffer): Promise<PartRecord> {
  await requireUpload(core, t);
  const written = await writeData(core, { bucket: t.bucket, key: t.key, part: partNumber }, body, false);
  if (written.kind !== 'shard') throw new Error('a part is always written as a data shard');
  const record: PartRecord = { version: written.ref.version, sizeBytes: written.ref.sizeBytes, mtimeMs: core.now(), md5: md5() };
  let replaced = false;
  let dependency: Dependency;
  try {
    dependency = await core.locks.exclusive(objectLock(t.bucket, t.key), async () => {
      await requireUpload(core, t);
      const key = partShardKey(t.bucket, t.key, t.uploadId, partNumber);
      replaced = (await core.getOptional(key)) !== undefined;
      const staged = await core.api.put(key, encodePart(record));
      core.liveness.endWrite(written.shardKey);
      return staged;
    });
  } catch (err) {
    discardData(core, t, written);
    throw err;
  }
  await core.durable(dependency);
  if (replaced) core.collector.schedule(t.bucket, t.key);
  return record;
}

export interface RequestedPart {
  readonly partNumber: number;
  readonly etag: string;
}

/** Throws NoSuchUpload, InvalidPart, InvalidPartOrder, EntityTooSmall, NoSuchBucket. */
/** Complete the upload, if `check` (run under the object's lock, on the object it replaces) does not throw. */
export async function completeUpload(core: Core, t: UploadTarget, requested: readonly RequestedPart[], check?: (old: ObjectRecord | undefined) => void): Promise<ObjectRecord> {
  checkPartList(requested);
  const record = await core.locks.shared(bucketLock(t.bucket), () =>
    core.locks.exclusive(objectLock(t.bucket, t.key), async () => {
      await requireBucket(core, t.bucket);
      const upload = await requireUpload(core, t);
      // Only a conditional complete reads the record it replaces: a plain one also replaces a damaged record.
      if (check !== undefined) check(await readObject(core, t.bucket, t.key));
      const parts = await mapLimit(requested, READ_CONCURRENCY, (r) => matchingPart(core, t, r));
      const made = objectOfParts(core, upload, requested, parts);
      // Durable before the upload's records go: until then they still name the parts.
      await core.putDurable(objectShardKey(t.bucket, t.key), encodeObject(made));
      await endUpload(core, t);
      return made;
    }),
  );
  core.collector.schedule(t.bucket, t.key);
  return record;
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
  if (part === undefined || part.md5.toString('hex') !== r.etag.replaceAll('"', '').trim().toLowerCase()) {
    throw new S3Error(400, 'InvalidPart', 'One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part\'s entity tag.', {
      PartNumber: String(r.partNumber),
      ETag: r.etag,
    });
  }
  return part;
}

function objectOfParts(core: Core, upload: UploadRecord, requested: readonly RequestedPart[], parts: readonly PartRecord[]): ObjectRecord {
  parts.forEach((p, i) => {
    if (i < parts.length - 1 && p.sizeBytes < MIN_PART_BYTES) {
      throw new S3Error(400, 'EntityTooSmall', `Your proposed upload is smaller than the minimum allowed size: part ${requested[i]?.partNumber ?? '?'} has ${p.sizeBytes} bytes, the minimum is ${MIN_PART_BYTES}.`);
    }
  });
  const md5s = createHash('md5');
  for (const p of parts) md5s.update(p.md5);
  return {
    sizeBytes: parts.reduce((n, p) => n + p.sizeBytes, 0),
    mtimeMs: core.now(),
    etag: `${md5s.digest('hex')}-${parts.length}`,
    contentType: upload.contentType,
    headers: upload.headers,
    parts: parts.map((p, i) => ({ version: p.version, part: requested[i]?.partNumber ?? 0, sizeBytes: p.sizeBytes })),
    inline: undefined,
  };
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

