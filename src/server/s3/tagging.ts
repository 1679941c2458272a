// Tag sets of objects and buckets (docs/S3.md, "Tagging"): S3's limits,
// the two ways a tag set arrives (a <Tagging> document, or the
// x-amz-tagging header in URL query form) and the document that answers
// GetObjectTagging / GetBucketTagging.
//
// Limits, as AWS S3 documents and enforces them (400 InvalidTag otherwise):
//   1. at most 10 tags on an object, 50 on a bucket;
//   2. a key is 1..128 Unicode characters, a value 0..256;
//   3. keys are unique within a set;
//   4. keys starting with "aws:" are reserved for AWS.
// A set that passes is stored exactly as given (records.ts, TagSet).
import type { IncomingHttpHeaders } from 'node:http';
import type { TagSet } from './records.js';
import { S3Error } from './s3_errors.js';
import { headerOf } from './request.js';
import type { XmlNode } from './xml.js';
import { asNode, child, children, parseXml, text } from './xml.js';

export const MAX_OBJECT_TAGS = 10;
export const MAX_BUCKET_TAGS = 50;
export const MAX_TAG_KEY_CHARS = 128;
export const MAX_TAG_VALUE_CHARS = 256;
/** A <Tagging> document of 50 tags of the longest keys and values, escaped, with room to spare. */
export const MAX_TAGGING_BODY_BYTES = 256 * 1024;

export type TagOwner = 'object' | 'bucket';

const invalidTag = (message: string): S3Error => new S3Error(400, 'InvalidTag', message);

/**
 * S3's tag limits, an object so that a broken variant can replace the
 * check (testing/mutants/http_check_mutants.ts).
 */
export class TagRules {
  /** Throws InvalidTag unless `tags` is within S3's limits for `owner`. */
  validate(tags: TagSet, owner: TagOwner): void {
    checkTagLimits(tags, owner);
  }
}

export const TAG_RULES = new TagRules();

function checkTagLimits(tags: TagSet, owner: TagOwner): void {
  const max = owner === 'object' ? MAX_OBJECT_TAGS : MAX_BUCKET_TAGS;
  if (tags.length > max) throw invalidTag(`${owner === 'object' ? 'Object' : 'Bucket'} tags cannot be greater than ${max}`);
  const seen = new Set<string>();
  for (const [key, value] of tags) {
    const keyChars = [...key].length;
    if (keyChars < 1 || keyChars > MAX_TAG_KEY_CHARS) throw invalidTag(`The TagKey you have provided is invalid: it must be 1 to ${MAX_TAG_KEY_CHARS} characters`);
    if ([...value].length > MAX_TAG_VALUE_CHARS) throw invalidTag(`The TagValue you have provided is invalid: it must be at most ${MAX_TAG_VALUE_CHARS} characters`);
    if (key.toLowerCase().startsWith('aws:')) throw invalidTag('Your TagKey cannot be prefixed with aws:');
    if (seen.has(key)) throw invalidTag('Cannot provide multiple Tags with the same key');
    seen.add(key);
  }
}

/** The tag set of a <Tagging><TagSet><Tag><Key/><Value/></Tag>...</TagSet></Tagging> body, validated. */
export function tagsOfBody(body: Buffer, owner: TagOwner): TagSet {
  const doc = asNode(child(parseXml(body), 'Tagging'), 'Tagging');
  const set = asNode(child(doc, 'TagSet'), 'TagSet');
  const tags = children(set, 'Tag').map((t): readonly [string, string] => {
    const node = asNode(t, 'Tag');
    return [text(child(node, 'Key'), 'Key'), text(child(node, 'Value'), 'Value')];
  });
  TAG_RULES.validate(tags, owner);
  return tags;
}

/**
 * The tag set of an x-amz-tagging header (`k1=v1&k2=v2`, URL-encoded; a
 * key without `=` has an empty value), validated; empty if the header is
 * absent or empty.
 */
export function tagsOfHeader(headers: IncomingHttpHeaders): TagSet {
  const header = headerOf(headers, 'x-amz-tagging');
  if (header === undefined || header.trim() === '') return [];
  const tags: Array<readonly [string, string]> = [];
  for (const pair of header.split('&')) {
    const eq = pair.indexOf('=');
    const [rawKey, rawValue] = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
    tags.push([decodeTagText(rawKey), decodeTagText(rawValue)]);
  }
  TAG_RULES.validate(tags, 'object');
  return tags;
}

function decodeTagText(raw: string): string {
  try {
    return decodeURIComponent(raw.replaceAll('+', ' '));
  } catch {
    throw new S3Error(400, 'InvalidArgument', 'The header x-amz-tagging shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.', {
      ArgumentName: 'x-amz-tagging',
    });
  }
}

/** The body of a GetObjectTagging / GetBucketTagging answer. */
export function taggingDocument(tags: TagSet): XmlNode {
  return { TagSet: { Tag: tags.map(([Key, Value]) => ({ Key, Value })) } };
}

/** x-amz-tagging-count of GET and HEAD: only when the object has tags, as S3 sends it. */
export function taggingCountHeader(tags: TagSet): Record<string, string> {
  return tags.length === 0 ? {} : { 'x-amz-tagging-count': String(tags.length) };
}
