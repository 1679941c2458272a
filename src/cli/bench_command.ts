// `shardstore bench`: measure a running node from this machine (issue 6).
// `npm run bench` (bench/run.ts) starts the systems it compares itself;
// this command is pointed at a deployment: check the node answers, prepare
// each API (S3: the bucket), run the cells (bench_run.ts) over keys of this
// run only (bench_keys.ts), delete those keys, print the table or JSON.
//
// Exit 0: every request answered 2xx and every GET verified, cleanup done;
// 1: errors, a wrong answer, an unreachable node, or interrupted; 2: usage.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { BenchEndpoint } from './bench_http.js';
import { endpointOf, sender } from './bench_http.js';
import { KEY_ROOT, KeySpace, newRunId } from './bench_keys.js';
import type { BenchConfig } from './bench_options.js';
import { benchHelp, parseBenchArgs } from './bench_options.js';
import type { BenchReport } from './bench_report.js';
import { cellLine, describeClient, reportText } from './bench_report.js';
import type { CellResult } from './bench_run.js';
import { deleteTouched, newLatencyBuffer, runCell } from './bench_run.js';
import type { ApiTarget } from './bench_targets.js';
import { nativeTarget, probeNode, s3Target } from './bench_targets.js';
import type { CliIo, Command } from './command.js';
import { stopOnSignal } from './serve_lifecycle.js';
import { formatDurationMs, formatSizeBytes } from './units.js';
import { EXIT_FAILURE, EXIT_OK, UsageError } from './usage_error.js';
import { packageVersion } from './version.js';

const SETUP_SOCKETS = 4;

export const benchCommand: Command = {
  summary: 'measure a running node: PUT/GET requests/s, MB/s, p50/p99 (writes, then deletes, keys of its own)',
  help: benchHelp,
  async run(argv: readonly string[], io: CliIo): Promise<number> {
    const config = parseBenchArgs(argv, io.env);
    if (config === 'help') {
      io.out(benchHelp());
      return EXIT_OK;
    }
    let interrupted = false;
    const signals = stopOnSignal(() => process.exit(130));
    void signals.stop.then(() => {
      interrupted = true;
      io.err('interrupted: ending the cell, then deleting the keys written (Ctrl-C again quits at once and leaves them)');
    });
    try {
      return await runBench(config, io, () => interrupted);
    } finally {
      signals.dispose();
    }
  },
};

/** A key space and the API it was written through: what cleanup deletes. */
interface Space {
  readonly target: ApiTarget;
  readonly keys: KeySpace;
}

async function runBench(config: BenchConfig, io: CliIo, stopped: () => boolean): Promise<number> {
  const startedAt = new Date().toISOString();
  const endpoint = endpointOf(config.endpoint);
  const setupAgent = new http.Agent({ keepAlive: true, maxSockets: SETUP_SOCKETS });
  const send = sender(endpoint, setupAgent);
  try {
    const server = await probeNode(endpoint, send);
    const runId = newRunId();
    const targets = config.apis.map((api): ApiTarget => {
      if (api === 'native') return nativeTarget(endpoint, send, config.credentials);
      if (config.credentials === undefined) throw new UsageError('--api s3 needs a key pair');
      return s3Target(endpoint, send, config.credentials, config.bucket);
    });
    const prepared: ApiTarget[] = [];
    const spaces: Space[] = [];
    const cells: CellResult[] = [];
    let failure: Error | undefined;
    try {
      for (const target of targets) {
        await target.prepare();
        prepared.push(target);
      }
      io.err(planLine(config, `${KEY_ROOT}${runId}/`));
      await measure(config, endpoint, { targets, runId, stopped }, { spaces, cells, io });
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
    }
    const cleanup = config.keep ? undefined : await cleanUp(endpoint, spaces, prepared, io);
    const report: BenchReport = {
      endpoint: config.endpoint,
      runId,
      keyPrefix: `${KEY_ROOT}${runId}/`,
      startedAt,
      client: describeClient(),
      clientVersion: packageVersion(),
      server,
      config: { apis: config.apis, sizesBytes: config.sizesBytes, inFlights: config.inFlights, durationMs: config.durationMs, bucket: config.bucket, keep: config.keep },
      cells,
      cleanup,
      ...(failure === undefined ? {} : { error: failure.message }),
    };
    if (cells.length > 0 || failure === undefined) {
      if (config.json) io.out(JSON.stringify(report, null, 2));
      else for (const line of reportText(report)) io.out(line);
    }
    if (failure !== undefined) throw failure;
    const clean = cells.every((c) => c.errors === 0) && (cleanup?.failed ?? 0) === 0 && !stopped();
    return clean ? EXIT_OK : EXIT_FAILURE;
  } finally {
    setupAgent.destroy();
  }
}

interface Plan {
  readonly targets: readonly ApiTarget[];
  readonly runId: string;
  readonly stopped: () => boolean;
}

interface Sink {
  readonly spaces: Space[];
  readonly cells: CellResult[];
  readonly io: CliIo;
}

/** Every API x size x in-flight count: a PUT cell, then a GET cell of what it wrote. */
async function measure(config: BenchConfig, endpoint: BenchEndpoint, plan: Plan, out: Sink): Promise<void> {
  const total = plan.targets.length * config.sizesBytes.length * config.inFlights.length * 2;
  const maxInFlight = Math.max(...config.inFlights);
  const latencies = newLatencyBuffer();
  for (const target of plan.targets) {
    for (const sizeBytes of config.sizesBytes) {
      const keys = new KeySpace(target.api, sizeBytes, plan.runId, maxInFlight);
      out.spaces.push({ target, keys });
      // One fill per size, one copy per worker: stamped per request, never reallocated.
      const fill = randomBytes(sizeBytes);
      const values = Array.from({ length: maxInFlight }, () => keys.newValue(fill));
      for (const inFlight of config.inFlights) {
        if (plan.stopped()) return;
        const base = { endpoint, target, keys, inFlight, durationMs: config.durationMs, values, latencies, stopped: plan.stopped };
        const put = await runCell({ ...base, op: 'PUT', readIds: [] });
        out.cells.push(put.result);
        out.io.err(cellLine(put.result, out.cells.length, total));
        if (plan.stopped()) return;
        const get = await runCell({ ...base, op: 'GET', readIds: put.written });
        out.cells.push(get.result);
        out.io.err(cellLine(get.result, out.cells.length, total));
      }
    }
  }
}

async function cleanUp(endpoint: BenchEndpoint, spaces: readonly Space[], prepared: readonly ApiTarget[], io: CliIo): Promise<NonNullable<BenchReport['cleanup']>> {
  const count = spaces.reduce((n, s) => n + s.keys.touchedIds().length, 0);
  if (count > 0) io.err(`cleanup: deleting the ${count} keys this run wrote`);
  let deleted = 0;
  let failed = 0;
  let firstError: string | undefined;
  for (const s of spaces) {
    const r = await deleteTouched(endpoint, s.target, s.keys);
    deleted += r.deleted;
    failed += r.failed;
    firstError ??= r.firstError;
  }
  const notes: string[] = [];
  for (const target of failed === 0 ? prepared : []) {
    try {
      const note = await target.finish();
      if (note !== undefined) notes.push(note);
    } catch (err) {
      notes.push(`${target.api}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return { deleted, failed, ...(firstError === undefined ? {} : { firstError }), notes };
}

function planLine(config: BenchConfig, prefix: string): string {
  const cells = config.apis.length * config.sizesBytes.length * config.inFlights.length * 2;
  const sizes = config.sizesBytes.map(formatSizeBytes).join(', ');
  const seconds = Math.ceil((cells * config.durationMs) / 1000);
  return `bench: ${config.apis.join(' and ')}, sizes ${sizes}, in flight ${config.inFlights.join(', ')}: ${cells} cells of ${formatDurationMs(config.durationMs)} (about ${seconds} s); keys under ${prefix}`;
}
