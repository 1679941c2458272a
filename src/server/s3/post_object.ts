// POST object: a browser form upload (docs/S3.md, "POST object"), POST
// /bucket with a multipart/form-data body whose fields carry the key, a
// signed policy (post_policy.ts) and the object's metadata, and whose last
// part is the file.
//
// Steps, each refusal before anything is stored:
//   1. the body is multipart/form-data (412 PreconditionFailed otherwise);
//   2. the fields before the file are read (at most 20 KiB, form_data.ts);
//      no file part: 400 InvalidArgument;
//   3. no policy and no signature: anonymous, served where the bucket's
//      ACL or policy grants everyone write (step 4); else the signature
//      verifies and the policy holds (post_policy.ts);
//   4. every field is one this node acts on (fail closed: a field asking
//      for encryption, a storage class... answers 501), the key is
//      given and valid; the signer may put that key (authorize.ts,
//      PostObject: s3:PutObject, as PutObject), the bucket exists;
//   5. the file streams into a new data shard (bounded memory), checked
//      against content-length-range as it passes and, at its end, against
//      the Content-MD5 and x-amz-checksum-<algorithm> fields (400
//      BadDigest; the checksum is kept with the object, as a PutObject's
//      x-amz-checksum-* header is, and echoed), and the form must end
//      right after it (a field after the file would be ignored by S3: here
//      it is refused, and the data discarded);
//   6. the record commits with its data in one durable step, as
//      PutObject's, durable before the object's lock is released (so the
//      collector never sees it staged but not durable: commitObject); the
//      answer is 204, 200, 201 (success_action_status) or a 303 to
//      success_action_redirect.
import { createHash } from 'node:crypto';
import { assert } from '../../base/index.js';
import type { IncomingHttpHeaders } from 'node:http';
import { requestBody } from '../body_stream.js';
import { ANONYMOUS, AUTHORIZER } from './authorize.js';
import type { Principal } from './authorize.js';
import { requireBucket } from './buckets.js';
import { applyCors } from './cors_ops.js';
import type { FilePart, FormField } from './form_data.js';
import { FormReader, formBoundary } from './form_data.js';
import { metadataOf } from './object_headers.js';
import { MAX_PUT_BYTES, checksumEcho, recordOf } from './object_ops.js';
import { fullObjectChecksum, withChecksum } from './checksum_section.js';
import type { Checksum, ChecksumAlgorithm } from './checksums.js';
import { isChecksumAlgorithm, newChecksum } from './checksums.js';
import { defaultLockOf, lockedRecord } from './object_lock.js';
import { defaultEncryption, encryptionHeaders, encryptionOf } from './sse.js';
import { storedBody } from './sse_ops.js';
import { expectedOwnerRefusal } from './fail_closed.js';
import { commitObject, discardData, writeData } from './objects.js';
import { readBucketAccess } from './access.js';
import { requestedObjectAcl, withRequestedAcl } from './object_acl.js';
import type { UnsignedContext, UnsignedOperation } from './operation.js';
import { bucketOf } from './operation.js';
import type { Policy } from './post_policy.js';
import { POST_POLICY, decodePolicy, sizeRange, verifyFormSignature, verifyFormSignatureV2 } from './post_policy.js';
import { SIGV2_VERSION } from './sigv2.js';
import { SIGV4_ALGORITHM } from './sigv4.js';
import type { FormFields } from './post_policy.js';
import type { TagSet } from './records.js';
import { quotedEtag, sendEmpty, sendXml } from './respond.js';
import { S3Error, invalidArgument, invalidRequest, notImplemented } from './s3_errors.js';
import { objectShardKey, validateObjectKey } from './shard_keys.js';
import { tagsOfBody } from './tagging.js';

/** Fields whose value is stored with the object as the header of the same name (object_headers.ts keeps them). */
const STORED_FIELDS = new Set(['content-type', 'cache-control', 'content-disposition', 'content-encoding', 'content-language', 'expires']);
/** Fields that steer the upload itself. */
const CONTROL_FIELDS = new Set(['key', 'policy', 'x-amz-signature', 'x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'awsaccesskeyid', 'signature', 'success_action_status', 'success_action_redirect', 'bucket']);
/** The fields of a SigV4 signature: a form with them and V2's is refused (which one counts would be a guess). */
const SIGV4_FIELDS: readonly string[] = ['x-amz-signature', 'x-amz-credential', 'x-amz-algorithm'];
/** Values that ask for exactly what the node does anyway (as fail_closed.ts accepts the headers). */
const ACCEPTED_VALUES: ReadonlyMap<string, readonly string[]> = new Map([
  ['x-amz-storage-class', ['STANDARD']],
]);
/** The canned ACL of the object, as `x-amz-acl` on PutObject (object_acl.ts): kept in the object's record. */
const ACL_FIELD = 'acl';
/** The object's tag set as a <Tagging> XML document (S3's form field; tagging.ts checks S3's limits): kept in the object's record. */
const TAGGING_FIELD = 'tagging';
/** The file's MD5 (base64), checked as PutObject checks the header: 400 InvalidDigest if malformed, BadDigest if it differs. */
const MD5_FIELD = 'content-md5';
/** x-amz-checksum-<algorithm>: the file's additional checksum, checked and kept (FULL_OBJECT) as PutObject's header is. */
const CHECKSUM_FIELD_PREFIX = 'x-amz-checksum-';
/** Names the algorithm of the checksum field given; alone (no value to check) it is 400, as PutObject's x-amz-sdk-checksum-algorithm without one. */
const CHECKSUM_ALGORITHM_FIELD = 'x-amz-checksum-algorithm';

export const postObjectOp: UnsignedOperation = {
  name: 'PostObject',
  unsigned: true,
  run: async (c) => {
    const boundary = formBoundary(c.r.ex.req.headers['content-type']);
    if (boundary === undefined) {
      throw new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'Bucket POST must be of the enclosure-type multipart/form-data' });
    }
    const reader = new FormReader(requestBody({ req: c.r.ex.req, bytesIn: c.r.ex.bytesIn }), boundary);
    const { fields: list, file } = await reader.readUntilFile();
    if (file === undefined) throw invalidArgument('POST requires exactly one file upload per request.', { ArgumentName: 'file', ArgumentValue: '0' });
    const bucket = bucketOf(c);
    const fields = fieldMap(list);
    const { policy, principal } = authenticate(c, fields, bucket);
    const key = keyOfForm(fields, file, bucket);
    refuseUnservedFields(fields, bucket);
    const meta = metadataOf(storedHeaders(fields, file));
    const tags = tagsOfForm(fields);
    const digests = digestsOfForm(fields);
    const redirect = redirectOf(fields);
    const { access } = await AUTHORIZER.authorize(c.core, c.r, 'PostObject', principal, key);
    const refusal = access === undefined ? undefined : expectedOwnerRefusal(c.r.ex.req.headers, access.ownerId, 'x-amz-expected-bucket-owner');
    if (refusal !== undefined) throw refusal;
    await requireBucket(c.core, bucket);
    // Authenticated from here: a page the bucket's CORS rules allow may read the answer.
    await applyCors(c.core, c.r);
    // Decided before the file is read, as PutObject decides its headers (BucketOwnerEnforced, BlockPublicAcls).
    const acl = fields.get(ACL_FIELD);
    const aclHeaders = acl === undefined ? {} : { 'x-amz-acl': acl };
    // Authorization found no bucket when it was made since: its owner is read again.
    const bucketOwnerId = (access ?? (await readBucketAccess(c.core, bucket))).ownerId;
    const grants = await requestedObjectAcl(c.core, { bucket, bucketOwnerId, writerId: principal.kind === 'user' ? principal.user.id : undefined, headers: aclHeaders });
    const range = sizeRange(policy);
    const sized = new SizedBody(file.body, { minBytes: range.min, maxBytes: Math.min(range.max, MAX_PUT_BYTES) }, digests);
    // The bucket's default encryption applies to form uploads too (sse.ts).
    const stored = storedBody(await defaultEncryption(c.core, bucket), sized, 0);
    const written = await writeData(c.core, { bucket, key, part: 0, recordKey: objectShardKey(bucket, key) }, stored.body, true);
    if (!(await reader.endsAfterFile())) {
      discardData(c.core, { bucket, key }, written);
      throw invalidArgument('The file must be the last field of the form: fields after it are not accepted.', { ArgumentName: 'file' });
    }
    // A form cannot ask for a lock (its lock fields are refused above), but the bucket's default retention applies (object_lock.ts);
    // lockedRecord keeps the encryption section seal adds, withRequestedAcl both.
    const locked = lockedRecord(stored.seal(recordOf(written, sized.md5, { ...meta, tags }, c.core.now())), await defaultLockOf(c.core, bucket));
    const record = withChecksum(withRequestedAcl(locked, grants), fullObjectChecksum(digests.checksum));
    await commitObject(c.core, bucket, key, record, { written: [written] });
    const echoed = { ...encryptionHeaders(encryptionOf(record)), ...checksumEcho(digests.checksum) };
    answer(c, { bucket, key, etag: quotedEtag(record.etag), redirect, status: fields.get('success_action_status'), encryption: echoed });
  },
};

function fieldMap(list: readonly FormField[]): Map<string, string> {
  const fields = new Map<string, string>();
  for (const f of list) {
    const name = f.name.toLowerCase();
    if (fields.has(name)) throw invalidArgument(`The form field ${name} is given more than once.`, { ArgumentName: name });
    fields.set(name, f.value);
  }
  return fields;
}

/** An anonymous form has no policy: no conditions, no expiry. */
const ANONYMOUS_FORM_POLICY: Policy = { expirationMs: Number.POSITIVE_INFINITY, conditions: [] };

/** Step 3: the policy the form is signed with, and its signer. Throws AccessDenied, InvalidArgument, SignatureDoesNotMatch, InvalidPolicyDocument. */
function authenticate(c: UnsignedContext, fields: FormFields, bucket: string): { policy: Policy; principal: Principal } {
  const base64 = fields.get('policy');
  const v2 = fields.has('awsaccesskeyid') || fields.has('signature');
  if (v2 && !c.sigv2) throw notImplemented('POST uploads signed with signature version 2 (this node serves them with --s3-sigv2 on)');
  if (v2 && SIGV4_FIELDS.some((f) => fields.has(f))) {
    throw invalidArgument('A POST form is signed with Signature Version 2 (AWSAccessKeyId, signature) or with AWS4-HMAC-SHA256 (x-amz-*), not both.', { ArgumentName: 'signature' });
  }
  // No policy and no signature: an anonymous form, which S3 serves where the
  // bucket's ACL or policy grants everyone s3:PutObject (authorize.ts decides).
  if (base64 === undefined && !v2 && !fields.has('x-amz-signature')) return { policy: ANONYMOUS_FORM_POLICY, principal: ANONYMOUS };
  if (base64 === undefined) throw invalidArgument("Bucket POST must contain a field named 'policy'.", { ArgumentName: 'policy' });
  const secretOf = (id: string): string | undefined => c.users.byAccessKey(id)?.secretAccessKey;
  const { accessKeyId } = v2 ? verifyFormSignatureV2(fields, base64, secretOf) : verifyFormSignature(fields, base64, secretOf);
  const user = c.users.byAccessKey(accessKeyId);
  if (user === undefined) throw new Error('a verified access key has no user');
  // The same policy rules for both signatures (post_policy.ts).
  const policy = decodePolicy(base64);
  POST_POLICY.check(policy, fields, bucket, c.core.now());
  return { policy, principal: { kind: 'user', user, signedWith: { version: v2 ? SIGV2_VERSION : SIGV4_ALGORITHM, authType: 'POST' } } };
}

function keyOfForm(fields: FormFields, file: FilePart, bucket: string): Buffer {
  const template = fields.get('key');
  if (template === undefined) throw invalidArgument("Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.", { ArgumentName: 'key' });
  const key = Buffer.from(template.replaceAll('${filename}', file.filename), 'utf8');
  validateObjectKey(bucket, key);
  return key;
}

/** Step 4: a field the node would otherwise ignore answers 501 (fail closed). */
function refuseUnservedFields(fields: FormFields, bucket: string): void {
  for (const [name, value] of fields) {
    if (CONTROL_FIELDS.has(name) || STORED_FIELDS.has(name) || name === ACL_FIELD || name === TAGGING_FIELD || name.startsWith('x-amz-meta-') || name.startsWith('x-ignore-')) continue;
    if (name === MD5_FIELD || name === CHECKSUM_ALGORITHM_FIELD || isChecksumField(name)) continue;
    if (ACCEPTED_VALUES.get(name)?.includes(value) === true) continue;
    throw notImplemented(`the form field ${name}${ACCEPTED_VALUES.has(name) ? `=${value}` : ''} of a POST upload`);
  }
  const named = fields.get('bucket');
  if (named !== undefined && named !== bucket) throw invalidArgument('The bucket field names another bucket than the URL.', { ArgumentName: 'bucket', ArgumentValue: named });
}

/** The fields the object keeps, as the request headers PutObject would take them from. */
function storedHeaders(fields: FormFields, file: FilePart): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  for (const [name, value] of fields) if (STORED_FIELDS.has(name) || name.startsWith('x-amz-meta-')) headers[name] = value;
  // As S3: the Content-Type field, else the file part's own.
  if (headers['content-type'] === undefined && file.contentType !== undefined) headers['content-type'] = file.contentType;
  return headers;
}

/** The tagging field's tag set (none without the field). Throws MalformedXML, InvalidTag before anything is stored. */
function tagsOfForm(fields: FormFields): TagSet {
  const xml = fields.get(TAGGING_FIELD);
  return xml === undefined ? [] : tagsOfBody(Buffer.from(xml, 'utf8'), 'object');
}

/** What the file is checked against when it has been read (SizedBody). */
interface FormDigests {
  readonly md5: Buffer | undefined;
  /** The x-amz-checksum-<algorithm> field: checked, then kept with the object and echoed. */
  readonly checksum: { readonly algorithm: ChecksumAlgorithm; readonly value: string } | undefined;
}

function isChecksumField(name: string): boolean {
  return name.startsWith(CHECKSUM_FIELD_PREFIX) && isChecksumAlgorithm(name.slice(CHECKSUM_FIELD_PREFIX.length));
}

/** The Content-MD5 and x-amz-checksum-* fields. Throws InvalidDigest, InvalidRequest before anything is stored. */
function digestsOfForm(fields: FormFields): FormDigests {
  const md5Text = fields.get(MD5_FIELD);
  const md5 = md5Text === undefined ? undefined : Buffer.from(md5Text, 'base64');
  if (md5 !== undefined && (md5.length !== 16 || md5.toString('base64') !== md5Text)) throw new S3Error(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.');
  const given = [...fields.keys()].filter(isChecksumField);
  if (given.length > 1) throw invalidRequest('Expecting a single x-amz-checksum- field.');
  const name = given[0];
  const named = fields.get(CHECKSUM_ALGORITHM_FIELD)?.trim().toLowerCase();
  if (named !== undefined && (name === undefined || named !== name.slice(CHECKSUM_FIELD_PREFIX.length))) {
    throw invalidRequest(`x-amz-checksum-algorithm ${named} needs the x-amz-checksum-${named} field with the file's checksum.`);
  }
  if (name === undefined) return { md5, checksum: undefined };
  const algorithm = name.slice(CHECKSUM_FIELD_PREFIX.length);
  assert(isChecksumAlgorithm(algorithm), 'a checksum field names an algorithm');
  // A value that is no digest of the algorithm cannot match: BadDigest once the file is read, as PutObject answers it.
  return { md5, checksum: { algorithm, value: fields.get(name) ?? '' } };
}

function redirectOf(fields: FormFields): URL | undefined {
  const text = fields.get('success_action_redirect');
  if (text === undefined) return undefined;
  const url = URL.canParse(text) ? new URL(text) : undefined;
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw invalidArgument('success_action_redirect must be an absolute http or https URL.', { ArgumentName: 'success_action_redirect', ArgumentValue: text });
  }
  return url;
}

interface Done {
  readonly bucket: string;
  readonly key: Buffer;
  readonly etag: string;
  readonly redirect: URL | undefined;
  readonly status: string | undefined;
  /** x-amz-server-side-encryption of the stored object (the bucket's default), as S3 echoes it. */
  readonly encryption: Readonly<Record<string, string>>;
}

/** Step 6. success_action_status other than 200 and 201 answers 204, as S3 documents. */
function answer(c: UnsignedContext, done: Done): void {
  const keyText = done.key.toString('utf8');
  const location = `http://${c.r.ex.req.headers.host ?? 'localhost'}/${done.bucket}/${encodeURIComponent(keyText).replace(/%2F/g, '/')}`;
  const headers = { ETag: done.etag, Location: location, ...done.encryption };
  if (done.redirect !== undefined) {
    const to = new URL(done.redirect);
    to.searchParams.set('bucket', done.bucket);
    to.searchParams.set('key', keyText);
    to.searchParams.set('etag', done.etag);
    sendEmpty(c.r.ex, c.r.requestId, 303, { ...headers, Location: to.toString() });
  } else if (done.status === '201') {
    // S3's PostResponse carries no namespace (clients find <Key> unqualified).
    sendXml(c.r.ex, c.r.requestId, 201, 'PostResponse', { Location: location, Bucket: done.bucket, Key: keyText, ETag: done.etag }, headers, false);
  } else {
    sendEmpty(c.r.ex, c.r.requestId, done.status === '200' ? 200 : 204, headers);
  }
}

/**
 * The file's bytes, refused past `maxBytes` as they pass and below
 * `minBytes` at the end, and checked against the form's digests at the end
 * (400 BadDigest: the data is discarded, nothing committed); MD5 when read.
 */
class SizedBody implements AsyncIterable<Buffer> {
  private readonly hash = createHash('md5');
  private readonly extra: Checksum | undefined;
  private digest: Buffer | undefined;
  private readonly minBytes: number;
  private readonly maxBytes: number;

  constructor(
    private readonly source: AsyncIterable<Buffer>,
    size: { readonly minBytes: number; readonly maxBytes: number },
    private readonly expected: FormDigests,
  ) {
    this.minBytes = size.minBytes;
    this.maxBytes = size.maxBytes;
    this.extra = expected.checksum === undefined ? undefined : newChecksum(expected.checksum.algorithm);
  }

  get md5(): Buffer {
    if (this.digest === undefined) throw new Error('file not read to its end');
    return this.digest;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    let sizeBytes = 0;
    for await (const piece of this.source) {
      sizeBytes += piece.length;
      if (sizeBytes > this.maxBytes) throw new S3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', { MaxSizeAllowed: String(this.maxBytes) });
      this.hash.update(piece);
      this.extra?.update(piece);
      yield piece;
    }
    if (sizeBytes < this.minBytes) throw new S3Error(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', { MinSizeAllowed: String(this.minBytes) });
    const md5 = this.hash.digest();
    if (this.expected.md5 !== undefined && !md5.equals(this.expected.md5)) throw new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
    const checksum = this.expected.checksum;
    if (checksum !== undefined && this.extra?.digest() !== checksum.value) {
      throw new S3Error(400, 'BadDigest', `The ${checksum.algorithm.toUpperCase()} you specified did not match the calculated checksum.`);
    }
    this.digest = md5;
  }
}
