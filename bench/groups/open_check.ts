// Two rows groups about our code only:
// - open after a dirty shutdown: a writer child puts N shards, says
//   "loaded", keeps committing, and is SIGKILLed; a fresh child times the
//   open and measures its memory;
// - `shardstore check` throughput with one worker (one core), from its
//   --json summary.
import { spawn } from 'node:child_process';
import { cp, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { forkWorker } from '../lib/child.js';
import { OUR_BIN, START_NODE_FLAGS } from '../lib/dist.js';
import { load1 } from '../lib/os.js';
import { CHECK_ALONE_WORKLOAD } from '../lib/report.js';
import { round } from '../lib/rows.js';
import type { OpenTask } from '../lib/task.js';
import type { Context } from './context.js';

const KILL_DELAY_MS = 300;

export async function runOpen(ctx: Context): Promise<void> {
  for (const shards of ctx.plan.openShards) {
    const dir = join(ctx.tmp, `open-${shards}`);
    await mkdir(dir, { recursive: true });
    try {
      await openRow(ctx, dir, shards);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

async function openRow(ctx: Context, dir: string, shards: number): Promise<void> {
  const write: OpenTask = { mode: 'write', dir, shards, valueBytes: 64, loadCapMs: ctx.plan.openLoadCapMs };
  let written: number | undefined;
  let loadSeconds = 0;
  const outcome = await forkWorker('open_worker', write, {
    timeoutMs: ctx.plan.openLoadCapMs + 120_000,
    execArgv: ctx.oursExecArgv.filter((a) => !a.startsWith('--cpu-prof')),
    onRow: (row) => ctx.row(row),
    onChild: (child) => {
      child.on('message', (m: unknown) => {
        const text = typeof m === 'object' && m !== null && 'text' in m && typeof m.text === 'string' ? m.text : '';
        const match = /^loaded:(\d+):([\d.]+)$/.exec(text);
        if (match === null) return;
        written = Number(match[1]);
        loadSeconds = Number(match[2]);
        setTimeout(() => child.kill('SIGKILL'), KILL_DELAY_MS);
      });
    },
    onProgress: (text) => {
      if (!text.startsWith('loaded:')) ctx.progress(text);
    },
  });
  if (written === undefined) {
    ctx.skip(`open after SIGKILL, ${shards} shards`, `writer failed: ${outcome.error ?? 'no "loaded" message'}`);
    return;
  }
  ctx.progress(`open: ${written} shards durable in ${loadSeconds} s, writer SIGKILLed (${outcome.error ?? 'exited'})`);
  const open: OpenTask = { mode: 'open', dir, shards: written, valueBytes: 64, loadCapMs: 0 };
  const opened = await forkWorker('open_worker', open, {
    timeoutMs: 300_000,
    execArgv: ctx.oursExecArgv,
    onRow: (row) => ctx.row(written === shards ? row : { ...row, note: `load capped: ${written} of ${shards} shards written in time` }),
    onProgress: (text) => ctx.progress(text),
  });
  if (opened.error !== undefined) ctx.skip(`open after SIGKILL, ${written} shards`, `open failed: ${opened.error.split('\n').slice(0, 3).join(' | ')}`);
}

interface SuiteStats {
  readonly sequences: number;
  readonly operations: number;
  readonly crashStates: number;
  readonly busyMs: number;
  readonly failures: number;
}

/**
 * The suites with a throughput target (issue 13), measured also alone: in
 * the all-suites run each of the 13 suites gets about 1/13 of the budget
 * (2-3 s at 30 s), most of it cold (module load, JIT warm-up, the first
 * seeds' allocations) and on a heap the other suites share, so its row
 * says little about a suite's rate. The targets are per core rates of one
 * suite: `shardstore check --suite S --time 30s --workers 1`, as these rows
 * run it (docs/BENCHMARKS.md, check throughput).
 */
const CHECK_TARGET_SUITES = ['conformance', 'crash'] as const;

export async function runCheck(ctx: Context): Promise<void> {
  const seconds = ctx.plan.checkSeconds;
  await checkRun(ctx, { args: [], workload: 'shardstore check, 1 worker', withTotal: true });
  for (const suite of CHECK_TARGET_SUITES) {
    ctx.progress(`check: suite ${suite} alone for ${seconds} s`);
    await checkRun(ctx, { args: ['--suite', suite], workload: CHECK_ALONE_WORKLOAD, withTotal: false });
  }
}

interface CheckRunSpec {
  /** Extra arguments (the suite of a run alone). */
  readonly args: readonly string[];
  readonly workload: string;
  /** Also a row of all suites together. */
  readonly withTotal: boolean;
}

async function checkRun(ctx: Context, spec: CheckRunSpec): Promise<void> {
  const bin = OUR_BIN;
  const out = join(ctx.tmp, 'check-failures');
  const seconds = ctx.plan.checkSeconds;
  const args = ['check', '--time', `${seconds}s`, '--workers', '1', '--json', ...spec.args];
  ctx.progress(`check: shardstore ${args.join(' ')}`);
  const { code, stdout, stderr } = await run(process.execPath, [...START_NODE_FLAGS, bin, ...args, '--out', out]);
  let summary: unknown;
  try {
    summary = JSON.parse(stdout) as unknown;
  } catch (err: unknown) {
    ctx.skip(`shardstore ${args.join(' ')}`, `exit ${code}, no JSON summary (${String(err)}): ${stderr.slice(-500)}`);
    return;
  }
  const elapsedS = numberAt(summary, ['elapsedMs']) / 1000;
  if (code !== 0) {
    // A failure found while measuring is a finding: keep its replay files and say where.
    const kept = fileURLToPath(new URL(`../results/check-failures-${new Date().toISOString().replace(/[:.]/g, '-')}`, import.meta.url));
    await cp(out, kept, { recursive: true }).catch(() => undefined);
    ctx.progress(`check: exit ${code}, failures found; replay files kept in ${kept}; ${stderr.split('\n').filter((l) => /fail/i.test(l)).slice(-5).join(' | ')}`);
  }
  const suites = objectAt(summary, ['suites']);
  for (const [name, value] of Object.entries(suites)) checkRow(ctx, spec.workload, name, suiteStats(value), elapsedS, code);
  if (spec.withTotal) checkRow(ctx, spec.workload, 'all suites', suiteStats(objectAt(summary, ['total'])), elapsedS, code);
}

function suiteStats(value: unknown): SuiteStats {
  const o: Record<string, unknown> = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  const n = (k: string): number => {
    const v = o[k];
    if (typeof v !== 'number') throw new TypeError(`check summary: suite field ${k} is not a number`);
    return v;
  };
  return { sequences: n('sequences'), operations: n('operations'), crashStates: n('crashStates'), busyMs: n('busyMs'), failures: n('failures') };
}

function checkRow(ctx: Context, workload: string, suite: string, s: SuiteStats, elapsedS: number, code: number): void {
  const busyS = Math.max(1e-3, s.busyMs / 1000);
  ctx.row({
    section: 'check',
    workload,
    system: suite,
    kind: 'ours',
    inFlight: 1,
    ops: s.operations,
    seconds: round(elapsedS, 1),
    // Per core: one worker is one core; the suite's own time (busyMs) is what it used of it.
    opsPerSec: round(s.operations / busyS, 1),
    extra: {
      sequencesPerSec: round(s.sequences / busyS, 2),
      crashStatesPerSec: round(s.crashStates / busyS, 2),
      busyS: round(busyS, 1),
      opsPerSecWall: round(s.operations / Math.max(1e-3, elapsedS), 1),
    },
    ...(code === 0 ? {} : { note: `check exited ${code}: ${s.failures} failure(s) in this suite` }),
    loadAvg1: round(load1(), 2),
  });
}

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

function objectAt(value: unknown, path: readonly string[]): Record<string, unknown> {
  let v: unknown = value;
  for (const p of path) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[p] : undefined;
  if (typeof v !== 'object' || v === null) throw new TypeError(`check summary: no object at ${path.join('.')}`);
  return v as Record<string, unknown>;
}

function numberAt(value: unknown, path: readonly string[]): number {
  const parent = objectAt(value, path.slice(0, -1).length === 0 ? [] : path.slice(0, -1));
  const v = parent[path[path.length - 1] ?? ''];
  if (typeof v !== 'number') throw new TypeError(`check summary: no number at ${path.join('.')}`);
  return v;
}
