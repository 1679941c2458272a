// The aws-chunked body encoding (Content-Encoding: aws-chunked), decoded as
// it streams with bounded memory:
//
//   signed:   hex-size;chunk-signature=<64 hex>\r\n <data> \r\n ... 0;chunk-signature=<sig>\r\n
//   unsigned: hex-size\r\n <data> \r\n ... 0\r\n
//   then, with a trailer: name:value\r\n ... [x-amz-trailer-signature:<sig>\r\n] \r\n
//   without a trailer: \r\n
//
// Each chunk signature signs the SHA-256 of the chunk's data chained to the
// previous signature (the seed is the request's signature), so a body cut,
// reordered or altered in flight fails here. Data is passed on before its
// chunk's signature is checked; that is safe because the consumer (a put)
// commits only when this generator ends cleanly, and it throws instead.
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { S3Error } from './s3_errors.js';
import type { ChunkSigning } from './sigv4.js';
import { EMPTY_SHA256, hmacHex, sameHex, sha256Hex } from './sigv4.js';

/** A chunk header or a trailer line longer than this is refused (S3 chunk extensions are short). */
const MAX_LINE_BYTES = 4096;
const MAX_TRAILER_LINES = 16;

export interface ChunkedOptions {
  /** Present for STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]: chunk signatures are required and checked. */
  readonly signing: ChunkSigning | undefined;
  /** A trailer follows the last chunk (x-amz-trailer names it). */
  readonly trailer: boolean;
}

/** Decodes one aws-chunked body; `trailers` holds the trailing headers once the body has ended. */
export class AwsChunkedDecoder {
  readonly trailers = new Map<string, string>();
  private pending: Buffer = Buffer.alloc(0);
  private previousSignature: string;

  constructor(private readonly options: ChunkedOptions) {
    this.previousSignature = options.signing?.seedSignature ?? '';
  }

  async *decode(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    const input = source[Symbol.asyncIterator]();
    try {
      for (;;) {
        const header = await this.line(input, 'chunk header');
        const { size, signature } = this.parseChunkHeader(header);
        const hash = this.options.signing === undefined ? undefined : createHash('sha256');
        for await (const piece of this.take(input, size)) {
          hash?.update(piece);
          yield piece;
        }
        this.checkChunkSignature(signature, hash);
        if (size === 0) break;
        if ((await this.line(input, 'chunk end')) !== '') throw incomplete('chunk data not followed by CRLF');
      }
      await this.readTrailer(input);
      if (this.pending.length > 0 || !(await input.next()).done) throw incomplete('bytes after the end of the aws-chunked body');
    } finally {
      await input.return?.();
    }
  }

  private parseChunkHeader(header: string): { size: number; signature: string | undefined } {
    const semi = header.indexOf(';');
    const sizeText = semi < 0 ? header : header.slice(0, semi);
    if (!/^[0-9a-fA-F]{1,12}$/.test(sizeText)) throw incomplete(`bad chunk size ${JSON.stringify(sizeText.slice(0, 20))}`);
    const m = semi < 0 ? null : /(?:^|;)chunk-signature=([0-9a-f]{64})(?:;|$)/.exec(header.slice(semi + 1));
    const signature = m?.[1];
    if (this.options.signing !== undefined && signature === undefined) {
      throw new S3Error(403, 'SignatureDoesNotMatch', 'A chunk of the aws-chunked body has no chunk-signature.');
    }
    return { size: parseInt(sizeText, 16), signature };
  }

  private checkChunkSignature(given: string | undefined, hash: Hash | undefined): void {
    const signing = this.options.signing;
    if (signing === undefined || given === undefined || hash === undefined) return;
    const stringToSign = ['AWS4-HMAC-SHA256-PAYLOAD', signing.amzDate, signing.scope, this.previousSignature, EMPTY_SHA256, hash.digest('hex')].join('\n');
    const expected = hmacHex(signing.signingKey, stringToSign);
    if (!sameHex(expected, given)) {
      throw new S3Error(403, 'SignatureDoesNotMatch', 'The chunk signature we calculated does not match the signature you provided.', {
        StringToSign: stringToSign,
        SignatureProvided: given,
      });
    }
    this.previousSignature = expected;
  }

  private async readTrailer(input: AsyncIterator<Buffer>): Promise<void> {
    if (!this.options.trailer) {
      if ((await this.line(input, 'final CRLF')) !== '') throw incomplete('final chunk not followed by CRLF');
      return;
    }
    let signature: string | undefined;
    for (let lines = 0; ; lines++) {
      if (lines > MAX_TRAILER_LINES) throw incomplete('too many trailing headers');
      const line = await this.line(input, 'trailer');
      if (line === '') break;
      const colon = line.indexOf(':');
      if (colon <= 0) throw incomplete(`malformed trailing header ${JSON.stringify(line.slice(0, 40))}`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'x-amz-trailer-signature') signature = value;
      else this.trailers.set(name, value);
    }
    this.checkTrailerSignature(signature);
  }

  private checkTrailerSignature(given: string | undefined): void {
    const signing = this.options.signing;
    if (signing === undefined) return;
    if (given === undefined) throw new S3Error(403, 'SignatureDoesNotMatch', 'The trailer has no x-amz-trailer-signature.');
    const canonical = [...this.trailers].sort(([a], [b]) => (a < b ? -1 : 1)).map(([n, v]) => `${n}:${v}\n`).join('');
    const stringToSign = ['AWS4-HMAC-SHA256-TRAILER', signing.amzDate, signing.scope, this.previousSignature, sha256Hex(canonical)].join('\n');
    if (!sameHex(hmacHex(signing.signingKey, stringToSign), given)) {
      throw new S3Error(403, 'SignatureDoesNotMatch', 'The trailer signature we calculated does not match the signature you provided.');
    }
  }

  /** The next CRLF-terminated line (without CRLF), bounded by MAX_LINE_BYTES. */
  private async line(input: AsyncIterator<Buffer>, what: string): Promise<string> {
    for (;;) {
      const crlf = this.pending.indexOf('\r\n');
      if (crlf >= 0) {
        const text = this.pending.subarray(0, crlf).toString('latin1');
        this.pending = this.pending.subarray(crlf + 2);
        return text;
      }
      if (this.pending.length > MAX_LINE_BYTES) throw incomplete(`${what} longer than ${MAX_LINE_BYTES} bytes`);
      const next = await input.next();
      if (next.done === true) throw incomplete(`body ended inside a ${what}`);
      this.pending = this.pending.length === 0 ? next.value : Buffer.concat([this.pending, next.value]);
    }
  }

  /** Exactly `size` bytes, yielded as they arrive (slices of the input, no copy). */
  private async *take(input: AsyncIterator<Buffer>, size: number): AsyncGenerator<Buffer> {
    let left = size;
    while (left > 0) {
      if (this.pending.length === 0) {
        const next = await input.next();
        if (next.done === true) throw incomplete('body ended inside a chunk');
        this.pending = next.value;
      }
      const piece = this.pending.subarray(0, Math.min(left, this.pending.length));
      this.pending = this.pending.subarray(piece.length);
      left -= piece.length;
      yield piece;
    }
  }
}

function incomplete(why: string): S3Error {
  return new S3Error(400, 'IncompleteBody', `The aws-chunked body is malformed: ${why}`);
}
