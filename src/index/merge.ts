// Merged iteration over the memtables and runs. Sources are ordered newest
// first; on equal keys the newest source wins and the others are skipped.
//
// Invariants:
// 1. Keys come out strictly ascending, each once, with the newest source's value.
// 2. A run is read block by block as the merge reaches it: a scan with a
//    small limit reads a few blocks, not whole runs.
// 3. The merge loop awaits only when a source must read its next block.
import { assert } from '../base/index.js';
import { compareKeys, hasPrefix } from './keys.js';
import type { MemCursor, MemValue } from './memtable.js';
import type { BlockView, ChunkVisitor, IndexValue } from './run_format.js';
import { visitIndexValue } from './run_format.js';
import { findBlock } from './run_reader.js';
import type { RunHandle } from './run_reader.js';

export interface Cursor {
  /** Current key; undefined when exhausted. */
  readonly key: Buffer | undefined;
  isTombstone(): boolean;
  value(): MemValue;
  /** The current value to `visitor` (nothing for a tombstone), without allocating where the source allows. */
  visitValue(visitor: ChunkVisitor): void;
  /** Move to the next entry; returns a promise when that entry must be read first. */
  advance(): Promise<void> | undefined;
}

export interface ScanEntry {
  readonly key: Buffer;
  readonly value: IndexValue;
}

/** Entries copied out of a memtable (the active one changes while a scan awaits). */
export class ArrayCursor implements Cursor {
  private i = 0;
  /** The key at the cursor: a key given as a latin1 string (Memtable.copyAll) becomes a Buffer once, when the cursor reaches it. */
  private current: Buffer | undefined;

  constructor(
    private readonly keys: readonly Buffer[] | readonly string[],
    private readonly values: readonly MemValue[],
  ) {
    assert(keys.length === values.length, 'array cursor: keys and values differ in length');
    this.current = this.keyAt(0);
  }

  get key(): Buffer | undefined {
    return this.current;
  }

  private keyAt(i: number): Buffer | undefined {
    const k = this.keys[i];
    return typeof k === 'string' ? Buffer.from(k, 'latin1') : k;
  }

  isTombstone(): boolean {
    return this.values[this.i] === null;
  }

  value(): MemValue {
    return this.values[this.i] ?? null;
  }

  visitValue(visitor: ChunkVisitor): void {
    const v = this.values[this.i];
    if (v !== null && v !== undefined) visitIndexValue(v, visitor);
  }

  advance(): undefined {
    this.i++;
    this.current = this.keyAt(this.i);
    return undefined;
  }
}

/**
 * Copy the entries of `c` that a scan for `limit` live entries can need:
 * every entry (tombstones too) up to and including the limit-th live one.
 * Any later memtable key sorts after `limit` live keys the merge emits first.
 */
export function copyForScan(c: MemCursor, prefix: Buffer | undefined, limit: number): ArrayCursor {
  const keys: Buffer[] = [];
  const values: MemValue[] = [];
  let live = 0;
  for (let key = c.key; key !== undefined && live < limit; c.step(), key = c.key) {
    if (prefix !== undefined && !hasPrefix(key, prefix)) break;
    const value = c.value;
    keys.push(key);
    values.push(value);
    if (value !== null) live++;
  }
  return new ArrayCursor(keys, values);
}

/** A frozen (immutable) memtable, iterated in place. */
export class MemtableCursor implements Cursor {
  constructor(private readonly c: MemCursor) {}

  get key(): Buffer | undefined {
    return this.c.key;
  }

  isTombstone(): boolean {
    return this.c.value === null;
  }

  value(): MemValue {
    return this.c.value;
  }

  visitValue(visitor: ChunkVisitor): void {
    const v = this.c.value;
    if (v !== null) visitIndexValue(v, visitor);
  }

  advance(): undefined {
    this.c.step();
    return undefined;
  }
}

export class RunCursor implements Cursor {
  key: Buffer | undefined = undefined;
  private block: BlockView | undefined;
  private blockIndex = 0;
  private i = 0;

  /** `fillCache` false for compaction: a full pass would evict every block readers use. */
  constructor(
    private readonly run: RunHandle,
    private readonly fillCache: boolean,
  ) {}

  /** Position at the first key >= start (the first key when undefined). */
  async seek(start: Buffer | undefined): Promise<void> {
    const { body } = await this.run.index();
    const bi = start === undefined ? 0 : findBlock(body, start);
    await this.load(bi);
    const b = this.block;
    if (start === undefined || b === undefined) return;
    this.i = b.lowerBound(start);
    if (this.i < b.count) this.key = b.key(this.i);
    else await this.load(bi + 1);
  }

  private async load(bi: number): Promise<void> {
    const { body } = await this.run.index();
    this.key = undefined;
    this.block = undefined;
    if (bi >= body.blocks.length) return;
    // A cursor reads every entry of the block: check them all (once per cached block).
    const b = (await this.run.block(bi, this.fillCache)).checkAll();
    this.block = b;
    this.blockIndex = bi;
    this.i = 0;
    this.key = b.key(0);
  }

  private current(): BlockView {
    assert(this.block !== undefined && this.key !== undefined, 'run cursor read past its end');
    return this.block;
  }

  isTombstone(): boolean {
    return this.current().isTombstone(this.i);
  }

  value(): MemValue {
    return this.current().value(this.i);
  }

  visitValue(visitor: ChunkVisitor): void {
    this.current().visitValue(this.i, visitor);
  }

  /** The value as encoded in the block (compaction copies it unchanged). */
  rawValue(): Buffer {
    return this.current().rawValue(this.i);
  }

  advance(): Promise<void> | undefined {
    const b = this.block;
    if (b === undefined) return undefined;
    this.i++;
    if (this.i < b.count) {
      this.key = b.key(this.i);
      return undefined;
    }
    return this.load(this.blockIndex + 1);
  }
}

/**
 * The source holding the smallest key, the newest (lowest index) on ties;
 * -1 when all are exhausted. `out.bound` is set to the smallest key of the
 * other sources (undefined when none has one).
 */
function pickMin(sources: readonly Cursor[], out: { bound: Buffer | undefined }): number {
  let best = -1;
  let bestKey: Buffer | undefined;
  let bound: Buffer | undefined;
  for (let s = 0; s < sources.length; s++) {
    const k = sources[s]?.key;
    if (k === undefined) continue;
    if (bestKey === undefined || compareKeys(k, bestKey) < 0) {
      bound = bestKey;
      best = s;
      bestKey = k;
    } else if (bound === undefined || compareKeys(k, bound) < 0) {
      bound = k;
    }
  }
  out.bound = bound;
  return best;
}

/** Advance every source positioned at `key`; reads happen in parallel. */
function advancePast(sources: readonly Cursor[], key: Buffer): Promise<void> | undefined {
  let pending: Array<Promise<void>> | undefined;
  for (const s of sources) {
    const k = s.key;
    if (k === undefined || compareKeys(k, key) !== 0) continue;
    const p = s.advance();
    if (p !== undefined) (pending ??= []).push(p);
  }
  if (pending === undefined) return undefined;
  return Promise.all(pending).then(() => undefined);
}

/**
 * Hand each winning entry, in key order, to `take`, which returns how much
 * of `budget` it used; stop when the budget is used, the sources are
 * exhausted, or a key lacks the prefix. Resolves true in the last two
 * cases (nothing more to merge). The sources stay positioned after the
 * last entry taken, so a later call goes on from there.
 *
 * Runs of one source: while the winner's keys stay below every other
 * source's smallest key (`bound`), no other source can hold them, so only
 * the winner moves, at one comparison per entry instead of two per source
 * (sources with disjoint key ranges, as flushes of keys written in order
 * give, merge at the cost of a copy). A key equal to or past the bound
 * goes back to pickMin, which settles ties for the newest source.
 */
async function mergeWinners<C extends Cursor>(
  sources: readonly C[],
  prefix: Buffer | undefined,
  budget: number,
  take: (source: C, key: Buffer) => number,
): Promise<boolean> {
  const picked: { bound: Buffer | undefined } = { bound: undefined };
  let used = 0;
  while (used < budget) {
    const s = sources[pickMin(sources, picked)];
    if (s === undefined) return true;
    const bound = picked.bound;
    for (let first = true; ; first = false) {
      const key = s.key;
      if (key === undefined) break;
      const order = bound === undefined ? -1 : compareKeys(key, bound);
      // Past the first entry, an equal or larger key than the bound is another source's turn.
      if (!first && order >= 0) break;
      if (prefix !== undefined && !hasPrefix(key, prefix)) return true;
      used += take(s, key);
      // Below the bound only this source holds the key; at it (first entry only), others may too.
      const p = order < 0 ? s.advance() : advancePast(sources, key);
      if (p !== undefined) await p;
      if (order >= 0 || used >= budget) break;
    }
  }
  return false;
}

/** Up to `limit` live entries with the prefix, ascending. REQUIRES: sources positioned at the scan's start. */
export async function mergeLive(sources: readonly Cursor[], prefix: Buffer | undefined, limit: number): Promise<ScanEntry[]> {
  const out: ScanEntry[] = [];
  await mergeWinners(sources, prefix, limit, (s, key) => {
    const value = s.value();
    if (value === null) return 0;
    out.push({ key, value });
    return 1;
  });
  return out;
}

/**
 * The values of the next `entries` winning entries (tombstones count, so
 * a page of work is bounded) to `visitor`. Resolves true once the sources
 * are exhausted. REQUIRES: sources positioned where the walk goes on.
 */
export function mergeVisit(sources: readonly Cursor[], entries: number, visitor: ChunkVisitor): Promise<boolean> {
  return mergeWinners(sources, undefined, entries, (s) => {
    s.visitValue(visitor);
    return 1;
  });
}

/** Every winning entry of the runs, in order, to `sink`; tombstones too unless dropped. */
export async function mergeRuns(
  cursors: readonly RunCursor[],
  dropTombstones: boolean,
  sink: (key: Buffer, raw: Buffer) => void,
): Promise<void> {
  await mergeWinners(cursors, undefined, 1, (c, key) => {
    if (!dropTombstones || !c.isTombstone()) sink(key, c.rawValue());
    return 0;
  });
}
