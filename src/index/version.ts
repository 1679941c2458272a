// Versions: the list of runs (newest first) readers see, refcounted.
//
// A lookup or scan acquires the current version when it starts and releases
// it when done; it reads only the runs of that version, so a compaction that
// replaces runs meanwhile cannot pull them from under it. A replaced version
// is "retired" until its last reader leaves. The store may reset the
// extents of removed runs only once no retired version holds them
// (`whenUnused`).
//
// Invariants:
// 1. The current version is never retired; a retired version has refs > 0.
// 2. Versions are immutable; a change installs a new one.
// 3. Every whenUnused promise resolves once its runs are in no version with
//    readers; it never resolves while one is.
import { assert } from '../base/index.js';
import type { RunHandle } from './run_reader.js';

export class Version {
  refs = 0;

  constructor(readonly runs: readonly RunHandle[]) {}

  holdsAny(ids: ReadonlySet<number>): boolean {
    for (const r of this.runs) if (ids.has(r.id)) return true;
    return false;
  }
}

interface Waiter {
  readonly ids: ReadonlySet<number>;
  readonly resolve: () => void;
}

export class VersionSet {
  private currentVersion = new Version([]);
  private readonly retired = new Set<Version>();
  private waiters: Waiter[] = [];

  get current(): Version {
    return this.currentVersion;
  }

  get retiredCount(): number {
    return this.retired.size;
  }

  acquire(): Version {
    const v = this.currentVersion;
    v.refs++;
    return v;
  }

  release(v: Version): void {
    assert(v.refs > 0, 'version released more often than acquired');
    v.refs--;
    if (v.refs === 0 && v !== this.currentVersion) {
      assert(this.retired.delete(v), 'released version was neither current nor retired');
      this.wake();
    }
  }

  install(runs: readonly RunHandle[]): void {
    const ids = new Set<number>();
    for (const r of runs) ids.add(r.id);
    assert(ids.size === runs.length, 'a version lists a run twice');
    const old = this.currentVersion;
    this.currentVersion = new Version(runs);
    if (old.refs > 0) this.retired.add(old);
    this.wake();
  }

  /** REQUIRES: none of `ids` is in the current version. */
  whenUnused(ids: ReadonlySet<number>): Promise<void> {
    assert(!this.currentVersion.holdsAny(ids), 'whenUnused: runs are still current');
    if (!this.inUse(ids)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ ids, resolve }));
  }

  /** Runs of the current version and of every retired version (all a reader may still touch). */
  handlesInUse(): Map<number, RunHandle> {
    const out = new Map<number, RunHandle>();
    for (const r of this.currentVersion.runs) out.set(r.id, r);
    for (const v of this.retired) for (const r of v.runs) out.set(r.id, r);
    return out;
  }

  private inUse(ids: ReadonlySet<number>): boolean {
    for (const v of this.retired) if (v.holdsAny(ids)) return true;
    return false;
  }

  private wake(): void {
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (this.inUse(w.ids)) still.push(w);
      else w.resolve();
    }
    this.waiters = still;
  }
}
