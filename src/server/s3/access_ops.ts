// Access control operations: Get/PutBucketAcl, Get/PutObjectAcl,
// Get/Put/DeleteBucketPolicy, GetBucketPolicyStatus,
// Get/Put/DeletePublicAccessBlock, Get/Put/DeleteBucketOwnershipControls.
// authorize.ts decided that the requester may call them; these check what
// they are asked to store (fail closed: anything not understood is refused)
// and answer once it is durable.
import type { BucketAccess, Grant, Ownership, PublicAccessBlock } from './access_records.js';
import { MAX_POLICY_BYTES } from './access_records.js';
import { readBucketAccess, readObjectAcl, updateBucketAccess, writeObjectGrants } from './access.js';
import type { AclOwners } from './acl.js';
import { MAX_ACL_BODY_BYTES, aclDocument, defaultGrants, grantsBeyondOwner, grantsOfBody, grantsOfHeaders, isPublicAcl } from './acl.js';
import { ownerOfRecord } from './object_owner.js';
import { requireObject } from './objects.js';
import { requestedVersion, requireVersion } from './versioning_ops.js';
import type { OpContext, Operation } from './operation.js';
import { bucketOf, keyOf } from './operation.js';
import { isPublicPolicy, malformedPolicy, parsePolicy } from './policy.js';
import { readXmlBody } from './request_body.js';
import { idHeaders, sendEmpty, sendXml } from './respond.js';
import { S3Error, accessDenied, malformedXml, notImplemented } from './s3_errors.js';
import { asNode, child, optionalText, parseXml, text } from './xml.js';

/** The small configuration documents (public access block, ownership controls). */
const MAX_ACCESS_CONFIG_BYTES = 16 * 1024;

export const aclNotSupported = (): S3Error => new S3Error(400, 'AccessControlListNotSupported', 'The bucket does not allow ACLs');

export const blockedPublicAcl = (): S3Error => accessDenied('Access Denied: the bucket\'s public access block (BlockPublicAcls) refuses public ACLs');

/**
 * The ACL a Put*Acl request asks for, exactly: its headers or its body, not
 * both. The body is read here; the grants are made for the resource's
 * owners (a canned ACL names them; a body's Owner must be the resource's
 * owner), which the caller knows only under the resource's lock.
 */
async function requestedAcl(c: OpContext, access: BucketAccess): Promise<(owners: AclOwners) => readonly Grant[]> {
  if (access.ownership === 'BucketOwnerEnforced') throw aclNotSupported();
  const body = await readXmlBody(c.r.ex, c.auth, MAX_ACL_BODY_BYTES);
  const headers = c.r.ex.req.headers;
  if (grantsOfHeaders(headers, { ownerId: access.ownerId, bucketOwnerId: access.ownerId }) !== undefined) {
    if (body.length > 0) throw new S3Error(400, 'UnexpectedContent', 'This request does not support content when ACL headers are given');
  } else if (body.length === 0) {
    throw new S3Error(400, 'MissingSecurityHeader', 'Your request was missing a required header', { MissingHeaderName: 'x-amz-acl' });
  }
  return (owners) => {
    const grants = grantsOfHeaders(headers, owners) ?? grantsOfBody(body, owners.ownerId);
    if (access.publicAccessBlock?.blockPublicAcls === true && isPublicAcl(grants)) throw blockedPublicAcl();
    return grants;
  };
}

export const getBucketAclOp: Operation = {
  name: 'GetBucketAcl',
  run: async (c) => {
    const access = await readBucketAccess(c.core, bucketOf(c));
    sendXml(c.r.ex, c.r.requestId, 200, 'AccessControlPolicy', aclDocument(c.owner, access.grants, (id) => c.access.users.displayName(id)));
  },
};

export const putBucketAclOp: Operation = {
  name: 'PutBucketAcl',
  run: async (c) => {
    const bucket = bucketOf(c);
    const grantsFor = await requestedAcl(c, await readBucketAccess(c.core, bucket));
    // Checked again under the lock: the ownership or the block may have changed while the body came in.
    await updateBucketAccess(c.core, bucket, (a) => {
      if (a.ownership === 'BucketOwnerEnforced') throw aclNotSupported();
      const grants = grantsFor({ ownerId: a.ownerId, bucketOwnerId: a.ownerId });
      if (a.publicAccessBlock?.blockPublicAcls === true && isPublicAcl(grants)) throw blockedPublicAcl();
      return { ...a, grants };
    });
    sendEmpty(c.r.ex, c.r.requestId, 200);
  },
};

export const getObjectAclOp: Operation = {
  name: 'GetObjectAcl',
  run: async (c) => {
    const [bucket, key] = [bucketOf(c), keyOf(c)];
    // With a versionId: that version's ACL (each version keeps its own, access_records.ts invariant 3).
    const selector = requestedVersion(c);
    const record = selector === undefined ? await requireObject(c.core, bucket, key) : await requireVersion(c.core, { bucket, key }, selector, 'GET');
    const acl = await readObjectAcl(c.core, bucket, key, record, await readBucketAccess(c.core, bucket));
    const displayName = (id: string): string => c.access.users.displayName(id);
    sendXml(c.r.ex, c.r.requestId, 200, 'AccessControlPolicy', aclDocument({ id: acl.ownerId, displayName: displayName(acl.ownerId) }, acl.grants, displayName));
  },
};

export const putObjectAclOp: Operation = {
  name: 'PutObjectAcl',
  run: async (c) => {
    const [bucket, key] = [bucketOf(c), keyOf(c)];
    const selector = requestedVersion(c);
    if (selector === undefined) await requireObject(c.core, bucket, key);
    else await requireVersion(c.core, { bucket, key }, selector, 'PUT');
    const access = await readBucketAccess(c.core, bucket);
    const grantsFor = await requestedAcl(c, access);
    // Made for the owner of the record rewritten, read under the object's lock (an ACL never changes the owner).
    await writeObjectGrants(c.core, bucket, key, (record) => grantsFor({ ownerId: ownerOfRecord(record, access), bucketOwnerId: access.ownerId }), selector);
    sendEmpty(c.r.ex, c.r.requestId, 200);
  },
};

const noSuchPolicy = (bucket: string): S3Error => new S3Error(404, 'NoSuchBucketPolicy', 'The bucket policy does not exist', { BucketName: bucket });

export const getBucketPolicyOp: Operation = {
  name: 'GetBucketPolicy',
  run: async (c) => {
    const bucket = bucketOf(c);
    const { policy } = await readBucketAccess(c.core, bucket);
    if (policy === '') throw noSuchPolicy(bucket);
    const bytes = Buffer.from(policy, 'utf8');
    c.r.ex.res.writeHead(200, { ...idHeaders(c.r.requestId), 'Content-Type': 'application/json', 'Content-Length': bytes.length });
    c.r.ex.bytesOut.bytes += bytes.length;
    c.r.ex.res.end(bytes);
  },
};

export const putBucketPolicyOp: Operation = {
  name: 'PutBucketPolicy',
  run: async (c) => {
    const bucket = bucketOf(c);
    const body = await readXmlBody(c.r.ex, c.auth, MAX_POLICY_BYTES + 1).catch((err: unknown) => {
      if (err instanceof S3Error && err.code === 'MalformedXML') throw malformedPolicy(`Policies must be at most ${MAX_POLICY_BYTES} bytes`);
      throw err;
    });
    if (body.length > MAX_POLICY_BYTES) throw malformedPolicy(`Policies must be at most ${MAX_POLICY_BYTES} bytes`);
    const text = body.toString('utf8');
    const policy = parsePolicy(text, bucket);
    await updateBucketAccess(c.core, bucket, (a) => {
      if (a.publicAccessBlock?.blockPublicPolicy === true && isPublicPolicy(policy)) {
        throw accessDenied('Access Denied: the bucket\'s public access block (BlockPublicPolicy) refuses public policies');
      }
      return { ...a, policy: text };
    });
    sendEmpty(c.r.ex, c.r.requestId, 204);
  },
};

export const deleteBucketPolicyOp: Operation = {
  name: 'DeleteBucketPolicy',
  run: async (c) => {
    await updateBucketAccess(c.core, bucketOf(c), (a) => ({ ...a, policy: '' }));
    sendEmpty(c.r.ex, c.r.requestId, 204);
  },
};

export const getBucketPolicyStatusOp: Operation = {
  name: 'GetBucketPolicyStatus',
  run: async (c) => {
    const bucket = bucketOf(c);
    const { policy } = await readBucketAccess(c.core, bucket);
    if (policy === '') throw noSuchPolicy(bucket);
    sendXml(c.r.ex, c.r.requestId, 200, 'PolicyStatus', { IsPublic: isPublicPolicy(parsePolicy(policy, bucket)) ? 'TRUE' : 'FALSE' });
  },
};

const PAB_FIELDS = ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'] as const;

function parsePublicAccessBlock(body: Buffer): PublicAccessBlock {
  const node = asNode(child(parseXml(body), 'PublicAccessBlockConfiguration'), 'PublicAccessBlockConfiguration');
  for (const name of Object.keys(node)) {
    if (!(PAB_FIELDS as readonly string[]).includes(name) && !name.startsWith('@_')) throw malformedXml(`unknown element <${name}>`);
  }
  const flag = (name: string): boolean => {
    const value = optionalText(node, name)?.trim().toLowerCase();
    if (value === undefined || value === 'false') return false;
    if (value === 'true') return true;
    throw malformedXml(`<${name}> must be true or false`);
  };
  return { blockPublicAcls: flag('BlockPublicAcls'), ignorePublicAcls: flag('IgnorePublicAcls'), blockPublicPolicy: flag('BlockPublicPolicy'), restrictPublicBuckets: flag('RestrictPublicBuckets') };
}

export const getPublicAccessBlockOp: Operation = {
  name: 'GetPublicAccessBlock',
  run: async (c) => {
    const bucket = bucketOf(c);
    const { publicAccessBlock: p } = await readBucketAccess(c.core, bucket);
    if (p === undefined) throw new S3Error(404, 'NoSuchPublicAccessBlockConfiguration', 'The public access block configuration was not found', { BucketName: bucket });
    sendXml(c.r.ex, c.r.requestId, 200, 'PublicAccessBlockConfiguration', {
      BlockPublicAcls: p.blockPublicAcls,
      IgnorePublicAcls: p.ignorePublicAcls,
      BlockPublicPolicy: p.blockPublicPolicy,
      RestrictPublicBuckets: p.restrictPublicBuckets,
    });
  },
};

export const putPublicAccessBlockOp: Operation = {
  name: 'PutPublicAccessBlock',
  run: async (c) => {
    const block = parsePublicAccessBlock(await readXmlBody(c.r.ex, c.auth, MAX_ACCESS_CONFIG_BYTES));
    await updateBucketAccess(c.core, bucketOf(c), (a) => ({ ...a, publicAccessBlock: block }));
    sendEmpty(c.r.ex, c.r.requestId, 200);
  },
};

export const deletePublicAccessBlockOp: Operation = {
  name: 'DeletePublicAccessBlock',
  run: async (c) => {
    await updateBucketAccess(c.core, bucketOf(c), (a) => ({ ...a, publicAccessBlock: undefined }));
    sendEmpty(c.r.ex, c.r.requestId, 204);
  },
};

/** x-amz-object-ownership / <ObjectOwnership>. Throws InvalidArgument. */
export function ownershipOf(value: string): Ownership {
  if (value === 'BucketOwnerEnforced' || value === 'BucketOwnerPreferred' || value === 'ObjectWriter') return value;
  throw new S3Error(400, 'InvalidArgument', `Invalid object ownership: ${value}`, { ArgumentName: 'ObjectOwnership', ArgumentValue: value });
}

export const invalidAclWithOwnership = (): S3Error =>
  new S3Error(400, 'InvalidBucketAclWithObjectOwnership', 'Bucket cannot have ACLs set with ObjectOwnership\'s BucketOwnerEnforced setting');

export const getBucketOwnershipControlsOp: Operation = {
  name: 'GetBucketOwnershipControls',
  run: async (c) => {
    const bucket = bucketOf(c);
    const { ownership } = await readBucketAccess(c.core, bucket);
    if (ownership === undefined) throw new S3Error(404, 'OwnershipControlsNotFoundError', 'The bucket ownership controls were not found', { BucketName: bucket });
    sendXml(c.r.ex, c.r.requestId, 200, 'OwnershipControls', { Rule: { ObjectOwnership: ownership } });
  },
};

export const putBucketOwnershipControlsOp: Operation = {
  name: 'PutBucketOwnershipControls',
  run: async (c) => {
    const doc = asNode(child(parseXml(await readXmlBody(c.r.ex, c.auth, MAX_ACCESS_CONFIG_BYTES)), 'OwnershipControls'), 'OwnershipControls');
    const rule = asNode(child(doc, 'Rule'), 'Rule');
    const ownership = ownershipOf(text(child(rule, 'ObjectOwnership'), 'ObjectOwnership').trim());
    // A bucket made before object owners were kept takes the setting as AWS defines it from now on (access_records.ts invariant 5).
    await updateBucketAccess(c.core, bucketOf(c), (a) => {
      if (ownership === 'BucketOwnerEnforced' && grantsBeyondOwner(a.grants, a.ownerId)) throw invalidAclWithOwnership();
      return { ...a, ownership, legacyOwner: false };
    });
    sendEmpty(c.r.ex, c.r.requestId, 200);
  },
};

/** No ownership controls: objects are their writer's, as under ObjectWriter; GetBucketOwnershipControls answers 404 until controls are put. */
export const deleteBucketOwnershipControlsOp: Operation = {
  name: 'DeleteBucketOwnershipControls',
  run: async (c) => {
    await updateBucketAccess(c.core, bucketOf(c), (a) => ({ ...a, ownership: undefined, legacyOwner: false }));
    sendEmpty(c.r.ex, c.r.requestId, 204);
  },
};

/** ACL headers of CreateBucket: what the new bucket's ACL is (its owner's FULL_CONTROL without them). Throws as S3 does for ACLs with BucketOwnerEnforced. */
export function createBucketAccess(c: OpContext, ownerId: string): BucketAccess {
  const headers = c.r.ex.req.headers;
  const ownershipHeader = headers['x-amz-object-ownership'];
  const ownership = typeof ownershipHeader === 'string' ? ownershipOf(ownershipHeader.trim()) : 'ObjectWriter';
  const grants = grantsOfHeaders(headers, { ownerId, bucketOwnerId: ownerId }) ?? defaultGrants(ownerId);
  if (ownership === 'BucketOwnerEnforced' && grantsBeyondOwner(grants, ownerId)) throw invalidAclWithOwnership();
  return { ownerId, ownership, legacyOwner: false, publicAccessBlock: undefined, grants, policy: '' };
}

/**
 * Re-creating one's own bucket in us-east-1 (200): AWS resets the bucket's
 * ACL, to the one the request asks for (its owner's FULL_CONTROL without
 * ACL headers); nothing else changes. An x-amz-object-ownership other than
 * the bucket's setting would be ignored: 501 (PutBucketOwnershipControls
 * changes it). Throws as PutBucketAcl does (AccessControlListNotSupported,
 * BlockPublicAcls).
 */
export function recreatedBucketAccess(c: OpContext, existing: BucketAccess): BucketAccess {
  const headers = c.r.ex.req.headers;
  const ownershipHeader = headers['x-amz-object-ownership'];
  if (typeof ownershipHeader === 'string' && ownershipOf(ownershipHeader.trim()) !== existing.ownership) {
    throw notImplemented('x-amz-object-ownership on re-creating a bucket with another setting (use PutBucketOwnershipControls)');
  }
  const grants = grantsOfHeaders(headers, { ownerId: existing.ownerId, bucketOwnerId: existing.ownerId }) ?? defaultGrants(existing.ownerId);
  if (existing.ownership === 'BucketOwnerEnforced' && grantsBeyondOwner(grants, existing.ownerId)) throw aclNotSupported();
  if (existing.publicAccessBlock?.blockPublicAcls === true && isPublicAcl(grants)) throw blockedPublicAcl();
  return { ...existing, grants };
}
