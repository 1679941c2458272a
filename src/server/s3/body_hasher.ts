// The MD5 (the ETag, Content-MD5) and SHA-256 (a signed payload) of a
// request body, updated piece by piece as the body arrives, so no pass over
// the whole body follows its last byte. A large body is hashed on a worker
// thread: its pieces are copied there (one copy, transferred) and hashed
// while the main thread goes on serving other requests; measured on this
// 2-core machine, MD5 and SHA-256 of 1 MiB take about 3 and 2 ms of CPU
// (docs/BENCHMARKS.md), the copy about 0.1 ms. A small body is hashed in
// place: a message round trip costs more than its hashing.
//
// Invariants:
// 1. A worker hashes the pieces of one body in the order they were given
//    (one worker per body; a MessagePort delivers in order), and answers
//    digest() after every update before it.
// 2. A worker that fails fails the digests waiting on it (the request
//    answers 500); the next large body starts a new worker.
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

export type BodyHash = 'md5' | 'sha256';

/** Bodies from this size on are hashed on the worker (declared size). */
export const WORKER_MIN_BYTES = 256 * 1024;

/** Bytes of one body queued to the worker, at most, before the body waits for it (bounded memory). */
const MAX_QUEUED_BYTES = 4 * 1024 * 1024;

export interface BodyHasher {
  /** Hash `piece`; a promise to await before the next piece when the worker is behind (bounded memory). */
  update(piece: Buffer): Promise<void> | undefined;
  /** The digests, in the order of the algorithms asked for. REQUIRES: called once, after the last update. */
  digest(): Promise<Buffer[]>;
  /** The body will not be finished (an aborted request): forget it. */
  drop(): void;
}

/** A hasher for a body of `declaredBytes` (undefined: unknown, hashed in place). */
export function openBodyHasher(algorithms: readonly BodyHash[], declaredBytes: number | undefined): BodyHasher {
  if (declaredBytes !== undefined && declaredBytes >= WORKER_MIN_BYTES) return workerHasher(algorithms);
  return localHasher(algorithms);
}

function localHasher(algorithms: readonly BodyHash[]): BodyHasher {
  const hashes: Hash[] = algorithms.map((a) => createHash(a));
  return {
    update: (piece) => {
      for (const h of hashes) h.update(piece);
      return undefined;
    },
    digest: () => Promise.resolve(hashes.map((h) => h.digest())),
    drop: () => undefined,
  };
}

// Plain JavaScript, evaluated in the worker: it needs node:crypto only.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const bodies = new Map();
parentPort.on('message', (m) => {
  if (m.kind === 'open') bodies.set(m.id, m.algorithms.map((a) => createHash(a)));
  else if (m.kind === 'update') { for (const h of bodies.get(m.id) ?? []) h.update(m.bytes); }
  else if (m.kind === 'drop') bodies.delete(m.id);
  else if (m.kind === 'mark') parentPort.postMessage({ id: m.id, digests: [] });
  else if (m.kind === 'digest') {
    const hashes = bodies.get(m.id) ?? [];
    bodies.delete(m.id);
    parentPort.postMessage({ id: m.id, digests: hashes.map((h) => h.digest()) });
  }
});
`;

interface Waiting {
  resolve(digests: Buffer[]): void;
  reject(err: Error): void;
}

class HashWorker {
  private readonly worker = new Worker(WORKER_SOURCE, { eval: true });
  private readonly waiting = new Map<number, Waiting>();
  failed = false;

  constructor() {
    // Never the reason the process stays up.
    this.worker.unref();
    this.worker.on('message', (m: { id: number; digests: Uint8Array[] }) => {
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      w?.resolve(m.digests.map((d) => Buffer.from(d.buffer, d.byteOffset, d.byteLength)));
    });
    const fail = (err: unknown): void => {
      this.failed = true;
      const error = new Error(`the body hashing worker failed: ${err instanceof Error ? err.message : String(err)}`);
      for (const w of this.waiting.values()) w.reject(error);
      this.waiting.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`exited with code ${code}`)));
  }

  post(message: object, transfer?: ArrayBuffer[]): void {
    this.worker.postMessage(message, transfer);
  }

  /** `digest`: the digests; `mark`: resolves (with none) once every update before it is hashed. */
  ask(kind: 'digest' | 'mark', id: number): Promise<Buffer[]> {
    if (this.failed) return Promise.reject(new Error('the body hashing worker failed'));
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.post({ kind, id });
    });
  }
}

let shared: HashWorker | undefined;
let nextId = 0;

function theWorker(): HashWorker {
  if (shared === undefined || shared.failed) shared = new HashWorker();
  return shared;
}

function workerHasher(algorithms: readonly BodyHash[]): BodyHasher {
  const worker = theWorker();
  const id = nextId++;
  let queuedBytes = 0;
  worker.post({ kind: 'open', id, algorithms });
  return {
    update: (piece) => {
      // A copy of just this piece (a view may share a larger buffer), handed over without a second copy.
      const copy = new Uint8Array(piece);
      worker.post({ kind: 'update', id, bytes: copy }, [copy.buffer]);
      queuedBytes += copy.length;
      if (queuedBytes < MAX_QUEUED_BYTES) return undefined;
      queuedBytes = 0;
      return worker.ask('mark', id).then(() => undefined);
    },
    digest: () => worker.ask('digest', id),
    drop: () => worker.post({ kind: 'drop', id }),
  };
}
