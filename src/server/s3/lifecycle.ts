// A bucket's lifecycle configuration (docs/S3.md, "Lifecycle"): the
// <LifecycleConfiguration> document, the limits S3 puts on it, the record
// it is stored as, and which rule applies to what, when.
//
// Validation, as AWS S3 answers it (where S3 does not document the code,
// the choice is written here and in docs/S3.md):
//   1. 1..1000 <Rule>s (MalformedXML past it), each ID at most 255
//      characters (InvalidArgument) and unique (InvalidArgument); a rule
//      without an ID gets a random one, as S3 gives;
//   2. Status is Enabled or Disabled (MalformedXML);
//   3. exactly one of <Filter> and the legacy top-level <Prefix>
//      (MalformedXML); a Filter holds at most one of Prefix, Tag, And,
//      ObjectSizeGreaterThan, ObjectSizeLessThan (MalformedXML); a prefix
//      is at most 1024 bytes (InvalidArgument); sizes are
//      non-negative integers, and in an And GreaterThan < LessThan
//      (InvalidArgument); tag keys unique within a filter (InvalidArgument);
//   4. at least one action (InvalidRequest). Expiration holds exactly one
//      of Days (> 0), Date (midnight UTC, ISO 8601) and
//      ExpiredObjectDeleteMarker (MalformedXML for none or several,
//      InvalidArgument for a bad value); ExpiredObjectDeleteMarker and
//      AbortIncompleteMultipartUpload take no tag or size filter
//      (InvalidArgument); NoncurrentDays > 0, NewerNoncurrentVersions
//      1..100, DaysAfterInitiation > 0 (InvalidArgument);
//   5. Transition and NoncurrentVersionTransition: 501 NotImplemented. The
//      node has one storage class; a transition accepted and never done
//      would be a rule accepted and ignored.
//
// When (S3's arithmetic): an object is due Days after its creation,
// rounded up to the next midnight UTC; a noncurrent version NoncurrentDays
// after it became noncurrent (its successor's creation), rounded the same
// way; an upload DaysAfterInitiation after it was initiated, rounded the
// same way; with a Date, every matching object on and after that date.
//
// The record (magic "S3LC", key `\0Y bucket`, little-endian, CRC32C last
// like every S3 record, docs/format/s3_records.md). DO NOT CHANGE: on-disk.
// Add a new format version instead.
//   u32 magic, u8 version (1), u16 n rules (1..1000), n x rule, u32 crc32c
//   rule: shortBlob id, u8 status (0 disabled, 1 enabled), u8 filter form,
//         shortBlob prefix, u8 n tags, n x (shortBlob key, shortBlob value),
//         u8 size flags (bit 0: greater-than, bit 1: less-than), u64 gt, u64 lt,
//         u8 actions (bit 0: Days, 1: Date, 2: ExpiredObjectDeleteMarker,
//         3: NoncurrentVersionExpiration, 4: AbortIncompleteMultipartUpload),
//         u32 days, u64 dateMs, u32 noncurrentDays, u8 newerNoncurrent (0: none),
//         u32 daysAfterInitiation
import { randomBytes } from 'node:crypto';
import type { BufReader } from '../../base/index.js';
import { BufWriter, CorruptionError, assert, crc32c } from '../../base/index.js';
import { MAX_RULE_ID_CHARS } from './cors.js';
import type { ObjectRecord, TagSet } from './records.js';
import { encodeObject, opened } from './records.js';
import { S3Error, invalidArgument, invalidRequest, malformedXml, notImplemented } from './s3_errors.js';
import type { XmlNode } from './xml.js';
import { asNode, child, children, optionalText, parseXml, text } from './xml.js';

export const MAX_LIFECYCLE_RULES = 1000;
/** 1000 rules with filters of a few tags each fit. */
export const MAX_LIFECYCLE_BODY_BYTES = 2 * 1024 * 1024;
const MAX_NEWER_NONCURRENT = 100;
const MAX_FILTER_TAGS = 50;
/** S3's longest key: a longer prefix matches nothing (and the record keeps it in a u16-length blob). */
const MAX_PREFIX_BYTES = 1024;
const MAX_DAYS = 2_147_483_647;
export const DAY_MS = 86_400_000;

const LIFECYCLE_MAGIC = 0x434c3353; // "S3LC" little-endian
const LIFECYCLE_FORMAT_V1 = 1;
const SIZE_GT = 1;
const SIZE_LT = 2;
const ACT_DAYS = 1;
const ACT_DATE = 2;
const ACT_MARKER = 4;
const ACT_NONCURRENT = 8;
const ACT_ABORT = 16;
const ALL_ACTS = ACT_DAYS | ACT_DATE | ACT_MARKER | ACT_NONCURRENT | ACT_ABORT;

/** How the rule named its filter, kept so that GET answers what was put. DO NOT CHANGE the order: on-disk. */
export const FILTER_FORMS = ['legacy-prefix', 'empty', 'prefix', 'tag', 'and', 'size-gt', 'size-lt'] as const;
export type FilterForm = (typeof FILTER_FORMS)[number];

export interface LifecycleFilter {
  readonly form: FilterForm;
  /** '' matches every key. */
  readonly prefix: string;
  readonly tags: TagSet;
  readonly sizeGreaterThan: number | undefined;
  readonly sizeLessThan: number | undefined;
}

export type Expiration =
  | { readonly kind: 'days'; readonly days: number }
  | { readonly kind: 'date'; readonly dateMs: number }
  | { readonly kind: 'delete-marker' };

export interface LifecycleRule {
  readonly id: string;
  readonly enabled: boolean;
  readonly filter: LifecycleFilter;
  readonly expiration: Expiration | undefined;
  readonly noncurrent: { readonly days: number; readonly newerVersions: number | undefined } | undefined;
  readonly abortAfterDays: number | undefined;
}

export type LifecycleConfig = readonly LifecycleRule[];

// ---- the document ----

/** The rules of a <LifecycleConfiguration> body, validated (see the header). */
export function lifecycleOfBody(body: Buffer): LifecycleConfig {
  const doc = asNode(child(parseXml(body), 'LifecycleConfiguration'), 'LifecycleConfiguration');
  const unknown = Object.keys(doc).find((name) => name !== 'Rule');
  if (unknown !== undefined) throw malformedXml(`unexpected <${unknown}> in <LifecycleConfiguration>`);
  const nodes = children(doc, 'Rule');
  if (nodes.length === 0) throw malformedXml('a LifecycleConfiguration needs at least one Rule');
  if (nodes.length > MAX_LIFECYCLE_RULES) throw malformedXml(`at most ${MAX_LIFECYCLE_RULES} Rules`);
  const rules = nodes.map((n) => ruleOf(asNode(n, 'Rule')));
  const ids = new Set<string>();
  for (const r of rules) {
    if (ids.has(r.id)) throw invalidArgument('Rule ID must be unique. Found same ID for more than one rule', { ArgumentName: 'ID', ArgumentValue: r.id });
    ids.add(r.id);
  }
  return rules;
}

const RULE_ELEMENTS = new Set(['ID', 'Filter', 'Prefix', 'Status', 'Expiration', 'NoncurrentVersionExpiration', 'AbortIncompleteMultipartUpload', 'Transition', 'NoncurrentVersionTransition']);

function ruleOf(node: XmlNode): LifecycleRule {
  const unknown = Object.keys(node).find((name) => !RULE_ELEMENTS.has(name));
  if (unknown !== undefined) throw malformedXml(`unexpected <${unknown}> in <Rule>`);
  if (node.Transition !== undefined || node.NoncurrentVersionTransition !== undefined) throw notImplemented('lifecycle transitions (this node has one storage class)');
  const id = optionalText(node, 'ID') ?? randomBytes(24).toString('base64');
  if ([...id].length > MAX_RULE_ID_CHARS) throw invalidArgument(`ID length should not exceed allowed limit of ${MAX_RULE_ID_CHARS}`, { ArgumentName: 'ID', ArgumentValue: id });
  const status = optionalText(node, 'Status');
  if (status !== 'Enabled' && status !== 'Disabled') throw malformedXml('Status must be Enabled or Disabled');
  const filter = filterOf(node);
  const expiration = node.Expiration === undefined ? undefined : expirationOf(asNode(child(node, 'Expiration'), 'Expiration'));
  const noncurrent = node.NoncurrentVersionExpiration === undefined ? undefined : noncurrentOf(asNode(child(node, 'NoncurrentVersionExpiration'), 'NoncurrentVersionExpiration'));
  const abortAfterDays = node.AbortIncompleteMultipartUpload === undefined ? undefined : abortOf(asNode(child(node, 'AbortIncompleteMultipartUpload'), 'AbortIncompleteMultipartUpload'));
  if (expiration === undefined && noncurrent === undefined && abortAfterDays === undefined) throw invalidRequest('At least one action needs to be specified in a rule');
  const narrowed = filter.tags.length > 0 || filter.sizeGreaterThan !== undefined || filter.sizeLessThan !== undefined;
  if (narrowed && expiration?.kind === 'delete-marker') throw invalidArgument('ExpiredObjectDeleteMarker cannot be specified with tags or object size filters');
  if (narrowed && abortAfterDays !== undefined) throw invalidArgument('AbortIncompleteMultipartUpload cannot be specified with tags or object size filters');
  if (Buffer.byteLength(filter.prefix, 'utf8') > MAX_PREFIX_BYTES) throw invalidArgument(`A lifecycle prefix is at most ${MAX_PREFIX_BYTES} bytes (the longest key)`, { ArgumentName: 'Prefix' });
  return { id, enabled: status === 'Enabled', filter, expiration, noncurrent, abortAfterDays };
}

function filterOf(node: XmlNode): LifecycleFilter {
  const none = { prefix: '', tags: [], sizeGreaterThan: undefined, sizeLessThan: undefined };
  const legacy = optionalText(node, 'Prefix');
  if ((legacy === undefined) === (node.Filter === undefined)) throw malformedXml('a Rule needs exactly one of <Filter> and <Prefix>');
  if (legacy !== undefined) return { ...none, form: 'legacy-prefix', prefix: legacy };
  const f = asNode(child(node, 'Filter'), 'Filter');
  const names = Object.keys(f);
  if (names.length > 1) throw malformedXml('a Filter holds one of Prefix, Tag, And, ObjectSizeGreaterThan, ObjectSizeLessThan');
  const only = names[0];
  if (only === undefined) return { ...none, form: 'empty' };
  if (only === 'Prefix') return { ...none, form: 'prefix', prefix: optionalText(f, 'Prefix') ?? '' };
  if (only === 'Tag') return { ...none, form: 'tag', tags: [tagOf(child(f, 'Tag'))] };
  if (only === 'ObjectSizeGreaterThan') return { ...none, form: 'size-gt', sizeGreaterThan: sizeOf(f, only) };
  if (only === 'ObjectSizeLessThan') return { ...none, form: 'size-lt', sizeLessThan: sizeOf(f, only) };
  if (only !== 'And') throw malformedXml(`unexpected <${only}> in <Filter>`);
  return andOf(asNode(child(f, 'And'), 'And'));
}

function andOf(and: XmlNode): LifecycleFilter {
  const unknown = Object.keys(and).find((n) => !['Prefix', 'Tag', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan'].includes(n));
  if (unknown !== undefined) throw malformedXml(`unexpected <${unknown}> in <And>`);
  const tags = children(and, 'Tag').map(tagOf);
  if (tags.length > MAX_FILTER_TAGS) throw invalidArgument(`at most ${MAX_FILTER_TAGS} tags in a lifecycle filter`);
  if (new Set(tags.map(([k]) => k)).size !== tags.length) throw invalidArgument('Duplicate Tag Keys are not allowed.');
  const filter: LifecycleFilter = {
    form: 'and',
    prefix: optionalText(and, 'Prefix') ?? '',
    tags,
    sizeGreaterThan: and.ObjectSizeGreaterThan === undefined ? undefined : sizeOf(and, 'ObjectSizeGreaterThan'),
    sizeLessThan: and.ObjectSizeLessThan === undefined ? undefined : sizeOf(and, 'ObjectSizeLessThan'),
  };
  if (filter.sizeGreaterThan !== undefined && filter.sizeLessThan !== undefined && filter.sizeGreaterThan >= filter.sizeLessThan) {
    throw invalidArgument('ObjectSizeGreaterThan must be less than ObjectSizeLessThan');
  }
  return filter;
}

function tagOf(value: XmlNode | string): readonly [string, string] {
  const tag = asNode(value, 'Tag');
  const key = text(child(tag, 'Key'), 'Key');
  const tagValue = optionalText(tag, 'Value') ?? '';
  if ([...key].length < 1 || [...key].length > 128 || [...tagValue].length > 256) throw new S3Error(400, 'InvalidTag', 'The TagKey or TagValue you have provided is invalid');
  return [key, tagValue];
}

function sizeOf(node: XmlNode, name: string): number {
  const value = (optionalText(node, name) ?? '').trim();
  if (!/^\d{1,16}$/.test(value) || !Number.isSafeInteger(Number(value))) throw invalidArgument(`${name} must be a non-negative integer`, { ArgumentName: name });
  return Number(value);
}

function positiveDays(node: XmlNode, name: string, max = MAX_DAYS): number {
  const value = (optionalText(node, name) ?? '').trim();
  if (!/^-?\d+$/.test(value)) throw malformedXml(`${name} must be an integer`);
  const days = Number(value);
  if (days < 1 || days > max) throw invalidArgument(`'${name}' must be a positive integer${max === MAX_DAYS ? '' : ` at most ${max}`}`, { ArgumentName: name, ArgumentValue: value });
  return days;
}

function expirationOf(node: XmlNode): Expiration {
  const given = ['Days', 'Date', 'ExpiredObjectDeleteMarker'].filter((n) => node[n] !== undefined);
  const unknown = Object.keys(node).find((n) => !['Days', 'Date', 'ExpiredObjectDeleteMarker'].includes(n));
  if (unknown !== undefined) throw malformedXml(`unexpected <${unknown}> in <Expiration>`);
  if (given.length !== 1) throw malformedXml('an Expiration holds exactly one of Days, Date and ExpiredObjectDeleteMarker');
  if (node.Days !== undefined) return { kind: 'days', days: positiveDays(node, 'Days') };
  if (node.Date !== undefined) return { kind: 'date', dateMs: dateOf(optionalText(node, 'Date') ?? '') };
  const marker = (optionalText(node, 'ExpiredObjectDeleteMarker') ?? '').trim();
  if (marker !== 'true') throw invalidArgument('ExpiredObjectDeleteMarker must be true (false sets no action)', { ArgumentName: 'ExpiredObjectDeleteMarker' });
  return { kind: 'delete-marker' };
}

/** An ISO 8601 date at midnight UTC (S3 refuses any other time of day). */
function dateOf(value: string): number {
  const ms = Date.parse(value.trim());
  if (!/^\d{4}-\d{2}-\d{2}(T00:00:00(\.000)?(Z|[+-]00:00))?$/.test(value.trim()) || Number.isNaN(ms) || ms % DAY_MS !== 0) {
    throw invalidArgument("'Date' must be at midnight GMT", { ArgumentName: 'Date', ArgumentValue: value });
  }
  return ms;
}

function noncurrentOf(node: XmlNode): { days: number; newerVersions: number | undefined } {
  const unknown = Object.keys(node).find((n) => n !== 'NoncurrentDays' && n !== 'NewerNoncurrentVersions');
  if (unknown !== undefined) throw malformedXml(`unexpected <${unknown}> in <NoncurrentVersionExpiration>`);
  const newer = node.NewerNoncurrentVersions === undefined ? undefined : positiveDays(node, 'NewerNoncurrentVersions', MAX_NEWER_NONCURRENT);
  return { days: positiveDays(node, 'NoncurrentDays'), newerVersions: newer };
}

function abortOf(node: XmlNode): number {
  const unknown = Object.keys(node).find((n) => n !== 'DaysAfterInitiation');
  if (unknown !== undefined) throw malformedXml(`unexpected <${unknown}> in <AbortIncompleteMultipartUpload>`);
  return positiveDays(node, 'DaysAfterInitiation');
}

/** The <LifecycleConfiguration> body of GetBucketLifecycleConfiguration: the rules as put. */
export function lifecycleDocument(config: LifecycleConfig): XmlNode {
  return { Rule: config.map(ruleDocument) };
}

function ruleDocument(r: LifecycleRule): XmlNode {
  const f = r.filter;
  const tag = ([Key, Value]: readonly [string, string]): XmlNode => ({ Key, Value });
  const filters: Record<FilterForm, () => XmlNode> = {
    'legacy-prefix': () => ({ Prefix: f.prefix }),
    empty: () => ({ Filter: {} }),
    prefix: () => ({ Filter: { Prefix: f.prefix } }),
    tag: () => ({ Filter: { Tag: f.tags.map(tag) } }),
    'size-gt': () => ({ Filter: { ObjectSizeGreaterThan: f.sizeGreaterThan ?? 0 } }),
    'size-lt': () => ({ Filter: { ObjectSizeLessThan: f.sizeLessThan ?? 0 } }),
    and: () => ({
      Filter: {
        And: {
          ...(f.prefix === '' ? {} : { Prefix: f.prefix }),
          Tag: f.tags.map(tag),
          ...(f.sizeGreaterThan === undefined ? {} : { ObjectSizeGreaterThan: f.sizeGreaterThan }),
          ...(f.sizeLessThan === undefined ? {} : { ObjectSizeLessThan: f.sizeLessThan }),
        },
      },
    }),
  };
  const e = r.expiration;
  return {
    ID: r.id,
    ...filters[f.form](),
    Status: r.enabled ? 'Enabled' : 'Disabled',
    ...(e === undefined ? {} : { Expiration: e.kind === 'days' ? { Days: e.days } : e.kind === 'date' ? { Date: new Date(e.dateMs).toISOString() } : { ExpiredObjectDeleteMarker: true } }),
    ...(r.noncurrent === undefined
      ? {}
      : { NoncurrentVersionExpiration: { NoncurrentDays: r.noncurrent.days, ...(r.noncurrent.newerVersions === undefined ? {} : { NewerNoncurrentVersions: r.noncurrent.newerVersions }) } }),
    ...(r.abortAfterDays === undefined ? {} : { AbortIncompleteMultipartUpload: { DaysAfterInitiation: r.abortAfterDays } }),
  };
}

// ---- when ----

/** `ms` rounded up to the next midnight UTC (a midnight stays). */
export function nextMidnightMs(ms: number): number {
  return Math.ceil(ms / DAY_MS) * DAY_MS;
}

/** The moment something that started at `sinceMs` is `days` old as S3 counts it. */
export function dueAfterDays(sinceMs: number, days: number): number {
  return nextMidnightMs(sinceMs + days * DAY_MS);
}

/**
 * Which rule applies to what, an object so that a broken variant can
 * replace a decision (testing/mutants/lifecycle_mutants.ts).
 */
export class LifecycleRules {
  /** The filter admits an object of `key` with this record's tags and size. */
  matches(filter: LifecycleFilter, key: Buffer, record: Pick<ObjectRecord, 'tags' | 'sizeBytes'>): boolean {
    if (!this.prefixMatches(filter, key)) return false;
    if (!filter.tags.every(([k, v]) => record.tags.some(([rk, rv]) => rk === k && rv === v))) return false;
    if (filter.sizeGreaterThan !== undefined && !(record.sizeBytes > filter.sizeGreaterThan)) return false;
    return filter.sizeLessThan === undefined || record.sizeBytes < filter.sizeLessThan;
  }

  /** The key starts with the filter's prefix (bytes of its UTF-8). */
  prefixMatches(filter: LifecycleFilter, key: Buffer): boolean {
    const prefix = Buffer.from(filter.prefix, 'utf8');
    return key.length >= prefix.length && key.subarray(0, prefix.length).equals(prefix);
  }

  /**
   * Whether `found`, the record read under the object's lock, may still be
   * expired: it is the version the pass listed and decided on (nothing
   * replaced it in between: an overwrite, a delete, a copy) and it is still
   * due (its tags may have changed since).
   */
  stillDue(config: LifecycleConfig, key: Buffer, listed: ObjectRecord, found: ObjectRecord, nowMs: number): boolean {
    if (!encodedWithoutTags(listed).equals(encodedWithoutTags(found))) return false;
    const due = currentDueMs(config, key, found);
    return due !== undefined && nowMs >= due;
  }
}

function encodedWithoutTags(r: ObjectRecord): Buffer {
  // Compared as stored, tags aside: same data, ETag, mtime and version stamp.
  return encodeObject({ ...r, tags: [] });
}

export const LIFECYCLE_RULES = new LifecycleRules();

/** When the current version `record` of `key` expires under `config`, and by which rule (the earliest); undefined: never. */
export function currentExpiry(config: LifecycleConfig, key: Buffer, record: ObjectRecord): { readonly dueMs: number; readonly ruleId: string } | undefined {
  let out: { dueMs: number; ruleId: string } | undefined;
  for (const r of config) {
    const e = r.expiration;
    if (!r.enabled || e === undefined || e.kind === 'delete-marker' || !LIFECYCLE_RULES.matches(r.filter, key, record)) continue;
    const at = e.kind === 'days' ? dueAfterDays(record.mtimeMs, e.days) : e.dateMs;
    if (out === undefined || at < out.dueMs) out = { dueMs: at, ruleId: r.id };
  }
  return out;
}

/** When the current version `record` of `key` expires under `config` (undefined: never). */
export function currentDueMs(config: LifecycleConfig, key: Buffer, record: ObjectRecord): number | undefined {
  return currentExpiry(config, key, record)?.dueMs;
}

// ---- the record ----

export function encodeLifecycle(config: LifecycleConfig): Buffer {
  assert(config.length >= 1 && config.length <= MAX_LIFECYCLE_RULES, 'lifecycle rule count');
  const w = new BufWriter(256).u32(LIFECYCLE_MAGIC).u8(LIFECYCLE_FORMAT_V1).u16(config.length);
  for (const r of config) writeRule(w, r);
  w.u32(crc32c(w.view()));
  return w.finish();
}

function writeRule(w: BufWriter, r: LifecycleRule): void {
  const f = r.filter;
  assert(f.tags.length <= MAX_FILTER_TAGS, 'lifecycle filter tags');
  w.shortBlob(Buffer.from(r.id, 'utf8')).u8(r.enabled ? 1 : 0).u8(FILTER_FORMS.indexOf(f.form)).shortBlob(Buffer.from(f.prefix, 'utf8'));
  w.u8(f.tags.length);
  for (const [k, v] of f.tags) w.shortBlob(Buffer.from(k, 'utf8')).shortBlob(Buffer.from(v, 'utf8'));
  w.u8((f.sizeGreaterThan === undefined ? 0 : SIZE_GT) | (f.sizeLessThan === undefined ? 0 : SIZE_LT)).u64(f.sizeGreaterThan ?? 0).u64(f.sizeLessThan ?? 0);
  const e = r.expiration;
  const acts =
    (e?.kind === 'days' ? ACT_DAYS : 0) | (e?.kind === 'date' ? ACT_DATE : 0) | (e?.kind === 'delete-marker' ? ACT_MARKER : 0) |
    (r.noncurrent === undefined ? 0 : ACT_NONCURRENT) | (r.abortAfterDays === undefined ? 0 : ACT_ABORT);
  w.u8(acts).u32(e?.kind === 'days' ? e.days : 0).u64(e?.kind === 'date' ? e.dateMs : 0);
  w.u32(r.noncurrent?.days ?? 0).u8(r.noncurrent?.newerVersions ?? 0).u32(r.abortAfterDays ?? 0);
}

export function decodeLifecycle(bytes: Buffer): LifecycleConfig {
  const { r } = opened(bytes, LIFECYCLE_MAGIC, 'lifecycle record', LIFECYCLE_FORMAT_V1);
  const n = r.u16();
  if (n < 1 || n > MAX_LIFECYCLE_RULES) throw new CorruptionError(`lifecycle record: ${n} rules`);
  const rules: LifecycleRule[] = [];
  for (let i = 0; i < n; i++) rules.push(readRule(r));
  r.expectEnd();
  return rules;
}

function readRule(r: BufReader): LifecycleRule {
  const id = r.shortBlob().toString('utf8');
  const status = r.u8();
  const form = FILTER_FORMS[r.u8()];
  if (status > 1 || form === undefined) throw new CorruptionError(`lifecycle record: rule status ${status} or filter form unknown`);
  const prefix = r.shortBlob().toString('utf8');
  const nTags = r.u8();
  if (nTags > MAX_FILTER_TAGS) throw new CorruptionError(`lifecycle record: ${nTags} filter tags`);
  const tags: Array<[string, string]> = [];
  for (let i = 0; i < nTags; i++) tags.push([r.shortBlob().toString('utf8'), r.shortBlob().toString('utf8')]);
  const sizeFlags = r.u8();
  const [gt, lt] = [r.u64(), r.u64()];
  const acts = r.u8();
  const [days, dateMs, noncurrentDays, newer, abortDays] = [r.u32(), r.u64(), r.u32(), r.u8(), r.u32()];
  if ((sizeFlags & ~(SIZE_GT | SIZE_LT)) !== 0 || (acts & ~ALL_ACTS) !== 0 || acts === 0) throw new CorruptionError(`lifecycle record: flags ${sizeFlags}/${acts}`);
  const expiration = expirationOfFlags(acts, days, dateMs);
  if (((acts & ACT_NONCURRENT) !== 0) !== noncurrentDays > 0 || ((acts & ACT_ABORT) !== 0) !== abortDays > 0) throw new CorruptionError('lifecycle record: action days and flags disagree');
  return {
    id,
    enabled: status === 1,
    filter: { form, prefix, tags, sizeGreaterThan: (sizeFlags & SIZE_GT) !== 0 ? gt : undefined, sizeLessThan: (sizeFlags & SIZE_LT) !== 0 ? lt : undefined },
    expiration,
    noncurrent: noncurrentDays > 0 ? { days: noncurrentDays, newerVersions: newer === 0 ? undefined : newer } : undefined,
    abortAfterDays: abortDays > 0 ? abortDays : undefined,
  };
}

function expirationOfFlags(acts: number, days: number, dateMs: number): Expiration | undefined {
  const kinds = acts & (ACT_DAYS | ACT_DATE | ACT_MARKER);
  if (kinds !== 0 && kinds !== ACT_DAYS && kinds !== ACT_DATE && kinds !== ACT_MARKER) throw new CorruptionError('lifecycle record: two expirations in one rule');
  if (kinds === ACT_DAYS && days > 0) return { kind: 'days', days };
  if (kinds === ACT_DATE && dateMs % DAY_MS === 0) return { kind: 'date', dateMs };
  if (kinds === ACT_MARKER) return { kind: 'delete-marker' };
  if (kinds !== 0) throw new CorruptionError('lifecycle record: an expiration without its value');
  return undefined;
}
