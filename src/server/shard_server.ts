// The native shard API server over node:http (docs/API.md).
//
// Lifecycle: createShardServer -> listen -> ... -> close. close() stops
// accepting, lets requests in flight finish for up to shutdownGraceMs, then
// cuts the rest off. It does not close the ShardApi: the caller owns it and
// closes it after the server (so no request runs against a closed store).
//
// Every request ends in exactly one log record (method, path, status, bytes,
// ms), written when its response closes, whether it finished or was cut off.
import http from 'node:http';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import type { ShardApi } from '../store/index.js';
import type { AdminApi } from '../node/index.js';
import { RequestAbortedError } from './body_stream.js';
import type { Exchange } from './exchange.js';
import { abortAnswer, closeAfterResponse, sendJson } from './exchange.js';
import { errorAnswer, errorPayload } from './http_errors.js';
import type { Logger } from './logger.js';
import { Metrics } from './metrics.js';
import type { RouteContext } from './router.js';
import { dispatch } from './router.js';
import { DEFAULT_S3_DOMAINS, S3Front } from './s3/index.js';
import { HostCheck } from './browser_guard.js';
import { NodeAuth } from './node_auth.js';
import type { ShardServerOptions } from './server_options.js';
import { TIMEOUT_CHECK_INTERVAL_MS, resolveServerOptions } from './server_options.js';
import { ConnectionGate } from './connection_gate.js';
import { RequestTracker } from './request_tracker.js';

export interface ShardServer {
  readonly server: http.Server;
  /**
   * Resolves with the bound address (port 0 picks a free port). Given a
   * listening net.Server instead of a port, takes over its socket (the CLI
   * binds the port before it opens the node; src/cli/port_reservation.ts).
   */
  listen(port: number | NetServer, host?: string): Promise<AddressInfo>;
  /** Stop accepting, finish or cut off requests in flight, release the port. Idempotent. */
  close(): Promise<void>;
  /** Requests being handled now. */
  inFlight(): number;
  /** The S3 front, if the server has one. */
  readonly s3: S3Front | undefined;
  readonly metrics: Metrics;
  /** Connections open, idle ones closed to make room, refusals. */
  readonly connections: ConnectionGate;
}

export function createShardServer(api: ShardApi, options: ShardServerOptions = {}, admin?: AdminApi): ShardServer {
  const opts = resolveServerOptions(options);
  const logger = opts.logger;
  const server = http.createServer({
    maxHeaderSize: opts.maxHeaderSizeBytes,
    headersTimeout: opts.headersTimeoutMs,
    requestTimeout: opts.requestTimeoutMs,
    connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
  });
  server.timeout = opts.idleTimeoutMs;
  // Not server.maxConnections: node would refuse at the cap without closing an idle connection first.
  const gate = new ConnectionGate({ maxConnections: opts.maxConnections, maxConnectionsPerClient: opts.maxConnectionsPerClient }, logger);
  server.on('connection', (socket: Socket) => gate.admit(socket));
  server.keepAliveTimeout = opts.keepAliveTimeoutMs;
  const tracker = new RequestTracker();
  const metrics = new Metrics();
  const s3 = opts.s3 === undefined ? undefined : new S3Front(api, opts.s3, logger, {
    onOperation: (ex, name) => (ex.labels.op = name),
    onDurableWait: (ms) => metrics.observeDurableWait(ms),
  });
  let closing: Promise<void> | undefined;
  const hosts = new HostCheck(opts.hostNames, opts.s3 === undefined ? [] : (opts.s3.domains ?? DEFAULT_S3_DOMAINS));
  const auth = new NodeAuth({ credentials: opts.credentials, insecureNoAuth: opts.insecureNoAuth, now: opts.s3?.now ?? Date.now });
  const ctx: RouteContext = {
    api,
    closing: () => closing !== undefined,
    nativeApi: opts.nativeApi,
    s3,
    metrics,
    hosts,
    auth,
    metricsAuth: opts.metricsAuth && !opts.insecureNoAuth,
    ...(admin === undefined ? {} : { admin }),
  };

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const socket = req.socket;
    if (gate.isRefused(socket)) {
      res.destroy();
      return;
    }
    gate.requestStarted(socket);
    res.once('close', () => gate.requestEnded(socket));
    const labels = { api: 'native' as const, op: 'unknown' };
    handleRequest(ctx, logger, tracker, { req, res, bytesIn: { bytes: 0 }, bytesOut: { bytes: 0 }, labels });
  };
  server.on('request', onRequest);
  // An Expect header other than 100-continue (S3 serves the request whatever
  // it says): node would answer 417 on its own unless this event is handled.
  server.on('checkExpectation', onRequest);
  // Expect: 100-continue. Node would answer 100 at once, before the request is authenticated; HTTP/1.1
  // (RFC 9110 10.1.1) and S3 send it only once the request is accepted and its body is wanted. So the
  // 100 goes out when a handler first reads the body, and a refusal answered first goes out alone
  // (node then closes the connection, since the body was never asked for).
  server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const onListener = (event: string | symbol): void => {
      if (event !== 'data' && event !== 'readable') return;
      req.off('newListener', onListener);
      if (!res.headersSent && !res.writableEnded) res.writeContinue();
    };
    req.on('newListener', onListener);
    onRequest(req, res);
  });
  server.on('error', (err: Error) => logger.log('error', 'server error', { error: err }));

  return {
    server,
    listen: async (port, host = '127.0.0.1') => {
      const address = await listen(server, port, host);
      hosts.addListenAddress(host);
      hosts.addListenAddress(address.address);
      if (!auth.enabled) {
        logger.log('warn', 'AUTHENTICATION IS OFF (insecure-no-auth): anyone who can reach this port can read, change and delete every shard and run the control plane; use it on a trusted test network only', { address: address.address, port: address.port });
      }
      s3?.start();
      return address;
    },
    close: () => (closing ??= shutDown(server, tracker, opts.shutdownGraceMs, logger).then(() => s3?.close())),
    inFlight: () => tracker.count,
    s3,
    metrics,
    connections: gate,
  };
}

function handleRequest(ctx: RouteContext, logger: Logger, tracker: RequestTracker, ex: Exchange): void {
  const startedMs = performance.now();
  tracker.begin();
  ctx.metrics.inFlight++;
  ex.res.once('close', () => {
    tracker.end();
    ctx.metrics.inFlight--;
    const elapsedMs = performance.now() - startedMs;
    logRequest(logger, ex, elapsedMs);
    ctx.metrics.observeRequest({
      api: ex.labels.api,
      op: ex.labels.op,
      status: ex.res.headersSent ? ex.res.statusCode : 499,
      seconds: elapsedMs / 1000,
      bytesIn: ex.bytesIn.bytes,
      bytesOut: ex.bytesOut.bytes,
      ...(ex.abortedWith === undefined ? {} : { abortedWith: ex.abortedWith }),
    });
  });
  // While closing, answer then drop the connection, so keep-alive clients reconnect elsewhere.
  if (ctx.closing()) ex.res.setHeader('Connection', 'close');
  dispatch(ctx, ex).catch((err: unknown) => answerErrorSafely(logger, ex, err));
}

/** Bad input must never crash the process: if even the error answer fails, drop the connection. */
function answerErrorSafely(logger: Logger, ex: Exchange, err: unknown): void {
  try {
    answerError(logger, ex, err);
  } catch (answerFailure) {
    logger.log('error', 'could not send an error answer', { error: answerFailure, cause: err });
    ex.res.destroy();
  }
}

function answerError(logger: Logger, ex: Exchange, err: unknown): void {
  const answer = errorAnswer(err);
  const where = { method: ex.req.method, path: ex.req.url };
  if (err instanceof RequestAbortedError || ex.res.destroyed) {
    logger.log('info', 'client went away', { ...where, error: String(err) });
    return;
  }
  if (answer.unexpected) logger.log('error', 'unexpected error', { ...where, error: err });
  else if (answer.status >= 500) logger.log('warn', 'store error', { ...where, code: answer.code, error: answer.message });
  if (ex.res.headersSent) {
    // Mid-body: the status is gone; cutting the connection makes the body visibly short.
    abortAnswer(ex, answer.code);
    return;
  }
  if (!ex.req.complete) closeAfterResponse(ex);
  sendJson(ex, answer.status, errorPayload(answer), answer.headers);
}

function logRequest(logger: Logger, ex: Exchange, elapsedMs: number): void {
  logger.log('info', 'request', {
    method: ex.req.method,
    path: ex.req.url,
    api: ex.labels.api,
    op: ex.labels.op,
    // 499 (as nginx): the client went away before an answer was sent.
    status: ex.res.headersSent ? ex.res.statusCode : 499,
    bytesIn: ex.bytesIn.bytes,
    bytesOut: ex.bytesOut.bytes,
    ms: Math.round(elapsedMs * 10) / 10,
    // aborted: the answer did not end cleanly (the client left, or the server cut it: then `error` says why).
    ...(ex.res.writableFinished ? {} : { aborted: true }),
    ...(ex.abortedWith === undefined ? {} : { error: ex.abortedWith }),
  });
}

function listen(server: http.Server, port: number | NetServer, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    const onListening = (): void => {
      server.off('error', onError);
      const address = server.address();
      if (address === null || typeof address === 'string') reject(new Error(`unexpected address ${String(address)}`));
      else resolve(address);
    };
    if (typeof port === 'number') server.listen(port, host, onListening);
    else server.listen(port, onListening);
  });
}

async function shutDown(server: http.Server, tracker: RequestTracker, graceMs: number, logger: Logger): Promise<void> {
  const stopped = stopListening(server);
  server.closeIdleConnections();
  if (!(await tracker.idle(graceMs))) {
    logger.log('warn', 'shutdown grace expired; cutting off requests', { inFlight: tracker.count, graceMs });
  }
  // Connections that finished a request during the grace period are idle keep-alives now.
  server.closeAllConnections();
  await stopped;
}

function stopListening(server: http.Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => {
      const notRunning = err !== undefined && 'code' in err && err.code === 'ERR_SERVER_NOT_RUNNING';
      if (err === undefined || notRunning) resolve();
      else reject(err);
    });
  });
}
