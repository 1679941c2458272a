// Tests of the LSM index against a Map model, over an in-memory ChunkIo.
//
// Strategy: fast-check generates command sequences (apply, lookup, scan,
// flush in steps, compaction, two compactions at once, restore from the
// manifest) with keys
// drawn from a small pool over a tiny alphabet, so that keys collide, share
// prefixes, and are overwritten and deleted often; blocks and chunk payloads
// are tiny, so runs have many blocks and run indexes split into parts.
// Reads are also started without being awaited ('startRead'), so they run
// interleaved with later flushes, compactions and restores; each must equal
// the model as it was when the read started (a snapshot).
// Invariants checked after every command: every lookup and scan equals the
// model; runs' maxSeq strictly decrease; each run's chunks add up to its
// bytes per extent; the live-bytes map covers every installed run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CorruptionError, IoError } from '../base/index.js';
import { alignUp, framedBytes } from '../chunk/index.js';
import { ChunkKind } from '../chunk/index.js';
import type { ChunkAppend, ChunkIo, Locator } from '../chunk/index.js';
import { Dependency } from '../dependency/index.js';
import { LsmIndex, MAX_SCAN_LIMIT } from './lsm_index.js';
import { NEEDS_READ } from './run_reader.js';
import type { IndexMutation, LsmIndexOptions } from './lsm_index.js';
import type { CompactionJob, FlushJob, RunOutput } from './jobs.js';
import { BlockBuilder, decodeBlock } from './run_format.js';
import { MIN_BLOCK_BYTES } from './run_builder.js';
import type { RunStreams } from './run_builder.js';
import { MAX_FAN_IN, MIN_FAN_IN } from './compaction_policy.js';
import { BLOCK_HEADER_BYTES, VALUE_TAG_BYTES, entryBytes } from './run_format.js';
import type { ExtentBytes, IndexValue, RunDescriptor } from './run_format.js';

// ------------------------------------------------------------ in-memory ChunkIo

interface StoredChunk {
  readonly kind: ChunkKind;
  readonly payload: Buffer;
}

/** Where one stream appends: extents fill up and roll over like the real stream's. */
class MemCursor {
  private offset = 0;

  constructor(
    private extent: number,
    private readonly extentBytes: number,
  ) {}

  next(length: number): Locator {
    if (this.offset + alignUp(length) > this.extentBytes && this.offset > 0) {
      this.extent++;
      this.offset = 0;
    }
    const locator: Locator = { extent: this.extent, offset: this.offset, length };
    this.offset += alignUp(length);
    return locator;
  }
}

/** First extent of the mirror stream: far from the primary's, as a paired ChunkStream keeps them. */
const MIRROR_FIRST_EXTENT = 1_000_000;

/**
 * Chunks in a Map keyed by locator. `streams` gives the index its two
 * streams: this one, and a mirror appending to its own extents into the
 * same Map (reads, gates and faults are shared).
 */
class MemChunkIo implements ChunkIo {
  readonly chunks = new Map<string, StoredChunk>();
  reads = 0;
  /** When set, reads wait for it (to hold a reader mid-flight). */
  gate: Promise<void> | undefined;
  /** When set, each read first waits this many macrotasks (reads of several readers interleave). */
  delay: (() => number) | undefined;
  /** Chunks (by key) whose reads fail: a bad sector (IoError) or a failed checksum (CorruptionError). */
  readonly broken = new Map<string, 'io' | 'corrupt'>();
  readonly streams: RunStreams;
  private readonly cursor: MemCursor;

  constructor(
    readonly maxPayloadBytes: number,
    extentBytes = 8192,
  ) {
    this.cursor = new MemCursor(1, extentBytes);
    const mirror = new MemCursor(MIRROR_FIRST_EXTENT, extentBytes);
    this.streams = {
      primary: this,
      mirror: { maxPayloadBytes, append: (kind, payload) => this.appendAt(mirror, kind, payload), read: (l, k) => this.read(l, k) },
    };
  }

  append(kind: ChunkKind, payload: readonly Uint8Array[]): ChunkAppend {
    return this.appendAt(this.cursor, kind, payload);
  }

  private appendAt(cursor: MemCursor, kind: ChunkKind, payload: readonly Uint8Array[]): ChunkAppend {
    const data = Buffer.concat(payload);
    assert.ok(data.length <= this.maxPayloadBytes, 'payload above the limit');
    const locator = cursor.next(framedBytes(data.length));
    this.chunks.set(MemChunkIo.key(locator), { kind, payload: data });
    return { locator, dependency: Dependency.none };
  }

  async read(locator: Locator, kind: ChunkKind): Promise<Buffer> {
    this.reads++;
    if (this.gate !== undefined) await this.gate;
    for (let hops = this.delay?.() ?? 0; hops > 0; hops--) await new Promise((resolve) => setImmediate(resolve));
    const fault = this.broken.get(MemChunkIo.key(locator));
    if (fault === 'io') throw new IoError(`unreadable chunk at ${MemChunkIo.key(locator)}`);
    if (fault === 'corrupt') throw new CorruptionError(`checksum mismatch at ${MemChunkIo.key(locator)}`);
    const c = this.chunks.get(MemChunkIo.key(locator));
    if (c === undefined || c.kind !== kind || framedBytes(c.payload.length) !== locator.length) {
      throw new CorruptionError(`no chunk of kind ${kind} at ${MemChunkIo.key(locator)}`);
    }
    return c.payload;
  }

  /** An extent reset, as far as these chunks are concerned: later reads of them fail. */
  drop(locators: readonly Locator[]): void {
    for (const l of locators) assert.ok(this.chunks.delete(MemChunkIo.key(l)), 'dropped a chunk twice');
  }

  static key(l: Locator): string {
    return `${l.extent}:${l.offset}:${l.length}`;
  }
}

// ------------------------------------------------------------ model and commands

const hex = (b: Buffer): string => b.toString('hex');

function modelScan(model: Map<string, IndexValue>, from: Buffer | undefined, prefix: Buffer | undefined, limit: number): Array<[string, IndexValue]> {
  return [...model.entries()]
    .map(([k, v]) => [Buffer.from(k, 'hex'), v] as const)
    .filter(([k]) => (from === undefined || Buffer.compare(k, from) >= 0) && (prefix === undefined || k.subarray(0, prefix.length).equals(prefix)))
    .sort((a, b) => Buffer.compare(a[0], b[0]))
    .slice(0, limit)
    .map(([k, v]) => [hex(k), v]);
}

// Plain objects: fc.record's have a null prototype, which deepStrictEqual tells apart.
const locatorArb = fc
  .tuple(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 1 << 20 }), fc.integer({ min: 36, max: 2000 }))
  .map(([extent, offset, length]): Locator => ({ extent, offset: offset * 8, length }));

const valueArb: fc.Arbitrary<IndexValue> = fc
  .array(locatorArb, { minLength: 0, maxLength: 4 })
  .chain((chunks) => {
    const capacity = chunks.reduce((s, c) => s + c.length - 36, 0);
    return fc.integer({ min: 0, max: capacity }).map((sizeBytes) => ({ sizeBytes, chunks }));
  });

type Cmd =
  | { readonly t: 'apply'; readonly muts: ReadonlyArray<{ readonly k: number; readonly v: IndexValue | null }> }
  | { readonly t: 'lookup'; readonly k: number }
  | { readonly t: 'scan'; readonly from: number | undefined; readonly prefix: number | undefined; readonly limit: number }
  | { readonly t: 'flush' | 'flushBegin' | 'flushFinish' | 'flushAbort' | 'restore' }
  | { readonly t: 'compact'; readonly full: boolean; readonly abort: boolean }
  | { readonly t: 'compactPair'; readonly newestFirst: boolean }
  | { readonly t: 'startRead'; readonly k: number; readonly prefix: number | undefined; readonly limit: number };

const KEYS = 24;
const keyIndex = fc.nat({ max: KEYS - 1 });

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .array(fc.record({ k: keyIndex, v: fc.option(valueArb, { freq: 3, nil: null }) }), { minLength: 1, maxLength: 8 })
      .map((muts) => ({ t: 'apply' as const, muts })),
  },
  { weight: 3, arbitrary: keyIndex.map((k) => ({ t: 'lookup' as const, k })) },
  {
    weight: 3,
    arbitrary: fc
      .record({
        from: fc.option(keyIndex, { nil: undefined }),
        prefix: fc.option(keyIndex, { nil: undefined }),
        limit: fc.integer({ min: 0, max: 12 }),
      })
      .map((s) => ({ t: 'scan' as const, ...s })),
  },
  { weight: 2, arbitrary: fc.constantFrom('flush' as const, 'flushBegin' as const, 'flushFinish' as const).map((t) => ({ t })) },
  { weight: 1, arbitrary: fc.constantFrom('flushAbort' as const, 'restore' as const).map((t) => ({ t })) },
  {
    weight: 2,
    arbitrary: fc
      .record({ full: fc.boolean(), abort: fc.integer({ min: 0, max: 4 }).map((n) => n === 0) })
      .map((r) => ({ t: 'compact' as const, ...r })),
  },
  { weight: 1, arbitrary: fc.boolean().map((newestFirst) => ({ t: 'compactPair' as const, newestFirst })) },
  {
    weight: 2,
    arbitrary: fc
      .record({ k: keyIndex, prefix: fc.option(keyIndex, { nil: undefined }), limit: fc.integer({ min: 1, max: 12 }) })
      .map((r) => ({ t: 'startRead' as const, ...r })),
  },
);

/** Keys over {00, 01, 61, ff}, 1..5 bytes: many shared prefixes, empty-looking bytes, 0xff edges. */
const keyPoolArb = fc.uniqueArray(
  fc.array(fc.constantFrom(0x00, 0x01, 0x61, 0xff), { minLength: 1, maxLength: 5 }).map((a) => Buffer.from(a)),
  { minLength: KEYS, maxLength: KEYS, selector: hex },
);

const configArb = fc.record({
  ioSeed: fc.integer({ min: 1, max: 0x7fffffff }),
  maxPayloadBytes: fc.constantFrom(200, 4096),
  maxBlockBytes: fc.constantFrom(64, 128, 1024),
  fanIn: fc.integer({ min: 2, max: 4 }),
  blockCacheBlocks: fc.constantFrom(0, 4, 256),
});

// ------------------------------------------------------------ runner

class Harness {
  readonly io: MemChunkIo;
  index: LsmIndex;
  readonly model = new Map<string, IndexValue>();
  private readonly log: Array<{ seq: number; muts: IndexMutation[] }> = [];
  private seq = 0;
  private flushedThroughSeq = -1;
  private flush: { job: FlushJob; out: RunOutput } | undefined;
  private readonly pendingReads: Array<Promise<void>> = [];
  private readonly readErrors: unknown[] = [];

  constructor(
    readonly keys: readonly Buffer[],
    private readonly options: LsmIndexOptions & { maxPayloadBytes: number; ioSeed: number },
  ) {
    this.io = new MemChunkIo(options.maxPayloadBytes);
    // 0..2 macrotasks per read, from a seeded generator (replayable).
    let state = options.ioSeed;
    this.io.delay = () => {
      state = (Math.imul(state, 48271) >>> 0) % 0x7fffffff;
      return state % 3;
    };
    this.index = new LsmIndex(this.io.streams, options);
  }

  key(i: number): Buffer {
    const k = this.keys[i % this.keys.length];
    assert.ok(k !== undefined);
    return k;
  }

  async run(cmd: Cmd): Promise<void> {
    switch (cmd.t) {
      case 'apply':
        return this.apply(cmd.muts);
      case 'lookup':
        return this.checkLookup(this.key(cmd.k));
      case 'scan':
        return this.checkScan(cmd.from === undefined ? undefined : this.key(cmd.from), cmd.prefix, cmd.limit);
      case 'flush':
        this.flushBegin();
        return this.flushFinish();
      case 'flushBegin':
        return this.flushBegin();
      case 'flushFinish':
        return this.flushFinish();
      case 'flushAbort':
        return this.flushAbort();
      case 'compact':
        return this.compact(cmd.full, cmd.abort);
      case 'compactPair':
        return this.compactPair(cmd.newestFirst);
      case 'restore':
        return this.restore();
      case 'startRead':
        return this.startRead(this.key(cmd.k), cmd.prefix, cmd.limit);
    }
  }

  /** Start a lookup and a scan now, check them later against the model of now. */
  private startRead(key: Buffer, prefixIndex: number | undefined, limit: number): void {
    const prefix = this.prefix(prefixIndex);
    const wantValue = this.model.get(hex(key));
    const wantScan = modelScan(this.model, key, prefix, limit);
    const lookup = this.index.lookup(key).then((v) => assert.deepStrictEqual(v, wantValue, `pending lookup ${hex(key)}`));
    const scan = this.index
      .scan({ from: key, ...(prefix === undefined ? {} : { prefix }), limit })
      .then((got) => assert.deepStrictEqual(got.map((e) => [hex(e.key), e.value]), wantScan, 'pending scan'));
    // Errors are collected, not left unhandled, and reported by finalCheck.
    for (const p of [lookup, scan]) this.pendingReads.push(p.catch((err: unknown) => void this.readErrors.push(err)));
  }

  private prefix(prefixIndex: number | undefined): Buffer | undefined {
    // Prefixes: the first 1..2 bytes of a pool key.
    return prefixIndex === undefined ? undefined : this.key(prefixIndex).subarray(0, 1 + (prefixIndex % 2));
  }

  private apply(muts: ReadonlyArray<{ k: number; v: IndexValue | null }>): void {
    const batch = muts.map((m) => ({ key: this.key(m.k), value: m.v }));
    this.seq++;
    this.index.apply(batch, this.seq);
    this.log.push({ seq: this.seq, muts: batch });
    for (const m of batch) {
      if (m.value === null) this.model.delete(hex(m.key));
      else this.model.set(hex(m.key), m.value);
    }
  }

  async checkLookup(key: Buffer): Promise<void> {
    assert.deepStrictEqual(await this.index.lookup(key), this.model.get(hex(key)), `lookup ${hex(key)}`);
  }

  async checkScan(from: Buffer | undefined, prefixIndex: number | undefined, limit: number): Promise<void> {
    const prefix = this.prefix(prefixIndex);
    const got = await this.index.scan({ ...(from === undefined ? {} : { from }), ...(prefix === undefined ? {} : { prefix }), limit });
    const want = modelScan(this.model, from, prefix, limit);
    assert.deepStrictEqual(
      got.map((e) => [hex(e.key), e.value]),
      want,
      `scan from ${from === undefined ? '-' : hex(from)} prefix ${prefix === undefined ? '-' : hex(prefix)} limit ${limit}`,
    );
  }

  private flushBegin(): void {
    if (this.flush !== undefined) return;
    const job = this.index.beginFlush();
    if (job !== undefined) this.flush = { job, out: job.write() };
  }

  private flushFinish(): void {
    if (this.flush === undefined) return;
    this.index.finishFlush(this.flush.job, this.flush.out.run);
    this.flushedThroughSeq = Math.max(this.flushedThroughSeq, this.flush.job.maxSeq);
    this.flush = undefined;
  }

  private flushAbort(): void {
    if (this.flush === undefined) return;
    this.index.abortFlush(this.flush.job);
    this.flush = undefined;
  }

  private async compact(full: boolean, abort: boolean): Promise<void> {
    const job = this.index.pickCompaction({ full });
    if (job === undefined) return;
    const out = await job.write();
    if (out.run !== undefined) assert.ok(!job.dropsTombstones || out.run.tombstoneCount === 0, 'tombstones kept');
    if (abort) this.index.abortCompaction(job);
    else await this.finishAndDrop(job, out.run);
  }

  /** Two compactions at once (a tiered one, then a full one at the oldest over the runs left free), finished in either order. */
  private async compactPair(newestFirst: boolean): Promise<void> {
    const first = this.index.pickCompaction();
    const second = this.index.pickCompaction({ full: true });
    const jobs = [first, second].filter((j) => j !== undefined);
    const ids = jobs.flatMap((j) => j.inputs.map((r) => r.id));
    assert.equal(new Set(ids).size, ids.length, 'a run busy in one job is never picked by another');
    const outs = await Promise.all(jobs.map((j) => j.write()));
    const order = newestFirst ? [0, 1] : [1, 0];
    for (const i of order) {
      const job = jobs[i];
      if (job !== undefined) await this.finishAndDrop(job, outs[i]?.run);
    }
  }

  /** Install a compaction; once no reader uses its inputs, drop their chunks (a reader still on them would fail). */
  private async finishAndDrop(job: CompactionJob, run: RunDescriptor | undefined): Promise<void> {
    const chunks = (await Promise.all(job.inputs.map((r) => this.index.chunksOf(r)))).flat();
    this.index.finishCompaction(job, run);
    this.pendingReads.push(this.index.whenUnused(job.inputs).then(() => this.io.drop(chunks)));
  }

  /** A reboot (once reads in flight are done): a fresh index over the same chunks, from the manifest, then the log replayed past what runs hold. */
  private async restore(): Promise<void> {
    await Promise.all(this.pendingReads);
    const manifest = [...this.index.runs()].sort((a, b) => b.maxSeq - a.maxSeq);
    this.index = new LsmIndex(this.io.streams, this.options);
    this.index.restore(manifest);
    this.flush = undefined;
    for (const rec of this.log) if (rec.seq > this.flushedThroughSeq) this.index.apply(rec.muts, rec.seq);
  }

  async checkInvariants(): Promise<void> {
    const runs = this.index.runs();
    for (let i = 1; i < runs.length; i++) assert.ok((runs[i - 1]?.maxSeq ?? 0) > (runs[i]?.maxSeq ?? 0), 'maxSeq order');
    const live = this.index.liveIndexBytesByExtent();
    const sum = new Map<number, number>();
    for (const r of runs) {
      const perExtent = new Map<number, number>();
      for (const l of await this.index.chunksOf(r)) perExtent.set(l.extent, (perExtent.get(l.extent) ?? 0) + l.length);
      const both = [...r.extents, ...r.mirrorExtents];
      assert.deepStrictEqual(new Map(both.map((e) => [e.extent, e.bytes])), perExtent, `run ${r.id} bytes per extent, both copies`);
      for (const e of both) sum.set(e.extent, (sum.get(e.extent) ?? 0) + e.bytes);
    }
    for (const [extent, bytes] of sum) assert.ok((live.get(extent) ?? 0) >= bytes, `live bytes of extent ${extent}`);
    const stats = this.index.stats();
    assert.equal(stats.runs, runs.length);
    assert.equal(stats.busyRuns, 0);
  }

  /** End of a sequence: everything still matches after compacting to one run. */
  async finalCheck(): Promise<void> {
    await Promise.all(this.pendingReads);
    if (this.readErrors.length > 0) throw this.readErrors[0];
    this.flushFinish();
    for (const k of this.keys) await this.checkLookup(k);
    await this.checkScan(undefined, undefined, 1000);
    await compactToOne(this.index);
    const runs = this.index.runs();
    assert.ok(runs.length <= 1, `compacting everything left ${runs.length} runs`);
    assert.equal(runs[0]?.tombstoneCount ?? 0, 0, 'tombstones left after compacting everything');
    await this.checkScan(undefined, undefined, 1000);
    for (const k of this.keys) await this.checkLookup(k);
  }
}

// ------------------------------------------------------------ tests

// Checks: the index behaves as a Map under random apply / lookup / scan /
// flush (whole or in steps, aborted) / compaction (tiered, full, rewrite) /
// restore-from-manifest sequences. How: the Harness above runs each command
// on both and compares every read; invariants after every step; at the end
// everything is compacted into one run and compared again.
test('LSM index matches a Map model over random command sequences', async () => {
  await fc.assert(
    fc.asyncProperty(keyPoolArb, configArb, fc.array(cmdArb, { minLength: 5, maxLength: 100, size: 'max' }), async (keys, config, cmds) => {
      const h = new Harness(keys, config);
      for (const cmd of cmds) {
        await h.run(cmd);
        await h.checkInvariants();
      }
      await h.finalCheck();
    }),
    { seed: 42, numRuns: 250 },
  );
});

/** Compact until one run is left (or nothing can be picked), as the store's explicit compaction does. */
async function compactToOne(index: LsmIndex): Promise<void> {
  for (let bound = 2 * index.runs().length + 2; bound > 0; bound--) {
    const job = index.pickCompaction() ?? index.pickCompaction({ full: true });
    if (job === undefined) return;
    index.finishCompaction(job, (await job.write()).run);
  }
}

function value(n: number): IndexValue {
  return { sizeBytes: n, chunks: [{ extent: 7, offset: n * 8, length: 36 + n }] };
}

function flushAll(index: LsmIndex): RunDescriptor {
  const job = index.beginFlush();
  assert.ok(job !== undefined);
  const out = job.write();
  index.finishFlush(job, out.run);
  return out.run;
}

// Checks: a tombstone in a newer run hides the value in an older run, also
// after a compaction of the newer runs that does not include the oldest
// (which must keep the tombstone), and after a full compaction (which drops
// it). How: fan-in 2; two flushed runs (k put) merge into the oldest run, at
// level 1; then two level-0 runs (delete k; other keys), which the tiered
// pick merges without the oldest.
test('tombstones shadow older runs, before and after compaction', async () => {
  const io = new MemChunkIo(4096);
  const index = new LsmIndex(io.streams, { maxBlockBytes: 64, fanIn: 2 });
  const k = Buffer.from('key-k');
  let seq = 0;
  index.apply([{ key: k, value: value(1) }], ++seq);
  flushAll(index);
  index.apply([{ key: Buffer.from('key-a'), value: value(2) }], ++seq);
  flushAll(index);
  const merge = index.pickCompaction();
  assert.ok(merge !== undefined && merge.dropsTombstones);
  const oldest = (await merge.write()).run;
  index.finishCompaction(merge, oldest);
  assert.ok(oldest !== undefined && oldest.level === 1);
  index.apply([{ key: k, value: null }], ++seq);
  flushAll(index);
  index.apply([{ key: Buffer.from('key-z'), value: value(3) }], ++seq);
  flushAll(index);
  assert.equal(await index.lookup(k), undefined);
  assert.deepEqual((await index.scan({ limit: 10 })).map((e) => e.key.toString()), ['key-a', 'key-z']);

  const job = index.pickCompaction();
  assert.ok(job !== undefined && !job.dropsTombstones, 'the tiered merge of the two newer runs is not at the oldest');
  const out = await job.write();
  assert.equal(out.run?.tombstoneCount, 1, 'tombstone kept: an older run holds the key');
  index.finishCompaction(job, out.run);
  assert.deepEqual(index.runs().map((r) => r.id), [out.run?.id, oldest.id]);
  assert.equal(await index.lookup(k), undefined);
  assert.deepEqual((await index.scan({ limit: 10 })).map((e) => e.key.toString()), ['key-a', 'key-z']);
  assert.deepEqual((await index.scan({ prefix: Buffer.from('key-k'), limit: 10 })).length, 0);

  await compactToOne(index);
  const [only] = index.runs();
  assert.ok(only !== undefined && index.runs().length === 1);
  assert.equal(only.tombstoneCount, 0, 'full compaction drops tombstones');
  assert.equal(only.entryCount, 2);
  assert.equal(await index.lookup(k), undefined);
  assert.deepEqual(await index.lookup(Buffer.from('key-a')), value(2));
});

// Checks: a compaction whose every entry is a dropped tombstone writes
// nothing and removes its inputs. How: put then delete the same keys in two
// runs, compact everything.
test('a compaction of nothing but tombstones removes its inputs', async () => {
  const index = new LsmIndex(new MemChunkIo(4096).streams);
  index.apply([{ key: Buffer.from('a'), value: value(1) }], 1);
  flushAll(index);
  index.apply([{ key: Buffer.from('a'), value: null }], 2);
  flushAll(index);
  const job = index.pickCompaction({ full: true });
  assert.ok(job !== undefined && job.dropsTombstones);
  const out = await job.write();
  assert.equal(out.run, undefined);
  index.finishCompaction(job, undefined);
  assert.equal(index.runs().length, 0);
  assert.equal(await index.lookup(Buffer.from('a')), undefined);
});

// Checks: a scan with a small limit reads a few blocks, not whole runs. How:
// one run of 3000 keys in 128-byte blocks; count ChunkIo reads of a scan of 5.
test('scan reads blocks lazily', async () => {
  const io = new MemChunkIo(4096, 1 << 20);
  const index = new LsmIndex(io.streams, { maxBlockBytes: 128 });
  const muts = Array.from({ length: 3000 }, (_, i) => ({ key: Buffer.from(`k${String(i).padStart(5, '0')}`), value: value(i % 50) }));
  index.apply(muts, 1);
  const run = flushAll(index);
  assert.ok((await index.chunksOf(run)).length > 100, 'many blocks');
  const before = io.reads;
  const got = await index.scan({ from: Buffer.from('k01000'), limit: 5 });
  assert.deepEqual(got.map((e) => e.key.toString()), ['k01000', 'k01001', 'k01002', 'k01003', 'k01004']);
  assert.ok(io.reads - before <= 3, `scan of 5 read ${io.reads - before} chunks`);
  const prefixed = await index.scan({ prefix: Buffer.from('k029'), limit: 1000 });
  assert.equal(prefixed.length, 100);
});

// Checks: a scan that started before a compaction reads the runs it started
// with, and whenUnused(inputs) resolves only after it is done. How: hold all
// chunk reads behind a gate while the compaction is installed.
test('readers keep their version; whenUnused waits for them', async () => {
  const io = new MemChunkIo(4096);
  const index = new LsmIndex(io.streams, { maxBlockBytes: 64, fanIn: 2, blockCacheBlocks: 0 });
  for (let seq = 1; seq <= 2; seq++) {
    index.apply([{ key: Buffer.from(`key${seq}`), value: value(seq) }], seq);
    flushAll(index);
  }
  const job = index.pickCompaction();
  assert.ok(job !== undefined);
  const out = await job.write();
  let release: () => void = () => {};
  io.gate = new Promise((resolve) => (release = resolve));
  const scanning = index.scan({ limit: 10 });
  const looking = index.lookup(Buffer.from('key1'));
  index.finishCompaction(job, out.run);
  let unused = false;
  const waiting = index.whenUnused(job.inputs).then(() => (unused = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(unused, false, 'whenUnused resolved while readers hold the old version');
  io.gate = undefined;
  release();
  assert.deepEqual((await scanning).map((e) => e.key.toString()), ['key1', 'key2']);
  assert.deepEqual(await looking, value(1));
  await waiting;
  assert.equal(unused, true);
  assert.equal(index.stats().retiredVersions, 0);
});

// Checks: a run index larger than one chunk is split into parts and read
// back. How: 2000 keys with a 600-byte payload limit; restore and look up.
test('run index split into parts', async () => {
  const io = new MemChunkIo(600, 1 << 20);
  const index = new LsmIndex(io.streams, { maxBlockBytes: 256 });
  const keys = Array.from({ length: 2000 }, (_, i) => Buffer.from(`key-${i}`));
  index.apply(keys.map((key, i) => ({ key, value: i % 3 === 0 ? null : value(i % 40) })), 1);
  const run = flushAll(index);
  const reopened = new LsmIndex(io.streams, { maxBlockBytes: 256 });
  reopened.restore([run]);
  for (let i = 0; i < keys.length; i += 7) {
    const key = keys[i];
    assert.ok(key !== undefined);
    assert.deepEqual(await reopened.lookup(key), i % 3 === 0 ? undefined : value(i % 40));
  }
  const stats = reopened.stats();
  assert.equal(stats.indexLoads, 1);
  assert.ok(stats.bloomNegatives === 0, 'present keys never fail the bloom filter');
  assert.equal(await reopened.lookup(Buffer.from('absent')), undefined);
});

// Checks: reading a run whose chunks do not match its descriptor is a
// CorruptionError, not a wrong answer. How: a descriptor with a changed
// entry count, and one pointing at block chunks as both copies' indexes.
test('run index mismatches are corruption', async () => {
  const io = new MemChunkIo(4096);
  const index = new LsmIndex(io.streams);
  index.apply([{ key: Buffer.from('a'), value: value(1) }, { key: Buffer.from('b'), value: value(2) }], 1);
  const run = flushAll(index);
  const wrongCount = new LsmIndex(io.streams);
  wrongCount.restore([{ ...run, entryCount: 3 }]);
  await assert.rejects(wrongCount.lookup(Buffer.from('a')), CorruptionError);
  const [primary, mirror] = await index.copyChunksOf(run);
  const block = primary?.chunks.at(-1);
  const mirrorBlock = mirror?.chunks.at(-1);
  assert.ok(block !== undefined && mirrorBlock !== undefined);
  const wrongChunk = new LsmIndex(io.streams);
  const extents = (l: Locator): ExtentBytes[] => [{ extent: l.extent, bytes: 4096 }];
  wrongChunk.restore([{ ...run, indexChunk: block, extents: extents(block), mirrorIndexChunk: mirrorBlock, mirrorExtents: extents(mirrorBlock) }]);
  await assert.rejects(wrongChunk.scan({ limit: 1 }), /both copies failed/);
});

// Checks: every run is readable from either copy. How: a run whose index
// is split into parts; one primary chunk at a time (the root, each part,
// some blocks) fails its reads (IoError or CorruptionError) on a fresh
// index: lookups and a full scan give the same answers as before and the
// repair counter moves. Then one block fails in both copies: its keys fail
// with a CorruptionError naming the run and both locators, other keys
// still answer; once the fault goes, the same index reads the block (the
// failed read was not cached).
test('a failed primary chunk is read from the mirror; both failing is a CorruptionError, not cached', async () => {
  const io = new MemChunkIo(600, 1 << 20);
  const index = new LsmIndex(io.streams, { maxBlockBytes: 256 });
  const keys = Array.from({ length: 800 }, (_, i) => Buffer.from(`key-${String(i).padStart(4, '0')}`));
  const want = (i: number): IndexValue | undefined => (i % 3 === 0 ? undefined : value(i % 40));
  index.apply(keys.map((key, i) => ({ key, value: want(i) ?? null })), 1);
  const run = flushAll(index);
  const [primary, mirror] = await index.copyChunksOf(run);
  assert.ok(primary !== undefined && mirror !== undefined);
  const parts = primary.chunks.length - primary.blocks.length - 1;
  assert.ok(parts >= 2 && primary.blocks.length >= 20, `${parts} index parts, ${primary.blocks.length} blocks`);
  const fullScan = (await index.scan({ limit: 10_000 })).map((e) => e.key.toString());
  const victims = [...primary.chunks.slice(0, parts + 4), ...primary.blocks.slice(-2)];
  for (const [n, loc] of victims.entries()) {
    io.broken.clear();
    io.broken.set(MemChunkIo.key(loc), n % 2 === 0 ? 'io' : 'corrupt');
    const fresh = new LsmIndex(io.streams, { maxBlockBytes: 256 });
    fresh.restore([run]);
    for (let i = 0; i < keys.length; i += 5) assert.deepEqual(await fresh.lookup(keys[i] ?? Buffer.alloc(1)), want(i), `key ${i}, primary ${MemChunkIo.key(loc)} failing`);
    assert.deepEqual((await fresh.scan({ limit: 10_000 })).map((e) => e.key.toString()), fullScan);
    assert.ok(fresh.stats().mirrorRepairs > 0, 'repair counted');
  }

  const block = 5;
  const [p, m] = [primary.blocks[block], mirror.blocks[block]];
  assert.ok(p !== undefined && m !== undefined);
  io.broken.clear();
  io.broken.set(MemChunkIo.key(p), 'io');
  io.broken.set(MemChunkIo.key(m), 'corrupt');
  const fresh = new LsmIndex(io.streams, { maxBlockBytes: 256 });
  fresh.restore([run]);
  // Only the keys of block 5 (a few, in one range) may fail, and only with this error.
  let failed = 0;
  for (const [i, key] of keys.entries()) {
    try {
      assert.deepEqual(await fresh.lookup(key), want(i));
    } catch (err: unknown) {
      assert.ok(err instanceof CorruptionError, String(err));
      assert.match(err.message, new RegExp(`^run ${run.id}: block ${block}: both copies failed: primary at ${p.extent}:${p.offset}\\+${p.length}: .*; mirror at ${m.extent}:${m.offset}\\+${m.length}: `));
      failed++;
    }
  }
  assert.ok(failed >= 1 && failed <= 20, `${failed} lookups failed`);
  await assert.rejects(fresh.scan({ limit: 10_000 }), CorruptionError);
  io.broken.clear();
  for (const [i, key] of keys.entries()) assert.deepEqual(await fresh.lookup(key), want(i), 'the failed read was not cached');
});

// Checks: API misuse is caught by assertions. How: call out of order.
test('flush and apply preconditions are asserted', () => {
  const index = new LsmIndex(new MemChunkIo(4096).streams);
  assert.equal(index.beginFlush(), undefined, 'empty memtable: nothing to flush');
  index.apply([{ key: Buffer.from('a'), value: value(1) }], 5);
  assert.throws(() => index.apply([{ key: Buffer.from('b'), value: null }], 4), /at least 5/);
  assert.throws(() => index.apply([{ key: Buffer.alloc(0), value: null }], 6), /key length/);
  assert.throws(() => index.apply([{ key: Buffer.from('c'), value: { sizeBytes: 100, chunks: [] } }], 6), /invalid index value/);
  const job = index.beginFlush();
  assert.ok(job !== undefined);
  assert.throws(() => index.beginFlush(), /in progress/);
  assert.throws(() => index.apply([{ key: Buffer.from('b'), value: null }], 5), /not above 5 \(in the runs\)/);
  const out = job.write();
  assert.throws(() => index.finishFlush(job, { ...out.run, id: out.run.id + 1 }), /not the job's run/);
  index.finishFlush(job, out.run);
});

// Checks: the index refuses misuse that would corrupt it silently:
// restore() into an index that already holds entries, a snapshot visited
// after its release (its runs may be reset by then), a block cache of a
// negative or fractional capacity. How: each call on a fresh index.
test('restore into a used index, a visit after release and a bad block cache capacity are refused', async () => {
  const index = new LsmIndex(new MemChunkIo(4096).streams);
  index.apply([{ key: Buffer.from('a'), value: value(1) }], 1);
  assert.throws(() => index.restore([]), /restore into a used index/);
  const snapshot = index.snapshot();
  snapshot.release();
  const visitor = { entry: (): void => undefined, chunk: (): void => undefined };
  await assert.rejects(snapshot.visit(1, visitor), /snapshot visited after release/);
  assert.throws(() => new LsmIndex(new MemChunkIo(4096).streams, { blockCacheBlocks: -1 }), /block cache capacity -1/);
  assert.throws(() => new LsmIndex(new MemChunkIo(4096).streams, { blockCacheBlocks: 1.5 }), /block cache capacity 1.5/);
});

// Checks: a run block holds at least one entry, so an entry that with the
// block header fills a chunk payload exactly is written and read back, and
// one byte more is refused (AssertionError naming its size) instead of
// writing a chunk the stream cannot take. How: 512-byte chunk payloads, one
// tombstone whose key is sized to the limit, then one byte longer.
test('an index entry that fills a chunk exactly is written; one byte more is refused', async () => {
  const payload = 512;
  const fits = payload - BLOCK_HEADER_BYTES - entryBytes(0, VALUE_TAG_BYTES);
  const index = new LsmIndex(new MemChunkIo(payload).streams, { maxBlockBytes: payload });
  const key = Buffer.alloc(fits, 0x61);
  index.apply([{ key, value: null }, { key: Buffer.from('b'), value: value(2) }], 1);
  flushAll(index);
  assert.equal(await index.lookup(key), undefined);
  assert.deepEqual(await index.lookup(Buffer.from('b')), value(2));
  const tooBig = new LsmIndex(new MemChunkIo(payload).streams, { maxBlockBytes: payload });
  tooBig.apply([{ key: Buffer.alloc(fits + 1, 0x61), value: null }], 1);
  assert.throws(() => flushAll(tooBig), new RegExp(`index entry of ${entryBytes(fits + 1, VALUE_TAG_BYTES)} bytes exceeds a chunk`));
});

// Checks: compactionsWriting counts the compactions whose output is being
// written, and only those (the store resets no index extent while it is
// above zero: their chunks are not counted as live yet). How: two runs,
// one full compaction: 0 when picked, 1 while its write is in flight, 0
// once written and once finished.
test('compactionsWriting counts exactly the compactions in the middle of writing', async () => {
  const index = new LsmIndex(new MemChunkIo(4096).streams);
  index.apply([{ key: Buffer.from('a'), value: value(1) }], 1);
  flushAll(index);
  index.apply([{ key: Buffer.from('b'), value: value(2) }], 2);
  flushAll(index);
  const job = index.pickCompaction({ full: true });
  assert.ok(job !== undefined);
  assert.equal(index.compactionsWriting, 0, 'picked, not writing');
  const writing = job.write();
  assert.equal(index.compactionsWriting, 1, 'writing');
  const out = await writing;
  assert.equal(index.compactionsWriting, 0, 'written');
  index.finishCompaction(job, out.run);
  assert.equal(index.compactionsWriting, 0, 'finished');
});

// Checks: scan takes a limit from 0 to MAX_SCAN_LIMIT (0 returns nothing,
// MAX_SCAN_LIMIT everything here) and refuses a negative, fractional or
// larger one before reading anything. How: one index of three keys, one of
// them in a run, scans at each limit and one step past each end.
test('a scan limit outside 0..MAX_SCAN_LIMIT is refused; 0 returns nothing', async () => {
  const index = new LsmIndex(new MemChunkIo(4096).streams);
  index.apply([{ key: Buffer.from('a'), value: value(1) }], 1);
  flushAll(index);
  index.apply([{ key: Buffer.from('b'), value: value(2) }, { key: Buffer.from('c'), value: value(3) }], 2);
  assert.deepEqual(await index.scan({ limit: 0 }), []);
  assert.deepEqual((await index.scan({ limit: 1 })).map((e) => e.key.toString()), ['a']);
  assert.deepEqual((await index.scan({ limit: MAX_SCAN_LIMIT })).map((e) => e.key.toString()), ['a', 'b', 'c']);
  for (const limit of [-1, 0.5, MAX_SCAN_LIMIT + 1, Number.NaN]) {
    await assert.rejects(index.scan({ limit }), { name: 'AssertionError' }, `limit ${limit}`);
  }
});

// Checks: the index refuses, with an AssertionError naming the rule, each
// misuse of its options and of its job protocol that would corrupt it
// silently, one at a time, and accepts the values at each limit: a block
// size below MIN_BLOCK_BYTES, bloom bits outside 1..64, a fan-in outside
// MIN..MAX_FAN_IN or fractional; restore of an invalid, duplicated or
// misordered run list, or with a flush in progress; finishing or aborting a
// flush that is not the one in progress, or finishing it before its write;
// finishing a compaction before its write or with another run, aborting
// one while it writes, or one already finished. How: fresh indexes, each
// misuse on its own.
test('misuse of the options and of the flush and compaction protocol is refused, naming the rule', async () => {
  const io = (): RunStreams => new MemChunkIo(4096).streams;
  const refused = (f: () => unknown, message: RegExp): void => assert.throws(f, { name: 'AssertionError', message });
  refused(() => new LsmIndex(io(), { maxBlockBytes: MIN_BLOCK_BYTES - 1 }), /maxBlockBytes/);
  new LsmIndex(io(), { maxBlockBytes: MIN_BLOCK_BYTES });
  for (const bloomBitsPerKey of [0, 65]) refused(() => new LsmIndex(io(), { bloomBitsPerKey }), /bloomBitsPerKey/);
  for (const bloomBitsPerKey of [1, 64]) new LsmIndex(io(), { bloomBitsPerKey });
  for (const fanIn of [MIN_FAN_IN - 1, MAX_FAN_IN + 1, 2.5]) refused(() => new LsmIndex(io(), { fanIn }), /fanIn/);
  for (const fanIn of [MIN_FAN_IN, MAX_FAN_IN]) new LsmIndex(io(), { fanIn });

  // Two real runs to restore: newest (maxSeq 2) first.
  const shared = new MemChunkIo(4096).streams;
  const source = new LsmIndex(shared);
  source.apply([{ key: Buffer.from('a'), value: value(1) }], 1);
  const older = flushAll(source);
  source.apply([{ key: Buffer.from('b'), value: value(2) }], 2);
  const newer = flushAll(source);
  refused(() => new LsmIndex(io()).restore([newer, { ...older, level: -1 }]), /invalid run descriptor/);
  refused(() => new LsmIndex(io()).restore([newer, newer]), /listed twice/);
  refused(() => new LsmIndex(io()).restore([older, newer]), /ordered by maxSeq/);
  refused(() => new LsmIndex(io()).restore([newer, { ...older, id: older.id + 10, maxSeq: 2 }]), /ordered by maxSeq/);
  const flushing = new LsmIndex(io());
  flushing.apply([{ key: Buffer.from('c'), value: value(3) }], 1);
  const pending = flushing.beginFlush();
  assert.ok(pending !== undefined);
  refused(() => flushing.restore([]), /restore with jobs in progress/);
  const restored = new LsmIndex(shared);
  restored.restore([newer, older]);
  assert.deepEqual(restored.runs(), [newer, older]);

  // Flush protocol.
  const other = new LsmIndex(io());
  other.apply([{ key: Buffer.from('d'), value: null }], 1);
  const otherJob = other.beginFlush();
  assert.ok(otherJob !== undefined);
  refused(() => flushing.finishFlush(otherJob, older), /finishFlush: not the flush in progress/);
  refused(() => flushing.abortFlush(otherJob), /abortFlush: not the flush in progress/);
  refused(() => flushing.finishFlush(pending, older), /finishFlush: the run was not written/);
  flushing.abortFlush(pending);
  refused(() => flushing.abortFlush(pending), /abortFlush: not the flush in progress/);
  assert.deepEqual(await flushing.lookup(Buffer.from('c')), value(3), 'an aborted flush gives its entries back');

  // Compaction protocol.
  const compacting = new LsmIndex(shared, { fanIn: 2 });
  compacting.restore([newer, older]);
  const job = compacting.pickCompaction({ full: true });
  assert.ok(job !== undefined);
  refused(() => compacting.finishCompaction(job, undefined), /finishCompaction: job in state open/);
  const writing = job.write();
  refused(() => compacting.abortCompaction(job), /abortCompaction while the job writes/);
  const outRun = (await writing).run;
  assert.ok(outRun !== undefined);
  refused(() => compacting.finishCompaction(job, { ...outRun, id: outRun.id + 1 }), /not the job output/);
  refused(() => compacting.finishCompaction(job, undefined), /not the job output/);
  compacting.finishCompaction(job, outRun);
  refused(() => compacting.abortCompaction(job), /not a compaction job of this index/);
  refused(() => compacting.finishCompaction(job, outRun), /not a compaction job of this index/);
  assert.deepEqual(compacting.runs().map((r) => r.id), [outRun.id]);
});

interface Costs {
  readonly indexLoads: number;
  readonly blockReads: number;
  readonly blockCacheHits: number;
  readonly bloomNegatives: number;
  readonly bloomFalsePositives: number;
}

// Checks: what a lookup costs, as the index counts it: a key outside a
// run's [minKey, maxKey] loads nothing and consults no bloom filter (with
// the run's index loaded or not); an absent key inside the range is ruled
// out by the bloom filter (a counted negative, no block read) or, as a
// counted false positive, costs one block read; a present key costs its
// block once, then hits the block cache, also through lookupNow. How: one
// run of 200 keys at 20 bloom bits per key, counters compared before and
// after each kind of lookup.
test('lookups cost what the range check, the bloom filter and the block cache promise', async () => {
  const io = new MemChunkIo(4096);
  const writer = new LsmIndex(io.streams, { bloomBitsPerKey: 20 });
  const key = (i: number): Buffer => Buffer.from(`k${String(i).padStart(4, '0')}`);
  writer.apply(Array.from({ length: 200 }, (_, i) => ({ key: key(2 * i + 1), value: value(i + 1) })), 1);
  const run = flushAll(writer);
  const index = new LsmIndex(io.streams, { bloomBitsPerKey: 20 });
  index.restore([run]);
  const delta = async (f: () => Promise<unknown>): Promise<Costs> => {
    const before = index.stats();
    await f();
    const after = index.stats();
    return {
      indexLoads: after.indexLoads - before.indexLoads,
      blockReads: after.blockReads - before.blockReads,
      blockCacheHits: after.blockCacheHits - before.blockCacheHits,
      bloomNegatives: after.bloomNegatives - before.bloomNegatives,
      bloomFalsePositives: after.bloomFalsePositives - before.bloomFalsePositives,
    };
  };
  const none = { indexLoads: 0, blockReads: 0, blockCacheHits: 0, bloomNegatives: 0, bloomFalsePositives: 0 };
  const outside = [Buffer.from('a'), key(0), key(400), Buffer.from('z')];
  for (const k of outside) assert.deepEqual(await delta(() => index.lookup(k)), none, `before the index loads: ${k.toString()}`);
  assert.deepEqual(await delta(() => index.lookup(key(1))), { ...none, indexLoads: 1, blockReads: 1 });
  assert.deepEqual(await delta(() => index.lookup(key(1))), { ...none, blockCacheHits: 1 });
  for (const k of outside) {
    assert.deepEqual(await delta(() => index.lookup(k)), none, `index loaded: ${k.toString()}`);
    assert.deepEqual(await delta(() => Promise.resolve(index.lookupNow(k))), none, `lookupNow: ${k.toString()}`);
  }
  let negatives = 0;
  for (let i = 1; i < 200; i++) {
    const d = await delta(() => index.lookup(key(2 * i)));
    assert.equal(d.bloomNegatives + d.bloomFalsePositives, 1, `absent ${key(2 * i).toString()} is ruled out once`);
    assert.equal(d.indexLoads, 0);
    assert.equal(d.blockReads + d.blockCacheHits, d.bloomFalsePositives, 'only a false positive reads a block');
    negatives += d.bloomNegatives;
  }
  assert.ok(negatives >= 190, `${negatives} of 199 absent keys ruled out by the bloom filter at 20 bits per key`);
  assert.equal(await index.lookup(key(2)), undefined);
  assert.deepEqual(await index.lookup(key(399)), value(200));
  // An absent key as the first lookup: the index loads, then its bloom filter answers.
  const cold = new LsmIndex(io.streams, { bloomBitsPerKey: 20 });
  cold.restore([run]);
  assert.equal(await cold.lookup(key(2)), undefined);
  const first = cold.stats();
  assert.deepEqual([first.indexLoads, first.bloomNegatives + first.bloomFalsePositives, first.blockReads], [1, 1, first.bloomFalsePositives]);
});

// Checks: a snapshot taken while a flush is in flight (beginFlush done,
// finishFlush not yet) sees the frozen memtable: its entries are neither in
// the active memtable nor in a run yet, so a snapshot without them would
// miss keys the index still answers (the live-byte rebuild would then count
// their chunks as dead). How: one key in a run, two frozen by a flush whose
// write is done but not installed, one in the active memtable; the snapshot
// must visit all four values' chunks, and a lookup agrees for each.
test('a snapshot taken while a flush writes includes the frozen memtable', async () => {
  const index = new LsmIndex(new MemChunkIo(4096).streams);
  index.apply([{ key: Buffer.from('a'), value: value(1) }], 1);
  flushAll(index);
  index.apply([{ key: Buffer.from('b'), value: value(2) }, { key: Buffer.from('c'), value: value(3) }], 2);
  const job = index.beginFlush();
  assert.ok(job !== undefined);
  const out = job.write();
  index.apply([{ key: Buffer.from('d'), value: value(4) }], 3);
  const snapshot = index.snapshot();
  const seen: number[] = [];
  let entries = 0;
  const visitor = { entry: (): void => void entries++, chunk: (_extent: number, lengthBytes: number): void => void seen.push(lengthBytes - 36) };
  while (!(await snapshot.visit(2, visitor))) {
    // page by page, two entries at a time
  }
  snapshot.release();
  index.finishFlush(job, out.run);
  assert.equal(entries, 4, 'entries visited');
  assert.deepEqual(seen, [1, 2, 3, 4], 'the frozen entries b and c are visited in key order');
  for (const [k, n] of [['a', 1], ['b', 2], ['c', 3], ['d', 4]] as const) assert.deepEqual(await index.lookup(Buffer.from(k)), value(n));
});

// Checks: liveIndexBytesByExtent counts the run a flush has written but
// not yet installed (finishFlush waits for the record naming it): the
// store resets index extents with no live bytes, so leaving the run out
// would let it reset the extent under a run about to be installed. How:
// one flush written and held, its run's bytes per extent (both copies)
// must be in the map before finishFlush and after; an aborted flush's run
// leaves it.
test('liveIndexBytesByExtent counts the run of a flush written but not finished', () => {
  const index = new LsmIndex(new MemChunkIo(4096).streams);
  assert.deepEqual(index.liveIndexBytesByExtent(), new Map());
  index.apply([{ key: Buffer.from('a'), value: value(1) }, { key: Buffer.from('b'), value: value(2) }], 1);
  const job = index.beginFlush();
  assert.ok(job !== undefined);
  assert.deepEqual(index.liveIndexBytesByExtent(), new Map(), 'nothing written yet');
  const out = job.write();
  const expected = new Map([...out.run.extents, ...out.run.mirrorExtents].map((e) => [e.extent, e.bytes]));
  assert.ok(expected.size >= 2, 'both copies have extents');
  assert.deepEqual(index.liveIndexBytesByExtent(), expected, 'written, not installed');
  index.finishFlush(job, out.run);
  assert.deepEqual(index.liveIndexBytesByExtent(), expected, 'installed');
  const other = new LsmIndex(new MemChunkIo(4096).streams);
  other.apply([{ key: Buffer.from('c'), value: value(3) }], 1);
  const aborted = other.beginFlush();
  assert.ok(aborted !== undefined);
  aborted.write();
  other.abortFlush(aborted);
  assert.deepEqual(other.liveIndexBytesByExtent(), new Map(), 'an aborted flush leaves nothing live');
});

// Checks: lookupNow answers from memory once the run's index and the
// key's block are cached (a get then costs no promise), counting a cache
// hit, and says NEEDS_READ only before. How: one run, restored into a
// fresh index: lookupNow before any read, then after lookup() loaded the
// block, for a present and an absent key of that block.
test('lookupNow answers from a cached block without a read, NEEDS_READ before', async () => {
  const io = new MemChunkIo(4096);
  const writer = new LsmIndex(io.streams);
  writer.apply([{ key: Buffer.from('k1'), value: value(1) }, { key: Buffer.from('k3'), value: value(3) }], 1);
  const run = flushAll(writer);
  const index = new LsmIndex(io.streams);
  index.restore([run]);
  assert.equal(index.lookupNow(Buffer.from('k1')), NEEDS_READ, 'index not loaded');
  assert.deepEqual(await index.lookup(Buffer.from('k1')), value(1));
  const reads = io.reads;
  const hits = index.stats().blockCacheHits;
  assert.deepEqual(index.lookupNow(Buffer.from('k1')), value(1));
  assert.deepEqual(index.lookupNow(Buffer.from('k3')), value(3));
  assert.equal(io.reads, reads, 'no chunk read');
  assert.equal(index.stats().blockCacheHits - hits, 2, 'each a cache hit');
});

// Checks: a flush job's write may be repeated while the job is open or
// written (a retry writes the run again, and the last write is the one
// installed), and is refused once the job is finished or aborted (its
// memtable is gone from the index): an AssertionError naming the state.
test('a flush job writes again while open or written, and refuses once finished or aborted', () => {
  const index = new LsmIndex(new MemChunkIo(4096).streams);
  index.apply([{ key: Buffer.from('a'), value: value(1) }], 1);
  const job = index.beginFlush();
  assert.ok(job !== undefined);
  const first = job.write();
  const second = job.write();
  assert.notEqual(second.run.id, first.run.id, 'a second write makes a new run');
  index.finishFlush(job, second.run);
  assert.deepEqual(index.runs().map((r) => r.id), [second.run.id]);
  assert.throws(() => job.write(), { name: 'AssertionError', message: 'flush job write in state closed' });
  index.apply([{ key: Buffer.from('b'), value: value(2) }], 2);
  const aborted = index.beginFlush();
  assert.ok(aborted !== undefined);
  index.abortFlush(aborted);
  assert.throws(() => aborted.write(), { name: 'AssertionError', message: 'flush job write in state closed' });
});

// Checks: a block read back is refused when its last key is not below the
// next block's first key (equal included: a key in two blocks, which a
// lookup's binary search over first keys would answer from the wrong
// one). How: a run of 3-byte keys in several blocks; both copies of its
// first block rewritten with the same keys and values but the last key
// replaced by the next block's first key (same length, so the chunk's
// length still matches its locator); a lookup of the first key must
// throw CorruptionError naming the block and the rule.
test('a block whose last key equals the next block\'s first key is corruption', async () => {
  const io = new MemChunkIo(4096);
  const index = new LsmIndex(io.streams, { maxBlockBytes: 128, blockCacheBlocks: 0 });
  const key = (i: number): Buffer => Buffer.from(`k${String(i).padStart(2, '0')}`);
  index.apply(Array.from({ length: 12 }, (_, i) => ({ key: key(i), value: value(1) })), 1);
  const run = flushAll(index);
  const blocks = [...io.chunks.values()].filter((c) => c.kind === ChunkKind.RunBlock).map((c) => c.payload);
  // Both copies of each block: one view per first key.
  const byFirstKey = new Map(blocks.map((b) => decodeBlock(b)).map((v) => [v.key(0).toString('hex'), v] as const));
  const views = [...byFirstKey.values()].sort((a, b) => Buffer.compare(a.key(0), b.key(0)));
  const [first, second] = views;
  assert.ok(first !== undefined && second !== undefined && first.count >= 2, `several blocks of two or more entries: ${views.map((v) => v.count).join(',')}`);
  const forged = new BlockBuilder(first.buf.length);
  for (let i = 0; i < first.count; i++) forged.add(i === first.count - 1 ? Buffer.from(second.key(0)) : Buffer.from(first.key(i)), first.value(i));
  const forgedBytes = Buffer.concat(forged.finish());
  assert.equal(forgedBytes.length, first.buf.length);
  let replaced = 0;
  for (const [where, c] of io.chunks) {
    if (c.kind === ChunkKind.RunBlock && c.payload.equals(first.buf)) {
      io.chunks.set(where, { kind: c.kind, payload: forgedBytes });
      replaced++;
    }
  }
  assert.equal(replaced, 2, 'both copies of the first block');
  const reader = new LsmIndex(io.streams, { blockCacheBlocks: 0 });
  reader.restore([run]);
  await assert.rejects(reader.lookup(key(0)), (err: unknown) => err instanceof CorruptionError && /block 0: last key outside the block's range/.test(err.message));
});
