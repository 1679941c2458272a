// Case 1 of issue 11 on real data files, through the command line: "a bit
// in a record in the middle of the metadata log (valid records after it):
// on restart replay stopped at that record, 23 of 40 acknowledged keys
// answered 404, nothing was logged, and `shardstore fsck` said clean".
//
// Strategy: a store on a real file (FileDisk) commits 40 puts, one durable
// cycle each, and is then abandoned without a clean close (a SIGKILL after
// the last acknowledgement leaves the same bytes: every acknowledged put is
// in the metadata log, none in a checkpoint). Bytes are flipped in the file
// with plain fs calls, then `shardstore fsck`, the store's open and
// `shardstore repair` run on it.
//
// Invariants:
// 1. One copy of a middle record damaged: fsck exits 1 naming the record
//    and leaves the file byte-identical; open then reads all 40 values.
// 2. Both copies damaged: open refuses, naming the record and the repair
//    command; fsck exits 1 saying so; `shardstore repair` exits 1 listing
//    the lost record; afterwards the store opens, and every key the lost
//    record did not write reads back exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotFoundError } from '../src/base/index.js';
import { CHUNK_OVERHEAD_BYTES, alignUp, parseHeader } from '../src/chunk/index.js';
import { runCli } from '../src/cli/index.js';
import type { CliIo } from '../src/cli/index.js';
import { FileDisk } from '../src/disk/index.js';
import { formatDiskStore, openDiskStore } from '../src/store/index.js';
import { Rng } from './rng.js';

const MIB = 1024 * 1024;
const EXTENT = MIB;
const KEYS = 40;
const VICTIM = 17;

function keyOf(i: number): Buffer {
  return Buffer.from(`shard/${String(i).padStart(3, '0')}`);
}

function valueOf(i: number): Buffer {
  return new Rng(`files/${i}`).bytes(500 + i * 101);
}

function capture(): CliIo & { readonly text: () => string } {
  const out: string[] = [];
  return { out: (l) => out.push(l), err: () => undefined, env: {}, text: () => out.join('\n') };
}

interface Abandoned {
  readonly dir: string;
  readonly path: string;
  readonly logExtents: readonly [number, number];
  /** Offsets of the log's records within a log extent (the same in both). */
  readonly records: readonly number[];
}

/** 40 durable puts, then the file handle closed under the store: no checkpoint, no clean close. */
async function abandoned(): Promise<Abandoned> {
  const dir = mkdtempSync(join(tmpdir(), 'metadamage-'));
  const path = join(dir, 'disk-0.dat');
  const disk = await FileDisk.open(path, { createSizeBytes: 32 * MIB });
  const store = await formatDiskStore(disk, { extentSizeBytes: EXTENT, background: false });
  for (let i = 0; i < KEYS; i++) await (await store.put(keyOf(i), valueOf(i))).persisted();
  const logExtents = [store.parts.state.logExtent, store.parts.state.mirrorLogExtent] as const;
  await disk.close();
  const image = readFileSync(path);
  const records: number[] = [];
  for (let at = 0; ; ) {
    const header = parseHeader(image, logExtents[0] * EXTENT + at);
    if (header === undefined) break;
    records.push(at);
    at = alignUp(at + CHUNK_OVERHEAD_BYTES + header.payloadBytes);
  }
  assert.equal(records.length, KEYS, 'one record per put');
  return { dir, path, logExtents, records };
}

function flip(path: string, offset: number): void {
  const fd = openSync(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, offset);
    b[0] = (b[0] ?? 0) ^ 0x10;
    writeSync(fd, b, 0, 1, offset);
  } finally {
    closeSync(fd);
  }
}

function digest(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** A byte inside record VICTIM of log copy `copy`. */
function victimByte(a: Abandoned, copy: 0 | 1): number {
  return a.logExtents[copy] * EXTENT + (a.records[VICTIM] ?? 0) + 60;
}

test('one copy of a middle log record damaged: fsck says so and changes nothing; every acknowledged key reads back', async () => {
  const a = await abandoned();
  try {
    flip(a.path, victimByte(a, 0));
    const before = digest(a.path);
    const io = capture();
    assert.equal(await runCli(['fsck', '--path', a.path], io), 1, io.text());
    assert.match(io.text(), /metadata log record \d+: copy 0 .* is damaged/);
    assert.equal(digest(a.path), before, 'fsck wrote to the data file');
    const store = await openDiskStore(await FileDisk.open(a.path));
    for (let i = 0; i < KEYS; i++) assert.ok((await store.get(keyOf(i))).equals(valueOf(i)), `key ${i}`);
    await store.close();
    const again = capture();
    assert.equal(await runCli(['fsck', '--path', a.path], again), 0, again.text());
  } finally {
    rmSync(a.dir, { recursive: true, force: true });
  }
});

test('both copies damaged: open refuses and names it, fsck reports it, repair salvages the rest and names the loss', async () => {
  const a = await abandoned();
  try {
    flip(a.path, victimByte(a, 0));
    flip(a.path, victimByte(a, 1));
    const file = await FileDisk.open(a.path);
    try {
      await assert.rejects(openDiskStore(file), /metadata log damaged: record \d+ is unreadable in both copies.*shardstore repair/s);
    } finally {
      await file.close(); // the refused open leaves the file (and its lock) to its opener
    }
    const fsck = capture();
    assert.equal(await runCli(['fsck', '--path', a.path], fsck), 1);
    assert.match(fsck.text(), /recovery failed: metadata log damaged/);
    const repair = capture();
    assert.equal(await runCli(['repair', '--path', a.path], repair), 1, repair.text());
    assert.match(repair.text(), /LOST {8}1 metadata log record/);
    const store = await openDiskStore(await FileDisk.open(a.path));
    for (let i = 0; i < KEYS; i++) {
      if (i === VICTIM) await assert.rejects(store.get(keyOf(i)), NotFoundError);
      else assert.ok((await store.get(keyOf(i))).equals(valueOf(i)), `key ${i}`);
    }
    await store.close();
    const after = capture();
    assert.equal(await runCli(['fsck', '--path', a.path], after), 0, after.text());
  } finally {
    rmSync(a.dir, { recursive: true, force: true });
  }
});
