// Access control lists (docs/S3.md, "ACLs"): canned ACLs, x-amz-grant-*
// headers and AccessControlPolicy documents in, grants out; and what a
// grant allows.
//
// The owner's FULL_CONTROL is implied (ownership gives every right, see
// authorize.ts) and always listed, last; stored grants are the others.
// Grantees: canonical users (by id) and the AllUsers / AuthenticatedUsers
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

const CANNED: ReadonlyMap<string, readonly Grant[]> = new Map<string, readonly Grant[]>([
  ['private', []],
  ['public-read', [{ grantee: { kind: 'all-users' }, permission: 'READ' }]],
  ['public-read-write', [{ grantee: { kind: 'all-users' }, permission: 'READ' }, { grantee: { kind: 'all-users' }, permission: 'WRITE' }]],
  ['authenticated-read', [{ grantee: { kind: 'authenticated-users' }, permission: 'READ' }]],
  // Objects are always the bucket owner's here, so these grant nothing beyond the owner's FULL_CONTROL.
  ['bucket-owner-read', []],
  ['bucket-owner-full-control', []],
]);

const GRANT_HEADERS: ReadonlyArray<readonly [string, Permission]> = [
  ['x-amz-grant-read', 'READ'],
  ['x-amz-grant-write', 'WRITE'],
  ['x-amz-grant-read-acp', 'READ_ACP'],
  ['x-amz-grant-write-acp', 'WRITE_ACP'],
  ['x-amz-grant-full-control', 'FULL_CONTROL'],
];

/** The grants of a canned ACL name. Throws InvalidArgument (unknown) or NotImplemented. */
export function cannedGrants(name: string): readonly Grant[] {
  const grants = CANNED.get(name);
  if (grants !== undefined) return grants;
  if (name === 'log-delivery-write' || name === 'aws-exec-read') throw notImplemented(`the canned ACL ${name}`);
  throw invalidArgument(`Invalid canned ACL: ${name}`, { ArgumentName: 'x-amz-acl', ArgumentValue: name });
}

/** True if the request carries x-amz-acl or an x-amz-grant-* header. */
export function hasAclHeaders(headers: IncomingHttpHeaders): boolean {
  return headers['x-amz-acl'] !== undefined || GRANT_HEADERS.some(([name]) => headers[name] !== undefined);
}

/** The grants the request's headers ask for, or undefined if it has none. Throws InvalidRequest for both kinds at once. */
export function grantsOfHeaders(headers: IncomingHttpHeaders, ownerId: string): readonly Grant[] | undefined {
  const canned = headerText(headers, 'x-amz-acl');
  const explicit: Grant[] = [];
  for (const [name, permission] of GRANT_HEADERS) {
    const value = headerText(headers, name);
    if (value !== undefined) for (const grantee of granteesOfHeader(value)) explicit.push({ grantee, permission });
  }
  if (canned !== undefined && explicit.length > 0) throw new S3Error(400, 'InvalidRequest', 'Specifying both Canned ACLs and Header Grants is not allowed');
  if (canned !== undefined) return cannedGrants(canned);
  return GRANT_HEADERS.some(([name]) => headers[name] !== undefined) ? normalized(explicit, ownerId) : undefined;
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
  return normalized(grants, ownerId);
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

/**
 * Without duplicates and without the owner's own FULL_CONTROL (implied)
 * unless the list also grants the owner something else (then it is kept, so
 * that the ACL reads back as put: see aclDocument); at most MAX_GRANTS.
 */
function normalized(grants: readonly Grant[], ownerId: string): Grant[] {
  const isOwner = (g: Grant): boolean => g.grantee.kind === 'user' && g.grantee.id === ownerId;
  const ownerOthers = grants.some((g) => isOwner(g) && g.permission !== 'FULL_CONTROL');
  const seen = new Set<string>();
  const out: Grant[] = [];
  for (const g of grants) {
    if (isOwner(g) && g.permission === 'FULL_CONTROL' && !ownerOthers) continue;
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

/**
 * The AccessControlPolicy document: `grants`, then the owner's implied
 * FULL_CONTROL unless `grants` name the owner (an ACL put with, say, only
 * the owner's READ reads back as put; the owner keeps every right anyway).
 * AWS documents no order; this is the one the public S3 conformance suite
 * (ceph's s3-tests) compares against, grant by grant.
 */
export function aclDocument(owner: { readonly id: string; readonly displayName: string }, grants: readonly Grant[], displayName: (id: string) => string): XmlNode {
  const grantee = (g: Grantee): XmlNode =>
    g.kind === 'user'
      ? { '@_xmlns:xsi': XSI, '@_xsi:type': 'CanonicalUser', ID: g.id, DisplayName: displayName(g.id) }
      : { '@_xmlns:xsi': XSI, '@_xsi:type': 'Group', URI: g.kind === 'all-users' ? ALL_USERS_URI : AUTHENTICATED_USERS_URI };
  const namesOwner = grants.some((g) => g.grantee.kind === 'user' && g.grantee.id === owner.id);
  const all: Grant[] = namesOwner ? [...grants] : [...grants, { grantee: { kind: 'user', id: owner.id }, permission: 'FULL_CONTROL' }];
  return {
    Owner: { ID: owner.id, DisplayName: owner.displayName },
    AccessControlList: { Grant: all.map((g) => ({ Grantee: grantee(g.grantee), Permission: g.permission })) },
  };
}
