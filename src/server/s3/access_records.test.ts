// tier: quick (npm run test:quick; docs/TESTING.md)
// Bucket access records across their two versions (access_records.ts):
// a version 1 record, as stores made before object owners and exact ACLs
// wrote it (built here byte by byte from the format's spec), reads with the
// owner's implied FULL_CONTROL and, for BucketOwnerPreferred, the legacy
// rule that keeps every object the bucket owner's (invariant 5); version 2
// keeps every ownership setting, the flag and exact grants; anything else
// is a CorruptionError (invariant 4).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BufWriter, CorruptionError, crc32c } from '../../base/index.js';
import type { BucketAccess, Grant } from './access_records.js';
import { decodeBucketAccess, encodeBucketAccess } from './access_records.js';

const OWNER = 'ab'.repeat(32);
const OTHER = 'cd'.repeat(32);

/** A version 1 record: magic, version, owner, ownership byte, public access block bits, grants, policy, CRC. */
function v1Record(ownershipByte: number, grants: ReadonlyArray<readonly [number, string, number]>): Buffer {
  const w = new BufWriter(128).u32(0x43413353).u8(1).shortBlob(Buffer.from(OWNER, 'latin1')).u8(ownershipByte).u8(0);
  w.u16(grants.length);
  for (const [kind, id, permission] of grants) w.u8(kind).shortBlob(Buffer.from(id, 'latin1')).u8(permission);
  w.blob(Buffer.alloc(0));
  w.u32(crc32c(w.view()));
  return w.finish();
}

const ownerFull: Grant = { grantee: { kind: 'user', id: OWNER }, permission: 'FULL_CONTROL' };

void test('a version 1 record reads with the owner\'s implied FULL_CONTROL, and BucketOwnerPreferred as the legacy rule (objects the bucket owner\'s)', () => {
  const preferred = decodeBucketAccess(v1Record(1, [[2, '', 1]]));
  assert.deepEqual([preferred.ownership, preferred.legacyOwner], ['BucketOwnerPreferred', true]);
  assert.deepEqual(preferred.grants, [{ grantee: { kind: 'all-users' }, permission: 'READ' }, ownerFull]);
  const enforced = decodeBucketAccess(v1Record(0, []));
  assert.deepEqual([enforced.ownership, enforced.legacyOwner, enforced.grants], ['BucketOwnerEnforced', false, [ownerFull]]);
  // A version 1 ACL that names the owner was stored as put: it reads as put.
  assert.deepEqual(decodeBucketAccess(v1Record(1, [[1, OWNER, 1]])).grants, [{ grantee: { kind: 'user', id: OWNER }, permission: 'READ' }]);
  // Version 1 knew two settings only.
  assert.throws(() => decodeBucketAccess(v1Record(2, [])), CorruptionError);
  assert.throws(() => decodeBucketAccess(v1Record(3, [])), CorruptionError);
});

void test('version 2 keeps every setting (no controls too), the legacy flag and exactly the grants, none included', () => {
  for (const ownership of ['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter', undefined] as const) {
    for (const legacyOwner of [false, true]) {
      for (const grants of [[], [{ grantee: { kind: 'user', id: OTHER }, permission: 'WRITE' }]] as const) {
        const access: BucketAccess = { ownerId: OWNER, ownership, legacyOwner, publicAccessBlock: undefined, grants, policy: '' };
        assert.deepEqual(decodeBucketAccess(encodeBucketAccess(access)), access);
      }
    }
  }
});

void test('a version 2 record with an unknown flag or ownership is a CorruptionError', () => {
  const bytes = encodeBucketAccess({ ownerId: OWNER, ownership: 'ObjectWriter', legacyOwner: false, publicAccessBlock: undefined, grants: [], policy: '' });
  // magic, version, owner id (u16 length, 64 bytes): then the ownership byte and the flags.
  const at = 4 + 1 + 2 + OWNER.length;
  const reseal = (b: Buffer): Buffer => {
    b.writeUInt32LE(crc32c(b.subarray(0, b.length - 4)), b.length - 4);
    return b;
  };
  const badOwnership = Buffer.from(bytes);
  badOwnership[at] = 4;
  assert.throws(() => decodeBucketAccess(reseal(badOwnership)), CorruptionError);
  const badFlags = Buffer.from(bytes);
  badFlags[at + 1] = 2;
  assert.throws(() => decodeBucketAccess(reseal(badFlags)), CorruptionError);
});
