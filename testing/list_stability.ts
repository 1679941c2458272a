// Listing stability under concurrent puts and deletes: a paginated listing
// (each page starts after the last key of the one before) of a node of
// NODE_DISKS simulated disks, while other keys are put and deleted between
// pages and during each page's call, and background work (commit, index
// flush, compaction, reclamation) moves entries between the memtable, runs
// and extents.
//
// Strategy: keys are split into three sets: `stable` keys are present for
// the whole listing and never touched; `absent` keys are never present;
// `churn` keys are put and deleted throughout (and overwritten with other
// sizes). fast-check picks the key sets, the page size and the schedule of
// mutations.
//
// Invariants (of the concatenated pages):
// 1. Every stable key is returned exactly once.
// 2. No absent key is returned.
// 3. Keys come in strictly ascending order across pages.
import fc from 'fast-check';
import { checkSequences } from './sequences.js';
import type { CheckOptions } from './sequences.js';
import { NotFoundError } from '../src/base/index.js';
import type { Dependency } from '../src/dependency/index.js';
import { SMALL_CONFIG } from './conformance.js';
import { valueOf } from './ops.js';
import { SimNode } from './sim_node.js';

const KEY_SPACE = 160;

function keyAt(i: number): Buffer {
  // Shared prefixes and varied lengths, so keys of both disks interleave.
  return Buffer.from(`${String.fromCharCode(97 + (i % 5))}/${i % 3 === 0 ? 'x/' : ''}${i}`);
}

export interface ListingCase {
  readonly stable: readonly number[];
  readonly churn: readonly number[];
  readonly pageLimit: number;
  /** Per page: mutations between pages and during the page's call (indexes into churn), and background work. */
  readonly schedule: ReadonlyArray<{ readonly between: readonly number[]; readonly during: readonly number[]; readonly background: number }>;
}

export const listingCaseArb: fc.Arbitrary<ListingCase> = fc
  .record({
    roles: fc.array(fc.constantFrom('stable', 'absent', 'churn'), { minLength: KEY_SPACE, maxLength: KEY_SPACE }),
    pageLimit: fc.integer({ min: 1, max: 12 }),
    schedule: fc.array(
      fc.record({ between: fc.array(fc.nat({ max: 200 }), { maxLength: 6 }), during: fc.array(fc.nat({ max: 200 }), { maxLength: 4 }), background: fc.nat({ max: 6 }) }),
      { minLength: 1, maxLength: 60 },
    ),
  })
  .map(({ roles, pageLimit, schedule }) => ({
    stable: roles.flatMap((r, i) => (r === 'stable' ? [i] : [])),
    churn: roles.flatMap((r, i) => (r === 'churn' ? [i] : [])),
    pageLimit,
    schedule,
  }));

class Churn {
  private readonly present = new Set<number>();
  private flips = 0;

  constructor(
    private readonly sim: SimNode,
    private readonly keys: readonly number[],
  ) {}

  /** Put or delete churn key #pick (alternating), another size each time. */
  async toggle(pick: number): Promise<Dependency | undefined> {
    const i = this.keys[pick % Math.max(1, this.keys.length)];
    if (i === undefined) return undefined;
    const key = keyAt(i);
    this.flips++;
    if (this.present.has(i) && this.flips % 3 !== 0) {
      this.present.delete(i);
      try {
        return await this.sim.node.delete(key);
      } catch (err: unknown) {
        // A racing put of the same key had not been staged yet: nothing to delete.
        if (err instanceof NotFoundError) return undefined;
        throw err;
      }
    }
    this.present.add(i);
    return this.sim.node.put(key, valueOf((this.flips * 997) % 9000, i));
  }
}

async function background(sim: SimNode, kind: number): Promise<void> {
  if (kind === 1) await sim.drain();
  else if (kind === 2) await sim.node.flush();
  else if (kind === 3) await sim.node.compact();
  else if (kind === 4) await sim.node.reclaim({ maxExtents: 2, maxLiveRatio: 1 });
}

/** Run one case; returns what went wrong, or undefined. */
export async function runListingCase(c: ListingCase, seed: number): Promise<string | undefined> {
  const sim = await SimNode.create(SMALL_CONFIG, seed);
  try {
    for (const i of c.stable) await sim.node.put(keyAt(i), valueOf(i % 50, i));
    const churn = new Churn(sim, c.churn);
    for (const p of c.churn.slice(0, c.churn.length / 2)) await churn.toggle(c.churn.indexOf(p));
    await sim.node.flush();
    const seen = await paginate(sim, churn, c);
    return judge(c, seen);
  } finally {
    await sim.node.close();
  }
}

async function paginate(sim: SimNode, churn: Churn, c: ListingCase): Promise<Buffer[]> {
  const seen: Buffer[] = [];
  let cursor: Buffer | undefined;
  for (let page = 0; page < 10_000; page++) {
    const step = c.schedule[page % c.schedule.length];
    for (const pick of step?.between ?? []) await churn.toggle(pick);
    await background(sim, step?.background ?? 0);
    // Mutations racing the page's call: started before it, awaited after.
    const racing = (step?.during ?? []).map((pick) => churn.toggle(pick));
    const result = await sim.node.list({ limit: c.pageLimit, ...(cursor === undefined ? {} : { startAfter: cursor }) });
    await Promise.all(racing);
    seen.push(...result.shards.map((s) => s.key));
    const last = result.shards.at(-1);
    if (!result.truncated || last === undefined) return seen;
    cursor = last.key;
  }
  throw new Error('listing did not end');
}

function judge(c: ListingCase, seen: readonly Buffer[]): string | undefined {
  for (let i = 1; i < seen.length; i++) {
    const [a, b] = [seen[i - 1], seen[i]];
    if (a !== undefined && b !== undefined && Buffer.compare(a, b) >= 0) return `keys out of order or repeated: ${a.toString()} then ${b.toString()}`;
  }
  const counts = new Map<string, number>();
  for (const k of seen) counts.set(k.toString('latin1'), (counts.get(k.toString('latin1')) ?? 0) + 1);
  for (const i of c.stable) {
    const n = counts.get(keyAt(i).toString('latin1')) ?? 0;
    if (n !== 1) return `key ${keyAt(i).toString()}, present throughout, returned ${n} times (pages of ${c.pageLimit})`;
  }
  const roles = new Set([...c.stable, ...c.churn]);
  for (let i = 0; i < KEY_SPACE; i++) {
    if (!roles.has(i) && counts.has(keyAt(i).toString('latin1'))) return `key ${keyAt(i).toString()}, absent throughout, was returned`;
  }
  return undefined;
}

export function checkListingStability(options: CheckOptions): Promise<fc.RunDetails<[ListingCase]>> {
  return checkSequences(
    listingCaseArb,
    async (c) => {
      const failure = await runListingCase(c, options.seed);
      return failure === undefined ? undefined : new Error(failure);
    },
    options,
  );
}
