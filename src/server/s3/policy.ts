// Bucket policies (docs/S3.md, "Bucket policies"): the subset of the IAM
// policy language S3 bucket policies use, parsed strictly and evaluated as
// AWS does: an explicit Deny wins, then an Allow, else no decision (the
// caller falls back to ACLs and ownership; default deny).
//
// Fail closed: an element, principal type, condition operator or condition
// key this server does not evaluate makes PutBucketPolicy answer 400
// MalformedPolicy (unknown to AWS too) or 501 NotImplemented (known to AWS,
// not evaluated here). A stored policy is only ever one that parsed, so a
// statement is never skipped because it was not understood.
//
// Supported: Version, Id, Statement (one or a list) with Sid, Effect,
// Principal ("*", {"AWS": "*"}, {"CanonicalUser": id or ids}) or, in a Deny
// only (AWS: "NotPrincipal must be used with Effect Deny"), NotPrincipal of
// the same forms (the statement is about everyone else, anonymous requests
// included), Action / NotAction, Resource / NotResource (with * and ? wildcards), Condition with
// the operators below (each also with the IfExists suffix: a request without
// the key satisfies it) and Null, on the keys below.
import { BlockList, isIP } from 'node:net';
import { S3Error, notImplemented } from './s3_errors.js';

export type Effect = 'Allow' | 'Deny';

/** Who a statement is about: anyone (including anonymous requests), or these canonical ids. */
export type PrincipalSpec = { readonly kind: 'anyone' } | { readonly kind: 'users'; readonly ids: readonly string[] };

type Operator =
  | 'StringEquals'
  | 'StringNotEquals'
  | 'StringEqualsIgnoreCase'
  | 'StringNotEqualsIgnoreCase'
  | 'StringLike'
  | 'StringNotLike'
  | 'IpAddress'
  | 'NotIpAddress'
  | 'Bool';
const OPERATORS: readonly Operator[] = [
  'StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike', 'IpAddress', 'NotIpAddress', 'Bool',
];

/**
 * The request headers S3 offers as condition keys `s3:<header>` (the
 * header's value as sent, but x-amz-copy-source decoded and without a
 * leading slash; absent when the request has none).
 */
export const CONDITION_HEADERS: readonly string[] = [
  'x-amz-acl', 'x-amz-grant-read', 'x-amz-grant-write', 'x-amz-grant-read-acp', 'x-amz-grant-write-acp', 'x-amz-grant-full-control',
  'x-amz-copy-source', 'x-amz-metadata-directive', 'x-amz-server-side-encryption',
];

/** Condition keys with a value in every request (or a defined absence). */
export const CONDITION_KEYS: readonly string[] = [
  'aws:securetransport', 'aws:sourceip', 'aws:referer', 'aws:useragent', 'aws:principaltype', 's3:prefix', 's3:delimiter', 's3:max-keys', 'aws:userid',
  // How a signed request was authenticated (absent for anonymous ones): authorize.ts SignedWith.
  's3:signatureversion', 's3:authtype',
  ...CONDITION_HEADERS.map((h) => `s3:${h}`),
];

/**
 * `s3:ExistingObjectTag/<tag key>`: the value of that tag of the object the
 * request acts on (absent if it has no such tag, or there is no object).
 * The prefix is case-insensitive as every key; the tag key is not (tag keys
 * are case-sensitive).
 */
export const EXISTING_OBJECT_TAG_PREFIX = 's3:existingobjecttag/';

/** The key as compared: lower case, but a tag key keeps its case. */
function conditionKeyOf(rawKey: string): string | undefined {
  const lower = rawKey.toLowerCase();
  if (CONDITION_KEYS.includes(lower)) return lower;
  if (lower.startsWith(EXISTING_OBJECT_TAG_PREFIX) && rawKey.length > EXISTING_OBJECT_TAG_PREFIX.length) {
    return EXISTING_OBJECT_TAG_PREFIX + rawKey.slice(EXISTING_OBJECT_TAG_PREFIX.length);
  }
  return undefined;
}

/**
 * The actions for which S3 gives s3:ExistingObjectTag a value: those that
 * read or change an existing object without replacing it. A write
 * (PutObject, a copy) or a delete is decided without it (the key is absent).
 */
const EXISTING_TAG_ACTIONS = new Set([
  's3:getobject', 's3:getobjectversion', 's3:getobjectacl', 's3:getobjectversionacl', 's3:getobjecttagging', 's3:getobjectversiontagging',
  's3:putobjectacl', 's3:putobjectversionacl', 's3:putobjecttagging', 's3:putobjectversiontagging', 's3:deleteobjecttagging', 's3:deleteobjectversiontagging',
  's3:getobjectattributes', 's3:getobjectversionattributes', 's3:getobjectretention', 's3:getobjectlegalhold', 's3:putobjectretention', 's3:putobjectlegalhold',
]);

/** Whether deciding `action` under `policy` needs the object's tags (so the decision reads the object record only then). */
export function usesExistingObjectTags(policy: Policy, action: string): boolean {
  return EXISTING_TAG_ACTIONS.has(action.toLowerCase()) && policy.statements.some((s) => s.conditions.some((c) => c.key.startsWith(EXISTING_OBJECT_TAG_PREFIX)));
}

/**
 * One condition: `operator` (an operator of OPERATORS, or `Null`) on
 * `key`. `ifExists`: the operator was written with the IfExists suffix, so
 * a request without the key satisfies it.
 */
interface Condition {
  readonly operator: Operator | 'Null';
  readonly ifExists: boolean;
  readonly key: string;
  readonly values: readonly string[];
}

export interface Statement {
  readonly effect: Effect;
  readonly principal: PrincipalSpec;
  /** Written as NotPrincipal (Deny only): the statement is about every requester `principal` does not match. */
  readonly notPrincipal: boolean;
  /** Lower-case action patterns; `notAction` inverts the match. */
  readonly actions: readonly string[];
  readonly notAction: boolean;
  readonly resources: readonly string[];
  readonly notResource: boolean;
  readonly conditions: readonly Condition[];
}

export interface Policy {
  readonly statements: readonly Statement[];
}

/** What a request brings to policy evaluation. */
export interface PolicyRequest {
  /** Canonical id, or undefined for an anonymous request. */
  readonly principalId: string | undefined;
  /** e.g. s3:GetObject. */
  readonly action: string;
  /** arn:aws:s3:::bucket or arn:aws:s3:::bucket/key. */
  readonly resource: string;
  /** Values of the condition keys (lower-case names); a missing key is absent from the request. */
  readonly context: ReadonlyMap<string, string>;
}

export type Decision = 'deny' | 'allow' | 'none';

export const malformedPolicy = (why: string): S3Error => new S3Error(400, 'MalformedPolicy', why);

const STATEMENT_FIELDS = new Set(['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);

/** Parse a policy document for `bucket`. Throws MalformedPolicy (400) or NotImplemented (501). */
export function parsePolicy(text: string, bucket: string): Policy {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw malformedPolicy(`Policies must be valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isRecord(doc)) throw malformedPolicy('Policies must be a JSON object');
  for (const field of Object.keys(doc)) {
    if (field !== 'Version' && field !== 'Id' && field !== 'Statement') throw malformedPolicy(`Unknown field ${field}`);
  }
  if (doc.Version !== undefined && doc.Version !== '2012-10-17' && doc.Version !== '2008-10-17') throw malformedPolicy('Invalid policy version');
  if (doc.Id !== undefined && typeof doc.Id !== 'string') throw malformedPolicy('Id must be a string');
  const raw = Array.isArray(doc.Statement) ? (doc.Statement as unknown[]) : doc.Statement === undefined ? [] : [doc.Statement];
  if (raw.length === 0) throw malformedPolicy('Missing required field Statement');
  return { statements: raw.map((s) => parseStatement(s, bucket)) };
}

function parseStatement(s: unknown, bucket: string): Statement {
  if (!isRecord(s)) throw malformedPolicy('A statement must be a JSON object');
  for (const field of Object.keys(s)) if (!STATEMENT_FIELDS.has(field)) throw malformedPolicy(`Unknown field ${field}`);
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw malformedPolicy('Invalid effect: Effect must be Allow or Deny');
  if (s.NotPrincipal !== undefined && s.Principal !== undefined) throw malformedPolicy('A statement needs exactly one of Principal and NotPrincipal');
  if (s.NotPrincipal !== undefined && s.Effect !== 'Deny') throw malformedPolicy('NotPrincipal must be used with Effect Deny');
  if (s.Principal === undefined && s.NotPrincipal === undefined) throw malformedPolicy('Missing required field Principal');
  if ((s.Action === undefined) === (s.NotAction === undefined)) throw malformedPolicy('A statement needs exactly one of Action and NotAction');
  if ((s.Resource === undefined) === (s.NotResource === undefined)) throw malformedPolicy('A statement needs exactly one of Resource and NotResource');
  const actions = strings(s.Action ?? s.NotAction, 'Action').map((a) => a.toLowerCase());
  for (const a of actions) if (a !== '*' && !a.startsWith('s3:')) throw malformedPolicy(`Policy has invalid action: ${a}`);
  const resources = strings(s.Resource ?? s.NotResource, 'Resource');
  for (const r of resources) if (!coversBucket(r, bucket)) throw malformedPolicy(`Policy has invalid resource: ${r}`);
  return {
    effect: s.Effect,
    principal: parsePrincipal(s.Principal ?? s.NotPrincipal),
    notPrincipal: s.NotPrincipal !== undefined,
    actions,
    notAction: s.NotAction !== undefined,
    resources,
    notResource: s.NotResource !== undefined,
    conditions: parseConditions(s.Condition),
  };
}

/**
 * Whether resource pattern `r` names the bucket or something in it (with
 * wildcards, as `arn:aws:s3:::*` and its objects pattern, which AWS accepts in
 * any bucket's policy): it matches the bucket's ARN, or some ARN of an
 * object in the bucket.
 */
function coversBucket(r: string, bucket: string): boolean {
  const arn = `arn:aws:s3:::${bucket}`;
  return r === '*' || wildcardMatch(r, arn) || wildcardPrefixMatch(r, `${arn}/`);
}

/** Whether `pattern` (`*`, `?` wildcards) matches some text that starts with `prefix`. */
function wildcardPrefixMatch(pattern: string, prefix: string): boolean {
  // The pattern positions reachable after each character of the prefix (a `*` may also match nothing).
  const close = (states: Set<number>): Set<number> => {
    const work = [...states];
    for (let p = work.pop(); p !== undefined; p = work.pop()) {
      if (pattern[p] === '*' && !states.has(p + 1)) {
        states.add(p + 1);
        work.push(p + 1);
      }
    }
    return states;
  };
  let states = close(new Set([0]));
  for (const ch of prefix) {
    const next = new Set<number>();
    for (const p of states) {
      if (pattern[p] === '*') next.add(p);
      else if (p < pattern.length && (pattern[p] === '?' || pattern[p] === ch)) next.add(p + 1);
    }
    states = close(next);
    if (states.size === 0) return false;
  }
  return true;
}

function parsePrincipal(p: unknown): PrincipalSpec {
  if (p === '*') return { kind: 'anyone' };
  if (!isRecord(p)) throw malformedPolicy('Invalid principal in policy');
  const ids: string[] = [];
  for (const [kind, value] of Object.entries(p)) {
    const list = strings(value, 'Principal');
    if (kind === 'AWS' && list.length === 1 && list[0] === '*') return { kind: 'anyone' };
    if (kind === 'CanonicalUser') {
      for (const id of list) if (!/^[0-9a-f]{64}$/.test(id)) throw malformedPolicy(`Invalid principal in policy: ${id}`);
      ids.push(...list);
    } else if (kind === 'AWS') {
      throw malformedPolicy('Invalid principal in policy: this server has no AWS accounts; name users by {"CanonicalUser": id}');
    } else {
      throw notImplemented(`${kind} principals in a bucket policy`);
    }
  }
  if (ids.length === 0) throw malformedPolicy('Invalid principal in policy');
  return { kind: 'users', ids };
}

function parseConditions(c: unknown): Condition[] {
  if (c === undefined) return [];
  if (!isRecord(c)) throw malformedPolicy('Condition must be a JSON object');
  const out: Condition[] = [];
  for (const [written, block] of Object.entries(c)) {
    const ifExists = written.endsWith('IfExists') && written !== 'IfExists';
    const operator = ifExists ? written.slice(0, -'IfExists'.length) : written;
    if (!(OPERATORS as readonly string[]).includes(operator) && !(operator === 'Null' && !ifExists)) throw notImplemented(`the condition operator ${written}`);
    if (!isRecord(block)) throw malformedPolicy(`Condition ${written} must map keys to values`);
    for (const [rawKey, value] of Object.entries(block)) {
      const key = conditionKeyOf(rawKey);
      if (key === undefined) throw notImplemented(`the condition key ${rawKey}`);
      const values = strings(value, 'Condition', true);
      if (operator === 'IpAddress' || operator === 'NotIpAddress') for (const v of values) parseCidr(v);
      if ((operator === 'Bool' || operator === 'Null') && values.some((v) => v !== 'true' && v !== 'false')) throw malformedPolicy(`${operator} condition values must be true or false`);
      out.push({ operator: operator as Operator | 'Null', ifExists, key, values });
    }
  }
  return out;
}

/** A string or a non-empty list of strings (booleans and numbers too, for condition values). */
function strings(v: unknown, what: string, scalars = false): string[] {
  const list = Array.isArray(v) ? (v as unknown[]) : [v];
  if (list.length === 0) throw malformedPolicy(`${what} must not be empty`);
  return list.map((x) => {
    if (typeof x === 'string') return x;
    if (scalars && (typeof x === 'boolean' || typeof x === 'number')) return String(x);
    throw malformedPolicy(`${what} must hold strings`);
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The decision of `policy` for `req`: explicit deny wins over allow. */
export function evaluatePolicy(policy: Policy, req: PolicyRequest): Decision {
  let allowed = false;
  for (const s of policy.statements) {
    if (!statementApplies(s, req)) continue;
    if (s.effect === 'Deny') return 'deny';
    allowed = true;
  }
  return allowed ? 'allow' : 'none';
}

export function statementApplies(s: Statement, req: PolicyRequest): boolean {
  if (principalMatches(s.principal, req.principalId) === s.notPrincipal) return false;
  const action = req.action.toLowerCase();
  if (s.actions.some((a) => wildcardMatch(a, action)) === s.notAction) return false;
  if (s.resources.some((r) => wildcardMatch(r, req.resource)) === s.notResource) return false;
  return s.conditions.every((c) => conditionHolds(c, req.context.get(c.key)));
}

/** Whether `spec` names the requester `principalId` (undefined: anonymous, named only by "anyone"). */
function principalMatches(spec: PrincipalSpec, principalId: string | undefined): boolean {
  return spec.kind === 'anyone' || (principalId !== undefined && spec.ids.includes(principalId));
}

/**
 * A policy is public if some Allow names anyone and is not limited to fixed
 * values, as AWS defines it (docs/S3.md, "Public access block"): a
 * statement is limited when one of its conditions is `IpAddress` on
 * aws:SourceIp with CIDR blocks (none of them /0), or `StringEquals` on
 * aws:userid with values without wildcards. (The other keys of AWS's rule,
 * aws:SourceVpc and the like, name nothing on this node.)
 */
export function isPublicPolicy(policy: Policy): boolean {
  return policy.statements.some((s) => s.effect === 'Allow' && !s.notPrincipal && s.principal.kind === 'anyone' && !s.conditions.some(limitsToFixedValues));
}

function limitsToFixedValues(c: Condition): boolean {
  if (c.ifExists) return false;
  if (c.operator === 'IpAddress' && c.key === 'aws:sourceip') return c.values.every((v) => parseCidr(v).prefix > 0);
  if (c.operator === 'StringEquals' && c.key === 'aws:userid') return c.values.every((v) => !v.includes('*') && !v.includes('?'));
  return false;
}

function conditionHolds(c: Condition, value: string | undefined): boolean {
  // Null: "true" holds when the request lacks the key, "false" when it has it.
  const operator = c.operator;
  if (operator === 'Null') return c.values.some((v) => (v === 'true') === (value === undefined));
  const negated = operator.includes('Not');
  // A key the request lacks: a positive operator fails, a negated one holds; with ...IfExists both hold.
  if (value === undefined) return negated || c.ifExists;
  const any = c.values.some((v) => matches(operator, v, value));
  return negated ? !any : any;
}

function matches(operator: Operator, expected: string, value: string): boolean {
  switch (operator) {
    case 'StringEquals':
    case 'StringNotEquals':
      return expected === value;
    case 'StringEqualsIgnoreCase':
    case 'StringNotEqualsIgnoreCase':
      return expected.toLowerCase() === value.toLowerCase();
    case 'StringLike':
    case 'StringNotLike':
      return wildcardMatch(expected, value);
    case 'IpAddress':
    case 'NotIpAddress':
      return inCidr(expected, value);
    case 'Bool':
      return expected === value.toLowerCase();
  }
}

/** `*` matches any run of characters, `?` any one. Iterative (no backtracking blow-up). */
export function wildcardMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === text[t])) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      mark = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

function parseCidr(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const [address = '', prefixText] = text.split('/');
  const version = isIP(address);
  if (version === 0) throw malformedPolicy(`Invalid IP address in a condition: ${text}`);
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= max)) throw malformedPolicy(`Invalid CIDR in a condition: ${text}`);
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

function inCidr(cidr: string, ip: string): boolean {
  const { address, prefix, family } = parseCidr(cidr);
  const plain = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
  const version = isIP(plain);
  if (version === 0 || (version === 4) !== (family === 'ipv4')) return false;
  const list = new BlockList();
  list.addSubnet(address, prefix, family);
  return list.check(plain, family);
}
