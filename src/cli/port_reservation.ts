// The port of `shardstore serve`, bound before anything else happens.
//
// Why: a newcomer whose port 7380 was taken used to get a data folder, a
// 16 GiB data file and a freshly generated key pair ("shown once") before
// the server failed with EADDRINUSE, and the README's next commands then
// talked to whoever owned the port. Binding first means a taken port is
// refused before any file is created or opened.
//
// The listening socket is handed to the HTTP server once the node is open
// (ShardServer.listen accepts a bound net.Server; node takes over its
// handle). Connections that arrive in between (a readiness poll started
// right after `npm start &`) are held, paused, and given to the HTTP server
// then, so they are answered by the node rather than refused; at most
// MAX_HELD_CONNECTIONS are held, the rest are closed (the client retries).
// If the start fails, the held connections are closed with the port.
import net from 'node:net';
import { UsageError } from './usage_error.js';

const MAX_HELD_CONNECTIONS = 64;

export class PortReservation {
  private readonly held: net.Socket[] = [];
  private handedOver = false;

  private constructor(readonly server: net.Server) {
    server.on('connection', (socket: net.Socket) => {
      if (this.held.length >= MAX_HELD_CONNECTIONS) socket.destroy();
      else this.held.push(socket);
    });
  }

  /**
   * Binds host:port (port 0: any free port). A port in use, a privileged
   * port, an address not on this host: one line saying what to do
   * (PortError; the CLI prints it and exits 1).
   */
  static async bind(host: string, port: number): Promise<PortReservation> {
    const server = net.createServer({ pauseOnConnect: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: Error) => reject(portError(err, host, port)));
      server.listen({ port, host, exclusive: true }, () => resolve());
    });
    return new PortReservation(server);
  }

  /**
   * The HTTP server took over the listening handle: give it the connections
   * that arrived meanwhile. REQUIRES: called once, after `listen(this.server)`.
   */
  handOver(emitConnection: (socket: net.Socket) => void): void {
    this.handedOver = true;
    this.server.removeAllListeners('connection');
    for (const socket of this.held.splice(0)) {
      if (socket.destroyed) continue;
      emitConnection(socket);
      socket.resume();
    }
  }

  /** The start failed before the hand-over: close the held connections and release the port. */
  async release(): Promise<void> {
    if (this.handedOver) return;
    for (const socket of this.held.splice(0)) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The port could not be bound: a condition of this host, not of the command line, so exit 1 (not 2). */
export class PortError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
    this.name = 'PortError';
  }
}

function portError(err: Error, host: string, port: number): Error {
  const code = 'code' in err && typeof err.code === 'string' ? err.code : '';
  const where = `${host}:${port}`;
  if (code === 'EADDRINUSE') {
    return new PortError(`port ${port} on ${host} is in use by another process: nothing was created or opened; stop that process, or choose another port with --port <n> (or SHARDSTORE_PORT)`, code);
  }
  if (code === 'EACCES') return new PortError(`port ${port} on ${host} needs privileges this process lacks: choose a port above 1023 with --port <n>`, code);
  if (code === 'EADDRNOTAVAIL') return new UsageError(`--host ${host}: not an address of this machine (cannot listen on ${where})`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new UsageError(`--host ${host}: no such host name`);
  return err;
}
