// The server rows: our S3 front and s3rver over loopback, and our native
// API, each driven by a typical client (the AWS SDK; fetch for the native
// API) and by a low-cost generator (autocannon). Client and server are
// separate processes sharing the 2 cores; the server's CPU time comes from
// /proc/<pid>/stat around each cell, reported per GiB moved and per request.
import { spawnSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { peerVersion } from '../lib/peer_module.js';
import { processCpuSeconds, load1 } from '../lib/os.js';
import { ServiceChild } from '../lib/service.js';
import { round } from '../lib/rows.js';
import { GiB } from '../lib/task.js';
import { startOurServer, waitForPreparation } from '../servers/ours.js';
import type { OurServer } from '../servers/ours.js';
import type { ClientKind, ClientRequest, ClientResult, Target } from '../servers/targets.js';
import type { Context } from './context.js';

const GET_KEYS = 16;

interface ServerUnderTest {
  readonly system: string;
  readonly kind: 'ours' | 'peer';
  readonly api: 'S3' | 'native';
  readonly target: Target;
  readonly pid: number;
  readonly clients: readonly ClientKind[];
}

/** wrk where installed (`apt-get install wrk`), else autocannon. */
function lowCostClient(ctx: Context): ClientKind {
  const r = spawnSync('wrk', ['--version'], { stdio: 'ignore' });
  if (r.error === undefined) return 'wrk';
  ctx.skip('wrk as the low-cost generator', 'wrk is not installed (apt-get install wrk); autocannon is used instead and costs the client more CPU');
  return 'autocannon';
}

export async function runServers(ctx: Context): Promise<void> {
  const cheap = lowCostClient(ctx);
  const client = ServiceChild.start('client_worker');
  const s3rver = ServiceChild.start('s3rver_worker');
  let ours: OurServer | undefined;
  try {
    const under: ServerUnderTest[] = [];
    const s3rverDir = join(ctx.tmp, 's3rver');
    await mkdir(s3rverDir, { recursive: true });
    const { port } = (await s3rver.request({ directory: s3rverDir, bucket: 'bench' })) as { port: number };
    under.push({ system: 's3rver', kind: 'peer', api: 'S3', target: { kind: 's3', endpoint: `http://127.0.0.1:${port}`, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', bucket: 'bench' }, pid: s3rver.pid, clients: ['sdk', cheap] });
    const ourDir = join(ctx.tmp, 'serve');
    await mkdir(ourDir, { recursive: true });
    ours = await startOurServer(join(ourDir, 'data'), join(ourDir, 'serve.log'), '16GiB', ctx.oursExecArgv);
    ctx.progress(`server: shardstore serve pid ${ours.pid} at ${ours.nativeUrl}; s3rver pid ${s3rver.pid} at port ${port}`);
    const waited = await waitForPreparation(join(ourDir, 'data'));
    ctx.progress(`server: shardstore serve's background preparation of its data file over after ${waited.toFixed(1)} s (not timed; no cell runs beside it)`);
    if ('skip' in ours.s3) ctx.skip('S3 rows of shardstore', ours.s3.skip);
    else under.push({ system: 'shardstore S3', kind: 'ours', api: 'S3', target: ours.s3, pid: ours.pid, clients: ['sdk', cheap] });
    under.push({ system: 'shardstore native', kind: 'ours', api: 'native', target: { kind: 'native', baseUrl: ours.nativeUrl }, pid: ours.pid, clients: ['fetch', cheap] });
    for (const u of under) await runServer(ctx, client, u);
  } finally {
    await ours?.stop();
    await s3rver.stop();
    await client.stop();
  }
}

async function runServer(ctx: Context, client: ServiceChild, u: ServerUnderTest): Promise<void> {
  try {
    await client.request({ kind: 'setup', target: u.target } satisfies ClientRequest);
  } catch (err: unknown) {
    ctx.skip(`server rows of ${u.system}`, `setup failed: ${firstLine(err)}`);
    return;
  }
  await warmUp(ctx, client, u);
  for (const sizeBytes of ctx.plan.serverSizes) {
    const getKeys = Array.from({ length: GET_KEYS }, (_, i) => `get-${sizeBytes}-${i}`);
    await client.request({ kind: 'preload', target: u.target, keys: getKeys, sizeBytes } satisfies ClientRequest, 300_000);
    for (const method of ['PUT', 'GET'] as const) {
      for (const c of u.clients) {
        for (const inFlight of ctx.plan.inFlights) await cell(ctx, client, u, { kind: 'run', target: u.target, client: c, method, sizeBytes, inFlight, durationMs: ctx.plan.serverMs, getKeys, tmp: ctx.tmp });
      }
    }
  }
}

/**
 * PUTs then GETs of the smallest size for plan.serverWarmupMs each, with
 * the server's last (low-cost) client at 16 in flight, nothing recorded:
 * every server, ours and the peers alike, is measured warm.
 */
async function warmUp(ctx: Context, client: ServiceChild, u: ServerUnderTest): Promise<void> {
  const sizeBytes = Math.min(...ctx.plan.serverSizes);
  const c = u.clients[u.clients.length - 1];
  if (c === undefined || ctx.plan.serverWarmupMs <= 0) return;
  const getKeys = Array.from({ length: GET_KEYS }, (_, i) => `warm-${i}`);
  try {
    await client.request({ kind: 'preload', target: u.target, keys: getKeys, sizeBytes } satisfies ClientRequest, 300_000);
    for (const method of ['PUT', 'GET'] as const) {
      const req = { kind: 'run', target: u.target, client: c, method, sizeBytes, inFlight: 16, durationMs: ctx.plan.serverWarmupMs, getKeys, tmp: ctx.tmp } satisfies ClientRequest;
      await client.request(req, req.durationMs + 120_000);
    }
  } catch (err: unknown) {
    ctx.progress(`server: warm-up of ${u.system} failed (${firstLine(err)}); its cells run cold`);
  }
}

async function cell(ctx: Context, client: ServiceChild, u: ServerUnderTest, req: Extract<ClientRequest, { kind: 'run' }>): Promise<void> {
  const id = { section: 'server', workload: `${u.api} ${req.method}`, system: u.system, kind: u.kind, sizeBytes: req.sizeBytes, inFlight: req.inFlight, client: clientLabel(req.client) };
  const cpu0 = processCpuSeconds(u.pid);
  let r: ClientResult;
  try {
    r = (await client.request(req, req.durationMs + 120_000)) as ClientResult;
  } catch (err: unknown) {
    ctx.skip(`${id.workload} ${req.sizeBytes} B x${req.inFlight} ${u.system} via ${id.client}`, firstLine(err));
    return;
  }
  const serverCpuS = processCpuSeconds(u.pid) - cpu0;
  ctx.row({
    ...id,
    ops: r.ops,
    seconds: round(r.seconds, 3),
    opsPerSec: round(r.opsPerSec, 1),
    mbPerSec: round(r.mbPerSec, 2),
    p50Ms: round(r.p50Ms, 3),
    p99Ms: round(r.p99Ms, 3),
    extra: {
      serverCpuSPerGiB: round(serverCpuS / Math.max(1e-9, r.bytes / GiB), 2),
      serverCpuUsPerReq: round((serverCpuS * 1e6) / Math.max(1, r.ops), 1),
      serverCpuS: round(serverCpuS, 2),
      clientCpuS: round(r.clientCpuS, 2),
      errors: r.errors,
    },
    ...(r.errors > 0 ? { note: `${r.errors} failed requests (not counted as throughput)` } : {}),
    loadAvg1: round(load1(), 2),
  });
}

function clientLabel(c: ClientKind): string {
  if (c === 'sdk') return `aws-sdk ${safeVersion('@aws-sdk/client-s3')}`;
  if (c === 'autocannon') return `autocannon ${safeVersion('autocannon')}`;
  if (c === 'wrk') return 'wrk';
  return 'fetch';
}

function safeVersion(name: string): string {
  try {
    return peerVersion(name);
  } catch (err: unknown) {
    return `? (${firstLine(err)})`;
  }
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}
