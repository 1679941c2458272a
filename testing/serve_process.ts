// `shardstore serve` as a child process (the bin, from source), for the
// tests that kill the real process: e2e_crash.test.ts (native API) and
// s3_tagging_crash.test.ts (S3 metadata). The node's key pair is the
// tests' (signed_fetch.ts), so signedFetch and SDK clients sign for it.
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { TEST_ACCESS_KEY, TEST_SECRET_KEY } from './signed_fetch.js';
import { withinHangBound } from './hang_bound.js';

const STARTUP_TIMEOUT_MS = 20_000;
const BIN = new URL('../bin/shardstore.ts', import.meta.url).pathname;

type Node = ChildProcessByStdio<null, Readable, Readable>;

export interface Running {
  readonly child: Node;
  readonly url: string;
  readonly exited: Promise<number | null>;
  readonly stderr: () => string;
}

/** Start `shardstore serve --data-dir dataDir --port 0 ...extraArgs` (node run with `nodeFlags` too); resolves with its URL once it serves. */
export async function startServe(dataDir: string, extraArgs: readonly string[], nodeFlags: readonly string[] = []): Promise<Running> {
  const args = [...nodeFlags, '--import', 'tsx', BIN, 'serve', '--data-dir', dataDir, '--port', '0', ...extraArgs];
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
 * One round of a kill test: `work` makes calls and reports each
 * acknowledged one to `onAck`; the `killAfter`-th kills the node with
 * SIGKILL (the kill lands while the next calls are in flight; `work` ends
 * when they fail). Resolves once the node has exited. Throws if `work`
 * ended without the kill: a call failed while the node was up.
 */
export async function killAfterAcks(node: Running, killAfter: number, work: (onAck: () => void) => Promise<unknown>): Promise<void> {
  let acks = 0;
  let killed = false;
  const onAck = (): void => {
    if (++acks !== killAfter) return;
    killed = true;
    node.child.kill('SIGKILL');
  };
  await work(onAck);
  if (!killed) {
    node.child.kill('SIGKILL');
    await node.exited;
    throw new Error(`a call failed while the node was up; stderr: ${node.stderr()}`);
  }
  await node.exited;
}
