// Who owns an object (docs/S3.md, "Ownership controls"), as S3's object
// ownership settings decide it when the object is written:
//
//   ObjectWriter (and a bucket with no ownership controls): the writer.
//   BucketOwnerPreferred: the bucket owner if the write's canned ACL is
//     bucket-owner-full-control, else the writer.
//   BucketOwnerEnforced: the bucket owner, whatever the write says; ACLs
//     are off, and objects written before the setting are the bucket
//     owner's too while it holds.
//
// The owner is kept in the object's record (section 5, records.ts) only
// when it is not the bucket owner, so a record without it (every record
// written before owners were kept) is the bucket owner's. An anonymous
// write is the bucket owner's (there is no anonymous account here), and so
// is every write to a bucket made before owners were kept
// (access_records.ts invariant 5).
import { CorruptionError } from '../../base/index.js';
import type { BucketAccess } from './access_records.js';
import type { ObjectRecord, RecordSections } from './records.js';
import { isCanonicalId } from './users.js';

/** True if an object of the bucket may belong to someone other than the bucket owner. */
export function writersOwnObjects(access: BucketAccess): boolean {
  return access.ownership !== 'BucketOwnerEnforced' && !access.legacyOwner;
}

/** The owner of an object `writerId` (undefined: anonymous) writes with the canned ACL `cannedAcl`. */
export function ownerOfWrite(access: BucketAccess, writerId: string | undefined, cannedAcl: string | undefined): string {
  if (writerId === undefined || !writersOwnObjects(access)) return access.ownerId;
  if (access.ownership === 'BucketOwnerPreferred' && cannedAcl === 'bucket-owner-full-control') return access.ownerId;
  return writerId;
}

/** The owner of the object (or version) `record` in a bucket with `access`. Throws CorruptionError for a damaged owner section. */
export function ownerOfRecord(record: ObjectRecord, access: BucketAccess): string {
  const section = record.sections?.owner;
  if (section === undefined || access.ownership === 'BucketOwnerEnforced') return access.ownerId;
  return decodeOwnerSection(section);
}

/** `sections` with the owner section of an object owned by `ownerId` (none when that is the bucket owner). */
export function withOwnerSection(sections: RecordSections | undefined, ownerId: string, bucketOwnerId: string): RecordSections | undefined {
  if (ownerId === bucketOwnerId) return sections;
  return { ...sections, owner: Buffer.from(ownerId, 'utf8') };
}

/** The owner section: a canonical id, UTF-8 (64 lower-case hex digits); anything else is damage. */
export function decodeOwnerSection(bytes: Buffer): string {
  const id = bytes.toString('utf8');
  if (!isCanonicalId(id)) throw new CorruptionError('object record: the owner section is not a canonical id');
  return id;
}
