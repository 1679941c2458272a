// From rows to what a reader sees: ratios (to the raw-disk limit and to the
// best peer of the same cell), the issue's targets, the terminal table, and
// the markdown table of docs/BENCHMARKS.md.
//
// Ratio rules:
// - ×raw: put, get warm, get cold rows over the best raw row of the same
//   section, size and in-flight count (for puts the better of per-op and
//   batched fdatasync, i.e. ideal group commit).
// - ×peer: engine rows over the best embedded peer of the same section,
//   size and in-flight count; server rows over s3rver with the same method,
//   size, in-flight count and client.
import type { RatedRow, Row } from './protocol.js';
import { formatRate, round } from './rows.js';
import { sizeLabel } from './task.js';

/** The workload of the check rows of a suite run alone (open_check.ts), whose rates issue 13's targets are. */
export const CHECK_ALONE_WORKLOAD = 'shardstore check --suite S, 1 worker';

const RAW_SECTIONS = new Set(['put', 'get warm', 'get cold']);
const PEER_SECTIONS = new Set(['put', 'get warm', 'get cold', 'mixed', 'churn']);

function rate(r: Row): number {
  return r.opsPerSec ?? 0;
}

function cellKey(r: Row): string {
  return `${r.section}|${r.sizeBytes ?? ''}|${r.inFlight ?? ''}`;
}

function serverKey(r: Row): string {
  const method = r.workload.split(' ').pop() ?? '';
  const client = (r.client ?? '').split(' ')[0] ?? '';
  return `${method}|${r.sizeBytes ?? ''}|${r.inFlight ?? ''}|${client}`;
}

function bestBy(rows: readonly Row[], keep: (r: Row) => boolean, key: (r: Row) => string): Map<string, number> {
  const best = new Map<string, number>();
  for (const r of rows) {
    if (!keep(r)) continue;
    const k = key(r);
    best.set(k, Math.max(best.get(k) ?? 0, rate(r)));
  }
  return best;
}

export function rateRows(rows: readonly Row[]): RatedRow[] {
  const raw = bestBy(rows, (r) => r.kind === 'raw' && RAW_SECTIONS.has(r.section), cellKey);
  const peer = bestBy(rows, (r) => r.kind === 'peer' && PEER_SECTIONS.has(r.section), cellKey);
  const s3rver = bestBy(rows, (r) => r.section === 'server' && r.system === 's3rver', serverKey);
  return rows.map((r) => {
    if (r.kind === 'raw' || r.opsPerSec === undefined) return r;
    const out: { ratioRaw?: number; ratioPeer?: number } = {};
    const rawBest = RAW_SECTIONS.has(r.section) ? raw.get(cellKey(r)) : undefined;
    if (rawBest !== undefined && rawBest > 0) out.ratioRaw = round(rate(r) / rawBest, 2);
    const peerBest = r.section === 'server' ? (r.system === 's3rver' ? undefined : s3rver.get(serverKey(r))) : PEER_SECTIONS.has(r.section) ? peer.get(cellKey(r)) : undefined;
    if (peerBest !== undefined && peerBest > 0) out.ratioPeer = round(rate(r) / peerBest, 2);
    return { ...r, ...out };
  });
}

export interface TargetResult {
  readonly target: string;
  readonly goal: string;
  readonly measured: string;
  readonly met: 'yes' | 'no' | 'n/a';
}

/** The targets of issue 6, evaluated on one run's rated rows. */
export function evaluateTargets(rows: readonly RatedRow[]): TargetResult[] {
  const find = (f: (r: RatedRow) => boolean): RatedRow[] => rows.filter(f);
  const ours = (r: RatedRow): boolean => r.system === 'shardstore';
  const out: TargetResult[] = [];
  const ratioTarget = (target: string, goal: number, picked: RatedRow[], which: 'ratioRaw' | 'ratioPeer', what: string): void => {
    const values = picked.map((r) => r[which]).filter((v): v is number => v !== undefined);
    if (values.length === 0) {
      out.push({ target, goal: `>= ${goal}`, measured: 'not measured', met: 'n/a' });
      return;
    }
    const worst = Math.min(...values);
    const detail = picked.map((r) => `x${r.inFlight ?? '?'}${r.sizeBytes === undefined ? '' : ` ${sizeLabel(r.sizeBytes)}`}: ${r[which] ?? '-'}`).join(', ');
    out.push({ target, goal: `>= ${goal} ${what}`, measured: `${worst}${values.length > 1 ? ` (worst of ${detail})` : ''}`, met: worst >= goal ? 'yes' : 'no' });
  };
  ratioTarget('1 MiB durable puts, 16 in flight', 0.85, find((r) => ours(r) && r.section === 'put' && r.sizeBytes === 1 << 20 && r.inFlight === 16), 'ratioRaw', 'x raw pwrite+fdatasync');
  ratioTarget('  same, on a preallocated file', 0.85, find((r) => r.system === 'shardstore (prealloc file)' && r.section === 'put' && r.sizeBytes === 1 << 20 && r.inFlight === 16), 'ratioRaw', 'x raw');
  ratioTarget('4 KiB durable puts, 64 in flight vs raw', 0.8, find((r) => ours(r) && r.section === 'put' && r.sizeBytes === 4096 && r.inFlight === 64), 'ratioRaw', 'x raw batched fdatasync');
  ratioTarget('  same, on a preallocated file', 0.8, find((r) => r.system === 'shardstore (prealloc file)' && r.section === 'put' && r.sizeBytes === 4096 && r.inFlight === 64), 'ratioRaw', 'x raw');
  ratioTarget('4 KiB durable puts, 64 in flight vs peers', 3, find((r) => ours(r) && r.section === 'put' && r.sizeBytes === 4096 && r.inFlight === 64), 'ratioPeer', 'x best peer');
  // 4 KiB warm gets against lmdb, at every in-flight count.
  const lmdb = new Map(find((r) => r.system === 'lmdb' && r.section === 'get warm' && r.sizeBytes === 4096).map((r) => [r.inFlight, rate(r)]));
  const warm = find((r) => ours(r) && r.section === 'get warm' && r.sizeBytes === 4096);
  const vsLmdb = warm.map((r) => ({ r, x: round(rate(r) / (lmdb.get(r.inFlight) ?? NaN), 2) })).filter((v) => Number.isFinite(v.x));
  out.push(
    vsLmdb.length === 0
      ? { target: '4 KiB warm gets vs lmdb', goal: '>= 1 x lmdb', measured: 'not measured', met: 'n/a' }
      : { target: '4 KiB warm gets vs lmdb', goal: '>= 1 x lmdb', measured: vsLmdb.map((v) => `x${v.r.inFlight ?? '?'}: ${v.x}`).join(', '), met: vsLmdb.every((v) => v.x >= 1) ? 'yes' : 'no' },
  );
  ratioTarget('1 MiB gets, warm', 0.8, find((r) => ours(r) && r.section === 'get warm' && r.sizeBytes === 1 << 20), 'ratioRaw', 'x raw pread (each into a buffer the caller owns)');
  ratioTarget('1 MiB gets, cold', 0.8, find((r) => ours(r) && r.section === 'get cold' && r.sizeBytes === 1 << 20), 'ratioRaw', 'x raw pread (each into a buffer the caller owns)');
  const open = find((r) => r.section === 'open' && r.extra?.shards === 1_000_000);
  const openS = open[0]?.seconds;
  out.push({ target: 'open after dirty shutdown, 10^6 shards', goal: '<= 2 s', measured: openS === undefined ? 'not measured' : `${openS} s`, met: openS === undefined ? 'n/a' : openS <= 2 ? 'yes' : 'no' });
  const s3 = (method: string, size: number, client: string): RatedRow[] => find((r) => r.section === 'server' && r.system === 'shardstore S3' && r.workload === `S3 ${method}` && r.sizeBytes === size && (r.client ?? '').startsWith(client));
  const cheap = find((r) => r.section === 'server' && (r.client ?? '').startsWith('wrk')).length > 0 ? 'wrk' : 'autocannon';
  for (const [method, size, goal] of [['PUT', 4096, 5], ['GET', 4096, 5], ['PUT', 1 << 20, 3], ['GET', 1 << 20, 3]] as const) {
    ratioTarget(`S3 ${method} ${sizeLabel(size)}, ${cheap}`, goal, s3(method, size, cheap), 'ratioPeer', 'x s3rver');
  }
  for (const [method, size] of [['PUT', 4096], ['GET', 4096], ['PUT', 1 << 20], ['GET', 1 << 20]] as const) {
    ratioTarget(`S3 ${method} ${sizeLabel(size)}, AWS SDK`, 2, s3(method, size, 'aws-sdk'), 'ratioPeer', 'x s3rver');
  }
  // Issue 13's targets are one suite's rate: the row of the suite run alone
  // (open_check.ts says why), else (an older results file) the all-suites run's.
  const checkRowOf = (suite: string): RatedRow | undefined => {
    const rows = find((r) => r.section === 'check' && r.system === suite);
    return rows.find((r) => r.workload === CHECK_ALONE_WORKLOAD) ?? rows[0];
  };
  const conformance = checkRowOf('conformance');
  out.push({
    target: 'conformance checking per core',
    goal: '>= 10000 ops/s',
    measured: conformance?.opsPerSec === undefined ? 'not measured' : `${conformance.opsPerSec} ops/s`,
    met: conformance?.opsPerSec === undefined ? 'n/a' : conformance.opsPerSec >= 10_000 ? 'yes' : 'no',
  });
  // Issue 13: crash states per core in the crash suite's row.
  const crashStates = checkRowOf('crash')?.extra?.crashStatesPerSec;
  out.push({
    target: 'crash states per core (crash suite)',
    goal: '>= 500/s',
    measured: typeof crashStates === 'number' ? `${crashStates}/s` : 'not measured',
    met: typeof crashStates === 'number' ? (crashStates >= 500 ? 'yes' : 'no') : 'n/a',
  });
  return out;
}

// ---- tables -----------------------------------------------------------------

const COLUMNS = ['section', 'workload', 'size', 'x', 'system', 'client', 'ops/s', 'MB/s', 'p50 ms', 'p99 ms', 'x raw', 'x peer', 'load', 'extra / note'] as const;

function cells(r: RatedRow): string[] {
  const extra = Object.entries(r.extra ?? {}).map(([k, v]) => `${k}=${v}`);
  if (r.note !== undefined) extra.push(r.note);
  return [
    r.section,
    r.workload === r.section ? '' : r.workload,
    r.sizeBytes === undefined ? '' : sizeLabel(r.sizeBytes),
    r.inFlight === undefined ? '' : String(r.inFlight),
    r.system,
    r.client ?? '',
    r.opsPerSec === undefined ? '' : formatRate(r.opsPerSec),
    r.mbPerSec === undefined ? '' : r.mbPerSec.toFixed(1),
    r.p50Ms === undefined ? '' : r.p50Ms.toFixed(2),
    r.p99Ms === undefined ? '' : r.p99Ms.toFixed(2),
    r.ratioRaw === undefined ? '' : r.ratioRaw.toFixed(2),
    r.ratioPeer === undefined ? '' : r.ratioPeer.toFixed(2),
    r.loadAvg1 === undefined ? '' : r.loadAvg1.toFixed(1),
    extra.join(' '),
  ];
}

const SECTION_ORDER = ['put', 'get warm', 'get cold', 'mixed', 'churn', 'open', 'check', 'server'];

export function sortRows(rows: readonly RatedRow[]): RatedRow[] {
  const kindOrder = { raw: 0, ours: 1, peer: 2 };
  const index = rows.map((r, i) => ({ r, i }));
  index.sort((a, b) => {
    const s = SECTION_ORDER.indexOf(a.r.section) - SECTION_ORDER.indexOf(b.r.section);
    if (s !== 0) return s;
    if (a.r.section === 'server' || a.r.section === 'check' || a.r.section === 'open') return a.i - b.i;
    const w = (a.r.workload < b.r.workload ? -1 : a.r.workload > b.r.workload ? 1 : 0);
    if (w !== 0) return w;
    const size = (a.r.sizeBytes ?? 0) - (b.r.sizeBytes ?? 0);
    if (size !== 0) return size;
    const inFlight = (a.r.inFlight ?? 0) - (b.r.inFlight ?? 0);
    if (inFlight !== 0) return inFlight;
    return kindOrder[a.r.kind] - kindOrder[b.r.kind] || a.i - b.i;
  });
  return index.map((v) => v.r);
}

export function terminalTable(rows: readonly RatedRow[]): string {
  const body = sortRows(rows).map(cells);
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...body.map((row) => (i === COLUMNS.length - 1 ? 0 : (row[i] ?? '').length))));
  const line = (row: readonly string[]): string => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(COLUMNS), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

export function markdownTable(rows: readonly RatedRow[]): string {
  const escape = (s: string): string => s.replaceAll('|', '\\|');
  const out = [`| ${COLUMNS.join(' | ')} |`, `|${COLUMNS.map(() => '---').join('|')}|`];
  for (const row of sortRows(rows).map(cells)) out.push(`| ${row.map(escape).join(' | ')} |`);
  return out.join('\n');
}

export function targetsTable(targets: readonly TargetResult[], markdown: boolean): string {
  if (markdown) {
    return ['| target | goal | measured | met |', '|---|---|---|---|', ...targets.map((t) => `| ${t.target.trim()} | ${t.goal} | ${t.measured} | ${t.met} |`)].join('\n');
  }
  const w = Math.max(...targets.map((t) => t.target.length));
  const g = Math.max(...targets.map((t) => t.goal.length));
  return targets.map((t) => `${t.met.padEnd(4)} ${t.target.padEnd(w)}  ${t.goal.padEnd(g)}  ${t.measured}`).join('\n');
}

// ---- pivot (one line per cell, one column per system) ----------------------------

const ENGINE_PIVOT_SECTIONS = ['put', 'get warm', 'get cold', 'mixed', 'churn'];

/**
 * The engine and server rows as compact markdown pivots: one line per
 * (section, size, in-flight count[, client]), ops/s per system, and our
 * ratios. The long table has every number; this one is for reading.
 */
export function pivotTables(rows: readonly RatedRow[]): string {
  const engine = rows.filter((r) => ENGINE_PIVOT_SECTIONS.includes(r.section) && r.opsPerSec !== undefined);
  const server = rows.filter((r) => r.section === 'server' && r.opsPerSec !== undefined);
  return [pivot(engine, (r) => `${r.section} | ${sizeLabel(r.sizeBytes ?? 0)} | ${r.inFlight ?? ''}`, 'section | size | x', (r) => (r.kind === 'raw' ? 'raw limit' : r.system)), '', pivot(server, (r) => `${r.workload.split(' ').pop() ?? ''} | ${sizeLabel(r.sizeBytes ?? 0)} | ${r.inFlight ?? ''} | ${(r.client ?? '').split(' ')[0] ?? ''}`, 'method | size | x | client', (r) => r.system)].join('\n');
}

function pivot(rows: readonly RatedRow[], lineKey: (r: RatedRow) => string, head: string, column: (r: RatedRow) => string): string {
  const columns = [...new Set(rows.map(column))];
  const lines = new Map<string, Map<string, RatedRow>>();
  for (const r of sortRows(rows)) {
    const k = lineKey(r);
    let line = lines.get(k);
    if (line === undefined) lines.set(k, (line = new Map<string, RatedRow>()));
    const c = column(r);
    const prev = line.get(c);
    if (prev === undefined || rate(r) > rate(prev)) line.set(c, r);
  }
  // Ours: the engine, else the S3 front, else the native API (server lines without S3).
  const ours = (line: Map<string, RatedRow>): RatedRow | undefined => line.get('shardstore') ?? line.get('shardstore S3') ?? line.get('shardstore native');
  const out = [`| ${head} | ${columns.join(' | ')} | ours x raw | ours x peer | load |`, `|${[...head.split('|'), ...columns, 'r', 'p', 'l'].map(() => '---').join('|')}|`];
  for (const [k, line] of lines) {
    const o = ours(line);
    const load = Math.max(...[...line.values()].map((r) => r.loadAvg1 ?? 0));
    out.push(`| ${k} | ${columns.map((c) => { const r = line.get(c); return r === undefined ? '' : formatRate(rate(r)); }).join(' | ')} | ${o?.ratioRaw ?? ''} | ${o?.ratioPeer ?? ''} | ${load.toFixed(1)} |`);
  }
  return out.join('\n');
}
