// A focused probe of the bench's 1 MiB get rows: load values of one size
// into a fresh store (sparse data file, serve's defaults), close it, then
// time gets in a random order at one in-flight count, warm (after one pass
// over the set) or cold (page cache dropped after the store opened: root),
// beside raw preads of the same sizes from a plain file in the same
// process, in the same random order and sequentially (the bench's raw row).
// It prints gets/s and, per get or read, the main thread's CPU, the bytes
// the block layer read (/proc/self/io: more than the value is an over-read)
// and the minor page faults (fresh memory touched), against the compiled
// engine of a checkout (`--root`, default this one: build it first). Each
// get delivers the value into a buffer the probe owns, as the pread does
// (getOwned; a checkout without it: get() and a copy); the warm pass reads
// through get(), which fills the buffer cache. `--cache-bytes` sets the
// store's buffer cache.
//
// The bench runs every process with the node flags of `npm start`
// (bench/lib/dist.ts, START_NODE_FLAGS); give them here too to measure as
// it does (`node --initial-old-space-size=128 --import tsx bench/get_probe.ts ...`).
//
//   node --import tsx bench/get_probe.ts --root /path/to/checkout --values 256 --size 1048576 --in-flight 1 --cold [--profile /tmp/get] [--cache-bytes N]
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { open } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { PerformanceObserver } from 'node:perf_hooks';
import type { PerformanceEntry } from 'node:perf_hooks';
import { Rng } from './lib/loop.js';
import { dropPageCache, mainThreadCpuMs, minorFaults, processReadBytes, readAll } from './lib/os.js';

interface Dep {
  persisted(): Promise<void>;
}
interface Store {
  put(key: Buffer, value: Buffer): Promise<Dep>;
  get(key: Buffer): Promise<Buffer>;
  /** A buffer the caller owns (not in a checkout older than the coldget branch: then get() and a copy). */
  getOwned?(key: Buffer): Promise<Buffer>;
  close(): Promise<void>;
  parts: { space: { settled(): Promise<void> } };
}
interface StoreModule {
  formatDiskStore(disk: unknown, options: Record<string, unknown>): Promise<Store>;
  openDiskStore(disk: unknown, options: Record<string, unknown>): Promise<Store>;
  DEFAULT_PREPARE_AHEAD_EXTENTS: number | 'all';
}
interface DiskModule {
  FileDisk: { open(path: string, options?: Record<string, unknown>): Promise<unknown> };
}


const { values } = parseArgs({
  options: {
    root: { type: 'string', default: '.' },
    values: { type: 'string', default: '256' },
    size: { type: 'string', default: String(1024 * 1024) },
    'in-flight': { type: 'string', default: '1' },
    cold: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '1' },
    dir: { type: 'string' },
    profile: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'cache-bytes': { type: 'string' },
  },
});
/** The garbage collector's pauses, as performance entries (timed() takes those of its window). */
const gcEntries: PerformanceEntry[] = [];
const gcObserver = new PerformanceObserver((list) => gcEntries.push(...list.getEntries()));
gcObserver.observe({ entryTypes: ['gc'] });

const root = resolve(values.root);
const count = Number(values.values);
const size = Number(values.size);
const inFlight = Number(values['in-flight']);
const cold = values.cold;

const store = (await import(pathToFileURL(join(root, 'dist/src/store/index.js')).href)) as StoreModule;
const disk = (await import(pathToFileURL(join(root, 'dist/src/disk/index.js')).href)) as DiskModule;
const dir = mkdtempSync(join(values.dir ?? tmpdir(), 'get-probe-'));
try {
  const path = join(dir, 'disk-0.dat');
  const prepareAheadExtents = store.DEFAULT_PREPARE_AHEAD_EXTENTS;
  const diskBytes = Math.max(4 * 1024 ** 3, Math.ceil(count * size * 1.25) + 16 * 64 * 1024 * 1024);
  let s = await store.formatDiskStore(await disk.FileDisk.open(path, { createSizeBytes: diskBytes }), { prepareAheadExtents });
  const base = randomBytes(size);
  const keys = Array.from({ length: count }, (_, i) => Buffer.from(`get/${size}/${i.toString().padStart(9, '0')}`));
  for (let i = 0; i < count; i += 64) {
    const deps = await Promise.all(keys.slice(i, i + 64).map((k) => s.put(k, base)));
    await Promise.all(deps.map((d) => d.persisted()));
  }
  await s.close();
  // The raw file: the same bytes, one block per value.
  const rawPath = join(dir, 'raw.dat');
  const fd = openSync(rawPath, 'w');
  for (let i = 0; i < count; i++) writeSync(fd, base);
  closeSync(fd);

  for (let round = 0; round < Number(values.rounds); round++) {
    const cacheBytes = values['cache-bytes'] === undefined ? {} : { cacheBytes: Number(values['cache-bytes']) };
    s = await store.openDiskStore(await disk.FileDisk.open(path), { prepareAheadExtents, ...cacheBytes });
    // Warm: the page cache and the store's buffer cache (get() keeps every
    // chunk it reads; getOwned keeps a large one only from its second read).
    if (!cold) for (const k of keys) await s.get(k);
    // One fixed order per round, so both sides read in it.
    const order = new Rng(20261206 + round).permutation(count);
    if (cold) dropCache();
    const profiler = values.profile === undefined ? undefined : await startProfile();
    const ours = await timed(order, async (i) => {
      const v = await owned(s, keys[i] ?? Buffer.alloc(0));
      if (v.length !== size) throw new Error('short value');
    });
    if (profiler !== undefined) await profiler.stop(`${values.profile ?? 'get'}.${round}.cpuprofile`);
    await s.close();
    const h = await open(rawPath, 'r');
    if (!cold) for (let i = 0; i < count; i++) await readAll(h, Buffer.allocUnsafe(size), i * size);
    if (cold) dropCache();
    const rawRandom = await timed(order, (i) => readAll(h, Buffer.allocUnsafe(size), i * size));
    if (cold) dropCache();
    const sequential = Array.from({ length: count }, (_, i) => i);
    const rawSeq = await timed(sequential, (i) => readAll(h, Buffer.allocUnsafe(size), i * size));
    await h.close();
    const ratio = (x: number, y: number): string => (x / y).toFixed(2);
    process.stdout.write(
      `${cold ? 'cold' : 'warm'} ${count} gets of ${size} B at ${inFlight} in flight: ours ${ours.perSec.toFixed(0)}/s, raw random ${rawRandom.perSec.toFixed(0)}/s, raw sequential ${rawSeq.perSec.toFixed(0)}/s; ours/raw random ${ratio(ours.perSec, rawRandom.perSec)}, ours/raw sequential ${ratio(ours.perSec, rawSeq.perSec)}\n` +
        `  per op: ours ${costs(ours)}; raw random ${costs(rawRandom)}; raw sequential ${costs(rawSeq)}\n`,
    );
  }
} finally {
  gcObserver.disconnect();
  if (values.keep) process.stdout.write(`kept ${dir}\n`);
  else rmSync(dir, { recursive: true, force: true });
}

interface Cost {
  perSec: number;
  cpuUs: number;
  diskKiB: number;
  faults: number;
  gcUs: number;
}

async function timed(order: ArrayLike<number>, op: (i: number) => Promise<void>): Promise<Cost> {
  let next = 0;
  const faults0 = minorFaults();
  const read0 = processReadBytes();
  const cpu0 = mainThreadCpuMs();
  const t0 = performance.now();
  const client = async (): Promise<void> => {
    while (next < order.length) await op(order[next++] ?? 0);
  };
  await Promise.all(Array.from({ length: inFlight }, client));
  const seconds = (performance.now() - t0) / 1000;
  const cpuUs = ((mainThreadCpuMs() - cpu0) * 1000) / order.length;
  const faults = (minorFaults() - faults0) / order.length;
  const diskKiB = (processReadBytes() - read0) / 1024 / order.length;
  const t1 = performance.now();
  // GC entries are delivered after the fact: let them arrive, then take those inside [t0, t1].
  await new Promise((resolve) => setImmediate(resolve));
  let gcMs = 0;
  for (const e of gcEntries) if (e.startTime >= t0 && e.startTime < t1) gcMs += e.duration;
  gcEntries.length = 0;
  return { perSec: order.length / seconds, cpuUs, diskKiB, faults, gcUs: (gcMs * 1000) / order.length };
}

/**
 * The value in a buffer the caller owns, as the raw pread delivers it (the
 * bench's KvEngine.get contract): getOwned where the store has it, else
 * get() and a copy (get may hand out the buffer cache's own bytes).
 */
async function owned(s: Store, key: Buffer): Promise<Buffer> {
  return s.getOwned === undefined ? Buffer.from(await s.get(key)) : s.getOwned(key);
}

/**
 * What one op cost: main-thread CPU, the garbage collector's pauses (wall
 * time: on a loaded machine more than their CPU), bytes the block layer
 * read, minor page faults (fresh memory touched).
 */
function costs(t: Cost): string {
  return `${t.cpuUs.toFixed(0)} us CPU, GC pauses ${t.gcUs.toFixed(0)} us, ${t.diskKiB.toFixed(0)} KiB read from the disk, ${t.faults.toFixed(0)} page faults`;
}

/** The V8 profiler around our gets only (`--profile PREFIX`: PREFIX.<round>.cpuprofile, for bench/profile_summary.ts). */
async function startProfile(): Promise<{ stop(path: string): Promise<void> }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    async stop(path: string): Promise<void> {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(path, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

function dropCache(): void {
  if (!dropPageCache()) throw new Error('--cold needs root (cannot write /proc/sys/vm/drop_caches)');
}
