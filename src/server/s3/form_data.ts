// A multipart/form-data body (RFC 7578) read as it streams, for POST
// object (post_object.ts): the fields before the file are read whole (at
// most MAX_FORM_FIELD_BYTES in all, as S3 limits them), then the file's
// bytes are handed on piece by piece without ever holding more than one
// socket chunk and a delimiter's worth of bytes.
//
// Invariants:
// 1. Memory: `buffered` holds at most one chunk of the source plus
//    delimiter.length - 1 bytes held back (a delimiter may straddle two
//    chunks), and the fields read so far, bounded as above.
// 2. The file ends exactly before "\r\n--boundary"; a body that ends
//    without its closing delimiter is malformed (400), never a short file.
import { S3Error } from './s3_errors.js';

/** What S3 allows for all the fields before the file (MaxPostPreDataLengthExceeded past it). */
export const MAX_FORM_FIELD_BYTES = 20 * 1024;
const MAX_PART_HEADER_BYTES = 8 * 1024;
const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

export interface FormField {
  /** As sent (S3 compares field names case-insensitively). */
  readonly name: string;
  readonly value: string;
}

export interface FilePart {
  readonly filename: string;
  /** The part's own Content-Type, if it had one. */
  readonly contentType: string | undefined;
  readonly body: AsyncIterable<Buffer>;
}

export const malformedPost = (why: string): S3Error =>
  new S3Error(400, 'MalformedPOSTRequest', `The body of your POST request is not well-formed multipart/form-data: ${why}`);

/** The boundary of a `multipart/form-data; boundary=...` Content-Type, or undefined if the type is another. */
export function formBoundary(contentType: string | undefined): string | undefined {
  const m = /^\s*multipart\/form-data\s*;(.*)$/i.exec(contentType ?? '');
  if (m === null) return undefined;
  const b = /(?:^|;)\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(m[1] ?? '');
  return b?.[1] ?? b?.[2];
}

export class FormReader {
  private readonly input: AsyncIterator<Buffer>;
  private readonly delimiter: Buffer;
  /** Starts with a CRLF, so the first boundary is found like every other. */
  private buffered: Buffer = Buffer.from(CRLF);
  private ended = false;

  constructor(source: AsyncIterable<Buffer>, boundary: string) {
    this.input = source[Symbol.asyncIterator]();
    this.delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  }

  /** The fields up to the file part (the part named `file`), and the file, or undefined if the form has none. */
  async readUntilFile(): Promise<{ fields: FormField[]; file: FilePart | undefined }> {
    const fields: FormField[] = [];
    let fieldBytes = 0;
    await this.skipPast(this.delimiter, MAX_FORM_FIELD_BYTES, 'no opening boundary within the first 20 KiB');
    while (await this.partFollows()) {
      const headers = (await this.takeUntil(HEADER_END, MAX_PART_HEADER_BYTES, 'part headers')).toString('utf8');
      const disposition = dispositionOf(headers);
      if (disposition.name.toLowerCase() === 'file') {
        const typeLine = /^content-type:\s*(.*)$/im.exec(headers);
        return { fields, file: { filename: disposition.filename ?? '', contentType: typeLine?.[1]?.trim(), body: this.fileBody() } };
      }
      const value = await this.takeUntil(this.delimiter, MAX_FORM_FIELD_BYTES - fieldBytes, 'fields');
      fieldBytes += value.length + disposition.name.length;
      if (fieldBytes > MAX_FORM_FIELD_BYTES) throw tooManyFieldBytes();
      fields.push({ name: disposition.name, value: value.toString('utf8') });
    }
    return { fields, file: undefined };
  }

  /** After the file: true if the form ends there (its closing delimiter), false if more parts follow. */
  async endsAfterFile(): Promise<boolean> {
    return !(await this.partFollows());
  }

  /** After a delimiter: "--" closes the form, CRLF starts a part. */
  private async partFollows(): Promise<boolean> {
    await this.want(2);
    const next = this.buffered.subarray(0, 2).toString('latin1');
    if (next === '--') return false;
    if (next !== '\r\n') throw malformedPost('a boundary is followed by neither CRLF nor --');
    this.buffered = this.buffered.subarray(2);
    return true;
  }

  private async *fileBody(): AsyncGenerator<Buffer> {
    const keep = this.delimiter.length - 1;
    for (;;) {
      const at = this.buffered.indexOf(this.delimiter);
      if (at >= 0) {
        if (at > 0) yield this.buffered.subarray(0, at);
        this.buffered = this.buffered.subarray(at + this.delimiter.length);
        return;
      }
      if (this.buffered.length > keep) {
        const piece = this.buffered.subarray(0, this.buffered.length - keep);
        this.buffered = this.buffered.subarray(this.buffered.length - keep);
        yield piece;
      }
      if (!(await this.fill())) throw malformedPost('the body ends inside the file');
    }
  }

  /** The bytes before `marker` (consumed with it); throws past `maxBytes` or at the end of the body. */
  private async takeUntil(marker: Buffer, maxBytes: number, what: string): Promise<Buffer> {
    for (;;) {
      const at = this.buffered.indexOf(marker);
      if (at >= 0) {
        if (at > maxBytes) throw what === 'fields' ? tooManyFieldBytes() : malformedPost(`${what} longer than ${maxBytes} bytes`);
        const taken = Buffer.from(this.buffered.subarray(0, at));
        this.buffered = this.buffered.subarray(at + marker.length);
        return taken;
      }
      if (this.buffered.length > maxBytes + marker.length) throw what === 'fields' ? tooManyFieldBytes() : malformedPost(`${what} longer than ${maxBytes} bytes`);
      if (!(await this.fill())) throw malformedPost(`the body ends inside the ${what}`);
    }
  }

  private async skipPast(marker: Buffer, maxBytes: number, why: string): Promise<void> {
    let skippedBytes = 0;
    for (;;) {
      const at = this.buffered.indexOf(marker);
      if (at >= 0) {
        this.buffered = this.buffered.subarray(at + marker.length);
        return;
      }
      // The preamble is discarded as it passes; keep only what may start the marker.
      const keep = Math.min(this.buffered.length, marker.length - 1);
      skippedBytes += this.buffered.length - keep;
      if (skippedBytes > maxBytes) throw malformedPost(why);
      this.buffered = this.buffered.subarray(this.buffered.length - keep);
      if (!(await this.fill())) throw malformedPost(why);
    }
  }

  private async want(bytes: number): Promise<void> {
    while (this.buffered.length < bytes) {
      if (!(await this.fill())) throw malformedPost('the body ends before its closing boundary');
    }
  }

  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.input.next();
    if (next.done === true) {
      this.ended = true;
      return false;
    }
    this.buffered = this.buffered.length === 0 ? next.value : Buffer.concat([this.buffered, next.value]);
    return true;
  }
}

function tooManyFieldBytes(): S3Error {
  return new S3Error(400, 'MaxPostPreDataLengthExceeded', `Your POST request fields preceding the upload file were too large: at most ${MAX_FORM_FIELD_BYTES} bytes.`);
}

function dispositionOf(headers: string): { name: string; filename: string | undefined } {
  const line = /^content-disposition:\s*form-data\s*(;.*)$/im.exec(headers)?.[1];
  if (line === undefined) throw malformedPost('a part without Content-Disposition: form-data');
  const name = /;\s*name="([^"]*)"/i.exec(line)?.[1];
  if (name === undefined || name === '') throw malformedPost('a part without a name');
  const filename = /;\s*filename="([^"]*)"/i.exec(line)?.[1];
  return { name, filename };
}
