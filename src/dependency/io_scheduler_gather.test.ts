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
import { Dependency } from './dependency.js';
import { IoScheduler } from './io_scheduler.js';

void test('adjacent writes of one batch go out as one gathered write', async () => {
  await withDisk(1 << 20, async (disk) => {
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
  });
});

void test('a gathered write carries at most 4 MiB: adjacent large chunks go out as several writes, the bytes read back', async () => {
  // How: five adjacent 1 MiB writes in one batch: the first four gathered
  // (4 MiB), the fifth a write of its own, all issued before any returns
  // (libuv's threads run them at once). Fails if the cap is removed (one
  // 5 MiB writev) or mis-counted.
  const MiB = 1 << 20;
  await withDisk(8 * MiB, async (disk) => {
    const calls: Array<{ offset: number; bytes: number }> = [];
    const writev = disk.writev.bind(disk);
    disk.writev = (offset, parts) => {
      calls.push({ offset, bytes: parts.reduce((n, p) => n + p.length, 0) });
      return writev(offset, parts);
    };
    const write = disk.write.bind(disk);
    disk.write = (offset, data) => {
      calls.push({ offset, bytes: data.length });
      return write(offset, data);
    };
    const io = new IoScheduler(disk);
    const deps = [0, 1, 2, 3, 4].map((i) => io.write(i * MiB, Buffer.alloc(MiB, 65 + i)));
    await Promise.all(deps.map((d) => d.persisted()));
    assert.deepEqual(calls, [
      { offset: 0, bytes: 4 * MiB },
      { offset: 4 * MiB, bytes: MiB },
    ]);
    for (let i = 0; i < 5; i++) assert.ok((await disk.read(i * MiB, MiB)).equals(Buffer.alloc(MiB, 65 + i)), `MiB ${i} reads back`);
  });
});

void test('a write that joins a batch after its first round goes out inline where the disk offers it; the first round never does', async () => {
  // How: write A; when it lands (joinable), B is queued to share its flush
  // (as the commit log queues a record naming the data that just landed).
  // A, with no recordFollows, must go through write/writev (only data
  // chunks and records go inline: invariant 8), B through writeInline, and both
  // share one flush; a write with no sameFlushAfter that goes out in B's
  // round still goes through write. Then a joiner whose inline write throws fails alone:
  // A's twin is durable, the joiner's ticket carries the error.
  await withDisk(1 << 20, async (disk) => {
    const spy = spyWrites(disk);
    const calls = spy.calls;
    const io = new IoScheduler(disk);
    let plain: Dependency | undefined;
    const joinerOf = (a: Dependency, offset: number, text: string): Promise<Dependency> =>
      new Promise((resolve) => {
        a.onLanded((joinable) => {
          assert.ok(joinable, 'A landed in a batch that can still be joined');
          // A write with no sameFlushAfter, ready in the same round (as host space's zeros can be): never inline.
          plain ??= io.write(900, Buffer.from('zeros'));
          resolve(io.write(offset, Buffer.from(text), Dependency.none, { sameFlushAfter: a }));
        });
      });
    const a = io.write(100, Buffer.from('data'));
    const b = await joinerOf(a, 200, 'record');
    await Promise.all([a.persisted(), b.persisted(), plain?.persisted()]);
    assert.deepEqual(calls, ['write@100', 'inline@200', 'write@900']);
    assert.equal(io.stats.flushes, 1, 'the joiner shared the first write its flush');
    assert.equal((await disk.read(100, 4)).toString(), 'data');
    assert.equal((await disk.read(200, 6)).toString(), 'record');

    spy.failInline = true;
    calls.length = 0;
    const a2 = io.write(300, Buffer.from('more'));
    const b2 = await joinerOf(a2, 400, 'lost');
    await a2.persisted();
    await assert.rejects(b2.persisted(), /EIO: injected/);
    assert.deepEqual(calls, ['write@300', 'inline@400']);
    assert.equal((await disk.read(300, 4)).toString(), 'more');
  });
});

void test('data written inline (recordFollows) waits a turn for its record: a record staged after awaits still shares its flush', async () => {
  // As a streamed put does: its data chunk is appended, then the put awaits
  // (the body's end, the writer's finish) before it stages, and the commit
  // cycle queues the record only then. The data lands inline at once; the
  // batch must wait one turn of the event loop before its flush, and the
  // data's ticket must still say joinable, so the record goes out in the
  // same batch: one flush for both. Without the wait (or with the join
  // closed early) the record needs a second flush. A write with no
  // recordFollows (host space's zeros) never goes inline and never waits.
  await withDisk(1 << 20, async (disk) => {
    const { calls } = spyWrites(disk);
    const io = new IoScheduler(disk);
    const data = io.write(100, Buffer.from('data'), Dependency.none, { recordFollows: true });
    for (let i = 0; i < 10; i++) await Promise.resolve();
    assert.ok(data.hasLanded(), 'the data landed inline within microtasks');
    const joinable = await new Promise<boolean>((resolve) => data.onLanded(resolve));
    assert.ok(joinable, 'its batch still takes the record');
    const record = io.write(200, Buffer.from('record'), Dependency.none, { sameFlushAfter: data });
    await Promise.all([data.persisted(), record.persisted()]);
    assert.deepEqual(calls, ['inline@100', 'inline@200']);
    assert.equal(io.stats.flushes, 1, 'data and record shared one flush');

    calls.length = 0;
    const zeros = io.write(300, Buffer.alloc(64));
    await zeros.persisted();
    assert.deepEqual(calls, ['write@300']);
    assert.equal(io.stats.flushes, 2);
    assert.equal((await disk.read(100, 4)).toString(), 'data');
    assert.equal((await disk.read(200, 6)).toString(), 'record');
  });
});

/** Record each write's path ("write@offset" through the pool, "inline@offset" through writeInline); failInline makes writeInline throw. */
function spyWrites(disk: FileDisk): { readonly calls: string[]; failInline: boolean } {
  const spy = { calls: [] as string[], failInline: false };
  const write = disk.write.bind(disk);
  disk.write = (offset, data) => {
    spy.calls.push(`write@${offset}`);
    return write(offset, data);
  };
  const writeInline = disk.writeInline.bind(disk);
  disk.writeInline = (offset, parts) => {
    spy.calls.push(`inline@${offset}`);
    if (spy.failInline) throw new Error('EIO: injected');
    return writeInline(offset, parts);
  };
  return spy;
}

/** A FileDisk of `sizeBytes` in a fresh temporary folder, closed and removed after `fn`. */
async function withDisk(sizeBytes: number, fn: (disk: FileDisk) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'gather-'));
  try {
    const disk = await FileDisk.open(join(dir, 'd'), { createSizeBytes: sizeBytes });
    await fn(disk);
    await disk.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
