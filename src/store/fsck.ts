// fsck: an offline check of one data file, metadata first, then every chunk.
//
// Strategy, per disk (the node must not be running on the file):
// 1. Read the label; without it nothing else can be found (stop there).
// 2. Read and decode both checkpoint slots on their own, so each is reported
//    (valid and its sequence, empty, or invalid and why), not only the one
//    recovery picks.
// 3. Recover the store as open does (openDiskStore: newest valid slot,
//    metadata log replay); a failure here is reported and ends the disk.
// 4. Extent table sanity on the recovered table: superblock extents exactly
//    where the label puts them, write pointers within the extent, free
//    extents empty, the log extent a metadata extent, live bytes of a data
//    extent never above its write pointer.
// 5. Every run's index chunk and blocks lie in index extents below their
//    write pointers, and every data chunk the index names lies in a data
//    extent below its write pointer.
// 6. The scrub pass (scrub.ts) reads back and verifies every index and data
//    chunk, naming damaged shards by key.
//
// An invalid checkpoint slot is a warning, not a problem: recovery uses the
// other one, a torn checkpoint write after a crash leaves exactly that, and
// the next checkpoint overwrites it. Everything else found is a problem.
import { CorruptionError } from '../base/index.js';
import type { Locator } from '../chunk/index.js';
import type { Disk } from '../disk/index.js';
import { FileDisk } from '../disk/index.js';
import { ExtentOwner } from '../extent/index.js';
import { Superblock, decodeCheckpoint } from '../superblock/index.js';
import type { Label } from '../superblock/index.js';
import type { DamagedIndexChunk, DamagedShard } from './admin_types.js';
import type { DiskStore } from './disk_store.js';
import { openDiskStore } from './open.js';
import { RateLimiter, emptyScrubCounters, scrubDiskStore } from './scrub.js';

/** Problems listed per disk at most (the count stays exact). */
export const MAX_FSCK_PROBLEMS = 1000;
const KEYS_PER_PAGE = 256;

export interface SlotReport {
  readonly slot: 0 | 1;
  readonly state: 'valid' | 'empty' | 'invalid';
  readonly sequence?: number;
  readonly error?: string;
}

export interface FsckDiskReport {
  readonly disk: number;
  readonly path: string;
  readonly label?: { readonly nodeId: string; readonly diskIndex: number; readonly diskCount: number; readonly extentSizeBytes: number; readonly extentCount: number };
  readonly slots: SlotReport[];
  /** The slot recovery used (the newest valid one). */
  usedSlot?: 0 | 1;
  /** Metadata log records replayed after the checkpoint. */
  logRecords?: number;
  runs: number;
  shards: number;
  dataChunks: number;
  indexChunks: number;
  bytesVerified: number;
  readonly problems: string[];
  problemCount: number;
  readonly warnings: string[];
  readonly damaged: DamagedShard[];
  readonly indexDamage: DamagedIndexChunk[];
}

export interface FsckProgress {
  readonly bytesVerified: number;
  readonly shardsVerified: number;
}

export interface FsckOptions {
  readonly onProgress?: (p: FsckProgress) => void;
}

export function fsckClean(r: FsckDiskReport): boolean {
  return r.problemCount === 0 && r.damaged.length === 0 && r.indexDamage.length === 0;
}

/** Check every data file of a node (paths in disk order), and that they belong together. */
export async function fsckNode(paths: readonly string[], options: FsckOptions = {}): Promise<FsckDiskReport[]> {
  const reports: FsckDiskReport[] = [];
  for (const [i, path] of paths.entries()) reports.push(await fsckDisk(path, i, options));
  const first = reports.find((r) => r.label !== undefined)?.label;
  for (const r of reports) {
    if (r.label === undefined || first === undefined) continue;
    if (r.label.nodeId !== first.nodeId) problem(r, `label names node ${r.label.nodeId}, disk ${reports[0]?.disk ?? 0} names ${first.nodeId}`);
    if (r.label.diskIndex !== r.disk || r.label.diskCount !== paths.length) {
      problem(r, `label says disk ${r.label.diskIndex} of ${r.label.diskCount}, checked as disk ${r.disk} of ${paths.length}`);
    }
  }
  return reports;
}

/** Check one data file. Never throws for what it finds on the disk; IO errors opening the file are problems too. */
export async function fsckDisk(path: string, disk: number, options: FsckOptions = {}): Promise<FsckDiskReport> {
  const r: FsckDiskReport = { disk, path, slots: [], runs: 0, shards: 0, dataChunks: 0, indexChunks: 0, bytesVerified: 0, problems: [], problemCount: 0, warnings: [], damaged: [], indexDamage: [] };
  let file: Disk;
  try {
    file = await FileDisk.open(path);
  } catch (err: unknown) {
    problem(r, `cannot open ${path}: ${messageOf(err)}`);
    return r;
  }
  let store: DiskStore | undefined;
  try {
    const label = await readLabel(file, r);
    if (label === undefined) return r;
    const sequences = await checkSlots(file, label, r);
    try {
      store = await openDiskStore(file, { prepareHostSpace: false, onBackgroundError: (err) => problem(r, `background work failed: ${messageOf(err)}`) });
      // The extent table check compares live bytes: wait for their recount.
      await store.liveBytesReady();
    } catch (err: unknown) {
      problem(r, `recovery failed: ${messageOf(err)}`);
      return r;
    }
    noteRecovery(store, sequences, r);
    checkExtentTable(store, r);
    await checkLocators(store, r);
    await scrub(store, r, options);
  } finally {
    if (store !== undefined) await store.close();
    else await file.close();
  }
  return r;
}

async function readLabel(file: Disk, r: FsckDiskReport): Promise<Label | undefined> {
  try {
    const label = await Superblock.readLabel(file);
    const g = label.geometry;
    const nodeId = `${label.nodeId.high.toString(16).padStart(8, '0')}${label.nodeId.low.toString(16).padStart(8, '0')}`;
    Object.assign(r, { label: { nodeId, diskIndex: label.diskIndex, diskCount: label.diskCount, extentSizeBytes: g.extentSizeBytes, extentCount: g.extentCount } });
    return label;
  } catch (err: unknown) {
    problem(r, `label: ${messageOf(err)}`);
    return undefined;
  }
}

interface SlotCheckpoint {
  readonly sequence: number;
  readonly nextRecordSeq: number;
}

/** Decode both slots on their own; returns what each valid slot holds. */
async function checkSlots(file: Disk, label: Label, r: FsckDiskReport): Promise<Map<0 | 1, SlotCheckpoint>> {
  const valid = new Map<0 | 1, SlotCheckpoint>();
  for (const slot of [0, 1] as const) {
    const buf = await file.read(label.slotOffsets[slot], label.slotBytes);
    try {
      const cp = decodeCheckpoint(buf, label);
      valid.set(slot, { sequence: cp.sequence, nextRecordSeq: cp.nextRecordSeq });
      r.slots.push({ slot, state: 'valid', sequence: cp.sequence });
    } catch (err: unknown) {
      if (!(err instanceof CorruptionError)) throw err;
      // A slot never written yet (a disk checkpointed once) reads as zeros.
      if (buf.every((b) => b === 0)) {
        r.slots.push({ slot, state: 'empty' });
        continue;
      }
      r.slots.push({ slot, state: 'invalid', error: err.message });
      r.warnings.push(`checkpoint slot ${slot} is invalid (${err.message}); recovery uses the other slot`);
    }
  }
  if (valid.size === 0) problem(r, 'no valid checkpoint slot');
  return valid;
}

function noteRecovery(store: DiskStore, slots: Map<0 | 1, SlotCheckpoint>, r: FsckDiskReport): void {
  const seq = store.parts.superblock.sequence;
  for (const [slot, cp] of slots) {
    if (cp.sequence !== seq) continue;
    r.usedSlot = slot;
    // Open replays the log from the checkpoint's next sequence and leaves nextSeq after the last record.
    r.logRecords = store.parts.state.nextSeq - cp.nextRecordSeq;
  }
  if (r.usedSlot === undefined) problem(r, `recovery used checkpoint sequence ${seq}, which no slot holds`);
  r.runs = store.parts.index.runs().length;
}

function checkExtentTable(store: DiskStore, r: FsckDiskReport): void {
  const e = store.parts.extents;
  const g = store.parts.label.geometry;
  for (let x = 0; x < g.extentCount; x++) {
    const owner = e.owner(x);
    const wp = e.writePointer(x);
    const isSuper = x < g.superblockExtents;
    if (isSuper !== (owner === ExtentOwner.Superblock)) problem(r, `extent ${x}: owner ${ExtentOwner[owner] ?? owner}, but the label ${isSuper ? 'reserves it for the superblock' : 'puts the superblock below it'}`);
    if (wp < 0 || wp > g.extentSizeBytes) problem(r, `extent ${x}: write pointer ${wp} outside 0..${g.extentSizeBytes}`);
    if ((owner === ExtentOwner.Free || owner === ExtentOwner.Superblock) && wp !== 0) problem(r, `extent ${x}: ${ExtentOwner[owner]} with write pointer ${wp}`);
    const live = store.live.of(x);
    if (live > 0 && owner !== ExtentOwner.Data) problem(r, `extent ${x}: ${ExtentOwner[owner] ?? owner} extent holds ${live} live data bytes`);
    if (live > wp) problem(r, `extent ${x}: ${live} live bytes above its write pointer ${wp}`);
  }
  const logExtent = store.parts.state.logExtent;
  if (e.owner(logExtent) !== ExtentOwner.Meta) problem(r, `log extent ${logExtent} is owned by ${ExtentOwner[e.owner(logExtent)] ?? 'unknown'}`);
}

/** Run chunks in index extents, data chunks in data extents, all below the write pointer. */
async function checkLocators(store: DiskStore, r: FsckDiskReport): Promise<void> {
  const index = store.parts.index;
  for (const run of index.runs()) {
    checkLocator(store, r, run.indexChunk, ExtentOwner.Index, `run ${run.id} index chunk`);
    try {
      for (const loc of await index.chunksOf(run)) checkLocator(store, r, loc, ExtentOwner.Index, `run ${run.id} block`);
    } catch (err: unknown) {
      problem(r, `run ${run.id}: index chunk unreadable: ${messageOf(err)}`);
    }
  }
  let from: Buffer | undefined;
  for (;;) {
    let page;
    try {
      page = await index.scan({ ...(from === undefined ? {} : { from }), limit: KEYS_PER_PAGE });
    } catch (err: unknown) {
      problem(r, `index walk stopped: ${messageOf(err)}`);
      return;
    }
    for (const entry of page) {
      for (const loc of entry.value.chunks) checkLocator(store, r, loc, ExtentOwner.Data, `shard ${entry.key.toString('hex')} chunk`);
    }
    const last = page.at(-1);
    if (page.length < KEYS_PER_PAGE || last === undefined) return;
    from = Buffer.concat([last.key, Buffer.alloc(1)]);
  }
}

function checkLocator(store: DiskStore, r: FsckDiskReport, loc: Locator, want: ExtentOwner, what: string): void {
  const e = store.parts.extents;
  if (loc.extent < 0 || loc.extent >= store.parts.label.geometry.extentCount) {
    problem(r, `${what} at extent ${loc.extent}: no such extent`);
    return;
  }
  const owner = e.owner(loc.extent);
  if (owner !== want) problem(r, `${what} at ${loc.extent}:${loc.offset} lies in a ${ExtentOwner[owner] ?? owner} extent, expected ${ExtentOwner[want]}`);
  const wp = e.writePointer(loc.extent);
  if (loc.offset + loc.length > wp) problem(r, `${what} at ${loc.extent}:${loc.offset}+${loc.length} ends beyond write pointer ${wp}`);
}

async function scrub(store: DiskStore, r: FsckDiskReport, options: FsckOptions): Promise<void> {
  const counters = emptyScrubCounters();
  const onProgress = options.onProgress;
  const ctx = {
    disk: r.disk,
    limiter: new RateLimiter(0),
    counters,
    damaged: r.damaged,
    indexDamage: r.indexDamage,
    ...(onProgress === undefined ? {} : { onProgress: () => onProgress({ bytesVerified: counters.bytesVerified, shardsVerified: counters.shardsVerified }) }),
  };
  try {
    await scrubDiskStore(store, ctx);
  } catch (err: unknown) {
    problem(r, `chunk verification stopped: ${messageOf(err)}`);
  }
  r.shards = counters.shardsVerified + counters.damagedShards;
  r.dataChunks = counters.chunksVerified;
  r.indexChunks = counters.indexChunksVerified;
  r.bytesVerified = counters.bytesVerified;
}

function problem(r: FsckDiskReport, message: string): void {
  r.problemCount++;
  if (r.problems.length < MAX_FSCK_PROBLEMS) r.problems.push(message);
}

function messageOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = 'code' in err && typeof err.code === 'string' ? ` [${err.code}]` : '';
  return `${err.message}${code}`;
}
