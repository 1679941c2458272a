// tier: quick (npm run test:quick; docs/TESTING.md)
// Tests of the version set (version.ts): which runs readers may still
// touch, and when the extents of removed runs may be reset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { RunHandle } from './run_reader.js';
import { VersionSet } from './version.js';
import type { Version } from './version.js';

/** The version set reads only a handle's id. */
function handle(id: number): RunHandle {
  return { id } as unknown as RunHandle;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

type Op = { kind: 'install'; ids: number[] } | { kind: 'acquire' } | { kind: 'release'; pick: number } | { kind: 'wait'; ids: number[] };

const idsArb = fc.uniqueArray(fc.integer({ min: 0, max: 9 }), { maxLength: 4 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  idsArb.map((ids) => ({ kind: 'install' as const, ids })),
  fc.constant({ kind: 'acquire' as const }),
  fc.nat().map((pick) => ({ kind: 'release' as const, pick })),
  idsArb.map((ids) => ({ kind: 'wait' as const, ids })),
);

// Checks: against a model that keeps every version with its readers:
// retiredCount is the number of replaced versions that still have readers;
// handlesInUse holds exactly the runs of the current version and of those;
// a whenUnused promise resolves exactly when no replaced version with
// readers holds one of its runs (at once when none does), never before.
// How: random installs, acquires, releases and waits, the model after each.
test('versions retire while read, and whenUnused resolves exactly when no reader holds the runs', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { maxLength: 40 }), async (ops) => {
      const set = new VersionSet();
      const held: Version[] = [];
      const waits: Array<{ ids: Set<number>; resolved: boolean; seen: boolean; promise: Promise<void> }> = [];
      const retiredWithReaders = (): Set<Version> => new Set(held.filter((v) => v !== set.current));
      const inUse = (ids: ReadonlySet<number>): boolean => [...retiredWithReaders()].some((v) => v.runs.some((r) => ids.has(r.id)));
      for (const op of ops) {
        if (op.kind === 'install') set.install(op.ids.map(handle));
        else if (op.kind === 'acquire') held.push(set.acquire());
        else if (op.kind === 'release' && held.length > 0) set.release(held.splice(op.pick % held.length, 1)[0] ?? set.current);
        else if (op.kind === 'wait') {
          const ids = new Set(op.ids.filter((id) => !set.current.runs.some((r) => r.id === id)));
          const w = { ids, resolved: false, seen: false, promise: set.whenUnused(ids) };
          void w.promise.then(() => (w.resolved = true));
          waits.push(w);
        }
        await turn();
        assert.equal(set.retiredCount, retiredWithReaders().size);
        const expected = new Set([...set.current.runs, ...[...retiredWithReaders()].flatMap((v) => v.runs)].map((r) => r.id));
        assert.deepStrictEqual(new Set(set.handlesInUse().keys()), expected);
        for (const w of waits) if (!w.resolved) assert.equal(inUse(w.ids), true, `whenUnused(${[...w.ids].join(',')}) still waits with no reader of its runs`);
        for (const w of waits.filter((x) => x.resolved && !x.seen)) {
          assert.equal(inUse(w.ids), false, `whenUnused(${[...w.ids].join(',')}) resolved while a reader holds its runs`);
          w.seen = true;
        }
      }
      while (held.length > 0) set.release(held.pop() ?? set.current);
      await turn();
      assert.equal(set.retiredCount, 0);
      for (const w of waits) assert.ok(w.resolved, 'whenUnused did not resolve once every reader left');
    }),
    { seed: 5, numRuns: 100 },
  );
});

// Checks: a waiter does not resolve while a replaced version with readers
// holds its runs, even while another, unrelated replaced version is read
// or released; it resolves on the release of the last reader holding them.
test('whenUnused waits for the versions that hold its runs, not for others', async () => {
  const set = new VersionSet();
  set.install([handle(1)]);
  const holdsOne = set.acquire();
  set.install([handle(2)]);
  const holdsTwo = set.acquire();
  set.install([handle(3)]);
  let resolved = false;
  void set.whenUnused(new Set([1])).then(() => (resolved = true));
  let twoFree = false;
  void set.whenUnused(new Set([2])).then(() => (twoFree = true));
  await turn();
  assert.deepEqual([resolved, twoFree], [false, false]);
  set.release(holdsTwo);
  await turn();
  assert.deepEqual([resolved, twoFree], [false, true]);
  set.release(holdsOne);
  await turn();
  assert.equal(resolved, true);
  let unrelated = false;
  void set.whenUnused(new Set([7])).then(() => (unrelated = true));
  await turn();
  assert.equal(unrelated, true);
  assert.throws(() => set.whenUnused(new Set([3])), { name: 'AssertionError' });
  assert.throws(() => set.release(holdsOne), { name: 'AssertionError' });
  assert.throws(() => set.install([handle(4), handle(4)]), { name: 'AssertionError' });
});
