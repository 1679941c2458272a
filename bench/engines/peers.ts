// The embedded peers a user would pick instead, each configured so that an
// acknowledged put or delete is on disk (the `durability` text of each spec
// says how). Each is typed here by the few members the bench uses
// (peer_module.ts explains why they are not imported).
//
// Verified by `npm run bench -- --verify-sync` (strace counts the sync
// calls of 200 puts at one in flight). Not used: @nxtedition/rocksdb, whose
// put() builds a batch and writes it without the options given to put, so
// `put(k, v, { sync: true })` never syncs (index.js `_put` -> `batch.write(callback)`);
// only `batch().write({ sync: true })` does, synchronously on the JS thread.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { callable, member, peerVersion, requirePeer } from '../lib/peer_module.js';
import type { EngineSpec, KvEngine } from './engine.js';

const LOAD_BATCH = 512;

// ---- lmdb (lmdb-js) -------------------------------------------------------

interface LmdbDb {
  put(key: Buffer, value: Buffer): Promise<boolean>;
  remove(key: Buffer): Promise<boolean>;
  get(key: Buffer): Buffer | undefined;
  readonly flushed: PromiseLike<unknown>;
  close(): Promise<void>;
}
type LmdbOpen = (options: Record<string, unknown>) => LmdbDb;

export const lmdbSpec: EngineSpec = {
  name: 'lmdb',
  kind: 'peer',
  durability: `lmdb ${safeVersion('lmdb')} (lmdb-js), defaults (overlappingSync on Linux, writes of one event turn batched into one transaction); each put awaits its commit and then db.flushed (its transaction fsynced)`,
  open(dir, o): Promise<KvEngine> {
    const open = member<LmdbOpen>(requirePeer('lmdb'), 'open', 'lmdb');
    const db = open({ path: join(dir, 'lmdb'), encoding: 'binary', keyEncoding: 'binary', compression: false, mapSize: Math.max(1 << 30, o.capacityBytes * 2) });
    const durable = async (p: Promise<boolean>): Promise<void> => {
      await p;
      await db.flushed;
    };
    return Promise.resolve({
      put: (key, value) => durable(db.put(key, value)),
      get: (key) => Promise.resolve(db.get(key)),
      del: (key) => durable(db.remove(key)),
      async load(keys, value): Promise<void> {
        let last: Promise<boolean> | undefined;
        for (const [i, key] of keys.entries()) {
          last = db.put(key, value(i));
          if (i % LOAD_BATCH === LOAD_BATCH - 1) await last;
        }
        if (last !== undefined) await durable(last);
      },
      close: () => db.close(),
    });
  },
};

// ---- classic-level (LevelDB) ----------------------------------------------

interface LevelDb {
  open(): Promise<void>;
  put(key: Buffer, value: Buffer, options: { sync: boolean }): Promise<void>;
  get(key: Buffer): Promise<Buffer | undefined>;
  del(key: Buffer, options: { sync: boolean }): Promise<void>;
  batch(ops: ReadonlyArray<{ type: 'put'; key: Buffer; value: Buffer }>, options: { sync: boolean }): Promise<void>;
  close(): Promise<void>;
}
type LevelCtor = new (location: string, options: Record<string, unknown>) => LevelDb;

export const classicLevelSpec: EngineSpec = {
  name: 'classic-level',
  kind: 'peer',
  durability: `classic-level ${safeVersion('classic-level')} (LevelDB 1.20), default options (4 MiB write buffer, snappy); put/del with { sync: true } (log fdatasync per write, LevelDB's writer queue merges concurrent writes)`,
  async open(dir): Promise<KvEngine> {
    const Ctor = member<LevelCtor>(requirePeer('classic-level'), 'ClassicLevel', 'classic-level');
    const db = new Ctor(join(dir, 'leveldb'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    return {
      put: (key, value) => db.put(key, value, { sync: true }),
      get: (key) => db.get(key),
      del: (key) => db.del(key, { sync: true }),
      async load(keys, value): Promise<void> {
        for (let base = 0; base < keys.length; base += LOAD_BATCH) {
          const ops = keys.slice(base, base + LOAD_BATCH).map((key, j) => ({ type: 'put' as const, key, value: value(base + j) }));
          await db.batch(ops, { sync: base + LOAD_BATCH >= keys.length });
        }
      },
      close: () => db.close(),
    };
  },
};

// ---- rocksdb (Level's binding) ----------------------------------------------

type Callback<T> = (err: Error | null | undefined, value?: T) => void;
interface RocksDown {
  open(options: Record<string, unknown>, cb: Callback<void>): void;
  put(key: Buffer, value: Buffer, options: { sync: boolean }, cb: Callback<void>): void;
  get(key: Buffer, options: { asBuffer: boolean; fillCache: boolean }, cb: Callback<Buffer>): void;
  del(key: Buffer, options: { sync: boolean }, cb: Callback<void>): void;
  batch(ops: ReadonlyArray<{ type: 'put'; key: Buffer; value: Buffer }>, options: { sync: boolean }, cb: Callback<void>): void;
  close(cb: Callback<void>): void;
}

export const rocksdbSpec: EngineSpec = {
  name: 'rocksdb',
  kind: 'peer',
  durability: `rocksdb ${safeVersion('rocksdb')} (Level's binding, bundles RocksDB 6.17.3, prebuilt linux-x64), default options; put/del with { sync: true } (WAL fdatasync per write group; binding.cc passes sync into WriteOptions)`,
  async open(dir): Promise<KvEngine> {
    const factory = callable<(location: string) => RocksDown>(requirePeer('rocksdb'), 'rocksdb');
    const db = factory(join(dir, 'rocksdb'));
    await cb<void>((done) => db.open({ createIfMissing: true }, done));
    return {
      put: (key, value) => cb<void>((done) => db.put(key, value, { sync: true }, done)),
      get: (key) =>
        new Promise((resolve, reject) =>
          db.get(key, { asBuffer: true, fillCache: true }, (err, value) => {
            if (err === null || err === undefined) resolve(value);
            else if (/NotFound/i.test(err.message)) resolve(undefined);
            else reject(err);
          }),
        ),
      del: (key) => cb<void>((done) => db.del(key, { sync: true }, done)),
      async load(keys, value): Promise<void> {
        for (let base = 0; base < keys.length; base += LOAD_BATCH) {
          const ops = keys.slice(base, base + LOAD_BATCH).map((key, j) => ({ type: 'put' as const, key, value: value(base + j) }));
          await cb<void>((done) => db.batch(ops, { sync: base + LOAD_BATCH >= keys.length }, done));
        }
      },
      close: () => cb<void>((done) => db.close(done)),
    };
  },
};

function cb<T>(start: (done: Callback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => start((err, value) => (err === null || err === undefined ? resolve(value as T) : reject(err))));
}

// ---- better-sqlite3 ------------------------------------------------------------

interface SqliteStatement {
  run(...params: unknown[]): unknown;
  get(...params: unknown[]): unknown;
  pluck(): SqliteStatement;
}
interface SqliteDb {
  pragma(text: string): unknown;
  exec(sql: string): unknown;
  prepare(sql: string): SqliteStatement;
  transaction(fn: () => void): () => void;
  close(): unknown;
}
type SqliteCtor = new (path: string) => SqliteDb;

export const sqliteSpec: EngineSpec = {
  name: 'better-sqlite3',
  kind: 'peer',
  durability: `better-sqlite3 ${safeVersion('better-sqlite3')} (SQLite), journal_mode=WAL, synchronous=FULL (WAL fsynced at every commit), one transaction per put; its API is synchronous, so puts run one at a time whatever the in-flight count`,
  async open(dir): Promise<KvEngine> {
    const Ctor = callable<SqliteCtor>(requirePeer('better-sqlite3'), 'better-sqlite3');
    await mkdir(join(dir, 'sqlite'), { recursive: true });
    const db = new Ctor(join(dir, 'sqlite', 'kv.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE IF NOT EXISTS kv (k BLOB PRIMARY KEY, v BLOB NOT NULL)');
    const upsert = db.prepare('INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)');
    const select = db.prepare('SELECT v FROM kv WHERE k = ?').pluck();
    const remove = db.prepare('DELETE FROM kv WHERE k = ?');
    return {
      put: (key, value) => Promise.resolve(void upsert.run(key, value)),
      get: (key) => {
        const v = select.get(key);
        return Promise.resolve(Buffer.isBuffer(v) ? v : undefined);
      },
      del: (key) => Promise.resolve(void remove.run(key)),
      load(keys, value): Promise<void> {
        for (let base = 0; base < keys.length; base += LOAD_BATCH) {
          db.transaction(() => {
            for (let i = base; i < Math.min(keys.length, base + LOAD_BATCH); i++) upsert.run(keys[i], value(i));
          })();
        }
        return Promise.resolve();
      },
      close: () => Promise.resolve(void db.close()),
    };
  },
};

function safeVersion(name: string): string {
  try {
    return peerVersion(name);
  } catch (err: unknown) {
    // Not installed: the spec still describes itself; opening it will fail with the real error.
    return `(not installed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)})`;
  }
}

export const PEER_SPECS: readonly EngineSpec[] = [lmdbSpec, classicLevelSpec, rocksdbSpec, sqliteSpec];
