// The redundant-runs check (issue 11, runs): every LSM run is written twice
// (run_builder.ts), and a single corrupt or unreadable sector in one copy of
// any run chunk must cost nothing.
//
// Strategy: a store on a SimDisk with small extents and long keys, so that
// each run has several blocks; a few rounds of puts, overwrites and deletes,
// each flushed to a run (the newer runs shadow keys of the older). The clean
// image is kept; then, for every chunk of every run (each block, the index
// root) in each copy, and for each fault (a flipped bit, the chunk's pages
// unreadable), a clone of the image gets the fault and a fresh open of it
// (nothing cached) answers a get of every key and a full listing. Then the
// same chunk damaged in both copies; then each index extent unreadable whole.
//
// Invariants:
// 1. No extent holds both copies of a run chunk (the run chunks are listed
//    per copy, in the same order: chunk k of one stands for chunk k of the
//    other).
// 2. One copy of a chunk damaged: every get and the full listing equal the
//    model; when the primary was damaged, the index counted a repair.
// 3. Both copies damaged: each key whose newest entry is in the damaged
//    chunk (its block, or anywhere in the run for the index root) fails with
//    a CorruptionError; every other key gives the model's answer or a
//    CorruptionError; the listing fails with a CorruptionError. Never a
//    wrong value, never a key silently absent or resurrected.
// 4. One whole index extent unreadable: every get and the listing equal the
//    model (this is what invariant 1 buys).
import { CorruptionError, IoError, NotFoundError } from '../src/base/index.js';
import { ChunkKind } from '../src/chunk/index.js';
import type { Locator } from '../src/chunk/index.js';
import type { CopyChunks, RunDescriptor } from '../src/index/index.js';
import { decodeBlock } from '../src/index/run_format.js';
import { formatDiskStore, openDiskStore } from '../src/store/index.js';
import type { DiskStore, OpenOptions } from '../src/store/index.js';
import { valueOf } from './ops.js';
import { Rng } from './rng.js';
import { SimDisk } from './sim_disk.js';

const PAGE_BYTES = 512;
const EXTENT_BYTES = 64 * 1024;
/** Long keys: about 60 entries per 64 KiB block, so runs have several blocks. */
const KEY_PAD = 'x'.repeat(1000);

export type ChunkFault = 'flip' | 'unreadable';

export interface MirrorCheckOptions {
  readonly seed: string;
  /** Keys of the first round (later rounds touch some of them); default 120. */
  readonly keys?: number;
}

export interface MirrorCheckResult {
  /** Empty when every invariant held. One line per violation, saying which fault and which key. */
  readonly failures: string[];
  /** Damaged images opened and checked. */
  readonly images: number;
  /** Repairs the index counted over all one-copy images. */
  readonly repairs: number;
}

/** One run chunk in both copies, and the keys that need it (newest entry there). */
interface Target {
  readonly run: number;
  readonly what: string;
  readonly copies: readonly [Locator, Locator];
  readonly needs: ReadonlySet<string>;
}

interface Built {
  readonly disk: SimDisk;
  readonly model: ReadonlyMap<string, Buffer>;
  readonly options: OpenOptions;
}

/** Each round of puts and deletes is flushed to a run. */
const ROUNDS = 3;

const keyOf = (i: number): Buffer => Buffer.from(`k/${String(i).padStart(4, '0')}/${KEY_PAD}`);

/** The store after its rounds, closed cleanly: the disk, and what each key holds. */
async function build(seed: string, keys: number): Promise<Built> {
  const rng = new Rng(`mirror/${seed}`);
  const disk = new SimDisk({ sizeBytes: 96 * EXTENT_BYTES, pageSizeBytes: PAGE_BYTES });
  const options: OpenOptions = { background: false, confirmIdleMs: Infinity, random: rng.fork('chunk ids'), maxChunkDataBytes: 2000 };
  const store = await formatDiskStore(disk, { ...options, extentSizeBytes: EXTENT_BYTES, maxManifestBytes: 64 * 1024 });
  const model = new Map<string, Buffer>();
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < keys; i++) {
      const touch = round === 0 || rng.bool(0.3);
      if (!touch) continue;
      const key = keyOf(i);
      if (round > 0 && rng.bool(0.3) && model.has(key.toString('hex'))) {
        await store.delete(key);
        model.delete(key.toString('hex'));
      } else {
        const value = valueOf(rng.int(0, 3000), round * 1000 + i);
        await store.put(key, value);
        model.set(key.toString('hex'), value);
      }
    }
    await store.flush();
  }
  // The next open replays an empty log: every key is answered by the runs
  // (a replayed record would answer from the memtable, hiding the damage).
  await store.checkpoint();
  await store.close();
  return { disk, model, options };
}

/** Every run chunk, with both copies and the keys that need it; and invariant 1's violations. */
async function targets(b: Built): Promise<{ targets: Target[]; failures: string[] }> {
  const store = await openDiskStore(b.disk.clone(), b.options);
  const out: Target[] = [];
  const failures: string[] = [];
  const claimed = new Set<string>();
  try {
    const runs = store.parts.index.runs();
    if (runs.length < ROUNDS) failures.push(`${runs.length} runs after ${ROUNDS} flushes: a flush failed`);
    for (const run of runs) {
      const [primary, mirror] = await store.parts.index.copyChunksOf(run);
      if (primary === undefined || mirror === undefined || primary.error !== undefined || mirror.error !== undefined) {
        failures.push(`run ${run.id}: a copy does not load on a clean image`);
        continue;
      }
      failures.push(...sharedExtents(run, primary, mirror));
      out.push(...(await runTargets(store, run, primary, mirror, claimed)));
    }
  } finally {
    await store.close();
  }
  return { targets: out, failures };
}

function sharedExtents(run: RunDescriptor, primary: CopyChunks, mirror: CopyChunks): string[] {
  if (primary.chunks.length !== mirror.chunks.length) return [`run ${run.id}: copies of ${primary.chunks.length} and ${mirror.chunks.length} chunks`];
  const out: string[] = [];
  primary.chunks.forEach((p, k) => {
    const m = mirror.chunks[k];
    if (m?.extent === p.extent) out.push(`run ${run.id} chunk ${k}: both copies in extent ${p.extent}`);
  });
  return out;
}

/**
 * The run's chunks (root, parts, blocks, in copyChunks order). A key needs a
 * block when its newest entry is there (runs come newest first: `claimed`
 * holds the keys of newer runs); it needs the index chunks when it needs
 * any block of the run.
 */
async function runTargets(store: DiskStore, run: RunDescriptor, primary: CopyChunks, mirror: CopyChunks, claimed: Set<string>): Promise<Target[]> {
  const blocks: Target[] = [];
  const inRun = new Set<string>();
  const indexChunks = primary.chunks.length - primary.blocks.length;
  for (let k = indexChunks; k < primary.chunks.length; k++) {
    const p = primary.chunks[k];
    const m = mirror.chunks[k];
    if (p === undefined || m === undefined) continue;
    const view = decodeBlock(await store.parts.chunks.read(p, ChunkKind.RunBlock));
    const needs = new Set<string>();
    for (let i = 0; i < view.count; i++) {
      const key = view.key(i).toString('hex');
      if (!claimed.has(key)) needs.add(key);
    }
    for (const key of needs) inRun.add(key);
    blocks.push({ run: run.id, what: `block ${k - indexChunks}`, copies: [p, m], needs });
  }
  for (const key of inRun) claimed.add(key);
  const index: Target[] = [];
  for (let k = 0; k < indexChunks; k++) {
    const p = primary.chunks[k];
    const m = mirror.chunks[k];
    if (p !== undefined && m !== undefined) index.push({ run: run.id, what: k === 0 ? 'index root' : `index part ${k - 1}`, copies: [p, m], needs: inRun });
  }
  return [...index, ...blocks];
}

/** A clone of the clean image with `fault` on each of `locs`. */
function damaged(b: Built, store: { diskOffset(extent: number, offset: number): number }, locs: readonly Locator[], fault: ChunkFault): SimDisk {
  const disk = b.disk.clone();
  for (const loc of locs) {
    const at = store.diskOffset(loc.extent, loc.offset);
    if (fault === 'flip') disk.flipBit(at + Math.floor(loc.length / 2), 5);
    else disk.failReads({ offset: at, length: loc.length }, 'permanent');
  }
  return disk;
}

/** A get's answer: the value, 'absent', or the code of the typed error it threw. */
type Answer = Buffer | 'absent' | 'corrupt' | 'io';

interface Answers {
  /** Per key (hex): the value read, 'absent', or an error code. */
  readonly gets: Map<string, Answer>;
  readonly listing: string[] | 'corrupt' | 'io';
  readonly repairs: number;
}

/** Open `disk` fresh and ask it every key of the model (and of `also`) and the full listing. */
async function ask(disk: SimDisk, b: Built, also: readonly string[]): Promise<Answers> {
  const backgroundErrors: unknown[] = [];
  const store = await openDiskStore(disk, { ...b.options, onBackgroundError: (err) => backgroundErrors.push(err) });
  const gets = new Map<string, Answer>();
  try {
    for (const hex of new Set([...b.model.keys(), ...also])) gets.set(hex, await getOne(store, Buffer.from(hex, 'hex')));
    const listing = await listAll(store);
    return { gets, listing, repairs: store.parts.index.stats().mirrorRepairs };
  } finally {
    store.abandon();
  }
}

async function getOne(store: DiskStore, key: Buffer): Promise<Answer> {
  try {
    return await store.get(key);
  } catch (err: unknown) {
    if (err instanceof NotFoundError) return 'absent';
    if (err instanceof CorruptionError) return 'corrupt';
    if (err instanceof IoError) return 'io';
    throw err;
  }
}

async function listAll(store: DiskStore): Promise<string[] | 'corrupt' | 'io'> {
  const keys: string[] = [];
  try {
    for (let startAfter: Buffer | undefined; ; ) {
      const page = await store.list({ limit: 50, ...(startAfter === undefined ? {} : { startAfter }) });
      keys.push(...page.shards.map((s) => s.key.toString('hex')));
      startAfter = page.shards.at(-1)?.key;
      if (!page.truncated || startAfter === undefined) return keys;
    }
  } catch (err: unknown) {
    if (err instanceof CorruptionError) return 'corrupt';
    if (err instanceof IoError) return 'io';
    throw err;
  }
}

const short = (hex: string): string => Buffer.from(hex, 'hex').toString().slice(0, 8);

/** Invariant 2 and 4: exactly the model. */
function exact(b: Built, a: Answers, what: string): string[] {
  const out: string[] = [];
  for (const [hex, got] of a.gets) {
    const want = b.model.get(hex) ?? 'absent';
    const same = typeof got === 'string' || typeof want === 'string' ? got === want : got.equals(want);
    if (!same) out.push(`${what}: get ${short(hex)} gave ${typeof got === 'string' ? got : `${got.length} bytes`}, the model ${typeof want === 'string' ? want : `${want.length} bytes`}`);
  }
  const wantList = [...b.model.keys()].sort();
  if (typeof a.listing === 'string' || a.listing.join() !== wantList.join()) {
    out.push(`${what}: listing gave ${typeof a.listing === 'string' ? a.listing : `${a.listing.length} keys`}, the model ${wantList.length}`);
  }
  return out;
}

/** Invariant 3: the keys that need the lost chunk fail, typed; the others are right or fail, typed. */
function typed(b: Built, a: Answers, t: Target, what: string): string[] {
  const out: string[] = [];
  for (const [hex, got] of a.gets) {
    if (got === 'corrupt') continue;
    const want = b.model.get(hex) ?? 'absent';
    if (t.needs.has(hex)) out.push(`${what}: get ${short(hex)}, whose newest entry is lost, gave ${typeof got === 'string' ? got : 'a value'}, not a CorruptionError`);
    else if (typeof got === 'string' || typeof want === 'string' ? got !== want : !got.equals(want)) out.push(`${what}: get ${short(hex)} gave a wrong answer`);
  }
  if (a.listing !== 'corrupt') out.push(`${what}: listing gave ${typeof a.listing === 'string' ? a.listing : `${a.listing.length} keys`}, not a CorruptionError`);
  return out;
}

/** Run the check for one seed. */
export async function checkRunMirrors(options: MirrorCheckOptions): Promise<MirrorCheckResult> {
  const b = await build(options.seed, options.keys ?? 120);
  const { targets: all, failures } = await targets(b);
  const geometry = await openDiskStore(b.disk.clone(), b.options);
  const extents = geometry.parts.extents;
  const indexExtents = new Set(all.flatMap((t) => t.copies.map((c) => c.extent)));
  geometry.abandon();
  let images = 0;
  let repairs = 0;
  // Keys the rounds deleted are asked too (they must stay absent): all keys of round 0.
  const everyKey = Array.from({ length: options.keys ?? 120 }, (_, i) => keyOf(i).toString('hex'));
  for (const t of all) {
    for (const fault of ['flip', 'unreadable'] as const) {
      for (const copy of [0, 1] as const) {
        const what = `run ${t.run} ${t.what}, ${copy === 0 ? 'primary' : 'mirror'} ${fault}`;
        const a = await ask(damaged(b, extents, [t.copies[copy]], fault), b, everyKey);
        images++;
        repairs += a.repairs;
        failures.push(...exact(b, a, what));
        if (copy === 0 && a.repairs === 0) failures.push(`${what}: no repair counted`);
      }
      const both = await ask(damaged(b, extents, t.copies, fault), b, everyKey);
      images++;
      failures.push(...typed(b, both, t, `run ${t.run} ${t.what}, both copies ${fault}`));
    }
  }
  for (const extent of indexExtents) {
    const disk = b.disk.clone();
    disk.failReads({ offset: extents.diskOffset(extent, 0), length: EXTENT_BYTES }, 'permanent');
    images++;
    failures.push(...exact(b, await ask(disk, b, everyKey), `index extent ${extent} unreadable`));
  }
  return { failures, images, repairs };
}
