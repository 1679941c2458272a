// tier: quick (npm run test:quick; docs/TESTING.md)
// The IO scheduler gathers a batch of adjacent appends into one writev on a
// disk that offers it, and the bytes read back exactly; writes that are not
// adjacent go out separately.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileDisk } from '../disk/index.js';
import { IoScheduler } from './io_scheduler.js';

void test('adjacent writes of one batch go out as one gathered write', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gather-'));
  try {
    const disk = await FileDisk.open(join(dir, 'd'), { createSizeBytes: 1 << 20 });
    const calls: Array<{ offset: number; parts: number }> = [];
    const original = disk.writev.bind(disk);
    disk.writev = (offset, parts) => {
      calls.push({ offset, parts: parts.length });
      return original(offset, parts);
    };
    const io = new IoScheduler(disk);
    const deps = [0, 1, 2, 3].map((i) => io.write(4096 + i * 10, Buffer.alloc(10, 65 + i)));
    deps.push(io.write(9000, Buffer.from('far away')));
    await Promise.all(deps.map((d) => d.persisted()));
    assert.deepEqual(calls, [{ offset: 4096, parts: 4 }]);
    assert.equal((await disk.read(4096, 40)).toString(), 'A'.repeat(10) + 'B'.repeat(10) + 'C'.repeat(10) + 'D'.repeat(10));
    assert.equal((await disk.read(9000, 8)).toString(), 'far away');
    await disk.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
