// SigV4 header signing for the requests of `shardstore bench` and of every
// command that talks to a server (--url), one fixed shape: signed headers
// host, x-amz-content-sha256 and
// x-amz-date, body UNSIGNED-PAYLOAD (the body is never hashed, so a 1 MiB
// PUT costs the client what a 4 KiB one does). Per request: one SHA-256 of
// the ~250-byte canonical request and one HMAC; the signing key is derived
// once a day and the date string once a second.
//
// The canonical request is the spec's (docs/S3.md, "Authentication"); the
// server's verifier (src/server/s3/sigv4.ts) rebuilds it from the decoded
// path, so `path` must be encoded as uriEncode(bytes, false) encodes it.
import { createHash, createHmac } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';
import { SIGV4_ALGORITHM, canonicalQuery, deriveSigningKey, queryPairs } from '../server/index.js';

/** An access key id and its secret, as the credentials file holds them. */
export interface S3KeyPair {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

const SIGNED_HEADERS = 'host;x-amz-content-sha256;x-amz-date';
const PAYLOAD = 'UNSIGNED-PAYLOAD';

export class HeaderSigner {
  private second = -1;
  private amzDate = '';
  private scopeDate = '';
  private signingKey: Buffer = Buffer.alloc(0);

  /** `host` exactly as the Host header will carry it (host:port). */
  constructor(
    private readonly keys: S3KeyPair,
    private readonly host: string,
    private readonly region: string,
  ) {}

  /**
   * The headers of a request (Host included, and Content-Length if given).
   * REQUIRES: `target` starts with '/', its path encoded as SigV4's UriEncode with '/' kept; its query (after '?') as sent.
   */
  sign(method: string, target: string, contentLength?: number, nowMs: number = Date.now()): OutgoingHttpHeaders {
    this.advanceClock(nowMs);
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    const query = q < 0 ? '' : canonicalQuery(queryPairs(target.slice(q + 1)));
    const canonical = `${method}\n${path}\n${query}\nhost:${this.host}\nx-amz-content-sha256:${PAYLOAD}\nx-amz-date:${this.amzDate}\n\n${SIGNED_HEADERS}\n${PAYLOAD}`;
    const scope = `${this.scopeDate}/${this.region}/s3/aws4_request`;
    const stringToSign = `${SIGV4_ALGORITHM}\n${this.amzDate}\n${scope}\n${createHash('sha256').update(canonical).digest('hex')}`;
    const signature = createHmac('sha256', this.signingKey).update(stringToSign).digest('hex');
    const headers: OutgoingHttpHeaders = {
      host: this.host,
      'x-amz-date': this.amzDate,
      'x-amz-content-sha256': PAYLOAD,
      authorization: `${SIGV4_ALGORITHM} Credential=${this.keys.accessKeyId}/${scope}, SignedHeaders=${SIGNED_HEADERS}, Signature=${signature}`,
    };
    if (contentLength !== undefined) headers['content-length'] = contentLength;
    return headers;
  }

  private advanceClock(nowMs: number): void {
    const second = Math.floor(nowMs / 1000);
    if (second === this.second) return;
    this.second = second;
    // 2026-01-02T03:04:05.678Z -> 20260102T030405Z
    this.amzDate = new Date(second * 1000).toISOString().replace(/[-:]|\.\d{3}/g, '');
    const day = this.amzDate.slice(0, 8);
    if (day !== this.scopeDate) {
      this.scopeDate = day;
      this.signingKey = deriveSigningKey(this.keys.secretAccessKey, day, this.region);
    }
  }
}
