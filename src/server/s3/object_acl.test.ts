// tier: quick (npm run test:quick; docs/TESTING.md)
// ACL headers on object writes (object_acl.ts) and the ACL section of the
// object record (access_records.ts, invariant 3): S3's rules for the
// headers, decided on a bucket's access record without a server, and the
// section carried through the object record's codec beside the other
// sections. Each assertion names the rule a broken version would break.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BucketAccess, Grant } from './access_records.js';
import { decodeAclSection, encodeAclSection } from './access_records.js';
import { newBucketAccess } from './access.js';
import { OBJECT_ACL_HEADERS, withRequestedAcl } from './object_acl.js';
import { ownerOfRecord } from './object_owner.js';
import type { ObjectRecord } from './records.js';
import { decodeObject, encodeObject } from './records.js';
import { S3Error } from './s3_errors.js';

const OWNER = 'ab'.repeat(32);
const OTHER = 'cd'.repeat(32);
const ALL_USERS = 'uri="http://acs.amazonaws.com/groups/global/AllUsers"';
const open: BucketAccess = newBucketAccess(OWNER);
const enforced: BucketAccess = { ...open, ownership: 'BucketOwnerEnforced' };
const blocked: BucketAccess = { ...open, publicAccessBlock: { blockPublicAcls: true, ignorePublicAcls: false, blockPublicPolicy: false, restrictPublicBuckets: false } };

function code(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    if (err instanceof S3Error) return `${err.status} ${err.code}`;
    throw err;
  }
  return 'accepted';
}

const ownerFull = { grantee: { kind: 'user', id: OWNER }, permission: 'FULL_CONTROL' } as const;
const otherFull = { grantee: { kind: 'user', id: OTHER }, permission: 'FULL_CONTROL' } as const;

/** The grants a write by `writer` asks for (the owner is checked by the tests that care). */
function grants(headers: Record<string, string>, access: BucketAccess, writer: string = OWNER): unknown {
  return OBJECT_ACL_HEADERS.requested(headers, access, writer).grants;
}

void test('no ACL header asks for nothing (the default ACL); a canned ACL is expanded, grant headers give exactly their grants', () => {
  assert.equal(grants({}, open), undefined);
  assert.deepEqual(grants({ 'x-amz-acl': 'public-read' }, open), [{ grantee: { kind: 'all-users' }, permission: 'READ' }, ownerFull]);
  assert.deepEqual(grants({ 'x-amz-acl': 'private' }, open), [ownerFull]);
  // Exactly the header's grant: no owner grant is added.
  assert.deepEqual(grants({ 'x-amz-grant-read': `id="${OTHER}"` }, open), [{ grantee: { kind: 'user', id: OTHER }, permission: 'READ' }]);
  assert.equal(code(() => grants({ 'x-amz-acl': 'public-read', 'x-amz-grant-read': `id="${OTHER}"` }, open)), '400 InvalidRequest');
  assert.equal(code(() => grants({ 'x-amz-acl': 'log-delivery-write' }, open)), '501 NotImplemented');
});

void test('the owner of a write: its writer under ObjectWriter and no controls; under BucketOwnerPreferred the bucket owner only with bucket-owner-full-control; the bucket owner under BucketOwnerEnforced, for a legacy bucket and for an anonymous write', () => {
  const owner = (access: BucketAccess, headers: Record<string, string>, writer: string | undefined): string => OBJECT_ACL_HEADERS.requested(headers, access, writer).ownerId;
  const preferred: BucketAccess = { ...open, ownership: 'BucketOwnerPreferred' };
  assert.equal(owner(open, {}, OTHER), OTHER);
  assert.equal(owner({ ...open, ownership: undefined }, {}, OTHER), OTHER);
  assert.equal(owner(open, { 'x-amz-acl': 'bucket-owner-full-control' }, OTHER), OTHER);
  assert.equal(owner(preferred, {}, OTHER), OTHER);
  assert.equal(owner(preferred, { 'x-amz-acl': 'bucket-owner-read' }, OTHER), OTHER);
  assert.equal(owner(preferred, { 'x-amz-acl': 'bucket-owner-full-control' }, OTHER), OWNER);
  assert.equal(owner(enforced, {}, OTHER), OWNER);
  assert.equal(owner({ ...preferred, legacyOwner: true }, {}, OTHER), OWNER);
  assert.equal(owner(open, {}, undefined), OWNER);
  // The bucket-owner-* canned ACLs name the bucket owner beside the writer.
  assert.deepEqual(grants({ 'x-amz-acl': 'bucket-owner-read' }, open, OTHER), [otherFull, { grantee: { kind: 'user', id: OWNER }, permission: 'READ' }]);
  assert.deepEqual(grants({ 'x-amz-acl': 'bucket-owner-full-control' }, open, OTHER), [otherFull, ownerFull]);
  assert.deepEqual(grants({ 'x-amz-acl': 'bucket-owner-full-control' }, preferred, OTHER), [ownerFull]);
  assert.deepEqual(grants({ 'x-amz-acl': 'bucket-owner-full-control' }, open, OWNER), [ownerFull]);
});

void test('BucketOwnerEnforced: only bucket-owner-full-control (or the owner\'s own FULL_CONTROL) passes, as a no-op; anything else is 400 AccessControlListNotSupported', () => {
  assert.equal(grants({ 'x-amz-acl': 'bucket-owner-full-control' }, enforced), undefined);
  assert.equal(grants({ 'x-amz-grant-full-control': `id="${OWNER}"` }, enforced), undefined);
  for (const headers of [{ 'x-amz-acl': 'private' }, { 'x-amz-acl': 'public-read' }, { 'x-amz-grant-read': `id="${OTHER}"` }, { 'x-amz-grant-read': `id="${OWNER}"` }]) {
    assert.equal(code(() => grants(headers, enforced)), '400 AccessControlListNotSupported', JSON.stringify(headers));
  }
});

void test('BlockPublicAcls: a grant to AllUsers or AuthenticatedUsers is 403 AccessDenied; a private or per-user ACL passes', () => {
  for (const headers of [{ 'x-amz-acl': 'public-read' }, { 'x-amz-acl': 'public-read-write' }, { 'x-amz-acl': 'authenticated-read' }, { 'x-amz-grant-read': ALL_USERS }]) {
    assert.equal(code(() => grants(headers, blocked)), '403 AccessDenied', JSON.stringify(headers));
  }
  assert.deepEqual(grants({ 'x-amz-acl': 'private' }, blocked), [ownerFull]);
  assert.deepEqual(grants({ 'x-amz-grant-write-acp': `id="${OTHER}"` }, blocked), [{ grantee: { kind: 'user', id: OTHER }, permission: 'WRITE_ACP' }]);
});

void test('the ACL and owner sections travel in the object record beside other sections; the bucket owner\'s write without an ACL leaves the record as it was, byte for byte', () => {
  const base: ObjectRecord = { sizeBytes: 2, mtimeMs: 7, etag: 'e', contentType: 'text/plain', headers: [], parts: [], inline: Buffer.from('hi'), tags: [], uploadId: undefined };
  assert.deepEqual(encodeObject(withRequestedAcl(base, { ownerId: OWNER, bucketOwnerId: OWNER, grants: undefined })), encodeObject(base));
  const asked = [{ grantee: { kind: 'all-users' }, permission: 'READ' }, { grantee: { kind: 'user', id: OTHER }, permission: 'WRITE_ACP' }] as const;
  const lock = Buffer.from([1, 2, 3]);
  const back = decodeObject(encodeObject(withRequestedAcl({ ...base, sections: { lock } }, { ownerId: OTHER, bucketOwnerId: OWNER, grants: asked })));
  assert.deepEqual(back.sections?.lock, lock);
  assert.equal(ownerOfRecord(back, open), OTHER);
  assert.equal(ownerOfRecord(back, enforced), OWNER, 'BucketOwnerEnforced makes every object the bucket owner\'s');
  const section = back.sections?.acl;
  assert.ok(section !== undefined, 'the ACL section is kept');
  assert.deepEqual(decodeAclSection(section, OTHER), asked);
  // An ACL of no grants is a section with no grants: present, not absent (a legacy ACL record must not apply), and read back empty.
  assert.deepEqual(decodeAclSection(encodeAclSection([]), OWNER), []);
  assert.notEqual(decodeObject(encodeObject(withRequestedAcl(base, { ownerId: OWNER, bucketOwnerId: OWNER, grants: [] }))).sections?.acl, undefined);
});

void test('version 1 grants (before ACLs were exact) read back with the owner\'s implied FULL_CONTROL, unless they name the owner', () => {
  const v1 = (g: readonly Grant[]): Buffer => {
    const v2 = encodeAclSection(g);
    v2[0] = 1;
    return v2;
  };
  const read = { grantee: { kind: 'all-users' }, permission: 'READ' } as const;
  assert.deepEqual(decodeAclSection(v1([]), OWNER), [ownerFull]);
  assert.deepEqual(decodeAclSection(v1([read]), OWNER), [read, ownerFull]);
  const ownerRead = { grantee: { kind: 'user', id: OWNER }, permission: 'READ' } as const;
  assert.deepEqual(decodeAclSection(v1([ownerRead]), OWNER), [ownerRead]);
});
