// Little-endian binary encoding shared by every on-disk format. The reader
// never reads past its buffer: any overrun or out-of-range value is a typed
// CorruptionError, so decoders of random bytes fail cleanly (never a
// RangeError from Buffer, never a hang).
import { AssertionError } from './assert.js';
import { CorruptionError } from './errors.js';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

// The messages are built only on failure: these checks run per field on
// every hot write path.
function fail(message: string): never {
  throw new AssertionError(message);
}

export class BufWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialBytes = 256) {
    this.buf = Buffer.allocUnsafe(Math.max(16, initialBytes));
  }

  get length(): number {
    return this.pos;
  }

  private reserve(n: number): number {
    const at = this.pos;
    if (at + n > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, at + n));
      this.buf.copy(next, 0, 0, at);
      this.buf = next;
    }
    this.pos = at + n;
    return at;
  }

  u8(v: number): this {
    if (!(Number.isInteger(v) && v >= 0 && v <= 0xff)) fail(`u8 out of range: ${v}`);
    // reserve() first: it may replace this.buf, and `this.buf[...]` would bind the old one.
    const at = this.reserve(1);
    this.buf[at] = v;
    return this;
  }

  u16(v: number): this {
    if (!(Number.isInteger(v) && v >= 0 && v <= 0xffff)) fail(`u16 out of range: ${v}`);
    const at = this.reserve(2);
    this.buf.writeUInt16LE(v, at);
    return this;
  }

  u32(v: number): this {
    if (!(Number.isInteger(v) && v >= 0 && v <= 0xffffffff)) fail(`u32 out of range: ${v}`);
    const at = this.reserve(4);
    this.buf.writeUInt32LE(v, at);
    return this;
  }

  /** An unsigned integer up to 2^53 - 1, stored in 8 bytes. */
  u64(v: number): this {
    if (!(Number.isInteger(v) && v >= 0 && v <= MAX_SAFE)) fail(`u64 out of range: ${v}`);
    const at = this.reserve(8);
    this.buf.writeUInt32LE(v % 0x100000000, at);
    this.buf.writeUInt32LE(Math.floor(v / 0x100000000), at + 4);
    return this;
  }

  bytes(b: Uint8Array): this {
    const at = this.reserve(b.length);
    this.buf.set(b, at);
    return this;
  }

  /** A u32 length followed by the bytes. */
  blob(b: Uint8Array): this {
    return this.u32(b.length).bytes(b);
  }

  /** A u16 length followed by the bytes (keys). */
  shortBlob(b: Uint8Array): this {
    return this.u16(b.length).bytes(b);
  }

  /** Overwrite a u32 already written at `at` (lengths and checksums filled in last). */
  patchU32(at: number, v: number): this {
    if (at + 4 > this.pos) fail('patch beyond written bytes');
    this.buf.writeUInt32LE(v >>> 0, at);
    return this;
  }

  /** The bytes written so far. Shares memory with the writer until the next write. */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** A copy of the bytes written so far. */
  finish(): Buffer {
    return Buffer.from(this.view());
  }
}

export class BufReader {
  private pos: number;

  constructor(
    private readonly buf: Buffer,
    private readonly what: string,
    start = 0,
  ) {
    this.pos = start;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private take(n: number): number {
    if (n < 0 || this.pos + n > this.buf.length) {
      throw new CorruptionError(`${this.what}: truncated at byte ${this.pos} (need ${n}, have ${this.remaining})`);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(): number {
    return this.buf[this.take(1)] ?? 0;
  }

  u16(): number {
    return this.buf.readUInt16LE(this.take(2));
  }

  u32(): number {
    return this.buf.readUInt32LE(this.take(4));
  }

  u64(): number {
    const at = this.take(8);
    const lo = this.buf.readUInt32LE(at);
    const hi = this.buf.readUInt32LE(at + 4);
    if (hi > 0x1fffff) throw new CorruptionError(`${this.what}: u64 beyond 2^53 at byte ${at}`);
    return hi * 0x100000000 + lo;
  }

  /** Past `n` bytes (a field not needed now); no object made. */
  skip(n: number): void {
    this.take(n);
  }

  /** `n` bytes, sharing memory with the source buffer. */
  bytes(n: number): Buffer {
    const at = this.take(n);
    return this.buf.subarray(at, at + n);
  }

  blob(): Buffer {
    return this.bytes(this.u32());
  }

  shortBlob(): Buffer {
    return this.bytes(this.u16());
  }

  /** A count of items each at least `minItemBytes` long: refuses counts the buffer cannot hold. */
  count(minItemBytes: number): number {
    const n = this.u32();
    if (n * Math.max(1, minItemBytes) > this.remaining) {
      throw new CorruptionError(`${this.what}: count ${n} exceeds remaining ${this.remaining} bytes`);
    }
    return n;
  }

  expectEnd(): void {
    if (this.pos !== this.buf.length) {
      throw new CorruptionError(`${this.what}: ${this.remaining} trailing bytes`);
    }
  }
}

/** Zeros to compare against: isAllZero compares in pieces of this size. */
const ZEROS = new Uint8Array(16 * 1024);

/**
 * True when every byte of `bytes` is zero. Native comparisons in pieces
 * (a callback per byte cost a whole superblock slot's worth of calls on
 * every open).
 */
export function isAllZero(bytes: Uint8Array): boolean {
  for (let at = 0; at < bytes.length; at += ZEROS.length) {
    const n = Math.min(ZEROS.length, bytes.length - at);
    if (Buffer.compare(bytes.subarray(at, at + n), ZEROS.subarray(0, n)) !== 0) return false;
  }
  return true;
}
