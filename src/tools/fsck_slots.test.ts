// fsck's reading of a checkpoint slot whose two copies hold different
// checkpoints (tools/fsck.ts). Copy 1 is written only once copy 0 is
// durable, so a crash between the two leaves copy 0 newer than copy 1: a
// state recovery handles (it reads the newest), a warning. Copy 1 newer
// than copy 0 is what that order never leaves: a problem. How: a store
// checkpointed three times (slot 0 holds checkpoint 1, later 3); the bytes
// of slot 0's older checkpoint put back into one copy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, copyFileSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileDisk } from '../disk/index.js';
import { ShardNode } from '../node/index.js';
import { Superblock } from '../superblock/index.js';
import { fsckDisk } from './fsck.js';

const MIB = 1024 * 1024;

function readAt(path: string, offset: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(length);
    readSync(fd, b, 0, length, offset);
    return b;
  } finally {
    closeSync(fd);
  }
}

function writeAt(path: string, offset: number, bytes: Buffer): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

void test('checkpoint slot copies: copy 0 newer than copy 1 is a warning (a crash between them); copy 1 newer is a problem', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fsck-slots-'));
  try {
    const node = await ShardNode.openOrCreate({ dataDir: dir, disks: 1, diskSizeBytes: 16 * MIB, extentSizeBytes: MIB });
    const store = node.store(0);
    assert.ok(store !== undefined);
    const path = join(dir, 'disk-0.dat');
    const saved = join(dir, 'after-first.dat');
    await (await node.put(Buffer.from('k'), Buffer.from('v1'))).persisted();
    await store.checkpoint();
    copyFileSync(path, saved);
    // The slot the next checkpoint takes alternates: a few more, and every slot was written again.
    for (let i = 0; i < 3; i++) {
      await (await node.put(Buffer.from('k'), Buffer.from(`v${i + 2}`))).persisted();
      await store.checkpoint();
    }
    await node.close();
    const disk = await FileDisk.open(path, { readOnly: true });
    const label = await Superblock.readLabel(disk);
    await disk.close();
    const slot = readAt(saved, label.slotOffsets[0], label.slotBytes).equals(readAt(path, label.slotOffsets[0], label.slotBytes)) ? 1 : 0;
    const at = (copy: 0 | 1): number => (copy === 0 ? label.slotOffsets : label.slotCopyOffsets)[slot];
    const older = readAt(saved, at(0), label.slotBytes);
    assert.ok(!older.equals(readAt(path, at(0), label.slotBytes)), 'the slot was written again');
    const newer = readAt(path, at(1), label.slotBytes);
    writeAt(path, at(1), older);
    const torn = await fsckDisk(path, 0);
    assert.deepEqual(torn.problems, [], 'a crash between the copies is not a problem');
    assert.ok(torn.warnings.some((w) => new RegExp(`checkpoint slot ${slot}: copy 0 holds sequence \\d+, copy 1 still the older \\d+`).test(w)), torn.warnings.join('; '));
    writeAt(path, at(1), newer);
    writeAt(path, at(0), older);
    const wrong = await fsckDisk(path, 0);
    assert.ok(wrong.problems.some((p) => new RegExp(`the copies of checkpoint slot ${slot} disagree .*copy 1 is newer than copy 0`).test(p)), wrong.problems.join('; '));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
