// tier: quick (npm run test:quick; docs/TESTING.md)
// ACL headers on object writes (object_acl.ts) and the ACL section of the
// object record (access_records.ts, invariant 3): S3's rules for the
// headers, decided on a bucket's access record without a server, and the
// section carried through the object record's codec beside the other
// sections. Each assertion names the rule a broken version would break.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BucketAccess } from './access_records.js';
import { decodeAclSection, encodeAclSection } from './access_records.js';
import { newBucketAccess } from './access.js';
import { OBJECT_ACL_HEADERS, withRequestedAcl } from './object_acl.js';
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

void test('no ACL header asks for nothing (the default ACL); a canned ACL and grants are taken as S3 defines them', () => {
  assert.equal(OBJECT_ACL_HEADERS.requested({}, open), undefined);
  assert.deepEqual(OBJECT_ACL_HEADERS.requested({ 'x-amz-acl': 'public-read' }, open), [{ grantee: { kind: 'all-users' }, permission: 'READ' }]);
  assert.deepEqual(OBJECT_ACL_HEADERS.requested({ 'x-amz-acl': 'private' }, open), []);
  assert.deepEqual(OBJECT_ACL_HEADERS.requested({ 'x-amz-grant-read': `id="${OTHER}"` }, open), [{ grantee: { kind: 'user', id: OTHER }, permission: 'READ' }]);
  assert.equal(code(() => OBJECT_ACL_HEADERS.requested({ 'x-amz-acl': 'public-read', 'x-amz-grant-read': `id="${OTHER}"` }, open)), '400 InvalidRequest');
  assert.equal(code(() => OBJECT_ACL_HEADERS.requested({ 'x-amz-acl': 'log-delivery-write' }, open)), '501 NotImplemented');
});

void test('BucketOwnerEnforced: only bucket-owner-full-control (or the owner\'s own FULL_CONTROL) passes, as a no-op; anything else is 400 AccessControlListNotSupported', () => {
  assert.equal(OBJECT_ACL_HEADERS.requested({ 'x-amz-acl': 'bucket-owner-full-control' }, enforced), undefined);
  assert.equal(OBJECT_ACL_HEADERS.requested({ 'x-amz-grant-full-control': `id="${OWNER}"` }, enforced), undefined);
  for (const headers of [{ 'x-amz-acl': 'private' }, { 'x-amz-acl': 'public-read' }, { 'x-amz-grant-read': `id="${OTHER}"` }, { 'x-amz-grant-read': `id="${OWNER}"` }]) {
    assert.equal(code(() => OBJECT_ACL_HEADERS.requested(headers, enforced)), '400 AccessControlListNotSupported', JSON.stringify(headers));
  }
});

void test('BlockPublicAcls: a grant to AllUsers or AuthenticatedUsers is 403 AccessDenied; a private or per-user ACL passes', () => {
  for (const headers of [{ 'x-amz-acl': 'public-read' }, { 'x-amz-acl': 'public-read-write' }, { 'x-amz-acl': 'authenticated-read' }, { 'x-amz-grant-read': ALL_USERS }]) {
    assert.equal(code(() => OBJECT_ACL_HEADERS.requested(headers, blocked)), '403 AccessDenied', JSON.stringify(headers));
  }
  assert.deepEqual(OBJECT_ACL_HEADERS.requested({ 'x-amz-acl': 'private' }, blocked), []);
  assert.equal(OBJECT_ACL_HEADERS.requested({ 'x-amz-grant-write-acp': `id="${OTHER}"` }, blocked)?.length, 1);
});

void test('the ACL section travels in the object record beside other sections; no ACL asked leaves the record as it was, byte for byte', () => {
  const base: ObjectRecord = { sizeBytes: 2, mtimeMs: 7, etag: 'e', contentType: 'text/plain', headers: [], parts: [], inline: Buffer.from('hi'), tags: [], uploadId: undefined };
  assert.deepEqual(encodeObject(withRequestedAcl(base, undefined)), encodeObject(base));
  const grants = [{ grantee: { kind: 'all-users' }, permission: 'READ' }, { grantee: { kind: 'user', id: OTHER }, permission: 'WRITE_ACP' }] as const;
  const lock = Buffer.from([1, 2, 3]);
  const back = decodeObject(encodeObject(withRequestedAcl({ ...base, sections: { lock } }, grants)));
  assert.deepEqual(back.sections?.lock, lock);
  const section = back.sections?.acl;
  assert.ok(section !== undefined, 'the ACL section is kept');
  assert.deepEqual(decodeAclSection(section), grants);
  // An explicitly private ACL is a section with no grants: present, not absent (a legacy ACL record must not apply).
  assert.deepEqual(decodeAclSection(encodeAclSection([])), []);
  assert.notEqual(decodeObject(encodeObject(withRequestedAcl(base, []))).sections?.acl, undefined);
});
