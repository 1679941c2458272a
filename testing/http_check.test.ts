// The HTTP check (testing/http_check/) in npm test: a fixed-seed run of the
// `http` suite, the full walk of every unimplemented S3 subresource with
// every method, and checks of the checker itself (its answer parser, its
// replay).
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { unimplementedRoutes, subresourceCase } from './http_check/cases.js';
import type { AttackCase } from './http_check/cases.js';
import { call, serialize, signHeader } from './http_check/signing.js';
import { checkHttp, checkHttpCases, describeFailure } from './http_check/http_check.js';
import { exchange, parseAnswers } from './http_check/wire.js';
import { httpSuite } from './check/http_suite.js';
import { corsWildcard } from './mutants/http_check_mutants.js';

const SEEDS = [1, 2, 3];

void test('the http suite on fixed seeds: every answer as the model says, nothing changed by a refusal', async () => {
  // Checks invariants 1-7 of testing/http_check/http_check.ts over 3 seeds of 40 cases.
  const failures: string[] = [];
  for (const seed of SEEDS) {
    const result = await checkHttp({ seed });
    assert.ok(result.cases > 0, `seed ${seed} ran no case`);
    for (const f of result.failures) failures.push(`http:${seed}:${f.caseIndex}  ${describeFailure(f)}`);
  }
  assert.deepEqual(failures, [], failures.join('\n'));
});

void test('every unimplemented S3 subresource with every method is refused 501 NotImplemented and changes nothing', async () => {
  // Walks S3_SUBRESOURCES x GET/PUT/POST/DELETE/HEAD on a bucket that exists,
  // an empty one (a DELETE that falls through would remove it) and an object.
  const cases = unimplementedRoutes().flatMap((route) => (route.level === 'object' ? [subresourceCase(route, 'alpha')] : [subresourceCase(route, 'alpha'), subresourceCase(route, 'empty')]));
  const result = await checkHttpCases(11, cases);
  assert.equal(result.cases, cases.length);
  assert.deepEqual(result.failures.map(describeFailure), []);
});

void test('the answer parser refuses what is not HTTP/1.1', () => {
  // The well-formedness invariant is only as good as this parser: each
  // broken answer below must be named, each good one parsed whole.
  const good = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 204 No Content\r\n\r\n');
  const parsed = parseAnswers(good, ['GET', 'DELETE']);
  assert.equal(parsed.error, undefined);
  assert.deepEqual(parsed.answers.map((a) => [a.status, a.body.toString()]), [[200, 'hi'], [204, '']]);
  const chunked = parseAnswers(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n'), ['GET']);
  assert.equal(chunked.answers[0]?.body.toString(), 'hi');
  const head = parseAnswers(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n'), ['HEAD']);
  assert.equal(head.error, undefined);
  for (const bad of [
    'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhi',
    'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nhi',
    'HTTP/1.1 2000 OK\r\n\r\n',
    'HTTP/1.1 200 OK\r\nno colon\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhi\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 2',
  ]) {
    assert.notEqual(parseAnswers(Buffer.from(bad), ['GET']).error, undefined, JSON.stringify(bad));
  }
});

void test('a failure replays from its token to the same case and the same answer', async () => {
  // Checks that a seed is one run: with a broken variant installed (the CORS
  // wildcard, caught at the first well-formed S3 answer) seed 2's first
  // failure reruns identically from its token, and without it the seed passes.
  assert.equal((await httpSuite.runSeed(2)).failure, undefined);
  const restore = corsWildcard.install();
  try {
    const first = await httpSuite.runSeed(2);
    assert.ok(first.failure !== undefined, 'the variant was not caught');
    const again = await httpSuite.replay(first.failure.token);
    assert.equal(again.failure?.token, first.failure.token);
    assert.equal(again.failure?.message, first.failure.message);
    assert.match(first.failure.message, /^no-cors: /);
  } finally {
    restore();
  }
});

void test('the store comparison sees a request hidden behind another when the framing is honoured', async () => {
  // The control for the smuggling cases and for invariant 6: the same
  // hidden, signed DELETE behind a well-framed PUT does run (pipelined), and
  // a case that calls that a refusal must fail with the store's change.
  const hiddenBehindFramedPut: AttackCase = {
    family: 'control',
    property: 'control-property',
    describe: 'a well-framed PUT /v1/shards/smuggle, then a signed DELETE /v1/shards/native-1 pipelined',
    expect: ['201'],
    mayChange: false,
    build: async (nowMs) => {
      const put = await signHeader(call('PUT', '/v1/shards/smuggle', { body: Buffer.from('hello') }), nowMs);
      const hidden = await signHeader(call('DELETE', '/v1/shards/native-1'), nowMs);
      return { bytes: Buffer.concat([serialize(put), serialize(hidden)]), methods: ['PUT', 'DELETE'] };
    },
  };
  const result = await checkHttpCases(3, [hiddenBehindFramedPut]);
  const failure = result.failures[0];
  assert.equal(failure?.property, 'control-property', result.failures.map(describeFailure).join('\n'));
  assert.match(failure.detail, /the store changed/);
  assert.match(failure.detail, /- native-1 /);
});

void test('an exchange the server never answers ends as a hang, after the turn budget', async () => {
  // Checks invariant 1 against a listener that never answers.
  const silent = http.createServer(() => undefined);
  const wire = await exchange(silent, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), ['GET'], 50);
  assert.deepEqual([wire.finished, wire.turns, wire.bytes.length], [false, 50, 0]);
});
