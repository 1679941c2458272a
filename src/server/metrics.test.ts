// tier: quick (npm run test:quick; docs/TESTING.md)
// The request counters (metrics.ts): each (api, op) pair keeps its own
// counts by status, latency histogram and body bytes, and the exposition
// text has one line per pair and status, whatever order requests came in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics } from './metrics.js';
import type { RequestSample } from './metrics.js';

function sample(api: string, op: string, status: number, bytesIn = 0, bytesOut = 0, abortedWith?: string): RequestSample {
  return { api, op, status, seconds: 0.002, bytesIn, bytesOut, ...(abortedWith === undefined ? {} : { abortedWith }) };
}

function linesOf(text: string, family: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${family}{`) || l.startsWith(`${family} `));
}

void test('requests are counted per api, op and status; bytes and latency per api and op', () => {
  const m = new Metrics();
  m.observeRequest(sample('s3', 'PutObject', 200, 10, 0));
  m.observeRequest(sample('native', 'shard.put', 201, 5, 0));
  m.observeRequest(sample('s3', 'GetObject', 404, 0, 300));
  m.observeRequest(sample('s3', 'PutObject', 200, 20, 0));
  m.observeRequest(sample('s3', 'PutObject', 503, 7, 0));
  m.observeRequest(sample('s3', 'GetObject', 200, 0, 100, 'Corruption'));
  m.observeRequest(sample('s3', 'op "quoted"', 200));
  const text = m.render(undefined);
  assert.deepEqual(linesOf(text, 'shardstore_http_requests_total').sort(), [
    'shardstore_http_requests_total{api="native",op="shard.put",status="201"} 1',
    'shardstore_http_requests_total{api="s3",op="GetObject",status="200"} 1',
    'shardstore_http_requests_total{api="s3",op="GetObject",status="404"} 1',
    'shardstore_http_requests_total{api="s3",op="PutObject",status="200"} 2',
    'shardstore_http_requests_total{api="s3",op="PutObject",status="503"} 1',
    'shardstore_http_requests_total{api="s3",op="op \\"quoted\\"",status="200"} 1',
  ]);
  assert.deepEqual(linesOf(text, 'shardstore_http_request_body_bytes_total').sort(), [
    'shardstore_http_request_body_bytes_total{api="native",op="shard.put"} 5',
    'shardstore_http_request_body_bytes_total{api="s3",op="GetObject"} 0',
    'shardstore_http_request_body_bytes_total{api="s3",op="PutObject"} 37',
    'shardstore_http_request_body_bytes_total{api="s3",op="op \\"quoted\\""} 0',
  ]);
  assert.ok(linesOf(text, 'shardstore_http_response_body_bytes_total').includes('shardstore_http_response_body_bytes_total{api="s3",op="GetObject"} 400'));
  assert.ok(linesOf(text, 'shardstore_http_request_duration_seconds_count').includes('shardstore_http_request_duration_seconds_count{api="s3",op="PutObject"} 3'));
  assert.deepEqual(linesOf(text, 'shardstore_http_responses_aborted_total'), ['shardstore_http_responses_aborted_total{api="s3",op="GetObject",code="Corruption"} 1']);
});
