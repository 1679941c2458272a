// The cryptography of server-side encryption, on the layout sse_format.ts
// defines: data keys wrapped with AES-256-GCM, the salted MAC of an SSE-C
// key, and data encrypted in segments (each AES-256-GCM with a random
// nonce and its own tag).
//
// Why a random nonce per segment rather than one derived from the segment
// index: an upload's parts share one data key, and a retried part is
// encrypted again under it; a derived nonce would then encrypt different
// bytes under the same key and nonce, which breaks GCM outright. Random
// 96-bit nonces stay far from collision at the sizes S3 allows (a 5 TiB
// object is 2^27 segments, the GCM limit for random nonces is 2^32 per key).
//
// A tag that does not verify is a CorruptionError: damaged or tampered
// ciphertext is never returned as bytes.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { CorruptionError, assert } from '../../base/index.js';
import type { ByteRange } from '../../store/index.js';
import type { WrappedKey } from './sse_format.js';
import { DATA_KEY_BYTES, NONCE_BYTES, SEGMENT_OVERHEAD_BYTES, TAG_BYTES, plainBytes, segmentCount } from './sse_format.js';

const CIPHER = 'aes-256-gcm';
/** AAD of a wrapped data key: which kind of key wraps it. */
export const WRAP_AAD = { 'sse-s3': Buffer.from('shardstore sse-s3 data key v1'), 'sse-c': Buffer.from('shardstore sse-c data key v1') } as const;

export function wrapKey(wrappingKey: Buffer, dataKey: Buffer, aad: Buffer): WrappedKey {
  assert(wrappingKey.length === DATA_KEY_BYTES && dataKey.length === DATA_KEY_BYTES, 'AES-256 keys');
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv(CIPHER, wrappingKey, nonce).setAAD(aad);
  const sealed = Buffer.concat([cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]);
  return { nonce, sealed };
}

/** Throws CorruptionError if the wrapped key does not open under `wrappingKey`. */
export function unwrapKey(wrappingKey: Buffer, wrapped: WrappedKey, aad: Buffer): Buffer {
  const decipher = createDecipheriv(CIPHER, wrappingKey, wrapped.nonce).setAAD(aad);
  decipher.setAuthTag(wrapped.sealed.subarray(DATA_KEY_BYTES));
  try {
    return Buffer.concat([decipher.update(wrapped.sealed.subarray(0, DATA_KEY_BYTES)), decipher.final()]);
  } catch (err) {
    throw new CorruptionError(`encrypted object: its data key does not open (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** The salted MAC kept instead of an SSE-C key: HMAC-SHA256 keyed by the salt. */
export function customerKeyMac(salt: Buffer, customerKey: Buffer): Buffer {
  return createHmac('sha256', salt).update(customerKey).digest();
}

function segmentAad(part: number, index: number, last: boolean): Buffer {
  const aad = Buffer.alloc(2 + 8 + 1);
  aad.writeUInt16BE(part, 0);
  aad.writeBigUInt64BE(BigInt(index), 2);
  aad.writeUInt8(last ? 1 : 0, 10);
  return aad;
}

function sealSegment(dataKey: Buffer, plain: Buffer, aad: Buffer): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv(CIPHER, dataKey, nonce).setAAD(aad);
  return Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
}

/** Opening a segment, an object so that a broken variant can replace it (testing/mutants/sse_mutants.ts). */
export class SegmentCipher {
  /** The plaintext of a stored segment. Throws CorruptionError if its tag does not verify. */
  open(dataKey: Buffer, stored: Buffer, aad: Buffer, where: string): Buffer {
    const nonce = stored.subarray(0, NONCE_BYTES);
    const decipher = createDecipheriv(CIPHER, dataKey, nonce).setAAD(aad);
    decipher.setAuthTag(stored.subarray(stored.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(stored.subarray(NONCE_BYTES, stored.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new CorruptionError(`encrypted object: ${where} fails its authentication tag (damaged or altered)`);
    }
  }
}

const SEGMENT_CIPHER = new SegmentCipher();

/** Encrypts a plaintext stream as one blob of `part`; `plainBytes` is final once the stream has ended. */
export class EncryptingStream implements AsyncIterable<Buffer> {
  private counted = 0;
  private ended = false;

  constructor(
    private readonly source: AsyncIterable<Buffer>,
    private readonly dataKey: Buffer,
    private readonly segmentBytes: number,
    private readonly part: number,
  ) {}

  get plainBytes(): number {
    if (!this.ended) throw new Error('encrypted body not read to its end');
    return this.counted;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    const S = this.segmentBytes;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let index = 0;
    for await (const piece of this.source) {
      this.counted += piece.length;
      pending.push(piece);
      pendingBytes += piece.length;
      // A full segment is sealed once a byte after it is known: only then is it not the last.
      if (pendingBytes > S) {
        let all = Buffer.concat(pending);
        while (all.length > S) {
          yield sealSegment(this.dataKey, all.subarray(0, S), segmentAad(this.part, index++, false));
          all = all.subarray(S);
        }
        pending = [all];
        pendingBytes = all.length;
      }
    }
    yield sealSegment(this.dataKey, Buffer.concat(pending), segmentAad(this.part, index, true));
    this.ended = true;
  }
}

/** One encrypted blob of an object: its part number and stored size (sse_format.ts). */
export interface Blob {
  readonly part: number;
  readonly storedBytes: number;
}

/** The segments a plaintext range needs: where they are stored, and how to open them. */
export interface SegmentPlan {
  /** The stored bytes to read (whole segments, across blobs in order). */
  readonly stored: ByteRange;
  readonly runs: readonly SegmentRun[];
  readonly plain: ByteRange;
}

interface SegmentRun {
  readonly part: number;
  readonly blobPlainBytes: number;
  /** Global plaintext offset of the blob's first byte. */
  readonly blobPlainAt: number;
  readonly first: number;
  readonly last: number;
}

/** Plaintext sizes of the blobs; throws CorruptionError unless they add up to `objectBytes`. */
export function blobPlainSizes(blobs: readonly Blob[], segmentBytes: number, objectBytes: number): number[] {
  const sizes = blobs.map((b) => plainBytes(b.storedBytes, segmentBytes));
  const total = sizes.reduce((n, s) => n + s, 0);
  if (total !== objectBytes) throw new CorruptionError(`encrypted object: size ${objectBytes} but its data holds ${total} bytes`);
  return sizes;
}

/** REQUIRES: `plain` lies within the object. */
export function planRange(blobs: readonly Blob[], segmentBytes: number, objectBytes: number, plain: ByteRange): SegmentPlan {
  const sizes = blobPlainSizes(blobs, segmentBytes, objectBytes);
  const S = segmentBytes;
  const runs: SegmentRun[] = [];
  let [plainAt, storedAt] = [0, 0];
  let [storedStart, storedEnd] = [-1, -1];
  blobs.forEach((blob, i) => {
    const size = sizes[i] ?? 0;
    const [start, end] = [Math.max(plain.start, plainAt), Math.min(plain.end, plainAt + size)];
    // An empty blob inside the range is read too (its segment lies in the stored bytes between); an empty
    // range still opens the first segment it starts in, so an empty object is verified too.
    const inside = size === 0 ? storedStart >= 0 && plainAt <= plain.end : start < end;
    const touches = inside || (plain.start === plain.end && storedStart < 0 && plain.start >= plainAt && plain.start <= plainAt + size);
    if (touches) {
      const count = segmentCount(size, S);
      const first = Math.min(count - 1, Math.floor((start - plainAt) / S));
      const last = end > start ? Math.floor((end - 1 - plainAt) / S) : first;
      if (storedStart < 0) storedStart = storedAt + first * (S + SEGMENT_OVERHEAD_BYTES);
      storedEnd = storedAt + Math.min(blob.storedBytes, (last + 1) * (S + SEGMENT_OVERHEAD_BYTES));
      runs.push({ part: blob.part, blobPlainBytes: size, blobPlainAt: plainAt, first, last });
    }
    plainAt += size;
    storedAt += blob.storedBytes;
  });
  return { stored: { start: Math.max(0, storedStart), end: Math.max(0, storedEnd) }, runs, plain };
}

/** Decrypts the stored bytes a plan names, yielding exactly the plaintext of `plan.plain`. */
export async function* decryptPlanned(stored: AsyncIterable<Buffer>, dataKey: Buffer, segmentBytes: number, plan: SegmentPlan): AsyncGenerator<Buffer> {
  const input = stored[Symbol.asyncIterator]();
  let buffered: Buffer = Buffer.alloc(0);
  const take = async (n: number): Promise<Buffer> => {
    const pieces = [buffered];
    let have = buffered.length;
    while (have < n) {
      const next = await input.next();
      if (next.done === true) throw new CorruptionError(`encrypted object: data ends ${n - have} bytes early`);
      pieces.push(next.value);
      have += next.value.length;
    }
    const all = pieces.length === 1 ? buffered : Buffer.concat(pieces);
    buffered = all.subarray(n);
    return all.subarray(0, n);
  };
  try {
    for (const run of plan.runs) {
      const count = segmentCount(run.blobPlainBytes, segmentBytes);
      for (let index = run.first; index <= run.last; index++) {
        const segPlainAt = run.blobPlainAt + index * segmentBytes;
        const length = Math.min(segmentBytes, run.blobPlainBytes - index * segmentBytes);
        const segment = await take(length + SEGMENT_OVERHEAD_BYTES);
        const plain = SEGMENT_CIPHER.open(dataKey, segment, segmentAad(run.part, index, index === count - 1), `part ${run.part} segment ${index}`);
        const [from, to] = [Math.max(plan.plain.start, segPlainAt) - segPlainAt, Math.min(plan.plain.end, segPlainAt + length) - segPlainAt];
        if (to > from) yield plain.subarray(from, to);
      }
    }
  } finally {
    // Ended, failed or abandoned by the reader: the stored stream is closed either way.
    await input.return?.();
  }
}
