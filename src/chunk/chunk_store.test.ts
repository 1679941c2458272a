// Checks the chunk store (src/chunk/chunk_store.ts) over the real IO
// scheduler and extent manager on a SimDisk: appends read back exactly;
// reads verify every byte (a flipped bit anywhere in a chunk is a
// CorruptionError, never wrong data); reads beyond the write pointer are
// refused; scans yield every whole chunk in order and nothing else, also
// after crashes that tear or drop chunks (SimDisk 'torn' crashes over many
// fixed seeds, and a hand-made torn chunk whose lost page looks like a
// header claiming a huge length); stopAtDamage stops at the first bad
// chunk; and the buffer cache never serves bytes of an extent's previous
// life after a reset (plus evidence that this test fails when the cache is
// not invalidated).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CorruptionError, crc32c } from '../base/index.js';
import { BufferCache, CHUNK_OVERHEAD_BYTES, ChunkKind, ChunkStore, SECOND_READ_ADMISSION_BYTES, alignUp, WRITE_THROUGH_MAX_PAYLOAD_BYTES, frameChunk } from './index.js';
import type { Locator, ScanOptions, ScannedChunk } from './index.js';
import { Dependency, IoScheduler, Latch } from '../dependency/index.js';
import { ExtentManager, ExtentOwner } from '../extent/index.js';
import type { Geometry } from '../extent/index.js';
import { FRAME_SLAB_BYTES } from './frame_slab.js';
import { Rng } from '../../testing/rng.js';
import { SimDisk, describeCrash } from '../../testing/sim_disk.js';
import type { SimIoScheduler } from '../../testing/sim_disk.js';

const PAGE = 512;
const GEOMETRY: Geometry = { pageSizeBytes: PAGE, extentSizeBytes: 65536, extentCount: 4, superblockExtents: 1 };
const DISK_BYTES = GEOMETRY.extentSizeBytes * GEOMETRY.extentCount;
const WINDOWS: ReadonlyArray<number | undefined> = [undefined, 64, 1000, 4096];

interface Env {
  readonly disk: SimDisk;
  readonly extents: ExtentManager;
  readonly cache: BufferCache;
  readonly store: ChunkStore;
}

function setup(options: { disk?: SimDisk; cacheBytes?: number; geometry?: Geometry; seed?: string } = {}): Env {
  const geometry = options.geometry ?? GEOMETRY;
  const disk = options.disk ?? new SimDisk({ sizeBytes: geometry.extentSizeBytes * geometry.extentCount, pageSizeBytes: PAGE, fillSeed: 'fill' });
  const extents = new ExtentManager(geometry, new IoScheduler(disk), 0);
  const cache = new BufferCache(options.cacheBytes ?? 0, geometry.extentSizeBytes);
  return { disk, extents, cache, store: new ChunkStore(extents, cache, new Rng(options.seed ?? 'chunk ids')) };
}

interface Written {
  readonly locator: Locator;
  readonly kind: ChunkKind;
  readonly payload: Buffer;
}

/** Append one chunk per size (kinds in turn) to `extent`; not awaited. */
function appendAll(env: Env, extent: number, sizes: readonly number[], rng: Rng): Array<Written & { dependency: Dependency }> {
  const kinds = [ChunkKind.Data, ChunkKind.RunBlock, ChunkKind.RunIndex, ChunkKind.MetaRecord];
  return sizes.map((size, i) => {
    const payload = rng.bytes(size);
    const kind = kinds[i % kinds.length] ?? ChunkKind.Data;
    // Two parts, to exercise framing of a split payload.
    const { locator, dependency } = env.store.appendTo(extent, kind, [payload.subarray(0, size >> 1), payload.subarray(size >> 1)], Dependency.none);
    return { locator, kind, payload, dependency };
  });
}

async function scanAll(store: ChunkStore, extent: number, options: ScanOptions = {}): Promise<ScannedChunk[]> {
  const out: ScannedChunk[] = [];
  for await (const c of store.scan(extent, options)) out.push(c);
  return out;
}

function summary(chunks: ReadonlyArray<{ locator: Locator; kind: ChunkKind; payload: Buffer }>): string[] {
  return chunks.map((c) => `${c.locator.extent}:${c.locator.offset}+${c.locator.length} kind ${c.kind} crc ${crc32c(c.payload).toString(16)}`);
}

const SIZES = [0, 1, PAGE - CHUNK_OVERHEAD_BYTES - 1, PAGE - CHUNK_OVERHEAD_BYTES, PAGE, 3000, 7, 2 * PAGE + 1];

test('append then read gives back the payload, before and after it is durable', async () => {
  // Checks: locators are 8-aligned, back to back, of framed length; reads
  // through the scheduler's overlay (not yet durable), after durability, and
  // from a fresh store with a cold cache all return the payload; the wrong
  // kind is a CorruptionError.
  const env = setup({ cacheBytes: 1 << 20 });
  const extent = env.extents.allocate(ExtentOwner.Data);
  const written = appendAll(env, extent, SIZES, new Rng('append'));
  let expectOffset = 0;
  for (const w of written) {
    assert.deepEqual(w.locator, { extent, offset: expectOffset, length: CHUNK_OVERHEAD_BYTES + w.payload.length });
    expectOffset = alignUp(w.locator.offset + w.locator.length);
    assert.deepEqual(await env.store.read(w.locator, w.kind), w.payload);
  }
  assert.equal(env.extents.writePointer(extent), expectOffset);
  await Promise.all(written.map((w) => w.dependency.persisted()));
  const cold = new ChunkStore(env.extents, new BufferCache(0, GEOMETRY.extentSizeBytes), new Rng(0));
  for (const w of written) {
    assert.deepEqual(await env.store.read(w.locator, w.kind), w.payload);
    assert.deepEqual(await cold.read(w.locator, w.kind), w.payload);
    const other = w.kind === ChunkKind.Data ? ChunkKind.RunBlock : ChunkKind.Data;
    await assert.rejects(cold.read(w.locator, other), CorruptionError);
  }
  assert.ok(env.cache.stats().hits >= written.length, 'warm reads hit the cache');
});

test('a flipped bit anywhere in a chunk fails the read; bytes are never returned wrong', async () => {
  // Checks: for every byte of a framed chunk (header, payload, trailer), a
  // flipped bit (SimDisk.flipBit: bit rot on the media) makes the read a
  // CorruptionError; once flipped back, the read succeeds; a flip in the
  // padding after the chunk changes nothing. How: exhaustive over the bytes
  // of a 37-byte payload chunk, no cache.
  const env = setup();
  const extent = env.extents.allocate(ExtentOwner.Index);
  const [w] = appendAll(env, extent, [37], new Rng('flip'));
  assert.ok(w !== undefined);
  await w.dependency.persisted();
  const base = env.extents.diskOffset(extent, w.locator.offset);
  for (let i = 0; i < w.locator.length; i++) {
    env.disk.flipBit(base + i, i % 8);
    await assert.rejects(env.store.read(w.locator, w.kind), CorruptionError, `flip at byte ${i} not caught`);
    env.disk.flipBit(base + i, i % 8);
  }
  assert.deepEqual(await env.store.read(w.locator, w.kind), w.payload);
  assert.equal(env.store.counters.corrupt, w.locator.length);
  env.disk.flipBit(base + w.locator.length, 0); // padding: outside the locator
  assert.deepEqual(await env.store.read(w.locator, w.kind), w.payload);
});

test('a cache hit does not skip the read checks: wrong kind or wrong length is refused when cached too', async () => {
  // Checks: once a chunk is cached, a read of its offset with another kind,
  // or with a locator one byte or 8 bytes longer or shorter, is still a
  // CorruptionError, as it is from the disk; a cache of capacity 0 keeps
  // nothing, not even empty payloads. Regression: the cache once answered
  // by offset alone (kind unchecked, any locator at least as long).
  const env = setup({ cacheBytes: 1 << 20 });
  const extent = env.extents.allocate(ExtentOwner.Data);
  const [w, , empty] = appendAll(env, extent, [64, 500, 0], new Rng('cache-checks'));
  assert.ok(w !== undefined && empty !== undefined);
  await empty.dependency.persisted();
  assert.deepEqual(await env.store.read(w.locator, w.kind), w.payload);
  const hitsBefore = env.cache.stats().hits;
  assert.deepEqual(await env.store.read(w.locator, w.kind), w.payload);
  assert.equal(env.cache.stats().hits, hitsBefore + 1, 'the chunk is cached');
  await assert.rejects(env.store.read(w.locator, ChunkKind.RunBlock), CorruptionError);
  for (const delta of [-8, -1, 1, 8]) {
    await assert.rejects(env.store.read({ ...w.locator, length: w.locator.length + delta }, w.kind), CorruptionError, `length ${delta}`);
  }
  const none = setup({ cacheBytes: 0 });
  const e2 = none.extents.allocate(ExtentOwner.Data);
  const [z] = appendAll(none, e2, [0], new Rng('zero'));
  assert.ok(z !== undefined);
  assert.deepEqual(await none.store.read(z.locator, z.kind), Buffer.alloc(0));
  assert.equal(none.cache.stats().entries, 0);
  await assert.rejects(none.store.read(z.locator, ChunkKind.RunIndex), CorruptionError);
});

test('reads beyond the write pointer, of free extents, or with impossible locators are refused', async () => {
  // Checks: a locator past the write pointer (starting at it, or overlapping
  // it), into an extent never written, of another extent, shorter than a
  // chunk's overhead, or of an extent that does not exist, is a
  // CorruptionError; nothing is read from beyond the write pointer.
  const env = setup();
  const extent = env.extents.allocate(ExtentOwner.Data);
  const [w] = appendAll(env, extent, [100], new Rng('beyond'));
  assert.ok(w !== undefined);
  await w.dependency.persisted();
  const wp = env.extents.writePointer(extent);
  const bad: Locator[] = [
    { extent, offset: wp, length: 136 },
    { extent, offset: 0, length: wp + 8 },
    { extent, offset: alignUp(wp) + 64, length: 36 },
    { extent: extent + 1, offset: 0, length: w.locator.length },
    { extent, offset: 0, length: 20 },
    { extent: GEOMETRY.extentCount + 5, offset: 0, length: 136 },
  ];
  for (const loc of bad) await assert.rejects(env.store.read(loc, ChunkKind.Data), CorruptionError, JSON.stringify(loc));
  assert.deepEqual(await env.store.read(w.locator, w.kind), w.payload);
});

test('scan yields every whole chunk in order, whatever the read window', async () => {
  // Checks: a scan of an extent of chunks of many sizes (multi-page ones
  // included) over a disk whose unwritten bytes are garbage yields exactly
  // the chunks appended, in order, with their kinds and payloads; windows
  // smaller than a chunk, odd-sized and default give the same answer.
  const env = setup();
  const extent = env.extents.allocate(ExtentOwner.Data);
  const written = appendAll(env, extent, [...SIZES, ...SIZES.slice().reverse()], new Rng('scan'));
  await Promise.all(written.map((w) => w.dependency.persisted()));
  for (const windowBytes of WINDOWS) {
    const scanned = await scanAll(env.store, extent, windowBytes === undefined ? {} : { windowBytes });
    assert.deepEqual(summary(scanned), summary(written), `window ${String(windowBytes)}`);
  }
  const empty = env.extents.allocate(ExtentOwner.Data);
  assert.deepEqual(await scanAll(env.store, empty), []);
});

/** A SimDisk whose flushes can be held: writes complete, then stay volatile until a crash. */
function holdableDisk(): { disk: SimDisk; hold: () => void } {
  let holding = false;
  const scheduler: SimIoScheduler = (io, complete) => {
    if (io.kind === 'flush' && holding) return; // never completes: the crash decides
    complete();
  };
  const disk = new SimDisk({ sizeBytes: DISK_BYTES, pageSizeBytes: PAGE, fillSeed: 'fill', scheduler });
  return { disk, hold: () => (holding = true) };
}

function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

test('scan after torn crashes: skips torn and lost chunks, finds every whole one after them', async () => {
  // Checks: chunk A is durable; B..E (multi-page and single-page) are written
  // but not flushed when the power fails ('torn' crash: each unflushed write
  // is dropped, kept, or torn at page granularity with old or garbage
  // bytes). The scan of the recovered extent yields exactly A and the
  // writes the crash kept, in order, never a torn or dropped one; with
  // stopAtDamage it yields the longest intact prefix. How: 60 fixed seeds;
  // the test also requires that some seed tore a chunk followed by a kept one.
  let tornThenKept = 0;
  for (let seed = 0; seed < 60; seed++) {
    const { disk, hold } = holdableDisk();
    const env = setup({ disk, seed: `ids/${seed}` });
    const extent = env.extents.allocate(ExtentOwner.Meta);
    const rng = new Rng(`torn/${seed}`);
    const [a] = appendAll(env, extent, [200], rng);
    assert.ok(a !== undefined);
    await a.dependency.persisted();
    hold();
    const later = appendAll(env, extent, [3000, 40, 2 * PAGE + 100, 5 * PAGE], rng);
    while (disk.unflushedWrites < later.length) await settle();
    const { disk: after, report } = disk.crash(new Rng(`crash/${seed}`), 'torn');
    const fates = report.writes.map((w) => w.fate);
    assert.equal(fates.length, later.length, describeCrash(report));
    const recovered = setup({ disk: after });
    recovered.extents.restore([{ extent, owner: ExtentOwner.Meta, writePointer: env.extents.writePointer(extent) }]);
    const kept = later.filter((_, i) => fates[i] === 'kept');
    const why = `seed ${seed}\n${describeCrash(report)}`;
    for (const windowBytes of WINDOWS) {
      const scanned = await scanAll(recovered.store, extent, windowBytes === undefined ? {} : { windowBytes });
      assert.deepEqual(summary(scanned), summary([a, ...kept]), why);
    }
    const intact = fates.indexOf('torn') < 0 && fates.indexOf('dropped') < 0 ? later : later.slice(0, fates.findIndex((f) => f !== 'kept'));
    assert.deepEqual(summary(await scanAll(recovered.store, extent, { stopAtDamage: true })), summary([a, ...intact]), why);
    if (fates.some((f, i) => f === 'torn' && fates.slice(i + 1).includes('kept'))) tornThenKept++;
  }
  assert.ok(tornThenKept >= 3, `only ${tornThenKept} seeds tore a chunk before a kept one`);
});

/** A valid chunk header (magic, kind, version, CRC) claiming `payloadBytes`. */
function fakeHeader(payloadBytes: number): Buffer {
  const h = frameChunk(ChunkKind.Data, [], { low: 0x5eed, high: 0xbad }).bytes.subarray(0, 24);
  h.writeUInt32LE(payloadBytes, 16);
  h.writeUInt32LE(crc32c(h.subarray(0, 20)), 20);
  return h;
}

test('a torn chunk whose lost page looks like a header with a huge length does not hide later chunks', async () => {
  // Checks: chunk B spans several pages; its third page is replaced (as a
  // torn write with garbage would leave it) by bytes starting with a valid
  // header that claims a payload far past the write pointer, or one that
  // ends inside the extent across the later chunks, or the largest u32.
  // The scan must not trust those lengths: it yields A, C, D (not B), with
  // every window size; stopAtDamage stops after A.
  for (const claim of [0xffffff00, 40_000, 5000, 0xffffffff]) {
    const env = setup();
    const extent = env.extents.allocate(ExtentOwner.Data);
    const [a, b, c, d] = appendAll(env, extent, [100, 4000, 50, 3 * PAGE], new Rng('fake'));
    assert.ok(a !== undefined && b !== undefined && c !== undefined && d !== undefined);
    await d.dependency.persisted();
    const pageStart = Math.ceil(env.extents.diskOffset(extent, b.locator.offset) / PAGE) * PAGE + 2 * PAGE;
    assert.ok(pageStart + PAGE <= env.extents.diskOffset(extent, b.locator.offset + b.locator.length), 'the page is inside B');
    const page = new Rng(`garbage/${claim}`).bytes(PAGE);
    fakeHeader(claim).copy(page, 0);
    await env.disk.write(pageStart, page);
    await assert.rejects(env.store.read(b.locator, b.kind), CorruptionError);
    for (const windowBytes of WINDOWS) {
      const scanned = await scanAll(env.store, extent, windowBytes === undefined ? {} : { windowBytes });
      assert.deepEqual(summary(scanned), summary([a, c, d]), `claim ${claim}, window ${String(windowBytes)}`);
    }
    assert.deepEqual(summary(await scanAll(env.store, extent, { stopAtDamage: true })), summary([a]));
  }
});

// ------------------------------------------------------------ buffer cache and reset

/**
 * Append X, read it (now cached), reset the extent, take it again, append Y
 * of the same length at the same offset, and read the same locator before Y
 * is durable.
 * Returns what that read gave, with X and Y.
 */
async function readAfterReset(): Promise<{ got: Buffer; x: Buffer; y: Buffer }> {
  // One allocatable extent: the reset one is handed out again.
  const env = setup({ cacheBytes: 1 << 20, geometry: { ...GEOMETRY, extentCount: 2 } });
  const rng = new Rng('reset');
  const extent = env.extents.allocate(ExtentOwner.Data);
  const [x] = appendAll(env, extent, [300], rng);
  assert.ok(x !== undefined);
  await x.dependency.persisted();
  assert.deepEqual(await env.store.read(x.locator, x.kind), x.payload);
  assert.equal(env.cache.stats().entries, 1, 'the read was cached');
  env.extents.reset(extent, Dependency.none);
  assert.equal(env.extents.allocate(ExtentOwner.Data), extent);
  const [y] = appendAll(env, extent, [300], rng);
  assert.ok(y !== undefined);
  assert.deepEqual(y.locator, x.locator);
  // Read before Y is durable: once it is, a small data chunk enters the
  // cache by itself (write-through) and would hide a stale entry.
  const got = await env.store.read(y.locator, y.kind);
  await y.dependency.persisted();
  return { got, x: x.payload, y: y.payload };
}

test('an extent reset drops its cached chunks: a read after reuse sees the new data', async () => {
  // Checks: the paper's "cache not drained after reset" bug cannot happen:
  // the read after the extent's reuse returns the new chunk's payload.
  const { got, x, y } = await readAfterReset();
  assert.notDeepEqual(x, y);
  assert.deepEqual(got, y);
});

test('the reset test above fails when the cache is not invalidated', async () => {
  // Checks: the previous test has teeth. How: make
  // BufferCache.prototype.invalidateExtent a no-op for the duration, run
  // the same scenario, and observe the stale payload; then restore.
  const proto = BufferCache.prototype;
  const original = Object.getOwnPropertyDescriptor(proto, 'invalidateExtent');
  assert.ok(original !== undefined);
  Object.defineProperty(proto, 'invalidateExtent', { ...original, value: (): void => undefined });
  let result: { got: Buffer; x: Buffer; y: Buffer };
  try {
    result = await readAfterReset();
  } finally {
    Object.defineProperty(proto, 'invalidateExtent', original);
  }
  assert.deepEqual(result.got, result.x, 'with invalidation disabled the stale bytes are served');
  assert.notDeepEqual(result.got, result.y);
  // Restored: the scenario passes again.
  const again = await readAfterReset();
  assert.deepEqual(again.got, again.y);
});

test('small data chunks enter the cache once durable, not before, and not after a failed write', async () => {
  // Checks the write-through of ChunkStore.appendTo: a durable small data
  // chunk is cached (a read costs no disk read), other kinds are not, and
  // a chunk whose write failed is not.
  const env = setup({ cacheBytes: 1 << 20 });
  const rng = new Rng('write-through');
  const extent = env.extents.allocate(ExtentOwner.Data);
  const payload = rng.bytes(500);
  const data = env.store.appendTo(extent, ChunkKind.Data, [payload], Dependency.none);
  const block = env.store.appendTo(extent, ChunkKind.RunBlock, [rng.bytes(500)], Dependency.none);
  assert.equal(env.cache.stats().entries, 0, 'nothing cached before the writes are durable');
  await data.dependency.persisted();
  await block.dependency.persisted();
  assert.deepEqual(env.store.readCached(data.locator, ChunkKind.Data), payload);
  assert.equal(env.store.readCached(block.locator, ChunkKind.RunBlock), undefined);
  const reads = env.store.counters.reads;
  assert.deepEqual(await env.store.read(data.locator, ChunkKind.Data), payload);
  assert.equal(env.store.counters.reads, reads, 'served from the cache');

  const other = env.extents.allocate(ExtentOwner.Data);
  const failed = env.store.appendTo(other, ChunkKind.Data, [rng.bytes(300)], Dependency.failed(new Error('injected')));
  await assert.rejects(failed.dependency.persisted());
  assert.equal(env.store.readCached(failed.locator, ChunkKind.Data), undefined, 'a failed write is not cached');
});

test('a data chunk above the write-through size enters the cache when read, not when written, unless its writer asked for it (cacheOnWrite)', async () => {
  // Checks the size bound of the write-through (WRITE_THROUGH_MAX_PAYLOAD_BYTES):
  // a put of a few KiB leaves nothing in the cache (keeping every put's frame
  // was most of a small put's CPU), the bound itself is still written through,
  // and a read of the larger chunk goes to the disk once and is cached then.
  // And AppendOptions.cacheOnWrite (the S3 front's records, through
  // TogetherPut.readBack): a chunk above the bound asked for is cached once
  // its write is durable, not before (the write may still fail), so reading
  // it back costs no disk read; a failed write asked for leaves nothing.
  const env = setup({ cacheBytes: 1 << 20 });
  const rng = new Rng('write-through-bound');
  const extent = env.extents.allocate(ExtentOwner.Data);
  const atBound = rng.bytes(WRITE_THROUGH_MAX_PAYLOAD_BYTES);
  const above = rng.bytes(WRITE_THROUGH_MAX_PAYLOAD_BYTES + 1);
  const record = rng.bytes(4096 + 100);
  const gate = new Latch('test gate');
  const kept = env.store.appendTo(extent, ChunkKind.Data, [atBound], Dependency.none);
  const big = env.store.appendTo(extent, ChunkKind.Data, [above], Dependency.none);
  const asked = env.store.appendTo(extent, ChunkKind.Data, [record], gate.dependency, { cacheOnWrite: true });
  assert.equal(env.store.readCached(asked.locator, ChunkKind.Data), undefined, 'asked for: not cached before the write is durable');
  gate.resolve();
  for (const a of [kept, big, asked]) await a.dependency.persisted();
  assert.deepEqual(env.store.readCached(kept.locator, ChunkKind.Data), atBound, 'the bound itself is written through');
  // A frame the cache keeps has memory of its own: one cut from a frame slab would hold the whole slab alive.
  for (const a of [kept, asked]) assert.ok((env.store.readCached(a.locator, ChunkKind.Data)?.buffer.byteLength ?? 0) < FRAME_SLAB_BYTES, 'a cached frame is not in a frame slab');
  assert.equal(env.store.readCached(big.locator, ChunkKind.Data), undefined, 'above the bound: not cached on write');
  assert.deepEqual(env.store.readCached(asked.locator, ChunkKind.Data), record, 'above the bound, asked for: cached once durable');
  const reads = env.store.counters.reads;
  assert.deepEqual(await env.store.read(asked.locator, ChunkKind.Data), record);
  assert.equal(env.store.counters.reads, reads, 'asked for: read back from memory');
  assert.deepEqual(await env.store.read(big.locator, ChunkKind.Data), above);
  assert.equal(env.store.counters.reads, reads + 1, 'read from the disk');
  assert.deepEqual(env.store.readCached(big.locator, ChunkKind.Data), above, 'and cached by that read');
  const failing = new Latch('failing write');
  const failed = env.store.appendTo(extent, ChunkKind.Data, [rng.bytes(4096)], failing.dependency, { cacheOnWrite: true });
  failing.reject(new Error('injected'));
  await assert.rejects(failed.dependency.persisted());
  assert.equal(env.store.readCached(failed.locator, ChunkKind.Data), undefined, 'asked for, failed: not cached');
});

test('a read racing its chunk\'s write reads the queued bytes but does not cache them: a write that then fails leaves nothing cached', async () => {
  // Found by the concurrency suite's coherence check at every scheduling
  // point (testing/concurrency/step_invariants.ts): a get racing its put
  // read the chunk through the IO scheduler's queue and cached it before
  // the write was durable. Here the write waits on a dependency we control
  // (a latch), the read serves the queued bytes, and the write then fails:
  // the cache must hold nothing at that locator. Then a durable chunk read
  // from the disk is cached as before.
  const env = setup({ cacheBytes: 1 << 20 });
  const rng = new Rng('read-through-queue');
  const extent = env.extents.allocate(ExtentOwner.Data);
  const payload = rng.bytes(300);
  const gate = new Latch('test gate');
  const queued = env.store.appendTo(extent, ChunkKind.RunBlock, [payload], gate.dependency);
  assert.deepEqual(await env.store.read(queued.locator, ChunkKind.RunBlock), payload, 'the queued bytes are readable at once');
  assert.equal(env.store.readCached(queued.locator, ChunkKind.RunBlock), undefined, 'not cached before the write is durable');
  gate.reject(new Error('injected'));
  await assert.rejects(queued.dependency.persisted());
  assert.equal(env.store.readCached(queued.locator, ChunkKind.RunBlock), undefined, 'a failed write leaves nothing cached');

  const other = env.extents.allocate(ExtentOwner.Index);
  const durable = env.store.appendTo(other, ChunkKind.RunBlock, [payload], Dependency.none);
  await durable.dependency.persisted();
  assert.deepEqual(await env.store.read(durable.locator, ChunkKind.RunBlock), payload);
  assert.deepEqual(env.store.readCached(durable.locator, ChunkKind.RunBlock), payload, 'a durable chunk read from the disk is cached');
});

test('readHandOver hands a large payload over as read, caches it on its second read, and verifies every read', async () => {
  // Checks ChunkStore.readHandOver with chunks of SECOND_READ_ADMISSION_BYTES
  // (1 MiB extents): the first read of a large chunk returns its payload
  // uncached (cached: false), so the caller's writes to it change nothing
  // later reads see; the second read enters the cache (cached: true) and a
  // third is a hit on that same buffer; a small chunk is cached at its
  // first read; a flipped bit in a large chunk is a CorruptionError on this
  // path too, and nothing is cached; a chunk whose write is not durable yet
  // is handed over and not cached.
  const geometry: Geometry = { pageSizeBytes: PAGE, extentSizeBytes: 1 << 20, extentCount: 4, superblockExtents: 1 };
  const env = setup({ cacheBytes: 8 << 20, geometry });
  const rng = new Rng('hand-over');
  const extent = env.extents.allocate(ExtentOwner.Data);
  const large = rng.bytes(SECOND_READ_ADMISSION_BYTES);
  const small = rng.bytes(3000);
  const big = env.store.appendTo(extent, ChunkKind.Data, [large], Dependency.none);
  const little = env.store.appendTo(extent, ChunkKind.Data, [small], Dependency.none);
  await Promise.all([big.dependency.persisted(), little.dependency.persisted()]);

  const first = await env.store.readHandOver(big.locator, ChunkKind.Data);
  assert.equal(first.cached, false, 'a first large read is handed over');
  assert.deepEqual(first.payload, large);
  assert.equal(env.cache.stats().entries, 0);
  first.payload.fill(0xee); // the caller's now
  const second = await env.store.readHandOver(big.locator, ChunkKind.Data);
  assert.equal(second.cached, true, 'the second read is kept');
  assert.deepEqual(second.payload, large, 'the first caller\'s writes are not seen');
  const reads = env.store.counters.reads;
  const third = await env.store.readHandOver(big.locator, ChunkKind.Data);
  assert.equal(third.cached, true);
  assert.equal(third.payload, second.payload, 'a hit returns the cached buffer itself');
  assert.equal(env.store.counters.reads, reads, 'the hit read nothing');
  assert.equal((await env.store.readHandOver(little.locator, ChunkKind.Data)).cached, true, 'a small chunk is kept at once');

  const other = env.extents.allocate(ExtentOwner.Data);
  const damaged = env.store.appendTo(other, ChunkKind.Data, [large], Dependency.none);
  await damaged.dependency.persisted();
  const at = env.extents.diskOffset(other, damaged.locator.offset) + 24 + 100_000;
  env.disk.flipBit(at, 2);
  for (let i = 0; i < 2; i++) await assert.rejects(env.store.readHandOver(damaged.locator, ChunkKind.Data), CorruptionError);
  assert.equal(env.store.readCached(damaged.locator, ChunkKind.Data), undefined, 'a corrupt chunk is never cached');
  env.disk.flipBit(at, 2);
  assert.deepEqual((await env.store.readHandOver(damaged.locator, ChunkKind.Data)).payload, large);

  const gate = new Latch('test gate');
  const queued = env.store.appendTo(other, ChunkKind.Data, [small], gate.dependency);
  const racing = await env.store.readHandOver(queued.locator, ChunkKind.Data);
  assert.deepEqual(racing, { payload: small, cached: false }, 'not durable: handed over, not cached');
  gate.resolve();
  await queued.dependency.persisted();
});
