// Concurrency checking (issue 4): the deterministic scheduler that owns
// every source of nondeterminism in a simulation, and the linearizability
// checker for the histories its clients record. Engine-independent: the
// harnesses that drive a real store through them build on these.
export { HistoryRecorder, formatKey, formatOperation, outputOfError, valueDigest } from './history.js';
export type { KvInput, KvOperation, KvOutput } from './history.js';
export { checkLinearizable } from './linearizability.js';
export type { CheckOptions, CheckResult, CheckStats, Violation } from './linearizability.js';
export { SimScheduler } from './scheduler.js';
export type { RunOutcome, RunReport, SchedulerOptions, TaskContext } from './scheduler.js';
export { formatSchedule, parseSchedule } from './schedule_policy.js';
export type { ScheduleSpec } from './schedule_policy.js';
