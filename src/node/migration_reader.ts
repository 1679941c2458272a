// Reading a migration stream (format: migration_format.ts) from any byte
// source, with bounded memory: a record's value is handed out as a stream
// of pieces, its checksum verified after the last one, so a consumer that
// stores the value (put) commits it only if the whole record verifies.
//
// REQUIRES of the caller: consume each record's body to its end (or stop
// reading the stream) before asking for the next record.
import { assert, CorruptionError, crc32c } from '../base/index.js';
import {
  CRC_BYTES,
  END_RECORD_BYTES,
  MIGRATION_HEADER_FIXED_BYTES,
  RECORD_FIXED_BYTES,
  RecordType,
  TruncatedStreamError,
  decodeHeaderBounds,
  headerBoundsBytes,
  inRange,
  nextStreamCrc,
  readU64,
} from './migration_format.js';
import type { MigrationEnd, MigrationHeader } from './migration_format.js';
import { MAX_KEY_BYTES } from '../store/index.js';

/** Value bytes handed out per piece at most. */
const MAX_PIECE_BYTES = 1024 * 1024;

/** A byte stream read in exact amounts, or in pieces as they come. */
class ByteSource {
  private buf: Buffer = Buffer.alloc(0);
  private ended = false;
  private readonly it: AsyncIterator<Uint8Array>;
  offset = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]();
  }

  /** Exactly n bytes. Throws TruncatedStreamError if the stream ends first. */
  async exact(n: number, what: string): Promise<Buffer> {
    while (this.buf.length < n) {
      if (!(await this.pull())) throw new TruncatedStreamError(`migration stream ends inside ${what} at byte ${this.offset + this.buf.length}`);
    }
    return this.take(n);
  }

  /** 1..max bytes. Throws TruncatedStreamError at the end of the stream. */
  async some(max: number, what: string): Promise<Buffer> {
    while (this.buf.length === 0) {
      if (!(await this.pull())) throw new TruncatedStreamError(`migration stream ends inside ${what} at byte ${this.offset}`);
    }
    return this.take(Math.min(max, this.buf.length));
  }

  async atEnd(): Promise<boolean> {
    while (this.buf.length === 0) if (!(await this.pull())) return true;
    return false;
  }

  private take(n: number): Buffer {
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    this.offset += n;
    return out;
  }

  private async pull(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.it.next();
    if (next.done === true) {
      this.ended = true;
      return false;
    }
    const piece = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    this.buf = this.buf.length === 0 ? piece : Buffer.concat([this.buf, piece]);
    return true;
  }
}

export interface MigrationRecordIn {
  readonly key: Buffer;
  readonly sizeBytes: number;
  /** The value; throws CorruptionError after the last piece if its checksum does not match. */
  readonly body: AsyncIterable<Buffer>;
}

export class MigrationReader {
  private state: 'records' | 'body' | 'ended' = 'records';
  private previousKey: Buffer | undefined;
  private records = 0;
  private bytes = 0;
  private streamCrc = 0;
  private endRecord: MigrationEnd | undefined;

  private constructor(
    private readonly src: ByteSource,
    readonly header: MigrationHeader,
  ) {}

  /** Read and verify the header. Throws CorruptionError (TruncatedStreamError). */
  static async open(source: AsyncIterable<Uint8Array>): Promise<MigrationReader> {
    const src = new ByteSource(source);
    const fixed = Buffer.from(await src.exact(MIGRATION_HEADER_FIXED_BYTES, 'the header'));
    const boundsBytes = headerBoundsBytes(fixed);
    const rest = await src.exact(boundsBytes + CRC_BYTES, 'the header');
    const crc = crc32c(rest.subarray(0, boundsBytes), crc32c(fixed));
    if (crc !== rest.readUInt32LE(boundsBytes)) throw new CorruptionError('migration stream: header checksum mismatch');
    return new MigrationReader(src, decodeHeaderBounds(fixed, rest));
  }

  /** The verified end record, once next() returned undefined. */
  get end(): MigrationEnd | undefined {
    return this.endRecord;
  }

  /** The next record, or undefined after the (verified) end record. */
  async next(): Promise<MigrationRecordIn | undefined> {
    assert(this.state !== 'body', 'migration reader: the previous record body was not consumed');
    if (this.state === 'ended') return undefined;
    const type = (await this.src.exact(1, 'a record'))[0];
    if (type === RecordType.End) return this.readEnd();
    if (type !== RecordType.Shard) throw new CorruptionError(`migration stream: unknown record type ${String(type)} at byte ${this.src.offset - 1}`);
    const fixed = Buffer.concat([Buffer.from([type]), await this.src.exact(RECORD_FIXED_BYTES - 1, 'a record header')]);
    const keyBytes = fixed.readUInt16LE(2);
    if (fixed[1] !== 0 || keyBytes < 1 || keyBytes > MAX_KEY_BYTES) throw new CorruptionError(`migration stream: bad record header at byte ${this.src.offset - RECORD_FIXED_BYTES}`);
    const rest = await this.src.exact(keyBytes + CRC_BYTES, 'a record header');
    const headerCrc = crc32c(rest.subarray(0, keyBytes), crc32c(fixed));
    if (headerCrc !== rest.readUInt32LE(keyBytes)) throw new CorruptionError(`migration stream: record header checksum mismatch at record ${this.records}`);
    const key = Buffer.from(rest.subarray(0, keyBytes));
    this.checkKey(key);
    const sizeBytes = readU64(fixed, 4);
    this.state = 'body';
    this.previousKey = key;
    return { key, sizeBytes, body: this.body(sizeBytes, headerCrc) };
  }

  private checkKey(key: Buffer): void {
    if (this.previousKey !== undefined && Buffer.compare(key, this.previousKey) <= 0) {
      throw new CorruptionError(`migration stream: record ${this.records} is not in ascending key order`);
    }
    if (!inRange(this.header, key)) throw new CorruptionError(`migration stream: record ${this.records} lies outside the stream's key range`);
  }

  private async *body(sizeBytes: number, headerCrc: number): AsyncGenerator<Buffer> {
    let left = sizeBytes;
    let crc = 0;
    while (left > 0) {
      const piece = await this.src.some(Math.min(left, MAX_PIECE_BYTES), 'a value');
      crc = crc32c(piece, crc);
      left -= piece.length;
      yield piece;
    }
    const stored = (await this.src.exact(CRC_BYTES, 'a value checksum')).readUInt32LE(0);
    if (stored !== crc) throw new CorruptionError(`migration stream: value checksum mismatch at record ${this.records}`);
    this.records++;
    this.bytes += sizeBytes;
    this.streamCrc = nextStreamCrc(this.streamCrc, headerCrc, crc);
    this.state = 'records';
  }

  private async readEnd(): Promise<undefined> {
    const buf = Buffer.concat([Buffer.from([RecordType.End]), await this.src.exact(END_RECORD_BYTES - 1, 'the end record')]);
    const body = buf.subarray(0, END_RECORD_BYTES - CRC_BYTES);
    if (crc32c(body) !== buf.readUInt32LE(END_RECORD_BYTES - CRC_BYTES) || buf[1] !== 0 || buf.readUInt16LE(2) !== 0) {
      throw new CorruptionError('migration stream: end record checksum mismatch');
    }
    const end = { records: readU64(buf, 4), bytes: readU64(buf, 12), streamCrc: buf.readUInt32LE(20) };
    if (end.records !== this.records || end.bytes !== this.bytes || end.streamCrc !== this.streamCrc) {
      throw new CorruptionError(`migration stream: end record says ${end.records} records / ${end.bytes} bytes, read ${this.records} / ${this.bytes} (or the stream CRC differs)`);
    }
    if (!(await this.src.atEnd())) throw new CorruptionError('migration stream: bytes after the end record');
    this.state = 'ended';
    this.endRecord = end;
    return undefined;
  }
}
