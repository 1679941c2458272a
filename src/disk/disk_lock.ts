// Exclusive access to a disk: one process at a time opens a data file,
// whether it serves it or only looks at it (SYSTEM.md section 4: "One
// process owns a store"). Two writers on one file destroy each other's
// acknowledged puts; a tool reading a file a server is writing sees an
// image that is never consistent.
//
// Model. Node offers neither flock nor fcntl locks, so the lock is a record
// beside the data file (`<file>.lock`, FileLockRecords below) naming its
// holder: pid, host, process start time, command and a nonce unique to the
// acquisition. Records are created whole and only if absent (a temporary
// file hard-linked into place: link fails if the name exists), so a reader
// never sees half a record and two creators never both win. Where records
// live is a seam (LockRecords): files for FileDisk, memory for the
// simulation (testing/sim_disk.ts), which runs this same protocol.
//
// A record whose holder is dead is stale and does not block: the holder's
// pid is not running on this host, or runs but started at another time
// (the pid was reused). A process killed with SIGKILL leaves such a record.
// Taking over a stale record must not let two starters both win:
// 1. A starter that judged generation S (the record's text) stale first
//    creates the claim `stale-<nonce of S>-<n>` (n = 0, or the next level
//    if the claimant of level n is dead itself: a takeover that crashed).
//    Creating it is exclusive: one claimant per level.
// 2. The claimant removes the lock record only if it still reads S, then
//    removes its claim and starts over: it creates the record like anyone
//    else, and a third starter that got in first simply wins (and is alive,
//    so the claimant is refused).
// Invariants:
// 1. The lock record is removed only by its holder (release) or by the
//    unique claimant of its own, stale generation.
// 2. A holder judged 'unknown' (another host, whose pids this host cannot
//    see) counts as alive: refusing is safe, taking over is not.
// 3. acquire() either returns a lock whose record holds this acquisition's
//    nonce, or throws LockedError naming a live holder; it loops at most
//    MAX_ATTEMPTS times.
import { readFileSync, unlinkSync } from 'node:fs';
import { link, open, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { LockedError, withContext } from '../base/index.js';

/** Who holds (or wants) a disk. Stored as one JSON line; DO NOT CHANGE field names: read by other versions. */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  /** Start time of the process (clock ticks after boot, /proc/<pid>/stat field 22); '' if unknown. */
  readonly startTicks: string;
  /** The holder's command line, for the refusal message. */
  readonly command: string;
  /** Unique to one acquisition: names this generation of the lock. */
  readonly nonce: string;
}

export type Liveness = 'alive' | 'dead' | 'unknown';

/** Where lock records live: files beside the data file, or memory in the simulation. */
export interface LockRecords {
  /** Where the lock lives, for messages (the lock file's path). */
  readonly where: string;
  /** Create record `name` holding `text`, whole and only if absent; false if it exists. */
  create(name: string, text: string): Promise<boolean>;
  /** The record's text, or undefined if absent. */
  read(name: string): Promise<string | undefined>;
  /** Remove the record (absent is fine). */
  remove(name: string): Promise<void>;
  /**
   * Optional: remove the lock record now, synchronously, if it holds
   * `nonce` (at process exit, where nothing async runs any more).
   */
  removeAtExit?(nonce: string): void;
}

export interface AcquireOptions {
  /** Is the holder running (default: processLiveness, this host's processes). */
  readonly liveness?: (holder: LockHolder) => Liveness;
  /** Test seam: awaited at the steps of a takeover, so a test can interleave two starters deterministically. */
  readonly step?: (name: 'judged-stale' | 'claimed') => Promise<void>;
}

export const LOCK_RECORD = 'lock';
/** Bounds: acquisition rounds, and takeover levels (each a takeover that died midway). */
const MAX_ATTEMPTS = 8;
const MAX_CLAIM_LEVELS = 4;
const MAX_COMMAND_CHARS = 200;

/**
 * Locks this process holds. A process that exits without closing its
 * disks (process.exit after a second SIGINT/SIGTERM) releases them in the
 * 'exit' handler, so even that path leaves no lock behind (a SIGKILL does,
 * stale: the next opener takes it over).
 */
const heldAtExit = new Set<DiskLock>();
let exitHookInstalled = false;

function releaseAllAtExit(): void {
  for (const lock of heldAtExit) lock.releaseAtExit();
}

export class DiskLock {
  private released = false;

  private constructor(
    private readonly records: LockRecords,
    readonly holder: LockHolder,
  ) {
    if (records.removeAtExit === undefined) return;
    heldAtExit.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', releaseAllAtExit);
    }
  }

  /**
   * Take the lock for `me`, or throw LockedError naming the live holder.
   * REQUIRES: `me.nonce` is fresh (currentHolder gives one).
   */
  static async acquire(records: LockRecords, me: LockHolder, options: AcquireOptions = {}): Promise<DiskLock> {
    const liveness = options.liveness ?? processLiveness;
    const step = options.step ?? ((): Promise<void> => Promise.resolve());
    const mine = encodeHolder(me);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (await records.create(LOCK_RECORD, mine)) return new DiskLock(records, me);
      const text = await records.read(LOCK_RECORD);
      if (text === undefined) continue; // released between our create and read
      const holder = decodeHolder(text);
      if (holder === undefined) throw new LockedError(`${records.where} holds no readable lock record; if no shardstore process uses the disk, remove it`);
      const state = liveness(holder);
      if (state !== 'dead') throw lockedBy(records.where, holder, state, 'is in use by');
      await step('judged-stale');
      const level = await claimStale(records, holder, mine, liveness);
      if (level === undefined) continue;
      await step('claimed');
      if ((await records.read(LOCK_RECORD)) === text) await records.remove(LOCK_RECORD);
      // Once the record is not generation S, its claims mean nothing: drop ours and those of dead claimants below it.
      for (let l = level; l >= 0; l--) await records.remove(claimName(holder, l));
    }
    throw new LockedError(`${records.where}: the lock changed hands ${MAX_ATTEMPTS} times while taking it; try again`);
  }

  /**
   * For a read-only opener: acquire, or, where no lock record can be
   * created (a read-only file system, a folder this user may not write:
   * the files of a stopped node mounted read-only for a check), go on
   * without one (undefined) unless a live holder's record is there.
   * Nobody can write the data there either, except a holder this refuses.
   */
  static async acquireForReading(records: LockRecords, me: LockHolder, options: AcquireOptions = {}): Promise<DiskLock | undefined> {
    try {
      return await DiskLock.acquire(records, me, options);
    } catch (err: unknown) {
      const errno = errnoOf(err instanceof Error ? err.cause : undefined);
      if (errno !== 'EROFS' && errno !== 'EACCES' && errno !== 'EPERM') throw err;
      const text = await records.read(LOCK_RECORD);
      const holder = text === undefined ? undefined : decodeHolder(text);
      if (text !== undefined && holder === undefined) throw new LockedError(`${records.where} holds no readable lock record; if no shardstore process uses the disk, remove it`);
      const state = holder === undefined ? 'dead' : (options.liveness ?? processLiveness)(holder);
      if (holder !== undefined && state !== 'dead') throw lockedBy(records.where, holder, state, 'is in use by');
      return undefined;
    }
  }

  /** Remove the lock record if it is still this acquisition's (idempotent). */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    heldAtExit.delete(this);
    const text = await this.records.read(LOCK_RECORD);
    if (text !== undefined && decodeHolder(text)?.nonce === this.holder.nonce) await this.records.remove(LOCK_RECORD);
  }

  /** The 'exit' handler's release: synchronous, at most once. */
  releaseAtExit(): void {
    if (this.released) return;
    this.released = true;
    heldAtExit.delete(this);
    this.records.removeAtExit?.(this.holder.nonce);
  }
}

function claimName(stale: LockHolder, level: number): string {
  return `stale-${stale.nonce}-${level}`;
}

/**
 * Claim the takeover of stale generation `stale`: the level of the claim
 * created, or undefined if a claim vanished meanwhile (start over).
 * Throws LockedError if a live process is taking it over already.
 */
async function claimStale(records: LockRecords, stale: LockHolder, mine: string, liveness: (h: LockHolder) => Liveness): Promise<number | undefined> {
  for (let level = 0; level < MAX_CLAIM_LEVELS; level++) {
    const name = claimName(stale, level);
    if (await records.create(name, mine)) return level;
    const text = await records.read(name);
    const claimant = text === undefined ? undefined : decodeHolder(text);
    if (claimant === undefined) return undefined; // removed meanwhile: its takeover is done, start over
    const state = liveness(claimant);
    if (state !== 'dead') throw lockedBy(records.where, claimant, state, 'is being taken over (its holder died) by');
  }
  throw new LockedError(`${records.where}: ${MAX_CLAIM_LEVELS} takeovers of a stale lock died midway; remove ${records.where} and its stale-* records by hand`);
}

function lockedBy(where: string, h: LockHolder, state: Liveness, what: string): LockedError {
  const host = state === 'unknown' ? ` on host ${h.host} (this host cannot check it; if that process is gone, remove ${where})` : '';
  return new LockedError(`${where.replace(/\.lock$/, '')} ${what} pid ${h.pid} (${h.command})${host}: refused (lock ${where})`);
}

export function encodeHolder(h: LockHolder): string {
  return `${JSON.stringify({ pid: h.pid, host: h.host, startTicks: h.startTicks, command: h.command, nonce: h.nonce })}\n`;
}

/** The holder a record names, or undefined if it is not a lock record. */
export function decodeHolder(text: string): LockHolder | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err: unknown) {
    void err; // not JSON: not a record of ours, and the caller says so
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const r = v as Record<string, unknown>;
  const { pid, host, startTicks, command, nonce } = r;
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) return undefined;
  if (typeof host !== 'string' || typeof startTicks !== 'string' || typeof command !== 'string' || typeof nonce !== 'string' || nonce === '') return undefined;
  return { pid, host, startTicks, command, nonce };
}

/** This process, as a lock holder, with a fresh nonce. */
export function currentHolder(command: string = process.argv.slice(1).join(' ')): LockHolder {
  return {
    pid: process.pid,
    host: hostname(),
    startTicks: startTicksOf(process.pid),
    command: command.length > MAX_COMMAND_CHARS ? `${command.slice(0, MAX_COMMAND_CHARS)}...` : command,
    nonce: randomBytes(8).toString('hex'),
  };
}

/**
 * Whether a holder on this host runs: signal 0 probes the pid (EPERM: it
 * exists under another user), and a different start time means the pid
 * was reused by another process. A holder on another host is 'unknown'.
 */
export function processLiveness(h: LockHolder): Liveness {
  if (h.host !== hostname()) return 'unknown';
  try {
    process.kill(h.pid, 0);
  } catch (err: unknown) {
    if (errnoOf(err) === 'ESRCH') return 'dead';
    if (errnoOf(err) !== 'EPERM') throw withContext(err, `probing pid ${h.pid}`);
  }
  const now = startTicksOf(h.pid);
  return h.startTicks !== '' && now !== '' && now !== h.startTicks ? 'dead' : 'alive';
}

/** Field 22 of /proc/<pid>/stat (after the parenthesised command, which may hold spaces); '' if unreadable. */
function startTicksOf(pid: number): string {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (err: unknown) {
    void err; // no procfs (not Linux) or the process is gone: start time unknown
    return '';
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19] ?? '';
}

function errnoOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/**
 * Lock records as files beside the data file: `<file>.lock`, and
 * `<file>.lock.<name>` for the others. A record is written to a temporary
 * file and hard-linked into place, so it appears whole and only if absent.
 */
export class FileLockRecords implements LockRecords {
  readonly where: string;

  constructor(dataPath: string) {
    this.where = `${dataPath}.lock`;
  }

  private pathOf(name: string): string {
    return name === LOCK_RECORD ? this.where : `${this.where}.${name}`;
  }

  async create(name: string, text: string): Promise<boolean> {
    const target = this.pathOf(name);
    const temp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    const handle = await open(temp, 'wx', 0o644).catch((err: unknown) => {
      throw withContext(err, `creating ${temp}`);
    });
    try {
      await handle.writeFile(text);
    } finally {
      await handle.close();
    }
    try {
      await link(temp, target);
      return true;
    } catch (err: unknown) {
      if (errnoOf(err) === 'EEXIST') return false;
      throw withContext(err, `creating ${target}`);
    } finally {
      await this.unlinkIfPresent(temp);
    }
  }

  async read(name: string): Promise<string | undefined> {
    try {
      return await readFile(this.pathOf(name), 'utf8');
    } catch (err: unknown) {
      if (errnoOf(err) === 'ENOENT') return undefined;
      throw withContext(err, `reading ${this.pathOf(name)}`);
    }
  }

  remove(name: string): Promise<void> {
    return this.unlinkIfPresent(this.pathOf(name));
  }

  removeAtExit(nonce: string): void {
    try {
      if (decodeHolder(readFileSync(this.where, 'utf8'))?.nonce === nonce) unlinkSync(this.where);
    } catch (err: unknown) {
      // The process is exiting: nobody is left to tell, and a record left behind is stale (the next opener takes it over).
      void err;
    }
  }

  private async unlinkIfPresent(path: string): Promise<void> {
    try {
      await unlink(path);
    } catch (err: unknown) {
      if (errnoOf(err) !== 'ENOENT') throw withContext(err, `removing ${path}`);
    }
  }
}
