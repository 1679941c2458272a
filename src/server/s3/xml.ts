// XML in and out, through fast-xml-parser (pure JS, maintained).
//
// Out: documents are plain objects; arrays become repeated elements; the
// builder escapes text. Every document carries S3's namespace.
// In: request bodies are validated first (MalformedXML otherwise), DOCTYPE
// is refused (no entity expansion from a request), and text is kept as
// sent (object keys may start or end with spaces), so readers take only
// leaf strings.
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

/** Parse a request body. Throws S3Error MalformedXML. */
export function parseXml(body: Buffer): XmlNode {
  const text = body.toString('utf8');
  if (/<!DOCTYPE/i.test(text)) throw malformedXml('DOCTYPE is not allowed');
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
