// What reclamation costs foreground puts: durable put throughput on a real
// FileDisk (fdatasync per group commit) in a temp dir, in two phases with the
// same workload (CONCURRENCY puts in flight, each VALUE_BYTES to a random key
// of a pool, each awaited until persistent):
//   fresh - a freshly formatted disk far larger than what the phase writes,
//           so free extents never run low and reclamation never runs;
//   churn - a small disk holding the pool at about half its capacity,
//           prefilled, then overwritten until reclamation is running; only
//           then is the window measured, so background reclamation runs
//           throughout it.
// Reported per phase: puts/s, MB/s of values, put latency p50/p99, extents
// reclaimed, bytes moved by reclamation, fdatasyncs, and write
// amplification = bytes the IO scheduler wrote (data, metadata log, index,
// relocations) / value bytes put, both counted over the measured window.
//
// Usage: node --import tsx bench/reclaim_impact.ts [--seconds 10]
//          [--concurrency 16] [--value-kib 64] [--dir <parent of temp dir>]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { NoSpaceError } from '../src/base/index.js';
import { FileDisk } from '../src/disk/index.js';
import { formatDiskStore } from '../src/store/index.js';
import type { DiskStore } from '../src/store/index.js';
import { Rng } from '../testing/rng.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const EXTENT_BYTES = 8 * MiB;
const CHURN_DISK_BYTES = 512 * MiB;
const FRESH_DISK_BYTES = 16 * GiB;
/** The key pool fills about half of the churn disk. */
const POOL_FILL_RATIO = 0.5;
/** Churn: give up if reclamation has not started after this long. */
const WARMUP_LIMIT_MS = 60_000;
const SEED = 1234;

interface Config {
  readonly seconds: number;
  readonly concurrency: number;
  readonly valueBytes: number;
  readonly dir: string;
}

interface PhaseResult {
  readonly phase: string;
  readonly seconds: number;
  readonly puts: number;
  readonly putsPerSec: number;
  readonly mbPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly refusedNoSpace: number;
  readonly reclaimedExtents: number;
  readonly movedBytes: number;
  readonly fdatasyncs: number;
  readonly bytesWritten: number;
  readonly writeAmplification: number;
}

function parseConfig(): Config {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '10' },
      concurrency: { type: 'string', default: '16' },
      'value-kib': { type: 'string', default: '64' },
      dir: { type: 'string', default: tmpdir() },
    },
  });
  const positive = (text: string, what: string): number => {
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0) throw new RangeError(`--${what} must be a positive number, got ${text}`);
    return n;
  };
  return {
    seconds: positive(values.seconds, 'seconds'),
    concurrency: Math.floor(positive(values.concurrency, 'concurrency')),
    valueBytes: Math.floor(positive(values['value-kib'], 'value-kib') * 1024),
    dir: values.dir,
  };
}

/** Counters of the store that a phase reports as deltas. */
function counters(store: DiskStore): { bytesWritten: number; flushes: number; reclaimed: number; moved: number } {
  const s = store.stats();
  return { bytesWritten: store.parts.io.stats.bytesWritten, flushes: store.parts.io.stats.flushes, reclaimed: s.reclaimedExtents, moved: s.movedBytes };
}

class Workload {
  private seq = 0;
  readonly latenciesMs: number[] = [];
  puts = 0;
  refused = 0;

  constructor(
    private readonly store: DiskStore,
    private readonly config: Config,
    private readonly poolKeys: number,
    private readonly pattern: Buffer,
  ) {}

  /** A distinct value per put: the pattern with the put's sequence number in front. */
  private value(): Buffer {
    const v = Buffer.allocUnsafe(this.config.valueBytes);
    this.pattern.copy(v);
    v.writeUInt32LE(this.seq++ >>> 0, 0);
    return v;
  }

  /** One durable put; a NoSpaceError (reclamation behind) is counted and retried. */
  async put(key: Buffer): Promise<void> {
    const value = this.value();
    for (;;) {
      const started = performance.now();
      try {
        await (await this.store.put(key, value)).persisted();
        this.latenciesMs.push(performance.now() - started);
        this.puts++;
        return;
      } catch (err: unknown) {
        if (!(err instanceof NoSpaceError)) throw err;
        this.refused++;
        await sleep(5);
      }
    }
  }

  /** CONCURRENCY workers putting random keys of the pool until `until()` says stop. */
  async run(rng: Rng, until: () => boolean): Promise<void> {
    const worker = async (r: Rng): Promise<void> => {
      while (!until()) await this.put(keyOf(r.int(0, this.poolKeys - 1)));
    };
    await Promise.all(Array.from({ length: this.config.concurrency }, (_, i) => worker(rng.fork(`worker-${i}`))));
  }

  /** Every key of the pool once, CONCURRENCY at a time. */
  async prefill(): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < this.poolKeys) await this.put(keyOf(next++));
    };
    await Promise.all(Array.from({ length: this.config.concurrency }, worker));
  }

  reset(): void {
    this.latenciesMs.length = 0;
    this.puts = 0;
    this.refused = 0;
  }
}

function keyOf(i: number): Buffer {
  return Buffer.from(`bench/key-${String(i).padStart(6, '0')}`);
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function measure(phase: string, store: DiskStore, work: Workload, config: Config, rng: Rng): Promise<PhaseResult> {
  work.reset();
  const before = counters(store);
  const started = performance.now();
  const endMs = started + config.seconds * 1000;
  await work.run(rng, () => performance.now() >= endMs);
  const seconds = (performance.now() - started) / 1000;
  const after = counters(store);
  const sorted = [...work.latenciesMs].sort((a, b) => a - b);
  const putBytes = work.puts * config.valueBytes;
  const bytesWritten = after.bytesWritten - before.bytesWritten;
  return {
    phase,
    seconds,
    puts: work.puts,
    putsPerSec: work.puts / seconds,
    mbPerSec: putBytes / seconds / 1e6,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    refusedNoSpace: work.refused,
    reclaimedExtents: after.reclaimed - before.reclaimed,
    movedBytes: after.moved - before.moved,
    fdatasyncs: after.flushes - before.flushes,
    bytesWritten,
    writeAmplification: putBytes === 0 ? 0 : bytesWritten / putBytes,
  };
}

async function openStore(dir: string, name: string, diskSizeBytes: number): Promise<DiskStore> {
  const disk = await FileDisk.open(join(dir, name), { createSizeBytes: diskSizeBytes });
  return formatDiskStore(disk, {
    extentSizeBytes: EXTENT_BYTES,
    onBackgroundError: (err: unknown) => console.error('background work failed:', err),
  });
}

async function freshPhase(config: Config, dir: string, poolKeys: number, pattern: Buffer): Promise<PhaseResult> {
  const store = await openStore(dir, 'fresh.dat', FRESH_DISK_BYTES);
  try {
    const work = new Workload(store, config, poolKeys, pattern);
    return await measure('fresh', store, work, config, new Rng(SEED).fork('fresh'));
  } finally {
    await store.close();
  }
}

async function churnPhase(config: Config, dir: string, poolKeys: number, pattern: Buffer): Promise<{ result: PhaseResult; warmupMs: number }> {
  const store = await openStore(dir, 'churn.dat', CHURN_DISK_BYTES);
  try {
    const work = new Workload(store, config, poolKeys, pattern);
    await work.prefill();
    const rng = new Rng(SEED).fork('churn');
    const warmStart = performance.now();
    await work.run(rng, () => store.stats().reclaimedExtents > 0 || performance.now() - warmStart > WARMUP_LIMIT_MS);
    const warmupMs = performance.now() - warmStart;
    if (store.stats().reclaimedExtents === 0) throw new Error(`reclamation did not start within ${WARMUP_LIMIT_MS} ms of churn`);
    return { result: await measure('churn', store, work, config, rng), warmupMs };
  } finally {
    await store.close();
  }
}

function row(r: PhaseResult): string {
  const cells = [
    r.phase.padEnd(6),
    r.puts.toString().padStart(7),
    r.putsPerSec.toFixed(0).padStart(7),
    r.mbPerSec.toFixed(1).padStart(7),
    r.p50Ms.toFixed(1).padStart(7),
    r.p99Ms.toFixed(1).padStart(7),
    r.reclaimedExtents.toString().padStart(9),
    (r.movedBytes / MiB).toFixed(1).padStart(9),
    r.fdatasyncs.toString().padStart(6),
    r.writeAmplification.toFixed(3).padStart(7),
    r.refusedNoSpace.toString().padStart(7),
  ];
  return cells.join(' ');
}

async function main(): Promise<void> {
  const config = parseConfig();
  const poolKeys = Math.floor((CHURN_DISK_BYTES * POOL_FILL_RATIO) / config.valueBytes);
  const pattern = new Rng(SEED).bytes(config.valueBytes);
  const dir = await mkdtemp(join(config.dir, 'shardstore-reclaim-bench-'));
  console.log(
    `reclaim_impact: ${config.concurrency} concurrent durable puts of ${config.valueBytes / 1024} KiB, ${config.seconds} s per phase, ` +
      `${poolKeys} keys, extents ${EXTENT_BYTES / MiB} MiB; fresh disk ${FRESH_DISK_BYTES / GiB} GiB, churn disk ${CHURN_DISK_BYTES / MiB} MiB; ${dir}; node ${process.version}`,
  );
  try {
    const fresh = await freshPhase(config, dir, poolKeys, pattern);
    const { result: churn, warmupMs } = await churnPhase(config, dir, poolKeys, pattern);
    console.log(`churn warm-up until reclamation ran: ${(warmupMs / 1000).toFixed(1)} s (after prefilling ${poolKeys} keys)`);
    console.log('phase     puts   put/s    MB/s  p50 ms  p99 ms reclaimed moved MiB fsyncs  w-amp refused');
    for (const r of [fresh, churn]) console.log(row(r));
    console.log(`churn/fresh throughput: ${(churn.putsPerSec / fresh.putsPerSec).toFixed(2)}`);
    console.log(JSON.stringify({ config, poolKeys, fresh, churn }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
