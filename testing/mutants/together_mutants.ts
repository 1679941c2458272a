// Broken variants of puts committed together (CommitLog.stageTogether,
// src/store/commit_log.ts; the S3 front's one-step PUT rests on it). Each
// is caught by the crash check, whose dirty reboots leave a putTogether in
// flight (testing/crash.ts, `during: 'putTogether'`): a group split over two
// cycles comes back in part (invariant 2), and a group acknowledged before
// its cycle is durable is lost although its Dependency said persistent
// (invariant 1).
import { Dependency, Latch } from '../../src/dependency/index.js';
import { CommitLog } from '../../src/store/commit_log.js';
import type { StagedMutation } from '../../src/store/commit_log.js';
import { patch } from './mutant.js';
import type { Mutant } from './mutant.js';

/**
 * The group is split: the first put is staged now, the others once the
 * first is durable (the old two-step S3 PUT turned around), so a crash
 * between the two cycles keeps one without the other.
 */
export const togetherSplit: Mutant = {
  name: 'together-split',
  bugClass: 'puts meant to commit together go in two commit cycles (a record durable without the data it names)',
  caughtBy: 'crash',
  expect: /after reboot: puts committed together came back in part: 746f67657468\S* (new|not new), 746f67657468\S* (new|not new)/,
  install: () =>
    patch(CommitLog.prototype, 'stageTogether', () =>
      function (this: CommitLog, mutations: readonly StagedMutation[]): Dependency {
        const [first, ...rest] = mutations;
        if (first === undefined) return Dependency.none;
        const head = this.stage(first.key.toString('latin1'), first);
        const tail = new Latch('split tail');
        head.persisted().then(
          () => tail.follow(Dependency.all(rest.map((m) => this.stage(m.key.toString('latin1'), m)))),
          (err: unknown) => tail.reject(err instanceof Error ? err : new Error(String(err))),
        );
        return head.and(tail.dependency);
      },
    ),
};

/** The group's Dependency is persistent as soon as it is staged: acknowledged before its cycle is durable. */
export const togetherAckedEarly: Mutant = {
  name: 'together-acked-early',
  bugClass: 'puts committed together acknowledged before their commit cycle is durable',
  caughtBy: 'crash',
  // The group's keys start with "togeth" (746f67657468): a put of the group lost, where its Dependency allowed only its value.
  expect: /after reboot: key 746f67657468\S* holds (absent|\d+B), allowed: \d+B$/m,
  install: () =>
    patch(CommitLog.prototype, 'stageTogether', (original) =>
      function (this: CommitLog, mutations: readonly StagedMutation[]): Dependency {
        original.call(this, mutations);
        return Dependency.none;
      },
    ),
};

export const TOGETHER_MUTANTS: readonly Mutant[] = [togetherSplit, togetherAckedEarly];

/**
 * Puts staged together each wait on their own data only (no group): in
 * one cycle still, but a failed data write fails only its own put, and the
 * others commit (an S3 record without its data, the other way round).
 * Caught by testing/put_together.test.ts ("a failed data write fails every
 * put of the group"), not by a check suite: the fault alphabet seldom
 * fails a write of a group in flight.
 */
export const togetherFailsAlone = {
  name: 'together-fails-alone',
  bugClass: 'puts committed together fail one by one (a failed data write leaves the others committed)',
  install: (): (() => void) =>
    patch(CommitLog.prototype, 'stageTogether', () =>
      function (this: CommitLog, mutations: readonly StagedMutation[]): Dependency {
        return Dependency.all(mutations.map((m) => this.stage(m.key.toString('latin1'), m)));
      },
    ),
};
