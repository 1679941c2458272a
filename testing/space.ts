// The space check: the crash alphabet on a disk small enough that a
// sequence of overwrites fills it several times over, so every put past
// the first fill needs reclamation to make room (Background.makeRoom,
// with background work off: the put's own work), and crashes land while
// it does.
//
// Why: the conformance and crash configurations (SMALL_CONFIG, 1,024
// extents) never fill within 80 operations, and the disk-full tests fill
// with fresh keys, where NoSpace is right. So no check saw puts refused
// while most of the disk was dead (found by the bench's churn cell;
// docs/TESTING.md, "Why no suite found the refused puts").
//
// Strategy: SPACE_CONFIG is 24 extents of 64 KiB. Puts weigh most, their
// values span one to three chunks. Three sequences in four overwrite:
// keys from the pool of ten, now and then a fresh one. One in four fills:
// fresh keys three puts in four, and more deletes, so the live data
// passes the bound below and puts are refused for space, rightly, then
// deletes give room back. Everything else is the crash harness
// (testing/crash.ts): the model compared at each step, dirty reboots with
// work in flight, clean reboots, background steps.
//
// Invariant 9 (crash.ts, SpaceRule): with no fault injected, a put is
// refused NoSpace only if the live data after it would be more than
// REFUSAL_ABOVE_LIVE_BYTES, a quarter of the disk (384 KiB). A bound, not
// the engine's limit: puts stop where only the prepared reserve is free
// (extent_manager.ts, putsRefusedAtFreeExtents), and reclamation takes
// any extent at most 80% live, so with a quarter of the disk live some
// data extent is always below that. Measured: in two filling sequences
// where the engine refused puts, the live values peaked at 691 and 693 KiB.
// Invariants 1-8 hold as in the crash suite.
import fc from 'fast-check';
import { SMALL_CONFIG } from './conformance.js';
import type { EngineConfig } from './conformance.js';
import { runCrashSequence } from './crash.js';
import type { CrashCounters } from './crash.js';
import type { ConformanceFailure } from './sequences.js';
import { KEY_POOL, dirtyRebootArb, opArb } from './ops.js';
import type { AlphabetWeights, Op } from './ops.js';

export const SPACE_CONFIG: EngineConfig = { ...SMALL_CONFIG, diskSizeBytes: 24 * SMALL_CONFIG.extentSizeBytes };

/** Invariant 9's bound: a quarter of the disk. */
export const REFUSAL_ABOVE_LIVE_BYTES = SPACE_CONFIG.diskSizeBytes / 4;

/** Sequences this long write about three disks' worth (puts average 9 KB). */
export const SPACE_SEQUENCE = { minLength: 150, maxLength: 260 } as const;

/** Pool keys (overwrites) 15 in 16, a fresh key (live data grows) 1 in 16, among 40 fresh ones. */
const spaceKeyArb = fc.oneof(
  { weight: 15, arbitrary: fc.integer({ min: 0, max: KEY_POOL.length - 1 }) },
  { weight: 1, arbitrary: fc.integer({ min: KEY_POOL.length, max: KEY_POOL.length + 39 }) },
);

/**
 * The filling mode's keys: fresh ones half the time, among 200, so the
 * live data passes invariant 9's bound and puts are refused for space
 * (rightly), then deletes give room back. What this reaches that the
 * overwrites do not: refused puts (streamed ones leave written chunks as
 * garbage), crashes and recovery on a disk with no room to spare.
 */
const fillingKeyArb = fc.oneof(
  { weight: 1, arbitrary: fc.integer({ min: 0, max: KEY_POOL.length - 1 }) },
  { weight: 3, arbitrary: fc.integer({ min: KEY_POOL.length, max: KEY_POOL.length + 199 }) },
);

/** One to three chunks, around the chunk boundaries, and now and then a small value. */
function spaceSizeArb(c: EngineConfig): fc.Arbitrary<number> {
  const chunk = c.maxChunkDataBytes;
  return fc.oneof(
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 64 }) },
    { weight: 2, arbitrary: fc.integer({ min: chunk - 2, max: chunk + 2 }) },
    { weight: 4, arbitrary: fc.integer({ min: chunk, max: 3 * chunk }) },
  );
}

/** The conformance alphabet's weights with puts weighing most. */
const SPACE_WEIGHTS: AlphabetWeights = { put: 24, read: 4, delete: 2, list: 1, background: 2, reboot: 1 };
/** The filling mode's: more deletes, so room comes back after refusals. */
const FILLING_WEIGHTS: AlphabetWeights = { put: 20, read: 4, delete: 3, list: 1, background: 2, reboot: 1 };

export function spaceOpArb(c: EngineConfig, mode: 'overwrites' | 'filling' = 'overwrites'): fc.Arbitrary<Op> {
  const ops = mode === 'overwrites' ? opArb(c, SPACE_WEIGHTS, { key: spaceKeyArb, size: spaceSizeArb(c) }) : opArb(c, FILLING_WEIGHTS, { key: fillingKeyArb, size: spaceSizeArb(c) });
  return fc.oneof({ weight: 34, arbitrary: ops }, { weight: 2, arbitrary: dirtyRebootArb });
}

/**
 * Shrinking tries at most this many smaller sequences. A sequence here is
 * 150-260 operations with crashes, 40-100 ms each: unbounded, shrinking one
 * ran past the seed timeout of a two-minute check run (`--mutant
 * reclaim-ignores-writers`, seed 33: found in 1.2 s, still shrinking at
 * 30 s). Deterministic (a count, not a time), so a token replays the same
 * shrunk sequence.
 */
export const SPACE_SHRINK_LIMIT = 120;

export function spaceSequenceArb(c: EngineConfig = SPACE_CONFIG): fc.Arbitrary<Op[]> {
  // Three sequences in four overwrite; one in four fills the disk with live data.
  const sequence = fc.oneof(
    { weight: 3, arbitrary: fc.array(spaceOpArb(c, 'overwrites'), { ...SPACE_SEQUENCE, size: 'max' }) },
    { weight: 1, arbitrary: fc.array(spaceOpArb(c, 'filling'), { ...SPACE_SEQUENCE, size: 'max' }) },
  );
  return fc.limitShrink(sequence, SPACE_SHRINK_LIMIT);
}

/** Run one sequence under invariant 9; returns the failure, if any. */
export function runSpaceSequence(ops: readonly Op[], seed: number, counters?: CrashCounters): Promise<ConformanceFailure | undefined> {
  return runCrashSequence(ops, SPACE_CONFIG, seed, counters, { refusalAboveLiveBytes: REFUSAL_ABOVE_LIVE_BYTES });
}
