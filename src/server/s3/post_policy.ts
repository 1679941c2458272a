// The signed policy of a POST form upload (docs/S3.md, "POST object";
// docs/SECURITY.md, "Browsers"), as AWS S3 documents it:
//
//   policy            base64 of {"expiration": ISO 8601, "conditions": [...]}
//   x-amz-signature   hex HMAC-SHA256 of the base64 text, with the SigV4
//                     signing key of x-amz-credential's key pair, date and region
//   conditions        {"field": "value"} or ["eq", "$field", "value"]: exact;
//                     ["starts-with", "$field", "prefix"];
//                     ["content-length-range", min, max]: the file's size
//
// Signature Version 2 forms carry AWSAccessKeyId and signature = base64
// HMAC-SHA1 of the base64 text with the secret (verifyFormSignatureV2);
// rules 2 to 4 are the same code for both.
//
// Rules, each refused as S3 refuses it:
//   1. the signature must verify (403 SignatureDoesNotMatch; an unknown key
//      403 InvalidAccessKeyId); AWS4-HMAC-SHA256, or V2 where served;
//   2. the policy must not have expired (403 AccessDenied "Invalid according
//      to Policy: Policy expired.");
//   3. every condition must hold (403 AccessDenied "Invalid according to
//      Policy: Policy Condition failed: ..."); `bucket` is the bucket of the
//      URL, every other field the form's value as sent (key before
//      ${filename} is replaced);
//   4. every form field must be named by a condition, except policy,
//      x-amz-signature, file and x-ignore-* (403 AccessDenied "Invalid
//      according to Policy: Extra input fields: ...").
// The PostPolicy object is the seam a broken variant replaces
// (testing/mutants/http_check_mutants.ts).
import { S3Error, accessDenied, invalidAccessKeyId, invalidArgument, signatureDoesNotMatch } from './s3_errors.js';
import { hmacSha1Base64, sameBase64 } from './sigv2.js';
import { deriveSigningKey, hmacHex, sameHex } from './sigv4.js';

const ALGORITHM = 'AWS4-HMAC-SHA256';
/** The largest policy document accepted (S3 counts it among the 20 KiB of fields). */
const MAX_POST_POLICY_BYTES = 20 * 1024;
const MAX_CONDITIONS = 256;
/**
 * Fields no condition needs to name: the policy, the signature (SigV4's
 * x-amz-signature; V2's signature and AWSAccessKeyId, as AWS documents each)
 * and the file. A form carries one kind (post_object.ts refuses both).
 */
const EXEMPT_FIELDS = new Set(['policy', 'x-amz-signature', 'signature', 'awsaccesskeyid', 'file']);

export type Condition =
  | { readonly kind: 'eq'; readonly field: string; readonly value: string; readonly text: string }
  | { readonly kind: 'starts-with'; readonly field: string; readonly prefix: string; readonly text: string }
  | { readonly kind: 'content-length-range'; readonly min: number; readonly max: number; readonly text: string };

export interface Policy {
  readonly expirationMs: number;
  readonly conditions: readonly Condition[];
}

const invalidPolicy = (why: string): S3Error => new S3Error(400, 'InvalidPolicyDocument', `Invalid Policy: ${why}`);
const policyDenied = (why: string): S3Error => accessDenied(`Invalid according to Policy: ${why}`);

/** The policy document of the form's base64 `policy` field. Throws InvalidPolicyDocument. */
export function decodePolicy(base64: string): Policy {
  if (base64.length > MAX_POST_POLICY_BYTES * 2 || !/^[A-Za-z0-9+/=\s]*$/.test(base64)) throw invalidPolicy('Invalid Base64 Encoding.');
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(base64, 'base64').toString('utf8'));
  } catch (err) {
    throw invalidPolicy(`Invalid JSON. ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalidPolicy('Invalid JSON: not an object.');
  const expiration = 'expiration' in doc ? doc.expiration : undefined;
  if (typeof expiration !== 'string') throw invalidPolicy('Policy missing expiration.');
  const expirationMs = Date.parse(expiration);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(expiration) || Number.isNaN(expirationMs)) throw invalidPolicy(`Invalid 'expiration' value: '${expiration}'`);
  const conditions = 'conditions' in doc ? doc.conditions : undefined;
  if (!Array.isArray(conditions)) throw invalidPolicy('Policy missing conditions.');
  if (conditions.length > MAX_CONDITIONS) throw invalidPolicy(`more than ${MAX_CONDITIONS} conditions`);
  return { expirationMs, conditions: conditions.map((c: unknown) => conditionOf(c)) };
}

function conditionOf(c: unknown): Condition {
  const text = JSON.stringify(c);
  if (typeof c === 'object' && c !== null && !Array.isArray(c)) {
    const entries = Object.entries(c);
    const [entry] = entries;
    if (entries.length !== 1 || entry === undefined || typeof entry[1] !== 'string') throw invalidPolicy(`Invalid simple condition: ${text}`);
    return { kind: 'eq', field: entry[0].toLowerCase(), value: entry[1], text };
  }
  if (!Array.isArray(c) || c.length !== 3) throw invalidPolicy(`Invalid condition: ${text}`);
  const [op, a, b] = c as [unknown, unknown, unknown];
  const name = typeof op === 'string' ? op.toLowerCase() : '';
  if (name === 'content-length-range') {
    if (typeof a !== 'number' || typeof b !== 'number' || !Number.isSafeInteger(a) || !Number.isSafeInteger(b) || a < 0 || b < a) {
      throw invalidPolicy(`Invalid content-length-range: ${text}`);
    }
    return { kind: 'content-length-range', min: a, max: b, text };
  }
  if ((name !== 'eq' && name !== 'starts-with') || typeof a !== 'string' || !a.startsWith('$') || typeof b !== 'string') {
    throw invalidPolicy(`Invalid condition: ${text}`);
  }
  const field = a.slice(1).toLowerCase();
  return name === 'eq' ? { kind: 'eq', field, value: b, text } : { kind: 'starts-with', field, prefix: b, text };
}

/** The form's fields by lower-case name (a field given twice is refused: which one counts would be a guess). */
export type FormFields = ReadonlyMap<string, string>;

export interface FormSignature {
  readonly accessKeyId: string;
  readonly scopeDate: string;
  readonly region: string;
}

/** x-amz-algorithm, x-amz-credential, x-amz-date and x-amz-signature of the form. Throws InvalidArgument, InvalidAccessKeyId, SignatureDoesNotMatch. */
export function verifyFormSignature(fields: FormFields, policyBase64: string, secretOf: (accessKeyId: string) => string | undefined): FormSignature {
  const algorithm = fields.get('x-amz-algorithm');
  if (algorithm !== ALGORITHM) throw invalidArgument(`x-amz-algorithm must be ${ALGORITHM}`, { ArgumentName: 'x-amz-algorithm', ArgumentValue: algorithm ?? '' });
  const credential = fields.get('x-amz-credential') ?? '';
  const m = /^([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request$/.exec(credential);
  if (m === null) throw invalidArgument('x-amz-credential must be <key id>/<yyyymmdd>/<region>/s3/aws4_request', { ArgumentName: 'x-amz-credential', ArgumentValue: credential });
  const [, accessKeyId = '', scopeDate = '', region = ''] = m;
  const date = fields.get('x-amz-date') ?? '';
  if (!/^\d{8}T\d{6}Z$/.test(date) || !date.startsWith(scopeDate)) {
    throw invalidArgument('x-amz-date must be yyyymmddThhmmssZ of the credential date', { ArgumentName: 'x-amz-date', ArgumentValue: date });
  }
  const secret = secretOf(accessKeyId);
  if (secret === undefined) throw invalidAccessKeyId(accessKeyId);
  const expected = hmacHex(deriveSigningKey(secret, scopeDate, region), policyBase64);
  if (!sameHex(expected, (fields.get('x-amz-signature') ?? '').toLowerCase())) {
    throw signatureDoesNotMatch({ AWSAccessKeyId: accessKeyId });
  }
  return { accessKeyId, scopeDate, region };
}

/**
 * A form signed with Signature Version 2: AWSAccessKeyId, and signature =
 * Base64(HMAC-SHA1(secret, the base64 policy text)). Throws InvalidArgument,
 * InvalidAccessKeyId, SignatureDoesNotMatch.
 */
export function verifyFormSignatureV2(fields: FormFields, policyBase64: string, secretOf: (accessKeyId: string) => string | undefined): { accessKeyId: string } {
  const accessKeyId = fields.get('awsaccesskeyid') ?? '';
  if (accessKeyId === '') throw invalidArgument("Bucket POST must contain a field named 'AWSAccessKeyId'.  If it is specified, please check the order of the fields.", { ArgumentName: 'AWSAccessKeyId' });
  const signature = fields.get('signature');
  if (signature === undefined) throw invalidArgument("Bucket POST must contain a field named 'signature'.  If it is specified, please check the order of the fields.", { ArgumentName: 'signature' });
  const secret = secretOf(accessKeyId);
  if (secret === undefined) throw invalidAccessKeyId(accessKeyId);
  if (!sameBase64(hmacSha1Base64(secret, policyBase64), signature)) {
    throw signatureDoesNotMatch({ AWSAccessKeyId: accessKeyId });
  }
  return { accessKeyId };
}

export class PostPolicy {
  /**
   * Rules 2 to 4 for the fields (the file's size is checked as it streams:
   * sizeRange). `bucket` is the URL's. Throws AccessDenied.
   */
  check(policy: Policy, fields: FormFields, bucket: string, nowMs: number): void {
    if (nowMs > policy.expirationMs) throw policyDenied('Policy expired.');
    const valueOf = (field: string): string | undefined => (field === 'bucket' ? bucket : fields.get(field));
    for (const c of policy.conditions) {
      if (c.kind === 'content-length-range') continue;
      const value = valueOf(c.field);
      const holds = value !== undefined && (c.kind === 'eq' ? value === c.value : value.startsWith(c.prefix));
      if (!holds) throw policyDenied(`Policy Condition failed: ${c.text}`);
    }
    const named = new Set(policy.conditions.flatMap((c) => (c.kind === 'content-length-range' ? [] : [c.field])));
    const extra = [...fields.keys()].filter((f) => !EXEMPT_FIELDS.has(f) && !f.startsWith('x-ignore-') && !named.has(f));
    if (extra.length > 0) throw policyDenied(`Extra input fields: ${extra.join(', ')}`);
  }
}

export const POST_POLICY = new PostPolicy();

/** The content-length-range the file must be within ([0, Infinity) if the policy names none; the tightest if several). */
export function sizeRange(policy: Policy): { min: number; max: number } {
  let min = 0;
  let max = Infinity;
  for (const c of policy.conditions) {
    if (c.kind !== 'content-length-range') continue;
    min = Math.max(min, c.min);
    max = Math.min(max, c.max);
  }
  return { min, max };
}
