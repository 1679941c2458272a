// A ShardNode of NODE_DISKS simulated disks, for the node-level checks
// (node conformance, node crashes, listing stability, scrub, migration).
//
// Each disk's IO goes through a Gate: open, every IO completes at once (as
// the simulated disk does alone); holding, its writes and flushes stay in
// flight until released or until a crash, while reads still complete (so a
// lookup never waits on a held disk). Holding one disk while the other
// commits is how a check gets a crash between two disks' group commits.
import { openDiskStore, formatDiskStore } from '../src/store/index.js';
import { ShardNode } from '../src/node/index.js';
import type { DiskStore, OpenOptions } from '../src/store/index.js';
import type { DiskOpener } from '../src/node/index.js';
import type { Clock } from '../src/base/index.js';
import type { LockHolder } from '../src/disk/index.js';
import { formatOptions } from './conformance.js';
import type { EngineConfig } from './conformance.js';
import { NODE_DISKS } from './ops.js';
import { Rng } from './rng.js';
import type { CrashMode, SimIo } from './sim_disk.js';
import { SimDisk } from './sim_disk.js';
import { SimHost } from './sim_host.js';

export class Gate {
  private held: Array<() => void> = [];
  holding = false;
  /** Hold flushes only: writes land (and a crash may keep any of them), no flush returns. */
  private holdingFlushes = false;
  private onHeld: (() => void) | undefined;

  readonly scheduler = (io: SimIo, complete: () => void): void => {
    if ((this.holding && io.kind !== 'read') || (this.holdingFlushes && io.kind === 'flush')) {
      this.held.push(complete);
      this.onHeld?.();
    } else complete();
  };

  hold(): void {
    this.holding = true;
  }

  /** Hold every flush from now on (until release or a crash): the state of a commit cycle before its one sync returns. */
  holdFlushes(): void {
    this.holdingFlushes = true;
  }

  /** Resolves once at least `n` IOs are held (a latch on the disk's progress, not a timer). */
  whenHeld(n: number): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.held.length < n) return;
        this.onHeld = undefined;
        resolve();
      };
      this.onHeld = check;
      check();
    });
  }

  /** Complete every held IO, in issue order, and stop holding. */
  release(): void {
    this.holding = false;
    this.holdingFlushes = false;
    const held = this.held;
    this.held = [];
    for (const complete of held) complete();
  }

  /** After a crash the held IOs are gone with the disk. */
  drop(): void {
    this.holding = false;
    this.holdingFlushes = false;
    this.onHeld = undefined;
    this.held = [];
  }
}

export class SimNode {
  readonly gates: Gate[];
  private current: ShardNode | undefined;
  readonly host: SimHost;
  /** The process the node runs as (a new one after each crash). */
  process: LockHolder;
  private clock: Clock | undefined;

  private constructor(
    readonly disks: SimDisk[],
    private readonly config: EngineConfig,
    private readonly rng: Rng,
    gates: Gate[],
  ) {
    this.gates = gates;
    this.host = new SimHost(disks.length);
    this.process = this.host.spawn('shardstore serve');
  }

  get node(): ShardNode {
    if (this.current === undefined) throw new Error('SimNode used before create() finished');
    return this.current;
  }

  /** `clock`: the node's (scrub passes and their rate limit); the system clock if not given. */
  static async create(config: EngineConfig, seed: number, diskCount = NODE_DISKS, clock?: Clock): Promise<SimNode> {
    const rng = new Rng(seed);
    const gates = Array.from({ length: diskCount }, () => new Gate());
    const disks = gates.map((g, i) => new SimDisk({ sizeBytes: config.diskSizeBytes, pageSizeBytes: config.pageSizeBytes, fillSeed: `${seed}-${i}`, scheduler: g.scheduler }));
    const sim = new SimNode(disks, config, rng, gates);
    const nodeId = { low: 0x51, high: seed >>> 0 };
    const stores: DiskStore[] = [];
    for (const [i, disk] of disks.entries()) {
      await sim.host.lock(i, disk, sim.process);
      stores.push(await formatDiskStore(disk, { ...formatOptions(config, rng.fork(`chunk-ids-${i}`)), nodeId, diskIndex: i, diskCount }));
    }
    sim.clock = clock;
    sim.current = new ShardNode(stores, { reopen: sim.opener(), ...sim.clockOption() });
    return sim;
  }

  private clockOption(): { clock?: Clock } {
    return this.clock === undefined ? {} : { clock: this.clock };
  }

  /** Reopen disk i with full recovery, on a fresh handle of the same media, as the node's process. */
  opener(): DiskOpener {
    return async (i: number): Promise<DiskStore> => {
      const disk = this.disks[i]?.clone();
      if (disk === undefined) throw new RangeError(`no disk ${i}`);
      await this.host.lock(i, disk, this.process);
      this.disks[i] = disk;
      return openDiskStore(disk, formatOptions(this.config, this.rng.fork(`chunk-ids-${i}`)));
    };
  }

  /**
   * Open disk i as another process would (a second server, or a tool with
   * `readOnly`): on a fresh handle of the media, which is returned with the
   * store so the caller can compare its image; the node's handle is left
   * alone. Throws LockedError while the node holds the disk.
   */
  async openAs(i: number, process: LockHolder, options: Pick<OpenOptions, 'readOnly'>): Promise<{ disk: SimDisk; store: DiskStore }> {
    const disk = await this.handleAs(i, process);
    try {
      return { disk, store: await openDiskStore(disk, { ...formatOptions(this.config, this.rng.fork(`chunk-ids-${i}-${process.pid}`)), ...options }) };
    } catch (err: unknown) {
      await disk.close();
      throw err;
    }
  }

  /** Disks not in service now. */
  outDisks(): number[] {
    return this.node.disks().filter((d) => d.state !== 'in-service').map((d) => d.disk);
  }

  /** Clean restart: close, then reopen every disk (those out stay out if `keepOut`). */
  async restart(keepOut: boolean): Promise<void> {
    const out = keepOut ? this.outDisks() : [];
    await this.node.close();
    await this.reopen(out);
  }

  /** Power cut: every disk keeps, of its unflushed writes, what `mode` says; then reopen. */
  async crash(mode: CrashMode, crashSeed: number, keepOut: boolean, whileDown?: () => Promise<void>): Promise<void> {
    const out = keepOut ? this.outDisks() : [];
    this.powerCut(mode, crashSeed);
    await whileDown?.();
    await this.reopen(out);
  }

  /** A fresh handle of disk i's media, locked for `process` (released when it closes); LockedError while another holds it. */
  async handleAs(i: number, process: LockHolder): Promise<SimDisk> {
    const disk = this.disks[i]?.clone();
    if (disk === undefined) throw new RangeError(`no disk ${i}`);
    await this.host.lock(i, disk, process);
    return disk;
  }

  /** The node's process dies with the power: every disk keeps what `mode` says; its locks stay, stale. */
  private powerCut(mode: CrashMode, crashSeed: number): void {
    this.node.abandon();
    this.host.kill(this.process);
    this.process = this.host.spawn('shardstore serve');
    for (const [i, disk] of this.disks.entries()) {
      this.disks[i] = disk.crash(this.rng.fork(`crash-${crashSeed}-${i}`), mode).disk;
      this.gates[i]?.drop();
    }
  }

  /**
   * Stop the node (`dirty`: everything staged is committed, then the
   * process dies without closing, keeping every write), run `fn` on the
   * stopped disks, then start it again with the disks out of service kept
   * out.
   */
  async whileStopped<T>(dirty: boolean, fn: () => Promise<T>): Promise<T> {
    const out = this.outDisks();
    if (dirty) {
      await this.drain();
      this.powerCut('keep-all', 0);
    } else {
      await this.node.close();
    }
    try {
      return await fn();
    } finally {
      await this.reopen(out);
    }
  }

  private async reopen(out: readonly number[]): Promise<void> {
    const open = this.opener();
    const stores: Array<DiskStore | undefined> = [];
    const reasons = new Map<number, string>();
    for (let i = 0; i < this.disks.length; i++) {
      if (out.includes(i)) reasons.set(i, 'kept out of service at open');
      else stores[i] = await open(i);
    }
    this.current = new ShardNode(Array.from({ length: this.disks.length }, (_, i) => stores[i]), { reopen: open, reasons, ...this.clockOption() });
  }

  /** Wait until every in-service disk has committed what is staged and counted its live bytes. */
  async drain(): Promise<void> {
    await Promise.all(this.node.stores.map(async (s) => {
      await s.log.drain();
      // The prepared reserve is refilled in the background (host_space.ts):
      // its zero writes are the node's own, and must not land later, as if
      // a refused second opener had written them.
      await s.parts.space.settled();
      await s.liveBytesReady();
      await s.parts.io.idle();
    }));
  }
}
