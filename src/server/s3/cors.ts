// A bucket's CORS configuration (docs/S3.md, "CORS"; docs/SECURITY.md,
// "Browsers"): the <CORSConfiguration> document, its limits, the record it
// is stored as, and which rule answers a request.
//
// Limits, as AWS S3 documents and enforces them:
//   1. 1..100 <CORSRule>s, the document at most 64 KiB (MalformedXML past it);
//   2. every rule has at least one AllowedOrigin and one AllowedMethod
//      (MalformedXML otherwise), methods among GET PUT POST DELETE HEAD
//      (400 InvalidRequest "Found unsupported HTTP method in CORS config");
//   3. an AllowedOrigin or AllowedHeader holds at most one '*' (400
//      InvalidRequest); an ExposeHeader holds none;
//   4. ID at most 255 characters; MaxAgeSeconds a non-negative integer.
// Matching (the first rule that matches answers; no rule: no CORS):
//   - the Origin matches an AllowedOrigin ('*' stands for any run of
//     characters, comparison exact otherwise);
//   - the method (a preflight's Access-Control-Request-Method) is an
//     AllowedMethod;
//   - preflight only: every header named in Access-Control-Request-Headers
//     matches an AllowedHeader (case-insensitive, with '*').
//
// The record (magic "S3CR", little-endian, CRC32C last like every S3
// record, docs/format/s3_records.md). DO NOT CHANGE: on-disk. Add a new
// format version instead.
//   u32 magic, u8 version (1), u16 n rules, n x rule, u32 crc32c
//   rule: shortBlob id, i32 maxAgeSeconds (-1: none),
//         4 lists (origins, methods, allowed headers, expose headers),
//         each u16 n, n x shortBlob (UTF-8)
import { BufReader, BufWriter, CorruptionError, assert, crc32c } from '../../base/index.js';
import { S3Error, malformedXml } from './s3_errors.js';
import type { XmlNode } from './xml.js';
import { asNode, child, children, optionalText, parseXml, text } from './xml.js';

export const MAX_CORS_RULES = 100;
export const MAX_CORS_BODY_BYTES = 64 * 1024;
/** S3's limit on the ID of a rule of a bucket configuration: CORS here, lifecycle (lifecycle.ts) too. */
export const MAX_RULE_ID_CHARS = 255;
export const CORS_METHODS: readonly string[] = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'];

const CORS_MAGIC = 0x52433353; // "S3CR" little-endian
const CORS_FORMAT_V1 = 1;
const NO_MAX_AGE = -1;

export interface CorsRule {
  readonly id: string;
  readonly allowedOrigins: readonly string[];
  readonly allowedMethods: readonly string[];
  readonly allowedHeaders: readonly string[];
  readonly exposeHeaders: readonly string[];
  readonly maxAgeSeconds: number | undefined;
}

export type CorsConfig = readonly CorsRule[];

const invalidRequest = (message: string): S3Error => new S3Error(400, 'InvalidRequest', message);

/** The rules of a <CORSConfiguration> body, validated. Throws MalformedXML, InvalidRequest. */
export function corsOfBody(body: Buffer): CorsConfig {
  const doc = asNode(child(parseXml(body), 'CORSConfiguration'), 'CORSConfiguration');
  const unknown = Object.keys(doc).filter((name) => name !== 'CORSRule');
  if (unknown.length > 0) throw malformedXml(`unexpected <${unknown[0] ?? ''}> in <CORSConfiguration>`);
  const rules = children(doc, 'CORSRule').map((r) => ruleOf(asNode(r, 'CORSRule')));
  if (rules.length === 0) throw malformedXml('a CORSConfiguration needs at least one CORSRule');
  if (rules.length > MAX_CORS_RULES) throw malformedXml(`at most ${MAX_CORS_RULES} CORSRules`);
  return rules;
}

const RULE_ELEMENTS = new Set(['ID', 'AllowedOrigin', 'AllowedMethod', 'AllowedHeader', 'ExposeHeader', 'MaxAgeSeconds']);

function ruleOf(node: XmlNode): CorsRule {
  const unknown = Object.keys(node).find((name) => !RULE_ELEMENTS.has(name));
  if (unknown !== undefined) throw malformedXml(`unexpected <${unknown}> in <CORSRule>`);
  const list = (name: string): string[] => children(node, name).map((v) => text(v, name).trim());
  const allowedOrigins = list('AllowedOrigin');
  const allowedMethods = list('AllowedMethod');
  const allowedHeaders = list('AllowedHeader');
  const exposeHeaders = list('ExposeHeader');
  if (allowedOrigins.length === 0 || allowedMethods.length === 0) throw malformedXml('a CORSRule needs an AllowedOrigin and an AllowedMethod');
  for (const m of allowedMethods) {
    if (!CORS_METHODS.includes(m)) throw invalidRequest(`Found unsupported HTTP method in CORS config. Unsupported method is ${m}`);
  }
  for (const o of allowedOrigins) oneWildcard('AllowedOrigin', o);
  for (const h of allowedHeaders) oneWildcard('AllowedHeader', h);
  for (const h of exposeHeaders) {
    if (h.includes('*')) throw invalidRequest(`ExposeHeader "${h}" contains wildcard. We currently do not support wildcard for ExposeHeader.`);
  }
  const id = optionalText(node, 'ID') ?? '';
  if ([...id].length > MAX_RULE_ID_CHARS) throw invalidRequest(`The ID of a CORSRule is at most ${MAX_RULE_ID_CHARS} characters`);
  const maxAge = optionalText(node, 'MaxAgeSeconds');
  if (maxAge !== undefined && !/^\d{1,9}$/.test(maxAge.trim())) throw malformedXml('MaxAgeSeconds must be a non-negative integer');
  return { id, allowedOrigins, allowedMethods, allowedHeaders, exposeHeaders, maxAgeSeconds: maxAge === undefined ? undefined : Number(maxAge.trim()) };
}

function oneWildcard(element: string, value: string): void {
  if (value.split('*').length > 2) throw invalidRequest(`${element} "${value}" can not have more than one wildcard.`);
}

/** The <CORSConfiguration> body of GetBucketCors. */
export function corsDocument(config: CorsConfig): XmlNode {
  return {
    CORSRule: config.map((r) => ({
      ...(r.id === '' ? {} : { ID: r.id }),
      AllowedHeader: r.allowedHeaders,
      AllowedMethod: r.allowedMethods,
      AllowedOrigin: r.allowedOrigins,
      ExposeHeader: r.exposeHeaders,
      ...(r.maxAgeSeconds === undefined ? {} : { MaxAgeSeconds: r.maxAgeSeconds }),
    })),
  };
}

/** `value` matches `pattern`, in which one '*' stands for any run of characters. */
export function wildcardMatch(pattern: string, value: string): boolean {
  const star = pattern.indexOf('*');
  if (star < 0) return pattern === value;
  const head = pattern.slice(0, star);
  const tail = pattern.slice(star + 1);
  return value.length >= head.length + tail.length && value.startsWith(head) && value.endsWith(tail);
}

export interface CorsAsk {
  readonly origin: string;
  readonly method: string;
  /** Lower-case header names a preflight asks for (empty for an actual request). */
  readonly headers: readonly string[];
}

/**
 * Which rule answers, an object so that a broken variant can replace the
 * decision (testing/mutants/http_check_mutants.ts).
 */
export class CorsMatcher {
  /** The first rule of `config` that allows `ask`, or undefined. */
  match(config: CorsConfig, ask: CorsAsk): CorsRule | undefined {
    return config.find(
      (r) =>
        r.allowedOrigins.some((o) => wildcardMatch(o, ask.origin)) &&
        r.allowedMethods.includes(ask.method) &&
        ask.headers.every((h) => r.allowedHeaders.some((a) => wildcardMatch(a.toLowerCase(), h))),
    );
  }
}

export const CORS_MATCHER = new CorsMatcher();

/** The Access-Control-* headers of an answer that `rule` allows (preflight: with the headers asked for and Max-Age). */
export function corsHeaders(rule: CorsRule, ask: CorsAsk, preflight: boolean): Record<string, string> {
  const anyOrigin = rule.allowedOrigins.includes('*');
  const out: Record<string, string> = {
    'Access-Control-Allow-Origin': anyOrigin ? '*' : ask.origin,
    'Access-Control-Allow-Methods': rule.allowedMethods.join(', '),
    Vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
  };
  // A rule for any origin serves pages of every site: never with credentials (the Fetch standard refuses '*' with them anyway).
  if (!anyOrigin) out['Access-Control-Allow-Credentials'] = 'true';
  if (rule.exposeHeaders.length > 0) out['Access-Control-Expose-Headers'] = rule.exposeHeaders.join(', ');
  if (preflight && ask.headers.length > 0) out['Access-Control-Allow-Headers'] = ask.headers.join(', ');
  if (rule.maxAgeSeconds !== undefined) out['Access-Control-Max-Age'] = String(rule.maxAgeSeconds);
  return out;
}

export function encodeCors(config: CorsConfig): Buffer {
  assert(config.length >= 1 && config.length <= MAX_CORS_RULES, 'CORS rule count');
  const w = new BufWriter(256).u32(CORS_MAGIC).u8(CORS_FORMAT_V1).u16(config.length);
  for (const r of config) {
    w.shortBlob(Buffer.from(r.id, 'utf8')).u32((r.maxAgeSeconds ?? NO_MAX_AGE) >>> 0);
    for (const list of [r.allowedOrigins, r.allowedMethods, r.allowedHeaders, r.exposeHeaders]) {
      assert(list.length <= 0xffff, 'CORS list length');
      w.u16(list.length);
      for (const item of list) w.shortBlob(Buffer.from(item, 'utf8'));
    }
  }
  w.u32(crc32c(w.view()));
  return w.finish();
}

export function decodeCors(bytes: Buffer): CorsConfig {
  const what = 'CORS record';
  if (bytes.length < 11) throw new CorruptionError(`${what}: ${bytes.length} bytes is too short`);
  const body = bytes.subarray(0, bytes.length - 4);
  if (crc32c(body) !== bytes.readUInt32LE(bytes.length - 4)) throw new CorruptionError(`${what}: checksum mismatch`);
  const r = new BufReader(body, what);
  if (r.u32() !== CORS_MAGIC) throw new CorruptionError(`${what}: bad magic`);
  const version = r.u8();
  if (version !== CORS_FORMAT_V1) throw new CorruptionError(`${what}: unknown format version ${version}`);
  const n = r.u16();
  if (n < 1 || n > MAX_CORS_RULES) throw new CorruptionError(`${what}: ${n} rules`);
  const rules: CorsRule[] = [];
  for (let i = 0; i < n; i++) rules.push(readRule(r));
  r.expectEnd();
  return rules;
}

function readRule(r: BufReader): CorsRule {
  const id = r.shortBlob().toString('utf8');
  const maxAge = r.u32() | 0;
  const list = (): string[] => Array.from({ length: r.u16() }, () => r.shortBlob().toString('utf8'));
  const [allowedOrigins, allowedMethods, allowedHeaders, exposeHeaders] = [list(), list(), list(), list()];
  if (maxAge < NO_MAX_AGE) throw new CorruptionError(`CORS record: MaxAgeSeconds ${maxAge}`);
  return { id, allowedOrigins, allowedMethods, allowedHeaders, exposeHeaders, maxAgeSeconds: maxAge === NO_MAX_AGE ? undefined : maxAge };
}
