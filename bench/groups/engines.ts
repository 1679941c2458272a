// The engine rows: the raw-disk limit, our engine (as shipped and on a
// preallocated file), and each embedded peer, each in its own child.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PEER_SPECS } from '../engines/peers.js';
import { shardStoreFileBytes } from '../engines/shardstore.js';
import { forkWorker } from '../lib/child.js';
import type { EngineTask, RawTask } from '../lib/task.js';
import type { Context } from './context.js';

const ENGINE_TIMEOUT_MS = 420_000;

export function rawFilePath(ctx: Context): string {
  return join(ctx.tmp, 'prealloc.dat');
}

export async function runRaw(ctx: Context): Promise<void> {
  // The file is also the preallocated variant's disk (rawFilePath): big
  // enough for its largest put cell, whatever the plan says.
  const largestPutCell = Math.max(...ctx.plan.sizes.map((s) => s.putCapBytes));
  const fileBytes = Math.max(ctx.plan.rawFileBytes, shardStoreFileBytes(largestPutCell));
  const task: RawTask = { path: rawFilePath(ctx), fileBytes, sizes: ctx.plan.sizes, inFlights: ctx.plan.inFlights, durations: ctx.plan.durations };
  await runChildTask(ctx, 'raw_worker', task, 'raw disk limit', []);
}

export async function runEngine(ctx: Context, engine: string, options: { preallocated?: boolean } = {}): Promise<void> {
  const dir = join(ctx.tmp, engine.replace(/[^a-z0-9-]+/gi, '_'));
  const p = ctx.plan;
  const task: EngineTask = {
    engine,
    dir,
    ...(options.preallocated === true ? { preallocatedPath: rawFilePath(ctx) } : {}),
    putsOnly: options.preallocated === true,
    sizes: p.sizes,
    inFlights: p.inFlights,
    durations: p.durations,
    mixedKeys: p.mixedKeys,
    churn: p.churn,
    seed: p.seed,
  };
  const ours = engine.startsWith('shardstore');
  try {
    await runChildTask(ctx, 'engine_worker', task, engine, ours ? ctx.oursExecArgv : []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function peerNames(): string[] {
  return PEER_SPECS.map((s) => s.name);
}

async function runChildTask(ctx: Context, worker: string, task: unknown, what: string, execArgv: readonly string[]): Promise<void> {
  const outcome = await forkWorker(worker, task, {
    timeoutMs: ENGINE_TIMEOUT_MS,
    execArgv,
    onProgress: (text) => ctx.progress(text),
    onRow: (row) => ctx.row(row),
  });
  for (const s of outcome.skipped) ctx.skip(s.what, s.reason);
  if (outcome.error !== undefined) ctx.skip(`${what} (rest of its rows)`, `failed: ${outcome.error.split('\n').slice(0, 3).join(' | ')}`);
}
