// How `shardstore bench` speaks each API of a node: the path of an object,
// the headers of a request (SigV4 for S3), and the checks before and the
// tidying after a run. Native: the shard routes of docs/API.md. S3: path
// style, /{bucket}/{key}, the bucket created if missing (docs/S3.md).
import type { OutgoingHttpHeaders } from 'node:http';
import { DEFAULT_S3_REGION } from '../server/index.js';
import type { BenchEndpoint, BenchRequest, Send } from './bench_http.js';
import { BenchFatalError, describeAnswer } from './bench_http.js';
import { KEY_ROOT } from './bench_keys.js';
import type { BenchApi } from './bench_keys.js';
import type { S3KeyPair } from './bench_sigv4.js';
import { HeaderSigner } from './bench_sigv4.js';

const MAX_PROBE_BYTES = 4096;

export interface ApiTarget {
  readonly api: BenchApi;
  /** The encoded request path of an object key (keys are [0-9a-z/-]: no escaping needed). */
  objectPath(key: string): string;
  headers(method: string, path: string, contentLength?: number): OutgoingHttpHeaders;
  /** Check the API answers (S3: create the bucket if missing). Throws BenchFatalError. */
  prepare(): Promise<void>;
  /** Undo what prepare created (S3: a bucket it created, once empty); a note for the report, if any. */
  finish(): Promise<string | undefined>;
}

/** GET /healthz: the node answers; its version if it tells one (it does not today: null). Throws BenchFatalError. */
export async function probeNode(endpoint: BenchEndpoint, send: Send): Promise<{ readonly version: string | null }> {
  let body = '';
  const answer = await send({ method: 'GET', path: '/healthz', headers: {} }, (chunk) => {
    if (body.length < MAX_PROBE_BYTES) body += chunk.toString('utf8');
  });
  if (answer.status !== 200) throw new BenchFatalError(`${endpoint.url} is not a healthy ShardStore node: GET /healthz answered ${describeAnswer(answer)}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    throw new BenchFatalError(`${endpoint.url} is not a ShardStore node: GET /healthz answered ${JSON.stringify(body.slice(0, 80))} (${String(err)})`);
  }
  const version = typeof parsed === 'object' && parsed !== null && 'version' in parsed && typeof parsed.version === 'string' ? parsed.version : null;
  return { version };
}

/** Signs with the node's key pair if there is one (a node served with --insecure-no-auth needs none). */
export function nativeTarget(endpoint: BenchEndpoint, send: Send, keys: S3KeyPair | undefined): ApiTarget {
  const signer = keys === undefined ? undefined : new HeaderSigner(keys, hostOf(endpoint), DEFAULT_S3_REGION);
  const headers = (method: string, path: string, contentLength?: number): OutgoingHttpHeaders =>
    signer?.sign(method, path, contentLength) ?? (contentLength === undefined ? {} : { 'content-length': contentLength });
  return {
    api: 'native',
    objectPath: (key) => `/v1/shards/${key}`,
    headers,
    async prepare(): Promise<void> {
      const path = `/v1/shards?limit=1&prefix=${encodeURIComponent(KEY_ROOT)}`;
      const answer = await send({ method: 'GET', path, headers: headers('GET', path) });
      if (answer.status === 401 || answer.status === 403) {
        throw new BenchFatalError(`the native API refused ${keys === undefined ? 'an unsigned request: give the node\'s key pair (--credentials-file)' : 'the key pair'}: ${describeAnswer(answer)}`);
      }
      if (answer.status !== 200) {
        throw new BenchFatalError(`the native API is not served at ${endpoint.url} (serve --native-api off?): GET /v1/shards answered ${describeAnswer(answer)}`);
      }
    },
    finish: () => Promise.resolve(undefined),
  };
}

export function s3Target(endpoint: BenchEndpoint, send: Send, keys: S3KeyPair, bucket: string): ApiTarget {
  const signer = new HeaderSigner(keys, hostOf(endpoint), DEFAULT_S3_REGION);
  const headers = (method: string, path: string, contentLength?: number): OutgoingHttpHeaders => signer.sign(method, path, contentLength);
  const bucketRequest = (method: string): BenchRequest => ({ method, path: `/${bucket}`, headers: headers(method, `/${bucket}`) });
  let created = false;
  return {
    api: 's3',
    objectPath: (key) => `/${bucket}/${key}`,
    headers,
    async prepare(): Promise<void> {
      const answer = await send(bucketRequest('PUT'));
      if (answer.status === 403) throw new BenchFatalError(`S3 refused the key pair: ${describeAnswer(answer)}`);
      if (answer.status === 200) created = true;
      else if (!(answer.status === 409 && answer.errorText.includes('BucketAlreadyOwnedByYou'))) {
        throw new BenchFatalError(`S3 CreateBucket ${bucket} at ${endpoint.url} answered ${describeAnswer(answer)}${answer.status === 404 ? ' (serve --s3 off?)' : ''}`);
      }
    },
    async finish(): Promise<string | undefined> {
      if (!created) return undefined;
      const answer = await send(bucketRequest('DELETE'));
      return answer.status === 204 ? `deleted bucket ${bucket} (this run created it)` : `kept bucket ${bucket}: DeleteBucket answered ${describeAnswer(answer)}`;
    },
  };
}

/** The Host header of the endpoint, as requests carry it. */
function hostOf(endpoint: BenchEndpoint): string {
  return `${endpoint.hostname.includes(':') ? `[${endpoint.hostname}]` : endpoint.hostname}:${endpoint.port}`;
}
