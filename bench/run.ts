// `npm run bench`: ShardStore against the disk's limit and the peers a user
// would pick instead, in one process tree and one run (issue 6).
//
//   node --import tsx bench/run.ts [--quick] [--only g,g] [--skip g,g] [--cpu-prof]
//   groups: sync, raw, ours, peers, open, check, server
//
// Strategy: this process only orchestrates; every measurement runs in a
// child (lib/child.ts), one per system, so that no system's memory, caches
// or threads disturb another's numbers. Rows stream back as they are
// measured and are printed with the 1-minute load average (the machine is
// shared). At the end: ratios to the raw-disk limit and to the best peer,
// the issue's targets, the full table, and bench/results/<time>.{json,svg,md}.
//
// Peers are not dependencies of the main package: they live in
// bench/package.json and are installed here on first run (`npm ci --prefix bench`).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ENGINE_SPECS } from './engines/registry.js';
import type { Context, Plan, Skip } from './groups/context.js';
import { peerNames, runEngine, runRaw } from './groups/engines.js';
import { runCheck, runOpen } from './groups/open_check.js';
import { runServers } from './groups/servers.js';
import { runSyncVerify } from './groups/sync_verify.js';
import { buildOurs } from './lib/dist.js';
import { describeMachine } from './lib/machine.js';
import { dropPageCache, loadTriple } from './lib/os.js';
import type { Row } from './lib/protocol.js';
import { evaluateTargets, markdownTable, pivotTables, rateRows, targetsTable, terminalTable } from './lib/report.js';
import { describeRow } from './lib/rows.js';
import { throughputSvg } from './lib/svg.js';
import { GiB, KiB, MiB } from './lib/task.js';

const GROUPS = ['sync', 'raw', 'ours', 'peers', 'open', 'check', 'server'] as const;
type Group = (typeof GROUPS)[number];
const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));

function fullPlan(): Plan {
  return {
    quick: false,
    sizes: [
      { sizeBytes: 4 * KiB, getKeys: 16_384, putCapBytes: 256 * MiB },
      { sizeBytes: 64 * KiB, getKeys: 4096, putCapBytes: 768 * MiB },
      { sizeBytes: 1 * MiB, getKeys: 512, putCapBytes: 1 * GiB },
    ],
    inFlights: [1, 16, 64],
    durations: { putMs: 1500, getMs: 1000, mixedMs: 1500, churnMs: 3000, churnWarmupMs: 10_000 },
    mixedKeys: 16_384,
    churn: { sizeBytes: 64 * KiB, liveKeys: 1536, inFlight: 16, diskBytes: 512 * MiB, extentBytes: 8 * MiB },
    rawFileBytes: 1.5 * GiB,
    openShards: [100_000, 1_000_000],
    openLoadCapMs: 150_000,
    checkSeconds: 30,
    serverMs: 1000,
    serverWarmupMs: 5000,
    serverSizes: [4 * KiB, 1 * MiB],
    seed: 20_240_601,
  };
}

function quickPlan(): Plan {
  const full = fullPlan();
  return {
    ...full,
    quick: true,
    sizes: [
      { sizeBytes: 4 * KiB, getKeys: 2048, putCapBytes: 64 * MiB },
      { sizeBytes: 64 * KiB, getKeys: 512, putCapBytes: 128 * MiB },
      { sizeBytes: 1 * MiB, getKeys: 64, putCapBytes: 256 * MiB },
    ],
    durations: { putMs: 400, getMs: 300, mixedMs: 400, churnMs: 1000, churnWarmupMs: 6000 },
    mixedKeys: 2048,
    rawFileBytes: 1 * GiB,
    openShards: [100_000],
    openLoadCapMs: 60_000,
    checkSeconds: 5,
    serverMs: 400,
    serverWarmupMs: 1500,
  };
}

function parseGroups(text: string | undefined, flag: string): Set<Group> | undefined {
  if (text === undefined) return undefined;
  const names = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const n of names) if (!(GROUPS as readonly string[]).includes(n)) throw new BenchUsageError(`${flag}: unknown group ${n}; groups: ${GROUPS.join(', ')}`);
  return new Set(names as Group[]);
}

/** Install the peers (bench/package.json) if bench/node_modules is missing. */
function ensurePeers(): void {
  if (existsSync(join(BENCH_DIR, 'node_modules', '.package-lock.json'))) return;
  process.stdout.write('bench: installing peers (npm ci --prefix bench; better-sqlite3 builds from source, about 2 minutes)\n');
  const r = spawnSync('npm', ['ci', '--prefix', BENCH_DIR, '--no-audit', '--no-fund'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`npm ci --prefix bench failed (${r.status ?? r.signal ?? 'unknown'})`);
}

/** A mistake in the command line: one line and exit 2, as the shardstore CLI does (no stack trace). */
class BenchUsageError extends Error {}

const USAGE = `usage: npm run bench -- [--quick] [--only ${GROUPS.join(',')}] [--skip ...] [--cpu-prof]`;

function parseBenchArgs(): { quick?: boolean; only?: string; skip?: string; 'cpu-prof'?: boolean; help?: boolean } {
  try {
    return parseArgs({
      options: { quick: { type: 'boolean' }, only: { type: 'string' }, skip: { type: 'string' }, 'cpu-prof': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    }).values;
  } catch (err) {
    // parseArgs throws TypeErrors (ERR_PARSE_ARGS_*) for unknown or malformed options.
    throw new BenchUsageError(err instanceof Error ? err.message : String(err));
  }
}

async function main(): Promise<void> {
  const values = parseBenchArgs();
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const only = parseGroups(values.only, '--only');
  const skip = parseGroups(values.skip, '--skip') ?? new Set<Group>();
  const enabled = (g: Group): boolean => (only === undefined || only.has(g)) && !skip.has(g);
  const plan = values.quick === true ? quickPlan() : fullPlan();
  ensurePeers();
  buildOurs();

  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const resultsDir = join(BENCH_DIR, 'results');
  await mkdir(resultsDir, { recursive: true });
  const tmp = await mkdtemp(join(tmpdir(), 'shardstore-bench-'));
  const profDir = join(resultsDir, `prof-${stamp}`);
  const machine = describeMachine(tmp, dropPageCache());
  const t0 = performance.now();
  const clock = (): string => `[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s]`;
  const rows: Row[] = [];
  const skipped: Skip[] = [];
  const ctx: Context = {
    plan,
    tmp,
    oursExecArgv: values['cpu-prof'] === true ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [],
    rows,
    skipped,
    row: (row) => {
      rows.push(row);
      process.stdout.write(`${clock()} ${describeRow(row)}${row.extra === undefined ? '' : ` ${JSON.stringify(row.extra)}`} (load ${row.loadAvg1 ?? '?'})\n`);
    },
    skip: (what, reason) => {
      skipped.push({ what, reason });
      process.stdout.write(`${clock()} SKIPPED ${what}: ${reason}\n`);
    },
    progress: (text) => process.stdout.write(`${clock()} ${text}\n`),
  };
  process.stdout.write(
    `bench: ${plan.quick ? 'quick' : 'full'} run; ${machine.cpuModel}, ${machine.cores} cores, node ${machine.node}; crc32c ${machine.crc32c}; early writeback ${machine.earlyWriteback}; md5 ${machine.md5}; load ${machine.loadAvgStart.join(' ')}\n` +
      `bench: scratch ${tmp}\n${machine.df}\n` +
      (machine.dropCaches ? '' : 'bench: cannot drop the page cache: "cold" means a fresh store only\n'),
  );
  try {
    if (enabled('sync')) await runSyncVerify(ctx);
    if (enabled('raw') || enabled('ours')) await runRaw(ctx);
    if (enabled('ours')) {
      await runEngine(ctx, 'shardstore');
      await runEngine(ctx, 'shardstore (prealloc file)', { preallocated: true });
    }
    if (enabled('peers')) for (const name of peerNames()) await runEngine(ctx, name);
    if (enabled('open')) await runOpen(ctx);
    if (enabled('check')) await runCheck(ctx);
    if (enabled('server')) await runServers(ctx);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  machine.loadAvgEnd = loadTriple();
  const finishedAt = new Date();
  const rated = rateRows(rows);
  const targets = evaluateTargets(rated);
  const seconds = Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000);
  const caption = `ShardStore-TS bench ${startedAt.toISOString()} (${plan.quick ? 'quick' : 'full'}), ${machine.cpuModel} x${machine.cores}, load ${machine.loadAvgStart.join(' ')} -> ${machine.loadAvgEnd.join(' ')}`;
  const json = {
    version: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    seconds,
    command: process.argv.slice(2),
    machine,
    plan,
    systems: ENGINE_SPECS.map((s) => ({ name: s.name, kind: s.kind, durability: s.durability })),
    skipped,
    rows: rated,
    targets,
  };
  const base = join(resultsDir, stamp);
  await writeFile(`${base}.json`, JSON.stringify(json, null, 2) + '\n');
  await writeFile(`${base}.svg`, throughputSvg(rated, caption) + '\n');
  await writeFile(
    `${base}.md`,
    `${caption}\n\n${targetsTable(targets, true)}\n\nops/s by system (best raw row as "raw limit"):\n\n${pivotTables(rated)}\n\nEvery row:\n\n${markdownTable(rated)}\n\n${skipped.map((s) => `- skipped: ${s.what}: ${s.reason}`).join('\n')}\n`,
  );
  process.stdout.write(`\n${terminalTable(rated)}\n\nTargets (issue 6):\n${targetsTable(targets, false)}\n`);
  if (skipped.length > 0) process.stdout.write(`\nSkipped:\n${skipped.map((s) => `  ${s.what}: ${s.reason}`).join('\n')}\n`);
  process.stdout.write(`\nload average: start ${machine.loadAvgStart.join(' ')}, end ${machine.loadAvgEnd.join(' ')}; ${seconds} s\nresults: ${base}.json, .svg, .md\n`);
  if (ctx.oursExecArgv.length > 0) process.stdout.write(`cpu profiles: ${profDir}\n`);
}

main().catch((err: unknown) => {
  if (err instanceof BenchUsageError) {
    process.stderr.write(`bench: ${err.message} (${USAGE}; \`npx shardstore bench --help\` measures a running node)\n`);
    process.exit(2);
  }
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
