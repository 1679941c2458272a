// s3rver (the fake S3 server people test against) in its own process, so
// that the parent can read its CPU time from /proc. Configured as its
// README says: filesystem store in `directory`, credentials S3RVER/S3RVER,
// signatures checked. It writes objects with plain file writes and never
// fsyncs: its acknowledged PUTs are not durable, ours are.
import { member, requirePeer } from '../lib/peer_module.js';
import { serveRequests } from '../lib/service.js';

interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
type S3rverCtor = new (options: Record<string, unknown>) => S3rverInstance;

let server: S3rverInstance | undefined;

serveRequests(async (body: unknown) => {
  if (typeof body !== 'object' || body === null || !('directory' in body) || typeof body.directory !== 'string') {
    throw new TypeError('expected { directory, bucket }');
  }
  const bucket = 'bucket' in body && typeof body.bucket === 'string' ? body.bucket : 'bench';
  const Ctor = requirePeer('s3rver');
  const S3rver = (typeof Ctor === 'function' ? Ctor : member<S3rverCtor>(Ctor, 'default', 's3rver')) as S3rverCtor;
  server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: body.directory, configureBuckets: [{ name: bucket }] });
  const address = await server.run();
  return { port: address.port };
});
