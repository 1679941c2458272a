// What the bench asks of the operating system: dropping the page cache,
// a process's CPU time and block-layer reads (/proc), a block device's
// writes (/sys), the load average.
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { loadavg } from 'node:os';

/**
 * Drop the kernel's page cache (needs root and a writable
 * /proc/sys/vm/drop_caches). Dirty pages are written first by sync(1).
 * Returns false where the sandbox refuses: "cold" then means only a fresh
 * engine instance with empty caches of its own.
 */
export function dropPageCache(): boolean {
  try {
    execFileSync('sync');
    writeFileSync('/proc/sys/vm/drop_caches', '3\n');
    return true;
  } catch (err: unknown) {
    if (err instanceof Error && 'code' in err && (err.code === 'EACCES' || err.code === 'EROFS' || err.code === 'EPERM')) return false;
    throw err;
  }
}

const CLOCK_TICKS_PER_SEC = 100;

/**
 * User + system CPU seconds of process `pid` so far (its threads included);
 * with `children`, also of its children that have exited and been waited for.
 */
export function processCpuSeconds(pid: number | 'self', options: { children?: boolean } = {}): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; fields after it are plain (rest[0] is field 3).
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const field = (n: number): number => Number(rest[n - 3]);
  const own = field(14) + field(15);
  const children = options.children === true ? field(16) + field(17) : 0;
  return (own + children) / CLOCK_TICKS_PER_SEC;
}

/** CPU time of this process's main (JavaScript) thread so far, in ms: utime + stime of /proc/self/task/<pid>/stat (not the libuv pool). */
export function mainThreadCpuMs(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'latin1');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(rest[11]) + Number(rest[12])) * 1000) / CLOCK_TICKS_PER_SEC;
}

/** Minor page faults of this process so far (all threads: /proc/self/stat minflt), each a first touch of fresh memory or a page-cache mapping. */
export function minorFaults(): number {
  const stat = readFileSync('/proc/self/stat', 'latin1');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(rest[7]);
}

/** Fill `into` from `h` at `at` (positional reads until whole; a file too short throws). */
export async function readAll(h: FileHandle, into: Buffer, at: number): Promise<void> {
  let done = 0;
  while (done < into.length) {
    const { bytesRead } = await h.read(into, done, into.length - done, at + done);
    if (bytesRead === 0) throw new Error(`short read at ${at + done}`);
    done += bytesRead;
  }
}

/**
 * Bytes the block device holding `path` has written since boot
 * (/sys/dev/block/MAJOR:MINOR/stat, sectors written x 512), or undefined
 * when `path` is on no block device (tmpfs, overlay) or the device has no
 * stat file. Machine-wide: every process's writes to that device count,
 * and the file system's own (journal commits) too, which is what an
 * engine's writes cost the disk; read it on a quiet machine. (Not
 * /proc/<pid>/io write_bytes: on kernels with large folios, 6.18 here,
 * a 4 KiB write into a cached 2 MiB folio counts 2 MiB: docs/BENCHMARKS.md,
 * "writeAmpProc is not disk traffic".)
 */
export function deviceWrittenBytes(path: string): number | undefined {
  const { major, minor } = deviceNumbers(statSync(path, { bigint: true }).dev);
  if (major === 0) return undefined;
  let text: string;
  try {
    text = readFileSync(`/sys/dev/block/${major}:${minor}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields (Documentation/block/stat.rst): reads, merges, sectors, ticks, then writes, merges, sectors, ticks, ...
  const sectors = Number(text.trim().split(/\s+/)[6]);
  return Number.isFinite(sectors) ? sectors * 512 : undefined;
}

/** Major and minor of a dev_t as Linux encodes it (glibc's gnu_dev_major/minor). */
export function deviceNumbers(dev: bigint): { major: number; minor: number } {
  return {
    major: Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & 0xfffff000n)),
    minor: Number((dev & 0xffn) | ((dev >> 12n) & 0xffffff00n)),
  };
}

/** Bytes process `pid` caused to be read from the block layer (/proc/<pid>/io read_bytes). */
export function processReadBytes(pid: number | 'self' = 'self'): number {
  return procIoField(pid, 'read_bytes');
}

function procIoField(pid: number | 'self', field: string): number {
  const text = readFileSync(`/proc/${pid}/io`, 'utf8');
  const match = new RegExp(`^${field}:\\s*(\\d+)$`, 'm').exec(text);
  if (match?.[1] === undefined) throw new Error(`/proc/${pid}/io has no ${field}`);
  return Number(match[1]);
}

export function load1(): number {
  return loadavg()[0] ?? 0;
}

export function loadTriple(): [number, number, number] {
  const [a = 0, b = 0, c = 0] = loadavg();
  return [round2(a), round2(b), round2(c)];
}

export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
