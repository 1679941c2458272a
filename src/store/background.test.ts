// The background policy against a fake host: when the loop reclaims under
// pressure, and what makeRoom answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { putsRefusedAtFreeExtents } from '../extent/index.js';
import { Background } from './background.js';
import type { BackgroundHost, BackgroundPolicy } from './background.js';
import { resolveStoreOptions } from './store_options.js';

const EXTENT_BYTES = 64 * 1024;

interface FakeHost extends BackgroundHost {
  /** maxLiveRatio of each reclaim call, in order. */
  readonly calls: number[];
  resetsAwaited: number;
}

/**
 * A host with `freeExtents` free extents whose data extents are all about
 * a third live (only a reclamation at the pressure ratio takes one), whose
 * reclaim frees `freed` extents per call.
 */
function fakeHost(freeExtents: number, freed: number): FakeHost {
  const host: FakeHost = {
    calls: [],
    resetsAwaited: 0,
    freeExtents,
    needsCompaction: () => false,
    hasNearlyDeadExtent: (ratio) => ratio >= 0.34,
    compact: () => Promise.resolve(),
    reclaim: (o) => {
      host.calls.push(o.maxLiveRatio);
      return Promise.resolve(o.maxLiveRatio >= 0.34 ? freed : 0);
    },
    resetsDurable: () => {
      host.resetsAwaited++;
      return Promise.resolve();
    },
  };
  return host;
}

/** The store's policy on 64 extents; its clock's pauses end when `pauses` resolves. */
function policy(reclaimBelowFreeExtents: number, background = true, pauses: Promise<void> = Promise.resolve()): BackgroundPolicy {
  const o = resolveStoreOptions({ reclaimBelowFreeExtents, background }, EXTENT_BYTES, 64);
  return { ...o, clock: { nowMs: () => 0, sleep: () => pauses } };
}

/** Kick as a put does (every KICKS_PER_LOOK-th looks) and let the loop run to its first pause; the reclaim calls made. */
async function firstReclaims(host: FakeHost, reclaimBelowFreeExtents: number): Promise<number[]> {
  let endPause = (): void => {};
  const pause = new Promise<void>((resolve) => (endPause = resolve));
  const background = new Background(host, policy(reclaimBelowFreeExtents, true, pause));
  background.kick();
  await new Promise<void>((resolve) => setImmediate(resolve));
  const stopping = background.stop();
  endPause();
  await stopping;
  return host.calls;
}

void test('on 64 extents, the loop reclaims under pressure with as many extents free as puts are refused at', async () => {
  // Checks store_options.ts's default reclaimBelowFreeExtents against
  // extent_manager.ts's putsRefusedAtFreeExtents: a disk of 64 extents
  // refuses puts at 9 free, and the loop must already reclaim at the
  // pressure ratio there. The broken variant, the old default max(reserve
  // + 2, 64 / 8) = 8, is caught by a loop that never reclaims (no extent
  // is dead enough for the idle pass).
  const defaults = resolveStoreOptions({}, EXTENT_BYTES, 64);
  const refusedAt = putsRefusedAtFreeExtents(defaults.reserveExtents);
  assert.deepEqual(await firstReclaims(fakeHost(refusedAt, 1), defaults.reclaimBelowFreeExtents), [defaults.reclaimMaxLiveRatio]);
  assert.deepEqual(await firstReclaims(fakeHost(refusedAt, 1), Math.max(defaults.reserveExtents + 2, 64 / 8)), [], 'the old threshold was not caught');
});

void test('makeRoom: true once an extent was freed and its reset is durable; false when none can be or the store is closing; with background work off too (it is the put\'s own work)', async () => {
  const freeing = fakeHost(9, 1);
  assert.equal(await new Background(freeing, policy(11)).makeRoom(), true);
  assert.deepEqual(freeing.calls, [resolveStoreOptions({}, EXTENT_BYTES, 64).reclaimMaxLiveRatio]);
  assert.equal(freeing.resetsAwaited, 1);

  const full = fakeHost(9, 0);
  assert.equal(await new Background(full, policy(11)).makeRoom(), false);
  assert.equal(full.resetsAwaited, 0);

  // Background work off (simulations that drive it by hand): a put still
  // frees its own room, or the space suite's overwrites would be refused.
  const off = fakeHost(9, 1);
  assert.equal(await new Background(off, policy(11, false)).makeRoom(), true);
  assert.equal(off.calls.length, 1);

  const stopped = new Background(fakeHost(9, 1), policy(11));
  await stopped.stop();
  assert.equal(await stopped.makeRoom(), false);
});
