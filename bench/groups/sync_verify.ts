// Does each system really sync what it acknowledges? strace counts the
// sync system calls (fsync, fdatasync, msync, sync_file_range) of the
// probe (workers/sync_probe_worker.ts) with 0 and with N puts at one in
// flight; the difference over N is syncs per put. Below 1, an acknowledged
// put cannot have been durable on its own, and the row says so.
import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENGINE_SPECS } from '../engines/registry.js';
import { START_NODE_FLAGS } from '../lib/dist.js';
import { load1 } from '../lib/os.js';
import { round } from '../lib/rows.js';
import type { Context } from './context.js';

const PUTS = 200;
/** Bounds what is kept of a probe's output. */
const MAX_REPORT_CHARS = 64 * 1024;
const SYNC_CALLS = ['fsync', 'fdatasync', 'msync', 'sync_file_range'];

export async function runSyncVerify(ctx: Context): Promise<void> {
  if (!(await hasStrace())) {
    ctx.skip('sync check', 'strace is not installed (apt-get install strace)');
    return;
  }
  for (const spec of ENGINE_SPECS) {
    if (spec.name === 'shardstore (prealloc file)') continue;
    try {
      const base = await countSyncs(ctx, spec.name, 0);
      const withPuts = await countSyncs(ctx, spec.name, PUTS);
      const perPut = round((withPuts - base) / PUTS, 2);
      ctx.row({
        section: 'sync check',
        workload: `syncs per put (strace, ${PUTS} puts)`,
        system: spec.name,
        kind: spec.kind,
        sizeBytes: 4096,
        inFlight: 1,
        extra: { syncsPerPut: perPut },
        ...(perPut < 0.99 ? { note: 'FEWER SYNCS THAN PUTS: acknowledged puts were not each durable' } : {}),
        loadAvg1: round(load1(), 2),
      });
    } catch (err: unknown) {
      ctx.skip(`sync check of ${spec.name}`, err instanceof Error ? err.message.split('\n')[0] ?? '' : String(err));
    }
  }
}

function hasStrace(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('strace', ['-V'], { stdio: 'ignore' });
    child.on('error', () => resolve(false));
    child.on('exit', (code) => resolve(code === 0));
  });
}

async function countSyncs(ctx: Context, engine: string, puts: number): Promise<number> {
  const dir = join(ctx.tmp, `sync-probe-${engine.replace(/[^a-z0-9-]+/gi, '_')}-${puts}`);
  const out = `${dir}.strace`;
  const script = fileURLToPath(new URL('../workers/sync_probe_worker.ts', import.meta.url));
  const task = JSON.stringify({ engine, dir, puts });
  let reported = '';
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn('strace', ['-f', '-c', '-o', out, '-e', `trace=${SYNC_CALLS.join(',')}`, process.execPath, ...process.execArgv, ...START_NODE_FLAGS, script, task], { stdio: ['ignore', 'pipe', 'inherit'] });
    // The probe reports a failure on stdout (runChild without IPC): keep it for the skip line.
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      if (reported.length < MAX_REPORT_CHARS) reported += text;
    });
    child.on('error', reject);
    child.on('exit', (c) => resolve(c ?? -1));
  });
  const text = await readFile(out, 'utf8');
  await rm(dir, { recursive: true, force: true });
  await rm(out, { force: true });
  if (code !== 0) throw new Error(`probe of ${engine} exited ${code}: ${failureOf(reported)}`);
  let calls = 0;
  for (const line of text.split('\n')) {
    // % time  seconds  usecs/call  calls  [errors]  syscall
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$/.exec(line);
    if (m !== null && SYNC_CALLS.includes(m[2] ?? '')) calls += Number(m[1]);
  }
  return calls;
}

/** The first line of the `failed` message a probe printed, or what it printed. */
function failureOf(stdout: string): string {
  for (const line of stdout.split('\n')) {
    try {
      const m = JSON.parse(line) as { kind?: unknown; message?: unknown };
      if (m.kind === 'failed' && typeof m.message === 'string') return m.message.split('\n')[0] ?? '';
    } catch (err: unknown) {
      if (!(err instanceof SyntaxError)) throw err; // not a protocol line: keep looking
    }
  }
  return stdout.trim().slice(0, 200) || 'no message';
}
