// Named reader-writer locks, in process: the S3 front is the only writer
// of its shard namespaces, so mutual exclusion between its own requests is
// all the atomicity that read-modify-write sequences (replace an object and
// learn which data it replaced, complete an upload, delete a bucket only
// when empty) need.
//
// Writers hold a lock only around their commit step (a few small shard
// writes), never while a request body streams, so a slow upload blocks no
// one. Lock order, to rule out deadlock: bucket (shared) before object key.
//
// Invariants:
// 1. Grants are FIFO: a waiting writer is not starved by a stream of readers.
// 2. An entry exists only while the lock is held or awaited (no leak per name).

interface Waiter {
  readonly exclusive: boolean;
  readonly grant: () => void;
}

interface Entry {
  readers: number;
  writer: boolean;
  readonly queue: Waiter[];
}

export class LockTable {
  private readonly entries = new Map<string, Entry>();

  async shared<T>(name: string, fn: () => Promise<T>): Promise<T> {
    await this.acquire(name, false);
    try {
      return await fn();
    } finally {
      this.release(name, false);
    }
  }

  async exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    await this.acquire(name, true);
    try {
      return await fn();
    } finally {
      this.release(name, true);
    }
  }

  /** How many wait for the lock `name` (read-only; tests wait for a request to queue behind a holder). */
  waiting(name: string): number {
    return this.entries.get(name)?.queue.length ?? 0;
  }

  /** Names with a holder or a waiter (tests: must drop to 0). */
  get size(): number {
    return this.entries.size;
  }

  private acquire(name: string, exclusive: boolean): Promise<void> {
    let entry = this.entries.get(name);
    if (entry === undefined) {
      entry = { readers: 0, writer: false, queue: [] };
      this.entries.set(name, entry);
    }
    if (entry.queue.length === 0 && canGrant(entry, exclusive)) {
      take(entry, exclusive);
      return Promise.resolve();
    }
    const queued = entry;
    return new Promise((resolve) => queued.queue.push({ exclusive, grant: resolve }));
  }

  private release(name: string, exclusive: boolean): void {
    const entry = this.entries.get(name);
    if (entry === undefined) throw new Error(`lock ${name} released but not held`);
    if (exclusive) entry.writer = false;
    else entry.readers--;
    for (let next = entry.queue[0]; next !== undefined && canGrant(entry, next.exclusive); next = entry.queue[0]) {
      entry.queue.shift();
      take(entry, next.exclusive);
      next.grant();
    }
    if (!entry.writer && entry.readers === 0 && entry.queue.length === 0) this.entries.delete(name);
  }
}

function canGrant(entry: Entry, exclusive: boolean): boolean {
  return exclusive ? !entry.writer && entry.readers === 0 : !entry.writer;
}

function take(entry: Entry, exclusive: boolean): void {
  if (exclusive) entry.writer = true;
  else entry.readers++;
}
