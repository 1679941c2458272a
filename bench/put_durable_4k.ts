// A stand-alone timing of the engine's 4 KiB durable put row: one DiskStore
// on a sparse FileDisk, default options (64 MiB extents, background
// compaction), PUTS puts of 4 KiB with IN_FLIGHT in flight, each waiting for
// its Dependency to persist. Prints puts per second. Used to measure what a
// change costs, timed alternately against an older checkout:
//   node --import tsx bench/put_durable_4k.ts [puts] [memtableFlushMiB] [dir]
// (a memtable smaller than the default 8 MiB makes index flushes, and what
// they write, a larger share of the work: an upper bound on their cost).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileDisk } from '../src/disk/index.js';
import { formatDiskStore } from '../src/store/index.js';

const IN_FLIGHT = 64;
const VALUE_BYTES = 4096;
const MiB = 1024 * 1024;

async function main(): Promise<void> {
  const puts = Number(process.argv[2] ?? 100_000);
  const memtableFlushBytes = Number(process.argv[3] ?? 8) * MiB;
  const dir = await mkdtemp(join(process.argv[4] ?? tmpdir(), 'put4k-'));
  try {
    const disk = await FileDisk.open(join(dir, 'disk-0.dat'), { createSizeBytes: Math.ceil((puts * VALUE_BYTES * 1.25) / (64 * MiB) + 8) * 64 * MiB });
    const store = await formatDiskStore(disk, { extentSizeBytes: 64 * MiB, memtableFlushBytes });
    const value = Buffer.alloc(VALUE_BYTES, 7);
    let next = 0;
    const started = performance.now();
    const worker = async (): Promise<void> => {
      for (let i = next++; i < puts; i = next++) await (await store.put(Buffer.from(`key/${String(i).padStart(8, '0')}`), value)).persisted();
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    const seconds = (performance.now() - started) / 1000;
    const stats = store.parts.index.stats();
    console.log(`${puts} puts in ${seconds.toFixed(2)} s: ${Math.round(puts / seconds)} puts/s; runs ${stats.runs}, flushes ${stats.flushes}, compactions ${stats.compactions}`);
    await store.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

void main();
