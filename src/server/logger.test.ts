// tier: quick (npm run test:quick; docs/TESTING.md)
// The JSON line logger (src/server/logger.ts) gathers lines and writes them
// once per turn of the event loop: checks that every line arrives, in
// order, as one JSON object per line; that a burst is one write; and that
// an error line is written at once, with what was gathered before it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { jsonLineLogger } from './index.js';

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
