// Messages between the `shardstore check` coordinator and its worker
// threads. One job in flight per worker:
//
//   coordinator                     worker
//     new Worker(workerData) ---->    load suites, install mutant
//                           <----   { type: 'ready' }
//     { type: 'run', job }  ---->    suite.runSeed(seed)
//                           <----   { type: 'result', jobId, result }
//     ... until the coordinator has no job left; then terminate().
import type { SeedResult } from './suite.js';

export interface WorkerData {
  readonly suites: readonly string[];
  readonly mutant?: string;
}

export interface Job {
  /** Dispatch order, from 0. */
  readonly id: number;
  readonly suite: string;
  readonly seed: number;
}

export interface RunMessage {
  readonly type: 'run';
  readonly job: Job;
}

export type WorkerMessage = { readonly type: 'ready' } | { readonly type: 'result'; readonly jobId: number; readonly result: SeedResult };

/** Structural check of what a worker posted (the structured clone keeps plain objects only). */
export function isWorkerMessage(value: unknown): value is WorkerMessage {
  if (typeof value !== 'object' || value === null || !('type' in value)) return false;
  if (value.type === 'ready') return true;
  return value.type === 'result' && 'jobId' in value && typeof value.jobId === 'number' && 'result' in value && isSeedResult(value.result);
}

function isSeedResult(value: unknown): value is SeedResult {
  if (typeof value !== 'object' || value === null || !('counters' in value)) return false;
  const counters: unknown = value.counters;
  return typeof counters === 'object' && counters !== null && 'sequences' in counters && typeof counters.sequences === 'number';
}

export function isRunMessage(value: unknown): value is RunMessage {
  if (typeof value !== 'object' || value === null || !('type' in value) || value.type !== 'run' || !('job' in value)) return false;
  const job: unknown = value.job;
  return typeof job === 'object' && job !== null && 'suite' in job && typeof job.suite === 'string' && 'seed' in job && typeof job.seed === 'number';
}

export function isWorkerData(value: unknown): value is WorkerData {
  if (typeof value !== 'object' || value === null || !('suites' in value) || !Array.isArray(value.suites)) return false;
  return !('mutant' in value) || value.mutant === undefined || typeof value.mutant === 'string';
}
