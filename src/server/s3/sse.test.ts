// tier: quick (npm run test:quick; docs/TESTING.md)
// What a request's encryption headers ask for (sse.ts), without a server:
// each malformed or inconsistent set gets AWS's answer, SSE-KMS is 501, and
// an SSE-C key over plain HTTP is served to a loopback peer only (TLS from
// anywhere). Each case is one request shape and the one answer it owes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Exchange } from '../exchange.js';
import { S3Error } from './s3_errors.js';
import { COPY_SOURCE_CUSTOMER_PREFIX, CUSTOMER_PREFIX, customerKeyOf, encryptionAskOf } from './sse.js';

const KEY = Buffer.alloc(32, 0x33);
const md5 = (b: Buffer): string => createHash('md5').update(b).digest('base64');
const ssec = (key: Buffer, prefix = CUSTOMER_PREFIX): Record<string, string> => ({
  [`${prefix}algorithm`]: 'AES256',
  [`${prefix}key`]: key.toString('base64'),
  [`${prefix}key-md5`]: md5(key),
});

/** Just what sse.ts reads of an exchange: the headers and the socket. */
function exchange(headers: Record<string, string>, socket: { remoteAddress: string; encrypted?: boolean } = { remoteAddress: '127.0.0.1' }): Exchange {
  return { req: { headers, socket } } as unknown as Exchange;
}

function answer(run: () => unknown): string {
  try {
    const value = run();
    return value === undefined ? 'none' : JSON.stringify(value, (_k, v: unknown) => (v instanceof Object && 'type' in v && v.type === 'Buffer' ? '<key>' : v));
  } catch (err) {
    if (err instanceof S3Error) return `${err.status} ${err.code}`;
    throw err;
  }
}

void test('write headers: SSE-S3, SSE-C, none; KMS 501; every malformed set its 400', () => {
  const cases: Array<[string, Record<string, string>, string]> = [
    ['none', {}, 'none'],
    ['SSE-S3', { 'x-amz-server-side-encryption': 'AES256' }, '{"mode":"sse-s3"}'],
    ['SSE-C', ssec(KEY), `{"mode":"sse-c","key":{"key":"<key>","md5":"${md5(KEY)}"}}`],
    ['aws:kms', { 'x-amz-server-side-encryption': 'aws:kms' }, '501 NotImplemented'],
    ['aws:kms:dsse', { 'x-amz-server-side-encryption': 'aws:kms:dsse' }, '501 NotImplemented'],
    ['an unknown method', { 'x-amz-server-side-encryption': 'AES128' }, '400 InvalidArgument'],
    ['SSE-S3 and SSE-C', { 'x-amz-server-side-encryption': 'AES256', ...ssec(KEY) }, '400 InvalidArgument'],
    ['SSE-C without the MD5', { ...ssec(KEY), [`${CUSTOMER_PREFIX}key-md5`]: '' }, '400 InvalidArgument'],
    ['SSE-C with another key\'s MD5', { ...ssec(KEY), [`${CUSTOMER_PREFIX}key-md5`]: md5(Buffer.alloc(32)) }, '400 InvalidArgument'],
    ['SSE-C with a 31-byte key', ssec(Buffer.alloc(31, 1)), '400 InvalidArgument'],
    ['SSE-C with AES128', { ...ssec(KEY), [`${CUSTOMER_PREFIX}algorithm`]: 'AES128' }, '400 InvalidArgument'],
    ['SSE-C key without an algorithm', { [`${CUSTOMER_PREFIX}key`]: KEY.toString('base64'), [`${CUSTOMER_PREFIX}key-md5`]: md5(KEY) }, '400 InvalidArgument'],
    ['SSE-C algorithm without a key', { [`${CUSTOMER_PREFIX}algorithm`]: 'AES256' }, '400 InvalidArgument'],
  ];
  for (const [what, headers, expected] of cases) {
    // An empty header value stands for an absent one.
    const given = Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== ''));
    assert.equal(answer(() => encryptionAskOf(exchange(given))), expected, what);
  }
});

void test('an SSE-C key over plain HTTP is taken from a loopback peer only; over TLS from anywhere', () => {
  for (const [socket, expected] of [
    [{ remoteAddress: '127.0.0.1' }, 'key'],
    [{ remoteAddress: '127.8.9.10' }, 'key'],
    [{ remoteAddress: '::1' }, 'key'],
    [{ remoteAddress: '::ffff:127.0.0.1' }, 'key'],
    [{ remoteAddress: '10.0.0.5' }, '400 InvalidRequest'],
    [{ remoteAddress: '::ffff:192.168.1.2' }, '400 InvalidRequest'],
    [{ remoteAddress: '128.0.0.1' }, '400 InvalidRequest'],
    [{ remoteAddress: '10.0.0.5', encrypted: true }, 'key'],
  ] as const) {
    for (const prefix of [CUSTOMER_PREFIX, COPY_SOURCE_CUSTOMER_PREFIX]) {
      const got = answer(() => (customerKeyOf(exchange(ssec(KEY, prefix), socket), prefix) === undefined ? undefined : 'key'));
      assert.equal(got, expected === 'key' ? '"key"' : expected, `${prefix} from ${JSON.stringify(socket)}`);
    }
  }
});
