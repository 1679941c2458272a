// fsck's reading of a checkpoint slot whose two copies differ
// (tools/fsck.ts). The copies are written one after the other, copy 0 first
// or, when copy 1 was the slot's only bad copy, copy 1 first
// (Superblock.write), so a crash between the two leaves either copy older
// than the other, or torn under the other's whole newest checkpoint:
// recovery reads the newest whole copy, and fsck, which cannot tell such a
// crash from damage to one copy, warns. Both copies bad is what no crash
// leaves: recovery refuses it, a problem. How: a store checkpointed four
// times (each slot written twice); the bytes of a slot's older checkpoint
// put back into one copy, or one copy's magic flipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, copyFileSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IoScheduler } from '../dependency/index.js';
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

void test('checkpoint slot copies: either copy older or invalid under the newest is a warning (a crash between them); both invalid is a problem', async () => {
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
    // The slot of the newest checkpoint (close may write one too: host_space.ts).
    const { checkpoint, slots } = await Superblock.load(new IoScheduler(disk, { readOnly: true }), label);
    await disk.close();
    const slot = slots.find((s) => s.sequence === checkpoint.sequence)?.slot ?? 0;
    const at = (copy: 0 | 1): number => (copy === 0 ? label.slotOffsets : label.slotCopyOffsets)[slot];
    const older = readAt(saved, at(0), label.slotBytes);
    assert.ok(!older.equals(readAt(path, at(0), label.slotBytes)), 'the slot was written again');
    const newest = [readAt(path, at(0), label.slotBytes), readAt(path, at(1), label.slotBytes)] as const;
    const restore = (): void => {
      writeAt(path, at(0), newest[0]);
      writeAt(path, at(1), newest[1]);
    };
    const badMagic = (copy: 0 | 1): void => {
      const b = Buffer.from(newest[copy]);
      b[0] = (b[0] ?? 0) ^ 0x01;
      writeAt(path, at(copy), b);
    };
    for (const copy of [0, 1] as const) {
      const other = copy === 0 ? 1 : 0;
      writeAt(path, at(copy), older);
      const behind = await fsckDisk(path, 0);
      assert.deepEqual(behind.problems, [], `copy ${copy} older than copy ${other}: a crash between the copies is not a problem`);
      const said = new RegExp(`checkpoint slot ${slot}: copy ${other} holds sequence \\d+, copy ${copy} still the older \\d+`);
      assert.ok(behind.warnings.some((w) => said.test(w)), behind.warnings.join('; '));
      restore();
      badMagic(copy);
      const torn = await fsckDisk(path, 0);
      assert.deepEqual(torn.problems, [], `copy ${copy} invalid under the newest: a crash during its write is not a problem`);
      const named = new RegExp(`checkpoint slot ${slot} copy ${copy} is invalid \\(.*\\) under the newest checkpoint in copy ${other}`);
      assert.ok(torn.warnings.some((w) => named.test(w)), torn.warnings.join('; '));
      restore();
    }
    badMagic(0);
    badMagic(1);
    const both = await fsckDisk(path, 0);
    assert.ok(both.problems.some((p) => /recovery failed: .*checkpoint slot .* damaged in both copies/.test(p)), both.problems.join('; '));
    restore();
    const clean = await fsckDisk(path, 0);
    assert.deepEqual([clean.problems, clean.warnings], [[], []], 'restored: clean');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
