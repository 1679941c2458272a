// Migration streams for the checks: built record by record with the
// format's encoders (so each record's byte span is known), cut short or
// damaged at a chosen byte, and what an importer must make of them.
import { ShardStoreError } from '../src/base/index.js';
import { MigrationReader, encodeCrc, encodeEnd, encodeHeader, encodeRecordHeader, nextStreamCrc } from '../src/node/index.js';
import type { MigrationHeader } from '../src/node/index.js';
import { crc32c } from '../src/base/index.js';

export interface StreamRecord {
  readonly key: Buffer;
  readonly value: Buffer;
}

interface Span {
  readonly start: number;
  /** End of the record header (type .. header CRC). */
  readonly headerEnd: number;
  /** End of the value CRC. */
  readonly end: number;
}

export interface BuiltStream {
  readonly bytes: Buffer;
  readonly spans: readonly Span[];
  /** Where the end record starts. */
  readonly endStart: number;
}

export function buildStream(header: MigrationHeader, records: readonly StreamRecord[]): BuiltStream {
  const parts: Buffer[] = [encodeHeader(header)];
  let at = parts[0]?.length ?? 0;
  let streamCrc = 0;
  let bytes = 0;
  const spans: Span[] = [];
  for (const r of records) {
    const head = encodeRecordHeader(r.key, r.value.length);
    const valueCrc = crc32c(r.value);
    parts.push(head, r.value, encodeCrc(valueCrc));
    spans.push({ start: at, headerEnd: at + head.length, end: at + head.length + r.value.length + 4 });
    at += head.length + r.value.length + 4;
    streamCrc = nextStreamCrc(streamCrc, head.readUInt32LE(head.length - 4), valueCrc);
    bytes += r.value.length;
  }
  parts.push(encodeEnd({ records: records.length, bytes, streamCrc }));
  return { bytes: Buffer.concat(parts), spans, endStart: at };
}

/**
 * What an import of `stream`, delivered up to byte `cutAt` and with the byte
 * at `flipAt` damaged (either may be past the end: no damage), must do:
 * apply the first `whole` records; record `whole` is damaged in its header
 * (the reader fails before any put) or in its value (its put starts, then
 * fails); `complete` if nothing is damaged.
 */
export function expectedImport(stream: BuiltStream, cutAt: number, flipAt: number): { whole: number; damage: 'none' | 'header' | 'value' | 'end' } {
  const damageAt = Math.min(cutAt, flipAt);
  if (damageAt >= stream.bytes.length) return { whole: stream.spans.length, damage: 'none' };
  const i = stream.spans.findIndex((s) => damageAt < s.end);
  if (i < 0) return { whole: stream.spans.length, damage: 'end' };
  const span = stream.spans[i];
  if (span === undefined || damageAt < span.headerEnd) return { whole: i, damage: 'header' };
  return { whole: i, damage: 'value' };
}

/** The stream as delivered: cut at `cutAt`, byte `flipAt` inverted. */
export function damaged(stream: BuiltStream, cutAt: number, flipAt: number): Buffer {
  const out = Buffer.from(stream.bytes.subarray(0, Math.min(cutAt, stream.bytes.length)));
  if (flipAt < out.length) out[flipAt] = (out[flipAt] ?? 0) ^ 0xff;
  return out;
}

/** Deliver bytes in pieces of varying size, each on its own turn. */
export async function* pieces(bytes: Buffer, seed: number): AsyncGenerator<Buffer> {
  let at = 0;
  let x = seed | 1;
  while (at < bytes.length) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const n = 1 + (x % 4000);
    await Promise.resolve();
    yield bytes.subarray(at, at + n);
    at += n;
  }
}

export async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of stream) parts.push(p);
  return Buffer.concat(parts);
}

/** Decode a whole stream: its records, or the typed error code where it stopped. */
export async function decodeStream(bytes: Buffer): Promise<{ records: StreamRecord[]; complete: boolean; error?: string }> {
  const records: StreamRecord[] = [];
  try {
    const reader = await MigrationReader.open(pieces(bytes, bytes.length));
    for (;;) {
      const r = await reader.next();
      if (r === undefined) return { records, complete: true };
      records.push({ key: r.key, value: await collect(r.body) });
    }
  } catch (err: unknown) {
    if (err instanceof ShardStoreError) return { records, complete: false, error: err.code };
    throw err;
  }
}
