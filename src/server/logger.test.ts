// tier: quick (npm run test:quick; docs/TESTING.md)
// The JSON line logger (src/server/logger.ts) gathers lines and writes them
// once per turn of the event loop: checks that every line arrives, in
// order, as one JSON object per line; that a burst is one write; and that
// an error line is written at once, with what was gathered before it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { jsonLineLogger } from './index.js';
import { formatLine, isoNow } from './logger.js';
import type { LogLevel } from './logger.js';

function sink(): { out: Writable; writes: string[] } {
  const writes: string[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, done): void {
      writes.push(chunk.toString());
      done();
    },
  });
  return { out, writes };
}

void test('a burst of lines is one write after the turn; every line arrives in order', async () => {
  const { out, writes } = sink();
  const logger = jsonLineLogger(out);
  for (let i = 0; i < 100; i++) logger.log('info', 'request', { i });
  assert.equal(writes.length, 0);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(writes.length, 1);
  const lines = writes.join('').trimEnd().split('\n').map((l) => JSON.parse(l) as { msg: string; i: number; level: string });
  assert.deepEqual(lines.map((l) => l.i), Array.from({ length: 100 }, (_, i) => i));
  assert.ok(lines.every((l) => l.msg === 'request' && l.level === 'info'));
});

void test('an error is written at once, after the lines gathered before it', () => {
  const { out, writes } = sink();
  const logger = jsonLineLogger(out);
  logger.log('info', 'first');
  logger.log('error', 'broken', { err: new Error('boom') });
  assert.equal(writes.length, 1);
  const [first, second] = writes.join('').trimEnd().split('\n').map((l) => JSON.parse(l) as { msg: string; err?: { message: string } });
  assert.equal(first?.msg, 'first');
  assert.equal(second?.msg, 'broken');
  assert.equal(second?.err?.message, 'boom');
});

void test('a line of plain fields (the fast path) holds what the merged record holds, time, level and msg first', () => {
  const value = fc.oneof(fc.string(), fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined));
  // Names include the record's own (time, level, msg), which the fast path must leave to the merged record.
  const name = fc.oneof(fc.string(), fc.constantFrom('time', 'level', 'msg', '__proto__', 'a"b', '\u2028'));
  fc.assert(
    fc.property(fc.constantFrom<LogLevel>('info', 'warn', 'error'), fc.string(), fc.dictionary(name, value), (level, msg, fields) => {
      const time = '2026-12-07T21:00:00.000Z';
      const line = formatLine(level, msg, fields, time);
      assert.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'), line);
      assert.deepEqual(JSON.parse(line), JSON.parse(JSON.stringify({ time, level, msg, ...fields })));
      // The record's own names lead every line (the merged record would put array-index names first).
      const own = ['time', 'level', 'msg'].some((k) => Object.hasOwn(fields, k));
      if (!own) assert.ok(line.startsWith(`{"time":"${time}","level":"${level}","msg":${JSON.stringify(msg)}`), line);
    }),
    { seed: 20261207, numRuns: 500 },
  );
});

void test('the time of a line is the time it was logged, in ISO 8601', () => {
  const time = (JSON.parse(formatLine('info', 'm', {})) as { time: string }).time;
  assert.ok(Math.abs(Date.parse(time) - Date.now()) < 60_000, time);
});

void test('fields that are not plain values (an error, a bigint, an object) go through the replacer', () => {
  const parsed = JSON.parse(formatLine('error', 'm', { error: new Error('boom'), n: 5n, nested: { a: 1 } })) as Record<string, unknown>;
  assert.deepEqual(parsed['error'] !== null && typeof parsed['error'] === 'object' ? (parsed['error'] as { message: string }).message : undefined, 'boom');
  assert.equal(parsed['n'], '5');
  assert.deepEqual(parsed['nested'], { a: 1 });
});

void test('isoNow writes any time as Date.toISOString does, whatever time it wrote before', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 253_402_300_799_999 }), fc.array(fc.integer({ min: -2_500, max: 2_500 }), { maxLength: 20 }), (start, steps) => {
      let ms = start;
      for (const step of [0, ...steps]) {
        ms = Math.min(253_402_300_799_999, Math.max(0, ms + step));
        assert.equal(isoNow(ms), new Date(ms).toISOString(), `at ${ms}`);
      }
    }),
    { seed: 20261207, numRuns: 300 },
  );
});
