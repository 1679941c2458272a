// tier: quick (npm run test:quick; docs/TESTING.md)
// The disk lock (disk_lock.ts) on real lock files in a temporary folder.
// Processes are stood in for by holders with made-up pids whose liveness
// the test decides (a Set of live pids), except where the real probe is
// the point (a child process that exited, this process). Races between two
// starters are interleaved deterministically through the `step` seam:
// one starter is parked on a latch at a step while the other runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { IoError, LockedError } from '../base/index.js';
import { DiskLock, FileLockRecords, currentHolder, decodeHolder, encodeHolder, processLiveness } from './disk_lock.js';
import type { LockHolder, LockRecords, Liveness } from './disk_lock.js';

function withDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'disk-lock-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

function holder(pid: number, nonce: string): LockHolder {
  return { pid, host: hostname(), startTicks: '', command: `shardstore serve #${pid}`, nonce };
}

/** Liveness decided by the test: pids in `alive` run. */
function world(alive: Set<number>): (h: LockHolder) => Liveness {
  return (h) => (alive.has(h.pid) ? 'alive' : 'dead');
}

/** A latch: `wait` parks until `open` is called. */
function latch(): { wait: () => Promise<void>; open: () => void; reached: Promise<void> } {
  let open = (): void => undefined;
  let reach = (): void => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const reached = new Promise<void>((resolve) => (reach = resolve));
  return {
    wait: () => {
      reach();
      return opened;
    },
    open: () => open(),
    reached,
  };
}

function lockedMessage(pid: number): (err: unknown) => boolean {
  return (err: unknown) => err instanceof LockedError && err.code === 'Locked' && err.message.includes(`pid ${pid} `) && !err.message.includes('\n');
}

test('a held lock refuses a second starter with one line naming the holder; released, it is free again', withDir(async (dir) => {
  const records = new FileLockRecords(join(dir, 'disk-0.dat'));
  const alive = new Set([101, 102]);
  const first = await DiskLock.acquire(records, holder(101, 'a'), { liveness: world(alive) });
  assert.equal(decodeHolder(readFileSync(join(dir, 'disk-0.dat.lock'), 'utf8'))?.nonce, 'a');
  await assert.rejects(DiskLock.acquire(records, holder(102, 'b'), { liveness: world(alive) }), lockedMessage(101));
  await assert.rejects(DiskLock.acquire(records, holder(102, 'b'), { liveness: world(alive) }), /disk-0\.dat is in use by pid 101 \(shardstore serve #101\)/);
  await first.release();
  assert.equal(existsSync(join(dir, 'disk-0.dat.lock')), false);
  const second = await DiskLock.acquire(records, holder(102, 'c'), { liveness: world(alive) });
  await first.release(); // a second release of an old lock must not drop the new holder's record
  assert.equal(decodeHolder(readFileSync(join(dir, 'disk-0.dat.lock'), 'utf8'))?.nonce, 'c');
  await second.release();
}));

test('a stale lock of a process that exited does not block (real probe); leftovers are cleaned', withDir(async (dir) => {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const pid = child.pid ?? 0;
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const dead: LockHolder = { ...holder(pid, 'dead1'), startTicks: '1' };
  assert.equal(processLiveness(dead), 'dead');
  const path = join(dir, 'disk-0.dat');
  writeFileSync(`${path}.lock`, encodeHolder(dead));
  const lock = await DiskLock.acquire(new FileLockRecords(path), currentHolder('test'));
  assert.equal(decodeHolder(readFileSync(`${path}.lock`, 'utf8'))?.pid, process.pid);
  await lock.release();
  assert.deepEqual(readdirSync(dir), [], 'no lock, claim or temporary file is left behind');
}));

test('liveness: this process is alive; a reused pid (other start time) is dead; another host is unknown and blocks', withDir(async (dir) => {
  const me = currentHolder('test');
  assert.equal(processLiveness(me), 'alive');
  if (me.startTicks !== '') assert.equal(processLiveness({ ...me, startTicks: `${me.startTicks}0` }), 'dead');
  const path = join(dir, 'disk-0.dat');
  writeFileSync(`${path}.lock`, encodeHolder({ ...me, host: 'elsewhere.example', nonce: 'remote' }));
  await assert.rejects(DiskLock.acquire(new FileLockRecords(path), currentHolder('test')), (err: unknown) => err instanceof LockedError && /on host elsewhere\.example \(this host cannot check it/.test(err.message));
}));

test('a lock record that is not one of ours blocks, and says what to do', withDir(async (dir) => {
  const path = join(dir, 'disk-0.dat');
  writeFileSync(`${path}.lock`, 'garbage');
  await assert.rejects(DiskLock.acquire(new FileLockRecords(path), currentHolder('test')), (err: unknown) => err instanceof LockedError && err.message.includes('no readable lock record'));
  assert.equal(readFileSync(`${path}.lock`, 'utf8'), 'garbage', 'left as it was');
}));

test('race: two starters judge the same stale lock; the one parked before its claim loses to the one that finished', withDir(async (dir) => {
  const records = new FileLockRecords(join(dir, 'disk-0.dat'));
  const alive = new Set([201, 202]);
  writeFileSync(records.where, encodeHolder(holder(200, 'stale')));
  const park = latch();
  const a = DiskLock.acquire(records, holder(201, 'A'), { liveness: world(alive), step: (s) => (s === 'judged-stale' ? park.wait() : Promise.resolve()) });
  const aSettled = a.then(() => 'won', (err: unknown) => err);
  await park.reached;
  const b = await DiskLock.acquire(records, holder(202, 'B'), { liveness: world(alive) });
  park.open();
  const aResult = await aSettled;
  assert.ok(lockedMessage(202)(aResult), `A must be refused naming B, got ${String(aResult)}`);
  assert.equal(decodeHolder(readFileSync(records.where, 'utf8'))?.nonce, 'B', 'B still holds the lock');
  await b.release();
}));

test('race: a starter parked after its claim wins; the other is refused naming the claimant', withDir(async (dir) => {
  const records = new FileLockRecords(join(dir, 'disk-0.dat'));
  const alive = new Set([301, 302]);
  writeFileSync(records.where, encodeHolder(holder(300, 'stale')));
  const park = latch();
  const a = DiskLock.acquire(records, holder(301, 'A'), { liveness: world(alive), step: (s) => (s === 'claimed' ? park.wait() : Promise.resolve()) });
  await park.reached;
  await assert.rejects(DiskLock.acquire(records, holder(302, 'B'), { liveness: world(alive) }), (err: unknown) => err instanceof LockedError && err.message.includes('is being taken over (its holder died) by pid 301'));
  park.open();
  const lock = await a;
  assert.equal(decodeHolder(readFileSync(records.where, 'utf8'))?.nonce, 'A');
  await lock.release();
}));

test('a takeover that died after its claim does not block the next one (next claim level)', withDir(async (dir) => {
  const records = new FileLockRecords(join(dir, 'disk-0.dat'));
  writeFileSync(records.where, encodeHolder(holder(400, 'stale')));
  writeFileSync(`${records.where}.stale-stale-0`, encodeHolder(holder(401, 'died-midway')));
  const lock = await DiskLock.acquire(records, holder(402, 'C'), { liveness: world(new Set([402])) });
  assert.equal(decodeHolder(readFileSync(records.where, 'utf8'))?.nonce, 'C');
  await lock.release();
  assert.deepEqual(readdirSync(dir), [], 'the dead takeover\'s claim is cleaned too');
}));

test('a read-only opener where no lock can be created (read-only file system) goes on, unless a live holder\'s record is there', async () => {
  const held = new Map<string, string>();
  const readOnlyFs: LockRecords = {
    where: '/ro/disk-0.dat.lock',
    create: () => Promise.reject(new IoError('creating /ro/disk-0.dat.lock.tmp: EROFS', { cause: Object.assign(new Error('read-only file system'), { code: 'EROFS' }) })),
    read: (name) => Promise.resolve(held.get(name)),
    remove: () => Promise.resolve(),
  };
  const alive = new Set([501]);
  assert.equal(await DiskLock.acquireForReading(readOnlyFs, holder(502, 'r'), { liveness: world(alive) }), undefined, 'no record: goes on unlocked');
  await assert.rejects(DiskLock.acquire(readOnlyFs, holder(502, 'w'), { liveness: world(alive) }), IoError, 'a writer never goes on unlocked');
  held.set('lock', encodeHolder(holder(501, 'live')));
  await assert.rejects(DiskLock.acquireForReading(readOnlyFs, holder(502, 'r'), { liveness: world(alive) }), lockedMessage(501));
  alive.delete(501);
  assert.equal(await DiskLock.acquireForReading(readOnlyFs, holder(502, 'r'), { liveness: world(alive) }), undefined, 'a dead holder\'s record does not block');
});

test('a process that exits without closing (process.exit after a second signal) leaves no lock behind', withDir(async (dir) => {
  const path = join(dir, 'disk-0.dat');
  const module = new URL('./disk_lock.ts', import.meta.url).href;
  const script = `import { DiskLock, FileLockRecords, currentHolder } from ${JSON.stringify(module)};
await DiskLock.acquire(new FileLockRecords(${JSON.stringify(path)}), currentHolder('exit test'));
process.stdout.write('held\\n');
process.exit(130);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  assert.equal(out, 'held\n', 'the child took the lock');
  assert.equal(code, 130);
  assert.equal(existsSync(`${path}.lock`), false, 'released by the exit handler');
}));
