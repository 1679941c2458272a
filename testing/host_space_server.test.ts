// Host file system full, as a user of the server sees it (issue 11, part 4):
// HTTP answers, /healthz, stats and metrics on a full host, and what
// `serve` says about data files their file system cannot hold.
//
// Strategy: a ShardNode of one DiskStore on a SimDisk under HostFs (a
// sparse file on a host with a space limit, ENOSPC shaped like Node's),
// the disk reporting the HostFs's free bytes as its host space, behind the
// real HTTP server. The host is filled after some acknowledged puts.
// The serve checks use real files: a sparse file larger than its file
// system's free space (a sparse file costs nothing), and a preallocation
// request larger than the free space (refused before anything is written).
//
// Invariants:
// 1. On a full host, PUT answers 507 with code NoSpace (never 500 Io);
//    acknowledged values read back; DELETE answers 204 and POST
//    /v1/admin/reclaim answers 200: space can be freed through the API.
// 2. /healthz answers 200 {"ok":false,"status":"degraded"} with a reason
//    naming the full host; /v1/admin/stats reports the host's free bytes;
//    /metrics reports shardstore_degraded 1 and the refused writes.
// 3. A read-only store (a failed metadata write) is reported as such by
//    /healthz and stats, with the reason.
// 4. serve warns, with numbers, when sparse data files can grow beyond
//    their file system's free space; --preallocate refuses a node that
//    cannot fit, in one line, and creates no data file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statfsSync, writeFileSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NoSpaceError } from '../src/base/index.js';
import type { Clock } from '../src/base/index.js';
import type { Disk } from '../src/disk/index.js';
import { hostSpaceWarnings } from '../src/cli/serve_command.js';
import { createShardServer, silentLogger } from '../src/server/index.js';
import { formatDiskStore } from '../src/store/index.js';
import { ShardNode } from '../src/node/index.js';
import type { DiskStore, FormatOptions } from '../src/store/index.js';
import { HostFs } from './host_fs.js';
import { Rng } from './rng.js';
import { SimDisk } from './sim_disk.js';
import { signedFetch, TEST_CREDENTIALS } from './signed_fetch.js';

const DISK_BYTES = 4 * 1024 * 1024;
const HOST_BYTES = 64 * 1024 * 1024;

/** A clock the test moves by hand (the store retries a short reserve at most once a second of it). */
function manualClock(): Clock & { advance(ms: number): void } {
  let now = 0;
  return {
    nowMs: () => now,
    sleep: () => Promise.resolve(),
    advance: (ms) => {
      now += ms;
    },
  };
}

function options(clock: Clock = manualClock()): FormatOptions {
  return { extentSizeBytes: 64 * 1024, maxManifestBytes: 16 * 1024, memtableFlushBytes: 4096, maxLogBytes: 6000, random: new Rng(9).fork('ids'), background: false, clock };
}

/** A disk on `host` that also reports the host's free bytes, as FileDisk does with statfs. */
function onHost(host: HostFs, disk: SimDisk): Disk {
  const wrapped = host.wrap(disk);
  return { ...wrapped, hostSpace: () => ({ freeBytes: host.freeBytes ?? HOST_BYTES, totalBytes: HOST_BYTES, fileFullyAllocated: false }) };
}

async function withNode(store: DiskStore, fn: (base: string) => Promise<void>): Promise<void> {
  const node = new ShardNode([store]);
  const server = createShardServer(node, { logger: silentLogger, shutdownGraceMs: 1000, credentials: TEST_CREDENTIALS }, node);
  const { port } = await server.listen(0, '127.0.0.1');
  try {
    await fn(`http://127.0.0.1:${port}`);
  } finally {
    await server.close();
    await node.close();
  }
}

const body = (i: number): Buffer => Buffer.alloc(12 * 1024, i + 1);

test('full host through HTTP: PUT 507 NoSpace, DELETE and admin reclaim work, healthz and stats say why', async () => {
  const host = new HostFs();
  const clock = manualClock();
  const store = await formatDiskStore(onHost(host, new SimDisk({ sizeBytes: DISK_BYTES, pageSizeBytes: 4096 })), options(clock));
  await withNode(store, async (base) => {
    for (let i = 0; i < 20; i++) assert.equal((await signedFetch(`${base}/v1/shards/k${i}`, { method: 'PUT', body: body(i) })).status, 201);
    assert.deepEqual(await (await signedFetch(`${base}/healthz`)).json(), { ok: true });
    host.setFreeBytes(0);
    let refused: Response | undefined;
    for (let i = 20; i < 40 && refused === undefined; i++) {
      const res = await signedFetch(`${base}/v1/shards/k${i}`, { method: 'PUT', body: body(i) });
      if (res.status !== 201) refused = res;
    }
    assert.ok(refused !== undefined, 'no PUT was refused on the full host');
    assert.equal(refused.status, 507);
    const error = (await refused.json()) as { error?: { code?: string; message?: string } };
    assert.equal(error.error?.code, 'NoSpace', JSON.stringify(error));
    assert.match(error.error?.message ?? '', /host file system full/);
    for (let i = 0; i < 20; i++) assert.deepEqual(Buffer.from(await (await signedFetch(`${base}/v1/shards/k${i}`)).arrayBuffer()), body(i));

    // Space can be freed through the API on the full host.
    for (let i = 0; i < 20; i += 2) assert.equal((await signedFetch(`${base}/v1/shards/k${i}`, { method: 'DELETE' })).status, 204);
    const reclaim = await signedFetch(`${base}/v1/admin/reclaim?max-extents=64&max-live-ratio=0.99`, { method: 'POST' });
    assert.equal(reclaim.status, 200, await reclaim.clone().text());
    assert.ok(((await reclaim.json()) as { extentsReclaimed: number }).extentsReclaimed > 0);

    const health = await signedFetch(`${base}/healthz`);
    assert.equal(health.status, 200);
    const h = (await health.json()) as { ok: boolean; status?: string; reasons?: string[] };
    assert.equal(h.ok, false);
    assert.equal(h.status, 'degraded');
    assert.ok((h.reasons ?? []).some((r) => /host file system full: 0 bytes free/.test(r)), JSON.stringify(h));
    const stats = (await (await signedFetch(`${base}/v1/admin/stats`)).json()) as { disks: Array<{ hostFreeBytes?: number; degraded?: string[]; readOnly?: string }> };
    assert.equal(stats.disks[0]?.hostFreeBytes, 0);
    assert.equal(stats.disks[0]?.readOnly, undefined, 'the full host turned the store read-only');
    const metrics = await (await signedFetch(`${base}/metrics`)).text();
    assert.match(metrics, /^shardstore_degraded 1$/m);
    assert.match(metrics, /^shardstore_read_only_disks 0$/m);
    assert.match(metrics, /^shardstore_host_free_bytes 0$/m);
    assert.match(metrics, /^shardstore_host_nospace_writes_total [1-9]\d*$/m);

    // Room comes back on the host: the next health check (a second later)
    // refills the reserve, and then the node is healthy again.
    host.setFreeBytes(undefined);
    clock.advance(1000);
    await signedFetch(`${base}/healthz`);
    await store.parts.space.settled();
    assert.deepEqual(await (await signedFetch(`${base}/healthz`)).json(), { ok: true });
  });
});

test('a read-only store is degraded in /healthz, /v1/admin/stats and /metrics, with the reason', async () => {
  const sim = new SimDisk({ sizeBytes: DISK_BYTES, pageSizeBytes: 4096 });
  const store = await formatDiskStore(sim, options());
  await withNode(store, async (base) => {
    const log = store.parts.state.logExtent * 64 * 1024;
    sim.failWrites({ offset: log, length: 64 * 1024 }, 'permanent');
    const res = await signedFetch(`${base}/v1/shards/a`, { method: 'PUT', body: 'x' });
    assert.equal(res.status, 500);
    const h = (await (await signedFetch(`${base}/healthz`)).json()) as { ok: boolean; status?: string; reasons?: string[] };
    assert.equal(h.status, 'degraded');
    assert.ok((h.reasons ?? []).some((r) => /^disk 0: read-only: /.test(r)), JSON.stringify(h));
    const stats = (await (await signedFetch(`${base}/v1/admin/stats`)).json()) as { disks: Array<{ readOnly?: string }> };
    assert.match(stats.disks[0]?.readOnly ?? '', /injected write fault/);
    assert.match(await (await signedFetch(`${base}/metrics`)).text(), /^shardstore_read_only_disks 1$/m);
    sim.clearFaults();
  });
});

test('serve warns when sparse data files can grow beyond their file system; --preallocate refuses, creating nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shardstore-hostspace-'));
  try {
    const fs = statfsSync(dir);
    const free = fs.bavail * fs.bsize;
    // A sparse file larger than the free space costs no space.
    const sparse = join(dir, 'disk-0.dat');
    writeFileSync(sparse, '');
    const size = Math.ceil((free + 1024 ** 3) / 4096) * 4096;
    truncateSync(sparse, size);
    const warnings = await hostSpaceWarnings([sparse]);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', new RegExp(`${sparse}.* may grow by .*\\(\\d+ bytes\\) \\(sparse\\), but their file system has .* free: puts will answer 507`));
    rmSync(sparse);
    // A small file: no warning.
    writeFileSync(sparse, Buffer.alloc(4096));
    assert.deepEqual(await hostSpaceWarnings([sparse]), []);
    rmSync(sparse);

    const dataDir = join(dir, 'node');
    await assert.rejects(ShardNode.openOrCreate({ dataDir, disks: 2, diskSizeBytes: size, preallocate: true }), (err: unknown) => {
      assert.ok(err instanceof NoSpaceError, String(err));
      assert.match(err.message, /cannot create 2 preallocated data file\(s\) of \d+ bytes .* they need \d+ bytes, the file system has \d+ free; nothing was created/);
      return true;
    });
    assert.equal(existsSync(join(dataDir, 'disk-0.dat')), false);
    assert.equal(existsSync(join(dataDir, 'disk-1.dat')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
