// One request and its response, with the byte counts the request log reports.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ByteCounter } from './body_stream.js';

/** What the request turned out to be, for the request log and metrics (set by the router). */
export interface RequestLabels {
  api: 'native' | 's3' | 'node';
  op: string;
}

export interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly bytesIn: ByteCounter;
  readonly bytesOut: ByteCounter;
  readonly labels: RequestLabels;
  /**
   * Set when the answer failed after its status line was sent (a damaged
   * chunk mid-body): the error code, for the request log and metrics. The
   * connection is then cut, so the client sees a short body, never a whole one.
   */
  abortedWith?: string;
}

/** After the status line, an error can only cut the connection: record why, then cut it. */
export function abortAnswer(ex: Exchange, code: string): void {
  ex.abortedWith = code;
  ex.res.destroy();
}

/** A socket that still carries unread request bytes is closed this long after the answer. */
const LINGER_MS = 2_000;

export function sendJson(
  ex: Exchange,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const bytes = Buffer.from(JSON.stringify(body));
  ex.res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': bytes.length });
  if (ex.req.method !== 'HEAD') ex.bytesOut.bytes += bytes.length;
  ex.res.end(bytes);
}

/**
 * Answer, then close the connection: used when the request body was not read
 * to its end (a rejected upload), so the next request on this socket cannot
 * be parsed out of the rest of a 5 GiB body. The short linger lets the client
 * read the answer before the socket goes.
 */
export function closeAfterResponse(ex: Exchange): void {
  ex.res.setHeader('Connection', 'close');
  ex.res.once('finish', () => {
    setTimeout(() => ex.req.socket.destroy(), LINGER_MS).unref();
  });
}
