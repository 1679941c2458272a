// Access control operations: Get/PutBucketAcl, Get/PutObjectAcl,
// Get/Put/DeleteBucketPolicy, GetBucketPolicyStatus,
// Get/Put/DeletePublicAccessBlock, Get/PutBucketOwnershipControls.
// authorize.ts decided that the requester may call them; these check what
// they are asked to store (fail closed: anything not understood is refused)
// and answer once it is durable.
import type { BucketAccess, Grant, Ownership, PublicAccessBlock } from './access_records.js';
import { MAX_POLICY_BYTES } from './access_records.js';
import { readBucketAccess, readObjectGrants, updateBucketAccess, writeObjectGrants } from './access.js';
import { MAX_ACL_BODY_BYTES, aclDocument, grantsOfBody, grantsOfHeaders, hasAclHeaders, isPublicAcl } from './acl.js';
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

/** The grants a Put*Acl request asks for: its headers or its body, not both. */
async function requestedGrants(c: OpContext, access: BucketAccess): Promise<readonly Grant[]> {
  if (access.ownership === 'BucketOwnerEnforced') throw aclNotSupported();
  const body = await readXmlBody(c.r.ex, c.auth, MAX_ACL_BODY_BYTES);
  const fromHeaders = grantsOfHeaders(c.r.ex.req.headers, access.ownerId);
  if (fromHeaders !== undefined && body.length > 0) throw new S3Error(400, 'UnexpectedContent', 'This request does not support content when ACL headers are given');
  const grants = fromHeaders ?? (body.length > 0 ? grantsOfBody(body, access.ownerId) : undefined);
  if (grants === undefined) throw new S3Error(400, 'MissingSecurityHeader', 'Your request was missing a required header', { MissingHeaderName: 'x-amz-acl' });
  if (access.publicAccessBlock?.blockPublicAcls === true && isPublicAcl(grants)) throw blockedPublicAcl();
  return grants;
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
    const grants = await requestedGrants(c, await readBucketAccess(c.core, bucket));
    // Checked again under the lock: the ownership or the block may have changed while the body came in.
    await updateBucketAccess(c.core, bucket, (a) => {
      if (a.ownership === 'BucketOwnerEnforced') throw aclNotSupported();
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
    const access = await readBucketAccess(c.core, bucket);
    const grants = access.ownership === 'BucketOwnerEnforced' ? [] : await readObjectGrants(c.core, bucket, key, record);
    sendXml(c.r.ex, c.r.requestId, 200, 'AccessControlPolicy', aclDocument(c.owner, grants, (id) => c.access.users.displayName(id)));
  },
};

export const putObjectAclOp: Operation = {
  name: 'PutObjectAcl',
  run: async (c) => {
    const [bucket, key] = [bucketOf(c), keyOf(c)];
    const selector = requestedVersion(c);
    if (selector === undefined) await requireObject(c.core, bucket, key);
    else await requireVersion(c.core, { bucket, key }, selector, 'PUT');
    const grants = await requestedGrants(c, await readBucketAccess(c.core, bucket));
    await writeObjectGrants(c.core, bucket, key, grants, selector);
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

/** x-amz-object-ownership / <ObjectOwnership>: ObjectWriter (objects owned by their writer) is not implemented. */
export function ownershipOf(value: string): Ownership {
  if (value === 'BucketOwnerEnforced' || value === 'BucketOwnerPreferred') return value;
  if (value === 'ObjectWriter') throw notImplemented('ObjectWriter object ownership (objects here always belong to the bucket owner)');
  throw new S3Error(400, 'InvalidArgument', `Invalid object ownership: ${value}`, { ArgumentName: 'ObjectOwnership', ArgumentValue: value });
}

export const invalidAclWithOwnership = (): S3Error =>
  new S3Error(400, 'InvalidBucketAclWithObjectOwnership', 'Bucket cannot have ACLs set with ObjectOwnership\'s BucketOwnerEnforced setting');

export const getBucketOwnershipControlsOp: Operation = {
  name: 'GetBucketOwnershipControls',
  run: async (c) => {
    const { ownership } = await readBucketAccess(c.core, bucketOf(c));
    sendXml(c.r.ex, c.r.requestId, 200, 'OwnershipControls', { Rule: { ObjectOwnership: ownership } });
  },
};

export const putBucketOwnershipControlsOp: Operation = {
  name: 'PutBucketOwnershipControls',
  run: async (c) => {
    const doc = asNode(child(parseXml(await readXmlBody(c.r.ex, c.auth, MAX_ACCESS_CONFIG_BYTES)), 'OwnershipControls'), 'OwnershipControls');
    const rule = asNode(child(doc, 'Rule'), 'Rule');
    const ownership = ownershipOf(text(child(rule, 'ObjectOwnership'), 'ObjectOwnership').trim());
    await updateBucketAccess(c.core, bucketOf(c), (a) => {
      if (ownership === 'BucketOwnerEnforced' && a.grants.length > 0) throw invalidAclWithOwnership();
      return { ...a, ownership };
    });
    sendEmpty(c.r.ex, c.r.requestId, 200);
  },
};

/** ACL headers of CreateBucket: what the new bucket's ACL is. Throws as S3 does for ACLs with BucketOwnerEnforced. */
export function createBucketAccess(c: OpContext, ownerId: string): BucketAccess {
  const headers = c.r.ex.req.headers;
  const ownershipHeader = headers['x-amz-object-ownership'];
  const ownership = typeof ownershipHeader === 'string' ? ownershipOf(ownershipHeader.trim()) : 'BucketOwnerPreferred';
  const grants = hasAclHeaders(headers) ? (grantsOfHeaders(headers, ownerId) ?? []) : [];
  if (ownership === 'BucketOwnerEnforced' && grants.length > 0) throw invalidAclWithOwnership();
  return { ownerId, ownership, publicAccessBlock: undefined, grants, policy: '' };
}
