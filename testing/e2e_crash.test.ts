// End-to-end crash test of the real process: `shardstore serve` (the bin,
// from source) is killed with SIGKILL under concurrent load on the native
// API, restarted on the same data directory, and checked against what the
// clients were told.
//
// Strategy:
// - WRITERS concurrent clients (global fetch) put and delete keys of a small
//   pool; a key has at most one operation in flight, so per key the
//   acknowledged operations are totally ordered. Values are 0..200 KiB,
//   their bytes a function of (seed, key, version), so any value read back
//   can be checked exactly.
// - Each round, the process is killed with SIGKILL as soon as a number of
//   operations drawn from the seeded Rng has been acknowledged (the kill
//   lands while other operations are in flight), then restarted.
// - A small disk (32 MiB of 1 MiB extents) so that overwrite churn across
//   rounds also drives background reclamation and log rolls.
//
// Invariants (checked after every restart, for every key of the pool):
// 1. A put answered 201 is readable with exactly its bytes, unless a later
//    acknowledged put or delete of the key superseded it.
// 2. A delete answered 204 is gone, unless a later acknowledged put.
// 3. An operation in flight at the kill left the key either in its last
//    acknowledged state or in the state the operation would set.
// 4. The listing names exactly the keys that hold a value.
// 5. A final SIGTERM stops the node cleanly (exit code 0).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { Rng } from './rng.js';
import { signedFetch, TEST_ACCESS_KEY, TEST_SECRET_KEY } from './signed_fetch.js';
import { withinHangBound } from './hang_bound.js';

const SEED = 20260101;
const ROUNDS = 4;
const WRITERS = 8;
const KEYS = 48;
const MAX_VALUE_BYTES = 200 * 1024;
const KILL_AFTER_ACKS = { min: 100, max: 400 };
const REQUEST_TIMEOUT_MS = 15_000;
const STARTUP_TIMEOUT_MS = 20_000;
const BIN = new URL('../bin/shardstore.ts', import.meta.url).pathname;

/** What a key holds: a version of its value, or nothing. */
type KeyState = { readonly version: number } | null;

interface InFlight {
  readonly op: 'put' | 'delete';
  readonly after: KeyState;
}

interface KeyBook {
  /** The state set by the last acknowledged operation (or observed after a restart). */
  acked: KeyState;
  inFlight: InFlight | undefined;
  /** Versions are never reused, so a value read back names the put that wrote it. */
  nextVersion: number;
}

type Node = ChildProcessByStdio<null, Readable, Readable>;

interface Running {
  readonly child: Node;
  readonly url: string;
  readonly exited: Promise<number | null>;
  readonly stderr: () => string;
}

function keyName(i: number): string {
  return `e2e/key-${String(i).padStart(3, '0')}`;
}

function shardUrl(base: string, key: string): string {
  return `${base}/v1/shards/${encodeURIComponent(key)}`;
}

/** The bytes of version `version` of `key`: a pure function of the seed, key and version. */
function valueOf(key: string, version: number): Buffer {
  const rng = new Rng(`${SEED}/${key}/${version}`);
  return rng.bytes(rng.int(0, MAX_VALUE_BYTES));
}

function stateText(state: KeyState): string {
  return state === null ? 'absent' : `version ${state.version}`;
}

async function startNode(dataDir: string): Promise<Running> {
  const args = ['--import', 'tsx', BIN, 'serve', '--data-dir', dataDir, '--port', '0', '--disk-size', '32MiB', '--extent-size', '1MiB'];
  // The node's key pair: the test's, so signedFetch signs for it.
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SHARDSTORE_S3_ACCESS_KEY: TEST_ACCESS_KEY, SHARDSTORE_S3_SECRET_KEY: TEST_SECRET_KEY } });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => (stderr += s));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Keep reading stdout (one log line per request) so the pipe never fills and stalls the node.
  const lines = createInterface({ input: child.stdout });
  const startup = new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      const m = /^shardstore serving .* at (http:\/\/\S+) /.exec(line);
      if (m?.[1] !== undefined) resolve(m[1]);
    });
    void exited.then((code) => reject(new Error(`node exited with ${String(code)} before serving; stderr: ${stderr}`)));
  });
  const url = await withinHangBound(startup, STARTUP_TIMEOUT_MS, () => `the startup line (stderr: ${stderr})`);
  return { child, url, exited, stderr: () => stderr };
}

/**
 * Run writers until `killAfterAcks` operations were acknowledged, then
 * SIGKILL the node. Returns how many operations were acknowledged.
 */
async function loadAndKill(node: Running, book: Map<string, KeyBook>, rng: Rng, killAfterAcks: number): Promise<number> {
  let acks = 0;
  let killed = false;
  const kill = (): void => {
    if (killed) return;
    killed = true;
    node.child.kill('SIGKILL');
  };
  const writer = async (w: Rng): Promise<void> => {
    while (!killed) {
      const key = pickIdleKey(book, w);
      const entry = book.get(key);
      assert.ok(entry !== undefined);
      const ok = await runOp(node.url, key, entry, w);
      if (ok) {
        acks++;
        if (acks >= killAfterAcks) kill();
      } else {
        assert.ok(killed, `operation on ${key} failed while the node was up; stderr: ${node.stderr()}`);
      }
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, (_, i) => writer(rng.fork(`writer-${i}`))));
  const code = await node.exited;
  assert.equal(code, null, 'the node was killed by the signal');
  return acks;
}

function pickIdleKey(book: Map<string, KeyBook>, rng: Rng): string {
  const start = rng.int(0, KEYS - 1);
  for (let d = 0; d < KEYS; d++) {
    const key = keyName((start + d) % KEYS);
    if (book.get(key)?.inFlight === undefined) return key;
  }
  throw new Error('every key is busy: more writers than keys');
}

/**
 * One put or delete of `key`. Returns true when acknowledged (the book
 * moves to the new state), false when the request failed (the operation
 * stays in flight: its outcome is settled after the restart).
 */
async function runOp(base: string, key: string, entry: KeyBook, rng: Rng): Promise<boolean> {
  const del = entry.acked !== null && rng.bool(0.3);
  const after: KeyState = del ? null : { version: entry.nextVersion++ };
  entry.inFlight = { op: del ? 'delete' : 'put', after };
  let status: number;
  try {
    const init: RequestInit = del
      ? { method: 'DELETE', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }
      : { method: 'PUT', body: valueOf(key, after?.version ?? -1), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) };
    const res = await signedFetch(shardUrl(base, key), init);
    await res.arrayBuffer();
    status = res.status;
  } catch {
    // The connection died with the node: the outcome is unknown until the restart.
    return false;
  }
  assert.equal(status, del ? 204 : 201, `${del ? 'DELETE' : 'PUT'} ${key} answered ${status}`);
  entry.acked = after;
  entry.inFlight = undefined;
  return true;
}

/** Check every key against the book (invariants 1-3), settle in-flight outcomes, check the listing. */
async function verify(base: string, book: Map<string, KeyBook>, round: number): Promise<{ settled: number }> {
  let settled = 0;
  const keys = [...book.keys()];
  const observed = await Promise.all(keys.map((key) => readState(base, key)));
  keys.forEach((key, i) => {
    const entry = book.get(key);
    const got = observed[i];
    assert.ok(entry !== undefined && got !== undefined);
    const allowed = entry.inFlight === undefined ? [entry.acked] : [entry.acked, entry.inFlight.after];
    const match = allowed.find((s) => (s === null ? got === null : got !== null && got.equals(valueOf(key, s.version))));
    assert.ok(
      match !== undefined,
      `round ${round}: ${key} holds ${got === null ? 'nothing' : `${got.length} bytes`}, expected ${allowed.map(stateText).join(' or ')}`,
    );
    if (entry.inFlight !== undefined) settled++;
    entry.acked = match;
    entry.inFlight = undefined;
  });
  const present = keys.filter((key) => book.get(key)?.acked !== null).sort();
  assert.deepEqual(await listKeys(base), present, `round ${round}: listing`);
  return { settled };
}

async function readState(base: string, key: string): Promise<Buffer | null> {
  const res = await signedFetch(shardUrl(base, key), { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status === 404) return null;
  assert.equal(res.status, 200, `GET ${key}: ${res.status} ${body.toString('utf8')}`);
  return body;
}

async function listKeys(base: string): Promise<string[]> {
  const res = await signedFetch(`${base}/v1/shards?limit=1000`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  assert.equal(res.status, 200);
  const page = (await res.json()) as { shards: Array<{ key: string }>; truncated: boolean };
  assert.equal(page.truncated, false);
  return page.shards.map((s) => decodeURIComponent(s.key)).sort();
}

void test(`acknowledged writes survive ${ROUNDS} SIGKILLs of shardstore serve under concurrent load`, { timeout: 90_000 }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'shardstore-e2e-'));
  const rng = new Rng(SEED);
  const book = new Map<string, KeyBook>(Array.from({ length: KEYS }, (_, i) => [keyName(i), { acked: null, inFlight: undefined, nextVersion: 0 }]));
  let node: Running | undefined;
  try {
    node = await startNode(dataDir);
    for (let round = 1; round <= ROUNDS; round++) {
      const killAfter = rng.int(KILL_AFTER_ACKS.min, KILL_AFTER_ACKS.max);
      const acks = await loadAndKill(node, book, rng.fork(`round-${round}`), killAfter);
      assert.ok(acks >= killAfter);
      node = await startNode(dataDir);
      const { settled } = await verify(node.url, book, round);
      t.diagnostic(`round ${round}: killed after ${acks} acks (drawn ${killAfter}); ${settled} operations were in flight`);
    }
    node.child.kill('SIGTERM');
    assert.equal(await node.exited, 0, `clean stop; stderr: ${node.stderr()}`);
  } finally {
    // On a failed check the node may still run: never leave it behind.
    if (node !== undefined && node.child.exitCode === null && node.child.signalCode === null) node.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});
