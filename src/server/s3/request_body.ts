// A request body as the S3 handlers consume it: decoded from aws-chunked if
// it was sent so, then checked as it streams against everything the client
// declared about it: its length, Content-MD5, the signed SHA-256 of the
// payload, an x-amz-checksum-* value (header or trailer), and our size
// limit. Every check that needs the whole body runs when the last byte has
// passed and throws before the iterator ends, so a put consuming it never
// commits a body that failed one (the store commits only on a clean end).
//
// Memory: one chunk of the socket at a time, plus the hashes' state.
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { Md5Stream } from '../../base/index.js';
import { requestBody } from '../body_stream.js';
import type { Exchange } from '../exchange.js';
import { AwsChunkedDecoder } from './aws_chunked.js';
import type { Checksum, ChecksumAlgorithm } from './checksums.js';
import type { StoredChecksum } from './records.js';
import { CHECKSUM_ALGORITHMS, newChecksum } from './checksums.js';
import { S3Error, invalidArgument, malformedXml } from './s3_errors.js';
import type { Authenticated } from './sigv4.js';
import { headerOf } from './request.js';

interface ExpectedChecksum {
  readonly algorithm: ChecksumAlgorithm;
  /** The value from a header, or undefined if it comes in the trailer. */
  readonly value: string | undefined;
}

export interface BodyExpectations {
  readonly declaredBytes: number | undefined;
  readonly maxBytes: number;
  readonly contentMd5: Buffer | undefined;
  readonly sha256Hex: string | undefined;
  readonly checksum: ExpectedChecksum | undefined;
}

/** The decoded, verified body of a request; md5 and sizeBytes are final once iteration has ended. */
export class VerifiedBody implements AsyncIterable<Buffer> {
  sizeBytes = 0;
  /** The x-amz-checksum-* the body was verified against (set once iteration has ended). */
  verifiedChecksum: StoredChecksum | undefined;
  /** MD5 of the body (the ETag), off the event loop for large bodies (base/md5.ts). */
  private readonly md5Hash = new Md5Stream();
  private md5Digest: Buffer | undefined;

  constructor(
    private readonly source: AsyncIterable<Buffer>,
    private readonly expect: BodyExpectations,
    private readonly trailers: () => ReadonlyMap<string, string>,
  ) {}

  /** The additional checksum the client declared (header or trailer), known before the body is read. */
  get checksumAlgorithm(): ChecksumAlgorithm | undefined {
    return this.expect.checksum?.algorithm;
  }

  /** MD5 of the body. REQUIRES: the body was read to its end. */
  get md5(): Buffer {
    if (this.md5Digest === undefined) throw new Error('body not read to its end');
    return this.md5Digest;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    const sha = this.expect.sha256Hex === undefined ? undefined : createHash('sha256');
    const checksum = this.expect.checksum === undefined ? undefined : newChecksum(this.expect.checksum.algorithm);
    for await (const piece of this.source) {
      this.sizeBytes += piece.length;
      if (this.sizeBytes > this.expect.maxBytes) {
        throw new S3Error(400, 'EntityTooLarge', `Your proposed upload exceeds the maximum allowed size of ${this.expect.maxBytes} bytes.`);
      }
      this.md5Hash.update(piece);
      sha?.update(piece);
      checksum?.update(piece);
      yield piece;
      const behind = this.md5Hash.backlog();
      if (behind !== undefined) await behind;
    }
    this.finish(sha, checksum, await this.md5Hash.digest());
  }

  private finish(sha: Hash | undefined, checksum: Checksum | undefined, md5: Buffer): void {
    const { declaredBytes, contentMd5, sha256Hex } = this.expect;
    if (declaredBytes !== undefined && this.sizeBytes !== declaredBytes) {
      throw new S3Error(400, 'IncompleteBody', `You did not provide the number of bytes specified: ${declaredBytes}, got ${this.sizeBytes}.`);
    }
    if (contentMd5 !== undefined && !md5.equals(contentMd5)) {
      throw new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
    }
    if (sha !== undefined && sha.digest('hex') !== sha256Hex) {
      throw new S3Error(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
    this.checkChecksum(checksum);
    this.md5Digest = md5;
  }

  private checkChecksum(checksum: Checksum | undefined): void {
    const expected = this.expect.checksum;
    if (expected === undefined || checksum === undefined) return;
    const name = `x-amz-checksum-${expected.algorithm}`;
    const given = expected.value ?? this.trailers().get(name);
    if (given === undefined) throw invalidRequestTrailer(name);
    if (checksum.digest() !== given) {
      throw new S3Error(400, 'BadDigest', `The ${expected.algorithm.toUpperCase()} you specified did not match the calculated checksum.`);
    }
    this.verifiedChecksum = { algorithm: expected.algorithm, value: given };
  }
}

/** What a request's x-amz-checksum-* headers describe: its body (every request but one), or the object it makes (CompleteMultipartUpload, whose body is the part list). */
export type ChecksumHeadersOf = 'body' | 'object';

/** The request's body, decoded and verified (see the header comment). */
export function openBody(ex: Exchange, auth: Authenticated, maxBytes: number, checksumHeaders: ChecksumHeadersOf = 'body'): VerifiedBody {
  const headers = ex.req.headers;
  const raw = requestBody({ req: ex.req, bytesIn: ex.bytesIn });
  const payload = auth.payload;
  // Content-Encoding aws-chunked on a body that is not STREAMING-* is ignored, as S3 ignores it:
  // the body is taken as sent, and the stored Content-Encoding leaves aws-chunked out (object_headers.ts).
  const chunked = payload.kind === 'streaming-signed' || payload.kind === 'streaming-unsigned-trailer';
  const trailer = payload.kind === 'streaming-unsigned-trailer' || (payload.kind === 'streaming-signed' && payload.trailer);
  const decoder = chunked
    ? new AwsChunkedDecoder({ signing: payload.kind === 'streaming-signed' ? auth.chunkSigning : undefined, trailer })
    : undefined;
  const declared = chunked ? headerInt(headerOf(headers, 'x-amz-decoded-content-length'), 'x-amz-decoded-content-length') : headerInt(headers['content-length'], 'Content-Length');
  if (declared !== undefined && declared > maxBytes) {
    throw new S3Error(400, 'EntityTooLarge', `Your proposed upload exceeds the maximum allowed size of ${maxBytes} bytes.`);
  }
  const expectations: BodyExpectations = {
    declaredBytes: declared,
    maxBytes,
    contentMd5: contentMd5(headerOf(headers, 'content-md5')),
    sha256Hex: payload.kind === 'sha256' ? payload.hex : undefined,
    checksum: checksumHeaders === 'body' ? expectedChecksum(ex, trailer) : undefined,
  };
  return new VerifiedBody(decoder === undefined ? raw : decoder.decode(raw), expectations, () => decoder?.trailers ?? new Map());
}

/**
 * PutObject and UploadPart need the body's length before it is read, as S3
 * does: a body framed by Transfer-Encoding (chunked) without Content-Length
 * is 411 MissingContentLength, unless it is aws-chunked (STREAMING-*) and
 * x-amz-decoded-content-length gives the length. Called before anything of
 * the request is stored.
 */
export function requireDeclaredLength(ex: Exchange, auth: Authenticated): void {
  const headers = ex.req.headers;
  if (headers['transfer-encoding'] === undefined || headers['content-length'] !== undefined) return;
  const streaming = auth.payload.kind === 'streaming-signed' || auth.payload.kind === 'streaming-unsigned-trailer';
  if (streaming && headerOf(headers, 'x-amz-decoded-content-length') !== undefined) return;
  throw new S3Error(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.');
}

/**
 * Read an XML request body whole. Past `maxBytes` (declared or sent):
 * 400 MalformedXML, the answer for any XML over its limits (xml.ts).
 */
export async function readXmlBody(ex: Exchange, auth: Authenticated, maxBytes: number, checksumHeaders: ChecksumHeadersOf = 'body'): Promise<Buffer> {
  const parts: Buffer[] = [];
  try {
    for await (const piece of openBody(ex, auth, maxBytes, checksumHeaders)) parts.push(piece);
  } catch (err) {
    if (err instanceof S3Error && err.code === 'EntityTooLarge') throw malformedXml(`the document is larger than ${maxBytes} bytes`);
    throw err;
  }
  return Buffer.concat(parts);
}

function expectedChecksum(ex: Exchange, trailer: boolean): ExpectedChecksum | undefined {
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    const value = ex.req.headers[`x-amz-checksum-${algorithm}`];
    if (typeof value === 'string') return { algorithm, value };
  }
  if (!trailer) return undefined;
  const named = (headerOf(ex.req.headers, 'x-amz-trailer') ?? '').trim().toLowerCase();
  const algorithm = CHECKSUM_ALGORITHMS.find((a) => named === `x-amz-checksum-${a}`);
  if (named !== '' && algorithm === undefined) throw invalidArgument(`unsupported x-amz-trailer ${JSON.stringify(named)}`);
  return algorithm === undefined ? undefined : { algorithm, value: undefined };
}

function contentMd5(header: string | undefined): Buffer | undefined {
  if (header === undefined) return undefined;
  const bytes = Buffer.from(header.trim(), 'base64');
  if (bytes.length !== 16 || bytes.toString('base64') !== header.trim()) {
    throw new S3Error(400, 'InvalidDigest', 'The Content-MD5 you specified is not valid.');
  }
  return bytes;
}

function headerInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value.trim())) throw invalidArgument(`${name} must be a non-negative integer`);
  return Number(value.trim());
}

function invalidRequestTrailer(name: string): S3Error {
  return new S3Error(400, 'InvalidRequest', `The trailer ${name} named in x-amz-trailer was not sent.`);
}
