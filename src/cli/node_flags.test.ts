// Checks node_flags.ts: which of serve's node flags a process lacks, and
// that `npm start` passes every one of them (so the two cannot drift).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { SERVE_NODE_FLAGS, missingServeNodeFlags } from './node_flags.js';

void test('missingServeNodeFlags: none when given, by either spelling or another value; all when absent', () => {
  assert.deepEqual(missingServeNodeFlags([]), [...SERVE_NODE_FLAGS]);
  assert.deepEqual(missingServeNodeFlags(['--import', 'tsx', '--cpu-prof']), [...SERVE_NODE_FLAGS]);
  assert.deepEqual(missingServeNodeFlags([...SERVE_NODE_FLAGS]), []);
  assert.deepEqual(missingServeNodeFlags(['--initial_old_space_size=64']), [], 'V8 spelling, another value: the operator chose it');
  assert.deepEqual(missingServeNodeFlags(['--initial-old-space-size', '256']), [], 'the value as a separate argument');
  assert.deepEqual(missingServeNodeFlags(['--initial-old-space']), [...SERVE_NODE_FLAGS], 'a prefix of the name is not the flag');
});

void test('npm start runs node with every flag of SERVE_NODE_FLAGS', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
  const start = pkg.scripts['start'] ?? '';
  const words = start.split(/\s+/);
  const nodeArgs = words.slice(1, words.indexOf('dist/bin/shardstore.js'));
  assert.ok(start.startsWith('node '), start);
  assert.deepEqual(missingServeNodeFlags(nodeArgs), [], `npm start: ${start}`);
});
