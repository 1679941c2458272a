// Handlers of /v1/shards/{key}: put, get (whole or one range), head, delete.
//
// Invariants:
// 1. A PUT or DELETE is answered 2xx only after its Dependency is persistent:
//    a 2xx is a promise that the change survives a crash (SYSTEM.md section 4).
// 2. A GET's Content-Length and Content-Range describe exactly the bytes of
//    the reader that is streamed (same size); a failure after the headers are
//    out cuts the connection, so a client sees a short body, never wrong bytes.
// 3. A GET reads (and so verifies) the first chunk of what it sends before
//    its status line: a damaged first chunk is a 500 with its JSON error
//    (Corruption), never a 200 or 206 cut short before any byte.
// 4. HEAD answers from the index and reads no value bytes: it does not see a
//    damaged chunk (GET and scrub do).
// 5. Request and response bodies stream; neither is ever held whole.
import { InvalidArgumentError, UnavailableError } from '../base/index.js';
import type { ByteRange, ShardApi, ShardReader } from '../store/index.js';
import { bodyPrimer, requestBody, writeBody } from './body_stream.js';
import type { Exchange } from './exchange.js';
import { sendJson } from './exchange.js';
import { HttpError } from './http_errors.js';
import { encodeKey } from './key_codec.js';
import type { RangeSpec } from './range.js';
import { contentRange, parseRangeHeader, resolveRange } from './range.js';

/** A range read re-reads the size this many times if the value keeps changing under it. */
const MAX_RANGE_ATTEMPTS = 3;

export async function putShard(api: ShardApi, ex: Exchange, key: Buffer, onDurableWait?: (ms: number) => void): Promise<void> {
  const dependency = await api.put(key, requestBody(ex));
  await timed(dependency.persisted(), onDurableWait);
  sendJson(ex, 201, { key: encodeKey(key), sizeBytes: ex.bytesIn.bytes });
}

export async function deleteShard(api: ShardApi, ex: Exchange, key: Buffer, onDurableWait?: (ms: number) => void): Promise<void> {
  const dependency = await api.delete(key);
  await timed(dependency.persisted(), onDurableWait);
  ex.res.writeHead(204);
  ex.res.end();
}

async function timed(wait: Promise<void>, observe: ((ms: number) => void) | undefined): Promise<void> {
  const startedMs = performance.now();
  await wait;
  observe?.(performance.now() - startedMs);
}

export async function headShard(api: ShardApi, ex: Exchange, key: Buffer): Promise<void> {
  const { sizeBytes } = await api.head(key);
  ex.res.writeHead(200, valueHeaders(sizeBytes));
  ex.res.end();
}

export async function getShard(api: ShardApi, ex: Exchange, key: Buffer): Promise<void> {
  const spec = parseRangeHeader(ex.req.headers.range);
  if (spec === undefined) {
    const reader = await api.read(key);
    const body = await bodyPrimer.prime(reader.body);
    ex.res.writeHead(200, valueHeaders(reader.sizeBytes));
    await writeBody(ex.res, body, ex.bytesOut, reader.sizeBytes);
    return;
  }
  const { reader, range } = await readRange(api, key, spec);
  const body = await bodyPrimer.prime(reader.body);
  ex.res.writeHead(206, {
    ...valueHeaders(range.end - range.start),
    'Content-Range': contentRange(range, reader.sizeBytes),
  });
  await writeBody(ex.res, body, ex.bytesOut, range.end - range.start);
}

function valueHeaders(contentLength: number): Record<string, string | number> {
  return { 'Content-Type': 'application/octet-stream', 'Content-Length': contentLength, 'Accept-Ranges': 'bytes' };
}

/**
 * The range needs the size, and the size comes from head: if the value is
 * replaced between head and read, the read's size differs (or its range no
 * longer fits), and we start over, a bounded number of times.
 */
async function readRange(
  api: ShardApi,
  key: Buffer,
  spec: RangeSpec,
): Promise<{ reader: ShardReader; range: ByteRange }> {
  for (let attempt = 1; attempt <= MAX_RANGE_ATTEMPTS; attempt++) {
    const { sizeBytes } = await api.head(key);
    const range = resolveRange(spec, sizeBytes);
    if (range === 'unsatisfiable') {
      throw new HttpError(416, 'InvalidRange', `range not satisfiable in a value of ${sizeBytes} bytes`, {
        'Content-Range': `bytes */${sizeBytes}`,
      });
    }
    const reader = await readIfSize(api, key, range, sizeBytes);
    if (reader !== undefined) return { reader, range };
  }
  throw new UnavailableError(`value changed during ${MAX_RANGE_ATTEMPTS} attempts at a range read; retry`);
}

async function readIfSize(
  api: ShardApi,
  key: Buffer,
  range: ByteRange,
  sizeBytes: number,
): Promise<ShardReader | undefined> {
  let reader: ShardReader;
  try {
    reader = await api.read(key, range);
  } catch (err) {
    if (err instanceof InvalidArgumentError) return undefined; // shrank since head
    throw err;
  }
  if (reader.sizeBytes === sizeBytes) return reader;
  await reader.body[Symbol.asyncIterator]().return?.(); // release the stale reader
  return undefined;
}
