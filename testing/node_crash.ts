// Node crash consistency: the control plane joins the crash alphabet. A
// ShardNode of NODE_DISKS simulated disks runs mutations, bulk calls,
// imports and disks leaving and returning to service, and whole-node
// crashes: during a bulk remove or create, during an import, while a disk
// is being taken out, or while one is out of service (it may stay out
// after the restart and return later).
//
// Strategy: as testing/crash.ts, per key, every acknowledged change is
// recorded with the Dependency the API returned for it: for a bulk call,
// the batch's one Dependency (so a batch Dependency that says durable too
// early is caught); for an import, the report's. Work in flight at the
// crash is recorded as uncertain. A crash may hold one disk's writes in
// flight while the other disk commits, so a crash lands between the two
// disks' group commits. Results are compared with the reference ModelNode,
// rebuilt from what the node holds after each crash.
//
// Invariants:
// 1. Persistence and atomicity (crash.ts, invariants 1 and 2) for every
//    key, checked after each crash for the disks in service, and for a
//    disk kept out of service when it returns (its shards are all back).
// 2. A disk out of service answers Unavailable for its keys, before and
//    after a crash; nothing is routed elsewhere.
// 3. Forward progress: after a clean restart every Dependency handed out
//    is persistent.
// 4. Scrub finds no damaged shard after any crash (torn writes are never
//    referenced by a committed value).
// 5. Exclusive access and read-only tools (access_check.ts): a second
//    opener while the node runs is refused; after one crash in four, while
//    the node is down (its process dead, its locks stale), fsck, inspect,
//    scrub and export leave every crash image byte-identical.
import fc from 'fast-check';
import { checkSequences, reportSequences, runOnHarness } from './sequences.js';
import type { CheckOptions } from './sequences.js';
import { ShardStoreError } from '../src/base/index.js';
import type { BulkResult } from '../src/node/index.js';
import { ConformanceFailure, SMALL_CONFIG, apply, keyDigest } from './conformance.js';
import type { EngineConfig } from './conformance.js';
import { History } from './crash.js';
import { buildStream, pieces } from './migration_streams.js';
import { ModelNode } from './model.js';
import { importRecords } from './node_conformance.js';
import { NODE_DISKS, formatNodeOp, formatNodeOps, keyOf, nodeCrashOpArb, valueOf } from './ops.js';
import type { ControlOp, NodeCrashOp, NodeOp, Op } from './ops.js';
import { SimNode } from './sim_node.js';
import { offlineToolsLeaveImages, secondOpener } from './access_check.js';

type Allowed = Map<string, Array<Buffer | null>>;

export interface NodeCrashCounters {
  crashStates: number;
  operations: number;
}

export class NodeCrashHarness {
  private step = 0;
  private readonly history = new History();
  private model = new ModelNode(NODE_DISKS);
  /** Crashes so far: work that settles after a crash must not record into the new history. */
  private epoch = 0;
  readonly counters: NodeCrashCounters = { crashStates: 0, operations: 0 };

  private constructor(private readonly sim: SimNode) {}

  static async create(config: EngineConfig, seed: number): Promise<NodeCrashHarness> {
    return new NodeCrashHarness(await SimNode.create(config, seed));
  }

  async run(op: NodeOp): Promise<void> {
    const index = this.step++;
    this.counters.operations++;
    try {
      await this.runStep(op);
    } catch (err: unknown) {
      if (err instanceof ConformanceFailure) throw err;
      const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      throw new ConformanceFailure(`step ${index} ${formatNodeOp(op)}: threw ${what}`, index);
    }
  }

  async close(): Promise<void> {
    await this.sim.node.close();
  }

  private fail(op: NodeOp, why: string): never {
    throw new ConformanceFailure(`step ${this.step - 1} ${formatNodeOp(op)}: ${why}`, this.step - 1);
  }

  private async runStep(op: NodeOp): Promise<void> {
    switch (op.op) {
      case 'nodeCrash':
        return this.crash(op);
      case 'put':
      case 'delete':
        return this.mutate(op);
      case 'commit':
        return this.sim.drain();
      case 'flush':
        return this.sim.node.flush();
      case 'compact':
        return this.sim.node.compact();
      case 'bulkPut':
      case 'bulkDelete':
        return this.bulk(op, await this.startBulk(op));
      case 'diskOut':
        await this.sim.node.takeOutOfService(op.disk);
        this.model.takeOutOfService(op.disk);
        return;
      case 'diskIn':
        return this.diskIn(op.disk);
      case 'import':
        return this.importOp(op);
      case 'restart':
        return this.restart(op);
      case 'secondOpen': {
        const expected = this.model.isOut(op.disk) ? 'checked' : 'refused';
        const actual = await secondOpener(this.sim, op.disk, op.readOnly);
        if (actual !== expected) this.fail(op, `second opener: expected ${expected}, got ${actual}`);
        return;
      }
      case 'offlineTools':
        await this.sim.whileStopped(op.dirty, () => offlineToolsLeaveImages(this.sim));
        return;
      case 'scrub':
        return this.scrub(op);
      case 'listPages':
      case 'listAvailable':
      case 'stats':
      case 'export':
        return; // compared by the conformance check; here the store only has to survive them
      default:
        return this.compare(op);
    }
  }

  private async compare(op: Op): Promise<void> {
    const [expected, actual] = [await apply(this.model, op), await apply(this.sim.node, op)];
    if (JSON.stringify(expected) !== JSON.stringify(actual)) this.fail(op, `model ${JSON.stringify(expected)}, engine ${JSON.stringify(actual)}`);
  }

  private async mutate(op: Extract<Op, { op: 'put' | 'delete' }>): Promise<void> {
    const key = keyOf(op.key);
    const value = op.op === 'put' ? valueOf(op.size, op.fill) : null;
    const expected = await apply(this.model, op);
    let actual: { ok: string } | { error: string };
    try {
      const dependency = value === null ? await this.sim.node.delete(key) : await this.sim.node.put(key, value);
      this.history.record(key, { value, dependency });
      actual = { ok: value === null ? 'deleted' : 'put' };
    } catch (err: unknown) {
      if (!(err instanceof ShardStoreError)) throw err;
      actual = { error: err.code };
    }
    if (JSON.stringify(expected) !== JSON.stringify(actual)) this.fail(op, `model ${JSON.stringify(expected)}, engine ${JSON.stringify(actual)}`);
  }

  private startBulk(op: Extract<ControlOp, { op: 'bulkPut' | 'bulkDelete' }>): Promise<BulkResult> {
    const keys = op.keys.map(keyOf);
    return op.op === 'bulkPut' ? this.sim.node.bulkPut(keys.map((key) => ({ key, value: valueOf(op.size, op.fill) }))) : this.sim.node.bulkDelete(keys);
  }

  /** Compare a bulk call's outcomes with the model's; record each applied key with the batch Dependency. */
  private async bulk(op: Extract<ControlOp, { op: 'bulkPut' | 'bulkDelete' }>, result: BulkResult): Promise<void> {
    const keys = op.keys.map(keyOf);
    const value = op.op === 'bulkPut' ? valueOf(op.size, op.fill) : null;
    const expected = op.op === 'bulkPut' ? await this.model.bulkPut(keys.map((key) => ({ key, value: valueOf(op.size, op.fill) }))) : await this.model.bulkDelete(keys);
    const text = (r: BulkResult): string => r.outcomes.map((o) => `${keyDigest(o.key)}:${o.status}${o.code ?? ''}`).join(',');
    if (text(expected) !== text(result)) this.fail(op, `model ${text(expected)}, engine ${text(result)}`);
    for (const o of result.outcomes) if (o.status === 'applied') this.history.record(o.key, { value, dependency: result.dependency });
  }

  private async importOp(op: Extract<ControlOp, { op: 'import' }>): Promise<void> {
    const records = importRecords(op);
    const report = await this.sim.node.importStream(pieces(buildStream({}, records).bytes, op.fill));
    const expected = await this.model.importRecords(records);
    const [e, a] = [`${expected.applied} ${expected.error ?? 'complete'}`, `${report.records} ${report.error?.code ?? 'complete'}`];
    if (e !== a) this.fail(op, `model ${e}, engine ${a}`);
    for (const r of records.slice(0, report.records)) this.history.record(r.key, { value: r.value, dependency: report.dependency });
  }

  /** Return a disk to service: every key it held must be back with an allowed value. */
  private async diskIn(disk: number): Promise<void> {
    await this.sim.node.returnToService(disk);
    this.model.returnToService(disk);
    const allowed = this.history.allowed();
    const listed = (await this.sim.node.listAvailable({})).shards.map((s) => s.key.toString('latin1'));
    for (const k of new Set([...allowed.keys(), ...listed])) {
      const key = Buffer.from(k, 'latin1');
      if (this.sim.node.diskOf(key) !== disk) continue;
      const actual = await this.checkKey(key, allowed, `after disk ${disk} returned`);
      this.history.settle(key, actual);
      if (actual !== null) await this.model.store.put(key, actual);
      else await this.model.store.delete(key).catch((err: unknown) => void err);
    }
  }

  /** Read `key` and check it holds one of the values it may hold. */
  private async checkKey(key: Buffer, allowed: Allowed, when: string): Promise<Buffer | null> {
    const values = allowed.get(key.toString('latin1'));
    if (values === undefined) throw new ConformanceFailure(`step ${this.step - 1} ${when}: key ${keyDigest(key)} was never written`, this.step - 1);
    let actual: Buffer | null;
    try {
      actual = await this.sim.node.get(key);
    } catch (err: unknown) {
      if (!(err instanceof ShardStoreError && err.code === 'NotFound')) throw err;
      actual = null;
    }
    if (!values.some((v) => (v === null ? actual === null : actual !== null && v.equals(actual)))) {
      const show = (v: Buffer | null): string => (v === null ? 'absent' : `${v.length}B`);
      throw new ConformanceFailure(`step ${this.step - 1} ${when}: key ${keyDigest(key)} holds ${show(actual)}, allowed: ${values.map(show).join(' | ')}`, this.step - 1);
    }
    return actual;
  }

  private async restart(op: Extract<ControlOp, { op: 'restart' }>): Promise<void> {
    const deps = this.history.dependencies();
    await this.sim.restart(op.keepOut);
    const pending = deps.filter((d) => !d.isPersistent()).length;
    if (pending > 0) this.fail(op, `${pending} dependencies not persistent after a clean close`);
    if (!op.keepOut) for (let d = 0; d < NODE_DISKS; d++) if (this.model.isOut(d)) await this.diskBackAfterRestart(d);
  }

  /** A disk out of service came back with the restart: check it as a return to service. */
  private async diskBackAfterRestart(disk: number): Promise<void> {
    this.model.returnToService(disk);
    const allowed = this.history.allowed();
    for (const k of allowed.keys()) {
      const key = Buffer.from(k, 'latin1');
      if (this.sim.node.diskOf(key) !== disk) continue;
      const actual = await this.checkKey(key, allowed, `after disk ${disk} came back at a restart`);
      this.history.settle(key, actual);
      if (actual !== null) await this.model.store.put(key, actual);
    }
  }

  private async scrub(op: NodeOp): Promise<void> {
    await this.sim.drain();
    const r = await this.sim.node.scrub();
    if (r.counters.damagedShards + r.counters.damagedIndexChunks > 0 || r.errors.length > 0) this.fail(op, `scrub found damage: ${JSON.stringify({ counters: r.counters, errors: r.errors })}`);
  }

  // ------------------------------------------------------------ crashes

  private async crash(op: NodeCrashOp): Promise<void> {
    if (op.pauseDisk >= 0) this.sim.gates[op.pauseDisk]?.hold();
    const { work } = await this.startInFlight(op);
    await this.waitForIos(op.afterIos);
    // The crash instant: what is persistent now is what was promised.
    const allowed = this.history.allowed();
    this.epoch++;
    // One crash in four: the offline tools run on the crash images before the node comes back.
    const tools = op.crashSeed % 4 === 0 ? async (): Promise<void> => void (await offlineToolsLeaveImages(this.sim)) : undefined;
    await this.sim.crash(op.mode, op.crashSeed, op.keepOut, tools);
    this.counters.crashStates++;
    await Promise.race([work.catch((err: unknown) => err), quiet(3)]);
    await this.resync(allowed, op);
  }

  /** Start the work in flight; a bulk call is awaited (it never waits for durability) and recorded. */
  private async startInFlight(op: NodeCrashOp): Promise<{ work: Promise<unknown> }> {
    switch (op.during) {
      case 'bulkDelete':
      case 'bulkPut': {
        const bulk: Extract<ControlOp, { op: 'bulkPut' | 'bulkDelete' }> =
          op.during === 'bulkPut' ? { op: 'bulkPut', keys: op.keys, size: (op.crashSeed * 13) % 14000, fill: op.crashSeed } : { op: 'bulkDelete', keys: op.keys };
        await this.bulk(bulk, await this.startBulk(bulk));
        return { work: Promise.resolve() };
      }
      case 'import': {
        const imp: Extract<ControlOp, { op: 'import' }> = { op: 'import', keys: op.keys, size: (op.crashSeed * 7) % 14000, fill: op.crashSeed, cutPermille: 1000, flipPermille: -1 };
        const records = importRecords(imp);
        for (const r of records) this.history.record(r.key, { value: r.value, dependency: undefined });
        const epoch = this.epoch;
        const work = this.sim.node.importStream(pieces(buildStream({}, records).bytes, op.crashSeed)).then((report) => {
          if (epoch !== this.epoch) return;
          for (const r of records.slice(0, report.records)) this.history.record(r.key, { value: r.value, dependency: report.dependency });
        });
        return { work };
      }
      case 'diskOut':
        return { work: this.sim.node.takeOutOfService((op.keys[0] ?? 0) % NODE_DISKS) };
      case 'none':
        return { work: Promise.resolve() };
    }
  }

  /** Until `n` more IOs completed on any disk, or the node went quiet. */
  private async waitForIos(n: number): Promise<void> {
    if (n === 0) return;
    let seen = 0;
    let armed = true;
    const ios = new Promise<void>((resolve) => {
      for (const disk of this.sim.disks) {
        disk.onIo((event) => {
          if (armed && event === 'complete' && ++seen >= n) resolve();
        });
      }
    });
    await Promise.race([ios, quiet(3)]);
    armed = false;
  }

  /** Check what the node holds after the crash against what was promised; rebuild the model from it. */
  private async resync(allowed: Allowed, op: NodeCrashOp): Promise<void> {
    const out = this.sim.outDisks();
    const when = 'after the crash';
    const listed = (await this.sim.node.listAvailable({})).shards.map((s) => s.key.toString('latin1'));
    const contents = new Map<string, Buffer>();
    const unknown: Allowed = new Map();
    for (const k of new Set([...allowed.keys(), ...listed])) {
      const key = Buffer.from(k, 'latin1');
      if (out.includes(this.sim.node.diskOf(key))) {
        const values = allowed.get(k);
        if (values !== undefined) unknown.set(k, values);
        continue;
      }
      const actual = await this.checkKey(key, allowed, when);
      if (actual !== null) contents.set(k, actual);
    }
    this.history.reset(contents, unknown);
    this.model = new ModelNode(NODE_DISKS);
    for (const d of out) this.model.takeOutOfService(d);
    for (const [k, v] of contents) await this.model.store.put(Buffer.from(k, 'latin1'), v);
    await this.scrub(op);
  }
}

/** Resolves after `turns` event-loop turns (every IO of the simulated disks completes within one). */
async function quiet(turns: number): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export async function runNodeCrashSequence(ops: readonly NodeOp[], config: EngineConfig, seed: number, counters?: NodeCrashCounters): Promise<ConformanceFailure | undefined> {
  const h = await NodeCrashHarness.create(config, seed);
  return runOnHarness(h, ops, () => {
    if (counters === undefined) return;
    counters.crashStates += h.counters.crashStates;
    counters.operations += h.counters.operations;
  });
}

export function checkNodeCrash(options: CheckOptions): Promise<fc.RunDetails<[NodeOp[]]>> {
  const ops = fc.array(nodeCrashOpArb(SMALL_CONFIG), { minLength: 10, maxLength: 50 });
  return checkSequences(ops, (seq) => runNodeCrashSequence(seq, SMALL_CONFIG, options.seed), options);
}

export function reportNodeCrash(details: fc.RunDetails<[NodeOp[]]>): string {
  return reportSequences(details, formatNodeOps);
}
