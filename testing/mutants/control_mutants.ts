// Broken variants of the control plane (docs/CONTROL_PLANE.md), each one of
// the paper's control-plane bug classes: shards lost when a disk left
// service and came back; a bulk remove racing a crash; a listing racing
// removes. Each patches one method of ShardNode through its prototype.
import { Dependency } from '../../src/dependency/index.js';
import { Memtable } from '../../src/index/memtable.js';
import { ShardNode } from '../../src/node/index.js';
import type { DiskStore, ListOptions, ListResult } from '../../src/store/index.js';
import type { BulkResult } from '../../src/node/index.js';
import { listLimit } from '../../src/store/list.js';
import { MutantTargetError, patch } from './mutant.js';
import type { Mutant } from './mutant.js';

interface NodeInternals {
  reopenDisk(disk: number): Promise<DiskStore>;
  listOver(slots: readonly unknown[], options: ListOptions): Promise<ListResult>;
  storeOf(slot: unknown): DiskStore;
}

const nodeProto = ShardNode.prototype as unknown as NodeInternals;

/**
 * Returning a disk to service reloads the index runs of its last checkpoint
 * but not the metadata log's entries since: shards committed after the last
 * index flush are lost when the disk comes back.
 */
export const diskReturnWithoutIndexReload: Mutant = {
  name: 'disk-return-without-index-reload',
  bugClass: 'shards lost when a disk leaves service and returns (its index not reloaded)',
  caughtBy: 'node',
  expect: /listing of the disks in service differs|: model \{.*\}, engine \{/,
  install: () =>
    patch(nodeProto, 'reopenDisk', (original) =>
      async function (this: NodeInternals, disk: number): Promise<DiskStore> {
        const store = await original.call(this, disk);
        const index = store.parts.index as unknown as { active: Memtable };
        // Loud if the field is renamed: setting a new one would change nothing and "survive".
        if (!(index.active instanceof Memtable)) throw new MutantTargetError('mutant target LsmIndex.active is not a Memtable: renamed?');
        index.active = new Memtable();
        return store;
      },
      1,
    ),
};

/**
 * A bulk remove answers with the Dependency of its last key only, as if one
 * group commit covered the batch: across two disks it does not, and after a
 * crash keys reported removed (durably) come back.
 */
export const bulkRemoveWeakDependency: Mutant = {
  name: 'bulk-remove-weak-dependency',
  bugClass: 'bulk remove reports keys removed that a crash brings back',
  caughtBy: 'node-crash',
  expect: /after the crash: key \S+ holds \S+, allowed: absent/,
  install: () =>
    patch(ShardNode.prototype, 'bulkDelete', (original) =>
      async function (this: ShardNode, keys: readonly Buffer[]): Promise<BulkResult> {
        const result = await original.call(this, keys);
        const last = [...result.outcomes].reverse().find((o) => o.dependency !== undefined);
        return { outcomes: result.outcomes, dependency: last?.dependency ?? Dependency.none };
      },
    ),
};

/**
 * Each disk contributes only its share (limit / disks) to a page: when one
 * disk holds more of the next keys, the page ends past keys it never
 * returned, and the next page starts after them.
 */
export const listSkipsKeys: Mutant = {
  name: 'list-skips-keys',
  bugClass: 'a paginated listing skips a key present throughout',
  caughtBy: 'node',
  expect: /listPages\(.*\): model \{.*\}, engine \{/,
  install: () =>
    patch(nodeProto, 'listOver', () =>
      async function (this: NodeInternals, slots: readonly unknown[], options: ListOptions): Promise<ListResult> {
        const limit = listLimit(options.limit);
        const share = Math.max(1, Math.ceil(limit / Math.max(1, slots.length)));
        const parts = await Promise.all(slots.map((s) => this.storeOf(s).list({ ...options, limit: share })));
        const all = parts.flatMap((p) => p.shards).sort((a, b) => Buffer.compare(a.key, b.key));
        return { shards: all.slice(0, limit), truncated: all.length > limit || parts.some((p) => p.truncated) };
      },
      2,
    ),
};

export const CONTROL_MUTANTS: readonly Mutant[] = [diskReturnWithoutIndexReload, bulkRemoveWeakDependency, listSkipsKeys];
