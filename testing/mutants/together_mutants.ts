// Broken variants of puts committed together (CommitLog.stageTogether,
// src/store/commit_log.ts; the S3 front's one-step PUT rests on it). Each
// is caught by the crash check, whose dirty reboots leave a putTogether in
// flight (testing/crash.ts, `during: 'putTogether'`): a group split over two
// cycles comes back in part (invariant 2), and a group acknowledged before
// its cycle is durable is lost although its Dependency said persistent
// (invariant 1).
import { Dependency, Latch } from '../../src/dependency/index.js';
import { ShardNode } from '../../src/node/index.js';
import type { TogetherPut } from '../../src/store/index.js';
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

/**
 * The node acknowledges a put-together once staged: the S3 PUT answers
 * 200 before its one commit cycle is durable. Caught by
 * testing/s3_put_crash.test.ts: an acknowledged object is older after the
 * crash.
 */
export const s3PutAckedEarly = {
  name: 's3-put-acked-early',
  bugClass: 'an S3 PUT acknowledged before the commit cycle of its record and data is durable',
  expect: /object o\d holds version \d+ after the crash, acknowledged \d+/,
  install: (): (() => void) =>
    patch(ShardNode.prototype, 'putTogether', (original) =>
      async function (this: ShardNode, puts: readonly TogetherPut[]): Promise<Dependency> {
        await original.call(this, puts);
        return Dependency.none;
      },
    ),
};

/**
 * The node splits a put-together, the record first (made durable), then
 * its data: a crash in between keeps a record naming data that is not
 * there. Caught by testing/s3_put_crash.test.ts: the object cannot be read.
 */
export const s3PutRecordFirst = {
  name: 's3-put-record-first',
  bugClass: 'an S3 object record made durable before the data it names (the one durable step split, the wrong way round)',
  expect: /object o\d: GET answered (500|503)/,
  install: (): (() => void) =>
    patch(ShardNode.prototype, 'putTogether', (original) =>
      async function (this: ShardNode, puts: readonly TogetherPut[]): Promise<Dependency> {
        const record = puts.at(-1);
        if (record === undefined || !(record.value instanceof Uint8Array)) return original.call(this, puts);
        await (await this.put(record.key, record.value)).persisted();
        return original.call(this, puts.slice(0, -1));
      },
    ),
};
