// What `shardstore bench` prints: a line per cell while it runs, then one
// table, or (--json) one JSON document with the client machine, the server's
// version when the node tells it, every cell and the cleanup.
import { cpus, platform, release, totalmem } from 'node:os';
import type { CellResult, CleanupResult } from './bench_run.js';
import type { BenchConfig } from './bench_options.js';
import { formatDurationMs, formatSizeBytes } from './units.js';

export interface ClientMachine {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly os: string;
}

export function describeClient(): ClientMachine {
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    os: `${platform()} ${release()}`,
  };
}

export interface BenchReport {
  readonly endpoint: string;
  readonly runId: string;
  readonly keyPrefix: string;
  readonly startedAt: string;
  readonly client: ClientMachine;
  readonly clientVersion: string;
  /** null: the node does not tell its version (GET /healthz has none today). */
  readonly server: { readonly version: string | null };
  readonly config: Omit<BenchConfig, 'credentials' | 'endpoint' | 'json'>;
  readonly cells: readonly CellResult[];
  /** Undefined with --keep. */
  readonly cleanup: (CleanupResult & { readonly notes: readonly string[] }) | undefined;
  readonly error?: string;
}

export function cellLine(c: CellResult, index: number, total: number): string {
  const errors = c.errors === 0 ? '0 errors' : `${c.errors} errors (first: ${c.firstError ?? '?'})`;
  return (
    `[${String(index).padStart(String(total).length)}/${total}] ${c.api} ${c.op} ${formatSizeBytes(c.sizeBytes)} x${c.inFlight}: ` +
    `${rate(c.requestsPerSec)} req/s, ${c.mbPerSec.toFixed(1)} MB/s, p50 ${ms(c.p50Ms)} ms, p99 ${ms(c.p99Ms)} ms, ${errors}`
  );
}

export function reportText(r: BenchReport): string[] {
  const head = ['api', 'op', 'size', 'in flight', 'req/s', 'MB/s', 'p50 ms', 'p99 ms', 'errors'];
  const rows = r.cells.map((c) => [c.api, c.op, formatSizeBytes(c.sizeBytes), String(c.inFlight), rate(c.requestsPerSec), c.mbPerSec.toFixed(1), ms(c.p50Ms), ms(c.p99Ms), String(c.errors)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  // Text columns left, numbers right.
  const line = (row: readonly string[]): string => row.map((cell, i) => (i < 3 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  const out = [line(head), ...rows.map(line)];
  out.push(
    '',
    `client: ${r.client.cpuModel}, ${r.client.cores} cores, ${r.client.memoryGiB} GiB, node ${r.client.node}, ${r.client.os}; shardstore ${r.clientVersion}`,
    `server: ${r.endpoint}, version ${r.server.version ?? 'not exposed'}; ${formatDurationMs(r.config.durationMs)} a cell; keys under ${r.keyPrefix}`,
  );
  if (r.cleanup === undefined) out.push(`kept: the objects under ${r.keyPrefix} (--keep)`);
  else {
    const failed = r.cleanup.failed === 0 ? '' : `; ${r.cleanup.failed} not deleted (first: ${r.cleanup.firstError ?? '?'})`;
    out.push(`cleanup: deleted the ${r.cleanup.deleted} keys this run wrote${failed}`, ...r.cleanup.notes.map((n) => `cleanup: ${n}`));
  }
  return out;
}

function rate(perSec: number): string {
  return perSec >= 100 ? perSec.toFixed(0) : perSec.toFixed(1);
}

function ms(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}
