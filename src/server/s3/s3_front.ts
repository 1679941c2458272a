// The S3-compatible front (docs/S3.md): one request in, one S3 answer out.
//
// Per request: parse (bucket and key, path-style or virtual-host), route to
// an operation, verify the SigV4 signature (header or presigned) against
// the users (users.ts; unsigned: the anonymous principal), decide whether
// the principal may run it (authorize.ts), run the operation, and answer
// every error as S3 XML. `handle` never rejects.
//
// Background work: on start, a sweep that collects garbage a crash left
// behind, and a periodic pass that aborts expired multipart uploads; every
// lifecycleIntervalMs the lifecycle pass (lifecycle_pass.ts). close()
// stops them and waits for the collector; call it after the HTTP server has
// stopped and before the ShardApi closes.
import type { ShardApi } from '../../store/index.js';
import { RequestAbortedError } from '../body_stream.js';
import type { Exchange } from '../exchange.js';
import { abortAnswer } from '../exchange.js';
import type { Logger } from '../logger.js';
import { Collector } from './collector.js';
import { Core } from './core.js';
import { LifecyclePass } from './lifecycle_pass.js';
import { expectedOwnerRefusal } from './fail_closed.js';
import { applyCors } from './cors_ops.js';
import type { Operation, UnsignedOperation } from './operation.js';
import type { S3Request } from './request.js';
import { parseRequest, resourceOf, virtualHostBucket } from './request.js';
import { sendError } from './respond.js';
import { routeOf } from './routes.js';
import { S3Error, notImplemented, s3ErrorOf } from './s3_errors.js';
import { SIGV2_VERSION, v2CarrierOf, verifyRequestV2 } from './sigv2.js';
import type { Authenticated } from './sigv4.js';
import { SIGV4_ALGORITHM, verifyRequest } from './sigv4.js';
import type { Principal, SignedWith } from './authorize.js';
import { ANONYMOUS, AUTHORIZER, RequestAccess, anonymousRefusal, isUnsigned } from './authorize.js';
import type { UserDirectory, UserSet } from './users.js';
import { StaticUsers } from './users.js';
import type { NodeKeySource } from './node_key.js';

export interface S3Options {
  /** Access key id -> secret access key: keys of the node's owner (users.ts), used when `users` is not given. */
  readonly credentials: ReadonlyMap<string, string>;
  /** The users, looked up per request (users.ts; serve passes the credentials file's). */
  readonly users?: UserDirectory;
  /** What GetBucketLocation answers (requests signed for any region are accepted). */
  readonly region?: string;
  /** Base domains of virtual-host requests: `bucket.<domain>`. */
  readonly domains?: readonly string[];
  /** Multipart uploads older than this are aborted. */
  readonly uploadExpiryMs?: number;
  /** Objects up to this size are kept inside their record. */
  readonly inlineMaxBytes?: number;
  /** Clock (tests: expired presigned URLs, upload expiry). */
  readonly now?: () => number;
  /** Look for crash leftovers when the front starts (default true). */
  readonly sweepOnStart?: boolean;
  /** How often the lifecycle pass runs (0: never; tests run it themselves). */
  readonly lifecycleIntervalMs?: number;
  /** The node key of SSE-S3 (node_key.ts; serve keeps it beside the credentials file); absent: SSE-S3 answers 501. */
  readonly nodeKey?: NodeKeySource;
  /** Serve requests and POST forms signed with Signature Version 2 (sigv2.ts; default true); false: they answer 501. */
  readonly sigv2?: boolean;
}

export const DEFAULT_S3_REGION = 'us-east-1';
export const DEFAULT_S3_DOMAINS: readonly string[] = ['localhost'];
export const DEFAULT_UPLOAD_EXPIRY_MS = 24 * 3_600_000;
/** S3 applies lifecycle rules about once a day; hourly keeps an object's expiry within an hour of its midnight. */
export const DEFAULT_LIFECYCLE_INTERVAL_MS = 3_600_000;
const DEFAULT_INLINE_MAX_BYTES = 16 * 1024;
const MAX_EXPIRY_PERIOD_MS = 3_600_000;

export interface S3Observer {
  /** The operation a request turned out to be (metrics label). */
  readonly onOperation?: (ex: Exchange, name: string) => void;
  readonly onDurableWait?: (ms: number) => void;
}

/** The operation, or the error that answers the request once it is authenticated (fail_closed.ts). */
function routeOrError(r: S3Request): Operation | UnsignedOperation | S3Error {
  try {
    return routeOf(r);
  } catch (err) {
    if (err instanceof S3Error) return err;
    throw err;
  }
}

/**
 * How an unsigned request's body is checked: not at all, or against the
 * SHA-256 it names. A streaming (aws-chunked) body cannot be unsigned and
 * signed at once: refused as an anonymous request.
 */
function anonymousPayload(r: S3Request): Authenticated {
  const hash = r.ex.req.headers['x-amz-content-sha256'];
  const chunkSigning = { signingKey: Buffer.alloc(0), amzDate: '', scope: '', seedSignature: '' };
  if (hash === undefined || hash === 'UNSIGNED-PAYLOAD') return { accessKeyId: '', payload: { kind: 'unsigned' }, chunkSigning };
  if (typeof hash === 'string' && /^[0-9a-f]{64}$/.test(hash)) return { accessKeyId: '', payload: { kind: 'sha256', hex: hash }, chunkSigning };
  throw anonymousRefusal();
}

export class S3Front {
  readonly core: Core;
  readonly collector: Collector;
  readonly lifecycle: LifecyclePass;
  private lifecycleTimer: NodeJS.Timeout | undefined;
  private readonly region: string;
  private readonly domains: readonly string[];
  private readonly users: UserDirectory;
  private readonly sigv2: boolean;
  private expiryTimer: NodeJS.Timeout | undefined;
  private background: Promise<void> | undefined;

  constructor(
    api: ShardApi,
    private readonly options: S3Options,
    private readonly logger: Logger,
    private readonly observer: S3Observer = {},
  ) {
    const handle = { schedule: (bucket: string, key: Buffer): void => this.collector.schedule(bucket, key) };
    this.core = new Core(
      api,
      {
        logger,
        now: options.now ?? Date.now,
        inlineMaxBytes: options.inlineMaxBytes ?? DEFAULT_INLINE_MAX_BYTES,
        uploadExpiryMs: options.uploadExpiryMs ?? DEFAULT_UPLOAD_EXPIRY_MS,
        ...(observer.onDurableWait !== undefined ? { onDurableWait: observer.onDurableWait } : {}),
        ...(options.nodeKey !== undefined ? { nodeKey: options.nodeKey } : {}),
      },
      handle,
    );
    this.collector = new Collector(this.core);
    this.lifecycle = new LifecyclePass(this.core);
    this.region = options.region ?? DEFAULT_S3_REGION;
    this.domains = options.domains ?? DEFAULT_S3_DOMAINS;
    this.users = options.users ?? StaticUsers.ofOwnerKeys(options.credentials);
    this.sigv2 = options.sigv2 ?? true;
  }

  /** True if the Host header names a bucket (virtual-host style): the request is S3's whatever its path. */
  isVirtualHost(ex: Exchange): boolean {
    return virtualHostBucket(ex.req.headers.host ?? '', this.domains) !== undefined;
  }

  async handle(ex: Exchange): Promise<void> {
    let r: S3Request | undefined;
    try {
      r = parseRequest(ex, this.domains);
      const routed = routeOrError(r);
      if (!(routed instanceof Error)) this.observer.onOperation?.(ex, routed.name);
      const users = await this.users.current();
      if (!(routed instanceof Error) && 'unsigned' in routed) {
        // A preflight or a POST form: it authenticates (and a form upload authorizes) itself (operation.ts, UnsignedOperation).
        await routed.run({ core: this.core, collector: this.collector, r, region: this.region, users, sigv2: this.sigv2 });
        return;
      }
      // Authentication first, as S3 does: an unsigned request learns nothing, not even a 405.
      const { auth, principal } = this.authenticate(r, users);
      if (routed instanceof Error) throw principal.kind === 'anonymous' ? anonymousRefusal() : routed;
      const { access, decided } = await AUTHORIZER.authorize(this.core, r, routed.name, principal).catch(async (err: unknown) => {
        // A missing key told to a requester who may list the bucket (authorize.ts) is an authorized answer: CORS applies.
        if (err instanceof S3Error && err.status === 404 && r !== undefined) await applyCors(this.core, r);
        throw err;
      });
      const requester = principal.kind === 'user' ? { id: principal.user.id, displayName: principal.user.displayName } : undefined;
      const owner = access === undefined ? requester : { id: access.ownerId, displayName: users.displayName(access.ownerId) };
      if (owner === undefined) throw anonymousRefusal();
      const refusal = expectedOwnerRefusal(ex.req.headers, owner.id, 'x-amz-expected-bucket-owner');
      if (refusal !== undefined) throw refusal;
      // Authorized: a page the bucket's CORS rules allow may read the answer (errors of the operation included).
      await applyCors(this.core, r);
      const requestAccess = new RequestAccess(this.core, r, principal, users, decided);
      await routed.run({ core: this.core, collector: this.collector, r, auth, region: this.region, owner, access: requestAccess });
    } catch (err) {
      this.answerError(ex, r, err);
    }
  }

  /**
   * The signature's user, or the anonymous principal for an unsigned
   * request (authorize.ts decides what it may do). SigV4 (sigv4.ts) or,
   * unless turned off, Signature Version 2 (sigv2.ts): the same users and
   * keys, the same principal, one authorization path after it.
   */
  private authenticate(r: S3Request, users: UserSet): { auth: Authenticated; principal: Principal } {
    const { rawHeaders } = r.ex.req;
    if (isUnsigned(rawHeaders, r.rawQuery)) return { auth: anonymousPayload(r), principal: ANONYMOUS };
    const signed = { method: r.method, rawPath: r.rawPath, rawQuery: r.rawQuery, rawHeaders };
    const lookup = (id: string): string | undefined => users.byAccessKey(id)?.secretAccessKey;
    const v2 = v2CarrierOf(rawHeaders, r.rawQuery);
    let auth: Authenticated;
    let signedWith: SignedWith;
    if (v2 !== undefined) {
      if (!this.sigv2) throw notImplemented('Signature Version 2 (this node serves it with --s3-sigv2 on; use AWS4-HMAC-SHA256)');
      auth = verifyRequestV2({ ...signed, hostBucket: virtualHostBucket(r.ex.req.headers.host ?? '', this.domains) }, lookup, this.core.now());
      signedWith = { version: SIGV2_VERSION, authType: v2 === 'header' ? 'REST-HEADER' : 'REST-QUERY-STRING' };
    } else {
      auth = verifyRequest(signed, lookup, this.core.now());
      signedWith = { version: SIGV4_ALGORITHM, authType: r.ex.req.headers.authorization === undefined ? 'REST-QUERY-STRING' : 'REST-HEADER' };
    }
    const user = users.byAccessKey(auth.accessKeyId);
    if (user === undefined) throw new Error('a verified access key has no user');
    return { auth, principal: { kind: 'user', user, signedWith } };
  }

  private answerError(ex: Exchange, r: S3Request | undefined, err: unknown): void {
    const { error, unexpected } = s3ErrorOf(err);
    const where = { method: ex.req.method, path: ex.req.url };
    if (err instanceof RequestAbortedError || ex.res.destroyed) {
      this.logger.log('info', 'client went away', { ...where, error: String(err) });
      return;
    }
    if (unexpected) this.logger.log('error', 'unexpected error', { ...where, error: err });
    else if (error.status >= 500) this.logger.log('warn', 's3 error', { ...where, code: error.code, error: error.message });
    if (ex.res.headersSent) {
      // Mid-body: the status is gone; cutting the connection makes the body visibly short.
      abortAnswer(ex, error.code);
      return;
    }
    try {
      sendError(ex, r?.requestId ?? 'unknown', error, r === undefined ? (ex.req.url ?? '/') : resourceOf(r));
    } catch (sendFailure) {
      this.logger.log('error', 'could not send an error answer', { error: sendFailure, cause: err });
      ex.res.destroy();
    }
  }

  /** Start background work: the crash-leftover sweep, then periodic upload expiry. */
  start(): void {
    const expiryMs = this.core.options.uploadExpiryMs;
    this.background = this.runBackground(this.options.sweepOnStart ?? true);
    this.expiryTimer = setInterval(() => {
      this.background = (this.background ?? Promise.resolve()).then(() => this.expire());
    }, Math.max(1_000, Math.min(expiryMs / 4, MAX_EXPIRY_PERIOD_MS)));
    this.expiryTimer.unref();
    const lifecycleMs = this.options.lifecycleIntervalMs ?? DEFAULT_LIFECYCLE_INTERVAL_MS;
    if (lifecycleMs > 0) {
      this.lifecycleTimer = setInterval(() => {
        this.background = (this.background ?? Promise.resolve()).then(() => this.applyLifecycle());
      }, lifecycleMs);
      this.lifecycleTimer.unref();
    }
  }

  private async applyLifecycle(): Promise<void> {
    try {
      const report = await this.lifecycle.run(this.core.now());
      if (Object.values(report).some((n) => n > 0)) this.logger.log('info', 's3 lifecycle pass done', { ...report });
    } catch (err) {
      this.logger.log('warn', 's3 lifecycle pass failed', { error: err });
    }
  }

  private async runBackground(sweep: boolean): Promise<void> {
    if (sweep) {
      try {
        const visited = await this.collector.sweep();
        this.logger.log('info', 's3 startup sweep done', { keysVisited: visited });
      } catch (err) {
        this.logger.log('warn', 's3 startup sweep failed', { error: err });
      }
    }
    await this.expire();
  }

  private async expire(): Promise<void> {
    try {
      const aborted = await this.collector.expireUploads();
      if (aborted > 0) this.logger.log('info', 's3 expired multipart uploads aborted', { aborted });
    } catch (err) {
      this.logger.log('warn', 's3 upload expiry failed', { error: err });
    }
  }

  async close(): Promise<void> {
    if (this.expiryTimer !== undefined) clearInterval(this.expiryTimer);
    if (this.lifecycleTimer !== undefined) clearInterval(this.lifecycleTimer);
    this.lifecycle.close();
    await this.collector.close();
    await this.background;
  }
}
