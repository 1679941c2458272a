// The memtable: committed index mutations not yet in a run, as an in-memory
// B+ tree (O(log n) insert and lookup, ordered iteration through linked leaves).
//
// Invariants:
// 1. Keys are unique and ascending across the leaves, left to right; every
//    key in an inner node's child i is >= keys[i - 1] and < keys[i].
// 2. Leaves hold 1..LEAF_MAX entries (the root leaf may be empty), inner
//    nodes 2..INNER_MAX children.
// 3. Keys are kept as their latin1 strings (an immutable copy the memtable
//    owns); a cursor hands a key out as a new Buffer the caller owns, copyAll
//    as the string. Values are stored as given and never changed (callers must not
//    mutate them afterwards).
// 4. Nodes order keys by their latin1 string (skeys), which sorts exactly
//    as Buffer.compare does (one code unit per byte, shorter prefix first):
//    V8 compares strings 4x faster than Buffers (measured: sorting 500k
//    30-byte keys, 0.46 vs 1.8 us per key), one pointer chase instead of
//    three per comparison. Leaves keep no Buffer of the key besides: a
//    Buffer object is about a third of an entry's memory, kept until the
//    memtable is flushed and copied by every young-generation GC on the way
//    (CPU per 4 KiB put, docs/BENCHMARKS.md 2026-12-07 evening); a flush
//    makes each key's Buffer once, as its cursor passes.
// 5. `approxBytes` is the sum of the entries' encoded sizes in a run block.
// 6. A cursor is valid only while the memtable does not change (asserted):
//    the active memtable is read synchronously, a frozen one is immutable.
import { assert } from '../base/index.js';
import { encodedValueBytes, entryBytes } from './run_format.js';
import type { IndexValue } from './run_format.js';

export type MemValue = IndexValue | null;

const LEAF_MAX = 64;
const INNER_MAX = 64;

class Leaf {
  skeys: string[] = [];
  vals: MemValue[] = [];
  next: Leaf | undefined = undefined;
}

class Inner {
  constructor(
    public skeys: string[],
    public children: Node[],
  ) {}
}

type Node = Leaf | Inner;

/** First index whose key is > `key`. */
function upperBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] ?? key) <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose key is >= `key`. */
function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] ?? key) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function childAt(node: Inner, i: number): Node {
  const child = node.children[i];
  assert(child !== undefined, 'memtable: missing child');
  return child;
}

export interface MemCursor {
  /** Current key, undefined when past the end. */
  readonly key: Buffer | undefined;
  /** Current value (null: tombstone). REQUIRES: key !== undefined. */
  readonly value: MemValue;
  step(): void;
}

export class Memtable {
  private root: Node = new Leaf();
  private count = 0;
  private bytes = 0;
  private maxSeqValue = -1;
  private mutationCount = 0;
  /** The inner nodes from the root to the leaf of the insert under way, and the slot taken in each. */
  private readonly path: Inner[] = [];
  private readonly slots: number[] = [];

  get entries(): number {
    return this.count;
  }

  get approxBytes(): number {
    return this.bytes;
  }

  /** Highest sequence number applied, -1 when none. */
  get maxSeq(): number {
    return this.maxSeqValue;
  }

  get mutations(): number {
    return this.mutationCount;
  }

  /** The value (null: tombstone), or undefined when the key is not here. */
  get(key: Buffer): MemValue | undefined {
    // Empty (a store that has flushed and only reads): no key string to make.
    if (this.count === 0) return undefined;
    const skey = key.toString('latin1');
    const leaf = this.leafFor(skey);
    const i = lowerBound(leaf.skeys, skey);
    if (leaf.skeys[i] !== skey) return undefined;
    return leaf.vals[i] ?? null;
  }

  /** Insert or overwrite. REQUIRES: seq >= 0. */
  put(key: Buffer, value: MemValue, seq: number): void {
    this.insert(key, value, true);
    if (seq > this.maxSeqValue) this.maxSeqValue = seq;
  }

  /** Insert only if absent (a newer value here wins). Returns whether it was inserted. */
  putIfAbsent(key: Buffer, value: MemValue, seq: number): boolean {
    if (seq > this.maxSeqValue) this.maxSeqValue = seq;
    return this.insert(key, value, false);
  }

  /**
   * Every entry (tombstones too) in key order, copied out leaf by leaf: what
   * a cursor walk from the first key would give, at a fraction of its cost
   * (a snapshot copies the whole active memtable in one turn, and at open
   * that is every mutation replayed from the log). The keys as their latin1
   * strings: a Buffer each is made as the copy is walked (ArrayCursor), not
   * all in this one turn.
   */
  copyAll(): { skeys: string[]; values: MemValue[] } {
    const keys = new Array<string>(this.count);
    const values = new Array<MemValue>(this.count);
    let n = 0;
    for (let leaf: Leaf | undefined = this.leftmost(); leaf !== undefined; leaf = leaf.next) {
      let k = n;
      for (const skey of leaf.skeys) keys[k++] = skey;
      for (const value of leaf.vals) values[n++] = value;
    }
    assert(n === this.count, 'memtable: entry count differs from its leaves');
    return { skeys: keys, values };
  }

  /** A cursor at the first key >= from (the first key when from is undefined). */
  cursor(from: Buffer | undefined): MemCursor {
    if (from === undefined) return new LeafCursor(this, this.leftmost(), 0);
    const sfrom = from.toString('latin1');
    const leaf = this.leafFor(sfrom);
    return new LeafCursor(this, leaf, lowerBound(leaf.skeys, sfrom));
  }

  private leafFor(skey: string): Leaf {
    let node = this.root;
    while (node instanceof Inner) node = childAt(node, upperBound(node.skeys, skey));
    return node;
  }

  private leftmost(): Leaf {
    let node = this.root;
    while (node instanceof Inner) node = childAt(node, 0);
    return node;
  }

  private insert(key: Buffer, value: MemValue, overwrite: boolean): boolean {
    const skey = key.toString('latin1');
    // Reused: insert is synchronous and not reentered, and two arrays per insert were garbage of every put.
    const path = this.path;
    const slots = this.slots;
    path.length = 0;
    slots.length = 0;
    let node = this.root;
    while (node instanceof Inner) {
      const slot = upperBound(node.skeys, skey);
      path.push(node);
      slots.push(slot);
      node = childAt(node, slot);
    }
    const i = lowerBound(node.skeys, skey);
    if (node.skeys[i] === skey) {
      if (!overwrite) return false;
      const old = node.vals[i] ?? null;
      this.bytes += encodedValueBytes(value) - encodedValueBytes(old);
      node.vals[i] = value;
      this.mutationCount++;
      return true;
    }
    node.skeys.splice(i, 0, skey);
    node.vals.splice(i, 0, value);
    this.count++;
    this.bytes += entryBytes(key.length, encodedValueBytes(value));
    this.mutationCount++;
    if (node.skeys.length > LEAF_MAX) this.splitLeaf(node, path, slots);
    return true;
  }

  private splitLeaf(leaf: Leaf, path: Inner[], slots: number[]): void {
    const half = leaf.skeys.length >>> 1;
    const right = new Leaf();
    right.skeys = leaf.skeys.splice(half);
    right.vals = leaf.vals.splice(half);
    right.next = leaf.next;
    leaf.next = right;
    const sep = right.skeys[0];
    assert(sep !== undefined, 'memtable: empty split');
    this.promote(sep, right, path, slots);
  }

  /** Insert separator `sep` with `right` after the path's last child; split upwards as needed. */
  private promote(sep: string, right: Node, path: Inner[], slots: number[]): void {
    for (;;) {
      const parent = path.pop();
      const slot = slots.pop();
      if (parent === undefined || slot === undefined) {
        this.root = new Inner([sep], [this.root, right]);
        return;
      }
      parent.skeys.splice(slot, 0, sep);
      parent.children.splice(slot + 1, 0, right);
      if (parent.children.length <= INNER_MAX) return;
      const mid = parent.skeys.length >>> 1;
      const up = parent.skeys[mid];
      assert(up !== undefined, 'memtable: empty inner split');
      const sibling = new Inner(parent.skeys.splice(mid + 1), parent.children.splice(mid + 1));
      parent.skeys.pop();
      assert(parent.skeys.length + 1 === parent.children.length, 'memtable: inner shape');
      sep = up;
      right = sibling;
    }
  }
}

class LeafCursor implements MemCursor {
  private readonly mutationsAtStart: number;
  /** The key at the cursor, made once per position (undefined past the end). */
  private current: Buffer | undefined;

  constructor(
    private readonly table: Memtable,
    private leaf: Leaf | undefined,
    private i: number,
  ) {
    this.mutationsAtStart = table.mutations;
    this.skipExhausted();
  }

  get key(): Buffer | undefined {
    return this.current;
  }

  get value(): MemValue {
    return this.leaf?.vals[this.i] ?? null;
  }

  step(): void {
    assert(this.table.mutations === this.mutationsAtStart, 'memtable changed under a cursor');
    if (this.leaf === undefined) return;
    this.i++;
    this.skipExhausted();
  }

  private skipExhausted(): void {
    while (this.leaf !== undefined && this.i >= this.leaf.skeys.length) {
      this.leaf = this.leaf.next;
      this.i = 0;
    }
    const skey = this.leaf?.skeys[this.i];
    this.current = skey === undefined ? undefined : Buffer.from(skey, 'latin1');
  }
}
