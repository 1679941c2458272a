// Metadata-damage check: a bit flip or an unreadable sector in what
// recovery reads (label, checkpoint slots, metadata-log records, LSM run
// blocks and run index chunks) never silently loses acknowledged data
// (SYSTEM.md section 4: "A single corrupt or unreadable sector anywhere,
// metadata included, never silently loses acknowledged data: it is
// repaired from redundancy, or the store refuses to open and says what is
// damaged").
//
// Strategy: run a random sequence of puts, deletes, commits, index
// flushes, compactions, reclamations, checkpoints and clean reboots (the
// conformance alphabet without reads: testing/ops.ts), recording each
// mutation with its Dependency (History, testing/crash.ts). A
// metaFault(target, damage, copies, reboot) operation is one episode:
// 1. Reboot, clean (close) or dirty (a crash image: unflushed writes
//    dropped, kept, a subset, or torn), and open the undamaged image (the
//    probe). What the probe reads for every key must be allowed by the
//    dependencies (else the failure is a crash-consistency one, said so).
//    The values each key may hold (History.allowed: after a clean reboot
//    exactly its last acknowledged value) are the episode's reference.
// 2. Find the metadata structures of the image from the probe's own state
//    (testing/metadata_sites.ts) and pick one of the target kind; damage
//    one copy of it ('one') or every copy ('all') on a clone of the image:
//    flip one bit at a random byte of the written bytes, or make the page
//    holding that byte unreadable for good.
// 3. Run fsck (src/tools/fsck.ts) on one clone of the damaged image, and
//    open another, reading back every key ever written.
// 4. Carry on with the probe (the undamaged image), so a sequence checks
//    several episodes, each on its own.
//
// Invariants (after each episode's damage):
// a. One copy damaged: open succeeds and every key reads back exactly a
//    value it may hold (its acknowledged value, or absent if deleted).
//    The reference is what the dependencies promised, not what the
//    undamaged image recovers: after a dirty reboot a record that was never
//    acknowledged may survive in one copy only, and losing it to damage is
//    allowed. Likewise a record or checkpoint that a crash left with fewer
//    copies than the others (its write never completed): damage to it is
//    judged as damage to every copy (b), and fsck may take it for the tear.
// b. Every copy damaged: open succeeds, or refuses with a typed error
//    (Corruption, or Io for an unreadable sector) whose message names the
//    damaged structure; every key reads back exactly, or fails with a typed
//    error. Never NotFound for a key that cannot be absent (silently
//    absent), never other bytes, never a deleted key back.
// c. fsck reports the damage: not clean, and it does not throw. Where
//    damage to one copy is also what a crash leaves, a warning that names
//    the structure suffices: an invalid older checkpoint slot, one copy of
//    the newest checkpoint (a crash during the second copy's write tears
//    either copy, since the write order depends on which copy was bad), one
//    copy of the last log record.
// d. fsck never writes to the image it checks (inspect, scrub and export
//    are the read-only-tools check's business).
// They are checked in this order and the first broken one is the failure.
import fc from 'fast-check';
import { ShardStoreError } from '../src/base/index.js';
import { FileDisk } from '../src/disk/index.js';
import { openDiskStore } from '../src/store/index.js';
import type { DiskStore } from '../src/store/index.js';
import { fsckClean, fsckDisk } from '../src/tools/fsck.js';
import type { FsckDiskReport } from '../src/tools/fsck.js';
import { formatDiskStore } from '../src/store/index.js';
import { ConformanceFailure, SMALL_CONFIG, formatOptions, keyDigest } from './conformance.js';
import type { EngineConfig } from './conformance.js';
import { History } from './crash.js';
import { META_TARGETS, locateMetadata } from './metadata_sites.js';
import type { MetaCopy, MetaStructure, MetaTarget } from './metadata_sites.js';
import { formatOp, keyOf, opArb, valueOf } from './ops.js';
import type { AlphabetWeights, Op, SizeProfile } from './ops.js';
import { Rng } from './rng.js';
import { checkSequences, runOnHarness } from './sequences.js';
import type { CheckOptions, SequenceHarness } from './sequences.js';
import { SimDisk } from './sim_disk.js';
import type { CrashMode } from './sim_disk.js';

export interface MetaFaultOp {
  readonly op: 'metaFault';
  readonly target: MetaTarget;
  readonly damage: 'bitflip' | 'unreadable';
  /** one: a single copy of the structure (invariant a); all: every copy (invariant b). */
  readonly copies: 'one' | 'all';
  readonly reboot: 'clean' | CrashMode;
  /** Picks the structure among those of the target kind, the copy, the byte and the bit. */
  readonly pick: number;
}

export type MetaOp = Op | MetaFaultOp;

export interface MetaFaultFocus {
  readonly targets?: readonly MetaTarget[];
  readonly copies?: ReadonlyArray<'one' | 'all'>;
  readonly damage?: ReadonlyArray<'bitflip' | 'unreadable'>;
  readonly reboots?: ReadonlyArray<'clean' | CrashMode>;
}

/**
 * The conformance suites' small engine on 512-byte pages. With 4 KiB pages
 * a log (at most SMALL_CONFIG's 3000 bytes before it rolls) never left its
 * first page, so no record crossed a page boundary and damage inside a
 * record could never begin after the page it starts on: the shape in which
 * replay once ended the log silently before a record whose second page was
 * unreadable in both copies (broken variant replay-checks-next-page-only).
 */
export const METADATA_CONFIG: EngineConfig = { ...SMALL_CONFIG, pageSizeBytes: 512 };

/** Mutations and background work only: reads are the other suites' business. */
const PREFIX_WEIGHTS: AlphabetWeights = { put: 8, read: 0, delete: 3, list: 0, background: 4, reboot: 1 };

/**
 * Episodes. Left out: a bit flipped in every copy of the last log record.
 * A flip in a record's frame (its length) can make it look exactly like a
 * record torn by a crash during its write, which replay must take as the
 * end of the log; two such flips are beyond what any replay can tell from
 * a torn tail, so only one damaged copy of the last record is a contract
 * (an unreadable last record is not a tear, and stays in).
 */
export function metaFaultArb(focus: MetaFaultFocus = {}): fc.Arbitrary<MetaFaultOp> {
  const targets = focus.targets ?? META_TARGETS;
  const damages = focus.damage ?? (['bitflip', 'unreadable'] as const);
  const copies = focus.copies ?? (['one', 'all'] as const);
  const left = targets.some((t) => damages.some((d) => copies.some((c) => !leftOut(t, d, c))));
  if (!left) throw new RangeError('metadata-fault focus leaves no episode (every copy of the last record flipped is left out)');
  const episode = fc.record({
    op: fc.constant('metaFault' as const),
    target: fc.constantFrom(...targets),
    damage: fc.constantFrom(...damages),
    copies: fc.constantFrom(...copies),
    reboot: fc.constantFrom(...(focus.reboots ?? (['clean', 'drop-all', 'keep-all', 'subset', 'torn'] as const))),
    // Not shrunk: a smaller pick is no simpler a case, and each shrink step
    // reruns the whole sequence with its episodes.
    pick: fc.noShrink(fc.nat({ max: 1 << 30 })),
  });
  return episode.filter((e) => !leftOut(e.target, e.damage, e.copies));
}

function leftOut(target: MetaTarget, damage: MetaFaultOp['damage'], copies: MetaFaultOp['copies']): boolean {
  return target === 'log-last' && copies === 'all' && damage === 'bitflip';
}

/** A sequence of the prefix alphabet with episodes among it, always ending with one. */
export function metaFaultSequenceArb(p: SizeProfile, focus: MetaFaultFocus = {}): fc.Arbitrary<MetaOp[]> {
  const episode = metaFaultArb(focus);
  const op = fc.oneof({ weight: 14, arbitrary: opArb(p, PREFIX_WEIGHTS) }, { weight: 1, arbitrary: episode });
  return fc.tuple(fc.array(op, { minLength: 5, maxLength: 40, size: 'max' }), episode).map(([ops, last]) => [...ops, last]);
}

export function formatMetaOp(o: MetaOp): string {
  if (o.op !== 'metaFault') return formatOp(o);
  const reboot = o.reboot === 'clean' ? 'clean reboot' : `dirty reboot ${o.reboot}`;
  return `metaFault(${o.damage} in ${o.copies === 'one' ? 'one copy' : 'every copy'} of ${o.target}, after ${reboot}, pick#${o.pick})`;
}

export function formatMetaOps(ops: readonly MetaOp[]): string {
  return ops.map((o, i) => `  ${String(i).padStart(3)}: ${formatMetaOp(o)}`).join('\n');
}

export interface MetaFaultCounters {
  crashStates: number;
  operations: number;
  faultsInjected: number;
}

/** What a key read back as: its bytes, absent (null), or the error a read failed with. */
type ReadBack = Buffer | null | { readonly error: unknown };

export class MetaFaultHarness implements SequenceHarness<MetaOp> {
  private step = 0;
  private readonly history = new History();

  private constructor(
    private disk: SimDisk,
    private store: DiskStore,
    private readonly config: EngineConfig,
    private readonly rng: Rng,
    readonly counters: MetaFaultCounters,
  ) {}

  static async create(config: EngineConfig, seed: number, counters: MetaFaultCounters): Promise<MetaFaultHarness> {
    const rng = new Rng(seed);
    const disk = new SimDisk({ sizeBytes: config.diskSizeBytes, pageSizeBytes: config.pageSizeBytes, fillSeed: seed });
    const store = await formatDiskStore(disk, formatOptions(config, rng.fork('chunk-ids')));
    return new MetaFaultHarness(disk, store, config, rng, counters);
  }

  async run(op: MetaOp): Promise<void> {
    const index = this.step++;
    this.counters.operations++;
    try {
      if (op.op === 'metaFault') await this.episode(op, index);
      else await this.runOp(op);
    } catch (err: unknown) {
      if (err instanceof ConformanceFailure) throw err;
      throw new ConformanceFailure(`step ${index} ${formatMetaOp(op)}: engine threw ${describe(err)}`, index);
    }
  }

  async close(): Promise<void> {
    await this.store.close();
  }

  private async runOp(op: Op): Promise<void> {
    switch (op.op) {
      case 'put': {
        const key = keyOf(op.key);
        const value = valueOf(op.size, op.fill);
        this.history.record(key, { value, dependency: await this.store.put(key, value) });
        return;
      }
      case 'delete':
        return this.delete(keyOf(op.key));
      case 'commit':
        return this.store.log.drain();
      case 'flush':
        return this.store.flush();
      case 'compact':
        return this.store.compact();
      case 'reclaim':
        return void (await this.store.reclaim({ maxExtents: 2, maxLiveRatio: 1 }));
      case 'checkpoint':
        return this.store.checkpoint();
      case 'reboot':
        await this.store.close();
        this.disk = this.disk.clone();
        this.store = await this.open(this.disk);
        return;
      default:
        return;
    }
  }

  private async delete(key: Buffer): Promise<void> {
    try {
      this.history.record(key, { value: null, dependency: await this.store.delete(key) });
    } catch (err: unknown) {
      if (!(err instanceof ShardStoreError && err.code === 'NotFound')) throw err;
    }
  }

  private open(disk: SimDisk, onBackgroundError?: (err: unknown) => void): Promise<DiskStore> {
    const options = formatOptions(this.config, this.rng.fork('chunk-ids'));
    return openDiskStore(disk, onBackgroundError === undefined ? options : { ...options, onBackgroundError });
  }

  private async episode(op: MetaFaultOp, index: number): Promise<void> {
    const at = `step ${index} ${formatMetaOp(op)}`;
    const { image, allowed } = await this.reboot(op, index);
    const probeDisk = image.clone();
    this.disk = probeDisk;
    this.store = await this.open(probeDisk);
    const keys = [...allowed.keys()].sort();
    const before = await readBack(this.store, keys);
    checkAllowed(before, allowed, (why) => fail(`${at}: before any damage, after the reboot: ${why}`, index));
    this.history.reset(presentValues(before), new Map());
    // The sites are found on the image the damage goes to, through a
    // read-only open: the probe's open may have repaired a torn copy by
    // rolling the log (a new run, a new checkpoint), which the image, and
    // so the damaged clone, does not hold.
    const locator = await openDiskStore(image.clone(), { ...formatOptions(this.config, this.rng.fork('locate-ids')), readOnly: true });
    let structure;
    try {
      structure = pickStructure(await locateMetadata(locator, image), op);
    } finally {
      locator.abandon();
    }
    if (structure === undefined) return;
    const hit = op.copies === 'all' ? structure.copies : pickCopy(structure.copies, op);
    const damaged = image.clone();
    const where = damage(damaged, hit, op, this.config.extentSizeBytes);
    this.counters.faultsInjected++;
    const fsck = await fsckSimDisk(damaged.clone());
    const reopened = await this.readDamaged(damaged.clone(), keys);
    const why = judge({ op, structure, where, allowed, reopened, fsck });
    if (why !== undefined) fail(`${at}: ${why}`, index);
  }

  /** The undamaged image a reboot leaves, and what each key may hold on it. */
  private async reboot(op: MetaFaultOp, index: number): Promise<{ image: SimDisk; allowed: Map<string, Array<Buffer | null>> }> {
    if (op.reboot === 'clean') {
      await this.store.close();
      return { image: this.disk.clone(), allowed: this.history.allowed() };
    }
    const allowed = this.history.allowed();
    this.store.abandon();
    const { disk } = this.disk.crash(this.rng.fork(`crash-${index}`), op.reboot);
    disk.clearFaults();
    this.counters.crashStates++;
    return { image: disk, allowed };
  }

  /** Open the damaged image and read every key; the store is abandoned after (nothing it would write matters). */
  private async readDamaged(disk: SimDisk, keys: readonly string[]): Promise<Map<string, ReadBack> | { readonly refused: unknown }> {
    let store: DiskStore;
    try {
      // Background work on a damaged image (the live-byte recount) may fail;
      // the invariants judge what the reads answer, so its errors are not
      // printed, only kept for a debugger.
      const background: unknown[] = [];
      store = await this.open(disk, (err) => background.push(err));
    } catch (err: unknown) {
      return { refused: err };
    }
    try {
      return await readBack(store, keys);
    } finally {
      store.abandon();
    }
  }
}

function fail(message: string, step: number): never {
  throw new ConformanceFailure(message, step);
}

async function readBack(store: DiskStore, keys: readonly string[]): Promise<Map<string, ReadBack>> {
  const out = new Map<string, ReadBack>();
  for (const k of keys) {
    try {
      out.set(k, await store.get(Buffer.from(k, 'latin1')));
    } catch (err: unknown) {
      out.set(k, err instanceof ShardStoreError && err.code === 'NotFound' ? null : { error: err });
    }
  }
  return out;
}

function checkAllowed(before: Map<string, ReadBack>, allowed: Map<string, Array<Buffer | null>>, fail: (why: string) => never): void {
  for (const [k, got] of before) {
    const values = allowed.get(k) ?? [null];
    if (got !== null && !Buffer.isBuffer(got)) fail(`key ${keyDigest(Buffer.from(k, 'latin1'))} failed to read: ${describe(got.error)}`);
    const ok = values.some((v) => (v === null ? got === null : Buffer.isBuffer(got) && v.equals(got)));
    if (!ok) fail(`key ${keyDigest(Buffer.from(k, 'latin1'))} holds ${show(got)}, allowed: ${values.map(show).join(' | ')}`);
  }
}

function presentValues(before: Map<string, ReadBack>): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of before) if (Buffer.isBuffer(v)) out.set(k, v);
  return out;
}

function pickStructure(all: readonly MetaStructure[], op: MetaFaultOp): MetaStructure | undefined {
  const candidates = all.filter((s) => s.target === op.target && s.copies.length > 0);
  return candidates[op.pick % Math.max(1, candidates.length)];
}

function pickCopy(copies: readonly MetaCopy[], op: MetaFaultOp): MetaCopy[] {
  const copy = copies[Math.floor(op.pick / 7) % copies.length];
  return copy === undefined ? [] : [copy];
}

/**
 * An unreadable log record's damage runs on to the end of its extent in
 * half of the episodes (bit 29 of the pick): a failing region, not one
 * sector. Records share pages and one may start on a readable page and run
 * into the damaged one, with every later record behind it; replay once
 * ended the log silently there, because it looked for damage only on the
 * page where the next record starts. The pick's other bits choose as
 * before, so the sequences a seed generates are unchanged.
 */
function onward(op: MetaFaultOp): boolean {
  return op.damage === 'unreadable' && (op.target === 'log-middle' || op.target === 'log-last') && ((op.pick >> 29) & 1) === 1;
}

/** Damage each copy at the same relative byte (clamped to its length); returns where, for messages. */
function damage(disk: SimDisk, copies: readonly MetaCopy[], op: MetaFaultOp, extentSizeBytes: number): string {
  const spots: string[] = [];
  for (const copy of copies) {
    const byte = copy.offset + (Math.floor(op.pick / 8) % copy.length);
    if (op.damage === 'bitflip') {
      disk.flipBit(byte, op.pick % 8);
      spots.push(`${copy.what} (bit ${op.pick % 8} of byte ${byte})`);
    } else if (onward(op)) {
      const page = Math.floor(byte / disk.pageSizeBytes) * disk.pageSizeBytes;
      const extentEnd = (Math.floor(byte / extentSizeBytes) + 1) * extentSizeBytes;
      disk.failReads({ offset: page, length: extentEnd - page }, 'permanent');
      spots.push(`${copy.what} (pages from byte ${byte} to the end of its extent unreadable)`);
    } else {
      disk.failPageReads(byte);
      spots.push(`${copy.what} (page of byte ${byte} unreadable)`);
    }
  }
  return spots.join(' and ');
}

/** What an offline tool did on a simulated disk: its result or what it threw, and how many writes it issued. */
export interface ToolRun<T> {
  readonly value?: T;
  readonly threw?: unknown;
  readonly writes: number;
}

/**
 * Run an offline tool (fsck) on a simulated disk. The tools take
 * paths and open them with FileDisk.open; until they take a Disk (a seam
 * asked of the lead), the opener is swapped for the length of the call,
 * here and nowhere else. A check runs one sequence at a time per process,
 * so nothing else opens a FileDisk meanwhile.
 */
export async function onSimDisk<T>(disk: SimDisk, tool: (path: string) => Promise<T>): Promise<ToolRun<T>> {
  const original = FileDisk.open.bind(FileDisk);
  let opened = false;
  FileDisk.open = (): Promise<FileDisk> => {
    opened = true;
    return Promise.resolve(disk as unknown as FileDisk);
  };
  const writesBefore = disk.stats.writes;
  let result: { value?: T; threw?: unknown };
  try {
    result = { value: await tool('sim:metadata-faults') };
  } catch (err: unknown) {
    result = { threw: err };
  } finally {
    FileDisk.open = original;
  }
  if (!opened) throw new Error('the tool did not open its disk through FileDisk.open: onSimDisk must follow the new seam');
  return { ...result, writes: disk.stats.writes - writesBefore };
}

export function fsckSimDisk(disk: SimDisk): Promise<ToolRun<FsckDiskReport>> {
  return onSimDisk(disk, (path) => fsckDisk(path, 0));
}

interface Episode {
  readonly op: MetaFaultOp;
  readonly structure: MetaStructure;
  readonly where: string;
  readonly allowed: Map<string, Array<Buffer | null>>;
  readonly reopened: Map<string, ReadBack> | { readonly refused: unknown };
  readonly fsck: ToolRun<FsckDiskReport>;
}

/** The first broken invariant of an episode (see the header), or undefined. */
function judge(e: Episode): string | undefined {
  const where = `metadata damage at ${e.where}`;
  // A structure a crash left short of a copy was never acknowledged: damage
  // to what is left is damage to every copy.
  const single = e.op.copies === 'one' && !e.structure.partial;
  if (e.reopened instanceof Map) {
    for (const [k, values] of e.allowed) {
      const why = judgeKey(keyName(k), values, e.reopened.get(k) ?? null, single, where);
      if (why !== undefined) return why;
    }
  } else {
    const why = judgeRefusal(e.reopened.refused, e.structure.target, e.structure.copies.length, single, where);
    if (why !== undefined) return why;
  }
  return judgeFsck(e, where);
}

function judgeKey(key: string, values: ReadonlyArray<Buffer | null>, got: ReadBack, single: boolean, where: string): string | undefined {
  const may = values.map((v) => (v === null ? 'absent' : `${v.length}B`)).join(' | ');
  if (got === null) {
    return values.includes(null) ? undefined : `acknowledged key ${key} silently absent after ${where} (it may hold only: ${may})`;
  }
  if (Buffer.isBuffer(got)) {
    if (values.some((v) => v !== null && v.equals(got))) return undefined;
    if (values.every((v) => v === null)) return `key ${key} is back (${got.length}B) after ${where}, though its delete was acknowledged`;
    return `wrong bytes: key ${key} returned ${got.length}B after ${where}, not a value it may hold (${may}): an older value back, or bytes never written`;
  }
  if (!isTypedDamage(got.error)) return `key ${key} failed with an untyped error after ${where}: ${describe(got.error)}`;
  if (single) return `acknowledged key ${key} unreadable after a single ${where} (not repaired from another copy): ${describe(got.error)}`;
  return undefined;
}

/** What a refusal must name, per structure kind: the structure, in words a user can act on. */
const NAMES: Readonly<Record<MetaTarget, { readonly noun: string; readonly pattern: RegExp }>> = {
  label: { noun: 'label', pattern: /label/i },
  'checkpoint-newest': { noun: 'checkpoint', pattern: /checkpoint|superblock|slot/i },
  'checkpoint-older': { noun: 'checkpoint', pattern: /checkpoint|superblock|slot/i },
  'log-middle': { noun: 'metadata-log record', pattern: /log|record/i },
  'log-last': { noun: 'metadata-log record', pattern: /log|record/i },
  'run-block': { noun: 'run block', pattern: /run|index|block/i },
  'run-index': { noun: 'run index', pattern: /run|index/i },
};

/** Structures whose damage to one copy fsck may report as a warning (judgeFsck). */
const WARNED: ReadonlySet<MetaTarget> = new Set<MetaTarget>(['checkpoint-older', 'checkpoint-newest', 'log-last']);

function judgeRefusal(err: unknown, target: MetaTarget, copies: number, single: boolean, where: string): string | undefined {
  if (single) return `open refused after a single ${where} (one copy damaged of ${copies} found): ${describe(err)}`;
  if (!isTypedDamage(err)) return `open refused with an untyped error after ${where}: ${describe(err)}`;
  const message = err instanceof Error ? err.message : String(err);
  const { noun, pattern } = NAMES[target];
  if (!pattern.test(message)) return `open refused after ${where}, but its message does not say that a ${noun} is damaged: ${describe(err)}`;
  return undefined;
}

function judgeFsck(e: Episode, where: string): string | undefined {
  const { value: report, threw, writes } = e.fsck;
  if (report === undefined) return `fsck threw after ${where}: ${describe(threw)}`;
  // A warning is a report where damage and a crash look the same, and it
  // must name the structure: an invalid older checkpoint slot; one copy of
  // the newest checkpoint (its copies are written one after the other, and
  // a crash during the second write tears either copy under the other's
  // whole checkpoint: fsck.ts checkSlots); one copy of the last log record
  // (a crash between the two copies' writes leaves exactly that, and the
  // record was then never acknowledged; fsck says "torn").
  const { pattern } = NAMES[e.structure.target];
  const warned = WARNED.has(e.structure.target) && report.warnings.some((w) => pattern.test(w));
  // A partial structure's damage looks like the tear that left it partial:
  // fsck need not tell the two apart.
  if (fsckClean(report) && !warned && !e.structure.partial) return `fsck reported clean after ${where}`;
  if (writes > 0) return `fsck wrote to the image it checked (${writes} writes) after ${where}: a tool that checks never writes`;
  return undefined;
}

/** A key as printed in failures: quoted when printable, else hex. */
function keyName(k: string): string {
  return /^[\x20-\x7e]{1,40}$/.test(k) ? JSON.stringify(k) : keyDigest(Buffer.from(k, 'latin1'));
}

function isTypedDamage(err: unknown): boolean {
  return err instanceof ShardStoreError && (err.code === 'Corruption' || err.code === 'Io');
}

function show(v: ReadBack): string {
  if (v === null) return 'absent';
  return Buffer.isBuffer(v) ? `${v.length}B` : `error ${describe(v.error)}`;
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = err instanceof ShardStoreError ? ` [${err.code}]` : '';
  return `${err.name}: ${err.message}${code}`;
}

/** fast-check over metadata-fault sequences (`focus` narrows the episodes): the broken variants' tests. */
export function checkMetadataFaults(options: CheckOptions, focus: MetaFaultFocus = {}): Promise<fc.RunDetails<[MetaOp[]]>> {
  const counters: MetaFaultCounters = { crashStates: 0, operations: 0, faultsInjected: 0 };
  return checkSequences(metaFaultSequenceArb(METADATA_CONFIG, focus), (seq) => runMetaFaultSequence(seq, METADATA_CONFIG, options.seed, counters), options);
}

/** Run one sequence; returns the failure, if any. */
export async function runMetaFaultSequence(ops: readonly MetaOp[], config: EngineConfig, seed: number, counters: MetaFaultCounters): Promise<ConformanceFailure | undefined> {
  const h = await MetaFaultHarness.create(config, seed, counters);
  return runOnHarness(h, ops);
}
