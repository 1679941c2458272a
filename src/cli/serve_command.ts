// `shardstore serve`: parse options, resolve the node's key pairs (generated
// and shown once on first start), open the node, serve until a signal.
import type { CredentialSource, LoadedCredentials, S3Credentials } from '../server/index.js';
import { FileUsers, jsonLineLogger, loadOrCreateCredentials, usersOf } from '../server/index.js';
import type { ShardApi } from '../store/index.js';
import type { AdminApi } from '../node/index.js';
import type { Command, CliIo } from './command.js';
import { missingServeNodeFlags } from './node_flags.js';
import { PortReservation } from './port_reservation.js';
import { serveApi, stopOnSignal, urlOf } from './serve_lifecycle.js';
import { parseServeArgs, serveHelp } from './serve_options.js';
import type { ServeConfig } from './serve_options.js';
import { formatSizeBytes } from './units.js';
import { EXIT_OK, UsageError } from './usage_error.js';

export const serveCommand: Command = {
  summary: 'open (or create) the node and serve the S3 API and the native shard API',
  help: serveHelp,
  async run(argv: readonly string[], io: CliIo): Promise<number> {
    const config = parseServeArgs(argv, io.env);
    if (config === 'help') {
      io.out(serveHelp());
      return EXIT_OK;
    }
    // The port first: a taken port is refused before anything is created
    // or opened (no data folder, no data file, no key pair; port_reservation.ts).
    const reservation = await PortReservation.bind(config.host, config.port);
    const { credentials, source, api } = await openBehindPort(config, io, reservation);
    for (const d of api.disks()) if (d.state !== 'in-service') io.err(`shardstore: warning: disk ${d.disk} is out of service (${d.reason ?? 'unknown'}); its keys answer 503 Unavailable`);
    const missing = io.execArgv === undefined ? [] : missingServeNodeFlags(io.execArgv);
    if (missing.length > 0) {
      io.err(`shardstore: warning: node was started without ${missing.join(' ')} (npm start passes it): large values then make the garbage collector run a full collection every few dozen MiB read (README, "npm start runs node with"; src/cli/node_flags.ts)`);
    }
    for (const line of await hostSpaceWarnings(api.disks().flatMap((d) => (d.state === 'in-service' && d.path !== undefined ? [d.path] : [])))) io.err(`shardstore: warning: ${line}`);
    const signals = stopOnSignal(() => {
      io.err('shardstore: second signal, exiting now');
      process.exit(130);
    });
    try {
      // The node owner's keys (no canonical id of their own) sign the native API and the control plane;
      // S3 takes every user of the file, re-read when it changes (server/s3/users.ts).
      const keys = new Map(credentials.filter((c) => c.canonicalId === undefined).map((c) => [c.accessKeyId, c.secretAccessKey]));
      const logger = jsonLineLogger();
      const users = source === 'configured' ? undefined : new FileUsers(config.s3.credentialsFile, logger);
      return await serveApi(api, config, { out: io.out, logger, stop: signals.stop, credentials: keys, admin: api, reservation, ...(users !== undefined ? { users } : {}) });
    } finally {
      signals.dispose();
    }
  },
};

/** The URL a client uses: the port bound (--port 0 picks one), an IPv6 host in brackets (as the "serving" line). */
function endpointOf(config: ServeConfig, reservation: PortReservation): string {
  const address = reservation.server.address();
  if (address !== null && typeof address === 'object') return urlOf(address);
  return `http://${config.host}:${config.port}`;
}

/** Resolves the key pairs and opens the node, the port already bound; on failure the port is released. */
async function openBehindPort(config: ServeConfig, io: CliIo, reservation: PortReservation): Promise<{ credentials: readonly S3Credentials[]; source: CredentialSource; api: ShardApi & AdminApi }> {
  try {
    // Loaded even with --insecure-no-auth: S3 always checks signatures.
    const { credentials, source } = await nodeCredentials(config, io, reservation);
    if (config.server.insecureNoAuth === true) {
      io.err('shardstore: WARNING: --insecure-no-auth: the native API, the control plane and /metrics answer anyone who can reach the port (trusted test networks only; docs/SECURITY.md)');
    }
    const { openNode } = await import('./serve.js');
    return { credentials, source, api: await openNode(config.node) };
  } catch (err) {
    await reservation.release();
    throw err;
  }
}

/**
 * One line per host file system whose sparse data files cannot grow to
 * their size: the store would see free extents the host cannot back, and
 * puts would meet the host's ENOSPC (507 NoSpace) before the store is full.
 */
export async function hostSpaceWarnings(paths: readonly string[]): Promise<string[]> {
  const { dataFileSpace, shortfalls } = await import('../disk/index.js');
  return shortfalls(await dataFileSpace(paths)).map(
    (s) =>
      `the data file(s) ${s.paths.join(', ')} may grow by ${formatBytes(s.unallocatedBytes)} (sparse), but their file system has ${formatBytes(s.freeBytes)} free: ` +
      'puts will answer 507 NoSpace once it is full (deletes and reclamation keep working); give it room, or use smaller files (--disk-size) or --preallocate on',
  );
}

function formatBytes(n: number): string {
  return `${formatSizeBytes(n)} (${n} bytes)`;
}

async function nodeCredentials(config: ServeConfig, io: CliIo, reservation: PortReservation): Promise<{ credentials: readonly S3Credentials[]; source: CredentialSource }> {
  const { accessKeyId, secretAccessKey, credentialsFile } = config.s3;
  let loaded: LoadedCredentials;
  try {
    loaded = await loadOrCreateCredentials({ accessKeyId, secretAccessKey, file: credentialsFile });
    usersOf(loaded.credentials); // a malformed user section is refused at start, not at the first request
  } catch (err) {
    if (err instanceof TypeError) throw new UsageError(err.message);
    throw err;
  }
  for (const warning of loaded.warnings) io.err(`shardstore: warning: ${warning}`);
  const first = loaded.credentials[0];
  if (loaded.source === 'generated' && first !== undefined) {
    io.out(
      [
        'Credentials were generated (shown once; saved in ' + credentialsFile + ', mode 0600):',
        `  access key id:     ${first.accessKeyId}`,
        `  secret access key: ${first.secretAccessKey}`,
        `  e.g. AWS_SHARED_CREDENTIALS_FILE=${credentialsFile} aws --endpoint-url ${endpointOf(config, reservation)} s3 ls`,
        `  shardstore commands with --url read them from --credentials-file (default ./data/credentials)`,
      ].join('\n'),
    );
  } else if (loaded.source === 'file') {
    io.out(`credentials: ${loaded.credentials.length} key(s) from ${credentialsFile}`);
  }
  return { credentials: loaded.credentials, source: loaded.source };
}
