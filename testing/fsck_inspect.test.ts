// tier: quick (npm run test:quick; docs/TESTING.md)
// fsck and inspect, end to end through the command line on real data files.
// A node of two small disks (32 MiB files, 1 MiB extents) gets some shards
// and a second checkpoint (so both slots are valid), then is closed. Checks:
// fsck of the clean files exits 0 and reports both slots valid; a flipped
// byte in one shard's data chunk makes fsck exit 1 naming that shard (and
// only it); a corrupted checkpoint slot still opens (the slot is reported
// invalid, recovery uses the other); inspect writes an SVG with exactly one
// extent cell per extent of each disk, and an HTML page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, openSync, readFileSync, rmSync, writeSync, readSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../src/cli/index.js';
import type { CliIo } from '../src/cli/index.js';
import { ShardNode } from '../src/node/index.js';
import type { Locator } from '../src/chunk/index.js';

const MIB = 1024 * 1024;
const DISKS = 2;
const KEYS = Array.from({ length: 40 }, (_, i) => Buffer.from(`shard/${String(i).padStart(3, '0')}`));

function capture(): CliIo & { readonly outText: () => string } {
  const out: string[] = [];
  return { out: (l) => out.push(l), err: () => undefined, env: {}, outText: () => out.join('\n') };
}

interface Built {
  readonly dir: string;
  /** Disk offset of the victim's first data chunk, its disk, and each disk's slot offsets and sequences. */
  readonly victim: { readonly key: Buffer; readonly disk: number; readonly diskOffset: number };
  readonly slots: ReadonlyArray<{ readonly offsets: readonly [number, number] }>;
  readonly extentCount: number;
}

async function build(): Promise<Built> {
  const dir = mkdtempSync(join(tmpdir(), 'fsck-'));
  const node = await ShardNode.openOrCreate({ dataDir: dir, disks: DISKS, diskSizeBytes: 32 * MIB, extentSizeBytes: MIB });
  for (const [i, key] of KEYS.entries()) await (await node.put(key, Buffer.alloc(1000 + i * 997, i + 1))).persisted();
  await node.flush();
  for (let d = 0; d < DISKS; d++) await node.store(d)?.checkpoint();
  const key = KEYS[7] ?? Buffer.alloc(1);
  const disk = node.diskOf(key);
  const store = node.store(disk);
  assert.ok(store !== undefined);
  const loc: Locator | undefined = (await store.parts.index.lookup(key))?.chunks[0];
  assert.ok(loc !== undefined);
  const diskOffset = store.parts.extents.diskOffset(loc.extent, loc.offset + Math.floor(loc.length / 2));
  const slots = Array.from({ length: DISKS }, (_, d) => ({ offsets: node.store(d)?.parts.label.slotOffsets ?? ([0, 0] as const) }));
  const extentCount = store.parts.label.geometry.extentCount;
  await node.close();
  return { dir, victim: { key, disk, diskOffset }, slots, extentCount };
}

function flipByte(path: string, offset: number): void {
  const fd = openSync(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, offset);
    b[0] = (b[0] ?? 0) ^ 0x5a;
    writeSync(fd, b, 0, 1, offset);
  } finally {
    closeSync(fd);
  }
}

async function fsck(dir: string): Promise<{ code: number; text: string; json: { clean: boolean; disks: Array<{ slots: Array<{ slot: number; state: string; sequence?: number }>; usedSlot?: number; damaged: Array<{ key: string }>; problems: string[] }> } }> {
  const io = capture();
  const code = await runCli(['fsck', '--data-dir', dir], io);
  const jio = capture();
  const jcode = await runCli(['fsck', '--data-dir', dir, '--json'], jio);
  assert.equal(jcode, code, 'text and JSON runs agree');
  return { code, text: io.outText(), json: JSON.parse(jio.outText()) as never };
}

void test('fsck: clean files pass, a flipped data byte names its shard, a bad checkpoint slot still opens; inspect draws every extent', async () => {
  const b = await build();
  try {
    const clean = await fsck(b.dir);
    assert.equal(clean.code, 0, clean.text);
    for (const copy of [0, 1]) {
      assert.match(clean.text, new RegExp(`slot 0 copy ${copy}: valid, sequence \\d+`));
      assert.match(clean.text, new RegExp(`slot 1 copy ${copy}: valid, sequence \\d+`));
    }
    assert.equal(clean.json.disks.length, DISKS);
    for (const d of clean.json.disks) assert.deepEqual(d.problems, []);

    // One copy of the checkpoint slot recovery does not use damaged: still
    // opens, still clean (a warning), that copy reported invalid.
    const d0 = clean.json.disks[0];
    assert.ok(d0?.usedSlot !== undefined);
    const older = d0.usedSlot === 0 ? 1 : 0;
    flipByte(join(b.dir, 'disk-0.dat'), (b.slots[0]?.offsets[older] ?? 0) + 30);
    const slotBad = await fsck(b.dir);
    assert.equal(slotBad.code, 0, slotBad.text);
    assert.equal(slotBad.json.disks[0]?.slots.find((s) => s.slot === older)?.state, 'invalid');
    assert.match(slotBad.text, new RegExp(`slot ${older} copy 0: INVALID`));

    // A flipped byte in one shard's data chunk: exit 1, that shard named, no other.
    flipByte(join(b.dir, `disk-${b.victim.disk}.dat`), b.victim.diskOffset);
    const bad = await fsck(b.dir);
    assert.equal(bad.code, 1, bad.text);
    const damaged = bad.json.disks.flatMap((d) => d.damaged.map((x) => x.key));
    assert.deepEqual(damaged, ['shard%2F007'], 'keys percent-encoded');
    assert.match(bad.text, /DAMAGED\s+shard key=shard%2F007/);

    // inspect: one <rect class="extent"> per extent of each disk.
    const svgPath = join(b.dir, 'map.svg');
    const io = capture();
    assert.equal(await runCli(['inspect', '--data-dir', b.dir, '--out', svgPath], io), 0);
    assert.equal(io.outText(), svgPath);
    const svg = readFileSync(svgPath, 'utf8');
    assert.equal((svg.match(/<rect class="extent"/g) ?? []).length, DISKS * b.extentCount);
    assert.ok((svg.match(/data-owner="data"/g) ?? []).length > 0);
    const htmlPath = join(b.dir, 'map.html');
    assert.equal(await runCli(['inspect', '--data-dir', b.dir, '--out', htmlPath], capture()), 0);
    assert.match(readFileSync(htmlPath, 'utf8'), /^<!DOCTYPE html>[\s\S]*<svg[\s\S]*<table>/);

    // Usage errors exit 2.
    assert.equal(await runCli(['fsck'], capture()), 2);
    assert.equal(await runCli(['inspect', '--data-dir', b.dir, '--out', 'x.png'], capture()), 2);
  } finally {
    rmSync(b.dir, { recursive: true, force: true });
  }
});
