// Which runs to merge next: a pure function of the run list (newest first),
// so it is easy to test and to reason about.
//
// Tiering with bounded fan-in: a flush makes a level-0 run; when a level
// holds >= fanIn runs that are free (not in another job), the oldest fanIn
// of them that sit next to each other in age are merged into one run at the
// next level, placed where they were.
//
// Invariants:
// 1. A pick is a contiguous slice [start, end) of the newest-first list:
//    merging runs that are not adjacent in age would let an older value
//    jump over a newer one (newer-wins breaks).
// 2. A pick never holds a busy run, and holds 2..fanIn runs (one run only
//    for a full compaction that drops its tombstones).
// 3. Levels do not decrease from newest to oldest when every merge takes
//    the oldest runs of a level; when they do (aborted jobs, odd manifests)
//    a fallback still merges, so the run count stays bounded.
import { assert } from '../base/index.js';
import { MAX_LEVEL } from './run_format.js';

export interface RunSlot {
  readonly level: number;
  readonly busy: boolean;
  readonly tombstones: number;
}

export interface Pick {
  /** Slice [start, end) of the newest-first run list. */
  readonly start: number;
  readonly end: number;
  readonly outputLevel: number;
}

export const MIN_FAN_IN = 2;
export const MAX_FAN_IN = 64;

function free(runs: readonly RunSlot[], i: number, level?: number): boolean {
  const r = runs[i];
  return r !== undefined && !r.busy && (level === undefined || r.level === level);
}

function maxLevel(runs: readonly RunSlot[], start: number, end: number): number {
  let level = 0;
  for (let i = start; i < end; i++) level = Math.max(level, runs[i]?.level ?? 0);
  return level;
}

/** The oldest fanIn adjacent free runs of `level`, or undefined. */
function oldestSegment(runs: readonly RunSlot[], level: number, fanIn: number): Pick | undefined {
  let i = runs.length - 1;
  while (i >= 0) {
    if (!free(runs, i, level)) {
      i--;
      continue;
    }
    let j = i;
    while (j >= 0 && free(runs, j, level)) j--;
    if (i - j >= fanIn) return { start: i + 1 - fanIn, end: i + 1, outputLevel: Math.min(MAX_LEVEL, level + 1) };
    i = j;
  }
  return undefined;
}

/** Fallback: up to fanIn adjacent free runs ending at the oldest free run of `level`. */
function windowAtOldest(runs: readonly RunSlot[], level: number, fanIn: number): Pick | undefined {
  let end = runs.length;
  while (end > 0 && !free(runs, end - 1, level)) end--;
  if (end === 0) return undefined;
  let start = end - 1;
  while (start > 0 && end - start < fanIn && free(runs, start - 1)) start--;
  if (end - start < 2) return undefined;
  return { start, end, outputLevel: Math.min(MAX_LEVEL, maxLevel(runs, start, end) + 1) };
}

/** The next tiered compaction, lowest level first, or undefined. */
export function pickTiered(runs: readonly RunSlot[], fanIn: number): Pick | undefined {
  assert(fanIn >= MIN_FAN_IN && fanIn <= MAX_FAN_IN, `fan-in ${fanIn}`);
  const counts = new Map<number, number>();
  for (const r of runs) if (!r.busy) counts.set(r.level, (counts.get(r.level) ?? 0) + 1);
  const levels = [...counts.keys()].sort((a, b) => a - b);
  for (const level of levels) {
    if ((counts.get(level) ?? 0) < fanIn) continue;
    const pick = oldestSegment(runs, level, fanIn) ?? windowAtOldest(runs, level, fanIn);
    if (pick !== undefined) return pick;
  }
  return undefined;
}

/**
 * Towards "compact everything": up to fanIn adjacent free runs ending at
 * the oldest run (so the output drops tombstones). Undefined when the oldest
 * run is busy, or when a single run is left and holds no tombstone.
 */
export function pickFull(runs: readonly RunSlot[], fanIn: number): Pick | undefined {
  assert(fanIn >= MIN_FAN_IN && fanIn <= MAX_FAN_IN, `fan-in ${fanIn}`);
  const end = runs.length;
  if (end === 0 || !free(runs, end - 1)) return undefined;
  let start = end - 1;
  while (start > 0 && end - start < fanIn && free(runs, start - 1)) start--;
  if (end - start === 1 && (runs[start]?.tombstones ?? 0) === 0) return undefined;
  return { start, end, outputLevel: maxLevel(runs, start, end) };
}
