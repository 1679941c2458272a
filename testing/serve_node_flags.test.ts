// `shardstore serve` says at start when node runs without SERVE_NODE_FLAGS
// (src/cli/node_flags.ts), and says nothing of it when they are given.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SERVE_NODE_FLAGS } from '../src/cli/index.js';
import { startServe } from './serve_process.js';

const WARNING = /shardstore: warning: node was started without --initial-old-space-size=128 /;

void test('serve warns once, at start, without the node flags npm start passes; not with them', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'serve-flags-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [flags, warned] of [[[], true], [SERVE_NODE_FLAGS, false]] as const) {
    const node = await startServe(join(dir, 'data'), ['--disk-size', '32MiB', '--extent-size', '1MiB'], flags);
    try {
      const lines = node.stderr().split('\n').filter((l) => WARNING.test(l));
      assert.equal(lines.length, warned ? 1 : 0, `node flags [${flags.join(' ')}]; stderr: ${node.stderr()}`);
    } finally {
      node.child.kill('SIGTERM');
      await node.exited;
    }
  }
});
