// Listing: a merged, ordered walk of the commit log's overlay (staged and
// committing mutations, newest per key) and the index's ordered scan. The
// overlay wins for a key it holds; its tombstones hide index entries.
import { InvalidArgumentError } from '../base/index.js';
import type { IndexValue, LsmIndex } from '../index/index.js';
import type { StagedMutation } from './commit_log.js';
import { MAX_LIST_LIMIT } from './types.js';
import type { ListOptions, ListResult, ShardInfo } from './types.js';

const INDEX_PAGE = 256;

export function listLimit(limit: number | undefined): number {
  if (limit === undefined) return MAX_LIST_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new InvalidArgumentError(`list limit must be >= 1, got ${limit}`);
  return Math.min(limit, MAX_LIST_LIMIT);
}

/** The smallest key strictly greater than `key`. */
export function successor(key: Buffer): Buffer {
  return Buffer.concat([key, Buffer.alloc(1)]);
}

function inRange(key: Buffer, prefix: Buffer, startAfter: Buffer | undefined): boolean {
  if (prefix.length > 0 && !key.subarray(0, prefix.length).equals(prefix)) return false;
  return startAfter === undefined || Buffer.compare(key, startAfter) > 0;
}

async function* indexEntries(
  index: LsmIndex,
  prefix: Buffer,
  from: Buffer,
): AsyncGenerator<{ key: Buffer; value: IndexValue }> {
  let cursor = from;
  for (;;) {
    const page = await index.scan({ from: cursor, prefix, limit: INDEX_PAGE });
    yield* page;
    const last = page[page.length - 1];
    if (page.length < INDEX_PAGE || last === undefined) return;
    cursor = successor(last.key);
  }
}

export async function listMerged(index: LsmIndex, overlay: readonly StagedMutation[], options: ListOptions): Promise<ListResult> {
  const limit = listLimit(options.limit);
  const prefix = options.prefix ?? Buffer.alloc(0);
  const startAfter = options.startAfter;
  const from = startAfter !== undefined && Buffer.compare(startAfter, prefix) >= 0 ? successor(startAfter) : prefix;
  const ov = overlay.filter((m) => inRange(m.key, prefix, startAfter)).sort((a, b) => Buffer.compare(a.key, b.key));
  const shards: ShardInfo[] = [];
  let o = 0;
  const take = (key: Buffer, value: IndexValue | null): boolean => {
    if (value !== null) shards.push({ key, sizeBytes: value.sizeBytes });
    return shards.length > limit;
  };
  for await (const entry of indexEntries(index, prefix, from)) {
    let shadowed = false;
    for (; o < ov.length; o++) {
      const m = ov[o];
      if (m === undefined) break;
      const cmp = Buffer.compare(m.key, entry.key);
      if (cmp > 0) break;
      shadowed = cmp === 0;
      if (take(m.key, m.value)) return finish(shards, limit);
    }
    if (!shadowed && take(entry.key, entry.value)) return finish(shards, limit);
  }
  for (; o < ov.length; o++) {
    const m = ov[o];
    if (m !== undefined && take(m.key, m.value)) break;
  }
  return finish(shards, limit);
}

function finish(shards: ShardInfo[], limit: number): ListResult {
  const truncated = shards.length > limit;
  return { shards: truncated ? shards.slice(0, limit) : shards, truncated };
}
