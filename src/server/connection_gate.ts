// Fair under load: who may hold a connection.
//
// Model: every accepted socket belongs to a client (its remote address) and
// is either busy (a request is being handled on it) or idle (between
// requests of a keep-alive connection, or not yet done sending its first
// request's headers). Holding idle connections costs the holder nothing and
// everyone else a slot, so idle connections give way first:
//
// 1. A client may hold at most `maxConnectionsPerClient` connections. A new
//    connection over that closes the client's own longest-idle connection;
//    if all of its connections are busy, the new one is refused.
// 2. The node holds at most `maxConnections`. A new connection over that
//    closes the node's longest-idle connection (whoever holds it); if every
//    connection is busy, the new one is refused.
//
// A refused connection gets `503 Service Unavailable` with `Connection:
// close` and is closed; it never reaches a handler. Idle closing cuts no
// request: a client that sent part of its headers and was closed sees the
// connection drop, as after the headers timeout.
//
// Invariants: `total` equals the sum of the clients' sets; a socket is in
// `idle` iff it is open and has no request in flight.
import type { Socket } from 'node:net';
import type { Logger } from './logger.js';

export interface ConnectionGateOptions {
  readonly maxConnections: number;
  readonly maxConnectionsPerClient: number;
}

const REFUSED_RESPONSE = Buffer.from('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n', 'latin1');
/** Refusals are logged once, then once per this many (an attack must not flood the log). */
const REFUSAL_LOG_EVERY = 1000;

export class ConnectionGate {
  private readonly byClient = new Map<string, Set<Socket>>();
  /** Idle sockets, longest idle first (a Map keeps insertion order). */
  private readonly idle = new Map<Socket, true>();
  private readonly inFlight = new WeakMap<Socket, number>();
  /** The client of each admitted socket (remoteAddress is gone once a socket is destroyed). */
  private readonly clientOf = new WeakMap<Socket, string>();
  private readonly refusedSockets = new WeakSet<Socket>();
  private total = 0;
  private refusals = 0;
  private idleClosed = 0;

  constructor(
    private readonly options: ConnectionGateOptions,
    private readonly logger: Logger,
  ) {
    if (!(options.maxConnectionsPerClient >= 1 && options.maxConnectionsPerClient <= options.maxConnections)) {
      throw new RangeError(`maxConnectionsPerClient (${options.maxConnectionsPerClient}) must be between 1 and maxConnections (${options.maxConnections})`);
    }
  }

  /** Connections open now. */
  get open(): number {
    return this.total;
  }

  /** Idle connections closed to make room, and connections refused, since the start. */
  get counts(): { idleClosed: number; refused: number } {
    return { idleClosed: this.idleClosed, refused: this.refusals };
  }

  /** True if `socket` was refused (its requests must not be handled). */
  isRefused(socket: Socket): boolean {
    return this.refusedSockets.has(socket);
  }

  /** A new connection: admit it (making room if it must), or refuse it. */
  admit(socket: Socket): void {
    const client = socket.remoteAddress ?? 'unknown';
    const mine = this.byClient.get(client);
    if (mine !== undefined && mine.size >= this.options.maxConnectionsPerClient && !this.closeLongestIdle(mine)) {
      this.refuse(socket, client, 'per-client connection cap');
      return;
    }
    if (this.total >= this.options.maxConnections && !this.closeLongestIdle(undefined)) {
      this.refuse(socket, client, 'connection cap');
      return;
    }
    const set = mine ?? new Set<Socket>();
    if (mine === undefined) this.byClient.set(client, set);
    set.add(socket);
    this.clientOf.set(socket, client);
    this.total++;
    this.idle.set(socket, true);
    socket.once('close', () => this.forget(socket));
  }

  requestStarted(socket: Socket): void {
    this.inFlight.set(socket, (this.inFlight.get(socket) ?? 0) + 1);
    this.idle.delete(socket);
  }

  requestEnded(socket: Socket): void {
    const left = (this.inFlight.get(socket) ?? 1) - 1;
    this.inFlight.set(socket, left);
    // Re-inserted at the end: the most recently idle goes last.
    if (left === 0 && !socket.destroyed && this.clientOf.has(socket)) this.idle.set(socket, true);
  }

  /** Close the longest-idle socket among `among` (all if undefined). False if none is idle. */
  private closeLongestIdle(among: ReadonlySet<Socket> | undefined): boolean {
    for (const socket of this.idle.keys()) {
      if (among !== undefined && !among.has(socket)) continue;
      this.idle.delete(socket);
      this.idleClosed++;
      socket.destroy();
      // forget() runs on 'close', later: count the slot free now.
      this.release(socket);
      return true;
    }
    return false;
  }

  private refuse(socket: Socket, client: string, why: string): void {
    this.refusedSockets.add(socket);
    this.refusals++;
    if (this.refusals % REFUSAL_LOG_EVERY === 1) {
      this.logger.log('warn', 'connection refused', { client, why, open: this.total, refusedSoFar: this.refusals });
    }
    // A refused client that resets the connection is no error of ours: the socket only has to go.
    socket.on('error', () => socket.destroy());
    socket.end(REFUSED_RESPONSE, () => socket.destroy());
  }

  private forget(socket: Socket): void {
    this.idle.delete(socket);
    this.release(socket);
  }

  private release(socket: Socket): void {
    const client = this.clientOf.get(socket);
    this.clientOf.delete(socket);
    const set = client === undefined ? undefined : this.byClient.get(client);
    if (client === undefined || set === undefined || !set.delete(socket)) return;
    this.total--;
    if (set.size === 0) this.byClient.delete(client);
  }
}
