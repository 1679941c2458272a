// GET /v1/shards?prefix=&start-after=&limit=: one page of the key listing.
// Keys in and out are percent-encoded bytes; a truncated page names the key
// to pass as start-after for the next page. The listing never shows the S3
// front's reserved keys (reserved_keys.ts): a prefix or start-after in that
// range is refused (400 ReservedKey), and a listing from the start begins
// right after it.
import { InvalidArgumentError } from '../base/index.js';
import type { ListOptions, ShardApi } from '../store/index.js';
import type { Exchange } from './exchange.js';
import { sendJson } from './exchange.js';
import { decodeQueryComponent, encodeKey } from './key_codec.js';
import { reservedKeys } from './reserved_keys.js';

const LIST_PARAMS = new Set(['prefix', 'start-after', 'limit']);

export async function listShards(api: ShardApi, ex: Exchange, query: string): Promise<void> {
  const result = await api.list(listOptions(parseQuery(query)));
  const last = result.shards.at(-1);
  sendJson(ex, 200, {
    shards: result.shards.map((s) => ({ key: encodeKey(s.key), sizeBytes: s.sizeBytes })),
    truncated: result.truncated,
    ...(result.truncated && last !== undefined ? { nextStartAfter: encodeKey(last.key) } : {}),
  });
}

/** Query parameters by name; unknown names are ignored, a repeated known one is an error. */
export function parseQuery(query: string): Map<string, Buffer> {
  const params = new Map<string, Buffer>();
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decodeQueryComponent(eq < 0 ? part : part.slice(0, eq)).toString('latin1');
    if (!LIST_PARAMS.has(name)) continue;
    if (params.has(name)) throw new InvalidArgumentError(`query parameter ${name} given twice`);
    params.set(name, decodeQueryComponent(eq < 0 ? '' : part.slice(eq + 1)));
  }
  return params;
}

function listOptions(params: Map<string, Buffer>): ListOptions {
  const prefix = params.get('prefix');
  const startAfter = params.get('start-after');
  const limitText = params.get('limit')?.toString('latin1');
  if (limitText !== undefined && !/^[0-9]{1,9}$/.test(limitText)) {
    throw new InvalidArgumentError(`limit must be a decimal integer, got ${JSON.stringify(limitText)}`);
  }
  return nativeListOptions({
    ...(prefix !== undefined && prefix.length > 0 ? { prefix } : {}),
    ...(startAfter !== undefined && startAfter.length > 0 ? { startAfter } : {}),
    ...(limitText !== undefined ? { limit: Number(limitText) } : {}),
  });
}

/** A listing of the native key space: reserved bounds refused, and the walk starts past the reserved range. */
export function nativeListOptions(asked: ListOptions): ListOptions {
  reservedKeys.refuse(asked.prefix, 'prefix');
  reservedKeys.refuse(asked.startAfter, 'start-after');
  return { ...asked, startAfter: reservedKeys.listFloor(asked.startAfter) };
}
