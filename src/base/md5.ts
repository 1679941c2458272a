// MD5 of a stream of pieces (a request body: the S3 ETag), off the event
// loop where it pays: native/md5 hashes on libuv's thread pool with the
// node binary's own OpenSSL, the same code `createHash('md5')` runs on this
// thread. At about 1.5 ms per MiB, MD5 on the event loop was half of that
// thread's time under S3 PUTs of 1 MiB (docs/BENCHMARKS.md, "MD5 of large
// bodies off the event loop").
//
// Pieces are gathered until OFF_LOOP_MIN_BYTES, then handed to the pool
// in one update; updates of one hash run one after another. A body that
// ends before the first hand-over (small PUTs: most of them) is hashed
// here at digest, with no trip through the pool. The pieces must not
// change until digest resolved (request bodies are never written to).
//
// `backlog()` bounds the memory: once more than BACKLOG_MAX_BYTES wait to
// be hashed it returns a promise to await before taking more of the body,
// so a client faster than the pool does not make the server hold its
// whole body.
//
// Where the addon did not build, every byte is hashed on the event loop,
// as before it existed.
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { createRequire } from 'node:module';

interface Md5Addon {
  create(): object;
  update(ctx: object, pieces: readonly Uint8Array[]): Promise<void>;
  digest(ctx: object): Buffer;
}

function loadAddon(): Md5Addon | undefined {
  try {
    const addon = createRequire(import.meta.url)('shardstore-md5') as Partial<Md5Addon>;
    const { create, update, digest } = addon;
    if (create === undefined || update === undefined || digest === undefined) return undefined;
    return { create, update, digest };
  } catch {
    // Not built: MD5 on the event loop.
    return undefined;
  }
}

const addon = loadAddon();

/** Where MD5 of large bodies runs (the bench reports it with the machine). */
export const MD5_OFF_LOOP: 'thread pool (native/md5)' | 'event loop' = addon === undefined ? 'event loop' : 'thread pool (native/md5)';

/** Bytes gathered before a hand-over to the pool (a smaller body is hashed on the event loop). */
export const OFF_LOOP_MIN_BYTES = 256 * 1024;

/** Bytes waiting to be hashed beyond which backlog() asks the caller to wait. */
export const BACKLOG_MAX_BYTES = 8 * 1024 * 1024;

/** MD5 of pieces given in order; see the head of this file. */
export class Md5Stream {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** Bytes handed to the pool and not hashed yet. */
  private queuedBytes = 0;
  private ctx: object | undefined;
  /** The last update handed to the pool (never rejects: failures go to `failure`). */
  private chain: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private done = false;
  /** Updates handed to the pool so far (tests). */
  handOvers = 0;
  /** The addon, where this stream hands large bodies to the pool. */
  private readonly pool: Md5Addon | undefined;
  /** The event loop's hash: every piece without the pool, else a body that never reached OFF_LOOP_MIN_BYTES. */
  private readonly here: Hash = createHash('md5');

  /** Use the pool from OFF_LOOP_MIN_BYTES on (true where native/md5 built); false: every piece hashed on the event loop as it comes. */
  constructor(offLoop: boolean = addon !== undefined) {
    this.pool = offLoop ? addon : undefined;
  }

  update(piece: Uint8Array): void {
    if (this.done) throw new Error('Md5Stream: update after digest');
    const pool = this.pool;
    if (pool === undefined) {
      this.here.update(piece);
      return;
    }
    if (piece.length === 0) return;
    this.pending.push(piece);
    this.pendingBytes += piece.length;
    if (this.pendingBytes >= OFF_LOOP_MIN_BYTES) this.handOver(pool);
  }

  /** A promise to await before giving more pieces, when more than BACKLOG_MAX_BYTES wait to be hashed; else undefined. */
  backlog(): Promise<void> | undefined {
    return this.queuedBytes > BACKLOG_MAX_BYTES ? this.chain : undefined;
  }

  /** The MD5 of every piece given. */
  async digest(): Promise<Buffer> {
    if (this.done) throw new Error('Md5Stream: digest taken twice');
    this.done = true;
    const pool = this.pool;
    if (pool === undefined || this.ctx === undefined) {
      // No pool, or never handed over (a small body): hashed here.
      for (const p of this.pending) this.here.update(p);
      this.pending = [];
      return this.here.digest();
    }
    if (this.pendingBytes > 0) this.handOver(pool);
    await this.chain;
    if (this.failure !== undefined) throw this.failure;
    return pool.digest(this.ctx);
  }

  private handOver(pool: Md5Addon): void {
    const ctx = (this.ctx ??= pool.create());
    const pieces = this.pending;
    const bytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    this.queuedBytes += bytes;
    this.handOvers++;
    this.chain = this.chain.then(async () => {
      try {
        if (this.failure === undefined) await pool.update(ctx, pieces);
      } catch (err: unknown) {
        this.failure = err instanceof Error ? err : new Error(String(err));
      } finally {
        this.queuedBytes -= bytes;
      }
    });
  }
}
