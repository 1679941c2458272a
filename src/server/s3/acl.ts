// Access control lists (docs/S3.md, "ACLs"): canned ACLs, x-amz-grant-*
// headers and AccessControlPolicy documents in, grants out; and what a
// grant allows.
//
// An ACL is kept and read back exactly as given: a canned ACL stands for
// its grants as AWS lists them (the owner's FULL_CONTROL among them), an
// x-amz-grant-* header or an AccessControlPolicy for exactly the grants it
// names (possibly none). The owner keeps READ_ACP and WRITE_ACP whatever
// its ACL says (authorize.ts), as in S3. Grantees: canonical users (by id) and the AllUsers / AuthenticatedUsers
// groups. E-mail grantees, the LogDelivery group and the log-delivery-write
// and aws-exec-read canned ACLs answer 501: refused, not ignored.
import type { IncomingHttpHeaders } from 'node:http';
import type { Grant, Grantee, Permission } from './access_records.js';
import { MAX_GRANTS } from './access_records.js';
import { S3Error, invalidArgument, malformedXml, notImplemented } from './s3_errors.js';
import { isCanonicalId } from './users.js';
import type { XmlNode } from './xml.js';
import { asNode, child, children, optionalText, parseXml, text } from './xml.js';

export const ALL_USERS_URI = 'http://acs.amazonaws.com/groups/global/AllUsers';
export const AUTHENTICATED_USERS_URI = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';
const XSI = 'http://www.w3.org/2001/XMLSchema-instance';

/** Bigger than any ACL of MAX_GRANTS grants. */
export const MAX_ACL_BODY_BYTES = 64 * 1024;

/** Who a canned ACL names: the resource's owner, and the bucket's owner (the same for a bucket). */
export interface AclOwners {
  readonly ownerId: string;
  readonly bucketOwnerId: string;
}

const user = (id: string, permission: Permission): Grant => ({ grantee: { kind: 'user', id }, permission });

/**
 * Canned ACLs as AWS defines them: the owner's FULL_CONTROL and the
 * grants the name adds (listed before it: the order the public conformance
 * suite, ceph's s3-tests, reads by index; AWS documents none). The
 * bucket-owner-* ACLs add the bucket owner only where it is not the owner
 * (AWS ignores them on a bucket).
 */
const CANNED: ReadonlyMap<string, (o: AclOwners) => readonly Grant[]> = new Map<string, (o: AclOwners) => readonly Grant[]>([
  ['private', (o) => [user(o.ownerId, 'FULL_CONTROL')]],
  ['public-read', (o) => [{ grantee: { kind: 'all-users' }, permission: 'READ' }, user(o.ownerId, 'FULL_CONTROL')]],
  [
    'public-read-write',
    (o) => [{ grantee: { kind: 'all-users' }, permission: 'READ' }, { grantee: { kind: 'all-users' }, permission: 'WRITE' }, user(o.ownerId, 'FULL_CONTROL')],
  ],
  ['authenticated-read', (o) => [{ grantee: { kind: 'authenticated-users' }, permission: 'READ' }, user(o.ownerId, 'FULL_CONTROL')]],
  ['bucket-owner-read', (o) => (o.ownerId === o.bucketOwnerId ? [user(o.ownerId, 'FULL_CONTROL')] : [user(o.ownerId, 'FULL_CONTROL'), user(o.bucketOwnerId, 'READ')])],
  [
    'bucket-owner-full-control',
    (o) => (o.ownerId === o.bucketOwnerId ? [user(o.ownerId, 'FULL_CONTROL')] : [user(o.ownerId, 'FULL_CONTROL'), user(o.bucketOwnerId, 'FULL_CONTROL')]),
  ],
]);

/** The default ACL of a resource: its owner's FULL_CONTROL. */
export function defaultGrants(ownerId: string): readonly Grant[] {
  return [user(ownerId, 'FULL_CONTROL')];
}

const GRANT_HEADERS: ReadonlyArray<readonly [string, Permission]> = [
  ['x-amz-grant-read', 'READ'],
  ['x-amz-grant-write', 'WRITE'],
  ['x-amz-grant-read-acp', 'READ_ACP'],
  ['x-amz-grant-write-acp', 'WRITE_ACP'],
  ['x-amz-grant-full-control', 'FULL_CONTROL'],
];

/** The grants of a canned ACL name. Throws InvalidArgument (unknown) or NotImplemented. */
export function cannedGrants(name: string, owners: AclOwners): readonly Grant[] {
  const grants = CANNED.get(name);
  if (grants !== undefined) return grants(owners);
  if (name === 'log-delivery-write' || name === 'aws-exec-read') throw notImplemented(`the canned ACL ${name}`);
  throw invalidArgument(`Invalid canned ACL: ${name}`, { ArgumentName: 'x-amz-acl', ArgumentValue: name });
}

/** True if the request carries x-amz-acl or an x-amz-grant-* header. */
export function hasAclHeaders(headers: IncomingHttpHeaders): boolean {
  return headers['x-amz-acl'] !== undefined || GRANT_HEADERS.some(([name]) => headers[name] !== undefined);
}

/** The x-amz-acl header, trimmed (undefined: none). */
export function cannedAclHeader(headers: IncomingHttpHeaders): string | undefined {
  return headerText(headers, 'x-amz-acl');
}

/** The grants the request's headers ask for, exactly, or undefined if it has none. Throws InvalidRequest for both kinds at once. */
export function grantsOfHeaders(headers: IncomingHttpHeaders, owners: AclOwners): readonly Grant[] | undefined {
  const canned = headerText(headers, 'x-amz-acl');
  const explicit: Grant[] = [];
  for (const [name, permission] of GRANT_HEADERS) {
    const value = headerText(headers, name);
    if (value !== undefined) for (const grantee of granteesOfHeader(value)) explicit.push({ grantee, permission });
  }
  if (canned !== undefined && explicit.length > 0) throw new S3Error(400, 'InvalidRequest', 'Specifying both Canned ACLs and Header Grants is not allowed');
  if (canned !== undefined) return cannedGrants(canned, owners);
  return GRANT_HEADERS.some(([name]) => headers[name] !== undefined) ? normalized(explicit) : undefined;
}

function headerText(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return value === undefined ? undefined : (Array.isArray(value) ? value.join(',') : value).trim();
}

/** `id="...", uri="..."`: the grantees of one x-amz-grant-* header. */
function granteesOfHeader(value: string): Grantee[] {
  return value.split(',').map((part) => {
    const m = /^\s*([A-Za-z]+)\s*=\s*"?([^"]*)"?\s*$/.exec(part);
    if (m === null) throw invalidArgument(`Invalid grant: ${part.trim()}`);
    return granteeOf((m[1] ?? '').toLowerCase(), (m[2] ?? '').trim());
  });
}

function granteeOf(kind: string, value: string): Grantee {
  if (kind === 'id') {
    if (!isCanonicalId(value)) throw invalidArgument('Invalid id', { ArgumentName: 'CanonicalUser/ID', ArgumentValue: value });
    return { kind: 'user', id: value };
  }
  if (kind === 'uri') {
    if (value === ALL_USERS_URI) return { kind: 'all-users' };
    if (value === AUTHENTICATED_USERS_URI) return { kind: 'authenticated-users' };
    if (value.startsWith('http://acs.amazonaws.com/groups/')) throw notImplemented(`the grantee group ${value}`);
    throw invalidArgument('Invalid group uri', { ArgumentName: 'Group/URI', ArgumentValue: value });
  }
  if (kind === 'emailaddress') throw notImplemented('grants to e-mail addresses');
  throw invalidArgument(`Invalid grantee type: ${kind}`);
}

/** Grants of an AccessControlPolicy document. Its Owner, if given, must be the owner. Throws MalformedACLError, AccessDenied, NotImplemented. */
export function grantsOfBody(body: Buffer, ownerId: string): readonly Grant[] {
  const policy = asNode(child(parseXml(body), 'AccessControlPolicy'), 'AccessControlPolicy');
  if (policy.Owner !== undefined) {
    const id = optionalText(asNode(child(policy, 'Owner'), 'Owner'), 'ID');
    if (id !== undefined && id !== ownerId) throw new S3Error(403, 'AccessDenied', 'The Owner of an ACL must be the owner of the resource');
  }
  const list = policy.AccessControlList === undefined ? {} : asNode(child(policy, 'AccessControlList'), 'AccessControlList');
  const grants = children(list, 'Grant').map((g): Grant => {
    const node = asNode(g, 'Grant');
    const permission = text(child(node, 'Permission'), 'Permission');
    if (!isPermission(permission)) throw malformedAcl(`unknown permission ${permission}`);
    return { grantee: granteeOfNode(asNode(child(node, 'Grantee'), 'Grantee')), permission };
  });
  return normalized(grants);
}

function granteeOfNode(node: XmlNode): Grantee {
  const id = optionalText(node, 'ID');
  const uri = optionalText(node, 'URI');
  const email = optionalText(node, 'EmailAddress');
  if ([id, uri, email].filter((v) => v !== undefined).length !== 1) throw malformedAcl('a Grantee names exactly one of ID, URI, EmailAddress');
  if (id !== undefined) return granteeOf('id', id.trim());
  if (uri !== undefined) return granteeOf('uri', uri.trim());
  return granteeOf('emailaddress', email ?? '');
}

function isPermission(p: string): p is Permission {
  return p === 'READ' || p === 'WRITE' || p === 'READ_ACP' || p === 'WRITE_ACP' || p === 'FULL_CONTROL';
}

const malformedAcl = (why: string): S3Error =>
  new S3Error(400, 'MalformedACLError', `The XML you provided was not well-formed or did not validate against our published schema: ${why}`);

/** Without duplicates (the first of each kept, in order); at most MAX_GRANTS. */
function normalized(grants: readonly Grant[]): Grant[] {
  const seen = new Set<string>();
  const out: Grant[] = [];
  for (const g of grants) {
    const key = `${granteeKey(g.grantee)} ${g.permission}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(g);
  }
  if (out.length > MAX_GRANTS) throw malformedXml(`more than ${MAX_GRANTS} grants`);
  return out;
}

function granteeKey(g: Grantee): string {
  return g.kind === 'user' ? `id:${g.id}` : g.kind;
}

/** True if `grants` give anyone but `ownerId` anything, or give `ownerId` less than FULL_CONTROL: more than BucketOwnerEnforced allows. */
export function grantsBeyondOwner(grants: readonly Grant[], ownerId: string): boolean {
  return grants.some((g) => g.grantee.kind !== 'user' || g.grantee.id !== ownerId || g.permission !== 'FULL_CONTROL');
}

/** True if any grant is to AllUsers or AuthenticatedUsers (public, as the public access block sees it). */
export function isPublicAcl(grants: readonly Grant[]): boolean {
  return grants.some((g) => g.grantee.kind !== 'user');
}

/**
 * True if `grants` give `principalId` (undefined: anonymous) `permission`:
 * directly, through FULL_CONTROL, or through a group it belongs to.
 */
export function aclAllows(grants: readonly Grant[], principalId: string | undefined, permission: Permission): boolean {
  return grants.some((g) => {
    if (g.permission !== permission && g.permission !== 'FULL_CONTROL') return false;
    if (g.grantee.kind === 'all-users') return true;
    if (g.grantee.kind === 'authenticated-users') return principalId !== undefined;
    return g.grantee.id === principalId;
  });
}

/** The AccessControlPolicy document: `owner` and exactly `grants`, in their stored order. */
export function aclDocument(owner: { readonly id: string; readonly displayName: string }, grants: readonly Grant[], displayName: (id: string) => string): XmlNode {
  const grantee = (g: Grantee): XmlNode =>
    g.kind === 'user'
      ? { '@_xmlns:xsi': XSI, '@_xsi:type': 'CanonicalUser', ID: g.id, DisplayName: displayName(g.id) }
      : { '@_xmlns:xsi': XSI, '@_xsi:type': 'Group', URI: g.kind === 'all-users' ? ALL_USERS_URI : AUTHENTICATED_USERS_URI };
  return {
    Owner: { ID: owner.id, DisplayName: owner.displayName },
    AccessControlList: grants.length === 0 ? '' : { Grant: grants.map((g) => ({ Grantee: grantee(g.grantee), Permission: g.permission })) },
  };
}
