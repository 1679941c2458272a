// Migration: export the shards of a key range as a stream, import such a
// stream into another node (format: migration_format.ts, spec:
// docs/format/migration.md). Both work on any ShardApi.
//
// Export lists the range page by page (each page starts after the last key
// of the one before, so a key present for the whole export is sent exactly
// once) and streams each value from a read snapshot. A key deleted between
// its listing and its read is left out. Any other error ends the stream
// without its end record: an importer sees it as incomplete, never as whole.
//
// Import applies records in key order, one put per record (a record is
// stored only if its checksum verifies: the put's source throws otherwise,
// and the key keeps its previous value). It keeps at most `window` records
// not yet durable and tracks `durableThrough`, the last key up to which
// every record is durable: an interrupted import resumes with an export
// from startAfter = durableThrough. Records are idempotent puts, so
// replaying more than needed is harmless.
import { InvalidArgumentError, ShardStoreError } from '../base/index.js';
import { Dependency } from '../dependency/index.js';
import type { ImportCallOptions, ImportReport, KeyRange, KeyRefusal } from './admin_types.js';
import { encodeCrc, encodeEnd, encodeHeader, encodeRecordHeader, inRange, nextStreamCrc } from './migration_format.js';
import { MigrationReader } from './migration_reader.js';
import { MAX_KEY_BYTES } from '../store/index.js';
import type { ShardApi } from '../store/index.js';
import { crc32c } from '../base/index.js';

const EXPORT_PAGE_KEYS = 1000;
export const DEFAULT_IMPORT_WINDOW = 256;

export function checkRange(range: KeyRange): void {
  for (const [name, b] of Object.entries(range)) {
    if (b !== undefined && (!Buffer.isBuffer(b) || b.length > MAX_KEY_BYTES)) throw new InvalidArgumentError(`range bound ${name} must be at most ${MAX_KEY_BYTES} bytes`);
  }
  if (range.start !== undefined && range.end !== undefined && Buffer.compare(range.start, range.end) > 0) {
    throw new InvalidArgumentError('range start is after its end');
  }
}

/** Keys of `range` in ascending order, page by page. */
export async function* keysInRange(api: ShardApi, range: KeyRange): AsyncGenerator<Buffer> {
  checkRange(range);
  const after = range.startAfter;
  let cursor = after;
  const start = range.start;
  if (start !== undefined && (after === undefined || Buffer.compare(start, after) > 0)) {
    // list() only knows "strictly after": the start key itself is asked for by name.
    if (start.length > 0 && inRange(range, start) && (await exists(api, start))) yield start;
    cursor = start;
  }
  for (;;) {
    const page = await api.list({ ...(range.prefix === undefined ? {} : { prefix: range.prefix }), ...(cursor === undefined ? {} : { startAfter: cursor }), limit: EXPORT_PAGE_KEYS });
    for (const s of page.shards) {
      if (range.end !== undefined && Buffer.compare(s.key, range.end) >= 0) return;
      if (inRange(range, s.key)) yield s.key;
    }
    const last = page.shards.at(-1);
    if (!page.truncated || last === undefined) return;
    cursor = last.key;
  }
}

async function exists(api: ShardApi, key: Buffer): Promise<boolean> {
  try {
    await api.head(key);
    return true;
  } catch (err: unknown) {
    if (err instanceof ShardStoreError && err.code === 'NotFound') return false;
    throw err;
  }
}

export interface ExportProgress {
  records: number;
  bytes: number;
}

/** The migration stream of `range`. Throws (mid-stream) on any error but NotFound. */
export async function* exportRange(api: ShardApi, range: KeyRange, progress: ExportProgress = { records: 0, bytes: 0 }): AsyncGenerator<Buffer> {
  checkRange(range);
  yield encodeHeader(range);
  let streamCrc = 0;
  for await (const key of keysInRange(api, range)) {
    const record = await exportRecord(api, key);
    if (record === undefined) continue;
    yield* record.parts;
    streamCrc = nextStreamCrc(streamCrc, record.headerCrc(), record.valueCrc());
    progress.records++;
    progress.bytes += record.sizeBytes;
  }
  yield encodeEnd({ records: progress.records, bytes: progress.bytes, streamCrc });
}

interface ExportedRecord {
  readonly sizeBytes: number;
  readonly parts: AsyncGenerator<Buffer>;
  headerCrc(): number;
  /** Valid once `parts` is consumed. */
  valueCrc(): number;
}

async function exportRecord(api: ShardApi, key: Buffer): Promise<ExportedRecord | undefined> {
  let reader;
  try {
    reader = await api.read(key);
  } catch (err: unknown) {
    if (err instanceof ShardStoreError && err.code === 'NotFound') return undefined; // deleted since it was listed
    throw err;
  }
  const header = encodeRecordHeader(key, reader.sizeBytes);
  let crc = 0;
  const body = reader.body;
  const sizeBytes = reader.sizeBytes;
  async function* parts(): AsyncGenerator<Buffer> {
    yield header;
    let seen = 0;
    for await (const piece of body) {
      crc = crc32c(piece, crc);
      seen += piece.length;
      yield piece;
    }
    if (seen !== sizeBytes) throw new InvalidArgumentError(`value of ${printable(key)} streamed ${seen} of ${sizeBytes} bytes`);
    yield encodeCrc(crc);
  }
  return { sizeBytes, parts: parts(), headerCrc: () => header.readUInt32LE(header.length - 4), valueCrc: () => crc };
}

function printable(key: Buffer): string {
  return key.toString('hex').slice(0, 64);
}

export interface ImportOptions extends ImportCallOptions {
  /** Records applied but not yet durable, at most. */
  readonly window?: number;
  /** Called after each record is applied. */
  readonly onRecord?: (report: ImportProgress) => void;
}

export interface ImportProgress {
  readonly records: number;
  readonly bytes: number;
  readonly lastKey?: Buffer;
  readonly durableThrough?: Buffer;
}

interface Applied {
  readonly key: Buffer;
  readonly dependency: Dependency;
}

/** Import a migration stream; resolves once every applied record is durable (or the import failed). */
export async function importStream(api: ShardApi, source: AsyncIterable<Uint8Array>, options: ImportOptions = {}): Promise<ImportReport> {
  const window = options.window ?? DEFAULT_IMPORT_WINDOW;
  const state = new ImportState();
  try {
    const reader = await MigrationReader.open(source);
    for (;;) {
      const record = await reader.next();
      if (record === undefined) break;
      const refusal = options.refuse?.(record.key);
      if (refusal !== undefined) throw new RefusedRecord(refusal);
      state.apply(record.key, record.sizeBytes, await api.put(record.key, record.body));
      options.onRecord?.(state.progress());
      await state.waitWindow(window);
    }
    await state.waitWindow(0);
    return state.report(true, undefined);
  } catch (err: unknown) {
    await state.settle();
    return state.report(false, err);
  }
}

class ImportState {
  private readonly pending: Applied[] = [];
  private readonly all: Dependency[] = [];
  records = 0;
  bytes = 0;
  lastKey: Buffer | undefined;
  durableThrough: Buffer | undefined;

  apply(key: Buffer, sizeBytes: number, dependency: Dependency): void {
    this.pending.push({ key, dependency });
    this.all.push(dependency);
    this.records++;
    this.bytes += sizeBytes;
    this.lastKey = key;
  }

  /** Wait (in order) until at most `max` applied records are not durable. Throws if one fails. */
  async waitWindow(max: number): Promise<void> {
    while (this.pending.length > max) {
      const oldest = this.pending[0];
      if (oldest === undefined) return;
      await oldest.dependency.persisted();
      this.pending.shift();
      this.durableThrough = oldest.key;
    }
  }

  /** After a failure: advance durableThrough over the records that did become durable, in order. */
  async settle(): Promise<void> {
    await Promise.allSettled(this.pending.map((p) => p.dependency.persisted()));
    while (this.pending[0]?.dependency.isPersistent() === true) {
      this.durableThrough = this.pending[0].key;
      this.pending.shift();
    }
  }

  progress(): ImportProgress {
    return { records: this.records, bytes: this.bytes, ...(this.lastKey === undefined ? {} : { lastKey: this.lastKey }), ...(this.durableThrough === undefined ? {} : { durableThrough: this.durableThrough }) };
  }

  report(complete: boolean, err: unknown): ImportReport {
    const error = err === undefined ? undefined : describe(err);
    return { ...this.progress(), complete, ...(error === undefined ? {} : { error }), dependency: Dependency.all(this.all) };
  }
}

/** A record the caller's `refuse` turned away: reported with the caller's code. */
class RefusedRecord extends Error {
  constructor(readonly refusal: KeyRefusal) {
    super(refusal.message);
    this.name = 'RefusedRecord';
  }
}

function describe(err: unknown): { code: string; message: string } {
  if (err instanceof RefusedRecord) return { code: err.refusal.code, message: err.refusal.message };
  if (err instanceof ShardStoreError) return { code: err.code, message: err.message };
  if (err instanceof Error) return { code: err.name === 'RequestAbortedError' ? 'Aborted' : 'Internal', message: `${err.name}: ${err.message}` };
  return { code: 'Internal', message: String(err) };
}
