// Streaming in both directions with bounded memory.
//
// requestBody turns a request into the AsyncIterable that put consumes: it
// yields chunks as they arrive (the socket is paused while put is busy, so
// TCP flow control slows the client) and throws if the request ends before
// its last byte. That throw is what keeps a client abort from storing a
// partial value: put only commits when its source ends cleanly.
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
import type { IncomingMessage, ServerResponse } from 'node:http';

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

export async function* requestBody(req: IncomingMessage, counter: ByteCounter): AsyncGenerator<Buffer> {
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
