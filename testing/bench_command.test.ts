// `shardstore bench`, the benchmark of a running node.
//
// Strategy: a real node (two disks on a temporary folder, S3 front and
// native API, testing/s3_harness.ts) is served in-process, and the command
// runs against it through runCli with 100 ms cells: every cell must have
// answered and verified requests, and afterwards the store must hold
// nothing (the bench deleted its keys and the bucket it created). That the
// GET check is real is shown against a small fake node that answers GETs
// with wrong bytes (one byte flipped, or another key's value: the values
// differ only in their stamps). Failures to reach or to authenticate must
// be one line and exit 1; option mistakes exit 2.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { parseBenchArgs } from '../src/cli/bench_options.js';
import type { CliIo } from '../src/cli/index.js';
import { runCli } from '../src/cli/index.js';
import type { S3Node } from './s3_harness.js';
import { ACCESS_KEY, SECRET_KEY, startS3Node } from './s3_harness.js';

const QUICK = ['--sizes', '4KiB', '--inflight', '1,4', '--duration', '100ms'];

function capture(env: NodeJS.ProcessEnv = {}): CliIo & { readonly outText: () => string; readonly errLines: () => string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out: (l) => out.push(l), err: (l) => err.push(l), env, outText: () => out.join('\n'), errLines: () => err };
}

interface ReportJson {
  readonly keyPrefix: string;
  readonly client: { readonly cpuModel: string; readonly cores: number; readonly node: string };
  readonly server: { readonly version: string | null };
  readonly cells: ReadonlyArray<{ readonly api: string; readonly op: string; readonly inFlight: number; readonly requests: number; readonly errors: number }>;
  readonly cleanup?: { readonly deleted: number; readonly failed: number; readonly notes: readonly string[] };
}

let node: S3Node;

before(async () => {
  node = await startS3Node();
});

after(async () => {
  await node.stop();
});

async function allShards(): Promise<number> {
  await node.settle();
  return (await node.api.list()).shards.length;
}

void test('both APIs: every cell answers and verifies, and cleanup leaves the store as it was', async () => {
  // Checks the whole run over native and S3 (SigV4 signed by the command's
  // own signer, verified by the server's): 2 APIs x 1 size x 2 in-flight
  // counts x PUT/GET cells, each with requests and no errors; the JSON
  // report carries the client machine; and the fresh store is empty again
  // afterwards (objects, their data shards and the bucket all deleted).
  const io = capture();
  const code = await runCli(['bench', '--endpoint', node.endpoint, '--api', 'both', ...QUICK, '--json', '--access-key-id', ACCESS_KEY, '--secret-access-key', SECRET_KEY], io);
  assert.equal(code, 0, io.errLines().join('\n'));
  const report = JSON.parse(io.outText()) as ReportJson;
  assert.deepEqual(
    report.cells.map((c) => `${c.api} ${c.op} x${c.inFlight}`),
    ['native PUT x1', 'native GET x1', 'native PUT x4', 'native GET x4', 's3 PUT x1', 's3 GET x1', 's3 PUT x4', 's3 GET x4'],
  );
  for (const c of report.cells) {
    assert.ok(c.requests > 0, `${c.api} ${c.op} x${c.inFlight}: no requests`);
    assert.equal(c.errors, 0);
  }
  assert.ok(report.client.cores > 0 && report.client.cpuModel !== '' && report.client.node === process.version);
  assert.equal(report.server.version, null);
  assert.ok(report.cleanup !== undefined && report.cleanup.deleted > 0 && report.cleanup.failed === 0);
  assert.match(report.cleanup.notes.join('\n'), /deleted bucket shardstore-bench/);
  assert.equal(io.errLines().filter((l) => /^\[\s*\d+\/8\] /.test(l)).length, 8, 'a progress line per cell');
  assert.equal(await allShards(), 0);
});

void test('--keep leaves the values under the run prefix, stamped with their keys; the table is printed', async () => {
  // Checks where the writes go (only under shardstore-bench/<run id>/),
  // that they are the size asked for and carry the key in their stamp, and
  // the text output: one row per cell and the client line. The native API
  // needs the node's key pair: bench signs with it.
  const io = capture({ AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: SECRET_KEY });
  const code = await runCli(['bench', '--endpoint', node.endpoint, '--api', 'native', '--sizes', '4KiB', '--inflight', '2', '--duration', '100ms', '--keep'], io);
  assert.equal(code, 0, io.errLines().join('\n'));
  const text = io.outText();
  assert.match(text, /^api\s+op\s+size\s+in flight\s+req\/s\s+MB\/s\s+p50 ms\s+p99 ms\s+errors$/m);
  assert.match(text, /^native\s+PUT\s+4KiB\s+2\s+[0-9.]+\s+[0-9.]+\s+[0-9.]+\s+[0-9.]+\s+0$/m);
  assert.match(text, /^client: .*cores.*node v/m);
  const prefix = /keys under (shardstore-bench\/[0-9a-z-]+\/)/.exec(text)?.[1];
  assert.ok(prefix !== undefined, text);
  const { shards } = await node.api.list();
  assert.ok(shards.length >= 2);
  for (const s of shards) {
    const key = s.key.toString('latin1');
    assert.ok(key.startsWith(prefix), key);
    assert.equal(s.sizeBytes, 4096);
    const value = await node.api.get(s.key);
    assert.ok(value.subarray(0, 64).toString('latin1').includes(key) && value.subarray(-64).toString('latin1').includes(key));
  }
  for (const s of shards) await (await node.api.delete(s.key)).persisted();
});

/** A fake node: the native routes over a Map, answering GETs with `corrupt(key, value, all)`. */
async function fakeNode(corrupt: (key: string, value: Buffer, all: Map<string, Buffer>) => Buffer): Promise<{ url: string; values: Map<string, Buffer>; close(): Promise<void> }> {
  const values = new Map<string, Buffer>();
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const url = req.url ?? '';
      if (url === '/healthz') return void res.end('{"ok":true}');
      if (url.startsWith('/v1/shards?')) return void res.end('{"shards":[],"truncated":false}');
      const key = url.slice('/v1/shards/'.length);
      if (req.method === 'PUT') values.set(key, Buffer.concat(parts));
      if (req.method === 'DELETE') values.delete(key);
      const value = values.get(key);
      if (req.method === 'GET' && value !== undefined) return void res.end(corrupt(key, value, values));
      res.writeHead(req.method === 'PUT' ? 201 : 204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    values,
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err === undefined ? resolve() : reject(err)))),
  };
}

void test('a wrong answer fails the run: one flipped byte, or another key of the same size', async () => {
  // Checks that the GET check compares bytes, not just lengths: a node that
  // flips one byte mid-value, or answers another key's value (same fill,
  // other stamp), makes the run exit 1 naming the key, and the keys are
  // still deleted afterwards.
  const flips = (_key: string, value: Buffer): Buffer => {
    const copy = Buffer.from(value);
    copy[copy.length >> 1] = (copy[copy.length >> 1] ?? 0) ^ 1;
    return copy;
  };
  const swaps = (key: string, value: Buffer, all: Map<string, Buffer>): Buffer => [...all].find(([k]) => k !== key)?.[1] ?? value;
  for (const [corrupt, why] of [[flips, /different byte at offset 2048/], [swaps, /different byte at offset \d+/]] as const) {
    const fake = await fakeNode(corrupt);
    try {
      const io = capture();
      const code = await runCli(['bench', '--endpoint', fake.url, '--sizes', '4KiB', '--inflight', '4', '--duration', '100ms'], io);
      assert.equal(code, 1);
      const last = io.errLines().at(-1) ?? '';
      assert.match(last, /^shardstore bench: wrong answer: GET \/v1\/shards\/shardstore-bench\/\S+ returned /);
      assert.match(last, why);
      assert.equal(fake.values.size, 0, 'cleanup ran after the failure');
    } finally {
      await fake.close();
    }
  }
});

void test('an unreachable node and a wrong secret are one line each and exit 1', async () => {
  // Checks the two failures a user meets first, before anything is written.
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address() as AddressInfo;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const io = capture();
  assert.equal(await runCli(['bench', '--endpoint', `http://127.0.0.1:${port}`, ...QUICK], io), 1);
  assert.deepEqual(io.errLines().length, 1);
  assert.match(io.errLines()[0] ?? '', new RegExp(`^shardstore bench: cannot reach http://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));

  const denied = capture({ AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: 'wrong' });
  assert.equal(await runCli(['bench', '--endpoint', node.endpoint, '--api', 's3', ...QUICK], denied), 1);
  assert.deepEqual(denied.errLines(), ['shardstore bench: S3 refused the key pair: 403 SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided. Check your key and signing method.']);
  assert.equal(await allShards(), 0);
});

void test('options: defaults, key pair from the environment, and usage errors exit 2', async () => {
  // Checks the documented defaults and that S3 runs by default only when a
  // key pair is given; then each kind of bad value.
  const plain = parseBenchArgs(['--endpoint', 'http://127.0.0.1:7380/'], {});
  assert.ok(plain !== 'help');
  assert.deepEqual([plain.endpoint, plain.apis, plain.sizesBytes, plain.inFlights, plain.durationMs], ['http://127.0.0.1:7380', ['native'], [4096, 1024 ** 2], [1, 16, 64], 2000]);
  const keyed = parseBenchArgs(['--endpoint', 'http://h:1'], { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' });
  assert.ok(keyed !== 'help');
  assert.deepEqual([keyed.apis, keyed.credentials, keyed.bucket], [['native', 's3'], { accessKeyId: 'a', secretAccessKey: 'b' }, 'shardstore-bench']);
  const bad = [
    [],
    ['--endpoint', 'https://h:1'],
    ['--endpoint', 'http://h:1/path'],
    ['--endpoint', 'http://h:1', '--api', 's3'],
    ['--endpoint', 'http://h:1', '--api', 'ftp'],
    ['--endpoint', 'http://h:1', '--inflight', '0'],
    ['--endpoint', 'http://h:1', '--sizes', '4KiB,,1MiB'],
    ['--endpoint', 'http://h:1', '--duration', '2'],
    ['--endpoint', 'http://h:1', '--bucket', 'No_Such'],
    ['--endpoint', 'http://h:1', '--nope'],
  ];
  for (const argv of bad) {
    const io = capture();
    assert.equal(await runCli(['bench', ...argv], io), 2, argv.join(' '));
  }
  const help = capture();
  assert.equal(await runCli(['bench', '--help'], help), 0);
  assert.match(help.outText(), /never touches user data/);
  const list = capture();
  assert.equal(await runCli(['--help'], list), 0);
  assert.match(list.outText(), /^ {2}bench /m);
});
