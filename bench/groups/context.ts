// What every group of rows shares in the parent: the plan (sizes,
// durations), the scratch folder, and where rows, skips and progress go.
import type { Row } from '../lib/protocol.js';
import type { Durations, SizeSet } from '../lib/task.js';

export interface Plan {
  readonly quick: boolean;
  readonly sizes: readonly SizeSet[];
  readonly inFlights: readonly number[];
  readonly durations: Durations;
  readonly mixedKeys: number;
  readonly churn: { readonly sizeBytes: number; readonly liveKeys: number; readonly inFlight: number; readonly diskBytes: number; readonly extentBytes: number };
  /** The preallocated file of the raw rows (and of ours, preallocated). */
  readonly rawFileBytes: number;
  readonly openShards: readonly number[];
  readonly openLoadCapMs: number;
  readonly checkSeconds: number;
  readonly serverMs: number;
  /**
   * Unrecorded requests each server gets before its cells, per method, at
   * 16 in flight with the low-cost client: the cells then measure a warm
   * process (a fresh S3 front ran PUTs at a third of its later rate for
   * its first ~10,000 requests while V8 compiled it: docs/BENCHMARKS.md,
   * "S3 PUT of 4 KiB at 1 in flight").
   */
  readonly serverWarmupMs: number;
  readonly serverSizes: readonly number[];
  readonly seed: number;
}

export interface Skip {
  readonly what: string;
  readonly reason: string;
}

export interface Context {
  readonly plan: Plan;
  /** Scratch folder of this run (removed at the end). */
  readonly tmp: string;
  /** Extra node flags for the children that run our code (--cpu-prof). */
  readonly oursExecArgv: readonly string[];
  readonly rows: Row[];
  readonly skipped: Skip[];
  row(row: Row): void;
  skip(what: string, reason: string): void;
  progress(text: string): void;
}
