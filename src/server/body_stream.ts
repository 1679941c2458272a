// Streaming in both directions with bounded memory.
//
// requestBody turns a request into the AsyncIterable that put consumes: it
// yields chunks as they arrive (the socket is paused while put is busy, so
// TCP flow control slows the client) and throws if the request ends before
// its last byte. That throw is what keeps a client abort from storing a
// partial value: put only commits when its source ends cleanly. The same
// throw refuses a body whose SHA-256 is not the one its signature vouched for
// (BodyPayload, set by node_auth.ts): the mismatch is found after the last
// byte and before the source ends, so a put of it never commits.
//
// writeBody copies a reader to the response and waits for 'drain' whenever
// the socket buffer is full, so a slow client holds at most one chunk plus
// the socket's high-water mark in memory.
//
// BodyPrimer.prime reads the first piece of a body before the caller writes
// its status line: reading is where a damaged chunk is found (its checksum is
// verified as it is read), and a failure before the status line can still be
// an ordinary error answer (500 with a body), where one after it can only
// cut the connection.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from './http_errors.js';

/** The client went away before the whole request body arrived. */
export class RequestAbortedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RequestAbortedError';
  }
}

export interface ByteCounter {
  bytes: number;
}

/** What vouches for the body's bytes (the native API's SigV4 payload hash, docs/SECURITY.md). */
export type BodyPayload =
  /** Nothing (UNSIGNED-PAYLOAD, or authentication off). */
  | { readonly kind: 'unchecked' }
  /** The signed SHA-256, checked as the body streams. */
  | { readonly kind: 'sha256'; readonly hex: string }
  /** Read whole (small) and verified before the request was routed. */
  | { readonly kind: 'buffered'; readonly bytes: Buffer };

export interface BodySource {
  readonly req: IncomingMessage;
  readonly bytesIn: ByteCounter;
  readonly payload?: BodyPayload;
}

/** The request body of `source`, checked against its payload hash if it has one. */
export async function* requestBody(source: BodySource): AsyncGenerator<Buffer> {
  const payload = source.payload ?? { kind: 'unchecked' };
  if (payload.kind === 'buffered') {
    if (payload.bytes.length > 0) yield payload.bytes;
    return;
  }
  const hash = payload.kind === 'sha256' ? createHash('sha256') : undefined;
  for await (const chunk of streamBody(source.req, source.bytesIn)) {
    hash?.update(chunk);
    yield chunk;
  }
  if (hash !== undefined && payload.kind === 'sha256' && hash.digest('hex') !== payload.hex) {
    throw new HttpError(400, 'ContentSHA256Mismatch', "the body's SHA-256 is not the x-amz-content-sha256 the request was signed with");
  }
}

async function* streamBody(req: IncomingMessage, counter: ByteCounter): AsyncGenerator<Buffer> {
  // destroyOnReturn: false, because a put that stops early (bad key, no space)
  // must still be able to answer on this socket.
  const chunks = req.iterator({ destroyOnReturn: false }) as AsyncIterable<unknown>;
  try {
    for await (const chunk of chunks) {
      if (!Buffer.isBuffer(chunk)) throw new TypeError('request stream yielded a non-Buffer chunk');
      counter.bytes += chunk.length;
      yield chunk;
    }
  } catch (err) {
    if (err instanceof TypeError) throw err;
    throw new RequestAbortedError(`request body aborted after ${counter.bytes} bytes: ${String(err)}`);
  }
  // A stream destroyed without an error can end early too: only `complete` says the body is whole.
  if (!req.complete) throw new RequestAbortedError(`request body ended early after ${counter.bytes} bytes`);
}

/**
 * A class, not a bare function, so a test can install a broken variant
 * through its prototype (testing/mutants/http_mutants.ts).
 */
export class BodyPrimer {
  /**
   * Read the first `pieces` pieces of `body` now (throwing what reading
   * them throws), and return a body that yields them and then the rest.
   */
  async prime(body: AsyncIterable<Buffer>, pieces = 1): Promise<AsyncIterable<Buffer>> {
    const it = body[Symbol.asyncIterator]();
    const first: Buffer[] = [];
    for (let i = 0; i < pieces; i++) {
      const next = await it.next();
      if (next.done === true) break;
      first.push(next.value);
    }
    return prefixed(first, it);
  }
}

export const bodyPrimer = new BodyPrimer();

/** `first`, then the rest of `rest`; closing it early (a consumer that stops, even during `first`) closes `rest`, which releases a store reader. */
async function* prefixed(first: readonly Buffer[], rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  try {
    yield* first;
    for (;;) {
      const next = await rest.next();
      if (next.done === true) return;
      yield next.value;
    }
  } finally {
    await rest.return?.();
  }
}

/** Copy `body` to `res`, honouring backpressure. Returns false if the client went away first. */
export async function writeBody(res: ServerResponse, body: AsyncIterable<Buffer>, counter: ByteCounter, totalBytes?: number): Promise<boolean> {
  for await (const chunk of body) {
    if (res.destroyed) return false; // leaving the loop releases the reader
    counter.bytes += chunk.length;
    if (chunk.length === totalBytes) {
      // The whole body in one chunk: it leaves with its headers in one
      // system call (write then end was two). Leaving the loop releases the reader.
      res.end(chunk);
      return true;
    }
    if (!res.write(chunk) && !(await drained(res))) return false;
  }
  res.end();
  return true;
}

/** Resolves true on 'drain', false if the response closes first (client gone). */
function drained(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const onDrain = (): void => settle(true);
    const onClose = (): void => settle(false);
    const settle = (ok: boolean): void => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

/** The whole body, if it has at most `maxBytes`; throws HttpError 413 past that (without reading the rest). */
export async function readBodyAtMost(req: IncomingMessage, counter: ByteCounter, maxBytes: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of streamBody(req, counter)) {
    n += chunk.length;
    if (n > maxBytes) {
      throw new HttpError(413, 'TooLarge', `a body above ${maxBytes} bytes needs an x-amz-content-sha256 header (UNSIGNED-PAYLOAD or its hex SHA-256) in its signature`);
    }
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}
