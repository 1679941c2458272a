// One HTTP request of `shardstore bench`, as cheap as node:http allows: the
// caller's keep-alive Agent, the body a prepared Buffer sent in one write,
// and the response handed chunk by chunk to a sink (the GET verifier), never
// concatenated. Error answers keep the first 2 KiB of their body for the
// message.
//
// Errors that end a run at once are BenchFatalError: the node cannot be
// reached, it refuses the credentials (403), or it answered wrong bytes.
// Anything else (a 5xx, a reset) is counted by the caller as an error.
import http from 'node:http';
import type { OutgoingHttpHeaders } from 'node:http';

const REQUEST_TIMEOUT_MS = 60_000;
const MAX_ERROR_TEXT = 2048;

export class BenchFatalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchFatalError';
  }
}

export interface BenchEndpoint {
  /** http://host:port, as given. */
  readonly url: string;
  readonly hostname: string;
  readonly port: number;
}

export function endpointOf(url: string): BenchEndpoint {
  const u = new URL(url);
  return { url, hostname: u.hostname.replace(/^\[|\]$/g, ''), port: u.port === '' ? 80 : Number(u.port) };
}

export interface BenchRequest {
  readonly method: string;
  /** Path and query, encoded. */
  readonly path: string;
  readonly headers: OutgoingHttpHeaders;
  readonly body?: Buffer;
}

export interface BenchAnswer {
  readonly status: number;
  /** Body bytes received. */
  readonly bytes: number;
  readonly contentLength: string | undefined;
  /** The start of the body of a non-2xx answer ('' otherwise). */
  readonly errorText: string;
}

/** Takes each body chunk of a 2xx answer at its offset; throws to abort the request. */
export type BodySink = (chunk: Buffer, offset: number) => void;

/** One request to a fixed endpoint over a fixed agent. */
export type Send = (r: BenchRequest, sink?: BodySink) => Promise<BenchAnswer>;

export function sender(endpoint: BenchEndpoint, agent: http.Agent): Send {
  return (r, sink) => exchange(endpoint, agent, r, sink);
}

export function exchange(endpoint: BenchEndpoint, agent: http.Agent, r: BenchRequest, sink?: BodySink): Promise<BenchAnswer> {
  return new Promise((resolve, reject) => {
    const options = { agent, host: endpoint.hostname, port: endpoint.port, method: r.method, path: r.path, headers: r.headers };
    const req = http.request(options, (res) => {
      const status = res.statusCode ?? 0;
      const ok = status >= 200 && status <= 299;
      let received = 0;
      let errorText = '';
      res.on('data', (chunk: Buffer) => {
        try {
          if (ok) sink?.(chunk, received);
          else if (errorText.length < MAX_ERROR_TEXT) errorText += chunk.toString('utf8', 0, MAX_ERROR_TEXT);
        } catch (err) {
          res.destroy();
          reject(err instanceof Error ? err : new Error(String(err)));
        }
        received += chunk.length;
      });
      res.on('end', () => resolve({ status, bytes: received, contentLength: res.headers['content-length'], errorText }));
      res.on('error', (err) => reject(new Error(`${r.method} ${r.path}: answer cut off after ${received} bytes (${err.message})`)));
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer in ${REQUEST_TIMEOUT_MS / 1000}s`)));
    req.on('error', (err) => reject(unreachable(err, endpoint) ?? err));
    req.end(r.body);
  });
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

function unreachable(err: Error, endpoint: BenchEndpoint): BenchFatalError | undefined {
  const code = 'code' in err && typeof err.code === 'string' ? err.code : '';
  return UNREACHABLE.has(code) ? new BenchFatalError(`cannot reach ${endpoint.url}: ${err.message}`) : undefined;
}

/** "403 SignatureDoesNotMatch: The request signature ..." from a JSON (native) or XML (S3) error body. */
export function describeAnswer(a: BenchAnswer): string {
  const json = /"code"\s*:\s*"([^"]*)"\s*,\s*"message"\s*:\s*"([^"]*)"/.exec(a.errorText);
  const xmlCode = /<Code>([^<]*)<\/Code>/.exec(a.errorText)?.[1];
  const xmlMessage = /<Message>([^<]*)<\/Message>/.exec(a.errorText)?.[1];
  const detail = json !== null ? `${json[1] ?? ''}: ${json[2] ?? ''}` : xmlCode !== undefined ? `${xmlCode}: ${xmlMessage ?? ''}` : a.errorText.slice(0, 200).trim();
  return `${a.status}${detail === '' ? '' : ` ${detail}`}`;
}
