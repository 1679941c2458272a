// Migration streams (docs/format/migration.md): export a key range from a
// node, import it into another, resume after an interruption. Checked:
// round trips for prefix, [start, end) and startAfter ranges between two
// nodes of simulated disks; a stream cut at every sampled byte imports
// exactly the records wholly before the cut and reports durableThrough, and
// resuming with an export from startAfter = durableThrough completes it; a
// byte flipped anywhere is detected and never stored (records before it are
// applied, none after); the reader on random and mutated bytes returns
// records or a typed error, never anything else; format rules (magic,
// version, key order, range, counts, trailing bytes) are enforced; streaming
// checksums compose. Fixed seeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ShardStoreError, crc32c } from '../base/index.js';
import { MigrationReader, encodeEnd, encodeHeader, encodeRecordHeader, encodeCrc, exportRange, importStream } from './index.js';
import type { KeyRange } from './index.js';
import { SMALL_CONFIG } from '../../testing/conformance.js';
import { buildStream, collect, damaged, decodeStream, expectedImport, pieces } from '../../testing/migration_streams.js';
import type { StreamRecord } from '../../testing/migration_streams.js';
import { ModelStore } from '../../testing/model.js';
import { valueOf } from '../../testing/ops.js';
import { SimNode } from '../../testing/sim_node.js';

const KEYS = ['a', 'a/1', 'a/2', 'a/3', 'ab', 'b', 'b/1', 'b/x', 'c', 'c/0'].map((k) => Buffer.from(k));

async function sourceNode(seed: number): Promise<SimNode> {
  const sim = await SimNode.create(SMALL_CONFIG, seed);
  for (const [i, key] of KEYS.entries()) await sim.node.put(key, valueOf((i * 2111) % 14000, i));
  return sim;
}

async function contents(api: { list: ModelStore['list']; get: ModelStore['get'] }): Promise<string[]> {
  const out: string[] = [];
  for (const s of (await api.list({})).shards) out.push(`${s.key.toString()}=${crc32c(await api.get(s.key))}`);
  return out;
}

void test('export then import moves exactly the range: prefix, [start, end), startAfter', async () => {
  const src = await sourceNode(1);
  const ranges: Array<[KeyRange, string[]]> = [
    [{ prefix: Buffer.from('a/') }, ['a/1', 'a/2', 'a/3']],
    [{ start: Buffer.from('a/2'), end: Buffer.from('b/1') }, ['a/2', 'a/3', 'ab', 'b']],
    [{ prefix: Buffer.from('b'), startAfter: Buffer.from('b') }, ['b/1', 'b/x']],
    [{}, KEYS.map((k) => k.toString())],
  ];
  for (const [range, keys] of ranges) {
    const dst = await SimNode.create(SMALL_CONFIG, 2);
    const report = await dst.node.importStream(src.node.exportRange(range));
    assert.equal(report.complete, true, JSON.stringify(report.error));
    assert.deepEqual([report.records, report.durableThrough?.toString()], [keys.length, keys.at(-1)]);
    const want = (await contents(src.node)).filter((c) => keys.includes(c.split('=')[0] ?? ''));
    assert.deepEqual(await contents(dst.node), want);
    await dst.node.close();
  }
  await src.node.close();
});

void test('a stream cut at any byte imports the records before the cut; resuming from durableThrough completes it', async () => {
  const src = await sourceNode(3);
  const whole = await collect(src.node.exportRange({}));
  const decoded = await decodeStream(whole);
  const stream = buildStream({}, decoded.records);
  assert.ok(stream.bytes.equals(whole), 'the export is the stream the format gives');
  const cuts = new Set<number>([0, 1, whole.length - 1]);
  for (const s of stream.spans) for (const at of [s.start, s.start + 1, s.headerEnd - 1, s.headerEnd, s.end - 1, s.end]) cuts.add(at);
  for (let at = 0; at < whole.length; at += 97) cuts.add(at);
  for (const cut of cuts) {
    const dst = new ModelStore();
    const report = await importStream(dst, pieces(whole.subarray(0, cut), cut));
    const { whole: good } = expectedImport(stream, cut, Infinity);
    assert.deepEqual([report.records, report.complete, report.error?.code], [good, false, 'Corruption'], `cut at ${cut}`);
    const resume = report.durableThrough === undefined ? {} : { startAfter: report.durableThrough };
    const rest = await importStream(dst, exportRange(src.node, resume));
    assert.equal(rest.complete, true);
    assert.deepEqual(await contents(dst), await contents(src.node), `cut at ${cut}`);
  }
  await src.node.close();
});

void test('a byte flipped anywhere is detected: records before it applied, it and those after never', async () => {
  const records: StreamRecord[] = KEYS.slice(0, 5).map((key, i) => ({ key, value: valueOf(40 + i * 30, i) }));
  const stream = buildStream({ prefix: Buffer.from('a') }, records);
  for (let at = 0; at < stream.bytes.length; at++) {
    const dst = new ModelStore();
    const report = await importStream(dst, pieces(damaged(stream, Infinity, at), at));
    const { whole } = expectedImport(stream, Infinity, at);
    assert.deepEqual([report.records, report.complete, report.error?.code], [whole, false, 'Corruption'], `flip at ${at}`);
    const stored = (await dst.list({})).shards.map((s) => s.key.toString());
    assert.deepEqual(stored, records.slice(0, whole).map((r) => r.key.toString()), `flip at ${at}`);
  }
});

async function readAll(bytes: Buffer): Promise<void> {
  const reader = await MigrationReader.open(pieces(bytes, bytes.length));
  for (let r = await reader.next(); r !== undefined; r = await reader.next()) await collect(r.body);
}

void test('the reader on random and mutated bytes: records or a typed error, nothing else', async () => {
  const valid = buildStream({ start: Buffer.from('a') }, KEYS.slice(0, 4).map((key, i) => ({ key, value: valueOf(i * 20, i) }))).bytes;
  const bytesArb = fc.oneof(
    fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)),
    fc.tuple(fc.nat({ max: valid.length - 1 }), fc.nat({ max: 255 }), fc.nat({ max: valid.length })).map(([at, v, cut]) => {
      const b = Buffer.from(valid.subarray(0, Math.max(cut, at + 1)));
      b[at] = v;
      return b;
    }),
  );
  await fc.assert(
    fc.asyncProperty(bytesArb, async (bytes) => {
      try {
        await readAll(bytes);
      } catch (err: unknown) {
        if (!(err instanceof ShardStoreError)) throw err;
      }
    }),
    { seed: 77, numRuns: 3000 },
  );
});

void test('format rules: magic, version, ascending keys, range, counts, nothing after the end', async () => {
  const rec = (key: string, value: string): Buffer[] => [encodeRecordHeader(Buffer.from(key), value.length), Buffer.from(value), encodeCrc(crc32c(Buffer.from(value)))];
  const codeOf = async (bytes: Buffer): Promise<string> => {
    try {
      await readAll(bytes);
      return 'ok';
    } catch (err: unknown) {
      return err instanceof ShardStoreError ? `${err.code}: ${err.message}` : String(err);
    }
  };
  const good = buildStream({ prefix: Buffer.from('k') }, [{ key: Buffer.from('k1'), value: Buffer.from('x') }]).bytes;
  assert.equal(await codeOf(good), 'ok');
  const badMagic = Buffer.from(good);
  badMagic[0] = 0;
  assert.match(await codeOf(badMagic), /bad magic/);
  const v2 = Buffer.from(good);
  v2.writeUInt16LE(2, 4);
  assert.match(await codeOf(v2), /version 2/);
  const end = (n: number): Buffer => encodeEnd({ records: n, bytes: 0, streamCrc: 0 });
  assert.match(await codeOf(Buffer.concat([encodeHeader({}), ...rec('b', ''), ...rec('a', ''), end(2)])), /ascending key order/);
  assert.match(await codeOf(Buffer.concat([encodeHeader({ prefix: Buffer.from('k') }), ...rec('z', ''), end(1)])), /outside the stream's key range/);
  assert.match(await codeOf(Buffer.concat([encodeHeader({}), end(1)])), /end record says 1 records/);
  assert.match(await codeOf(Buffer.concat([good, Buffer.from([0])])), /bytes after the end record/);
  assert.match(await codeOf(good.subarray(0, good.length - 1)), /ends inside the end record/);
});

void test('streaming checksums compose: crc32c(a + b) = crc32c(b, crc32c(a))', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }), (a, b) => {
      assert.equal(crc32c(Buffer.concat([a, b])), crc32c(b, crc32c(a)));
    }),
    { seed: 5, numRuns: 500 },
  );
});
