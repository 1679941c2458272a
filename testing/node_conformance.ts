// Node conformance: the control plane joins the conformance alphabet. One
// operation sequence runs against the reference ModelNode (testing/model.ts)
// and a ShardNode of NODE_DISKS simulated disks side by side.
//
// Strategy: the single-disk alphabet (put, get, read, head, delete, list,
// background work, clean reboots) plus bulk create and remove, disks
// leaving and returning to service, paginated and partial listings,
// scrub, stats, export (compared record by record and byte for byte with
// the stream the format spec gives) and import (whole, cut at any byte, or
// with a flipped byte), a second opener of a disk while the node runs, and
// the offline tools on the stopped node (access_check.ts). Every result is
// compared with the model's, typed errors by code.
//
// Invariants (after every step):
// 1. With every disk in service, a full listing equals the model's; with a
//    disk out, list() fails Unavailable and listAvailable() equals the
//    model's keys of the disks in service.
// 2. Per disk in service: extent accounting adds up; the buffer cache agrees
//    with the disk (conformance.ts, invariant 3).
import fc from 'fast-check';
import { checkSequences, reportSequences, runOnHarness } from './sequences.js';
import type { CheckOptions } from './sequences.js';
import { ShardStoreError } from '../src/base/index.js';
import type { ShardApi } from '../src/store/index.js';
import type { KeyRange, ShardNode } from '../src/node/index.js';
import { ConformanceFailure, SMALL_CONFIG, apply, checkCacheCoherent, checkExtentAccounting, formatListing, keyDigest, sameListing } from './conformance.js';
import type { EngineConfig, Listing } from './conformance.js';
import { buildStream, collect, damaged, decodeStream, expectedImport, pieces } from './migration_streams.js';
import type { StreamRecord } from './migration_streams.js';
import { ModelNode } from './model.js';
import { KEY_POOL, NODE_DISKS, PREFIX_POOL, formatNodeOp, formatNodeOps, keyOf, nodeOpArb, valueOf } from './ops.js';
import type { ControlOp, NodeOp, Op } from './ops.js';
import { SimNode } from './sim_node.js';
import { offlineToolsLeaveImages, secondOpener } from './access_check.js';

type Outcome = { readonly ok: string } | { readonly error: string };

async function outcome(fn: () => Promise<string>): Promise<Outcome> {
  try {
    return { ok: await fn() };
  } catch (err: unknown) {
    if (err instanceof ShardStoreError) return { error: err.code };
    throw err;
  }
}

function digest(buf: Buffer): string {
  return `${buf.length}B:${buf.subarray(0, 6).toString('hex')}..${buf.subarray(-6).toString('hex')}`;
}

function boundOf(i: number): Buffer | undefined {
  return i < 0 ? undefined : KEY_POOL[i];
}

export function rangeOf(op: Extract<ControlOp, { op: 'export' }>): KeyRange {
  const prefix = PREFIX_POOL[op.prefix];
  const [start, end, startAfter] = [boundOf(op.start), boundOf(op.end), boundOf(op.startAfter)];
  return {
    ...(prefix === undefined || prefix.length === 0 ? {} : { prefix }),
    ...(start === undefined ? {} : { start }),
    ...(end === undefined ? {} : { end }),
    ...(startAfter === undefined ? {} : { startAfter }),
  };
}

/** The records an import op streams: its keys in ascending order, distinct values. */
export function importRecords(op: Extract<ControlOp, { op: 'import' }>): StreamRecord[] {
  const keys = [...new Set(op.keys)].map(keyOf).sort((a, b) => Buffer.compare(a, b));
  return keys.map((key, i) => ({ key, value: valueOf(op.size, op.fill + i) }));
}

function bulkText(outcomes: ReadonlyArray<{ key: Buffer; status: string; code?: string }>): string {
  return outcomes.map((o) => `${keyDigest(o.key)}:${o.status}${o.code === undefined ? '' : `:${o.code}`}`).join(',');
}

async function listPages(api: ShardApi, prefix: Buffer, pageLimit: number): Promise<string> {
  const out: string[] = [];
  let cursor: Buffer | undefined;
  for (let pages = 1; ; pages++) {
    const page = await api.list({ prefix, limit: pageLimit, ...(cursor === undefined ? {} : { startAfter: cursor }) });
    out.push(...page.shards.map((s) => `${keyDigest(s.key)}=${s.sizeBytes}`));
    const last = page.shards.at(-1);
    if (!page.truncated || last === undefined) return `${out.join(',')} (${pages} pages)`;
    cursor = last.key;
  }
}

// ------------------------------------------------------------ the model's answers

async function modelOutcome(model: ModelNode, op: ControlOp): Promise<Outcome> {
  switch (op.op) {
    case 'bulkPut':
      return outcome(async () => bulkText((await model.bulkPut(op.keys.map((k) => ({ key: keyOf(k), value: valueOf(op.size, op.fill) })))).outcomes));
    case 'bulkDelete':
      return outcome(async () => bulkText((await model.bulkDelete(op.keys.map(keyOf))).outcomes));
    case 'diskOut':
      return (model.takeOutOfService(op.disk), { ok: 'out' });
    case 'diskIn':
      return (model.returnToService(op.disk), { ok: 'in' });
    case 'listPages':
      return outcome(() => listPages(model, PREFIX_POOL[op.prefix] ?? Buffer.alloc(0), op.pageLimit));
    case 'listAvailable':
      return outcome(async () => availableText(await model.listAvailable(listAvailableOptions(op))));
    case 'scrub': {
      const shards = (await model.listAvailable({})).shards.length;
      const out = model.outDisks();
      return { ok: `damaged 0/0, ${shards} shards, skipped [${out.join(',')}], complete ${out.length === 0}` };
    }
    case 'stats': {
      const counts = await model.shardCounts();
      return { ok: counts.map((n, d) => (model.isOut(d) ? 'out' : String(n))).join(',') };
    }
    case 'export':
      return outcome(async () => exportText(await model.exportRecords(rangeOf(op)), true));
    case 'import':
      return modelImport(model, op);
    case 'restart':
      if (!op.keepOut) for (let d = 0; d < model.diskCount; d++) model.returnToService(d);
      return { ok: 'restarted' };
    case 'secondOpen':
      return { ok: model.isOut(op.disk) ? 'checked' : 'refused' };
    case 'offlineTools':
      return { ok: 'images unchanged' };
  }
}

function listAvailableOptions(op: Extract<ControlOp, { op: 'listAvailable' }>): { prefix: Buffer; limit: number; startAfter?: Buffer } {
  const startAfter = boundOf(op.startAfter);
  return { prefix: PREFIX_POOL[op.prefix] ?? Buffer.alloc(0), limit: op.limit, ...(startAfter === undefined ? {} : { startAfter }) };
}

function availableText(r: { shards: ReadonlyArray<{ key: Buffer; sizeBytes: number }>; truncated: boolean; unavailableDisks: readonly number[] }): string {
  return `${r.shards.map((s) => `${keyDigest(s.key)}=${s.sizeBytes}`).join(',')}${r.truncated ? ' +more' : ''} missing [${r.unavailableDisks.join(',')}]`;
}

function exportText(records: readonly StreamRecord[], complete: boolean): string {
  return `${records.map((r) => `${keyDigest(r.key)}=${digest(r.value)}`).join(',')}${complete ? '' : ' (incomplete)'}`;
}

function importText(records: number, complete: boolean, error: string | undefined, last: Buffer | undefined): string {
  return `${records} records, complete ${complete}${error === undefined ? '' : `, ${error}`}, last ${last === undefined ? '-' : keyDigest(last)}`;
}

async function modelImport(model: ModelNode, op: Extract<ControlOp, { op: 'import' }>): Promise<Outcome> {
  const records = importRecords(op);
  const stream = buildStream({}, records);
  const { cutAt, flipAt } = damagePoints(stream.bytes.length, op);
  const expected = expectedImport(stream, cutAt, flipAt);
  const r = await model.importRecords(records.slice(0, expected.whole));
  // A damaged value is found only once its put reads it: a disk out of service fails the put first.
  const damagedRecord = records[expected.whole];
  const unavailableFirst = r.error === undefined && expected.damage === 'value' && damagedRecord !== undefined && model.isOut(model.diskOf(damagedRecord.key));
  const error = r.error ?? (unavailableFirst ? 'Unavailable' : expected.damage === 'none' ? undefined : 'Corruption');
  return { ok: importText(r.applied, error === undefined, error, records[r.applied - 1]?.key) };
}

export function damagePoints(length: number, op: Extract<ControlOp, { op: 'import' }>): { cutAt: number; flipAt: number } {
  const cutAt = op.cutPermille >= 1000 ? length : Math.floor((length * op.cutPermille) / 1000);
  const flipAt = op.flipPermille < 0 ? Infinity : Math.floor((length * op.flipPermille) / 1000);
  return { cutAt, flipAt };
}

// ------------------------------------------------------------ the engine's answers

async function engineOutcome(sim: SimNode, op: ControlOp): Promise<Outcome> {
  const node = sim.node;
  switch (op.op) {
    case 'bulkPut':
      return outcome(async () => bulkText((await node.bulkPut(op.keys.map((k) => ({ key: keyOf(k), value: valueOf(op.size, op.fill) })))).outcomes));
    case 'bulkDelete':
      return outcome(async () => bulkText((await node.bulkDelete(op.keys.map(keyOf))).outcomes));
    case 'diskOut':
      return outcome(async () => (await node.takeOutOfService(op.disk), 'out'));
    case 'diskIn':
      return outcome(async () => (await node.returnToService(op.disk), 'in'));
    case 'listPages':
      return outcome(() => listPages(node, PREFIX_POOL[op.prefix] ?? Buffer.alloc(0), op.pageLimit));
    case 'listAvailable':
      return outcome(async () => availableText(await node.listAvailable(listAvailableOptions(op))));
    case 'scrub':
      return engineScrub(sim);
    case 'stats': {
      await sim.drain();
      return { ok: node.nodeStats().disks.map((d) => (d.state === 'in-service' ? String(d.shardCount) : 'out')).join(',') };
    }
    case 'export':
      return engineExport(node, op);
    case 'import':
      return engineImport(node, op);
    case 'restart':
      await sim.restart(op.keepOut);
      return { ok: 'restarted' };
    case 'secondOpen':
      return { ok: await secondOpener(sim, op.disk, op.readOnly) };
    case 'offlineTools':
      await sim.whileStopped(op.dirty, () => offlineToolsLeaveImages(sim));
      return { ok: 'images unchanged' };
  }
}

async function engineScrub(sim: SimNode): Promise<Outcome> {
  await sim.drain();
  const r = await sim.node.scrub();
  const c = r.counters;
  return { ok: `damaged ${c.damagedShards}/${c.damagedIndexChunks}, ${c.shardsVerified} shards, skipped [${r.skippedDisks.join(',')}], complete ${r.complete}${r.errors.length > 0 ? ` errors ${JSON.stringify(r.errors)}` : ''}` };
}

/** Decode what the node exported; the bytes must also be exactly the stream the format gives for those records. */
async function engineExport(node: ShardNode, op: Extract<ControlOp, { op: 'export' }>): Promise<Outcome> {
  const range = rangeOf(op);
  return outcome(async () => {
    const bytes = await collect(node.exportRange(range));
    const decoded = await decodeStream(bytes);
    if (!decoded.complete) return exportText(decoded.records, false);
    const expected = buildStream(range, decoded.records).bytes;
    if (!expected.equals(bytes)) return `${exportText(decoded.records, true)} but the bytes differ from the format's`;
    return exportText(decoded.records, true);
  });
}

async function engineImport(node: ShardNode, op: Extract<ControlOp, { op: 'import' }>): Promise<Outcome> {
  const stream = buildStream({}, importRecords(op));
  const { cutAt, flipAt } = damagePoints(stream.bytes.length, op);
  const report = await node.importStream(pieces(damaged(stream, cutAt, flipAt), op.fill));
  const durable = report.records === 0 ? report.durableThrough === undefined : report.durableThrough?.equals(report.lastKey ?? Buffer.alloc(0)) === true;
  const text = importText(report.records, report.complete, report.error?.code, report.lastKey);
  return { ok: durable ? text : `${text} (durableThrough ${report.durableThrough === undefined ? '-' : keyDigest(report.durableThrough)} lags)` };
}

// ------------------------------------------------------------ the harness

const CONTROL_OPS = new Set<string>(['bulkPut', 'bulkDelete', 'diskOut', 'diskIn', 'listPages', 'listAvailable', 'scrub', 'stats', 'export', 'import', 'restart', 'secondOpen', 'offlineTools']);

function isControl(op: ControlOp | Op): op is ControlOp {
  return CONTROL_OPS.has(op.op);
}

export class NodeHarness {
  private step = 0;
  readonly model = new ModelNode(NODE_DISKS);
  /** Every step and what both answered (printed by tests that want to see the sequence work). */
  readonly trace: string[] = [];

  private constructor(readonly sim: SimNode) {}

  static async create(config: EngineConfig, seed: number): Promise<NodeHarness> {
    return new NodeHarness(await SimNode.create(config, seed));
  }

  async run(op: NodeOp): Promise<void> {
    const index = this.step++;
    let expected: Outcome;
    let actual: Outcome;
    try {
      if (op.op === 'nodeCrash') throw new ConformanceFailure(`step ${index}: nodeCrash is not in the conformance alphabet`, index);
      [expected, actual] = isControl(op) ? [await modelOutcome(this.model, op), await engineOutcome(this.sim, op)] : await this.runBase(op);
    } catch (err: unknown) {
      if (err instanceof ConformanceFailure) throw err;
      const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      throw new ConformanceFailure(`step ${index} ${formatNodeOp(op)}: threw ${what}`, index);
    }
    if (JSON.stringify(expected) !== JSON.stringify(actual)) {
      throw new ConformanceFailure(`step ${index} ${formatNodeOp(op)}: model ${JSON.stringify(expected)}, engine ${JSON.stringify(actual)}`, index);
    }
    this.trace.push(`${formatNodeOp(op)} => ${JSON.stringify(actual)}`);
    await this.checkInvariants(index);
  }

  private async runBase(op: Op): Promise<[Outcome, Outcome]> {
    const stores = this.sim.node.stores;
    switch (op.op) {
      case 'commit':
        await this.sim.drain();
        break;
      case 'flush':
        await this.sim.node.flush();
        break;
      case 'compact':
        await this.sim.node.compact();
        break;
      case 'reclaim':
        await this.sim.node.reclaim({ maxExtents: 2, maxLiveRatio: 1 });
        break;
      case 'checkpoint':
        await Promise.all(stores.map((s) => s.checkpoint()));
        break;
      case 'reboot':
        await this.sim.restart(true);
        break;
      default:
        return [await apply(this.model, op), await apply(this.sim.node, op)];
    }
    return [{ ok: 'background' }, { ok: 'background' }];
  }

  async close(): Promise<void> {
    await this.sim.node.close();
  }

  private async checkInvariants(step: number): Promise<void> {
    const model = (await this.model.listAvailable({})).shards;
    const engine = (await this.sim.node.listAvailable({})).shards;
    if (!sameListing(model, engine)) {
      throw new ConformanceFailure(`after step ${step}: listing of the disks in service differs: model [${formatListing(model)}] engine [${formatListing(engine)}]`, step);
    }
    const [m, e] = [await fullListing(this.model), await fullListing(this.sim.node)];
    if (!sameFullListing(m, e)) throw new ConformanceFailure(`after step ${step}: full listing: model ${showFullListing(m)} engine ${showFullListing(e)}`, step);
    for (const store of this.sim.node.stores) {
      checkExtentAccounting(store, step);
      await checkCacheCoherent(store, step);
    }
  }
}

/** A full listing, or the code of the typed error it failed with (Unavailable while a disk is out). */
type FullListing = { readonly shards: Listing } | { readonly error: string };

async function fullListing(api: ShardApi): Promise<FullListing> {
  try {
    return { shards: (await api.list({})).shards };
  } catch (err: unknown) {
    if (err instanceof ShardStoreError) return { error: err.code };
    throw err;
  }
}

function sameFullListing(a: FullListing, b: FullListing): boolean {
  return 'shards' in a ? 'shards' in b && sameListing(a.shards, b.shards) : 'error' in b && a.error === b.error;
}

function showFullListing(l: FullListing): string {
  return JSON.stringify('shards' in l ? { ok: formatListing(l.shards) } : l);
}

export async function runNodeSequence(ops: readonly NodeOp[], config: EngineConfig, seed: number): Promise<ConformanceFailure | undefined> {
  return runOnHarness(await NodeHarness.create(config, seed), ops);
}

export function checkNodeConformance(options: CheckOptions & { minLength?: number; maxLength?: number }): Promise<fc.RunDetails<[NodeOp[]]>> {
  const ops = fc.array(nodeOpArb(SMALL_CONFIG), { minLength: options.minLength ?? 20, maxLength: options.maxLength ?? 60 });
  return checkSequences(ops, (seq) => runNodeSequence(seq, SMALL_CONFIG, options.seed), options);
}

export function reportNode(details: fc.RunDetails<[NodeOp[]]>): string {
  return reportSequences(details, formatNodeOps);
}
