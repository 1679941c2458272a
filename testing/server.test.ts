// tier: quick (npm run test:quick; docs/TESTING.md)
// The native shard API server, over the reference model (testing/model.ts).
//
// Strategy: each test starts a server on an ephemeral port over a ModelStore
// (sometimes wrapped to delay durability, inject errors or watch the value
// stream) and talks to it with global fetch, or node:http where a test needs
// to abort a request at a chosen moment. The model is the oracle: what the
// server answers must match what the model holds.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { test } from 'node:test';
import { CorruptionError, IoError, NoSpaceError, NotFoundError } from '../src/base/index.js';
import { Dependency, Latch, Ticket } from '../src/dependency/index.js';
import type { ShardServer } from '../src/server/index.js';
import { signedFetch, signedHeaders, TEST_CREDENTIALS } from './signed_fetch.js';
import { createShardServer, encodeKey, RequestAbortedError, parseRangeHeader, resolveRange, silentLogger } from '../src/server/index.js';
import type { ShardApi, ValueSource } from '../src/store/types.js';
import { MAX_KEY_BYTES } from '../src/store/types.js';
import { ModelStore } from './model.js';
import { primedBodyLeaksReader } from './mutants/http_mutants.js';

interface Running {
  readonly base: string;
  readonly port: number;
  readonly shardServer: ShardServer;
}

async function withServer(api: ShardApi, fn: (s: Running) => Promise<void>): Promise<void> {
  const shardServer = createShardServer(api, { logger: silentLogger, shutdownGraceMs: 2_000, credentials: TEST_CREDENTIALS });
  const { port } = await shardServer.listen(0, '127.0.0.1');
  try {
    await fn({ base: `http://127.0.0.1:${port}`, port, shardServer });
  } finally {
    await shardServer.close();
  }
}

/** Delegates every call to `inner` except those given in `over`. */
function wrap(inner: ShardApi, over: Partial<ShardApi>): ShardApi {
  return {
    put: over.put ?? ((key, value) => inner.put(key, value)),
    get: over.get ?? ((key) => inner.get(key)),
    find: over.find ?? ((key) => inner.find(key)),
    read: over.read ?? ((key, range) => inner.read(key, range)),
    head: over.head ?? ((key) => inner.head(key)),
    delete: over.delete ?? ((key) => inner.delete(key)),
    list: over.list ?? ((options) => inner.list(options)),
    flush: over.flush ?? (() => inner.flush()),
    close: over.close ?? (() => inner.close()),
    stats: over.stats ?? (() => inner.stats()),
  };
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T>(): Deferred<T> {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** A ticket that tells when someone first waits on it (the server awaiting durability): a latch, not a timer. */
class WatchedTicket extends Ticket {
  readonly waited = deferred<void>();

  override onSettled(fn: () => void): void {
    this.waited.resolve();
    super.onSettled(fn);
  }
}

async function errorCode(res: Response): Promise<string> {
  const body = (await res.json()) as { error: { code: string } };
  return body.error.code;
}

async function put(base: string, encodedKey: string, body: Uint8Array | string): Promise<Response> {
  return signedFetch(`${base}/v1/shards/${encodedKey}`, { method: 'PUT', body });
}

void test('put, get, head and delete round-trip through the model', async () => {
  // Checks the basic request plane and its status codes, and that the model
  // holds exactly what was put and nothing after the delete.
  const model = new ModelStore();
  await withServer(model, async ({ base }) => {
    const created = await put(base, 'greeting', 'hello');
    assert.equal(created.status, 201);
    assert.deepEqual(await created.json(), { key: 'greeting', sizeBytes: 5 });
    assert.deepEqual(await model.get(Buffer.from('greeting')), Buffer.from('hello'));

    const got = await signedFetch(`${base}/v1/shards/greeting`);
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('accept-ranges'), 'bytes');
    assert.equal(await got.text(), 'hello');

    const head = await signedFetch(`${base}/v1/shards/greeting`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '5');

    const overwritten = await put(base, 'greeting', '');
    assert.equal(overwritten.status, 201);
    assert.equal((await signedFetch(`${base}/v1/shards/greeting`)).headers.get('content-length'), '0');

    assert.equal((await signedFetch(`${base}/v1/shards/greeting`, { method: 'DELETE' })).status, 204);
    const gone = await signedFetch(`${base}/v1/shards/greeting`);
    assert.equal(gone.status, 404);
    assert.equal(await errorCode(gone), 'NotFound');
    const deleteAgain = await signedFetch(`${base}/v1/shards/greeting`, { method: 'DELETE' });
    assert.equal(deleteAgain.status, 404);
    assert.equal((await signedFetch(`${base}/v1/shards/greeting`, { method: 'HEAD' })).status, 404);
    await assert.rejects(model.head(Buffer.from('greeting')), NotFoundError);
  });
});

void test('percent-encoded keys decode to their exact bytes', async () => {
  // Checks that %XX is one raw byte (either hex case), that a literal '/' and
  // '+' stay in the key, that listing re-encodes the bytes, and that
  // malformed escapes are a 400, by comparing with the keys the model holds.
  const model = new ModelStore();
  await withServer(model, async ({ base }) => {
    // (A key may not start with 0x00, the S3 front's range: testing/http_namespace.test.ts.)
    const binary = Buffer.from([0x01, 0x00, 0xff, 0x2f, 0x20, 0x25, 0x3f, 0x23, 0x80]);
    assert.equal((await put(base, encodeKey(binary), 'bin')).status, 201);
    assert.deepEqual(await model.get(binary), Buffer.from('bin'));
    assert.equal(await (await signedFetch(`${base}/v1/shards/%01%00%Ff%2F%20%25%3F%23%80`)).text(), 'bin');

    assert.equal((await put(base, 'dir/sub/file+1', 'nested')).status, 201);
    assert.deepEqual(await model.get(Buffer.from('dir/sub/file+1')), Buffer.from('nested'));

    const listing = (await (await signedFetch(`${base}/v1/shards`)).json()) as { shards: Array<{ key: string }> };
    assert.deepEqual(
      listing.shards.map((s) => s.key),
      ['%01%00%FF%2F%20%25%3F%23%80', 'dir%2Fsub%2Ffile%2B1'],
    );

    const malformed = await signedFetch(`${base}/v1/shards/bad%zz`);
    assert.equal(malformed.status, 400);
    assert.equal(await errorCode(malformed), 'InvalidArgument');
    assert.equal((await signedFetch(`${base}/v1/shards/trailing%4`)).status, 400);
  });
});

void test('single byte ranges answer 206, unsatisfiable ones 416', async () => {
  // Checks each Range form against slices of a known 100-byte value, the
  // clamping of a too-long range, 416 with `bytes */size`, and that headers
  // we do not support are ignored (whole value, 200).
  const model = new ModelStore();
  const value = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
  await model.put(Buffer.from('r'), value);
  await model.put(Buffer.from('empty'), Buffer.alloc(0));
  await withServer(model, async ({ base }) => {
    const get = (range: string, key = 'r'): Promise<Response> =>
      signedFetch(`${base}/v1/shards/${key}`, { headers: { Range: range } });
    const cases: Array<[string, number, number]> = [
      ['bytes=10-19', 10, 20],
      ['bytes=90-', 90, 100],
      ['bytes=-5', 95, 100],
      ['bytes=95-200', 95, 100],
      ['bytes=-500', 0, 100],
      ['bytes=0-0', 0, 1],
    ];
    for (const [range, start, end] of cases) {
      const res = await get(range);
      assert.equal(res.status, 206, range);
      assert.equal(res.headers.get('content-range'), `bytes ${start}-${end - 1}/100`, range);
      assert.equal(res.headers.get('content-length'), String(end - start), range);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), value.subarray(start, end), range);
    }
    for (const [range, key] of [['bytes=100-', 'r'], ['bytes=-0', 'r'], ['bytes=0-', 'empty'], ['bytes=-1', 'empty']]) {
      const res = await get(range ?? '', key);
      assert.equal(res.status, 416, range);
      assert.equal(res.headers.get('content-range'), `bytes */${key === 'r' ? 100 : 0}`);
      assert.equal(await errorCode(res), 'InvalidRange');
    }
    for (const ignored of ['items=1-2', 'bytes=0-1,5-6', 'bytes=5-2', 'bytes=x-']) {
      const res = await get(ignored);
      assert.equal(res.status, 200, ignored);
      assert.equal((await res.arrayBuffer()).byteLength, 100);
    }
    assert.equal((await get('bytes=0-', 'absent')).status, 404);
  });
});

void test('range parsing and resolution follow RFC 9110', () => {
  // Checks the pure functions directly, including numbers past 2^53 and the
  // zero-length value, where no range is satisfiable.
  assert.deepEqual(parseRangeHeader('bytes=1-2'), { kind: 'from', first: 1, last: 2 });
  assert.deepEqual(parseRangeHeader(' Bytes = 7 - '), { kind: 'from', first: 7, last: undefined });
  assert.deepEqual(parseRangeHeader('bytes=-3'), { kind: 'suffix', length: 3 });
  assert.equal(parseRangeHeader('bytes=-'), undefined);
  assert.equal(parseRangeHeader(undefined), undefined);
  const huge = parseRangeHeader('bytes=99999999999999999999-');
  assert.ok(huge !== undefined);
  assert.equal(resolveRange(huge, 10), 'unsatisfiable');
  assert.deepEqual(resolveRange({ kind: 'from', first: 0, last: 99999999999999999999 }, 10), { start: 0, end: 10 });
  assert.equal(resolveRange({ kind: 'suffix', length: 5 }, 0), 'unsatisfiable');
});

void test('listing pages through keys in byte order', async () => {
  // Checks prefix, start-after and limit against the expected byte order
  // (0xff sorts last), follows nextStartAfter until the listing is whole,
  // and checks that bad parameters are a 400.
  const model = new ModelStore();
  const keys = [Buffer.from('a'), Buffer.from('b'), Buffer.from('ba'), Buffer.from('bb'), Buffer.from('c'), Buffer.from([0xff])];
  for (const [i, key] of keys.entries()) await model.put(key, Buffer.alloc(i));
  await withServer(model, async ({ base }) => {
    type Page = { shards: Array<{ key: string; sizeBytes: number }>; truncated: boolean; nextStartAfter?: string };
    const list = async (query: string): Promise<Page> => {
      const res = await signedFetch(`${base}/v1/shards${query}`);
      assert.equal(res.status, 200, query);
      return (await res.json()) as Page;
    };
    const all = await list('');
    assert.deepEqual(all.shards.map((s) => s.key), ['a', 'b', 'ba', 'bb', 'c', '%FF']);
    assert.deepEqual(all.shards.map((s) => s.sizeBytes), [0, 1, 2, 3, 4, 5]);
    assert.equal(all.truncated, false);
    assert.equal(all.nextStartAfter, undefined);
    assert.deepEqual((await list('?prefix=b')).shards.map((s) => s.key), ['b', 'ba', 'bb']);
    assert.deepEqual((await list('?start-after=b')).shards.map((s) => s.key), ['ba', 'bb', 'c', '%FF']);
    assert.deepEqual((await list('?prefix=b&start-after=ba')).shards.map((s) => s.key), ['bb']);
    assert.deepEqual((await list('?prefix=%FF')).shards.map((s) => s.key), ['%FF']);

    const seen: string[] = [];
    let query = '?limit=4';
    for (let pages = 0; pages < 10; pages++) {
      const page = await list(query);
      seen.push(...page.shards.map((s) => s.key));
      if (!page.truncated) break;
      assert.ok(page.nextStartAfter !== undefined);
      query = `?limit=4&start-after=${page.nextStartAfter}`;
    }
    assert.deepEqual(seen, all.shards.map((s) => s.key));

    for (const bad of ['?limit=0', '?limit=abc', '?limit=-1', '?limit=1&limit=2', '?prefix=%G0']) {
      const res = await signedFetch(`${base}/v1/shards${bad}`);
      assert.equal(res.status, 400, bad);
      assert.equal(await errorCode(res), 'InvalidArgument');
    }
  });
});

void test('routes, methods, key lengths and store errors map to documented statuses', async () => {
  // Checks 404/405 with JSON bodies and Allow, the 1..1024-byte key bound at
  // both ends, health, and the status of each typed store error (a wrapped
  // model throws them), with unknown errors hidden behind a generic 500.
  const model = new ModelStore();
  const api = wrap(model, {
    put: (key, value) => {
      if (key.toString() === 'full') return Promise.reject(new NoSpaceError('no free extents'));
      if (key.toString() === 'bug') return Promise.reject(new Error('secret detail'));
      return model.put(key, value);
    },
  });
  await withServer(api, async ({ base }) => {
    assert.deepEqual(await (await signedFetch(`${base}/healthz`)).json(), { ok: true });
    const noRoute = await signedFetch(`${base}/nope`);
    assert.equal(noRoute.status, 404);
    assert.equal(await errorCode(noRoute), 'NotFound');
    const wrongMethod = await signedFetch(`${base}/v1/shards/x`, { method: 'POST', body: 'x' });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get('allow'), 'GET, HEAD, PUT, DELETE');
    assert.equal(await errorCode(wrongMethod), 'MethodNotAllowed');
    assert.equal((await signedFetch(`${base}/healthz`, { method: 'DELETE' })).status, 405);
    assert.equal((await signedFetch(`${base}/v1/shards`, { method: 'PUT', body: 'x' })).status, 405);

    assert.equal((await put(base, 'k'.repeat(MAX_KEY_BYTES), 'max')).status, 201);
    const tooLong = await put(base, 'k'.repeat(MAX_KEY_BYTES + 1), 'x');
    assert.equal(tooLong.status, 400);
    assert.equal(await errorCode(tooLong), 'InvalidArgument');
    assert.equal((await put(base, '%6B'.repeat(MAX_KEY_BYTES + 1), 'x')).status, 400);
    assert.equal((await put(base, '', 'x')).status, 400);

    const full = await put(base, 'full', 'x');
    assert.equal(full.status, 507);
    assert.equal(await errorCode(full), 'NoSpace');
    const bug = await put(base, 'bug', 'x');
    assert.equal(bug.status, 500);
    assert.deepEqual(await bug.json(), { error: { code: 'Internal', message: 'internal error' } });
    assert.equal((await model.list()).shards.length, 1);
  });
});

void test('PUT and DELETE are answered only once durable', async () => {
  // Checks the durability contract: the wrapped put/delete return a Latch's
  // dependency; the answer must not arrive while the latch is open, must
  // arrive once it is resolved, and must be a 500 Io when it fails.
  const model = new ModelStore();
  let latch = new WatchedTicket('put');
  let calls = 0;
  const api = wrap(model, {
    put: async (key, value) => (await model.put(key, value), calls++, Dependency.of(latch)),
    delete: async (key) => (await model.delete(key), calls++, Dependency.of(latch)),
  });
  await withServer(api, async ({ base }) => {
    // Resolves once the server waits on the dependency without having
    // answered (or at once if the answer came first), after one more round
    // trip, so that an answer written before the wait began has arrived.
    const pending = async (request: Promise<Response>, label: string): Promise<{ answer: Promise<Response> }> => {
      let answered = false;
      const answer = request.then((res) => ((answered = true), res));
      await Promise.race([answer, latch.waited.promise]);
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      assert.equal(answered, false, `${label} answered before durable`);
      return { answer };
    };
    const putting = await pending(put(base, 'k', 'v'), 'put');
    // Visible (read-your-writes) but not acknowledged yet.
    assert.equal(await (await signedFetch(`${base}/v1/shards/k`)).text(), 'v');
    latch.markDurable();
    assert.equal((await putting.answer).status, 201);

    latch = new WatchedTicket('delete');
    const deleting = await pending(signedFetch(`${base}/v1/shards/k`, { method: 'DELETE' }), 'delete');
    latch.markDurable();
    assert.equal((await deleting.answer).status, 204);

    latch = new WatchedTicket('failing');
    const failing = await pending(put(base, 'k', 'v2'), 'failing put');
    latch.markFailed(new IoError('flush failed'));
    const failed = await failing.answer;
    assert.equal(failed.status, 500);
    assert.equal(await errorCode(failed), 'Io');
    assert.equal(calls, 3);
  });
});

/** Yields the chunks of `value`, reporting each one, and reports how the stream ended. */
async function* watched(value: ValueSource, onChunk: (bytes: number) => void): AsyncGenerator<Uint8Array> {
  if (value instanceof Uint8Array) {
    onChunk(value.length);
    yield value;
    return;
  }
  for await (const chunk of value) {
    onChunk(chunk.length);
    yield chunk;
  }
}

void test('a client that aborts mid-upload leaves no value behind', async () => {
  // Checks that the request body stream throws when the client disconnects
  // before its declared Content-Length, so put rejects and the model holds
  // nothing for the key, and that the server keeps serving afterwards.
  const model = new ModelStore();
  const firstChunk = deferred<void>();
  const outcome = deferred<unknown>();
  const api = wrap(model, {
    put: async (key, value) => {
      try {
        const dep = await model.put(key, watched(value, () => firstChunk.resolve()));
        outcome.resolve('stored');
        return dep;
      } catch (err) {
        outcome.resolve(err);
        throw err;
      }
    },
  });
  await withServer(api, async ({ base, port }) => {
    const clientErrors: Error[] = [];
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'PUT',
      path: '/v1/shards/partial',
      headers: { ...(await signedHeaders('PUT', `${base}/v1/shards/partial`)), 'Content-Length': 1_000_000 },
    });
    req.on('error', (err) => clientErrors.push(err));
    req.write(Buffer.alloc(64 * 1024, 7));
    await firstChunk.promise;
    req.destroy();
    const result = await outcome.promise;
    assert.ok(result instanceof RequestAbortedError, `put should reject, got ${String(result)}`);
    await assert.rejects(model.head(Buffer.from('partial')), NotFoundError);
    assert.equal((await signedFetch(`${base}/v1/shards/partial`)).status, 404);
    assert.equal((await signedFetch(`${base}/healthz`)).status, 200);
    assert.ok(clientErrors.length <= 1);
  });
});

void test('a 20 MiB upload streams into put and back out', async () => {
  // Checks bounded-memory streaming: put sees many chunks and sees the first
  // one before the client has produced the whole body; the download has the
  // same SHA-256 as the upload.
  const totalBytes = 20 * 1024 * 1024;
  const chunkBytes = 64 * 1024;
  const model = new ModelStore();
  let produced = 0;
  let producedAtFirstChunk = -1;
  let chunksSeen = 0;
  const api = wrap(model, {
    put: (key, value) =>
      model.put(
        key,
        watched(value, () => {
          if (chunksSeen++ === 0) producedAtFirstChunk = produced;
        }),
      ),
  });
  const uploadHash = createHash('sha256');
  const body = new ReadableStream<Uint8Array>({
    pull(controller): void {
      if (produced >= totalBytes) {
        controller.close();
        return;
      }
      const chunk = Buffer.alloc(chunkBytes, produced / chunkBytes);
      chunk.writeUInt32LE(produced, 0);
      uploadHash.update(chunk);
      produced += chunk.length;
      controller.enqueue(chunk);
    },
  });
  await withServer(api, async ({ base }) => {
    const res = await signedFetch(`${base}/v1/shards/big`, { method: 'PUT', body, duplex: 'half' });
    assert.equal(res.status, 201);
    assert.deepEqual(await res.json(), { key: 'big', sizeBytes: totalBytes });
    assert.ok(chunksSeen > 10, `put saw ${chunksSeen} chunks`);
    assert.ok(producedAtFirstChunk >= 0 && producedAtFirstChunk < totalBytes, 'put started before the body ended');

    const download = await signedFetch(`${base}/v1/shards/big`);
    assert.equal(download.headers.get('content-length'), String(totalBytes));
    const downloadHash = createHash('sha256');
    let downloaded = 0;
    if (download.body === null) throw new Error('no body');
    const reader = (download.body as ReadableStream<Uint8Array>).getReader();
    for (let step = await reader.read(); !step.done; step = await reader.read()) {
      downloadHash.update(step.value);
      downloaded += step.value.length;
    }
    assert.equal(downloaded, totalBytes);
    assert.equal(downloadHash.digest('hex'), uploadHash.digest('hex'));
  });
});

void test('close() lets a request in flight finish, then refuses connections', async () => {
  // Checks graceful shutdown: a PUT waiting for durability when close()
  // starts still gets its 201 once durable, close() resolves only after it,
  // and new connections are refused.
  const model = new ModelStore();
  const latch = new Latch('shutdown');
  const started = deferred<void>();
  const api = wrap(model, {
    put: async (key, value) => (await model.put(key, value), started.resolve(), latch.dependency),
  });
  const shardServer = createShardServer(api, { logger: silentLogger, shutdownGraceMs: 5_000, credentials: TEST_CREDENTIALS });
  const { port } = await shardServer.listen(0);
  const base = `http://127.0.0.1:${port}`;
  const answer = put(base, 'k', 'v');
  await started.promise;
  let closed = false;
  const closing = shardServer.close().then(() => (closed = true));
  // The latch: a refused connection shows the listener is closed; close() must still be waiting.
  await assert.rejects(signedFetch(`${base}/healthz`));
  assert.equal(closed, false);
  assert.equal(shardServer.inFlight(), 1);
  latch.resolve();
  const res = await answer;
  assert.equal(res.status, 201);
  await closing;
  assert.equal(shardServer.inFlight(), 0);
});

void test('a range read retries when the value changes between head and read', async () => {
  // Checks invariant 2 of shard_handlers.ts: a head answering a stale size
  // (as if the value were replaced just after) must not yield a Content-Range
  // that disagrees with the bytes streamed; the handler re-reads the size.
  const model = new ModelStore();
  await model.put(Buffer.from('v'), Buffer.alloc(100, 1));
  let heads = 0;
  const api = wrap(model, {
    head: async (key) => {
      const info = await model.head(key);
      return heads++ === 0 ? { key: info.key, sizeBytes: 1000 } : info;
    },
  });
  await withServer(api, async ({ base }) => {
    const res = await signedFetch(`${base}/v1/shards/v`, { headers: { Range: 'bytes=0-9' } });
    assert.equal(res.status, 206);
    assert.equal(res.headers.get('content-range'), 'bytes 0-9/100');
    assert.equal((await res.arrayBuffer()).byteLength, 10);
    assert.equal(heads, 2);
  });
});

void test('a store error in the middle of a body cuts the connection', async () => {
  // Checks that once a 200 and its Content-Length are out, a failing reader
  // (a CorruptionError on the second chunk) makes the client see a short,
  // failed body rather than a complete-looking wrong one.
  const model = new ModelStore();
  await model.put(Buffer.from('c'), Buffer.alloc(3 << 20, 2));
  const api = wrap(model, {
    read: async (key, range) => {
      const inner = await model.read(key, range);
      async function* failing(): AsyncGenerator<Buffer> {
        for await (const chunk of inner.body) {
          yield chunk;
          throw new CorruptionError('checksum mismatch');
        }
      }
      return { sizeBytes: inner.sizeBytes, body: failing() };
    },
  });
  await withServer(api, async ({ base }) => {
    const res = await signedFetch(`${base}/v1/shards/c`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), String(3 << 20));
    await assert.rejects(res.arrayBuffer());
    assert.equal((await signedFetch(`${base}/healthz`)).status, 200);
  });
});

void test('oversized headers get 431 and a rejected upload closes its connection', async () => {
  // Checks the header limit (node's maxHeaderSize, 431) and that a PUT
  // refused before its body was read is answered with Connection: close, so
  // the unread body cannot be parsed as the next request.
  await withServer(new ModelStore(), async ({ base, port }) => {
    const big = await signedFetch(`${base}/healthz`, { headers: { 'x-big': 'a'.repeat(20_000) } });
    assert.equal(big.status, 431);

    const answer = deferred<http.IncomingMessage>();
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'PUT',
      path: `/v1/shards/${'k'.repeat(MAX_KEY_BYTES + 1)}`,
      headers: { ...(await signedHeaders('PUT', `${base}/v1/shards/${'k'.repeat(MAX_KEY_BYTES + 1)}`)), 'Content-Length': 10_000_000 },
    });
    req.on('response', (res) => answer.resolve(res));
    req.on('error', () => undefined); // the server may close while we still send
    req.write(Buffer.alloc(64 * 1024));
    const res = await answer.promise;
    assert.equal(res.statusCode, 400);
    assert.equal(res.headers.connection, 'close');
    res.resume();
    req.destroy();
  });
});

/** GETs of one-piece and multi-piece values, whole and ranged; how many readers were opened and closed. */
async function readersOfGets(): Promise<{ opened: number; closed: number }> {
  const model = new ModelStore();
  await model.put(Buffer.from('one'), Buffer.alloc(1000, 1));
  await model.put(Buffer.from('many'), Buffer.alloc(3 << 20, 2));
  let opened = 0;
  let closed = 0;
  const api = wrap(model, {
    read: async (key, range) => {
      const inner = await model.read(key, range);
      async function* tracked(): AsyncGenerator<Buffer> {
        opened++;
        try {
          for await (const chunk of inner.body) yield chunk;
        } finally {
          closed++;
        }
      }
      return { sizeBytes: inner.sizeBytes, body: tracked() };
    },
  });
  await withServer(api, async ({ base }) => {
    for (const [key, range] of [['one', undefined], ['many', undefined], ['one', 'bytes=0-9'], ['many', 'bytes=5-']] as const) {
      const res = await signedFetch(`${base}/v1/shards/${key}`, range === undefined ? {} : { headers: { range } });
      assert.ok(res.status === 200 || res.status === 206, `GET ${key} ${range ?? ''}: ${res.status}`);
      await res.arrayBuffer();
    }
  });
  return { opened, closed };
}

void test('every GET releases its reader, whether the value leaves in one piece or several, whole or ranged', async () => {
  // Checks that the store reader of a GET is closed once the answer is out
  // (a reader left open pins its extents: reclamation cannot take them back
  // and the disk fills, which the e2e crash test saw as 507s). The first
  // piece is read before the status line (BodyPrimer), and a body of one
  // piece leaves with its headers, so the release must not depend on the
  // reader being drained to its end. Each read's body records its closing.
  const { opened, closed } = await readersOfGets();
  assert.equal(opened, 4);
  assert.equal(closed, opened, 'every reader was closed');
});

void test('mutant primed-body-leaks-reader is caught: the readers of one-piece answers stay open', async () => {
  const restore = primedBodyLeaksReader.install();
  let seen: { opened: number; closed: number };
  try {
    seen = await readersOfGets();
  } finally {
    restore();
  }
  // The two one-piece answers ('one' whole and ranged) leak; the multi-piece ones close.
  assert.deepEqual(seen, { opened: 4, closed: 2 });
});
