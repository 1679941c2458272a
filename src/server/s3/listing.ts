// One page of an S3 listing over the store's ordered key listing
// (ShardApi.list), for objects and for multipart uploads alike.
//
// A listing walks shard keys `ns + tail` in byte order. Each tail has a
// name (the object key: the tail itself for objects, the tail without
// `\0 uploadId` for uploads). With a delimiter, a name holding the
// delimiter after the prefix rolls up into a common prefix; the walk then
// jumps past every name under that prefix at once by resuming after
// `prefix + 0xFF` (0xFF never occurs in UTF-8, so it sorts after every
// name under the prefix): a listing costs one store page per common prefix,
// not one per key under it.
//
// The cursor (`after`) is a tail: the page holds only tails strictly
// greater. `next` is the cursor to continue from, and the continuation
// token of ListObjectsV2 is its base64url.
import type { ShardInfo } from '../../store/index.js';
import type { Core } from './core.js';
import { invalidArgument } from './s3_errors.js';

/** A store page this large serves most listings in one call. */
const STORE_PAGE = 1000;
const AFTER_EVERY_NAME = Buffer.from([0xff]);

export interface ListQuery {
  /** Shard key prefix up to the tails (`ns bucket/`). */
  readonly ns: Buffer;
  readonly prefix: Buffer;
  readonly delimiter: Buffer | undefined;
  readonly after: Buffer | undefined;
  readonly maxItems: number;
  /** The name of a tail (undefined: not an entry, skip it). */
  readonly nameOf: (tail: Buffer) => Buffer | undefined;
}

export type ListItem =
  | { readonly kind: 'entry'; readonly tail: Buffer; readonly name: Buffer; readonly shard: ShardInfo }
  | { readonly kind: 'prefix'; readonly name: Buffer };

export interface ListPage {
  readonly items: ListItem[];
  readonly truncated: boolean;
  /** Cursor after the last item (set when truncated). */
  readonly next: Buffer | undefined;
}

export async function listPage(core: Core, q: ListQuery): Promise<ListPage> {
  const items: ListItem[] = [];
  let cursor = q.after;
  const storePrefix = Buffer.concat([q.ns, q.prefix]);
  if (q.maxItems === 0) return { items, truncated: false, next: undefined };
  for (;;) {
    const page = await core.api.list({
      prefix: storePrefix,
      limit: STORE_PAGE,
      ...(cursor !== undefined ? { startAfter: Buffer.concat([q.ns, cursor]) } : {}),
    });
    let jumped = false;
    for (const shard of page.shards) {
      if (items.length === q.maxItems) return { items, truncated: true, next: cursor };
      const tail = shard.key.subarray(q.ns.length);
      const step = classify(q, tail, shard);
      if (step.item !== undefined) items.push(step.item);
      cursor = step.cursor;
      if (step.jump) {
        jumped = true;
        break;
      }
    }
    if (!jumped && !page.truncated) return { items, truncated: false, next: undefined };
    if (items.length === q.maxItems) return { items, truncated: await anyAfter(core, storePrefix, q.ns, cursor), next: cursor };
  }
}

function classify(q: ListQuery, tail: Buffer, shard: ShardInfo): { item: ListItem | undefined; cursor: Buffer; jump: boolean } {
  const name = q.nameOf(tail);
  if (name === undefined) return { item: undefined, cursor: tail, jump: false };
  if (q.delimiter !== undefined && q.delimiter.length > 0) {
    const at = name.indexOf(q.delimiter, q.prefix.length);
    if (at >= 0) {
      const common = name.subarray(0, at + q.delimiter.length);
      return { item: { kind: 'prefix', name: common }, cursor: Buffer.concat([common, AFTER_EVERY_NAME]), jump: true };
    }
  }
  return { item: { kind: 'entry', tail, name, shard }, cursor: tail, jump: false };
}

async function anyAfter(core: Core, storePrefix: Buffer, ns: Buffer, cursor: Buffer | undefined): Promise<boolean> {
  const page = await core.api.list({ prefix: storePrefix, limit: 1, ...(cursor !== undefined ? { startAfter: Buffer.concat([ns, cursor]) } : {}) });
  return page.shards.length > 0;
}

/** The cursor to resume after a marker that is a common prefix: skip everything under it. */
export function afterCommonPrefix(marker: Buffer): Buffer {
  return Buffer.concat([marker, AFTER_EVERY_NAME]);
}

export function encodeToken(cursor: Buffer): string {
  return cursor.toString('base64url');
}

export function decodeToken(token: string): Buffer {
  const cursor = Buffer.from(token, 'base64url');
  if (token === '' || cursor.toString('base64url') !== token) {
    throw invalidArgument('The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
  }
  return cursor;
}
