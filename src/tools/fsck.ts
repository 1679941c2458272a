// fsck: an offline check of one data file, metadata first, then every chunk.
//
// Strategy, per disk. fsck never writes: the file is opened read-only and
// recovery runs in memory (openDiskStore with readOnly), and it holds the
// disk's lock like any opener, so on a file a server uses it is refused at
// once (LockedError, thrown, not reported as a problem).
// 1. Read both copies of the label; without one nothing else can be found
//    (stop there). A damaged copy is a problem (open rewrites it).
// 2. Read and decode every copy of both checkpoint slots on its own, so each
//    is reported (valid and its sequence, empty, or invalid and why), not
//    only the one recovery picks.
// 3. Recover the store as open does, in memory only (openDiskStore with
//    readOnly: newest valid checkpoint, both copies of the metadata log); a
//    failure here (a log damaged in both copies) is reported and ends the
//    disk. A log record whole in one copy only is a problem, except the
//    last record (a crash during its append tears it: a warning).
// 4. Extent table sanity on the recovered table: superblock extents exactly
//    where the label puts them, write pointers within the extent, free
//    extents empty, the log extent a metadata extent, live bytes of a data
//    extent never above its write pointer.
// 5. Every run's index chunk and blocks lie in index extents below their
//    write pointers, and every data chunk the index names lies in a data
//    extent below its write pointer.
// 6. The scrub pass (scrub.ts) reads back and verifies every index and data
//    chunk, naming damaged shards by key.
// 7. Both copies of every run (checkRunCopies): each copy's index loads,
//    each block reads back in both copies and the two are byte for byte the
//    same, and no extent holds both copies of a chunk. A damaged copy is a
//    problem although reads are served by the other: the redundancy is gone
//    until the run is rewritten (a compaction), and the user must know.
//
// Warnings, not problems: an invalid older checkpoint slot (recovery does
// not need it, a torn checkpoint write after a crash leaves exactly that,
// and the next checkpoint overwrites it), and a torn last log record in one
// copy. A damaged copy of anything recovery needs is a problem, although
// recovery reads the other copy: one more fault there would lose data, so
// the operator must know (the next open of the server repairs it, for the
// label, checkpoint and log; a run's copy is rewritten by its next
// compaction).
import { CorruptionError, IoError, LockedError, isAllZero } from '../base/index.js';
import type { Locator } from '../chunk/index.js';
import { WALK_PAGE_KEYS } from '../index/index.js';
import type { Disk } from '../disk/index.js';
import { FileDisk } from '../disk/index.js';
import { ExtentOwner } from '../extent/index.js';
import { Superblock, decodeCheckpoint } from '../superblock/index.js';
import type { Label } from '../superblock/index.js';
import type { DamagedIndexChunk, DamagedShard } from '../node/index.js';
import type { DiskStore } from '../store/index.js';
import { openDiskStore } from '../store/index.js';
import { RateLimiter, emptyScrubCounters, scrubDiskStore } from '../store/index.js';

/** Problems listed per disk at most (the count stays exact). */
export const MAX_FSCK_PROBLEMS = 1000;

export interface SlotReport {
  readonly slot: 0 | 1;
  /** Each slot is kept in two copies. */
  readonly copy: 0 | 1;
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
  /** The two copies of the label: valid, or why not. */
  labelCopies?: string[];
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

/**
 * Check one data file, read-only. Never throws for what it finds on the
 * disk; IO errors opening the file are problems too. Throws LockedError if
 * another process holds the file (a running server).
 */
export async function fsckDisk(path: string, disk: number, options: FsckOptions = {}): Promise<FsckDiskReport> {
  let file: Disk;
  try {
    file = await FileDisk.open(path, { readOnly: true });
  } catch (err: unknown) {
    if (err instanceof LockedError) throw err;
    const r = emptyReport(disk, path);
    problem(r, `cannot open ${path}: ${messageOf(err)}`);
    return r;
  }
  return fsckOpenDisk(file, disk, path, options);
}

function emptyReport(disk: number, path: string): FsckDiskReport {
  return { disk, path, slots: [], runs: 0, shards: 0, dataChunks: 0, indexChunks: 0, bytesVerified: 0, problems: [], problemCount: 0, warnings: [], damaged: [], indexDamage: [] };
}

/**
 * Check a disk the caller opened (and holds): reads only, closes `file`.
 * `path` names it in the report.
 */
export async function fsckOpenDisk(file: Disk, disk: number, path: string, options: FsckOptions = {}): Promise<FsckDiskReport> {
  const r = emptyReport(disk, path);
  let store: DiskStore | undefined;
  try {
    const label = await readLabel(file, r);
    if (label === undefined) return r;
    const sequences = await checkSlots(file, label, r);
    try {
      store = await openDiskStore(file, { readOnly: true, background: false, prepareHostSpace: false, onBackgroundError: (err) => problem(r, `background work failed: ${messageOf(err)}`) });
      // The extent table check compares live bytes: wait for their recount.
      await store.liveBytesReady();
    } catch (err: unknown) {
      problem(r, `recovery failed: ${messageOf(err)}`);
      return r;
    }
    noteRecovery(store, sequences, r);
    checkLogCopies(store, r);
    checkExtentTable(store, r);
    await checkLocators(store, r);
    await checkRunCopies(store, r);
    await scrub(store, r, options);
  } finally {
    // The store is read-only: its close commits nothing (disk_store.ts).
    if (store !== undefined) await store.close();
    else await file.close();
  }
  return r;
}

async function readLabel(file: Disk, r: FsckDiskReport): Promise<Label | undefined> {
  try {
    const { label, copies } = await Superblock.readLabelCopies(file);
    const g = label.geometry;
    const nodeId = `${label.nodeId.high.toString(16).padStart(8, '0')}${label.nodeId.low.toString(16).padStart(8, '0')}`;
    Object.assign(r, { label: { nodeId, diskIndex: label.diskIndex, diskCount: label.diskCount, extentSizeBytes: g.extentSizeBytes, extentCount: g.extentCount } });
    r.labelCopies = copies.map((c) => (c.ok ? 'valid' : c.error));
    copies.forEach((c, i) => {
      if (!c.ok) problem(r, `label copy ${i} is damaged (${c.error}); the other copy is whole, and the next open rewrites this one`);
    });
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

/** Decode every copy of both slots on its own; returns what each valid slot holds. */
async function checkSlots(file: Disk, label: Label, r: FsckDiskReport): Promise<Map<0 | 1, SlotCheckpoint>> {
  const valid = new Map<0 | 1, SlotCheckpoint>();
  const invalid: Array<{ slot: 0 | 1; copy: 0 | 1; error: string }> = [];
  for (const slot of [0, 1] as const) {
    for (const copy of [0, 1] as const) {
      const offset = (copy === 0 ? label.slotOffsets : label.slotCopyOffsets)[slot];
      let buf: Buffer;
      try {
        buf = await file.read(offset, label.slotBytes);
      } catch (err: unknown) {
        const error = `unreadable at ${offset}: ${messageOf(err)}`;
        r.slots.push({ slot, copy, state: 'invalid', error });
        invalid.push({ slot, copy, error });
        continue;
      }
      try {
        const cp = decodeCheckpoint(buf, label);
        const seen = valid.get(slot);
        if (seen === undefined || cp.sequence > seen.sequence) valid.set(slot, { sequence: cp.sequence, nextRecordSeq: cp.nextRecordSeq });
        r.slots.push({ slot, copy, state: 'valid', sequence: cp.sequence });
      } catch (err: unknown) {
        if (!(err instanceof CorruptionError)) throw err;
        // A slot never written yet (a disk checkpointed once) reads as zeros.
        if (isAllZero(buf)) {
          r.slots.push({ slot, copy, state: 'empty' });
          continue;
        }
        r.slots.push({ slot, copy, state: 'invalid', error: err.message });
        invalid.push({ slot, copy, error: err.message });
      }
    }
  }
  if (valid.size === 0) problem(r, 'no valid checkpoint slot');
  const newest = Math.max(...[...valid.values()].map((v) => v.sequence));
  // The copies of a slot are written one after the other (Superblock.write):
  // copy 0 first, or copy 1 first when copy 1 was the slot's only bad copy.
  // A crash during the second write therefore leaves either copy torn under
  // a whole newest checkpoint, or older than the other: fsck cannot tell that
  // from damage to one copy, and recovery reads the whole, newest copy either
  // way. Both copies of a slot bad is what no crash leaves: recovery refuses
  // it, and that refusal is the problem reported below.
  for (const bad of invalid) {
    const other = r.slots.find((s) => s.slot === bad.slot && s.copy !== bad.copy);
    const ofNewest = other?.sequence === newest;
    if (ofNewest) r.warnings.push(`checkpoint slot ${bad.slot} copy ${bad.copy} is invalid (${bad.error}) under the newest checkpoint in copy ${other.copy}: damage, or a crash during this copy's write (the copies are written one after the other); recovery reads copy ${other.copy}, and the slot's next checkpoint rewrites both`);
    else r.warnings.push(`checkpoint slot ${bad.slot} copy ${bad.copy} is invalid (${bad.error}); recovery does not need it (an older or torn checkpoint)`);
  }
  for (const [slot] of valid) {
    const seqs = r.slots.filter((s) => s.slot === slot && s.state === 'valid').map((s) => s.sequence);
    const [first, second] = seqs;
    if (seqs.length !== 2 || first === undefined || second === undefined || first === second) continue;
    const [newer, older] = first > second ? [0, 1] : [1, 0];
    r.warnings.push(`checkpoint slot ${slot}: copy ${newer} holds sequence ${Math.max(first, second)}, copy ${older} still the older ${Math.min(first, second)} (a crash between the two copies' writes); recovery reads copy ${newer}`);
  }
  return valid;
}

/** A log record whole in one copy only: a problem, but for the last record (a crash tears it). */
function checkLogCopies(store: DiskStore, r: FsckDiskReport): void {
  const log = store.view.recovery.log;
  const lastSeq = store.view.lastRecordSeq;
  for (const d of log.copyDamage) {
    const where = `metadata log record ${d.seq}: copy ${d.copy} (extent ${d.extent})`;
    if (d.seq === lastSeq) r.warnings.push(`${where} is torn or damaged (a crash during its append leaves the same; it was then never acknowledged); the other copy is whole`);
    else problem(r, `${where} is damaged; recovery reads the other copy, and the next open rolls the log to restore both`);
  }
  for (const u of log.unreadable) problem(r, `metadata log copy ${u.copy} (extent ${u.extent}): page at ${u.offset} unreadable`);
  // The last cycle's data checked at open (log_verify.ts): a record dropped
  // for it is the trace of a crash during that cycle's flush (never
  // acknowledged); a damaged named chunk (unreadable, a flipped bit) is damage.
  const tail = store.view.recovery.tail;
  if (tail.dropped !== undefined) r.warnings.push(`metadata log ends before record ${tail.dropped.seq}: its data is not whole (${tail.dropped.reason}); a crash during that cycle's flush leaves the same, and it was then never acknowledged`);
  for (const d of tail.damagedData) problem(r, `${d.reason} (named by the last metadata record)`);
}

function noteRecovery(store: DiskStore, slots: Map<0 | 1, SlotCheckpoint>, r: FsckDiskReport): void {
  const seq = store.view.checkpointSequence;
  for (const [slot, cp] of slots) {
    if (cp.sequence !== seq) continue;
    r.usedSlot = slot;
    // Open replays the log from the checkpoint's next sequence and leaves nextSeq after the last record.
    r.logRecords = store.view.lastRecordSeq + 1 - cp.nextRecordSeq;
  }
  if (r.usedSlot === undefined) problem(r, `recovery used checkpoint sequence ${seq}, which no slot holds`);
  r.runs = store.view.runs().length;
}

function checkExtentTable(store: DiskStore, r: FsckDiskReport): void {
  const e = store.view;
  const g = e.geometry;
  for (let x = 0; x < g.extentCount; x++) {
    const owner = e.owner(x);
    const wp = e.writePointer(x);
    const isSuper = x < g.superblockExtents;
    if (isSuper !== (owner === ExtentOwner.Superblock)) problem(r, `extent ${x}: owner ${ExtentOwner[owner] ?? owner}, but the label ${isSuper ? 'reserves it for the superblock' : 'puts the superblock below it'}`);
    if (wp < 0 || wp > g.extentSizeBytes) problem(r, `extent ${x}: write pointer ${wp} outside 0..${g.extentSizeBytes}`);
    if ((owner === ExtentOwner.Free || owner === ExtentOwner.Superblock) && wp !== 0) problem(r, `extent ${x}: ${ExtentOwner[owner]} with write pointer ${wp}`);
    const live = e.liveBytes(x);
    if (live > 0 && owner !== ExtentOwner.Data) problem(r, `extent ${x}: ${ExtentOwner[owner] ?? owner} extent holds ${live} live data bytes`);
    if (live > wp) problem(r, `extent ${x}: ${live} live bytes above its write pointer ${wp}`);
  }
  for (const logExtent of e.logExtents) {
    if (e.owner(logExtent) !== ExtentOwner.Meta) problem(r, `log extent ${logExtent} is owned by ${ExtentOwner[e.owner(logExtent)] ?? 'unknown'}`);
  }
}

/** Run chunks in index extents, data chunks in data extents, all below the write pointer. */
async function checkLocators(store: DiskStore, r: FsckDiskReport): Promise<void> {
  const index = store.view;
  for (const run of index.runs()) {
    checkLocator(store, r, run.indexChunk, ExtentOwner.Index, `run ${run.id} index chunk`);
    try {
      for (const loc of await index.runChunks(run)) checkLocator(store, r, loc, ExtentOwner.Index, `run ${run.id} block`);
    } catch (err: unknown) {
      problem(r, `run ${run.id}: index chunk unreadable: ${messageOf(err)}`);
    }
  }
  let from: Buffer | undefined;
  for (;;) {
    let page;
    try {
      page = await index.scan({ ...(from === undefined ? {} : { from }), limit: WALK_PAGE_KEYS });
    } catch (err: unknown) {
      problem(r, `index walk stopped: ${messageOf(err)}`);
      return;
    }
    for (const entry of page) {
      for (const loc of entry.value.chunks) checkLocator(store, r, loc, ExtentOwner.Data, `shard ${entry.key.toString('hex')} chunk`);
    }
    const last = page.at(-1);
    if (page.length < WALK_PAGE_KEYS || last === undefined) return;
    from = Buffer.concat([last.key, Buffer.alloc(1)]);
  }
}

/** Step 7: both copies of every run load, agree, and never share an extent for one chunk. */
async function checkRunCopies(store: DiskStore, r: FsckDiskReport): Promise<void> {
  const index = store.view;
  const at = (l: Locator): string => `${l.extent}:${l.offset}+${l.length}`;
  for (const run of index.runs()) {
    let copies;
    try {
      copies = await index.runCopies(run);
    } catch (err: unknown) {
      problem(r, `run ${run.id}: no copy of its index loads: ${messageOf(err)}`);
      continue;
    }
    const [primary, mirror] = copies;
    if (primary === undefined || mirror === undefined) throw new CorruptionError(`run ${run.id}: ${copies.length} copies listed`);
    for (const c of copies) {
      if (c.error !== undefined) problem(r, `run ${run.id}: ${c.copy} copy damaged, its index (root at ${at(c.root)}) does not load: ${messageOf(c.error)}`);
    }
    if (primary.error !== undefined || mirror.error !== undefined) continue;
    primary.chunks.forEach((p, k) => {
      const m = mirror.chunks[k];
      if (m !== undefined && m.extent === p.extent) problem(r, `run ${run.id}: both copies of chunk ${k} in extent ${p.extent}`);
    });
    for (const [i, p] of primary.blocks.entries()) {
      const m = mirror.blocks[i];
      if (m === undefined) continue;
      const [a, b] = await Promise.all([readCopy(store, p), readCopy(store, m)]);
      if (typeof a === 'string') problem(r, `run ${run.id} block ${i}: primary copy at ${at(p)} damaged: ${a}`);
      if (typeof b === 'string') problem(r, `run ${run.id} block ${i}: mirror copy at ${at(m)} damaged: ${b}`);
      if (Buffer.isBuffer(a) && Buffer.isBuffer(b) && !a.equals(b)) problem(r, `run ${run.id} block ${i}: the copies at ${at(p)} and ${at(m)} disagree`);
    }
  }
}

/** A run block's payload, or why it does not read. */
async function readCopy(store: DiskStore, loc: Locator): Promise<Buffer | string> {
  try {
    return await store.view.readRunBlock(loc);
  } catch (err: unknown) {
    if (err instanceof CorruptionError || err instanceof IoError) return messageOf(err);
    throw err;
  }
}

function checkLocator(store: DiskStore, r: FsckDiskReport, loc: Locator, want: ExtentOwner, what: string): void {
  const e = store.view;
  if (loc.extent < 0 || loc.extent >= e.geometry.extentCount) {
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
