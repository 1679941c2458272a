// One `shardstore check` run: hand out (suite, seed) jobs to the worker pool
// until the budget is spent, tally what comes back, save every failure as a
// replay file, report progress, and sum it all up.
//
// Dispatch order: job t runs suite suites[t mod S] on local seed index
// j = floor(t / S) (seed_space.ts maps j to a seed), so every suite sees the
// same seeds and `--count c` runs exactly local seeds 0..c-1 of each suite.
// The run stops handing out jobs when the count is reached, the time is up,
// a failure was found under --stop-on-failure, or `stop` resolves (a signal);
// jobs in flight then finish (each within the seed timeout).
import type { CheckOptions } from './check_options.js';
import { emptyTally, sumTallies, tallySeed } from './check_stats.js';
import type { Tally } from './check_stats.js';
import { progressLine, report } from './check_report.js';
import type { CheckSummary, FailureRecord, StopReason } from './check_report.js';
import { writeReplayFile } from './replay_file.js';
import { seedAt } from './seed_space.js';
import type { SeedResult, SuiteFailure } from './suite.js';
import { runPool } from './worker_pool.js';
import type { Job } from './worker_protocol.js';

export interface ProgressSink {
  readonly intervalMs: number;
  update(line: string): void;
  /** The run is over: end an updating line. */
  done(): void;
}

export interface RunIo {
  readonly progress: ProgressSink;
  /** Resolves (with a reason) when the run should stop early, e.g. on SIGINT. */
  readonly stop?: Promise<string>;
}

class RunState {
  readonly tallies = new Map<string, Tally>();
  readonly failures: FailureRecord[] = [];
  stoppedBy: StopReason | undefined;
  private dispatched = 0;
  private readonly startedMs = performance.now();

  constructor(private readonly options: CheckOptions) {
    for (const suite of options.suites) this.tallies.set(suite, emptyTally());
  }

  elapsedMs(): number {
    return performance.now() - this.startedMs;
  }

  stop(reason: StopReason): void {
    this.stoppedBy ??= reason;
  }

  next(): Job | undefined {
    const { budget, suites, baseSeed, shard } = this.options;
    if (budget.kind === 'count' && this.dispatched >= budget.seeds * suites.length) this.stop('count');
    if (budget.kind === 'time' && this.elapsedMs() >= budget.ms) this.stop('time');
    if (this.stoppedBy !== undefined) return undefined;
    const id = this.dispatched++;
    const suite = suites[id % suites.length] ?? '';
    return { id, suite, seed: seedAt(baseSeed, shard, Math.floor(id / suites.length)) };
  }

  record(job: Job, result: SeedResult, ms: number): void {
    const tally = this.tallies.get(job.suite);
    if (tally === undefined) throw new Error(`result for unselected suite ${job.suite}`);
    tallySeed(tally, result.counters, result.failure !== undefined, ms);
    if (result.failure === undefined) return;
    this.failures.push(saveFailure(job, result.failure, this.options));
    if (this.options.stopOnFailure) this.stop('failure');
  }

  total(): Tally {
    return sumTallies(this.tallies.values());
  }
}

function saveFailure(job: Job, failure: SuiteFailure, options: CheckOptions): FailureRecord {
  const record = { suite: job.suite, seed: job.seed, ...failure };
  try {
    return { ...record, file: writeReplayFile(options.outDir, failure, options.mutant) };
  } catch (err: unknown) {
    return { ...record, fileError: err instanceof Error ? err.message : String(err) };
  }
}

/** Runs the check `options` describe; resolves with its summary (failures are in it, not thrown). */
export async function runCheck(options: CheckOptions, io: RunIo): Promise<CheckSummary> {
  const state = new RunState(options);
  io.stop?.then(
    () => state.stop('signal'),
    () => undefined,
  );
  const timer = setInterval(() => io.progress.update(progressLine(state.total(), state.elapsedMs(), options.workers)), io.progress.intervalMs);
  try {
    await runPool({
      workers: options.workers,
      data: { suites: options.suites, ...(options.mutant === undefined ? {} : { mutant: options.mutant }) },
      seedTimeoutMs: options.seedTimeoutMs,
      next: () => state.next(),
      onResult: (job, result, ms) => state.record(job, result, ms),
    });
  } finally {
    clearInterval(timer);
    io.progress.done();
  }
  return summarize(state, options);
}

function summarize(state: RunState, options: CheckOptions): CheckSummary {
  const elapsedMs = Math.round(state.elapsedMs());
  const suites = Object.fromEntries([...state.tallies].map(([name, t]) => [name, report(t, elapsedMs, options.workers)]));
  return {
    ok: state.failures.length === 0,
    stoppedBy: state.stoppedBy ?? 'count',
    elapsedMs,
    baseSeed: options.baseSeed,
    baseSeedSource: options.baseSeedSource,
    shard: options.shard,
    workers: options.workers,
    budget: options.budget,
    mutant: options.mutant ?? null,
    suites,
    total: report(state.total(), elapsedMs, options.workers),
    failures: state.failures,
  };
}
