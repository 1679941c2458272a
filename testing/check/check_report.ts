// What `shardstore check` prints: the progress line while it runs (stderr),
// and the summary at the end (stdout), as a table or as JSON (--json). The
// JSON is CheckSummary as is; its field names are the contract for scripts.
import { formatDurationMs } from '../../src/cli/index.js';
import type { Budget } from './check_options.js';
import { ratesOf } from './check_stats.js';
import type { Rates, Tally } from './check_stats.js';
import type { FailureKind } from './failure_kind.js';

export type StopReason = 'count' | 'time' | 'failure' | 'signal';

export interface FailureRecord {
  readonly suite: string;
  readonly seed: number;
  readonly token: string;
  readonly message: string;
  readonly minimized: string;
  /** finding, hang, or harness-error (testing/check/failure_kind.ts). */
  readonly kind?: FailureKind;
  /** The replay file; absent if it could not be written (see fileError). */
  readonly file?: string;
  readonly fileError?: string;
}

export type SuiteReport = Tally & Rates;

export interface CheckSummary {
  readonly ok: boolean;
  readonly stoppedBy: StopReason;
  readonly elapsedMs: number;
  readonly baseSeed: number;
  readonly baseSeedSource: string;
  readonly shard: { readonly index: number; readonly count: number; readonly source: string };
  readonly workers: number;
  readonly budget: Budget;
  readonly mutant: string | null;
  readonly suites: Readonly<Record<string, SuiteReport>>;
  readonly total: SuiteReport;
  readonly failures: readonly FailureRecord[];
}

export function report(tally: Tally, elapsedMs: number, workers: number): SuiteReport {
  return { ...tally, busyMs: Math.round(tally.busyMs), ...ratesOf(tally, elapsedMs, workers) };
}

export function progressLine(total: Tally, elapsedMs: number, workers: number): string {
  const rates = ratesOf(total, elapsedMs, workers);
  return [
    `[${seconds(elapsedMs)}]`,
    `seeds ${total.seeds}`,
    `sequences ${total.sequences}`,
    `ops ${total.operations}`,
    `crash states ${total.crashStates}`,
    `faults ${total.faultsInjected}`,
    `failures ${total.failures}`,
    `${rates.sequencesPerSec} seq/s`,
  ].join('  ');
}

export function budgetText(budget: Budget): string {
  return budget.kind === 'time' ? formatDurationMs(budget.ms) : `${budget.seeds} seed(s) per suite`;
}

const COLUMNS: readonly (readonly [string, (r: SuiteReport) => string])[] = [
  ['seeds', (r) => String(r.seeds)],
  ['sequences', (r) => String(r.sequences)],
  ['operations', (r) => String(r.operations)],
  ['crash states', (r) => String(r.crashStates)],
  ['faults', (r) => String(r.faultsInjected)],
  ['failures', (r) => String(r.failures)],
  ['seq/s', (r) => r.sequencesPerSec.toFixed(1)],
  ['ops/s', (r) => r.operationsPerSec.toFixed(1)],
  ['seq/s/core', (r) => r.sequencesPerSecPerCore.toFixed(1)],
  ['ops/s/core', (r) => r.operationsPerSecPerCore.toFixed(1)],
];

export function formatSummary(s: CheckSummary): string {
  const rows: [string, SuiteReport][] = [...Object.entries(s.suites), ['total', s.total]];
  const nameWidth = Math.max(5, ...rows.map(([name]) => name.length)) + 2;
  const cell = (text: string, header: string): string => text.padStart(Math.max(header.length, 8) + 2);
  const header = 'suite'.padEnd(nameWidth) + COLUMNS.map(([h]) => cell(h, h)).join('');
  const lines = rows.map(([name, r]) => name.padEnd(nameWidth) + COLUMNS.map(([h, get]) => cell(get(r), h)).join(''));
  return [
    `shardstore check: ${s.ok ? 'no failure' : `${s.failures.length} failure(s)`} in ${seconds(s.elapsedMs)} (stopped by ${s.stoppedBy}), ` +
      `${s.workers} worker(s), base seed ${s.baseSeed} (${s.baseSeedSource}), shard ${s.shard.index}/${s.shard.count}` +
      (s.mutant === null ? '' : `, mutant ${s.mutant}`),
    '',
    header,
    ...lines,
    ...failureLines(s.failures),
  ].join('\n');
}

function failureLines(failures: readonly FailureRecord[]): string[] {
  if (failures.length === 0) return [];
  const out = ['', 'Failures (rerun with `shardstore check --replay <token or file>`):'];
  for (const f of failures) {
    out.push(`  ${f.token}${f.kind === undefined || f.kind === 'finding' ? '' : ` [${f.kind}]`}`);
    out.push(f.file === undefined ? `    replay file not written: ${f.fileError ?? 'unknown error'}` : `    file: ${f.file}`);
    out.push(`    ${firstLine(f.message)}`);
  }
  return out;
}

function firstLine(text: string): string {
  const [first = '', ...rest] = text.split('\n');
  return rest.length === 0 ? first : `${first} (+${rest.length} lines)`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}
