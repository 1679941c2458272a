// Broken variants of the control plane under concurrency, caught by the
// control-race suite (testing/control_race.ts), and one that hangs, caught
// by the hang watch of every suite (testing/check/hang_watch.ts). Each is
// the shape of a bug the race harness or the hang watch exists for, and
// names the failure it must cause.
import { Dependency } from '../../src/dependency/index.js';
import { ClosedError, NotFoundError } from '../../src/base/index.js';
import { CommitLog, keyString } from '../../src/store/commit_log.js';
import { DiskStore, printableKey } from '../../src/store/index.js';
import { ShardNode } from '../../src/node/index.js';
import type { LsmIndex } from '../../src/index/index.js';
import { patch } from './mutant.js';
import type { Mutant } from './mutant.js';

/**
 * Taking a disk out of service does not fence the writes in flight: its
 * store's close drains what is staged, but a put that stages after that
 * drain is acknowledged (it returns its Dependency) and then lost when the
 * disk closes under its commit. This is the bug the control-race suite
 * found in the engine (fixed with CommitLog.refuseMutations); the variant
 * takes the fence down again.
 */
export const diskOutIgnoresInflightWrites: Mutant = {
  name: 'disk-out-ignores-inflight-writes',
  bugClass: 'a disk taken out of service while puts are in flight on it: an acknowledged put is lost',
  caughtBy: 'control-race',
  expect: /acknowledged mutation\(s\) not persistent after a clean close|(put|delete)\(.*\) -> unknown failed with Io: write batch: io after close|failed with Io: write batch: io after close/,
  install: () => patch(CommitLog.prototype, 'refuseMutations', () => function (this: CommitLog): void {}, 1),
};

interface NodeTranslation {
  translate(err: unknown, slot: { store: DiskStore | undefined }, store: DiskStore, what: string): unknown;
}

/**
 * A call cut by its disk leaving service answers what the closed store
 * threw (Closed, or an IO error of the closed disk: a 500 to the user)
 * instead of Unavailable: the node's translation only knows a store that
 * was already replaced when the error came (the engine before the fix).
 */
export const diskOutLeaksIoErrors: Mutant = {
  name: 'disk-out-leaks-io-errors',
  bugClass: 'a call racing a disk leaving service fails with an IO error (500) instead of Unavailable',
  caughtBy: 'control-race',
  expect: /failed with (Io|Closed): .*\(only Unavailable|stopped with (Io|Closed)/,
  install: () =>
    patch(
      ShardNode.prototype as unknown as NodeTranslation,
      'translate',
      () =>
        function (err: unknown): unknown {
          return err;
        },
      4,
    ),
};

interface DeleteInternals {
  readonly log: CommitLog;
  readonly parts: { readonly index: LsmIndex };
  checkOpen(): void;
}

/**
 * A remove decides on a stale lookup: it reads the key's value (from the
 * index on disk, an await) and stages the tombstone without checking that
 * nothing changed meanwhile. Two removes of one key racing (a bulk remove
 * and a delete, or two bulk removes) both answer "removed", and a remove
 * racing a put of the same key can report removing a value that another
 * remove already took: not linearizable.
 */
export const removeDecidesOnStaleLookup: Mutant = {
  name: 'remove-decides-on-stale-lookup',
  bugClass: 'a bulk remove racing a put or remove of the same key decides on a stale lookup (both removes answer removed)',
  caughtBy: 'control-race',
  expect: /not linearizable/,
  install: () =>
    patch(
      DiskStore.prototype,
      'delete',
      () =>
        async function (this: DiskStore, key: Buffer): Promise<Dependency> {
          const self = this as unknown as DeleteInternals;
          self.checkOpen();
          const k = keyString(key);
          const staged = self.log.overlay(k);
          const value = staged !== undefined ? staged.value : await self.parts.index.lookup(key);
          if (value === null || value === undefined) throw new NotFoundError(`no shard ${printableKey(key)}`);
          if (self.log.refusing !== undefined) throw new ClosedError(self.log.refusing);
          return self.log.stage(k, { key, value: null, dataDependency: Dependency.none });
        },
      1,
    ),
};

/**
 * A read's registration is ended only when the read succeeds: a get of a
 * missing key leaves it registered, and the next reclamation waits for
 * readers that never end (the latch never released on one path). Every
 * suite that gets a missing key and then reclaims hangs: the hang watch
 * must report it within seconds, naming the step that hung.
 */
export const readNotEndedOnMiss: Mutant = {
  name: 'read-not-ended-on-miss',
  bugClass: 'a latch never released on one path: a get of a missing key stays registered, reclamation waits for it forever (hang)',
  caughtBy: 'conformance',
  expect: /^hang: .*no progress in the simulated world.*pending: .*reclaim|deadlock under \S+ after \d+ steps/,
  install: () =>
    patch(
      DiskStore.prototype,
      'get',
      (original) =>
        async function (this: DiskStore, key: Buffer): Promise<Buffer> {
          const end = this.reads.begin();
          const value = await original.call(this, key);
          end();
          return value;
        },
      1,
    ),
};

export const CONTROL_RACE_MUTANTS: readonly Mutant[] = [diskOutIgnoresInflightWrites, diskOutLeaksIoErrors, removeDecidesOnStaleLookup, readNotEndedOnMiss];
