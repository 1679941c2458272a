// A focused probe of one bench row: durable puts of one size at one
// in-flight count on a fresh preallocated-or-sparse data file, against the
// compiled engine of a checkout (`--root`, default this one: build it
// first). It prints puts/s; run two checkouts back to back (alternating, to
// pair each run with its neighbour) for a before/after ratio, as
// docs/BENCHMARKS.md records for the redundant metadata.
//
// The bench runs every process with the node flags of `npm start`
// (bench/lib/dist.ts, START_NODE_FLAGS); give them here too to measure as
// it does (`node --initial-old-space-size=128 --import tsx bench/put_probe.ts ...`).
//
//   node --import tsx bench/put_probe.ts --root /path/to/checkout --puts 20000 --size 4096 --in-flight 64
//
// --cache-mib sets the buffer cache's size (cacheBytes; 0: none), to see
// what keeping each put's framed chunk in it costs the garbage collector.
// --dir puts the data file elsewhere than the temporary folder: on
// /dev/shm (tmpfs, fdatasync costs nothing) the puts are CPU-bound, so the
// CPU per put does not drift with the disk's latency (how many puts share a
// commit cycle) when comparing builds on a loaded machine.
//
// --early-writeback off turns off FileDisk's early writeback of large
// writes (file_disk.ts; a checkout older than it ignores the option).
//
// --preallocate writes the data file whole first (as `serve --preallocate
// on`); --prepare-ahead N|all passes prepareAheadExtents (extents zeroed ahead
// of the data allocator, host_space.ts; a checkout older than it ignores
// the option, one older than 'all' fails on it); --disk-size sets the data file's size in GiB (default 4).
// Timing starts once format returned and, with --settle, once the
// background preparation of format is over (what a store that has been up
// for a moment looks like); --drop-cache then drops the page cache (root:
// what the cached pages of the zero-fill cost the puts).
//
// It also prints writeAmpEngine (bytes the engine's IO scheduler wrote
// during the timed puts, zero-fill of prepared extents included, over the
// bytes put), the time format took, and writeAmpDevice, the bytes the block
// device under --dir wrote during the timed puts (/sys/dev/block, the
// whole machine's writes to it, background zero-fill and the file
// system's journal included) over the bytes put, as the bench's put rows
// do ("n/a" off a block device: /dev/shm), and the main
// thread's CPU time per put (user + system, from
// /proc/self/task/<pid>/stat: the JavaScript thread only, not the libuv
// pool that runs the writes and fdatasyncs; Linux, 10 ms resolution, so
// run enough puts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { deviceWrittenBytes, mainThreadCpuMs } from './lib/os.js';

interface Dep {
  persisted(): Promise<void>;
}
interface Store {
  put(key: Buffer, value: Buffer): Promise<Dep>;
  close(): Promise<void>;
  parts: { space: { settled(): Promise<void> }; io: { stats: { bytesWritten: number; writes: number; flushes: number } } };
}
interface StoreModule {
  formatDiskStore(disk: unknown, options: Record<string, unknown>): Promise<Store>;
}
interface DiskModule {
  FileDisk: { open(path: string, options: Record<string, unknown>): Promise<unknown> };
}

/** USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK). */

const { values } = parseArgs({
  options: {
    root: { type: 'string', default: '.' },
    puts: { type: 'string', default: '20000' },
    size: { type: 'string', default: '4096' },
    'in-flight': { type: 'string', default: '64' },
    preallocate: { type: 'boolean', default: false },
    'prepare-ahead': { type: 'string' },
    'disk-size': { type: 'string', default: '4' },
    settle: { type: 'boolean', default: false },
    'drop-cache': { type: 'boolean', default: false },
    dir: { type: 'string' },
    'cache-mib': { type: 'string' },
    'early-writeback': { type: 'string', default: 'on' },
  },
});
const root = resolve(values.root);
const puts = Number(values.puts);
const size = Number(values.size);
const inFlight = Number(values['in-flight']);

const store = (await import(pathToFileURL(join(root, 'dist/src/store/index.js')).href)) as StoreModule;
const disk = (await import(pathToFileURL(join(root, 'dist/src/disk/index.js')).href)) as DiskModule;
const dir = mkdtempSync(join(values.dir ?? tmpdir(), 'put-probe-'));
try {
  const file = await disk.FileDisk.open(join(dir, 'disk-0.dat'), { createSizeBytes: Number(values['disk-size']) * 1024 ** 3, preallocate: values.preallocate, earlyWriteback: values['early-writeback'] !== 'off' });
  const formatStarted = performance.now();
  const s = await store.formatDiskStore(file, {
    ...(values['prepare-ahead'] === undefined ? {} : { prepareAheadExtents: values['prepare-ahead'] === 'all' ? 'all' : Number(values['prepare-ahead']) }),
    ...(values['cache-mib'] === undefined ? {} : { cacheBytes: Number(values['cache-mib']) * 1024 * 1024 }),
  });
  const formatMs = performance.now() - formatStarted;
  const settleStarted = performance.now();
  if (values.settle) await s.parts.space.settled();
  const settleMs = performance.now() - settleStarted;
  if (values['drop-cache']) writeFileSync('/proc/sys/vm/drop_caches', '1');
  const value = Buffer.alloc(size, 7);
  let next = 0;
  const cpuBefore = mainThreadCpuMs();
  const writtenBefore = deviceWrittenBytes(dir);
  const engineBefore = s.parts.io.stats.bytesWritten;
  const ioBefore = { writes: s.parts.io.stats.writes, flushes: s.parts.io.stats.flushes };
  const started = performance.now();
  const client = async (): Promise<void> => {
    while (next < puts) {
      const i = next++;
      await (await s.put(Buffer.from(`probe/${i.toString().padStart(8, '0')}`), value)).persisted();
    }
  };
  await Promise.all(Array.from({ length: inFlight }, client));
  const seconds = (performance.now() - started) / 1000;
  const cpuMs = mainThreadCpuMs() - cpuBefore;
  const writtenAfter = deviceWrittenBytes(dir);
  const writeAmp = writtenBefore === undefined || writtenAfter === undefined ? 'n/a' : ((writtenAfter - writtenBefore) / (puts * size)).toFixed(2);
  const engineAmp = (s.parts.io.stats.bytesWritten - engineBefore) / (puts * size);
  process.stdout.write(
    `${puts} durable puts of ${size} B at ${inFlight} in flight: ${(puts / seconds).toFixed(0)}/s (${seconds.toFixed(2)} s); main thread CPU ${((cpuMs * 1000) / puts).toFixed(1)} us/put; writeAmpDevice ${writeAmp}; writeAmpEngine ${engineAmp.toFixed(2)}; format ${formatMs.toFixed(0)} ms; settle ${settleMs.toFixed(0)} ms; ${((s.parts.io.stats.writes - ioBefore.writes) / puts).toFixed(2)} writes and ${((s.parts.io.stats.flushes - ioBefore.flushes) / puts).toFixed(3)} flushes per put; ${(file as { earlyWritebacks?: number }).earlyWritebacks ?? 'no'} early writebacks\n`,
  );
  await s.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
