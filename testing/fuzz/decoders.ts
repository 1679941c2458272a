// Every deserializer of the engine as a fuzz target (fuzzer.ts): chunk
// framing, the superblock label and checkpoint slots, metadata records and
// the manifest, the LSM run formats, and the native API's request parsing.
//
// Strategy: each target names one decoder, its documented error types, a
// generator of valid encodings built with the matching encoder from random
// but valid values, and, for checksummed formats, a `fixup` that re-seals
// the checksums of a mutated input, so mutations get past the CRC into the
// fields behind it (lengths, counts, keys, orders).
//
// Invariants (checked by fuzzOnce):
// 1. Storage decoders return a value or throw CorruptionError (any
//    ShardStoreError is accepted, as SYSTEM.md asks). checkChunk and
//    parseHeader never throw: they answer a description or undefined.
// 2. Request parsers return a value or throw InvalidArgumentError (400) or
//    HttpError; a parsed Range resolves, for every size, to a range inside
//    the value or to 'unsatisfiable'.
import { AssertionError, BufReader, BufWriter, ShardStoreError, assert, crc32c } from '../../src/base/index.js';
import { ChunkKind, checkChunk, frameChunk, parseHeader, verifyChunk } from '../../src/chunk/index.js';
import type { Locator } from '../../src/chunk/index.js';
import { ExtentOwner } from '../../src/extent/index.js';
import type { ExtentRecord } from '../../src/extent/index.js';
import {
  BlockBuilder,
  BlockView,
  decodeBlock,
  decodeIndexValue,
  decodeRunDescriptor,
  decodeRunIndexBody,
  decodeRunIndexPart,
  decodeRunIndexRoot,
  descriptorProblem,
  encodeIndexValue,
  encodeRunDescriptor,
  encodeRunIndexBody,
  encodeRunIndexPart,
  encodeRunIndexRoot,
} from '../../src/index/run_format.js';
import type { ExtentBytes, IndexValue, RunDescriptor, RunIndexBody } from '../../src/index/run_format.js';
import type { IndexMutation } from '../../src/index/index.js';
import { HttpError } from '../../src/server/http_errors.js';
import { decodePercent, encodeKey } from '../../src/server/key_codec.js';
import { parseQuery } from '../../src/server/list_handler.js';
import { parseRangeHeader, resolveRange } from '../../src/server/range.js';
import { decodeKey } from '../../src/server/key_codec.js';
import { decodeCors, encodeCors } from '../../src/server/s3/cors.js';
import type { LifecycleRule } from '../../src/server/s3/lifecycle.js';
import { DAY_MS, FILTER_FORMS, decodeLifecycle, encodeLifecycle, lifecycleOfBody } from '../../src/server/s3/lifecycle.js';
import { decodeBucketEncryption, decodeEncryption, decodeNodeKeyFile, encodeBucketEncryption, encodeEncryption, encodeNodeKeyFile } from '../../src/server/s3/index.js';
import { decodeBucket, decodeObject, decodePart, decodeSettings, decodeUpload, encodeBucket, encodeObject, encodePart, encodeSettings, encodeUpload } from '../../src/server/s3/index.js';
import type { RecordSections } from '../../src/server/s3/index.js';
import { decodeAclSection, decodeBucketAccess, decodeObjectAcl, encodeAclSection, encodeBucketAccess, encodeObjectAcl } from '../../src/server/s3/access_records.js';
import type { Grant } from '../../src/server/s3/access_records.js';
import { grantsOfBody } from '../../src/server/s3/acl.js';
import { parsePolicy } from '../../src/server/s3/policy.js';
import { S3Error } from '../../src/server/s3/s3_errors.js';
import { decodeChecksumSection, decodeUploadChecksumType, encodeChecksumSection, encodeUploadChecksumType } from '../../src/server/s3/checksum_section.js';
import { MAX_DEFAULT_DAYS, MAX_DEFAULT_YEARS, MAX_RETAIN_UNTIL_MS, decodeLockConfig, decodeLockSection, encodeLockConfig, encodeLockSection } from '../../src/server/s3/object_lock_records.js';
import type { LockMode } from '../../src/server/s3/object_lock_records.js';
import { decodeManifest, decodeMetaRecord, encodeManifest, encodeMetaRecord } from '../../src/store/metalog_format.js';
import type { MetaRecord } from '../../src/store/metalog_format.js';
import { splitDataPayload } from '../../src/chunk/index.js';
import { LABEL_BYTES, decodeCheckpoint, decodeLabel, encodeCheckpoint, encodeLabel, planLayout } from '../../src/superblock/index.js';
import type { Label } from '../../src/superblock/index.js';
import type { Rng } from '../rng.js';
import type { DecoderTarget } from './fuzzer.js';

const SAMPLES = 24;

function times<T>(n: number, fn: (i: number) => T): T[] {
  return Array.from({ length: n }, (_, i) => fn(i));
}

// ------------------------------------------------------------ random valid values

/** A key of 1..maxBytes random bytes. */
export function randomKey(rng: Rng, maxBytes = 12): Buffer {
  return rng.bytes(rng.int(1, maxBytes));
}

/** `n` distinct keys, ascending. */
export function sortedKeys(rng: Rng, n: number, maxBytes = 12): Buffer[] {
  const byHex = new Map<string, Buffer>();
  for (let i = 0; i < n * 3 && byHex.size < n; i++) {
    const k = randomKey(rng, maxBytes);
    byHex.set(k.toString('hex'), k);
  }
  return [...byHex.values()].sort((a, b) => Buffer.compare(a, b));
}

/** A plausible chunk locator: aligned, at least a chunk's overhead. */
export function randomLocator(rng: Rng, minLength = 36): Locator {
  return { extent: rng.int(0, 5000), offset: rng.int(0, 100_000) * 8, length: rng.int(minLength, 1 << 20) };
}

export function randomIndexValue(rng: Rng): IndexValue {
  const chunks = times(rng.int(0, 3), () => randomLocator(rng));
  const capacity = chunks.reduce((s, c) => s + c.length - 36, 0);
  return { sizeBytes: rng.int(0, capacity), chunks };
}

/** Bytes per extent of one copy of a run: its root's extent, and up to 2 others. */
function randomExtents(rng: Rng, indexChunk: Locator): ExtentBytes[] {
  const bytes = new Map<number, number>([[indexChunk.extent, indexChunk.length + rng.int(0, 4096)]]);
  for (let n = rng.int(0, 2); n > 0; n--) {
    const [extent, count] = [rng.int(0, 5000), rng.int(36, 1 << 24)];
    // An extra extent that is the index chunk's own must not replace its count (seed -201396238 drew one).
    if (!bytes.has(extent)) bytes.set(extent, count);
  }
  return [...bytes].sort((a, b) => a[0] - b[0]).map(([extent, b]) => ({ extent, bytes: b }));
}

export function randomDescriptor(rng: Rng, id: number): RunDescriptor {
  const entryCount = rng.bool(0.2) ? 1 : rng.int(2, 100_000);
  const minKey = randomKey(rng);
  const maxKey = entryCount === 1 ? minKey : Buffer.concat([minKey, randomKey(rng, 4)]);
  const indexChunk = randomLocator(rng);
  const extents = randomExtents(rng, indexChunk);
  const mirrorIndexChunk = randomLocator(rng);
  const mirrorExtents = randomExtents(rng, mirrorIndexChunk);
  const d: RunDescriptor = {
    id,
    level: rng.int(0, 63),
    indexChunk,
    entryCount,
    tombstoneCount: rng.int(0, entryCount),
    maxSeq: rng.int(0, 1e9),
    minKey,
    maxKey,
    extents,
    mirrorIndexChunk,
    mirrorExtents,
  };
  assert(descriptorProblem(d) === undefined, `generated an invalid descriptor: ${descriptorProblem(d) ?? ''}`);
  return d;
}

export function randomMetaRecord(rng: Rng): MetaRecord {
  const extentChanges: ExtentRecord[] = times(rng.int(0, 4), () => ({
    extent: rng.int(0, 5000),
    owner: rng.pick([ExtentOwner.Free, ExtentOwner.Data, ExtentOwner.Index, ExtentOwner.Meta]),
    writePointer: rng.int(0, 1 << 26),
  }));
  const mutations: IndexMutation[] = sortedKeys(rng, rng.int(0, 6)).map((key) => ({ key, value: rng.bool(0.3) ? null : randomIndexValue(rng) }));
  const seq = rng.int(1, 1e9);
  return {
    seq,
    syncedThroughSeq: rng.int(0, seq - 1),
    extentChanges,
    mutations,
    runsAdded: times(rng.int(0, 2), (i) => randomDescriptor(rng, i + 1)),
    runsRemoved: times(rng.int(0, 3), () => rng.int(0, 1e12)),
    flushedThroughSeq: rng.int(0, 1e9),
    dataNames: times(rng.int(0, 3), () => ({
      locator: { extent: rng.int(0, 5000), offset: rng.int(0, 1 << 26), length: rng.int(36, 1 << 20) },
      id: { low: rng.int(0, 0xffffffff), high: rng.int(0, 0xffffffff) },
    })),
  };
}

function randomBlock(rng: Rng): Buffer {
  const b = new BlockBuilder(256);
  for (const key of sortedKeys(rng, rng.int(1, 10))) b.add(key, rng.bool(0.3) ? null : randomIndexValue(rng));
  return Buffer.concat(b.finish());
}

function randomRunIndexBody(rng: Rng): RunIndexBody {
  const firstKeys = sortedKeys(rng, rng.int(1, 4));
  const blocks = firstKeys.map((firstKey) => {
    const entryCount = rng.int(1, 50);
    return { firstKey, entryCount, locator: randomLocator(rng, 36 + 5 + 8 * entryCount) };
  });
  const last = firstKeys[firstKeys.length - 1] ?? Buffer.from('k');
  return {
    entryCount: blocks.reduce((s, b) => s + b.entryCount, 0),
    blocks,
    lastKey: rng.bool(0.5) ? last : Buffer.concat([last, randomKey(rng, 3)]),
    bloomK: rng.int(1, 30),
    bloom: rng.bytes(rng.int(1, 64)),
  };
}

// ------------------------------------------------------------ superblock

/** A small but valid label: 16 extents of 64 KiB, 512-byte pages. */
export const FUZZ_LABEL: Label = planLayout({
  diskSizeBytes: 16 * 65536,
  pageSizeBytes: 512,
  extentSizeBytes: 65536,
  maxManifestBytes: 2048,
  nodeId: { low: 0x01020304, high: 0x05060708 },
  diskIndex: 0,
  diskCount: 1,
});

function randomLabel(rng: Rng): Label {
  const pageSizeBytes = rng.pick([512, 4096]);
  const extentSizeBytes = rng.pick([65536, 1 << 20]);
  const diskCount = rng.int(1, 8);
  return planLayout({
    diskSizeBytes: extentSizeBytes * rng.int(8, 64),
    pageSizeBytes,
    extentSizeBytes,
    maxManifestBytes: rng.int(0, 8192),
    nodeId: { low: rng.nextU32(), high: rng.nextU32() },
    diskIndex: rng.int(0, diskCount - 1),
    diskCount,
  });
}

function randomCheckpointBytes(rng: Rng): Buffer {
  const g = FUZZ_LABEL.geometry;
  const extents: ExtentRecord[] = times(g.extentCount, (extent) => ({
    extent,
    owner: extent < g.superblockExtents ? ExtentOwner.Superblock : rng.pick([ExtentOwner.Free, ExtentOwner.Data, ExtentOwner.Index, ExtentOwner.Meta]),
    writePointer: rng.int(0, g.extentSizeBytes),
  }));
  const manifest = encodeManifest({ runs: times(rng.int(0, 3), (i) => randomDescriptor(rng, i + 1)), flushedThroughSeq: rng.int(0, 1e6) });
  // Host-allocated marks (the owner byte's top bit): none, some, or all.
  const markRate = rng.pick([0, 0.3, 1]);
  const hostAllocated = extents.filter(() => rng.bool(markRate)).map((e) => e.extent);
  const bytes = encodeCheckpoint({ sequence: rng.int(1, 1e9), extents, logExtent: 0, mirrorLogExtent: rng.int(1, g.extentCount - 1), nextRecordSeq: rng.int(1, 1e9), manifest, hostAllocated }, FUZZ_LABEL);
  // A checkpoint of version 3 (no marks) is still read: a tenth of the samples are one.
  if (hostAllocated.length === 0 && rng.bool(0.3)) {
    bytes.writeUInt32LE(3, 4);
    resealCheckpoint(bytes, rng);
  }
  // Slots are read whole: half the samples carry the zero padding after the checkpoint.
  return rng.bool(0.5) ? bytes : Buffer.concat([bytes, Buffer.alloc(rng.int(1, 600))]);
}

/** Slot header: crc at 20 over bytes 0..19 and the payload [24, 24 + length). */
function resealCheckpoint(b: Buffer, rng: Rng): Buffer {
  if (b.length < 24) return b;
  if (rng.bool(0.3)) b.writeUInt32LE(b.length - 24, 16);
  const payloadBytes = b.readUInt32LE(16);
  if (24 + payloadBytes > b.length) return b;
  b.writeUInt32LE(crc32c(b.subarray(24, 24 + payloadBytes), crc32c(b.subarray(0, 20))), 20);
  return b;
}

/** Where the label's CRC sits: after its fields (92 bytes of them; LABEL_BYTES, 96, is what open reads). */
const LABEL_CRC_AT = encodeLabel(FUZZ_LABEL).length - 4;

function resealLabel(b: Buffer): Buffer {
  if (b.length >= LABEL_CRC_AT + 4) b.writeUInt32LE(crc32c(b.subarray(0, LABEL_CRC_AT)), LABEL_CRC_AT);
  return b;
}

// ------------------------------------------------------------ chunks

function randomFrame(rng: Rng, kind?: ChunkKind): { bytes: Buffer; framedBytes: number } {
  const payloadBytes = rng.pick([0, 1, 7, 8, rng.int(0, 300), rng.int(500, 1500)]);
  const parts = [rng.bytes(payloadBytes)];
  const k = kind ?? rng.pick([ChunkKind.Data, ChunkKind.RunBlock, ChunkKind.RunIndex, ChunkKind.MetaRecord]);
  return frameChunk(k, parts, { low: rng.nextU32(), high: rng.nextU32() });
}

/** Re-seal the header CRC, and the payload CRC when the claimed payload fits; sometimes re-copy the id to the trailer. */
function resealChunk(b: Buffer, rng: Rng): Buffer {
  if (b.length < 24) return b;
  if (rng.bool(0.3)) b.writeUInt32LE(Math.max(0, b.length - 36), 16);
  b.writeUInt32LE(crc32c(b.subarray(0, 20)), 20);
  const end = 24 + b.readUInt32LE(16);
  if (end + 4 <= b.length) b.writeUInt32LE(crc32c(b.subarray(0, end)), end);
  if (end + 12 <= b.length && rng.bool(0.5)) b.copy(b, end + 4, 8, 16);
  return b;
}

function chunkTargets(): DecoderTarget[] {
  return [
    {
      name: 'chunk: checkChunk',
      decode: (b) => checkChunk(b),
      samples: (rng) => times(SAMPLES, () => randomFrame(rng).bytes),
      fixup: resealChunk,
    },
    {
      name: 'chunk: checkChunk at an offset',
      // The first byte says where the chunk starts: the same decoder, reading mid-buffer.
      decode: (b) => checkChunk(b, (b[0] ?? 0) % 64),
      samples: (rng) =>
        times(SAMPLES, () => {
          const at = rng.int(1, 7) * 8;
          const prefix = rng.bytes(at);
          prefix[0] = at;
          return Buffer.concat([prefix, randomFrame(rng).bytes]);
        }),
    },
    {
      name: 'chunk: verifyChunk',
      decode: (b) => verifyChunk(b, ChunkKind.Data, 'fuzz'),
      samples: (rng) =>
        times(SAMPLES, () => {
          const f = randomFrame(rng, ChunkKind.Data);
          return f.bytes.subarray(0, f.framedBytes);
        }),
      fixup: resealChunk,
    },
    {
      name: 'chunk: parseHeader at every aligned offset',
      decode: (b) => {
        const out = [];
        for (let at = 0; at <= b.length; at += 8) out.push(parseHeader(b, at));
        return out;
      },
      samples: (rng) => times(SAMPLES, () => Buffer.concat(times(rng.int(1, 3), () => randomFrame(rng).bytes))),
      fixup: resealChunk,
    },
    {
      name: 'chunk: data payload',
      decode: splitDataPayload,
      samples: (rng) =>
        times(SAMPLES, () => {
          const key = randomKey(rng, 40);
          const header = Buffer.alloc(2);
          header.writeUInt16LE(key.length);
          return Buffer.concat([header, key, rng.bytes(rng.int(0, 100))]);
        }),
    },
  ];
}

// ------------------------------------------------------------ superblock and metadata

function metadataTargets(): DecoderTarget[] {
  return [
    {
      name: 'superblock: label',
      decode: decodeLabel,
      // Open reads LABEL_BYTES from the page-padded label: half the samples carry that padding.
      samples: (rng) => times(SAMPLES, (i) => Buffer.concat([encodeLabel(randomLabel(rng)), Buffer.alloc(i % 2 === 0 ? 0 : LABEL_BYTES - LABEL_CRC_AT - 4)])),
      fixup: resealLabel,
    },
    {
      name: 'superblock: checkpoint slot',
      decode: (b) => decodeCheckpoint(b, FUZZ_LABEL),
      samples: (rng) => times(SAMPLES, () => randomCheckpointBytes(rng)),
      fixup: resealCheckpoint,
    },
    {
      name: 'metadata: record',
      decode: decodeMetaRecord,
      samples: (rng) => times(SAMPLES, () => encodeMetaRecord(randomMetaRecord(rng))),
    },
    {
      name: 'metadata: manifest',
      decode: decodeManifest,
      samples: (rng) => times(SAMPLES, () => encodeManifest({ runs: times(rng.int(0, 4), (i) => randomDescriptor(rng, i + 1)), flushedThroughSeq: rng.int(0, 1e9) })),
    },
  ];
}

// ------------------------------------------------------------ LSM run formats

function encodeWith(fn: (w: BufWriter) => void): Buffer {
  const w = new BufWriter();
  fn(w);
  return w.finish();
}

function runTargets(): DecoderTarget[] {
  return [
    {
      name: 'run: index value',
      decode: (b) => decodeIndexValue(new BufReader(b, 'fuzz')),
      samples: (rng) => times(SAMPLES, () => encodeWith((w) => encodeIndexValue(w, randomIndexValue(rng)))),
    },
    {
      name: 'run: descriptor',
      decode: (b) => decodeRunDescriptor(new BufReader(b, 'fuzz')),
      samples: (rng) => times(SAMPLES, (i) => encodeWith((w) => encodeRunDescriptor(w, randomDescriptor(rng, i + 1)))),
    },
    { name: 'run: block', decode: decodeBlock, samples: (rng) => times(SAMPLES, () => randomBlock(rng)) },
    {
      name: 'run: block (lazy view, every accessor)',
      decode: (b) => {
        const view = new BlockView(b);
        for (let i = 0; i < view.count; i++) {
          view.lowerBound(view.key(i));
          view.value(i);
          view.isTombstone(i);
        }
        view.lowerBound(Buffer.from([0xff, 0xff]));
        return view.checkAll();
      },
      samples: (rng) => times(SAMPLES, () => randomBlock(rng)),
    },
    {
      name: 'run: index body',
      decode: decodeRunIndexBody,
      samples: (rng) => times(SAMPLES, () => Buffer.from(encodeRunIndexBody(randomRunIndexBody(rng)))),
    },
    {
      name: 'run: index root',
      decode: decodeRunIndexRoot,
      samples: (rng) =>
        times(SAMPLES, () => {
          const parts = times(rng.int(0, 3), () => randomLocator(rng));
          const inline = parts.length === 0 ? rng.bytes(rng.int(1, 64)) : Buffer.alloc(0);
          return Buffer.concat(encodeRunIndexRoot({ runId: rng.int(0, 1e9), parts, inline }));
        }),
    },
    {
      name: 'run: index part',
      decode: decodeRunIndexPart,
      samples: (rng) => times(SAMPLES, () => Buffer.concat(encodeRunIndexPart({ runId: rng.int(0, 1e9), partIndex: rng.int(0, 9), bytes: rng.bytes(rng.int(1, 64)) }))),
    },
  ];
}

// ------------------------------------------------------------ request parsing

const SERVER_ERRORS = [ShardStoreError, HttpError] as const;

function asciiSamples(rng: Rng, fixed: readonly string[], make: (rng: Rng) => string): Buffer[] {
  return [...fixed, ...times(SAMPLES, () => make(rng))].map((s) => Buffer.from(s, 'latin1'));
}

/** Parse a Range header, then resolve it against a few sizes: every answer lies inside the value. */
function parseAndResolveRange(b: Buffer): unknown {
  const spec = parseRangeHeader(b.toString('latin1'));
  if (spec === undefined) return undefined;
  if (spec.kind === 'from' && spec.last !== undefined && spec.last < spec.first) throw new AssertionError('range: last below first');
  for (const size of [0, 1, 7, 1000, 2 ** 40]) {
    const r = resolveRange(spec, size);
    if (r === 'unsatisfiable') continue;
    if (!(Number.isSafeInteger(r.start) && Number.isSafeInteger(r.end) && r.start >= 0 && r.start < r.end && r.end <= size)) {
      throw new AssertionError(`range ${JSON.stringify(spec)} resolved to [${r.start}, ${r.end}) of ${size}`);
    }
  }
  return spec;
}

function serverTargets(): DecoderTarget[] {
  const encodedKey = (rng: Rng): string => encodeKey(randomKey(rng, 40));
  return [
    {
      name: 'server: decodePercent (utf-8 text)',
      accepts: SERVER_ERRORS,
      decode: (b) => decodePercent(b.toString('utf8')),
      samples: (rng) => asciiSamples(rng, ['', 'a%2Fb', '%00%ff%FF', 'plain/key+x'], encodedKey),
    },
    {
      name: 'server: decodeKey (path tail)',
      accepts: SERVER_ERRORS,
      decode: (b) => decodeKey(b.toString('latin1')),
      samples: (rng) => asciiSamples(rng, ['k', '%41%42', 'a/b/c'], encodedKey),
    },
    {
      name: 'server: Range header',
      accepts: SERVER_ERRORS,
      decode: parseAndResolveRange,
      samples: (rng) =>
        asciiSamples(rng, ['bytes=0-99', 'bytes=5-', 'bytes=-10', ' Bytes = 1 - 2 ', 'bytes=10-5', 'items=0-1', 'bytes=0-1,3-4'], (r) =>
          r.bool(0.5) ? `bytes=${r.int(0, 1e6)}-${r.bool(0.5) ? r.int(0, 1e6) : ''}` : `bytes=-${r.int(0, 1e6)}`,
        ),
    },
    {
      name: 'server: list query',
      accepts: SERVER_ERRORS,
      decode: (b) => parseQuery(b.toString('latin1')),
      samples: (rng) =>
        asciiSamples(rng, ['', 'prefix=a%2F&limit=10', 'start-after=x+y&other=1', 'limit&prefix'], (r) => `prefix=${encodedKey(r)}&start-after=${encodedKey(r)}&limit=${r.int(0, 1e9)}`),
    },
  ];
}

// ------------------------------------------------------------ S3 records (docs/format/s3_records.md)

/** Re-seal the trailing CRC32C of an S3 record. */
function resealS3Record(b: Buffer): Buffer {
  if (b.length >= 9) b.writeUInt32LE(crc32c(b.subarray(0, b.length - 4)), b.length - 4);
  return b;
}

function randomTags(rng: Rng, max: number): Array<[string, string]> {
  return times(rng.int(0, max), (i) => [`k${i}-${rng.int(0, 99)}`, rng.bool(0.2) ? '' : `v ${rng.int(0, 1e6)} é`]);
}

const randomVersion = (rng: Rng): Buffer => rng.bytes(16);

/** One or both record sections, with opaque bytes (their own codecs have their own targets). */
function randomSections(rng: Rng): RecordSections {
  const both = rng.bool(0.5);
  return both || rng.bool(0.5) ? { lock: rng.bytes(rng.int(0, 30)), ...(both ? { encryption: rng.bytes(rng.int(0, 60)) } : {}) } : { encryption: rng.bytes(rng.int(1, 60)) };
}

function s3RecordTargets(): DecoderTarget[] {
  return [
    {
      name: 's3: object record',
      decode: decodeObject,
      samples: (rng) =>
        times(SAMPLES, () => {
          const inline = rng.bool(0.5) ? rng.bytes(rng.int(0, 40)) : undefined;
          const parts = inline !== undefined ? [] : times(rng.int(0, 3), (i) => ({ version: randomVersion(rng), part: i + 1, sizeBytes: rng.int(0, 1e6) }));
          const sizeBytes = inline?.length ?? parts.reduce((n, p) => n + p.sizeBytes, 0);
          const headers: Array<[string, string]> = rng.bool(0.5) ? [['x-amz-meta-a', 'b'], ['content-encoding', 'gzip']] : [];
          // Version 3 (a version stamp) for a third of them; a delete marker when there is no data.
          const stamped = rng.bool(0.33) ? { version: { rank: randomVersion(rng), isNull: rng.bool(0.3), deleteMarker: sizeBytes === 0 && inline === undefined && rng.bool(0.5) } } : {};
          // Version 4 (sections) for a third of them.
          const sections = rng.bool(0.33) ? { sections: randomSections(rng) } : {};
          return encodeObject({ sizeBytes, mtimeMs: rng.int(0, 2e12), etag: 'd41d8cd98f00b204e9800998ecf8427e', contentType: 'text/plain', headers, parts, inline, tags: randomTags(rng, 10), uploadId: rng.bool(0.3) ? randomVersion(rng) : undefined, ...stamped, ...sections });
        }),
      fixup: resealS3Record,
    },
    {
      name: 's3: upload record',
      decode: decodeUpload,
      samples: (rng) =>
        times(SAMPLES, () =>
          encodeUpload({ initiatedMs: rng.int(0, 2e12), contentType: 'x/y', headers: [], tags: randomTags(rng, 10), checksumAlgorithm: rng.pick(['', 'crc32', 'sha256']), ...(rng.bool(0.33) ? { sections: randomSections(rng) } : {}) }),
        ),
      fixup: resealS3Record,
    },
    {
      name: 's3: part record',
      decode: decodePart,
      samples: (rng) => times(SAMPLES, () => encodePart({ version: randomVersion(rng), sizeBytes: rng.int(0, 1e9), mtimeMs: rng.int(0, 2e12), md5: rng.bytes(16), checksum: rng.bool(0.5) ? { algorithm: 'crc32', value: 'AAAAAA==' } : undefined })),
      fixup: resealS3Record,
    },
    {
      name: 's3: bucket record',
      decode: decodeBucket,
      samples: (rng) => times(SAMPLES, () => encodeBucket({ createdMs: rng.int(0, 2e12), tags: randomTags(rng, 50), ...(rng.int(0, 1) === 1 ? { legacyEu: true } : {}) })),
      fixup: resealS3Record,
    },
    {
      name: 's3: CORS record',
      decode: decodeCors,
      samples: (rng) =>
        times(SAMPLES, () =>
          encodeCors(
            times(rng.int(1, 4), (i) => ({
              id: rng.bool(0.5) ? '' : `rule-${i}`,
              allowedOrigins: times(rng.int(1, 3), (j) => (j === 0 && rng.bool(0.3) ? '*' : `https://o${rng.int(0, 99)}.example`)),
              allowedMethods: [rng.pick(['GET', 'PUT', 'POST', 'DELETE', 'HEAD'])],
              allowedHeaders: times(rng.int(0, 2), (j) => `x-h${j}`),
              exposeHeaders: times(rng.int(0, 2), (j) => `x-e${j}`),
              maxAgeSeconds: rng.bool(0.5) ? undefined : rng.int(0, 86_400),
            })),
          ),
        ),
      fixup: resealS3Record,
    },
    {
      name: 's3: bucket settings record',
      decode: decodeSettings,
      samples: (rng) => times(SAMPLES, () => encodeSettings({ versioning: rng.pick(['unversioned', 'enabled', 'suspended'] as const) })),
      fixup: resealS3Record,
    },
    ...accessTargets(),
    ...objectLockTargets(),
    ...encryptionTargets(),
    {
      name: 's3: checksum section',
      decode: decodeChecksumSection,
      samples: (rng) =>
        times(SAMPLES, () => {
          const [algorithm, size] = rng.pick([['crc32', 4], ['crc32c', 4], ['crc64nvme', 8], ['sha1', 20], ['sha256', 32]] as const);
          const value = rng.bytes(size).toString('base64');
          const parts = rng.bool(0.5) ? [] : times(rng.int(1, 20), () => rng.bytes(size).toString('base64'));
          return encodeChecksumSection({ algorithm, type: parts.length === 0 ? 'FULL_OBJECT' : 'COMPOSITE', value, parts });
        }),
    },
    {
      name: 's3: upload checksum type section',
      decode: decodeUploadChecksumType,
      samples: (rng) => times(SAMPLES, () => encodeUploadChecksumType(rng.pick(['FULL_OBJECT', 'COMPOSITE'] as const))),
    },
  ];
}

/** Object lock (object_lock_records.ts): the object record's lock section and the bucket's lock configuration record. */
function objectLockTargets(): DecoderTarget[] {
  const mode = (rng: Rng): LockMode => rng.pick(['GOVERNANCE', 'COMPLIANCE'] as const);
  return [
    {
      name: 's3: object lock section',
      decode: decodeLockSection,
      samples: (rng) =>
        times(SAMPLES, () => {
          const retention = rng.bool(0.7) ? { retention: { mode: mode(rng), retainUntilMs: rng.int(0, MAX_RETAIN_UNTIL_MS) } } : {};
          const legalHold = retention.retention === undefined || rng.bool(0.5) ? { legalHold: rng.pick(['ON', 'OFF'] as const) } : {};
          return encodeLockSection({ ...retention, ...legalHold });
        }),
    },
    {
      name: 's3: bucket lock configuration record',
      decode: decodeLockConfig,
      samples: (rng) =>
        times(SAMPLES, () => {
          const unit = rng.pick(['days', 'years'] as const);
          const period = rng.int(1, unit === 'days' ? MAX_DEFAULT_DAYS : MAX_DEFAULT_YEARS);
          return encodeLockConfig(rng.bool(0.3) ? {} : { defaultRetention: { mode: mode(rng), unit, period } });
        }),
    },
  ];
}

/** Encryption at rest (src/server/s3/sse_format.ts, bucket_encryption.ts, node_key.ts). */
function encryptionTargets(): DecoderTarget[] {
  return [
    {
      name: 's3: encryption section',
      decode: decodeEncryption,
      samples: (rng) =>
        times(SAMPLES, () => {
          const common = { segmentBytes: rng.pick([16, 4096, 65_536, 16 * 1024 * 1024]), dataKey: { nonce: rng.bytes(12), sealed: rng.bytes(48) } };
          return encodeEncryption(rng.bool(0.5) ? { mode: 'sse-s3', ...common, nodeKeyId: rng.bytes(8) } : { mode: 'sse-c', ...common, macSalt: rng.bytes(16), keyMac: rng.bytes(32) });
        }),
    },
    {
      name: 's3: bucket encryption record',
      decode: decodeBucketEncryption,
      samples: (rng) => times(SAMPLES, () => encodeBucketEncryption({ algorithm: 'AES256', bucketKeyEnabled: rng.bool(0.5) })),
      fixup: resealS3Record,
    },
    {
      name: 's3: node key file',
      decode: (bytes) => decodeNodeKeyFile(bytes),
      samples: (rng) => times(SAMPLES, () => encodeNodeKeyFile(rng.bytes(32))),
      fixup: resealS3Record,
    },
  ];
}

const randomCanonicalId = (rng: Rng): string => rng.bytes(32).toString('hex');

function randomGrants(rng: Rng): Grant[] {
  return times(rng.int(0, 6), (): Grant => {
    const kind = rng.int(0, 2);
    const grantee: Grant['grantee'] = kind === 0 ? { kind: 'user', id: randomCanonicalId(rng) } : kind === 1 ? { kind: 'all-users' } : { kind: 'authenticated-users' };
    return { grantee, permission: rng.pick(['READ', 'WRITE', 'READ_ACP', 'WRITE_ACP', 'FULL_CONTROL'] as const) };
  });
}

const SAMPLE_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: '*', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::bkt/pub/*', Condition: { IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '::1/128'] }, Bool: { 'aws:SecureTransport': 'false' } } },
    { Effect: 'Deny', Principal: { CanonicalUser: 'ab'.repeat(32) }, NotAction: 's3:List*', NotResource: ['arn:aws:s3:::bkt'], Condition: { StringLike: { 's3:prefix': 'a*?' } } },
  ],
});

/** Access records (access_records.ts), and the two request documents that become them: a policy and an ACL. */
function accessTargets(): DecoderTarget[] {
  return [
    {
      name: 's3: bucket access record',
      decode: decodeBucketAccess,
      samples: (rng) =>
        times(SAMPLES, () =>
          encodeBucketAccess({
            ownerId: randomCanonicalId(rng),
            ownership: rng.pick(['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter', undefined] as const),
            legacyOwner: rng.bool(0.5),
            publicAccessBlock: rng.bool(0.5) ? undefined : { blockPublicAcls: rng.bool(0.5), ignorePublicAcls: rng.bool(0.5), blockPublicPolicy: rng.bool(0.5), restrictPublicBuckets: rng.bool(0.5) },
            grants: randomGrants(rng),
            policy: rng.bool(0.5) ? '' : SAMPLE_POLICY,
          }),
        ),
      fixup: resealS3Record,
    },
    {
      name: 's3: object ACL record',
      decode: decodeObjectAcl,
      samples: (rng) => times(SAMPLES, () => encodeObjectAcl({ stamp: { mtimeMs: rng.int(0, 2e12), etag: 'd41d8cd98f00b204e9800998ecf8427e', sizeBytes: rng.int(0, 1e9) }, grants: randomGrants(rng) })),
      fixup: resealS3Record,
    },
    {
      // Section 3 of object and upload records: no CRC of its own (the record's covers it), so no fixup.
      name: 's3: object ACL section',
      decode: (b) => decodeAclSection(b, 'ab'.repeat(32)),
      samples: (rng) => times(SAMPLES, () => encodeAclSection(randomGrants(rng))),
    },
    {
      name: 's3: bucket policy document',
      accepts: [S3Error],
      decode: (b) => parsePolicy(b.toString('utf8'), 'bkt'),
      samples: () => [Buffer.from(SAMPLE_POLICY), Buffer.from('{"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"*","Resource":"*"}}')],
    },
    {
      name: 's3: AccessControlPolicy document',
      accepts: [S3Error],
      decode: (b) => grantsOfBody(b, 'ab'.repeat(32)),
      samples: () => [
        Buffer.from(
          `<AccessControlPolicy><Owner><ID>${'ab'.repeat(32)}</ID></Owner><AccessControlList><Grant><Grantee><ID>${'cd'.repeat(32)}</ID></Grantee><Permission>READ</Permission></Grant>` +
            '<Grant><Grantee><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>WRITE</Permission></Grant></AccessControlList></AccessControlPolicy>',
        ),
      ],
    },
  ];
}

function randomLifecycleRule(rng: Rng, i: number): LifecycleRule {
  const kind = rng.int(0, 2);
  return {
    id: `rule-${i}`,
    enabled: rng.bool(0.7),
    filter: {
      form: rng.pick(FILTER_FORMS),
      prefix: rng.bool(0.5) ? '' : `p${rng.int(0, 9)}/`,
      tags: randomTags(rng, 3),
      sizeGreaterThan: rng.bool(0.3) ? rng.int(0, 1e6) : undefined,
      sizeLessThan: rng.bool(0.3) ? rng.int(1e6, 1e9) : undefined,
    },
    expiration: kind === 0 ? { kind: 'days', days: rng.int(1, 3650) } : kind === 1 ? { kind: 'date', dateMs: rng.int(0, 30_000) * DAY_MS } : rng.bool(0.5) ? { kind: 'delete-marker' } : undefined,
    noncurrent: rng.bool(0.5) ? { days: rng.int(1, 365), newerVersions: rng.bool(0.5) ? rng.int(1, 100) : undefined } : undefined,
    abortAfterDays: rng.bool(0.5) || kind === 2 ? rng.int(1, 30) : undefined,
  };
}

/** The lifecycle record (\0Y) and the LifecycleConfiguration document a PUT sends (lifecycle.ts). */
function lifecycleTargets(): DecoderTarget[] {
  return [
    {
      name: 's3: lifecycle record',
      decode: decodeLifecycle,
      samples: (rng) => times(SAMPLES, () => encodeLifecycle(times(rng.int(1, 4), (i) => randomLifecycleRule(rng, i)))),
      fixup: resealS3Record,
    },
    {
      name: 's3: LifecycleConfiguration document',
      accepts: [S3Error],
      // Whatever the parser accepts must be storable: it is encoded as PutBucketLifecycleConfiguration stores it and read back.
      decode: (b) => decodeLifecycle(encodeLifecycle(lifecycleOfBody(b))),
      samples: () => [
        Buffer.from(
          '<LifecycleConfiguration><Rule><ID>a</ID><Filter><And><Prefix>logs/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag><ObjectSizeGreaterThan>1</ObjectSizeGreaterThan></And></Filter>' +
            '<Status>Enabled</Status><Expiration><Days>3</Days></Expiration><NoncurrentVersionExpiration><NoncurrentDays>2</NoncurrentDays><NewerNoncurrentVersions>1</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule>' +
            '<Rule><ID>b</ID><Prefix>tmp/</Prefix><Status>Disabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule></LifecycleConfiguration>',
        ),
      ],
    },
  ];
}

/** Every decoder target, storage formats first. */
export const DECODER_TARGETS: readonly DecoderTarget[] = [...chunkTargets(), ...metadataTargets(), ...runTargets(), ...s3RecordTargets(), ...serverTargets(), ...lifecycleTargets()];
