// Scrub passes over a node: every disk in service at once (each its own
// failure domain, each rate limited on its own), one report for the node;
// and the Scrubber, which runs one pass at a time in the background and
// keeps the status, the last report and cumulative counters (metrics).
import { ShardStoreError, systemClock } from '../base/index.js';
import type { Clock } from '../base/index.js';
import type { DamagedIndexChunk, DamagedShard, ScrubCounters, ScrubOptions, ScrubProgress, ScrubReport, ScrubStatus } from './admin_types.js';
import type { DiskStore } from '../store/index.js';
import { RateLimiter, ScrubStoppedError, emptyScrubCounters, scrubBytesEstimate, scrubDiskStore } from '../store/index.js';

export interface ScrubTarget {
  readonly disk: number;
  readonly store: DiskStore;
}

const DEFAULT_PROGRESS_EVERY_MS = 500;

export function addScrubCounters(into: ScrubCounters, from: ScrubCounters): void {
  into.shardsVerified += from.shardsVerified;
  into.chunksVerified += from.chunksVerified;
  into.bytesVerified += from.bytesVerified;
  into.indexChunksVerified += from.indexChunksVerified;
  into.damagedShards += from.damagedShards;
  into.damagedIndexChunks += from.damagedIndexChunks;
}

/** One pass over `targets`; disks in `skipped` are out of service. */
export async function scrubNode(targets: readonly ScrubTarget[], skipped: readonly number[], options: ScrubOptions, clock: Clock = systemClock): Promise<ScrubReport> {
  const startedAtMs = clock.nowMs();
  const counters = emptyScrubCounters();
  const damaged: DamagedShard[] = [];
  const indexDamage: DamagedIndexChunk[] = [];
  const bytesTotal = targets.reduce((n, t) => n + scrubBytesEstimate(t.store), 0);
  const progress = progressReporter(options, counters, bytesTotal, startedAtMs, clock);
  const errors = await Promise.all(
    targets.map(async (t) => {
      const ctx = { disk: t.disk, limiter: new RateLimiter(options.rateBytesPerSec ?? 0, clock), counters, damaged, indexDamage, onProgress: progress, ...(options.signal === undefined ? {} : { signal: options.signal }) };
      try {
        await scrubDiskStore(t.store, ctx);
        return undefined;
      } catch (err: unknown) {
        // Whatever failed under a store that closed (its disk left service) is that, not damage.
        if (!t.store.isOpen) return { disk: t.disk, code: 'Stopped', message: `disk ${t.disk} closed during the scrub (${describeStop(err).message})` };
        return { disk: t.disk, ...describeStop(err) };
      }
    }),
  );
  const stopped = errors.flatMap((e) => (e === undefined ? [] : [e]));
  const order = (a: DamagedShard, b: DamagedShard): number => a.disk - b.disk || Buffer.compare(a.key, b.key);
  return {
    complete: stopped.length === 0 && skipped.length === 0,
    counters,
    damaged: damaged.sort(order),
    indexDamage,
    skippedDisks: [...skipped],
    errors: stopped,
    startedAtMs,
    elapsedMs: clock.nowMs() - startedAtMs,
  };
}

function describeStop(err: unknown): { code: string; message: string } {
  if (err instanceof ScrubStoppedError) return { code: 'Stopped', message: err.message };
  if (err instanceof ShardStoreError) return { code: err.code, message: err.message };
  return { code: 'Internal', message: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
}

function progressReporter(options: ScrubOptions, counters: ScrubCounters, bytesTotal: number, startedAtMs: number, clock: Clock): () => void {
  const every = options.progressEveryMs ?? DEFAULT_PROGRESS_EVERY_MS;
  let lastMs = -Infinity;
  return () => {
    const now = clock.nowMs();
    if (options.onProgress === undefined || now - lastMs < every) return;
    lastMs = now;
    options.onProgress({ ...counters, bytesTotal, elapsedMs: now - startedAtMs });
  };
}

/** Background passes, one at a time, with status, last report and cumulative counters. */
export class Scrubber {
  private running: Promise<ScrubReport> | undefined;
  private controller: AbortController | undefined;
  private progress: ScrubProgress | undefined;
  private last: ScrubReport | undefined;
  private rateBytesPerSec = 0;
  private passes = 0;
  private failure: string | undefined;
  /** Over every finished pass since the node opened (the metrics counters). */
  readonly totals: ScrubCounters = emptyScrubCounters();

  constructor(private readonly pass: (options: ScrubOptions) => Promise<ScrubReport>) {}

  /** Run one pass now (waits for a background pass to end first). */
  async runNow(options: ScrubOptions): Promise<ScrubReport> {
    await this.running?.catch((err: unknown) => err);
    return this.track(options);
  }

  /** Start a background pass unless one is running. */
  start(options: ScrubOptions): ScrubStatus {
    if (this.running === undefined) {
      this.running = this.track(options).finally(() => {
        this.running = undefined;
      });
      // Disk errors are in the report; a rejection here is unexpected, and shown in the status.
      this.running.catch((err: unknown) => {
        this.failure = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      });
    }
    return this.status();
  }

  status(): ScrubStatus {
    return {
      state: this.running !== undefined ? 'running' : this.last === undefined ? 'idle' : 'done',
      passes: this.passes,
      rateBytesPerSec: this.rateBytesPerSec,
      ...(this.progress === undefined ? {} : { progress: this.progress }),
      ...(this.last === undefined ? {} : { last: this.last }),
      ...(this.failure === undefined ? {} : { error: this.failure }),
    };
  }

  /** The status once no background pass runs (its failure, if any, is in the status). */
  async settled(): Promise<ScrubStatus> {
    while (this.running !== undefined) await this.running.catch((err: unknown) => err);
    return this.status();
  }

  /** Stop a background pass and wait for it. */
  async stop(): Promise<void> {
    this.controller?.abort();
    await this.running?.catch((err: unknown) => err);
  }

  private async track(options: ScrubOptions): Promise<ScrubReport> {
    this.controller = new AbortController();
    this.rateBytesPerSec = options.rateBytesPerSec ?? 0;
    const signal = options.signal === undefined ? this.controller.signal : AbortSignal.any([options.signal, this.controller.signal]);
    const onProgress = (p: ScrubProgress): void => {
      this.progress = p;
      options.onProgress?.(p);
    };
    const report = await this.pass({ ...options, signal, onProgress, progressEveryMs: options.progressEveryMs ?? 0 });
    this.progress = { ...report.counters, bytesTotal: this.progress?.bytesTotal ?? report.counters.bytesVerified, elapsedMs: report.elapsedMs };
    this.last = report;
    this.passes++;
    addScrubCounters(this.totals, report.counters);
    return report;
  }
}
