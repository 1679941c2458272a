// Building rows from measurements, and reporting them from a child.
import { send } from './child.js';
import type { LoopResult } from './loop.js';
import { load1 } from './os.js';
import type { Row } from './protocol.js';
import { sizeLabel } from './task.js';

export interface CellId {
  readonly section: string;
  readonly workload?: string;
  readonly system: string;
  readonly kind: Row['kind'];
  readonly sizeBytes?: number;
  readonly inFlight?: number;
  readonly client?: string;
}

export function loopRow(id: CellId, r: LoopResult, more: { extra?: Record<string, number | string>; note?: string } = {}): Row {
  return {
    ...id,
    workload: id.workload ?? id.section,
    ops: r.ops,
    seconds: round(r.seconds, 3),
    opsPerSec: round(r.opsPerSec, 1),
    mbPerSec: round(r.mbPerSec, 2),
    p50Ms: round(r.p50Ms, 3),
    p99Ms: round(r.p99Ms, 3),
    loadAvg1: round(load1(), 2),
    ...(more.extra === undefined ? {} : { extra: more.extra }),
    ...(more.note === undefined ? {} : { note: more.note }),
  };
}

/** Send the row to the parent (which prints it as it arrives). */
export function report(row: Row): Promise<void> {
  return send({ kind: 'row', row });
}

export function describeRow(row: Row): string {
  const size = row.sizeBytes === undefined ? '' : ` ${sizeLabel(row.sizeBytes)}`;
  const inFlight = row.inFlight === undefined ? '' : ` x${row.inFlight}`;
  const client = row.client === undefined ? '' : ` via ${row.client}`;
  const mb = row.mbPerSec === undefined || row.mbPerSec === 0 ? '' : `, ${row.mbPerSec} MB/s`;
  const rate = row.opsPerSec === undefined ? '' : `: ${formatRate(row.opsPerSec)} ops/s${mb}`;
  return `${row.workload}${size}${inFlight} ${row.system}${client}${rate}`;
}

export function formatRate(x: number): string {
  if (x >= 100_000) return `${(x / 1000).toFixed(0)}k`;
  if (x >= 10_000) return `${(x / 1000).toFixed(1)}k`;
  if (x >= 100) return x.toFixed(0);
  return x.toFixed(1);
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
