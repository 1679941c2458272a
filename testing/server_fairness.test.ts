// Fair under load (issue 12, "Why" 6), with real sockets against the real
// server: idle connections give way to new clients, a client cannot take
// more than its share, busy connections are never cut to make room, and
// the headers and request (body) timeouts fire within a second of their
// value.
//
// Strategy: small caps (a handful of connections) show the same rules the
// defaults apply at 1024 and 256. Clients bind distinct loopback addresses
// (127.0.0.2, .3, ...) so the server sees distinct clients. The test waits
// on events (a socket's close, the server's connection count), never on the
// wall clock, except in the timeout tests, which wait for the timeout
// itself (1 and 2 s) and measure it.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import type { ShardServer, ShardServerOptions } from '../src/server/index.js';
import { createShardServer, silentLogger } from '../src/server/index.js';
import { ModelStore } from './model.js';
import { ACCESS_KEY, SECRET_KEY } from './s3_harness.js';
import { sendSigned, signRequest } from './s3_wire.js';

interface Client {
  readonly socket: net.Socket;
  /** Everything the server sent, once it closed the connection. */
  readonly closed: Promise<string>;
  isClosed(): boolean;
}

async function withServer(options: ShardServerOptions, run: (server: ShardServer, port: number) => Promise<void>): Promise<void> {
  const server = createShardServer(new ModelStore(), { logger: silentLogger, shutdownGraceMs: 500, s3: { credentials: new Map([[ACCESS_KEY, SECRET_KEY]]), sweepOnStart: false }, ...options });
  const { port } = await server.listen(0, '127.0.0.1');
  try {
    await run(server, port);
  } finally {
    await server.close();
  }
}

function connect(port: number, localAddress: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    let closed = false;
    const parts: Buffer[] = [];
    socket.on('data', (d: Buffer) => parts.push(d));
    const closedText = new Promise<string>((done) => socket.once('close', () => {
      closed = true;
      done(Buffer.concat(parts).toString('latin1'));
    }));
    // A reset from the server is how some of these connections end: the test reads it as closed.
    socket.on('error', () => socket.destroy());
    socket.once('connect', () => resolve({ socket, closed: closedText, isClosed: () => closed }));
    socket.once('error', reject);
  });
}

/** Resolves once `condition` holds, checking after each turn of the event loop (bounded). */
async function until(what: string, condition: () => boolean): Promise<void> {
  for (let turns = 0; turns < 200_000; turns++) {
    if (condition()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`never happened: ${what}`);
}

/** A signed PUT whose body is still coming: the request is in flight until `finish`. */
async function busyPut(port: number, localAddress: string, key: string): Promise<{ client: Client; finish: () => void }> {
  const client = await connect(port, localAddress);
  const { pathAndQuery, headers } = await signRequest(port, { method: 'PUT', path: `/fair/${key}`, headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-length': '10' } });
  // Connection: close, so the answer is all the server sends before closing.
  const head = [`PUT ${pathAndQuery} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), 'connection: close', '', ''].join('\r\n');
  client.socket.write(head + '01234');
  return { client, finish: () => client.socket.write('56789') };
}

void test('idle connections are closed, longest idle first, to let a new client in', async () => {
  // Checks the attack of issue 12 at a small scale: four clients hold every
  // slot (8) with idle connections; a fifth client's request is answered,
  // and the connection closed for it is the longest-idle one.
  await withServer({ maxConnections: 8, maxConnectionsPerClient: 2 }, async (server, port) => {
    const idle: Client[] = [];
    for (const address of ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5']) {
      for (let i = 0; i < 2; i++) idle.push(await connect(port, address));
    }
    await until('8 connections open', () => server.connections.open === 8);
    const answer = await sendSigned(port, { method: 'PUT', path: '/fair' });
    assert.equal(answer.status, 200, answer.body);
    await idle[0]?.closed;
    assert.deepEqual(idle.map((c) => c.isClosed()), [true, false, false, false, false, false, false, false]);
    assert.equal(server.connections.counts.refused, 0);
    for (const c of idle) c.socket.destroy();
  });
});

void test('a client over its share closes its own idle connection, never another client\'s', async () => {
  // Checks the per-client cap (3): the fourth connection of 127.0.0.2
  // closes that client's oldest idle one; 127.0.0.3's connection stays.
  await withServer({ maxConnections: 16, maxConnectionsPerClient: 3 }, async (server, port) => {
    const other = await connect(port, '127.0.0.3');
    const mine = [await connect(port, '127.0.0.2'), await connect(port, '127.0.0.2'), await connect(port, '127.0.0.2')];
    await until('4 connections open', () => server.connections.open === 4);
    const fourth = await connect(port, '127.0.0.2');
    await mine[0]?.closed;
    assert.deepEqual([other.isClosed(), ...mine.map((c) => c.isClosed()), fourth.isClosed()], [false, true, false, false, false]);
    for (const c of [other, ...mine, fourth]) c.socket.destroy();
  });
});

void test('busy connections are never cut: at the cap with none idle, the new connection gets 503', async () => {
  // Checks that two uploads in flight (the per-client cap) survive a third
  // connection from the same client, which is answered 503 and closed; the
  // uploads then complete with 200.
  await withServer({ maxConnections: 8, maxConnectionsPerClient: 2 }, async (server, port) => {
    assert.equal((await sendSigned(port, { method: 'PUT', path: '/fair' })).status, 200);
    const uploads = [await busyPut(port, '127.0.0.2', 'a'), await busyPut(port, '127.0.0.2', 'b')];
    await until('2 uploads in flight', () => server.inFlight() === 2);
    const third = await connect(port, '127.0.0.2');
    assert.match(await third.closed, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
    assert.equal(server.connections.counts.refused, 1);
    for (const u of uploads) u.finish();
    for (const u of uploads) assert.match(await u.client.closed, /^HTTP\/1\.1 200 OK\r\n/);
    assert.equal((await sendSigned(port, { method: 'HEAD', path: '/fair/a' })).status, 200);
    assert.equal((await sendSigned(port, { method: 'HEAD', path: '/fair/b' })).status, 200);
  });
});

/** Sends `head` then one byte of `trickle` every 200 ms until the server closes; resolves with the ms from the start to the close, and what it answered. */
async function trickleUntilClosed(port: number, head: string, trickle: string): Promise<{ ms: number; answer: string }> {
  const client = await connect(port, '127.0.0.1');
  const started = performance.now();
  client.socket.write(head);
  let at = 0;
  // eslint-disable-next-line no-restricted-syntax -- the subject is the server's real-time headers timeout: the client must trickle in real time
  const timer = setInterval(() => {
    if (!client.isClosed()) client.socket.write(trickle[at++ % trickle.length] ?? 'x');
  }, 200);
  try {
    const answer = await client.closed;
    return { ms: performance.now() - started, answer };
  } finally {
    clearInterval(timer);
  }
}

void test('the headers timeout fires within a second of its value, though bytes keep coming', async () => {
  // Checks --headers-timeout 1s against a client that sends a header byte
  // every 200 ms (so no idle timeout applies): 408 between 1 and 2 s (it
  // was 28 s for a 10 s timeout, node's check running every 30 s).
  await withServer({ headersTimeoutMs: 1000, requestTimeoutMs: 2000 }, async (_server, port) => {
    const { ms, answer } = await trickleUntilClosed(port, 'GET /fair HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ', 'abcdefgh');
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.ok(ms >= 1000 && ms < 2000, `closed after ${Math.round(ms)} ms`);
  });
});

void test('the request (body) timeout fires within a second of its value, though the body keeps coming', async () => {
  // Checks --request-timeout 2s against an upload that sends a body byte
  // every 200 ms: the server answers 408 and closes between 2 and 3 s.
  await withServer({ headersTimeoutMs: 1000, requestTimeoutMs: 2000 }, async (_server, port) => {
    assert.equal((await sendSigned(port, { method: 'PUT', path: '/fair' })).status, 200);
    const { pathAndQuery, headers } = await signRequest(port, { method: 'PUT', path: '/fair/slow', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-length': '1000' } });
    const head = [`PUT ${pathAndQuery} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');
    const { ms, answer } = await trickleUntilClosed(port, head, '0123456789');
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.ok(ms >= 2000 && ms < 3000, `closed after ${Math.round(ms)} ms`);
  });
});
