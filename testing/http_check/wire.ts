// The wire of the HTTP check: raw request bytes into the server's real
// connection handling (node's HTTP parser, then the request listener the
// server registered), in this process, with no port and no real socket.
//
// A FakeSocket is a Duplex handed to the http.Server as a new connection:
// what the test pushes is what the parser reads; what the server writes is
// collected, and parsed as it comes.
//
// No hang is measured in event-loop turns, not wall-clock time: the store
// under test runs on simulated disks whose IO completes without timers, so
// an answer that needs more than `turnBudget` turns never comes.
import type http from 'node:http';
import { Duplex } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';

class FakeSocket extends Duplex {
  readonly written: Buffer[] = [];
  readonly remoteAddress = '127.0.0.1';
  readonly remotePort = 50_000;
  readonly remoteFamily = 'IPv4';
  readonly localAddress = '127.0.0.1';
  readonly localPort = 7380;
  serverEnded = false;

  override _read(): void {
    // Bytes are pushed by the exchange, not pulled.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.written.push(chunk);
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.serverEnded = true;
    callback();
  }

  // What node's HTTP server calls on a net.Socket; no timers in the simulation.
  setTimeout(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
}

export interface WireResult {
  /** Every byte the server wrote on this connection. */
  readonly bytes: Buffer;
  /** The server ended or destroyed the connection within the budget. */
  readonly finished: boolean;
  readonly turns: number;
}

/**
 * The request bytes in, the answer bytes out. The exchange ends when the
 * server has sent `methods.length` whole answers (one per request in the
 * bytes) or has closed the connection; `finished` false means it did
 * neither within `turnBudget` turns. The client side stays open meanwhile
 * (node aborts requests in flight on a half-closed socket), and is
 * destroyed at the end, as a client that got its answers goes away.
 */
export async function exchange(server: http.Server, request: Buffer, methods: readonly string[], turnBudget: number): Promise<WireResult> {
  const socket = new FakeSocket();
  server.emit('connection', socket);
  socket.push(request);
  let turns = 0;
  let seen = 0;
  let answered = false;
  const done = (): boolean => {
    if (socket.serverEnded || socket.destroyed) return true;
    if (socket.written.length > seen) {
      seen = socket.written.length;
      const parsed = parseAnswers(Buffer.concat(socket.written), methods);
      answered = parsed.error === undefined && parsed.answers.length >= methods.length;
    }
    return answered;
  };
  while (!done() && turns < turnBudget) {
    await nextTurn();
    turns++;
  }
  const finished = done();
  socket.destroy();
  return { bytes: Buffer.concat(socket.written), finished, turns };
}

export interface ParsedAnswer {
  readonly status: number;
  readonly reason: string;
  /** Lower-case names, in order. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Buffer;
}

export type ParseOutcome = { readonly answers: ParsedAnswer[]; readonly error?: string };

/**
 * The answers in `bytes`, in order. A HEAD answer has no body whatever its
 * Content-Length says. Fails (error set) on anything that is not HTTP/1.1:
 * a bad status line, a header without a colon, a body shorter than its
 * Content-Length, bad chunked framing, or trailing bytes that start no answer.
 */
export function parseAnswers(bytes: Buffer, methods: readonly string[]): ParseOutcome {
  const answers: ParsedAnswer[] = [];
  let at = 0;
  while (at < bytes.length) {
    const headEnd = bytes.indexOf('\r\n\r\n', at, 'latin1');
    if (headEnd < 0) return { answers, error: `answer ${answers.length + 1}: no end of headers in ${JSON.stringify(bytes.subarray(at, at + 80).toString('latin1'))}` };
    const lines = bytes.subarray(at, headEnd).toString('latin1').split('\r\n');
    const statusLine = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0] ?? '');
    if (statusLine === null) return { answers, error: `answer ${answers.length + 1}: bad status line ${JSON.stringify(lines[0])}` };
    const headers: Array<[string, string]> = [];
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) return { answers, error: `answer ${answers.length + 1}: bad header line ${JSON.stringify(line)}` };
      headers.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
    }
    const status = Number(statusLine[1]);
    const bodyStart = headEnd + 4;
    const framed = frameBody(bytes, bodyStart, headers, methods[answers.length] === 'HEAD' || status === 204 || status === 304);
    if ('error' in framed) return { answers, error: `answer ${answers.length + 1} (${status}): ${framed.error}` };
    answers.push({ status, reason: statusLine[2] ?? '', headers, body: framed.body });
    at = framed.end;
  }
  return { answers };
}

function frameBody(bytes: Buffer, start: number, headers: ReadonlyArray<readonly [string, string]>, noBody: boolean): { body: Buffer; end: number } | { error: string } {
  const lengths = headers.filter(([n]) => n === 'content-length').map(([, v]) => v);
  const chunked = headers.some(([n, v]) => n === 'transfer-encoding' && /chunked/i.test(v));
  if (lengths.length > 1) return { error: `${lengths.length} Content-Length headers` };
  if (noBody) return { body: Buffer.alloc(0), end: start };
  if (chunked) return unchunk(bytes, start);
  const length = lengths[0];
  if (length === undefined) return { body: bytes.subarray(start), end: bytes.length };
  if (!/^\d+$/.test(length)) return { error: `Content-Length ${JSON.stringify(length)}` };
  const end = start + Number(length);
  if (end > bytes.length) return { error: `body of ${bytes.length - start} bytes, Content-Length ${length}` };
  return { body: bytes.subarray(start, end), end };
}

function unchunk(bytes: Buffer, start: number): { body: Buffer; end: number } | { error: string } {
  const parts: Buffer[] = [];
  let at = start;
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', at, 'latin1');
    if (lineEnd < 0) return { error: 'chunked body cut short' };
    const size = parseInt(bytes.subarray(at, lineEnd).toString('latin1').split(';')[0] ?? '', 16);
    if (!Number.isSafeInteger(size) || size < 0) return { error: 'bad chunk size line' };
    if (size === 0) {
      const trailerEnd = bytes.indexOf('\r\n\r\n', lineEnd, 'latin1');
      if (trailerEnd < 0) return { error: 'chunked body without its end' };
      return { body: Buffer.concat(parts), end: trailerEnd + 4 };
    }
    if (lineEnd + 2 + size + 2 > bytes.length) return { error: 'chunk cut short' };
    parts.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}
