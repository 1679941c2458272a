// tier: quick (npm run test:quick; docs/TESTING.md)
// Tests of the run builder's contract (run_builder.ts): what it accepts
// and refuses, at each limit. Runs as built are tested through the index
// (lsm_index.test.ts) and their format in run_format.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alignUp, framedBytes } from '../chunk/index.js';
import type { ChunkAppend, ChunkIo, ChunkKind, Locator } from '../chunk/index.js';
import { Dependency } from '../dependency/index.js';
import { MIN_BLOCK_BYTES, RunBuilder } from './run_builder.js';
import type { RunBuilderOptions, RunStreams } from './run_builder.js';
import { BLOCK_HEADER_BYTES, MAX_LEVEL, VALUE_TAG_BYTES, entryBytes } from './run_format.js';

/** Appends to its own extents (first `extent`), one chunk after another; `lie` shortens the locators it returns. */
class FakeStream implements ChunkIo {
  private offset = 0;
  readonly kinds: ChunkKind[] = [];

  constructor(
    readonly maxPayloadBytes: number,
    private readonly extent: number,
    private readonly lie = 0,
  ) {}

  append(kind: ChunkKind, payload: readonly Uint8Array[]): ChunkAppend {
    let bytes = 0;
    for (const p of payload) bytes += p.length;
    assert.ok(bytes <= this.maxPayloadBytes, `fake stream: payload ${bytes} above ${this.maxPayloadBytes}`);
    this.kinds.push(kind);
    const locator: Locator = { extent: this.extent, offset: this.offset, length: framedBytes(bytes) - this.lie };
    this.offset += alignUp(framedBytes(bytes));
    return { locator, dependency: Dependency.none };
  }

  read(): Promise<Buffer> {
    return Promise.reject(new Error('fake stream: not readable'));
  }
}

const streams = (payload = 4096, lie = 0): RunStreams => ({ primary: new FakeStream(payload, 1, lie), mirror: new FakeStream(payload, 2) });
const options = (o: Partial<RunBuilderOptions> = {}): RunBuilderOptions => ({ runId: 1, level: 0, maxSeq: 0, maxBlockBytes: 1024, bloomBitsPerKey: 10, ...o });
const refused = (f: () => unknown, message: RegExp): void => assert.throws(f, { name: 'AssertionError', message });

// Checks: the builder refuses options outside their ranges, one at a
// time, and takes the value at each limit: one stream for both copies,
// maxBlockBytes below MIN_BLOCK_BYTES or above the streams' payload limit,
// a negative, fractional or unsafe run id, a level outside 0..MAX_LEVEL or
// fractional, a negative or fractional maxSeq. How: a builder per case.
test('run builder options outside their ranges are refused; each limit is taken', () => {
  const one = new FakeStream(4096, 1);
  refused(() => new RunBuilder({ primary: one, mirror: one }, options()), /two streams/);
  refused(() => new RunBuilder(streams(), options({ maxBlockBytes: MIN_BLOCK_BYTES - 1 })), /maxBlockBytes/);
  refused(() => new RunBuilder(streams(), options({ maxBlockBytes: 4097 })), /maxBlockBytes above the chunk payload limit/);
  refused(() => new RunBuilder({ primary: new FakeStream(4096, 1), mirror: new FakeStream(2048, 2) }, options({ maxBlockBytes: 2049 })), /payload limit/);
  for (const runId of [-1, 0.5, 2 ** 53]) refused(() => new RunBuilder(streams(), options({ runId })), /run id/);
  for (const level of [-1, 0.5, MAX_LEVEL + 1]) refused(() => new RunBuilder(streams(), options({ level })), /run level/);
  for (const maxSeq of [-1, 0.5, 2 ** 53]) refused(() => new RunBuilder(streams(), options({ maxSeq })), /run maxSeq/);
  const limits: Array<Partial<RunBuilderOptions>> = [
    { maxBlockBytes: MIN_BLOCK_BYTES },
    { maxBlockBytes: 4096 },
    { runId: 0 },
    { runId: Number.MAX_SAFE_INTEGER },
    { level: MAX_LEVEL },
    { maxSeq: Number.MAX_SAFE_INTEGER },
  ];
  for (const o of limits) {
    const b = new RunBuilder(streams(), options(o));
    b.add(Buffer.from('k'), null);
    const built = b.finish();
    assert.ok(built !== undefined, JSON.stringify(o));
    assert.equal(built.descriptor.level, o.level ?? 0);
    assert.equal(built.descriptor.maxSeq, o.maxSeq ?? 0);
    assert.equal(built.descriptor.id, o.runId ?? 1);
  }
});

// Checks: keys must strictly ascend (an equal or smaller key is refused),
// nothing is added after finish and finish runs once, a builder with no
// entry writes nothing, an entry whose block would exceed a chunk payload
// is refused naming its size while one that fills it exactly is written,
// and a stream returning a locator of the wrong length is caught. How: a
// builder per rule, fake streams that record what they were given.
test('run builder refuses keys out of order, use after finish, oversized entries and wrong locators', () => {
  const b = new RunBuilder(streams(), options());
  b.add(Buffer.from('b'), null);
  refused(() => b.add(Buffer.from('b'), null), /strictly ascend/);
  refused(() => b.add(Buffer.from('a'), null), /strictly ascend/);
  b.add(Buffer.from('c'), null);
  assert.equal(b.entryCount, 2);
  assert.ok(b.finish() !== undefined);
  refused(() => b.add(Buffer.from('d'), null), /already finished/);
  refused(() => b.finish(), /finished twice/);

  const quiet = streams();
  assert.equal(new RunBuilder(quiet, options()).finish(), undefined);
  assert.deepEqual((quiet.primary as FakeStream).kinds, []);

  const payload = 512;
  const fits = payload - BLOCK_HEADER_BYTES - entryBytes(0, VALUE_TAG_BYTES);
  const full = new RunBuilder(streams(payload), options({ maxBlockBytes: payload }));
  full.add(Buffer.alloc(fits, 0x61), null);
  refused(() => full.add(Buffer.alloc(fits + 1, 0x62), null), new RegExp(`index entry of ${entryBytes(fits + 1, VALUE_TAG_BYTES)} bytes exceeds a chunk`));
  const built = full.finish();
  assert.ok(built !== undefined);
  assert.equal(built.descriptor.entryCount, 1);
  assert.equal(built.primary.body.blocks.length, 1);

  const liar = new RunBuilder(streams(4096, 8), options());
  liar.add(Buffer.from('k'), null);
  refused(() => liar.finish(), /locator of the wrong length/);
});
