// What the server rows talk to, and the messages between the parent and
// the client process (workers/client_worker.ts).
import type { LoopResult } from '../lib/loop.js';

export interface S3Target {
  readonly kind: 's3';
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly bucket: string;
}

export interface NativeTarget {
  readonly kind: 'native';
  readonly baseUrl: string;
}

export type Target = S3Target | NativeTarget;

export type ClientKind = 'sdk' | 'fetch' | 'wrk' | 'autocannon';

export type ClientRequest =
  | { readonly kind: 'setup'; readonly target: Target }
  | { readonly kind: 'preload'; readonly target: Target; readonly keys: readonly string[]; readonly sizeBytes: number }
  | {
      readonly kind: 'run';
      readonly target: Target;
      readonly client: ClientKind;
      readonly method: 'GET' | 'PUT';
      readonly sizeBytes: number;
      readonly inFlight: number;
      readonly durationMs: number;
      /** Keys preloaded for GETs. */
      readonly getKeys: readonly string[];
      /** Scratch folder (wrk's script). */
      readonly tmp: string;
    };

export interface ClientResult extends LoopResult {
  /** Failed requests (non-2xx, connection errors, timeouts). */
  readonly errors: number;
  readonly clientCpuS: number;
}
