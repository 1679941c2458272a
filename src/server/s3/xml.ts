// XML in and out, through fast-xml-parser (pure JS, maintained).
//
// Out: documents are plain objects; arrays become repeated elements; the
// builder escapes text. Every document carries S3's namespace.
// In: request bodies are validated first (MalformedXML otherwise), DOCTYPE
// is refused (no entity expansion from a request), and text is kept as
// sent (object keys may start or end with spaces), so readers take only
// leaf strings.
// Limits (every request body): each operation reads at most its own size
// limit (CreateBucket 64 KiB, DeleteObjects 2 MiB, Complete 4 MiB), and
// elements nest at most MAX_XML_DEPTH deep, checked by a linear scan before
// the parser runs (the parser recurses: 20,000 nested tags overflowed its
// stack, a 500). Past either limit: 400 MalformedXML.
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { malformedXml } from './s3_errors.js';

export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

export type XmlValue = string | number | boolean | XmlNode | readonly XmlValue[];
export interface XmlNode {
  readonly [name: string]: XmlValue | undefined;
}

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', suppressEmptyNode: false });

/** `<?xml ...?><root xmlns=S3>body</root>` */
export function xmlDocument(root: string, body: XmlNode, xmlns: boolean = true): Buffer {
  const rooted = xmlns ? { '@_xmlns': S3_XMLNS, ...body } : body;
  const text = builder.build({ [root]: rooted });
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n${text}`, 'utf8');
}

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  // Numeric character references (&#34;) too: Go's encoding/xml (rclone) writes quotes that way.
  htmlEntities: true,
});

/** The deepest S3 request document is 4 levels (Delete/Object/Key); this leaves room for any client's wrapping. */
export const MAX_XML_DEPTH = 32;

/** Parse a request body. Throws S3Error MalformedXML. */
export function parseXml(body: Buffer): XmlNode {
  const text = body.toString('utf8');
  if (/<!DOCTYPE/i.test(text)) throw malformedXml('DOCTYPE is not allowed');
  const depth = maxDepth(text, MAX_XML_DEPTH);
  if (depth > MAX_XML_DEPTH) throw malformedXml(`elements nest deeper than ${MAX_XML_DEPTH} levels`);
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw malformedXml(valid.err.msg);
  const parsed: unknown = parser.parse(text);
  if (!isNode(parsed)) throw malformedXml('not an element');
  return parsed;
}

/** The one child element `name` of `node` (throws MalformedXML if missing or repeated). */
export function child(node: XmlNode, name: string): XmlNode | string {
  const value = node[name];
  if (value === undefined) throw malformedXml(`missing <${name}>`);
  if (Array.isArray(value)) throw malformedXml(`<${name}> given more than once`);
  if (typeof value === 'string') return value;
  if (isNode(value)) return value;
  throw malformedXml(`<${name}> has an unexpected value`);
}

/** The children `name` of `node` as a list (absent: empty). */
export function children(node: XmlNode, name: string): Array<XmlNode | string> {
  const value = node[name];
  if (value === undefined) return [];
  const list: readonly unknown[] = Array.isArray(value) ? (value as readonly unknown[]) : [value];
  return list.map((item) => {
    if (typeof item === 'string' || isNode(item)) return item;
    throw malformedXml(`<${name}> has an unexpected value`);
  });
}

/** The element as a node: `<A></A>` parses as '' and counts as an empty node. */
export function asNode(value: XmlNode | string, name: string): XmlNode {
  if (typeof value !== 'string') return value;
  if (value.trim() === '') return {};
  throw malformedXml(`<${name}> must contain elements`);
}

/** Text content of a leaf element (an empty element is ''). */
export function text(value: XmlNode | string, name: string): string {
  if (typeof value === 'string') return value;
  const inner = value['#text'];
  if (Object.keys(value).length === 0) return '';
  if (typeof inner === 'string' && Object.keys(value).length === 1) return inner;
  throw malformedXml(`<${name}> must be text`);
}

/** Optional leaf text. */
export function optionalText(node: XmlNode, name: string): string | undefined {
  return node[name] === undefined ? undefined : text(child(node, name), name);
}

function isNode(value: unknown): value is XmlNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * How deep elements nest in `text`, counting up to `limit + 1` (then it
 * stops: the answer is already "too deep"). Linear, no recursion. Only
 * tags count: comments, processing instructions and CDATA are skipped, and
 * a `>` inside a quoted attribute value does not end its tag. Malformed
 * input is left for the validator; this only bounds what it may see.
 */
export function maxDepth(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let at = text.indexOf('<');
  while (at >= 0 && at < text.length) {
    const next = text[at + 1];
    if (text.startsWith('<!--', at)) at = skipPast(text, at, '-->');
    else if (text.startsWith('<![CDATA[', at)) at = skipPast(text, at, ']]>');
    else if (next === '?' || next === '!') at = skipPast(text, at, '>');
    else {
      const end = tagEnd(text, at);
      if (next === '/') depth--;
      else if (text[end - 1] !== '/') depth++;
      deepest = Math.max(deepest, depth);
      if (deepest > limit) return deepest;
      at = end + 1;
    }
    at = text.indexOf('<', at);
  }
  return deepest;
}

function skipPast(text: string, at: number, terminator: string): number {
  const end = text.indexOf(terminator, at);
  return end < 0 ? text.length : end + terminator.length;
}

/** Index of the `>` closing the tag that starts at `at` (text.length if none), quotes respected. */
function tagEnd(text: string, at: number): number {
  let quote: string | undefined;
  for (let i = at + 1; i < text.length; i++) {
    const ch = text[i];
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '>') return i;
  }
  return text.length;
}
