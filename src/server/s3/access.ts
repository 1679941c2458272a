// Where access records live and how they change (access_records.ts has
// the format and the invariants): `\0C bucket` and `\0C bucket/key`.
// Every change is durable before it is answered, under the bucket's lock
// (bucket access) or the object's lock (object ACL). An object's ACL lives
// in its own record (the ACL section, access_records.ts invariant 3); the
// `\0C bucket/key` records of older stores are still read.
import type { Core } from './core.js';
import { bucketLock, objectLock } from './core.js';
import type { BucketAccess, Grant, ObjectStamp } from './access_records.js';
import { decodeAclSection, decodeBucketAccess, decodeObjectAcl, encodeAclSection, encodeBucketAccess, withImpliedOwner } from './access_records.js';
import { defaultGrants } from './acl.js';
import { ownerOfRecord } from './object_owner.js';
import { readBucket, requireBucket } from './buckets.js';
import { readObject } from './objects.js';
import type { ObjectRecord, RecordSections } from './records.js';
import { encodeObject } from './records.js';
import { noSuchKey } from './s3_errors.js';
import { objectShardKey } from './shard_keys.js';
import type { VersionSelector } from './versioning.js';
import { NULL_VERSION_ID, findVersion, isDeleteMarker, noSuchVersion } from './versioning.js';
import { LEGACY_OWNER_ID } from './users.js';

export const NS_ACCESS = Buffer.from([0, 0x43]); // \0C

export function bucketAccessKey(bucket: string): Buffer {
  return Buffer.concat([NS_ACCESS, Buffer.from(bucket, 'latin1')]);
}

export function objectAclKey(bucket: string, key: Buffer): Buffer {
  return Buffer.concat([NS_ACCESS, Buffer.from(`${bucket}/`, 'latin1'), key]);
}

/** What a new bucket gets without ownership or ACL headers (docs/S3.md, "Ownership controls"): ObjectWriter, the owner's FULL_CONTROL, no public access block. */
export function newBucketAccess(ownerId: string): BucketAccess {
  return { ownerId, ownership: 'ObjectWriter', legacyOwner: false, publicAccessBlock: undefined, grants: defaultGrants(ownerId), policy: '' };
}

/** A bucket made before users (no access record, invariant 1): the node owner's, every object its own (invariant 5). */
const LEGACY_ACCESS: BucketAccess = { ...newBucketAccess(LEGACY_OWNER_ID), ownership: 'BucketOwnerPreferred', legacyOwner: true };

/** REQUIRES: the bucket exists. Its access record, or the node owner's default (invariant 1). */
export async function readBucketAccess(core: Core, bucket: string): Promise<BucketAccess> {
  const bytes = await core.getOptional(bucketAccessKey(bucket));
  return bytes === undefined ? LEGACY_ACCESS : decodeBucketAccess(bytes);
}

/** REQUIRES: the caller holds the bucket's lock (CreateBucket, before the bucket record). */
export async function writeBucketAccessLocked(core: Core, bucket: string, access: BucketAccess): Promise<void> {
  await core.putDurable(bucketAccessKey(bucket), encodeBucketAccess(access));
}

/** Change the bucket's access record durably. `change` may throw to refuse. Throws NoSuchBucket. */
export async function updateBucketAccess(core: Core, bucket: string, change: (a: BucketAccess) => BucketAccess): Promise<void> {
  await core.locks.exclusive(bucketLock(bucket), async () => {
    await requireBucket(core, bucket);
    await writeBucketAccessLocked(core, bucket, change(await readBucketAccess(core, bucket)));
  });
}

/**
 * After DeleteBucket (invariant 2): the access record and object ACLs of
 * the bucket, under its lock and only if no bucket of that name exists
 * again (a new owner's record is never deleted).
 */
export async function deleteBucketAccessIfGone(core: Core, bucket: string): Promise<void> {
  await core.locks.exclusive(bucketLock(bucket), async () => {
    if ((await readBucket(core, bucket)) === undefined) await deleteBucketAccess(core, bucket);
  });
}

async function deleteBucketAccess(core: Core, bucket: string): Promise<void> {
  for await (const page of core.listAll(Buffer.concat([bucketAccessKey(bucket), Buffer.from('/')]))) {
    for (const shard of page) await core.deleteIfPresent(shard.key);
  }
  const dependency = await core.deleteIfPresent(bucketAccessKey(bucket));
  if (dependency !== undefined) await core.durable(dependency);
}

export function stampOf(record: ObjectRecord): ObjectStamp {
  return { mtimeMs: record.mtimeMs, etag: record.etag, sizeBytes: record.sizeBytes };
}

function sameStamp(a: ObjectStamp, b: ObjectStamp): boolean {
  return a.mtimeMs === b.mtimeMs && a.etag === b.etag && a.sizeBytes === b.sizeBytes;
}

/** An object's owner and its ACL, exactly. */
export interface ObjectAclView {
  readonly ownerId: string;
  readonly grants: readonly Grant[];
}

/**
 * The owner and grants of the object `record` (invariant 3): its ACL
 * section, else an object ACL record naming it, else its owner's
 * FULL_CONTROL. Under BucketOwnerEnforced the bucket owner's FULL_CONTROL
 * (ACLs are off; the stored ones come back if they are turned on again).
 */
export async function readObjectAcl(core: Core, bucket: string, key: Buffer, record: ObjectRecord, access: BucketAccess): Promise<ObjectAclView> {
  const ownerId = ownerOfRecord(record, access);
  if (access.ownership === 'BucketOwnerEnforced') return { ownerId, grants: defaultGrants(ownerId) };
  const section = record.sections?.acl;
  if (section !== undefined) return { ownerId, grants: decodeAclSection(section, ownerId) };
  const bytes = await core.getOptional(objectAclKey(bucket, key));
  const acl = bytes === undefined ? undefined : decodeObjectAcl(bytes);
  return { ownerId, grants: acl !== undefined && sameStamp(acl.stamp, stampOf(record)) ? withImpliedOwner(acl.grants, ownerId) : defaultGrants(ownerId) };
}

/** The sections of a record (or upload) whose write asked for `grants` (undefined: asked for none, the default ACL of its owner). */
export function withAclSection(sections: RecordSections | undefined, grants: readonly Grant[] | undefined): RecordSections | undefined {
  if (grants === undefined) return sections;
  return { ...sections, acl: encodeAclSection(grants) };
}

/**
 * Set the grants of the object as it is now, or of the version `selector`
 * names (PutObjectAcl), made by `grantsFor` from the record they go into: its record (the object record, or the version's
 * `\0V` record) is rewritten with the same data, ETag and mtime (as S3, an
 * ACL change is not a modification) and the new ACL section, under the
 * object's lock so no commit slips in between. Durable before it returns.
 * Throws NoSuchBucket, NoSuchKey, NoSuchVersion.
 */
export async function writeObjectGrants(core: Core, bucket: string, key: Buffer, grantsFor: (record: ObjectRecord) => readonly Grant[], selector?: VersionSelector): Promise<void> {
  // The bucket's lock shared, as every object record write takes it (objects.ts): DeleteBucket waits.
  await core.locks.shared(bucketLock(bucket), () =>
    core.locks.exclusive(objectLock(bucket, key), async () => {
      const found = selector === undefined ? await currentTarget(core, bucket, key) : await findVersion(core, bucket, key, selector);
      if (found === undefined || isDeleteMarker(found.record)) {
        await requireBucket(core, bucket);
        throw selector === undefined ? noSuchKey(key.toString('utf8')) : noSuchVersion(key, selector.kind === 'null' ? NULL_VERSION_ID : selector.rank.toString('hex'));
      }
      await core.putDurable(found.shardKey, encodeObject({ ...found.record, sections: withAclSection(found.record.sections, grantsFor(found.record)) }));
    }),
  );
}

async function currentTarget(core: Core, bucket: string, key: Buffer): Promise<{ record: ObjectRecord; shardKey: Buffer } | undefined> {
  const record = await readObject(core, bucket, key);
  return record === undefined ? undefined : { record, shardKey: objectShardKey(bucket, key) };
}
