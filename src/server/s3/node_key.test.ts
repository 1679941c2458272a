// tier: quick (npm run test:quick; docs/TESTING.md)
// The node key file (node_key.ts) on a temporary folder: none until asked
// to create it; concurrent first users share one key; created 0600 and read
// back the same by a new reader; a file others can read is refused until it
// is chmod 600 (then served without a restart); a damaged file is a
// CorruptionError, never a new key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CorruptionError } from '../../base/index.js';
import { FileNodeKey, NODE_KEY_FILE_NAME } from './node_key.js';

function withFolder(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shardstore-nodekey-'));
  return run(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

void test('made only when asked, once for concurrent first users, 0600, and read back the same', () =>
  withFolder(async (dir) => {
    const source = FileNodeKey.besideCredentials(join(dir, 'credentials'));
    assert.equal(source.path, join(dir, NODE_KEY_FILE_NAME));
    assert.equal(await source.get(false), undefined);
    assert.equal(existsSync(source.path), false);
    const [a, b] = await Promise.all([source.get(true), source.get(true)]);
    assert.ok(a !== undefined && b !== undefined);
    assert.deepEqual(a.key, b.key);
    assert.equal(statSync(source.path).mode & 0o777, 0o600);
    const again = await new FileNodeKey(source.path).get(false);
    assert.deepEqual(again?.key, a.key);
    assert.deepEqual(again?.id, a.id);
    // A second creator finds the file and keeps it.
    assert.deepEqual((await new FileNodeKey(source.path).get(true))?.key, a.key);
  }));

void test('a key file others can read is refused until chmod 600; a damaged one is a CorruptionError', () =>
  withFolder(async (dir) => {
    const path = join(dir, NODE_KEY_FILE_NAME);
    const made = await new FileNodeKey(path).get(true);
    chmodSync(path, 0o644);
    const source = new FileNodeKey(path);
    await assert.rejects(source.get(false), /can be read by other users/);
    chmodSync(path, 0o600);
    assert.deepEqual((await source.get(false))?.key, made?.key);
    const bytes = readFileSync(path);
    bytes[7] = (bytes[7] ?? 0) ^ 1;
    writeFileSync(path, bytes, { mode: 0o600 });
    await assert.rejects(new FileNodeKey(path).get(true), CorruptionError);
  }));
