// tier: quick (npm run test:quick; docs/TESTING.md)
// Round trips of the on-disk formats: encode then decode gives back the same
// value, and decode then encode gives back the same bytes.
//
// Chunk framing (every kind; payloads of 0, 1, a page - 1, a page, a page + 1
// bytes; payloads handed over as several parts), the superblock label and
// checkpoint slot (including a checkpoint too big for its slot, which the
// encoder refuses with RangeError), and metadata records and the manifest
// built from real values: data chunk locators appended by a ChunkStore on a
// SimDisk, and run descriptors written by a real LsmIndex flush. Random
// records (the fuzzer's generators, fixed seeds) add breadth.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufWriter, CorruptionError, crc32c } from '../src/base/index.js';
import { BufferCache, CHUNK_HEADER_BYTES, CHUNK_OVERHEAD_BYTES, ChunkKind, ChunkStore, ChunkStream, alignUp, checkChunk, frameChunk, frameChunkParts, parseHeader, verifyChunk } from '../src/chunk/index.js';
import type { Locator } from '../src/chunk/index.js';
import { Dependency, IoScheduler } from '../src/dependency/index.js';
import { DEFAULT_PAGE_SIZE_BYTES } from '../src/disk/index.js';
import { ExtentManager, ExtentOwner } from '../src/extent/index.js';
import type { ExtentRecord } from '../src/extent/index.js';
import { LsmIndex } from '../src/index/index.js';
import type { IndexMutation, IndexValue, RunDescriptor } from '../src/index/index.js';
import { decodeManifest, decodeMetaRecord, decodeMetaRecordHead, decodeMutations, encodeManifest, encodeMetaRecord } from '../src/store/metalog_format.js';
import type { Manifest, MetaRecord } from '../src/store/metalog_format.js';
import { dataHeader, splitDataPayload } from '../src/chunk/index.js';
import { LABEL_BYTES, decodeCheckpoint, decodeLabel, encodeCheckpoint, encodeLabel, planLayout } from '../src/superblock/index.js';
import type { Checkpoint, Label, LayoutOptions } from '../src/superblock/index.js';
import { FUZZ_LABEL, randomDescriptor, randomMetaRecord } from './fuzz/decoders.js';
import { Rng } from './rng.js';
import { SimDisk } from './sim_disk.js';

const KINDS = [ChunkKind.Data, ChunkKind.RunBlock, ChunkKind.RunIndex, ChunkKind.MetaRecord];
const PAGE = DEFAULT_PAGE_SIZE_BYTES;

// ------------------------------------------------------------ chunks

/** `payload` cut into pieces at the given points (empty pieces included). */
function cut(payload: Buffer, points: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (const p of [...points, payload.length]) {
    const to = Math.min(Math.max(from, p), payload.length);
    out.push(payload.subarray(from, to));
    from = to;
  }
  return out;
}

test('chunk framing: frame then check gives back kind, id and payload, for every kind and edge size', () => {
  // Checks: for each kind and payload size (0, 1, page-1, page, page+1) and
  // each way of handing the payload over (one part, several parts with
  // empty ones), the framed chunk has the documented length and zero
  // padding to 8 bytes, and checkChunk / verifyChunk / parseHeader return
  // exactly what went in. A wrong expected kind or a length that includes
  // the padding is a CorruptionError. How: exhaustive over the grid.
  const rng = new Rng('formats/chunk');
  for (const kind of KINDS) {
    // 64 KiB + 9: above the size framed in one copied buffer, so the parts go out as given.
    for (const size of [0, 1, PAGE - 1, PAGE, PAGE + 1, 64 * 1024 + 9]) {
      const payload = rng.bytes(size);
      for (const points of [[], [0, 0, 1], [Math.floor(size / 2), Math.floor(size / 2), size], [1, 2, 3, size - 1]]) {
        const id = { low: rng.nextU32(), high: 0xffffffff };
        const { bytes, framedBytes } = frameChunk(kind, cut(payload, points), id);
        const where = `kind ${kind}, ${size} bytes, cut at ${points.join(',')}`;
        assert.equal(framedBytes, CHUNK_OVERHEAD_BYTES + size, where);
        assert.equal(bytes.length, alignUp(framedBytes), where);
        assert.equal(bytes.length % 8, 0, where);
        assert.ok(bytes.subarray(framedBytes).every((b) => b === 0), `${where}: padding not zero`);
        const checked = checkChunk(bytes);
        assert.ok(typeof checked !== 'string', `${where}: ${typeof checked === 'string' ? checked : ''}`);
        assert.deepEqual(checked.header, { kind, idLow: id.low, idHigh: id.high, payloadBytes: size });
        assert.deepEqual(checked.payload, payload);
        assert.deepEqual(parseHeader(bytes), checked.header);
        assert.deepEqual(verifyChunk(bytes.subarray(0, framedBytes), kind, where), payload);
        const other = KINDS.find((k) => k !== kind) ?? ChunkKind.Data;
        assert.throws(() => verifyChunk(bytes.subarray(0, framedBytes), other, where), CorruptionError);
        if (bytes.length > framedBytes) assert.throws(() => verifyChunk(bytes, kind, where), CorruptionError);
      }
    }
  }
});

test('a header is parsed only when all of it lies inside the buffer, at any offset', () => {
  // Checks: parseHeader(buf, at) gives the header when its CHUNK_HEADER_BYTES
  // end exactly at the buffer's end, and undefined (never a RangeError of a
  // read past the end) when the buffer stops one byte short, as a scan at
  // the end of a read window does. How: one framed chunk placed at offsets
  // 0 and 40 of a buffer cut right after its header, then one byte earlier.
  const { bytes } = frameChunk(ChunkKind.Data, [Buffer.from('header bounds')], { low: 1, high: 2 });
  for (const at of [0, 40]) {
    const buf = Buffer.concat([Buffer.alloc(at), bytes.subarray(0, CHUNK_HEADER_BYTES)]);
    assert.deepEqual(parseHeader(buf, at), { kind: ChunkKind.Data, idLow: 1, idHigh: 2, payloadBytes: 13 }, `at ${at}`);
    assert.equal(parseHeader(buf.subarray(0, buf.length - 1), at), undefined, `at ${at}, one byte short`);
  }
});

test('the buffer cache keeps a chunk of up to a quarter of its capacity, never a larger one', () => {
  // Checks: the rule of BufferCache.insert (one big value must not flush
  // the whole cache): a payload of capacity/4 bytes is kept and read back, one
  // of capacity/4 + 1 is not; a cache of capacity 0 keeps nothing, a
  // negative capacity is refused. How: a
  // 4 KiB cache, inserts at two locators, peeks.
  const cache = new BufferCache(4096, 65536);
  const at = (offset: number, payloadBytes: number): Locator => ({ extent: 3, offset, length: CHUNK_OVERHEAD_BYTES + payloadBytes });
  cache.insert(at(0, 1024), ChunkKind.Data, Buffer.alloc(1024, 1));
  cache.insert(at(8192, 1025), ChunkKind.Data, Buffer.alloc(1025, 2));
  assert.deepEqual(cache.peek(at(0, 1024), ChunkKind.Data), Buffer.alloc(1024, 1));
  assert.equal(cache.peek(at(8192, 1025), ChunkKind.Data), undefined);
  const none = new BufferCache(0, 65536);
  none.insert(at(0, 1), ChunkKind.Data, Buffer.alloc(1));
  assert.equal(none.peek(at(0, 1), ChunkKind.Data), undefined);
  assert.throws(() => new BufferCache(-1, 65536), { name: 'AssertionError' });
});

test('chunk framing: a chunk found at an aligned offset inside a larger buffer checks the same', () => {
  // Checks: checkChunk(buf, at) reads the chunk at `at`, ignoring bytes before and after. How: two chunks back to back.
  const rng = new Rng('formats/chunk-at');
  const a = frameChunk(ChunkKind.Data, [rng.bytes(13)], { low: 1, high: 2 });
  const b = frameChunk(ChunkKind.MetaRecord, [rng.bytes(PAGE + 1)], { low: 3, high: 4 });
  const both = Buffer.concat([a.bytes, b.bytes, rng.bytes(5)]);
  const second = checkChunk(both, a.bytes.length);
  assert.ok(typeof second !== 'string', typeof second === 'string' ? second : '');
  assert.equal(second.header.kind, ChunkKind.MetaRecord);
  assert.deepEqual(second.payload, b.bytes.subarray(24, 24 + PAGE + 1));
});

test('data chunk payload: key header then data round trip', () => {
  // Checks: dataHeader + data splits back into the same key and data, for keys of 1 and 1024 bytes and empty data.
  const rng = new Rng('formats/data');
  for (const [keyBytes, dataBytes] of [[1, 0], [1024, 0], [7, PAGE + 1]] as const) {
    const key = rng.bytes(keyBytes);
    const data = rng.bytes(dataBytes);
    const split = splitDataPayload(Buffer.concat([dataHeader(key), data]));
    assert.deepEqual(split, { key, data });
  }
});

// ------------------------------------------------------------ superblock

/** magic, version, 4 geometry u32s, diskSize u64, slotBytes u32, 2 slot u64s, 5 u32s, crc u32. */
const LABEL_FIELD_BYTES = 4 * 6 + 8 + 4 + 8 * 4 + 4 * 5 + 4;

const LAYOUT: LayoutOptions = {
  diskSizeBytes: 64 * 65536,
  pageSizeBytes: 512,
  extentSizeBytes: 65536,
  maxManifestBytes: 4096,
  nodeId: { low: 0xdeadbeef, high: 0xffffffff },
  diskIndex: 2,
  diskCount: 3,
};

test('superblock label: encode then decode is the identity', () => {
  // Checks: labels of several geometries (page sizes, extent sizes, 2^40-byte
  // disks, node ids with the top bit set) survive encode/decode exactly; the
  // encoding is LABEL_BYTES long; a label whose fields break a relation is
  // refused even with a valid CRC. How: planLayout, then compare.
  const layouts: LayoutOptions[] = [
    LAYOUT,
    { ...LAYOUT, pageSizeBytes: 4096, diskIndex: 0, diskCount: 1 },
    { ...LAYOUT, extentSizeBytes: 1 << 30, diskSizeBytes: 2 ** 40, maxManifestBytes: 256 * 1024 },
    { ...LAYOUT, maxManifestBytes: 0 },
  ];
  for (const layout of layouts) {
    const label = planLayout(layout);
    const bytes = encodeLabel(label);
    // The fields take 92 bytes (docs/format/superblock.md's table); open reads
    // LABEL_BYTES (96) of the page-padded label, so both lengths must decode.
    assert.equal(bytes.length, LABEL_FIELD_BYTES);
    assert.ok(bytes.length <= LABEL_BYTES);
    assert.deepEqual(decodeLabel(bytes), label);
    assert.deepEqual(decodeLabel(Buffer.concat([bytes, Buffer.alloc(LABEL_BYTES - bytes.length)])), label);
    assert.deepEqual(encodeLabel(decodeLabel(bytes)), bytes);
  }
  const bad = encodeLabel(planLayout(LAYOUT));
  bad.writeUInt32LE(3, 80); // diskIndex = diskCount
  bad.writeUInt32LE(crc32c(bad.subarray(0, LABEL_FIELD_BYTES - 4)), LABEL_FIELD_BYTES - 4);
  assert.throws(() => decodeLabel(bad), /disk index/);
});

function checkpointFor(label: Label, rng: Rng, manifestBytes: number): Checkpoint {
  const g = label.geometry;
  const extents: ExtentRecord[] = Array.from({ length: g.extentCount }, (_, extent) => ({
    extent,
    owner: extent < g.superblockExtents ? ExtentOwner.Superblock : rng.pick([ExtentOwner.Free, ExtentOwner.Data, ExtentOwner.Index, ExtentOwner.Meta]),
    writePointer: rng.pick([0, g.extentSizeBytes, rng.int(0, g.extentSizeBytes)]),
  }));
  const hostAllocated = extents.filter(() => rng.bool(0.3)).map((e) => e.extent);
  return { sequence: Number.MAX_SAFE_INTEGER - rng.int(0, 9), extents, logExtent: g.extentCount - 1, mirrorLogExtent: g.extentCount - 2, nextRecordSeq: rng.int(1, 2 ** 40), manifest: rng.bytes(manifestBytes), hostAllocated };
}

test('checkpoint slot: encode then decode is the identity, padded or not; too big for the slot is a RangeError', () => {
  // Checks: a checkpoint with every owner, write pointers at 0, mid and the
  // extent's end, a u64 sequence near 2^53 and a manifest of 0 bytes up to
  // the slot's room decodes to itself, alone or followed by the slot's zero
  // padding; one byte more manifest than fits throws RangeError at encode.
  const label = planLayout(LAYOUT);
  const rng = new Rng('formats/checkpoint');
  const room = label.slotBytes - (24 + 4 + 5 * label.geometry.extentCount + 4 + 4 + 8 + 4);
  assert.ok(room >= label.maxManifestBytes);
  for (const manifestBytes of [0, 1, 100, label.maxManifestBytes, room]) {
    const cp = checkpointFor(label, rng, manifestBytes);
    const bytes = encodeCheckpoint(cp, label);
    assert.ok(bytes.length <= label.slotBytes);
    assert.deepEqual(decodeCheckpoint(bytes, label), cp);
    const slot = Buffer.alloc(label.slotBytes);
    bytes.copy(slot);
    assert.deepEqual(decodeCheckpoint(slot, label), cp);
  }
  assert.throws(() => encodeCheckpoint(checkpointFor(label, rng, room + 1), label), RangeError);
  // A checkpoint for another geometry does not pass as this one's.
  const other = encodeCheckpoint(checkpointFor(FUZZ_LABEL, rng, 10), FUZZ_LABEL);
  assert.throws(() => decodeCheckpoint(other, label), CorruptionError);
});

test('every superblock decoder names its structure in the CorruptionError of a cut input', () => {
  // Checks: what open and fsck print for a damaged label or slot starts
  // with the structure that failed: "superblock label: ...", "superblock
  // slot: ..." (its header and the payload the header announces),
  // "superblock checkpoint: ..." (the payload, once its CRC holds),
  // truncations included, which the BufReader reports with the name it was
  // given. How: a valid label and slot cut at every length from 0 to one
  // byte short; then the slot's payload cut at every length with the
  // slot's length and CRC fields written again, so only the checkpoint's
  // own reader can refuse it.
  const label = planLayout(LAYOUT);
  const named = (name: string, decode: () => unknown, what: string): void => {
    assert.throws(decode, (err: unknown) => err instanceof CorruptionError && err.message.startsWith(`${name}: `), what);
  };
  const labelBytes = encodeLabel(label);
  for (let length = 0; length < labelBytes.length; length++) named('superblock label', () => decodeLabel(labelBytes.subarray(0, length)), `label cut to ${length}`);
  const slot = encodeCheckpoint(checkpointFor(label, new Rng('formats/names'), 20), label);
  for (let length = 0; length < slot.length; length++) named('superblock slot', () => decodeCheckpoint(slot.subarray(0, length), label), `slot cut to ${length}`);
  const SLOT_HEADER = 24; // magic, version, sequence u64, payload length, CRC
  for (let length = 0; length < slot.length - SLOT_HEADER; length++) {
    const cut = Buffer.from(slot.subarray(0, SLOT_HEADER + length));
    cut.writeUInt32LE(length, 16);
    cut.writeUInt32LE(crc32c(cut.subarray(SLOT_HEADER), crc32c(cut.subarray(0, 20))), 20);
    named('superblock checkpoint', () => decodeCheckpoint(cut, label), `checkpoint payload cut to ${length}`);
  }
  assert.throws(() => decodeLabel(Buffer.alloc(0)), { name: 'CorruptionError', message: 'superblock label: truncated at byte 0 (need 4, have 0)' });
  assert.throws(() => decodeCheckpoint(Buffer.alloc(0), label), { name: 'CorruptionError', message: 'superblock slot: truncated at byte 0 (need 4, have 0)' });
  // A whole slot of another geometry: the checkpoint's extent count, named.
  const other = encodeCheckpoint(checkpointFor(FUZZ_LABEL, new Rng('formats/names'), 20), FUZZ_LABEL);
  const message = `superblock checkpoint: ${FUZZ_LABEL.geometry.extentCount} extents, label says ${label.geometry.extentCount}`;
  assert.throws(() => decodeCheckpoint(other, label), { name: 'CorruptionError', message });
});

// ------------------------------------------------------------ metadata, with real values

interface RealValues {
  readonly values: IndexValue[];
  readonly runs: RunDescriptor[];
  readonly extentChanges: ExtentRecord[];
}

/**
 * Values as the store makes them: data chunks appended by a ChunkStream on
 * a SimDisk (their locators), runs written by LsmIndex flushes over an index
 * stream, and the extent changes that record them.
 */
async function realValues(rng: Rng): Promise<RealValues> {
  const geometry = { pageSizeBytes: 512, extentSizeBytes: 65536, extentCount: 16, superblockExtents: 1 };
  const disk = new SimDisk({ sizeBytes: geometry.extentSizeBytes * geometry.extentCount, pageSizeBytes: 512 });
  const extents = new ExtentManager(geometry, new IoScheduler(disk), 0);
  const store = new ChunkStore(extents, new BufferCache(1 << 20, geometry.extentSizeBytes), rng.fork('ids'));
  const data = new ChunkStream(store, ExtentOwner.Data);
  const values: IndexValue[] = [];
  const durable: Dependency[] = [];
  for (const [chunkCount, chunkBytes] of [[0, 0], [1, 0], [1, 10], [3, 30_000]] as const) {
    const key = rng.bytes(8);
    const chunks: Locator[] = [];
    for (let i = 0; i < chunkCount; i++) {
      const { locator, dependency } = data.append(ChunkKind.Data, [dataHeader(key), rng.bytes(chunkBytes)]);
      chunks.push(locator);
      durable.push(dependency);
    }
    values.push({ sizeBytes: chunkCount * chunkBytes, chunks });
  }
  await Dependency.all(durable).persisted();
  const primary = new ChunkStream(store, ExtentOwner.Index);
  const mirror = new ChunkStream(store, ExtentOwner.Index);
  primary.pairWith(mirror);
  const index = new LsmIndex({ primary, mirror }, { maxBlockBytes: 256 });
  const runs: RunDescriptor[] = [];
  for (let seq = 1; seq <= 2; seq++) {
    const keys = Array.from({ length: 40 }, (_, i) => Buffer.from(`key-${seq}-${String(i).padStart(3, '0')}`));
    index.apply(keys.map((key, i) => ({ key, value: i % 5 === 0 ? null : (values[i % values.length] ?? null) })), seq);
    const job = index.beginFlush();
    assert.ok(job !== undefined);
    const out = job.write();
    await out.dependency.persisted();
    index.finishFlush(job, out.run);
    runs.unshift(out.run);
  }
  return { values, runs, extentChanges: extents.takeChanges() };
}

test('metadata record and manifest: encode then decode is the identity on real values', async () => {
  // Checks: a record holding real data locators (values of 0, 1 and 3
  // chunks), tombstones, keys of 1 and 1024 bytes, the extent changes and
  // run descriptors of real flushes, and removed run ids decodes to itself
  // and re-encodes to the same bytes; the same for a manifest of those runs
  // (newest first) and for empty ones.
  const rng = new Rng('formats/meta');
  const real = await realValues(rng);
  assert.equal(real.runs.length, 2);
  assert.ok(real.extentChanges.length >= 2, 'data and index extents were recorded');
  const keys = [Buffer.from([0]), Buffer.from('a'), Buffer.from('b'), Buffer.alloc(1024, 0xff)];
  const mutations: IndexMutation[] = keys.map((key, i) => ({ key, value: i === 1 ? null : (real.values[i] ?? null) }));
  const records: MetaRecord[] = [
    { seq: 1, syncedThroughSeq: 0, extentChanges: [], mutations: [], runsAdded: [], runsRemoved: [], flushedThroughSeq: 0, dataNames: [] },
    {
      seq: Number.MAX_SAFE_INTEGER,
      syncedThroughSeq: Number.MAX_SAFE_INTEGER - 1,
      extentChanges: real.extentChanges,
      mutations,
      runsAdded: real.runs,
      runsRemoved: [1, 2 ** 40],
      flushedThroughSeq: 2,
      dataNames: [{ locator: { extent: 5, offset: 4096, length: 4200 }, id: { low: 0xffffffff, high: 1 } }],
    },
  ];
  for (const rec of records) {
    const bytes = encodeMetaRecord(rec);
    assert.deepEqual(decodeMetaRecord(bytes), rec);
    assert.deepEqual(encodeMetaRecord(decodeMetaRecord(bytes)), bytes);
  }
  const manifests: Manifest[] = [
    { runs: [], flushedThroughSeq: 0 },
    { runs: real.runs, flushedThroughSeq: Number.MAX_SAFE_INTEGER },
  ];
  for (const m of manifests) {
    const bytes = encodeManifest(m);
    assert.deepEqual(decodeManifest(bytes), m);
    assert.deepEqual(encodeManifest(decodeManifest(bytes)), bytes);
  }
});

test('metadata record and manifest: random valid values round trip', () => {
  // Checks: breadth over the fuzzer's generators of valid records and
  // descriptors (500 of each, fixed seed): decode(encode(x)) equals x.
  const rng = new Rng('formats/meta-random');
  for (let i = 0; i < 500; i++) {
    const rec = randomMetaRecord(rng);
    assert.deepEqual(decodeMetaRecord(encodeMetaRecord(rec)), rec);
    const m: Manifest = { runs: [randomDescriptor(rng, 2 * i + 2), randomDescriptor(rng, 2 * i + 1)], flushedThroughSeq: rng.int(0, 1e9) };
    assert.deepEqual(decodeManifest(encodeManifest(m)), m);
  }
  // A writer that puts trailing bytes after a record is refused (nothing trails a payload).
  const w = new BufWriter();
  w.bytes(encodeMetaRecord(randomMetaRecord(rng))).u8(0);
  assert.throws(() => decodeMetaRecord(w.finish()), CorruptionError);
});

test('metadata record head: replay skips mutations but checks their framing', () => {
  // Checks: decodeMetaRecordHead (what replay reads of every record) gives
  // the same fields as decodeMetaRecord and, through decodeMutations, the
  // same mutations (200 random records); a record whose mutation op, key
  // length, value size or locator count is damaged, or that is cut short,
  // is refused by the head alone, though it never decodes the mutations.
  const rng = new Rng('formats/meta-head');
  for (let i = 0; i < 200; i++) {
    const rec = randomMetaRecord(rng);
    const head = decodeMetaRecordHead(encodeMetaRecord(rec));
    const { mutations, ...rest } = rec;
    const fields = { seq: head.seq, syncedThroughSeq: head.syncedThroughSeq, extentChanges: head.extentChanges, runsAdded: head.runsAdded };
    assert.deepEqual({ ...fields, runsRemoved: head.runsRemoved, flushedThroughSeq: head.flushedThroughSeq, dataNames: head.dataNames }, rest);
    assert.equal(head.mutationCount, mutations.length);
    assert.deepEqual(decodeMutations(head), mutations);
  }
  const key = Buffer.from('k');
  const bytes = encodeMetaRecord({ seq: 5, syncedThroughSeq: 4, extentChanges: [], mutations: [{ key, value: null }], runsAdded: [], runsRemoved: [], flushedThroughSeq: 0, dataNames: [] });
  // seq u64, syncedThroughSeq u64, extent change count u32, mutation count u32: the first mutation's key length is at 24.
  const at = 8 + 8 + 4 + 4;
  assert.equal(bytes.readUInt16LE(at), 1);
  const badOp = Buffer.from(bytes);
  badOp[at + 2 + 1] = 7;
  assert.throws(() => decodeMetaRecordHead(badOp), /op 7/);
  const badKey = Buffer.from(bytes);
  badKey.writeUInt16LE(0, at);
  assert.throws(() => decodeMetaRecordHead(badKey), CorruptionError);
  // A put's value: size u64 (below 2^53) and a locator count the bytes can
  // hold, both checked by the head; every cut of the record is a
  // CorruptionError, never a RangeError of the buffer.
  const value = { sizeBytes: 10, chunks: [{ extent: 3, offset: 0, length: 46 }] };
  const put = encodeMetaRecord({ seq: 5, syncedThroughSeq: 4, extentChanges: [], mutations: [{ key, value }], runsAdded: [], runsRemoved: [], flushedThroughSeq: 0, dataNames: [] });
  const sizeAt = at + 2 + 1 + 1;
  assert.equal(put.readUInt32LE(sizeAt), 10);
  const hugeSize = Buffer.from(put);
  hugeSize.writeUInt32LE(0x200000, sizeAt + 4);
  assert.throws(() => decodeMetaRecordHead(hugeSize), /beyond 2\^53/);
  const manyLocators = Buffer.from(put);
  manyLocators.writeUInt32LE(1000, sizeAt + 8);
  assert.throws(() => decodeMetaRecordHead(manyLocators), /locator count 1000/);
  for (let cut = 0; cut < put.length; cut++) assert.throws(() => decodeMetaRecordHead(put.subarray(0, cut)), CorruptionError, `cut at ${cut}`);
});

void test('a large chunk is framed around the caller\'s parts, not a copy of them', () => {
  // What: above 64 KiB, frameChunkParts returns header, the very payload
  // parts, and trailer; their concatenation is the same frame as frameChunk.
  // Below, one copied buffer. How: identity of the parts, then verifyChunk.
  const rng = new Rng('formats/chunk-parts');
  const parts = [rng.bytes(40_000), rng.bytes(0), rng.bytes(30_000)];
  const id = { low: 7, high: 9 };
  const framed = frameChunkParts(ChunkKind.Data, parts, id);
  assert.equal(framed.parts.length, 4);
  assert.equal(framed.parts[1], parts[0]);
  assert.equal(framed.parts[2], parts[2]);
  const whole = Buffer.concat(framed.parts);
  assert.equal(whole.length, framed.alignedBytes);
  assert.deepEqual(whole, frameChunk(ChunkKind.Data, parts, id).bytes);
  assert.deepEqual(verifyChunk(whole.subarray(0, framed.framedBytes), ChunkKind.Data, 'parts'), Buffer.concat(parts));
  assert.equal(frameChunkParts(ChunkKind.Data, [rng.bytes(100)], id).parts.length, 1);
});

test('a chunk stream pairs only with another stream of its own owner', () => {
  // Checks: pairWith refuses (AssertionError) to pair a stream with itself
  // or with a stream of another owner: the two copies of an index chunk
  // must land in two extents of the index. How: three streams on one store.
  const geometry = { pageSizeBytes: 512, extentSizeBytes: 65536, extentCount: 16, superblockExtents: 1 };
  const disk = new SimDisk({ sizeBytes: geometry.extentSizeBytes * geometry.extentCount, pageSizeBytes: 512 });
  const store = new ChunkStore(new ExtentManager(geometry, new IoScheduler(disk), 0), new BufferCache(0, geometry.extentSizeBytes), new Rng('pair'));
  const primary = new ChunkStream(store, ExtentOwner.Index);
  const pairRule = /pair two distinct streams of one owner/;
  assert.throws(() => primary.pairWith(primary), pairRule);
  assert.throws(() => primary.pairWith(new ChunkStream(store, ExtentOwner.Data)), pairRule);
  primary.pairWith(new ChunkStream(store, ExtentOwner.Index));
});

/** `bytes` (one framed chunk of `payloadBytes`) with both CRCs computed again after an edit. */
function reseal(bytes: Buffer, payloadBytes: number): Buffer {
  bytes.writeUInt32LE(crc32c(bytes.subarray(0, 20)), 20);
  const payloadEnd = CHUNK_HEADER_BYTES + payloadBytes;
  bytes.writeUInt32LE(crc32c(bytes.subarray(0, payloadEnd)), payloadEnd);
  return bytes;
}

test('each rule of the chunk header and trailer refuses a chunk on its own, and says which', () => {
  // Checks: a chunk that breaks exactly one framing rule, with both CRCs
  // recomputed so that no checksum can refuse it for the rule, is refused
  // by that rule: magic, kind (0 and 5, just outside 1..4), version,
  // reserved bytes, header CRC; then the payload length beyond the bytes
  // read, the payload CRC, each half of the trailing id, the kind expected
  // and the length of the read; verifyChunk's CorruptionError names the
  // place and the rule. How: edits of one framed chunk, one at a time.
  const payload = Buffer.from('one rule at a time');
  const n = payload.length;
  const framed = (): Buffer => {
    const { bytes, framedBytes } = frameChunk(ChunkKind.RunBlock, [payload], { low: 0x01020304, high: 0x05060708 });
    return Buffer.from(bytes.subarray(0, framedBytes));
  };
  const badHeader: Array<[string, (b: Buffer) => void]> = [
    ['magic', (b) => b.writeUInt32LE(0x4b435354, 0)],
    ['magic, last byte', (b) => (b[3] = 0x4c)],
    ['kind 0', (b) => (b[4] = 0)],
    ['kind 5', (b) => (b[4] = 5)],
    ['version 0', (b) => (b[5] = 0)],
    ['version 2', (b) => (b[5] = 2)],
    ['reserved low byte', (b) => (b[6] = 1)],
    ['reserved high byte', (b) => (b[7] = 0x80)],
  ];
  for (const [rule, edit] of badHeader) {
    const b = framed();
    edit(b);
    reseal(b, n);
    assert.equal(parseHeader(b), undefined, rule);
    assert.equal(checkChunk(b), 'bad header', rule);
    assert.throws(() => verifyChunk(b, ChunkKind.RunBlock, '7:64'), { name: 'CorruptionError', message: 'chunk at 7:64: bad header' }, rule);
  }
  // The header CRC alone: the payload CRC is made to match the damaged header.
  const crc = reseal(framed(), n);
  crc.writeUInt32LE((crc.readUInt32LE(20) ^ 1) >>> 0, 20);
  crc.writeUInt32LE(crc32c(crc.subarray(0, CHUNK_HEADER_BYTES + n)), CHUNK_HEADER_BYTES + n);
  assert.equal(parseHeader(crc), undefined, 'header crc');
  assert.equal(checkChunk(crc), 'bad header', 'header crc');

  const longer = framed();
  longer.writeUInt32LE(n + 1, 16);
  reseal(longer, n);
  assert.equal(checkChunk(longer), `payload length ${n + 1} beyond the bytes read`);
  const payloadCrc = framed();
  payloadCrc.writeUInt8(payloadCrc.readUInt8(CHUNK_HEADER_BYTES + 3) ^ 0x10, CHUNK_HEADER_BYTES + 3);
  assert.equal(checkChunk(payloadCrc), 'payload checksum mismatch');
  for (const at of [CHUNK_HEADER_BYTES + n + 4, CHUNK_HEADER_BYTES + n + 8, CHUNK_HEADER_BYTES + n + 11]) {
    const torn = framed();
    torn.writeUInt8(torn.readUInt8(at) ^ 0xff, at);
    assert.equal(checkChunk(torn), 'trailing chunk id mismatch (torn or stale chunk)', `id byte ${at}`);
  }
  assert.throws(() => verifyChunk(framed(), ChunkKind.Data, '7:64'), { name: 'CorruptionError', message: `chunk at 7:64: kind ${ChunkKind.RunBlock}, expected ${ChunkKind.Data}` });
  const padded = Buffer.concat([framed(), Buffer.alloc(4)]);
  assert.throws(() => verifyChunk(padded, ChunkKind.RunBlock, '7:64'), { name: 'CorruptionError', message: `chunk at 7:64: length ${padded.length} does not match its header` });
  assert.deepEqual(verifyChunk(framed(), ChunkKind.RunBlock, '7:64'), payload);
});

test('a chunk store takes payloads up to maxPayloadBytes, a whole empty extent less the framing and one alignment unit', async () => {
  // Checks: ChunkStore.maxPayloadBytes leaves room in an empty extent for
  // the chunk's overhead and its padding (extent size - CHUNK_OVERHEAD_BYTES -
  // CHUNK_ALIGN_BYTES); a stream appends a payload of exactly that size to an
  // empty extent and reads it back, refuses one byte more, and fits() agrees
  // at the boundary. How: extents of 4 KiB and 64 KiB, one stream each.
  for (const extentSizeBytes of [4096, 65536]) {
    const geometry = { pageSizeBytes: 512, extentSizeBytes, extentCount: 4, superblockExtents: 1 };
    const disk = new SimDisk({ sizeBytes: extentSizeBytes * 4, pageSizeBytes: 512 });
    const extents = new ExtentManager(geometry, new IoScheduler(disk), 0);
    const store = new ChunkStore(extents, new BufferCache(0, extentSizeBytes), new Rng('max payload'));
    const max = store.maxPayloadBytes;
    assert.equal(max, extentSizeBytes - CHUNK_OVERHEAD_BYTES - 8, `${extentSizeBytes}`);
    const stream = new ChunkStream(store, ExtentOwner.Data);
    assert.throws(() => stream.append(ChunkKind.Data, [Buffer.alloc(max + 1)]), /above/);
    const payload = new Rng(`payload ${extentSizeBytes}`).bytes(max);
    const { locator } = stream.append(ChunkKind.Data, [payload]);
    assert.equal(locator.offset, 0);
    assert.ok(!store.fits(locator.extent, 0), 'the extent holds nothing more');
    assert.deepEqual(await store.read(locator, ChunkKind.Data), payload);
    const empty = extents.allocate(ExtentOwner.Data, {});
    assert.ok(store.fits(empty, max) && store.fits(empty, extentSizeBytes - CHUNK_OVERHEAD_BYTES));
    assert.ok(!store.fits(empty, extentSizeBytes - CHUNK_OVERHEAD_BYTES + 1));
  }
});

test('checkpoint versions: 4 carries host-allocated marks in the owner byte, 3 is read with none, others are refused', () => {
  // Checks: the marks survive encode and decode, on any owner; the bytes
  // of a version 4 checkpoint with no mark, its version field set to 3
  // (and its CRC resealed), are what version 3 wrote and decode with no
  // mark; in version 3 an owner byte with the top bit is corrupt (that
  // release had no marks); versions 2 and 5 are refused.
  const label = planLayout(LAYOUT);
  const rng = new Rng('formats/checkpoint versions');
  const cp = checkpointFor(label, rng, 10);
  const all = { ...cp, hostAllocated: cp.extents.map((e) => e.extent) };
  assert.deepEqual(decodeCheckpoint(encodeCheckpoint(all, label), label).hostAllocated, all.hostAllocated);
  const asVersion = (bytes: Buffer, version: number): Buffer => {
    const out = Buffer.from(bytes);
    out.writeUInt32LE(version, 4);
    out.writeUInt32LE(crc32c(out.subarray(24), crc32c(out.subarray(0, 20))), 20);
    return out;
  };
  const unmarked = encodeCheckpoint({ ...cp, hostAllocated: [] }, label);
  assert.deepEqual(decodeCheckpoint(asVersion(unmarked, 3), label), { ...cp, hostAllocated: [] });
  assert.throws(() => decodeCheckpoint(asVersion(encodeCheckpoint({ ...cp, hostAllocated: [5] }, label), 3), label), {
    name: 'CorruptionError',
    message: `superblock checkpoint: extent 5 owner ${(cp.extents[5]?.owner ?? 0) | 0x80}`,
  });
  for (const version of [2, 5]) assert.throws(() => decodeCheckpoint(asVersion(unmarked, version), label), { name: 'CorruptionError', message: 'superblock slot: unknown version' });
  // The encoder refuses marks out of order or out of range (what it writes must decode to what it was given).
  assert.throws(() => encodeCheckpoint({ ...cp, hostAllocated: [6, 5] }, label), /host-allocated extent 5 after 6/);
  assert.throws(() => encodeCheckpoint({ ...cp, hostAllocated: [cp.extents.length] }, label), /host-allocated extent/);
});

test('each checkpoint rule refuses a checkpoint on its own at its exact boundary, naming the field', () => {
  // Checks: the checkpoint decoder takes each number at its limit and
  // refuses it one past, with a CorruptionError naming the field: an
  // extent owner (4, the highest, then 5), a write pointer (the extent's
  // size, then one more), the log extent and its mirror (the last extent,
  // then the extent count), and a mirror equal to the log extent. How: a
  // valid checkpoint re-encoded (the encoder does not check) with one
  // field changed.
  const label = planLayout(LAYOUT);
  const base = checkpointFor(label, new Rng('formats/checkpoint rules'), 10);
  const count = label.geometry.extentCount;
  const size = label.geometry.extentSizeBytes;
  const withExtent = (owner: number, writePointer: number): Checkpoint => ({
    ...base,
    extents: base.extents.map((e) => (e.extent === 3 ? { extent: 3, owner, writePointer } : e)),
  });
  const decode = (cp: Checkpoint): Checkpoint => decodeCheckpoint(encodeCheckpoint(cp, label), label);
  const refused = (cp: Checkpoint, message: string): void => assert.throws(() => decode(cp), { name: 'CorruptionError', message });
  assert.equal(decode(withExtent(ExtentOwner.Superblock, size)).extents[3]?.writePointer, size);
  refused(withExtent(ExtentOwner.Superblock + 1, 0), `superblock checkpoint: extent 3 owner ${ExtentOwner.Superblock + 1}`);
  refused(withExtent(ExtentOwner.Data, size + 1), `superblock checkpoint: extent 3 write pointer ${size + 1}`);
  const other = (n: number): number => (n === count - 1 ? count - 2 : count - 1);
  assert.equal(decode({ ...base, logExtent: count - 1, mirrorLogExtent: count - 2 }).logExtent, count - 1);
  assert.equal(decode({ ...base, logExtent: count - 2, mirrorLogExtent: count - 1 }).mirrorLogExtent, count - 1);
  refused({ ...base, logExtent: count, mirrorLogExtent: other(count) }, `superblock checkpoint: log extent ${count}`);
  refused({ ...base, logExtent: count - 2, mirrorLogExtent: count }, `superblock checkpoint: mirror log extent ${count}`);
  refused({ ...base, logExtent: 5, mirrorLogExtent: 5 }, 'superblock checkpoint: mirror log extent 5');
});
