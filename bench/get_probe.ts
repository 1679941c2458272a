// A focused probe of the bench's 1 MiB get rows: load values of one size
// into a fresh store (sparse data file, serve's defaults), close it, then
// time gets in a random order at one in-flight count, warm (after one pass
// over the set) or cold (page cache dropped after the store opened: root),
// beside raw preads of the same sizes from a plain file in the same
// process, in the same random order and sequentially (the bench's raw row).
// It prints gets/s and the main thread's CPU per get, against the compiled
// engine of a checkout (`--root`, default this one: build it first).
//
//   node --import tsx bench/get_probe.ts --root /path/to/checkout --values 256 --size 1048576 --in-flight 1 --cold [--profile /tmp/get]
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { open } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Rng } from './lib/loop.js';
import { dropPageCache, mainThreadCpuMs, readAll } from './lib/os.js';

interface Dep {
  persisted(): Promise<void>;
}
interface Store {
  put(key: Buffer, value: Buffer): Promise<Dep>;
  get(key: Buffer): Promise<Buffer>;
  close(): Promise<void>;
  parts: { space: { settled(): Promise<void> } };
}
interface StoreModule {
  formatDiskStore(disk: unknown, options: Record<string, unknown>): Promise<Store>;
  openDiskStore(disk: unknown, options: Record<string, unknown>): Promise<Store>;
  DEFAULT_PREPARE_AHEAD_EXTENTS: number;
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
  },
});
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
    s = await store.openDiskStore(await disk.FileDisk.open(path), { prepareAheadExtents });
    if (!cold) for (const k of keys) await s.get(k);
    // One fixed order per round, so both sides read in it.
    const order = new Rng(20261206 + round).permutation(count);
    if (cold) dropCache();
    const profiler = values.profile === undefined ? undefined : await startProfile();
    const ours = await timed(order, async (i) => {
      const v = Buffer.from(await s.get(keys[i] ?? Buffer.alloc(0)));
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
    process.stdout.write(
      `${cold ? 'cold' : 'warm'} ${count} gets of ${size} B at ${inFlight} in flight: ours ${ours.perSec.toFixed(0)}/s (${ours.cpuUs.toFixed(0)} us CPU/get), raw random ${rawRandom.perSec.toFixed(0)}/s, raw sequential ${rawSeq.perSec.toFixed(0)}/s; ours/raw random ${(ours.perSec / rawRandom.perSec).toFixed(2)}, ours/raw sequential ${(ours.perSec / rawSeq.perSec).toFixed(2)}\n`,
    );
  }
} finally {
  if (values.keep) process.stdout.write(`kept ${dir}\n`);
  else rmSync(dir, { recursive: true, force: true });
}

async function timed(order: ArrayLike<number>, op: (i: number) => Promise<void>): Promise<{ perSec: number; cpuUs: number }> {
  let next = 0;
  const cpu0 = mainThreadCpuMs();
  const t0 = performance.now();
  const client = async (): Promise<void> => {
    while (next < order.length) await op(order[next++] ?? 0);
  };
  await Promise.all(Array.from({ length: inFlight }, client));
  const seconds = (performance.now() - t0) / 1000;
  return { perSec: order.length / seconds, cpuUs: ((mainThreadCpuMs() - cpu0) * 1000) / order.length };
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
