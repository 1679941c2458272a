// The control plane over HTTP (/v1/admin/) and on the command line, on a
// node of two real data files: bulk create and remove with exact per-key
// outcomes (a disk out of service fails its keys, the others apply); disks
// out and back in (503 for their keys, a listing that says it is partial);
// export streamed from one server into another's import, a cut stream
// answered with durableThrough; scrub start, status and report naming a
// shard whose bytes were flipped in the data file; stats and metrics; bad
// requests answered 4xx. Then the CLI (`scrub`, `export`, `import`,
// `stats`, each with --help) offline on the same files, and against the
// running server. Temporary folders; fixed values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../src/cli/index.js';
import type { CliIo } from '../src/cli/index.js';
import { createShardServer, silentLogger } from '../src/server/index.js';
import type { ShardServer } from '../src/server/index.js';
import { ShardNode } from '../src/node/index.js';
import { signedFetch, TEST_CREDENTIALS } from './signed_fetch.js';

const MiB = 1024 * 1024;

interface Running {
  readonly node: ShardNode;
  readonly server: ShardServer;
  readonly url: string;
  readonly dir: string;
}

async function start(dir: string): Promise<Running> {
  const node = await ShardNode.openOrCreate({ dataDir: dir, disks: 2, diskSizeBytes: 64 * MiB, extentSizeBytes: MiB });
  const server = createShardServer(node, { logger: silentLogger, shutdownGraceMs: 2_000, credentials: TEST_CREDENTIALS }, node);
  const { port } = await server.listen(0, '127.0.0.1');
  return { node, server, url: `http://127.0.0.1:${port}`, dir };
}

async function stop(r: Running): Promise<void> {
  await r.server.close();
  await r.node.close();
}

async function json(url: string, init: RequestInit = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await signedFetch(url, init);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const post = (body: unknown): RequestInit => ({ method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });

function capture(): CliIo & { text: () => string; errText: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return { out: (l) => out.push(l), err: (l) => err.push(l), env: {}, text: () => out.join('\n'), errText: () => err.join('\n') };
}

/** Flip a byte in the data file in the middle of `key`'s first data chunk. */
async function flipInFile(r: Running, key: Buffer): Promise<void> {
  const disk = r.node.diskOf(key);
  const store = r.node.store(disk);
  assert.ok(store !== undefined);
  const loc = (await store.parts.index.lookup(key))?.chunks[0];
  assert.ok(loc !== undefined);
  const at = store.parts.extents.diskOffset(loc.extent, loc.offset + Math.floor(loc.length / 2));
  const fd = openSync(join(r.dir, `disk-${disk}.dat`), 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, at);
  b[0] = (b[0] ?? 0) ^ 0x40;
  writeSync(fd, b, 0, 1, at);
  closeSync(fd);
}

void test('bulk calls, disks out and in, listings, export into another node, import resume, scrub, stats, metrics', async () => {
  const [dirA, dirB] = [mkdtempSync(join(tmpdir(), 'ss-admin-a-')), mkdtempSync(join(tmpdir(), 'ss-admin-b-'))];
  const a = await start(dirA);
  const b = await start(dirB);
  try {
    const shards = Array.from({ length: 30 }, (_, i) => ({ key: `p%2F${i}`, value: Buffer.from(`value-${i}`.repeat(i + 1)).toString('base64') }));
    const created = await json(`${a.url}/v1/admin/bulk-create`, post({ shards }));
    assert.deepEqual([created.status, created.body['applied'], created.body['failed']], [200, 30, 0]);

    // Disk 1 out: its keys fail in the batch, the others are removed; listings say they are partial.
    assert.equal((await json(`${a.url}/v1/admin/disks/1/out?reason=test`, { method: 'POST' })).body['state'], 'out-of-service');
    const keys = ['p%2F1', 'p%2F2', 'p%2F3', 'p%2F4', 'nope'];
    const removed = await json(`${a.url}/v1/admin/bulk-remove`, post({ keys }));
    const results = removed.body['results'] as Array<{ key: string; status: string; code?: string }>;
    for (const r of results) {
      const disk = a.node.diskOf(Buffer.from(r.key.replace('%2F', '/')));
      const want = disk === 1 ? 'failed' : r.key === 'nope' ? 'absent' : 'applied';
      assert.equal(r.status, want, JSON.stringify(r));
      if (want === 'failed') assert.equal(r.code, 'Unavailable');
    }
    assert.equal((await signedFetch(`${a.url}/v1/shards`)).status, 503);
    const onDisk1 = shards.find((s) => a.node.diskOf(Buffer.from(s.key.replace('%2F', '/'))) === 1);
    assert.equal((await signedFetch(`${a.url}/v1/shards/${onDisk1?.key ?? ''}`)).status, 503);
    const partial = await json(`${a.url}/v1/admin/shards?prefix=p%2F`);
    assert.deepEqual([partial.body['complete'], partial.body['unavailableDisks']], [false, [1]]);
    assert.equal((await json(`${a.url}/v1/admin/disks/1/in`, { method: 'POST' })).body['state'], 'in-service');
    const full = await json(`${a.url}/v1/shards?prefix=p%2F`);
    const remaining = (full.body['shards'] as unknown[]).length;
    assert.equal(remaining, 30 - results.filter((r) => r.status === 'applied').length);

    // Export from A streamed into B's import.
    const exported = await signedFetch(`${a.url}/v1/admin/export?prefix=p%2F`);
    assert.equal(exported.headers.get('content-type'), 'application/x-shardstore-migration');
    const stream = Buffer.from(await exported.arrayBuffer());
    const imported = await json(`${b.url}/v1/admin/import`, { method: 'POST', body: stream });
    assert.deepEqual([imported.status, imported.body['records'], imported.body['complete']], [200, remaining, true]);
    // A cut stream: 400 with durableThrough; resuming from it completes.
    const cut = await json(`${b.url}/v1/admin/import`, { method: 'POST', body: stream.subarray(0, Math.floor(stream.length / 2)) });
    assert.equal(cut.status, 400);
    const resumeAt = String(cut.body['durableThrough']);
    const rest = Buffer.from(await (await signedFetch(`${a.url}/v1/admin/export?prefix=p%2F&start-after=${resumeAt}`)).arrayBuffer());
    assert.equal((await json(`${b.url}/v1/admin/import`, { method: 'POST', body: rest })).body['complete'], true);

    // Scrub both clean; then a flipped byte in A's data file is named.
    for (const r of [a, b]) {
      assert.equal((await json(`${r.url}/v1/admin/scrub`, { method: 'POST' })).status, 202);
      // The latch: the node's own pass settling (no polling on a timer).
      await r.node.scrubSettled();
      assert.equal((await json(`${r.url}/v1/admin/scrub`)).body['state'], 'done');
      const report = await json(`${r.url}/v1/admin/scrub/report`);
      assert.deepEqual([report.body['complete'], (report.body['counters'] as Record<string, number>)['damagedShards']], [true, 0]);
    }
    await flipInFile(a, Buffer.from('p/17'));
    await json(`${a.url}/v1/admin/scrub`, { method: 'POST' });
    await a.node.scrubSettled();
    assert.equal((await json(`${a.url}/v1/admin/scrub`)).body['passes'], 2);
    const report = await signedFetch(`${a.url}/v1/admin/scrub/report`);
    const damaged = ((await report.json()) as { damaged: Array<{ key: string; problem: string }> }).damaged;
    assert.deepEqual(damaged.map((d) => [d.key, d.problem]), [['p%2F17', 'corrupt']]);

    const stats = await json(`${a.url}/v1/admin/stats`);
    const total = stats.body['total'] as Record<string, number>;
    assert.equal(total['shardCount'], remaining);
    assert.ok((total['liveBytes'] ?? 0) > 0 && (total['capacityBytes'] ?? 0) === 128 * MiB);
    const metrics = await (await signedFetch(`${a.url}/v1/admin/metrics`)).text();
    assert.match(metrics, /shardstore_scrub_damaged_shards_total 1/);
    assert.match(metrics, /shardstore_disk_shards\{disk="1"\} \d+/);
    assert.equal((await json(`${a.url}/v1/admin/reclaim?max-extents=2`, { method: 'POST' })).status, 200);

    // Bad requests.
    assert.equal((await signedFetch(`${a.url}/v1/admin/bulk-create`, { method: 'POST', body: '{' })).status, 400);
    assert.equal((await signedFetch(`${a.url}/v1/admin/bulk-remove`, post({ keys: ['a', 'a'] }))).status, 400);
    assert.equal((await signedFetch(`${a.url}/v1/admin/nothing`)).status, 404);
    assert.equal((await signedFetch(`${a.url}/v1/admin/disks/7/out`, { method: 'POST' })).status, 400);
    assert.equal((await signedFetch(`${a.url}/v1/admin/stats`, { method: 'DELETE' })).status, 405);
  } finally {
    await stop(a);
    await stop(b);
  }
  await cliOffline(dirA, dirB);
  rmSync(dirA, { recursive: true, force: true });
  rmSync(dirB, { recursive: true, force: true });
});

async function cliOffline(dirA: string, dirB: string): Promise<void> {
  for (const cmd of ['scrub', 'export', 'import', 'stats', 'disk']) {
    const io = capture();
    assert.equal(await runCli([cmd, '--help'], io), 0);
    assert.match(io.text(), new RegExp(`Usage: shardstore ${cmd}`));
  }
  const scrub = capture();
  assert.equal(await runCli(['scrub', '--data-dir', dirA], scrub), 1, 'damage found: exit 1');
  assert.match(scrub.text(), /damaged shard {2}key=p%2F17 {2}disk \d {2}corrupt/);
  const clean = capture();
  assert.equal(await runCli(['scrub', '--data-dir', dirB, '--json'], clean), 0);
  assert.equal((JSON.parse(clean.text()) as { complete: boolean }).complete, true);
  const file = join(dirB, 'out.ssmg');
  assert.equal(await runCli(['export', '--data-dir', dirB, '--prefix', 'p/', '--out', file], capture()), 0);
  const importIo = capture();
  assert.equal(await runCli(['import', '--data-dir', dirA, '--in', file], importIo), 0);
  assert.equal((JSON.parse(importIo.text()) as { complete: boolean }).complete, true);
  assert.ok(readFileSync(file).length > 0);
  const stats = capture();
  assert.equal(await runCli(['stats', '--data-dir', dirA], stats), 0);
  assert.match(stats.text(), /^disk\s+state\s+capacity/);
  assert.equal(await runCli(['scrub', '--data-dir', dirA], capture()), 0, 'the import replaced the damaged shard');
  assert.equal(await runCli(['scrub'], capture()), 2);
  assert.equal(await runCli(['export', '--data-dir', dirA], capture()), 2);
}
