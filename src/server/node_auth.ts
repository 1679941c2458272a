// Authentication of the node's own APIs: the native shard API (/v1/shards),
// the control plane (/v1/admin/) and, with metricsAuth, /metrics
// (docs/SECURITY.md). The scheme is the S3 front's: AWS Signature Version 4
// with the node's key pairs (the credentials file), service name "s3", any
// region, in the Authorization header or presigned in the query, checked by
// the same verifier (s3/sigv4.ts, strict about unsigned x-amz-* headers).
//
// The payload hash, as in SigV4 for any AWS service:
// - x-amz-content-sha256: UNSIGNED-PAYLOAD, or a hex SHA-256 the body is
//   checked against as it streams (body_stream.ts: a put of a body that does
//   not match never commits). aws-chunked (STREAMING-*) bodies are refused.
// - no such header (curl --aws-sigv4 sends none): the last line of the
//   canonical request is the body's SHA-256, so a body is read whole (at most
//   MAX_BUFFERED_BODY_BYTES, else 413) and hashed before the signature is
//   checked and before anything runs.
//
// Failures answer JSON errors with stable codes: 401 Unauthenticated when
// the request carries no signature at all; otherwise the S3 code and status
// of the verifier (403 SignatureDoesNotMatch, InvalidAccessKeyId,
// AccessDenied, RequestTimeTooSkewed; 400 AuthorizationHeaderMalformed ...).
import type { BodyPayload } from './body_stream.js';
import { readBodyAtMost } from './body_stream.js';
import type { Exchange } from './exchange.js';
import { HttpError } from './http_errors.js';
import type { Authenticated } from './s3/sigv4.js';
import { EMPTY_SHA256, sha256Hex, verifyRequest } from './s3/sigv4.js';
import { S3Error } from './s3/s3_errors.js';

/** A signed body without an x-amz-content-sha256 header is read whole before its signature is checked: this much at most. */
export const MAX_BUFFERED_BODY_BYTES = 1024 * 1024;

export interface NodeAuthConfig {
  /** Access key id -> secret access key. Empty: every request is refused. */
  readonly credentials: ReadonlyMap<string, string>;
  /** Authentication off (serve --insecure-no-auth): every request passes. */
  readonly insecureNoAuth: boolean;
  readonly now: () => number;
}

export interface RequestTarget {
  readonly path: string;
  readonly query: string;
}

/** A class so a deliberately broken variant can stand in for it (testing/mutants/auth_mutants.ts). */
export class NodeAuth {
  constructor(private readonly config: NodeAuthConfig) {}

  get enabled(): boolean {
    return !this.config.insecureNoAuth;
  }

  /**
   * Verify the request's signature and set ex.payload (what its body must hash
   * to). Throws HttpError (401, 403, 400, 413) if it is not signed by a node key.
   */
  async authenticate(ex: Exchange, target: RequestTarget): Promise<void> {
    if (!this.enabled) return;
    const headerAuth = ex.req.headers.authorization !== undefined;
    if (!headerAuth && !/(^|&)X-Amz-Algorithm=/.test(target.query)) {
      throw new HttpError(401, 'Unauthenticated', 'this API needs AWS Signature Version 4 with a key pair of the node (its credentials file); see docs/SECURITY.md', {
        'WWW-Authenticate': 'AWS4-HMAC-SHA256',
      });
    }
    const buffered = headerAuth && ex.req.headers['x-amz-content-sha256'] === undefined ? await bodyToHash(ex) : undefined;
    let auth: Authenticated;
    try {
      auth = verifyRequest(
        { method: ex.req.method ?? '', rawPath: target.path, rawQuery: target.query, rawHeaders: ex.req.rawHeaders },
        (id) => this.config.credentials.get(id),
        this.config.now(),
        buffered === undefined ? {} : { payloadHashWithoutHeader: buffered.length === 0 ? EMPTY_SHA256 : sha256Hex(buffered) },
      );
    } catch (err) {
      // A malformed escape is the native API's InvalidArgument, whichever layer finds it.
      if (err instanceof S3Error) throw new HttpError(err.status, err.code === 'InvalidURI' ? 'InvalidArgument' : err.code, err.message);
      throw err;
    }
    ex.payload = payloadOf(auth, buffered);
  }
}

async function bodyToHash(ex: Exchange): Promise<Buffer> {
  const { headers } = ex.req;
  const noBody = headers['transfer-encoding'] === undefined && (headers['content-length'] === undefined || headers['content-length'] === '0');
  return noBody ? Buffer.alloc(0) : readBodyAtMost(ex.req, ex.bytesIn, MAX_BUFFERED_BODY_BYTES);
}

function payloadOf(auth: Authenticated, buffered: Buffer | undefined): BodyPayload {
  if (buffered !== undefined) return { kind: 'buffered', bytes: buffered };
  switch (auth.payload.kind) {
    case 'unsigned':
      return { kind: 'unchecked' };
    case 'sha256':
      return { kind: 'sha256', hex: auth.payload.hex };
    default:
      throw new HttpError(400, 'InvalidArgument', 'the native API and the control plane take no aws-chunked (STREAMING-*) bodies: sign with UNSIGNED-PAYLOAD or the hex SHA-256 of the body');
  }
}
