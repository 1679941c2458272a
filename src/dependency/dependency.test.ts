// tier: quick (npm run test:quick; docs/TESTING.md)
// Checks the Dependency algebra and Latch: `and`/`all` are persistent
// exactly when every part is, fail as soon as one part fails, drop durable
// tickets; `persisted()` resolves or rejects accordingly; onSettled fires
// once; a ticket settles once. A fast-check model (fixed seed) compares
// random and-trees over random ticket outcomes with a direct evaluation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AssertionError, HostNoSpaceError, IoError, NoSpaceError } from '../base/index.js';
import { Dependency, Latch, Ticket, ioFailure } from './dependency.js';

void test('none is persistent; a pending ticket is not until durable', async () => {
  assert.ok(Dependency.none.isPersistent());
  assert.equal(Dependency.none.failure(), undefined);
  await Dependency.none.persisted();
  const t = new Ticket('t');
  const d = Dependency.of(t);
  assert.equal(d.isPersistent(), false);
  t.markDurable();
  assert.ok(d.isPersistent());
  assert.equal(Dependency.of(t), Dependency.none); // a durable ticket adds nothing
  assert.throws(() => t.markDurable(), AssertionError);
  t.markFailed(new Error('late')); // ignored: already settled
  assert.equal(t.state, 'durable');
});

void test('and: persistent when both are; failure wins; durable tickets dropped', async () => {
  const a = new Latch('a');
  const b = new Latch('b');
  const ab = a.dependency.and(b.dependency);
  assert.equal(ab.isPersistent(), false);
  const settled = ab.persisted();
  a.resolve();
  assert.equal(ab.isPersistent(), false);
  b.resolve();
  assert.ok(ab.isPersistent());
  await settled;
  assert.equal(a.dependency.and(b.dependency), Dependency.none);

  const c = new Latch('c');
  const d = new Latch('d');
  const cd = Dependency.all([c.dependency, d.dependency, Dependency.none]);
  const failed = cd.persisted();
  const err = new IoError('disk gone');
  d.reject(err);
  // Rejects at once, without waiting for c.
  await assert.rejects(failed, (e) => e === err);
  assert.equal(cd.failure(), err);
  assert.equal(cd.isPersistent(), false);
  c.resolve();
  assert.equal(cd.failure(), err);
});

void test('failed(): a dependency that fails at once', async () => {
  const err = new Error('queue closed');
  const f = Dependency.failed(err);
  assert.equal(f.failure(), err);
  await assert.rejects(f.persisted(), (e) => e === err);
  assert.equal(f.and(Dependency.none).failure(), err);
  assert.equal(Dependency.none.and(f).failure(), err);
});

void test('onSettled fires exactly once, even when several tickets settle', () => {
  const latches = [new Latch('x'), new Latch('y'), new Latch('z')];
  const dep = Dependency.all(latches.map((l) => l.dependency));
  let calls = 0;
  dep.onSettled(() => calls++);
  latches[0]?.reject(new Error('x'));
  latches[1]?.reject(new Error('y'));
  latches[2]?.resolve();
  assert.equal(calls, 1);
  let late = 0;
  dep.onSettled(() => late++);
  assert.equal(late, 1); // already settled: called at once
});

void test('onSettled registered after one part failed fires at once, without waiting for the parts still pending', async () => {
  // Why: a writer waiting on a dependency whose data write failed must
  // hear of it now, not when (or if) the other parts settle. How: one part
  // rejected, one left pending; onSettled and persisted() registered only
  // then.
  const failedPart = new Latch('failed');
  const pendingPart = new Latch('pending');
  const dep = failedPart.dependency.and(pendingPart.dependency);
  const err = new IoError('write failed');
  failedPart.reject(err);
  let calls = 0;
  dep.onSettled(() => calls++);
  assert.equal(calls, 1, 'called at once');
  await assert.rejects(dep.persisted(), (e) => e === err);
  pendingPart.resolve();
  assert.equal(calls, 1, 'and only once');
});

void test('onAllSettled waits for every part, failed or durable, and fires once; with nothing pending, at once', () => {
  // Why: the commit log writes a record naming only data known good once
  // every data write of the cycle is durable or failed (commit_log.ts
  // whenLanded), so it must not fire at the first failure, as onSettled
  // does. How: three parts settled one by one (a failure first); then a
  // dependency with nothing pending.
  const parts = [new Latch('p0'), new Latch('p1'), new Latch('p2')];
  const dep = Dependency.all(parts.map((l) => l.dependency));
  let calls = 0;
  dep.onAllSettled(() => calls++);
  parts[0]?.reject(new IoError('p0 failed'));
  assert.equal(calls, 0, 'not at the first failure');
  parts[1]?.resolve();
  assert.equal(calls, 0, 'not while one part is pending');
  parts[2]?.resolve();
  assert.equal(calls, 1, 'once all have settled');
  let late = 0;
  dep.onAllSettled(() => late++);
  assert.equal(late, 1, 'nothing pending: at once');
  let none = 0;
  Dependency.none.onAllSettled(() => none++);
  assert.equal(none, 1);
});

void test('Latch.follow: settles like the dependency it follows', async () => {
  const src = new Latch('src');
  const follower = new Latch('follower');
  follower.follow(src.dependency);
  assert.equal(follower.dependency.isPersistent(), false);
  src.resolve();
  assert.ok(follower.dependency.isPersistent());

  const bad = new Latch('bad');
  const f2 = new Latch('f2');
  f2.follow(bad.dependency);
  bad.reject(new IoError('x'));
  await assert.rejects(f2.dependency.persisted(), IoError);
});

void test('ioFailure maps a full host (ENOSPC, EDQUOT as Node raises them) to HostNoSpaceError, code NoSpace', () => {
  for (const code of ['ENOSPC', 'EDQUOT']) {
    const err = Object.assign(new Error(`${code}: no space left on device, write`), { code, errno: -28, syscall: 'write' });
    const mapped = ioFailure('write batch', err);
    assert.ok(mapped instanceof HostNoSpaceError, code);
    assert.equal(mapped.code, 'NoSpace');
    assert.equal(mapped.cause, err);
    assert.match(mapped.message, /write batch: host file system full/);
  }
  const store = new NoSpaceError('no free extent');
  assert.equal(ioFailure('ctx', store), store);
  assert.ok(ioFailure('x', Object.assign(new Error('EIO'), { code: 'EIO' })) instanceof IoError);
});

void test('ioFailure keeps IoError and wraps anything else with context', () => {
  const io = new IoError('already');
  assert.equal(ioFailure('ctx', io), io);
  const wrapped = ioFailure('write batch', new Error('EIO'));
  assert.ok(wrapped instanceof IoError);
  assert.match(wrapped.message, /write batch: EIO/);
  assert.ok(ioFailure('x', 'string') instanceof IoError);
});

type Tree = { leaf: number } | { and: [Tree, Tree] };
const treeArb = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ leaf: fc.nat(5) }),
    fc.record({ and: fc.tuple(tie('tree'), tie('tree')) }),
  ),
})).tree;

function leaves(t: Tree): number[] {
  return 'leaf' in t ? [t.leaf] : [...leaves(t.and[0]), ...leaves(t.and[1])];
}

function build(t: Tree, latches: readonly Latch[]): Dependency {
  if ('leaf' in t) return latches[t.leaf]?.dependency ?? Dependency.none;
  return build(t.and[0], latches).and(build(t.and[1], latches));
}

void test('model: an and-tree is persistent iff all its leaves are, failed iff one is', () => {
  // Settle leaves one by one, in a random order and outcome, building the
  // tree partway through (so `and` sees a mix of durable and pending tickets).
  fc.assert(
    fc.property(treeArb, fc.array(fc.tuple(fc.nat(5), fc.boolean()), { maxLength: 8 }), fc.nat(8), (tree, steps, buildAt) => {
      const latches = Array.from({ length: 6 }, (_, i) => new Latch(`l${i}`));
      const state: Array<'pending' | 'durable' | 'failed'> = latches.map(() => 'pending');
      let dep: Dependency | undefined;
      let fired = 0;
      steps.forEach(([i, ok], k) => {
        if (k === buildAt) {
          dep = build(tree, latches);
          dep.onSettled(() => fired++);
        }
        if (state[i] !== 'pending') return;
        const latch = latches[i];
        if (latch === undefined) return;
        state[i] = ok ? 'durable' : 'failed';
        if (ok) latch.resolve();
        else latch.reject(new Error(`l${i}`));
      });
      const watched = dep !== undefined;
      dep ??= build(tree, latches);
      const used = leaves(tree).map((i) => state[i]);
      const persistent = used.every((s) => s === 'durable');
      const failed = used.includes('failed');
      assert.equal(dep.isPersistent(), persistent);
      assert.equal(dep.failure() !== undefined, failed);
      assert.equal(fired, watched && (persistent || failed) ? 1 : 0);
    }),
    { seed: 0xdeb0, numRuns: 400 },
  );
});
