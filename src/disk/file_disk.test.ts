// tier: quick (npm run test:quick; docs/TESTING.md)
// Checks FileDisk on a temporary file: it is created at its full size but
// sparse (few blocks allocated), or whole with preallocate, writes read back before and after flush,
// a reopen sees the data, IO outside the disk or after close is refused,
// and bad create sizes are refused; a second opener of a held file is
// refused (LockedError) until the first closes; a read-only disk refuses
// writes and leaves the file as it was; writeInline writes small writes
// before it returns and refuses larger ones; large writes have their
// writeback started (native/writeback) unless turned off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssertionError, InvalidArgumentError, IoError, LockedError, ReadOnlyError } from '../base/index.js';
import { EARLY_WRITEBACK_MIN_BYTES, FileDisk, INLINE_WRITE_MAX_BYTES } from './file_disk.js';
import { writeback } from './writeback.js';

const SIZE_BYTES = 64 * 1024 * 1024;

async function withTmpDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'shardstore-filedisk-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

void test('create: full size, sparse, default page size', async () => {
  await withTmpDir(async (dir) => {
    const path = join(dir, 'disk');
    const disk = await FileDisk.open(path, { createSizeBytes: SIZE_BYTES });
    try {
      assert.equal(disk.sizeBytes, SIZE_BYTES);
      assert.equal(disk.pageSizeBytes, 4096);
      const st = await stat(path);
      assert.equal(st.size, SIZE_BYTES);
      // 512-byte blocks: a dense file would hold 131072; allow filesystem metadata slack.
      assert.ok(st.blocks * 512 < SIZE_BYTES / 16, `file not sparse: ${st.blocks} blocks`);
      assert.deepEqual(await disk.read(SIZE_BYTES - 8, 8), Buffer.alloc(8));
    } finally {
      await disk.close();
    }
  });
});

void test('create with preallocate: every block is allocated and reads zero', async () => {
  await withTmpDir(async (dir) => {
    const path = join(dir, 'disk');
    const size = 20 * 1024 * 1024; // more than one 16 MiB block of zeros, and not a multiple of it
    const disk = await FileDisk.open(path, { createSizeBytes: size, preallocate: true });
    try {
      const st = await stat(path);
      assert.equal(st.size, size);
      assert.ok(st.blocks * 512 >= size, `file still sparse: ${st.blocks} blocks`);
      assert.deepEqual(await disk.read(size - 8, 8), Buffer.alloc(8));
    } finally {
      await disk.close();
    }
  });
});

void test('write, read, flush, reopen: the data is there at byte granularity', async () => {
  await withTmpDir(async (dir) => {
    const path = join(dir, 'disk');
    const payload = Buffer.from('unaligned bytes across a page boundary');
    const offset = 4096 - 7;
    const first = await FileDisk.open(path, { createSizeBytes: 1024 * 1024 });
    await first.write(offset, payload);
    assert.deepEqual(await first.read(offset, payload.length), payload);
    await first.flush();
    await first.close();
    await first.close(); // idempotent

    const second = await FileDisk.open(path, { pageSizeBytes: 512 });
    try {
      assert.equal(second.sizeBytes, 1024 * 1024);
      assert.equal(second.pageSizeBytes, 512);
      assert.deepEqual(await second.read(offset, payload.length), payload);
      assert.deepEqual(await second.read(offset - 1, 1), Buffer.alloc(1));
    } finally {
      await second.close();
    }
  });
});

void test('a read given memory to read into returns a view of it; memory too small is not used', async () => {
  // Checks: Disk.read's `into` (log replay reads every window into one
  // buffer): the bytes read land in `into` and the result shares its memory;
  // an `into` shorter than the read is left alone and a new buffer returned.
  await withTmpDir(async (dir) => {
    const disk = await FileDisk.open(join(dir, 'disk'), { createSizeBytes: 1024 * 1024 });
    try {
      const bytes = Buffer.from('read into caller memory');
      await disk.write(100, bytes);
      const into = Buffer.alloc(64, 0xee);
      const got = await disk.read(100, bytes.length, into);
      assert.deepEqual(got, bytes);
      assert.equal(got.buffer, into.buffer);
      assert.deepEqual(into.subarray(0, bytes.length), bytes);
      assert.equal(into[bytes.length], 0xee);
      const small = Buffer.alloc(4, 0xee);
      assert.deepEqual(await disk.read(100, bytes.length, small), bytes);
      assert.deepEqual(small, Buffer.alloc(4, 0xee));
    } finally {
      await disk.close();
    }
  });
});

void test('out of range and after close: refused with AssertionError, file untouched', async () => {
  await withTmpDir(async (dir) => {
    const path = join(dir, 'disk');
    const disk = await FileDisk.open(path, { createSizeBytes: 8192 });
    await assert.rejects(disk.read(8190, 4), AssertionError);
    await assert.rejects(disk.read(-1, 1), AssertionError);
    await assert.rejects(disk.write(8192, Buffer.from([1])), AssertionError);
    assert.equal((await stat(path)).size, 8192);
    await disk.write(8191, Buffer.from([9])); // the last byte is in range
    await disk.close();
    await assert.rejects(disk.read(0, 1), AssertionError);
    await assert.rejects(disk.write(0, Buffer.from([1])), AssertionError);
    await assert.rejects(disk.flush(), AssertionError);
  });
});

void test('open: missing file without a size, and bad create sizes, are refused', async () => {
  await withTmpDir(async (dir) => {
    await assert.rejects(FileDisk.open(join(dir, 'missing')), IoError);
    await assert.rejects(FileDisk.open(join(dir, 'odd'), { createSizeBytes: 5000 }), InvalidArgumentError);
    await assert.rejects(FileDisk.open(join(dir, 'zero'), { createSizeBytes: 0 }), InvalidArgumentError);
    // An existing file keeps its size: createSizeBytes only applies to new files.
    await writeFile(join(dir, 'existing'), Buffer.alloc(8192, 1));
    const disk = await FileDisk.open(join(dir, 'existing'), { createSizeBytes: 4096 });
    try {
      assert.equal(disk.sizeBytes, 8192);
      assert.deepEqual(await disk.read(8191, 1), Buffer.from([1]));
    } finally {
      await disk.close();
    }
  });
});

void test('writev writes its parts back to back, whatever their sizes', async () => {
  // A gathered write of uneven parts (one empty) lands byte for byte at its
  // offset, and is refused beyond the disk like write.
  const dir = await mkdtemp(join(tmpdir(), 'writev-'));
  try {
    const disk = await FileDisk.open(join(dir, 'd'), { createSizeBytes: 1 << 20 });
    await disk.writev(100, [Buffer.from('abc'), Buffer.alloc(0), Buffer.from('defgh')]);
    assert.equal((await disk.read(100, 8)).toString(), 'abcdefgh');
    await assert.rejects(disk.writev((1 << 20) - 2, [Buffer.from('abc')]), AssertionError);
    await disk.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

void test('writeInline: up to INLINE_WRITE_MAX_BYTES written before it returns; larger refused untouched; read-only and out of range refused', async () => {
  // Each size is written as uneven parts at an odd offset; one that fits is
  // in the file when the call returns (read with readFileSync, no await in
  // between), one over the bound returns false and leaves the file as it
  // was. A read-only disk and a range past the end throw as write rejects.
  await withTmpDir(async (dir) => {
    const path = join(dir, 'd');
    const disk = await FileDisk.open(path, { createSizeBytes: 1 << 20 });
    let at = 7;
    for (const size of [1, 4096, INLINE_WRITE_MAX_BYTES, INLINE_WRITE_MAX_BYTES + 1]) {
      const data = Buffer.alloc(size, (size % 250) + 1);
      const third = Math.floor(size / 3);
      const fits = size <= INLINE_WRITE_MAX_BYTES;
      assert.equal(disk.writeInline(at, [data.subarray(0, third), Buffer.alloc(0), data.subarray(third)]), fits, `${size} B taken inline`);
      const onFile = readFileSync(path).subarray(at, at + size);
      assert.ok(fits ? onFile.equals(data) : onFile.equals(Buffer.alloc(size)), `${size} B: ${fits ? 'in the file' : 'nothing written'}`);
      at += size + 3;
    }
    assert.throws(() => disk.writeInline((1 << 20) - 2, [Buffer.from('abc')]), AssertionError);
    await disk.close();
    const ro = await FileDisk.open(path, { readOnly: true });
    assert.throws(() => ro.writeInline(0, [Buffer.from('x')]), ReadOnlyError);
    await ro.close();
    assert.equal((await readFile(path)).subarray(0, 1)[0], 0);
  });
});

void test('a second opener of a held file is refused naming this process, until the first closes', async () => {
  await withTmpDir(async (dir) => {
    const path = join(dir, 'd');
    const first = await FileDisk.open(path, { createSizeBytes: 8192 });
    await assert.rejects(FileDisk.open(path), (err: unknown) => err instanceof LockedError && err.message.includes(`pid ${process.pid} `));
    await assert.rejects(FileDisk.open(path, { readOnly: true }), LockedError);
    await first.close();
    const tool = await FileDisk.open(path, { readOnly: true });
    await assert.rejects(FileDisk.open(path), LockedError, 'a server is refused while a tool holds the file');
    await tool.close();
    assert.equal((await stat(`${path}.lock`).catch(() => undefined)) === undefined, true, 'close removes the lock record');
  });
});

void test('read-only: writes and gathered writes are refused with ReadOnlyError; the file is unchanged', async () => {
  await withTmpDir(async (dir) => {
    const path = join(dir, 'd');
    await writeFile(path, Buffer.alloc(8192, 7));
    const disk = await FileDisk.open(path, { readOnly: true });
    try {
      await assert.rejects(disk.write(0, Buffer.from('x')), ReadOnlyError);
      await assert.rejects(disk.writev(0, [Buffer.from('x')]), ReadOnlyError);
      await disk.flush();
      assert.deepEqual(await disk.read(0, 2), Buffer.from([7, 7]));
    } finally {
      await disk.close();
    }
    assert.deepEqual(await readFile(path), Buffer.alloc(8192, 7));
    await assert.rejects(FileDisk.open(join(dir, 'new'), { createSizeBytes: 4096, readOnly: true }), InvalidArgumentError);
  });
});

/** Wait (event-loop turns, no wall-clock timer) until `done()` holds; false if it never did within `turns`. */
async function turnsUntil(done: () => boolean, turns = 100_000): Promise<boolean> {
  for (let i = 0; i < turns; i++) {
    if (done()) return true;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return done();
}

void test('early writeback: a large write that landed has its writeback started; small writes, writeInline and earlyWriteback: false do not', async (t) => {
  const wb = writeback;
  if (wb === undefined) {
    t.skip('native/writeback did not build here (CI requires it: the last test)');
    return;
  }
  await withTmpDir(async (dir) => {
    const disk = await FileDisk.open(join(dir, 'disk'), { createSizeBytes: SIZE_BYTES });
    try {
      const before = wb.stats().started;
      await disk.write(0, Buffer.alloc(EARLY_WRITEBACK_MIN_BYTES - 4096, 1));
      assert.ok(disk.writeInline(EARLY_WRITEBACK_MIN_BYTES, [Buffer.alloc(4096, 2)]));
      assert.equal(disk.earlyWritebacks, 0, 'writes below the threshold start no writeback');
      const large = Buffer.alloc(EARLY_WRITEBACK_MIN_BYTES, 3);
      await disk.writev(SIZE_BYTES / 2, [large.subarray(0, 4096), large.subarray(4096)]);
      await disk.write(SIZE_BYTES / 4, large);
      assert.equal(disk.earlyWritebacks, 2);
      // The addon's thread runs them (sync_file_range succeeded on this file).
      assert.ok(await turnsUntil(() => wb.stats().started >= before + 2), `the writeback thread never ran the ranges: ${JSON.stringify(wb.stats())}`);
      // A hint changes nothing of what is read.
      assert.deepEqual(await disk.read(SIZE_BYTES / 2, large.length), large);
      await disk.flush();
    } finally {
      await disk.close();
    }
    const off = await FileDisk.open(join(dir, 'disk'), { earlyWriteback: false });
    try {
      await off.write(0, Buffer.alloc(EARLY_WRITEBACK_MIN_BYTES, 4));
      assert.equal(off.earlyWritebacks, 0);
    } finally {
      await off.close();
    }
  });
});

void test('early writeback: a failed range is counted, not thrown, and forget waits for the descriptor', async (t) => {
  const wb = writeback;
  if (wb === undefined) {
    t.skip('native/writeback did not build here');
    return;
  }
  const before = wb.stats();
  // No process has this descriptor open: sync_file_range fails with EBADF on the thread.
  wb.startWriteback(1_000_000, 0, 4096);
  assert.ok(await turnsUntil(() => wb.stats().failed > before.failed), `the failure was not counted: ${JSON.stringify(wb.stats())}`);
  assert.throws(() => wb.startWriteback(-1, 0, 4096), TypeError);
  await wb.forget(1_000_000);
});

void test('native/writeback is in use where CI expects it (SHARDSTORE_EXPECT_NATIVE_WRITEBACK=1, set by .ci/run)', () => {
  // `npm ci` builds native/writeback as an optional dependency: a build
  // that failed would leave writes without early writeback, correct but
  // slower, and nothing else would say so.
  if (process.env['SHARDSTORE_EXPECT_NATIVE_WRITEBACK'] !== '1') return;
  assert.notEqual(writeback, undefined);
});
