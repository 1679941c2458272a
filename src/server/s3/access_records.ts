// Access records (docs/format/s3_records.md, "Access records"): who owns a
// bucket and who else may do what, kept apart from the bucket and object
// records so that those formats stay as they are.
//
// DO NOT CHANGE: on-disk. Add a new format version instead.
//
//   \0C bucket          bucket access record (magic "S3AC")
//   \0C bucket / key    object ACL record (magic "S3OA")
//
// bucket access record: u32 magic, u8 version (1 or 2), shortBlob owner id (64 hex),
//   u8 ownership (0 BucketOwnerEnforced, 1 BucketOwnerPreferred; v2: 2
//   ObjectWriter, 3 no ownership controls),
//   v2: u8 flags (bit 0: legacy, every object written belongs to the bucket owner),
//   u8 public access block (bit 0: configured; bits 1-4: BlockPublicAcls,
//   IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets), grants,
//   blob policy (UTF-8 JSON as the owner gave it; empty: none), u32 crc32c
// object ACL record: u32 magic, u8 version (1), u64 object mtimeMs,
//   shortBlob object etag, u64 object size, grants, u32 crc32c
// object ACL section (section 3 of object and upload records, records.ts):
//   u8 version (1 or 2), grants; no magic or CRC: the record that holds it has both
// grants: u16 n, n x (u8 grantee (1 canonical user, 2 AllUsers,
//   3 AuthenticatedUsers), shortBlob id (empty for a group), u8 permission
//   (1 READ, 2 WRITE, 3 READ_ACP, 4 WRITE_ACP, 5 FULL_CONTROL))
//
// Version 1 grants (bucket access records v1, object ACL records, ACL
// sections v1) leave out the owner's FULL_CONTROL, which was implied
// unless a grant named the owner; version 2 grants are the ACL exactly as
// it reads back (an ACL may name no grant at all). The decoders turn
// version 1 grants into exact ones (withImpliedOwner), so nothing above
// this file sees the difference.
//
// Invariants:
// 1. A bucket without an access record belongs to the node's owner
//    (users.ts, LEGACY_OWNER_ID): stores made before users stay as they were.
// 2. CreateBucket writes the access record (durably) before the bucket
//    record, and DeleteBucket deletes the bucket record before the access
//    record, so a bucket record never meets another bucket's access record:
//    a leftover access record without its bucket is overwritten when the
//    name is created again.
// 3. An object's ACL is the ACL section of its record when the record has
//    one (written with the object by PutObject, CopyObject and
//    CreateMultipartUpload's x-amz-acl / x-amz-grant-*, or by PutObjectAcl,
//    which rewrites the record): one record, one durable step, so an object
//    is never seen, before or after a crash, with an ACL other than the one
//    its write asked for. A record without the section (written before
//    sections, or with no ACL asked) falls back to the object ACL record,
//    which applies only to the object whose mtime, ETag and size it names:
//    an object written after it has the default ACL (its owner's
//    FULL_CONTROL), so an overwrite never inherits an old grant. No object
//    ACL record is written any more; old ones are read.
// 4. Anything a decoder does not know (a grantee kind, a permission, a
//    flag, an ownership) is a CorruptionError: access is refused, never
//    guessed.
// 5. A bucket access record of version 1 was written when every object
//    belonged to its bucket's owner: it decodes with `legacyOwner` set
//    (for BucketOwnerPreferred), which keeps that rule for the objects
//    written later, until the ownership controls are put or deleted.
import { BufReader, BufWriter, CorruptionError, assert, crc32c } from '../../base/index.js';

const BUCKET_ACCESS_MAGIC = 0x43413353; // "S3AC" little-endian
const OBJECT_ACL_MAGIC = 0x414f3353; // "S3OA"
const FORMAT_V1 = 1;
/** Bucket access records and ACL sections: exact grants; bucket access records: more ownerships and a flags byte. */
const FORMAT_V2 = 2;
const FLAG_LEGACY_OWNER = 1;
/** More grants than AWS allows in one ACL (100). */
export const MAX_GRANTS = 100;
/** AWS's bucket policy limit is 20 KB. */
export const MAX_POLICY_BYTES = 20 * 1024;

export type Permission = 'READ' | 'WRITE' | 'READ_ACP' | 'WRITE_ACP' | 'FULL_CONTROL';
const PERMISSIONS: readonly Permission[] = ['READ', 'WRITE', 'READ_ACP', 'WRITE_ACP', 'FULL_CONTROL'];

export type Grantee = { readonly kind: 'user'; readonly id: string } | { readonly kind: 'all-users' } | { readonly kind: 'authenticated-users' };

export interface Grant {
  readonly grantee: Grantee;
  readonly permission: Permission;
}

export type Ownership = 'BucketOwnerEnforced' | 'BucketOwnerPreferred' | 'ObjectWriter';
/** DO NOT CHANGE the order: the index is the on-disk byte; NO_CONTROLS follows them. */
const OWNERSHIPS: readonly Ownership[] = ['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter'];
const NO_CONTROLS = 3;

export interface PublicAccessBlock {
  readonly blockPublicAcls: boolean;
  readonly ignorePublicAcls: boolean;
  readonly blockPublicPolicy: boolean;
  readonly restrictPublicBuckets: boolean;
}

export interface BucketAccess {
  readonly ownerId: string;
  /** Undefined: no ownership controls (after DeleteBucketOwnershipControls): objects are their writer's, as under ObjectWriter. */
  readonly ownership: Ownership | undefined;
  /** Invariant 5: every object written belongs to the bucket owner, whatever the ownership says (buckets made before object owners were kept). */
  readonly legacyOwner: boolean;
  /** Undefined: no configuration (GetPublicAccessBlock answers NoSuchPublicAccessBlockConfiguration). */
  readonly publicAccessBlock: PublicAccessBlock | undefined;
  /** The bucket ACL, exactly (the owner's FULL_CONTROL is a grant like any other; the owner keeps READ_ACP and WRITE_ACP anyway). */
  readonly grants: readonly Grant[];
  /** The policy document as given ('' for none); policy.ts parses it. */
  readonly policy: string;
}

export interface ObjectStamp {
  readonly mtimeMs: number;
  readonly etag: string;
  readonly sizeBytes: number;
}

export interface ObjectAcl {
  readonly stamp: ObjectStamp;
  /** Version 1 grants: the owner's FULL_CONTROL implied (see the header). */
  readonly grants: readonly Grant[];
}

export function encodeBucketAccess(a: BucketAccess): Buffer {
  assert(Buffer.byteLength(a.policy) <= MAX_POLICY_BYTES, 'policy size');
  const w = new BufWriter(64 + Buffer.byteLength(a.policy));
  w.u32(BUCKET_ACCESS_MAGIC).u8(FORMAT_V2).shortBlob(Buffer.from(a.ownerId, 'latin1'));
  w.u8(a.ownership === undefined ? NO_CONTROLS : OWNERSHIPS.indexOf(a.ownership)).u8(a.legacyOwner ? FLAG_LEGACY_OWNER : 0).u8(pabBits(a.publicAccessBlock));
  writeGrants(w, a.grants);
  w.blob(Buffer.from(a.policy, 'utf8'));
  return sealed(w);
}

export function decodeBucketAccess(bytes: Buffer): BucketAccess {
  const { r, version } = opened(bytes, BUCKET_ACCESS_MAGIC, 'bucket access record', FORMAT_V2);
  const ownerId = r.shortBlob().toString('latin1');
  const ownershipByte = r.u8();
  // Version 1 knew BucketOwnerEnforced and BucketOwnerPreferred only.
  const known = version === FORMAT_V1 ? ownershipByte <= 1 : ownershipByte <= NO_CONTROLS;
  if (!known) throw new CorruptionError(`bucket access record: unknown object ownership ${ownershipByte}`);
  const ownership = ownershipByte === NO_CONTROLS ? undefined : OWNERSHIPS[ownershipByte];
  const flags = version === FORMAT_V1 ? (ownership === 'BucketOwnerPreferred' ? FLAG_LEGACY_OWNER : 0) : r.u8();
  if ((flags & ~FLAG_LEGACY_OWNER) !== 0) throw new CorruptionError(`bucket access record: unknown flags ${flags}`);
  const bits = r.u8();
  if (bits > 0x1f || (bits !== 0 && (bits & 1) === 0)) throw new CorruptionError('bucket access record: unknown public access block bits');
  const publicAccessBlock =
    (bits & 1) === 0
      ? undefined
      : { blockPublicAcls: (bits & 2) !== 0, ignorePublicAcls: (bits & 4) !== 0, blockPublicPolicy: (bits & 8) !== 0, restrictPublicBuckets: (bits & 16) !== 0 };
  const stored = readGrants(r);
  const grants = version === FORMAT_V1 ? withImpliedOwner(stored, ownerId) : stored;
  const policy = r.blob().toString('utf8');
  r.expectEnd();
  return { ownerId, ownership, legacyOwner: (flags & FLAG_LEGACY_OWNER) !== 0, publicAccessBlock, grants, policy };
}

export function encodeObjectAcl(a: ObjectAcl): Buffer {
  const w = new BufWriter(64);
  w.u32(OBJECT_ACL_MAGIC).u8(FORMAT_V1).u64(a.stamp.mtimeMs).shortBlob(Buffer.from(a.stamp.etag, 'latin1')).u64(a.stamp.sizeBytes);
  writeGrants(w, a.grants);
  return sealed(w);
}

export function decodeObjectAcl(bytes: Buffer): ObjectAcl {
  const { r } = opened(bytes, OBJECT_ACL_MAGIC, 'object ACL record', FORMAT_V1);
  const stamp = { mtimeMs: r.u64(), etag: r.shortBlob().toString('latin1'), sizeBytes: r.u64() };
  const grants = readGrants(r);
  r.expectEnd();
  return { stamp, grants };
}

/** The ACL section of an object or upload record (invariant 3): exact grants (version 2). */
export function encodeAclSection(grants: readonly Grant[]): Buffer {
  const w = new BufWriter(16).u8(FORMAT_V2);
  writeGrants(w, grants);
  return w.finish();
}

/** The exact grants of an ACL section; `ownerId`, the object's owner, completes a version 1 section. */
export function decodeAclSection(bytes: Buffer, ownerId: string): Grant[] {
  const r = new BufReader(bytes, 'object ACL section');
  const version = r.u8();
  if (version !== FORMAT_V1 && version !== FORMAT_V2) throw new CorruptionError(`object ACL section: unknown version ${version}`);
  const grants = readGrants(r);
  r.expectEnd();
  return version === FORMAT_V1 ? withImpliedOwner(grants, ownerId) : grants;
}

/**
 * Version 1 grants made exact: the owner's FULL_CONTROL, last, unless a
 * grant names the owner (an ACL put as [owner READ] was stored as such and
 * read back as put).
 */
export function withImpliedOwner(grants: readonly Grant[], ownerId: string): Grant[] {
  const namesOwner = grants.some((g) => g.grantee.kind === 'user' && g.grantee.id === ownerId);
  return namesOwner ? [...grants] : [...grants, { grantee: { kind: 'user', id: ownerId }, permission: 'FULL_CONTROL' }];
}

function pabBits(p: PublicAccessBlock | undefined): number {
  if (p === undefined) return 0;
  return 1 | (p.blockPublicAcls ? 2 : 0) | (p.ignorePublicAcls ? 4 : 0) | (p.blockPublicPolicy ? 8 : 0) | (p.restrictPublicBuckets ? 16 : 0);
}

function writeGrants(w: BufWriter, grants: readonly Grant[]): void {
  assert(grants.length <= MAX_GRANTS, 'too many grants');
  w.u16(grants.length);
  for (const g of grants) {
    const kind = g.grantee.kind === 'user' ? 1 : g.grantee.kind === 'all-users' ? 2 : 3;
    w.u8(kind).shortBlob(Buffer.from(g.grantee.kind === 'user' ? g.grantee.id : '', 'latin1')).u8(PERMISSIONS.indexOf(g.permission) + 1);
  }
}

function readGrants(r: BufReader): Grant[] {
  const n = r.u16();
  if (n > MAX_GRANTS) throw new CorruptionError(`${n} grants is more than a record holds`);
  const out: Grant[] = [];
  for (let i = 0; i < n; i++) {
    const kind = r.u8();
    const id = r.shortBlob().toString('latin1');
    const permission = PERMISSIONS[r.u8() - 1];
    if (permission === undefined) throw new CorruptionError('access record: unknown permission');
    if (kind === 1 && id !== '') out.push({ grantee: { kind: 'user', id }, permission });
    else if (kind === 2 && id === '') out.push({ grantee: { kind: 'all-users' }, permission });
    else if (kind === 3 && id === '') out.push({ grantee: { kind: 'authenticated-users' }, permission });
    else throw new CorruptionError('access record: unknown grantee');
  }
  return out;
}

function sealed(w: BufWriter): Buffer {
  w.u32(crc32c(w.view()));
  return w.finish();
}

/** Check length, CRC, magic and version (1 to `newest`); a reader after the version byte, bounded before the CRC. */
function opened(bytes: Buffer, magic: number, what: string, newest: number): { r: BufReader; version: number } {
  if (bytes.length < 9) throw new CorruptionError(`${what}: ${bytes.length} bytes is too short`);
  const body = bytes.subarray(0, bytes.length - 4);
  if (crc32c(body) !== bytes.readUInt32LE(bytes.length - 4)) throw new CorruptionError(`${what}: checksum mismatch`);
  const r = new BufReader(body, what);
  if (r.u32() !== magic) throw new CorruptionError(`${what}: bad magic`);
  const version = r.u8();
  if (version < FORMAT_V1 || version > newest) throw new CorruptionError(`${what}: unknown format version ${version}`);
  return { r, version };
}
