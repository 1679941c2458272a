// The host of a simulated node: its processes (pids, alive or dead) and
// the lock records beside each simulated disk, in memory. The production
// lock protocol (src/disk/disk_lock.ts: DiskLock) runs on them unchanged,
// as it runs on files for FileDisk; only where records live and whether a
// pid runs are simulated. A crash of the node kills its process: its lock
// records stay, stale, for the next process to take over.
import type { LockHolder, LockRecords, Liveness } from '../src/disk/index.js';
import { DiskLock } from '../src/disk/index.js';
import type { SimDisk } from './sim_disk.js';

/** Lock records in memory: create is exclusive, as link is for files. */
export class MemoryLockRecords implements LockRecords {
  private readonly records = new Map<string, string>();

  constructor(readonly where: string) {}

  create(name: string, text: string): Promise<boolean> {
    if (this.records.has(name)) return Promise.resolve(false);
    this.records.set(name, text);
    return Promise.resolve(true);
  }

  read(name: string): Promise<string | undefined> {
    return Promise.resolve(this.records.get(name));
  }

  remove(name: string): Promise<void> {
    this.records.delete(name);
    return Promise.resolve();
  }

  /** Names of the records present (a check that nothing is left behind). */
  names(): string[] {
    return [...this.records.keys()].sort();
  }
}

export class SimHost {
  private nextPid = 100;
  private acquisitions = 0;
  private readonly alive = new Set<number>();
  /** One per disk, kept across reboots and crashes (they live beside the media). */
  readonly locks: MemoryLockRecords[];

  constructor(diskCount: number) {
    this.locks = Array.from({ length: diskCount }, (_, i) => new MemoryLockRecords(`sim-disk-${i}.dat.lock`));
  }

  /** A new running process; nonces count up, so runs replay. */
  spawn(command: string): LockHolder {
    const pid = this.nextPid++;
    this.alive.add(pid);
    return { pid, host: 'sim', startTicks: '1', command, nonce: `n${pid}` };
  }

  kill(process: LockHolder): void {
    this.alive.delete(process.pid);
  }

  readonly liveness = (h: LockHolder): Liveness => (this.alive.has(h.pid) ? 'alive' : 'dead');

  /**
   * What FileDisk.open does for a file: take disk i's lock for `process`
   * (LockedError if another live process holds it), held by the handle
   * `disk` until it closes.
   */
  async lock(i: number, disk: SimDisk, process: LockHolder): Promise<void> {
    const records = this.locks[i];
    if (records === undefined) throw new RangeError(`no disk ${i}`);
    const me = { ...process, nonce: `${process.nonce}.${this.acquisitions++}` };
    disk.holdLock(await DiskLock.acquire(records, me, { liveness: this.liveness }));
  }
}
