// Server-side encryption of objects (docs/S3.md, "Encryption at rest"):
// what a request asks for, the parameters a new object gets, and the check
// of a later request against an encrypted object. The bytes are
// sse_format.ts's, the cryptography sse_crypto.ts's.
//
// SSE-S3 (`x-amz-server-side-encryption: AES256`, or the bucket's default
// encryption): a random data key per object (per multipart upload), wrapped
// by the node key (node_key.ts). SSE-C (`x-amz-server-side-encryption-
// customer-algorithm/-key/-key-MD5`): a random data key wrapped by the
// customer's key, which is never stored: only HMAC-SHA256(salt, key) with a
// random salt per object, that later requests are checked against.
//
// Decisions where AWS leaves room (docs/S3.md lists them):
//   - SSE-C needs TLS in AWS. This server speaks plain HTTP, so SSE-C is
//     served over plain HTTP only to a peer on the loopback address (the key
//     never leaves the machine); from any other address it is AWS's 400
//     InvalidRequest.
//   - An SSE-C object read without its key: 400 InvalidRequest; with
//     another key: 403 AccessDenied; SSE-C headers on an object that is not
//     SSE-C: 400 InvalidRequest (AWS's answers).
//   - SSE-KMS (aws:kms, aws:kms:dsse) stays 501 NotImplemented.
//   - The ETag is the MD5 of the plaintext for SSE-S3 (as in S3). For SSE-C
//     it is not (as in S3): the first 16 bytes of HMAC-SHA256(data key,
//     MD5), so the record, which is stored in clear, does not fingerprint
//     the plaintext for whoever reads the disks. A part's ETag likewise.
//
// Objects without encryption pay nothing here beyond one lookup of the
// bucket's default encryption per write (as versioning reads its settings).
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Exchange } from '../exchange.js';
import type { Core } from './core.js';
import type { ObjectRecord, UploadRecord } from './records.js';
import { headerOf } from './request.js';
import { accessDenied, invalidArgument, invalidRequest, notImplemented } from './s3_errors.js';
import { readBucketEncryption } from './bucket_encryption.js';
import type { NodeKey } from './node_key.js';
import type { Blob } from './sse_crypto.js';
import { EncryptingStream, WRAP_AAD, customerKeyMac, unwrapKey, wrapKey } from './sse_crypto.js';
import type { EncryptionParams } from './sse_format.js';
import { DATA_KEY_BYTES, DEFAULT_SEGMENT_BYTES, MAC_SALT_BYTES, decodeEncryption, encodeEncryption, plainBytes } from './sse_format.js';

const SSE = 'x-amz-server-side-encryption';
/** The SSE-C headers of the object itself, and of a copy source. */
export const CUSTOMER_PREFIX = 'x-amz-server-side-encryption-customer-';
export const COPY_SOURCE_CUSTOMER_PREFIX = 'x-amz-copy-source-server-side-encryption-customer-';

/** An SSE-C key as a request gives it (checked against its MD5). */
export interface CustomerKey {
  readonly key: Buffer;
  /** Base64 MD5 of the key, as sent (echoed in answers). */
  readonly md5: string;
}

/** What a write asks for: SSE-S3 or SSE-C, from its headers or the bucket's default. */
export type EncryptionAsk = { readonly mode: 'sse-s3' } | { readonly mode: 'sse-c'; readonly key: CustomerKey };

/** A new object's (or upload's) encryption: its parameters and its data key in clear. */
export interface Encryption {
  readonly params: EncryptionParams;
  readonly dataKey: Buffer;
  readonly customerKey?: CustomerKey | undefined;
}

/** True if the request asks for encryption by header (an in-place copy that changes encryption is allowed). */
export function asksEncryption(headers: IncomingHttpHeaders): boolean {
  return headers[SSE] !== undefined || headers[`${CUSTOMER_PREFIX}algorithm`] !== undefined;
}

/**
 * The SSE-C key of headers under `prefix`, or undefined if none is given.
 * Throws InvalidArgument for a partial or inconsistent set, InvalidRequest
 * over plain HTTP from another machine.
 */
export function customerKeyOf(ex: Exchange, prefix: string): CustomerKey | undefined {
  const headers = ex.req.headers;
  const algorithm = headerOf(headers, `${prefix}algorithm`);
  const keyText = headerOf(headers, `${prefix}key`);
  const md5 = headerOf(headers, `${prefix}key-md5`);
  if (algorithm === undefined && keyText === undefined && md5 === undefined) return undefined;
  if (algorithm === undefined) throw invalidArgument('Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.', { ArgumentName: `${prefix}algorithm` });
  if (algorithm.trim() !== 'AES256') throw invalidArgument('The encryption algorithm specified is not valid.', { ArgumentName: `${prefix}algorithm`, ArgumentValue: algorithm });
  if (keyText === undefined) throw invalidArgument('Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.', { ArgumentName: `${prefix}key` });
  if (md5 === undefined) throw invalidArgument('Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.', { ArgumentName: `${prefix}key-MD5` });
  const key = Buffer.from(keyText.trim(), 'base64');
  if (key.length !== DATA_KEY_BYTES || key.toString('base64') !== keyText.trim()) throw invalidArgument('The secret key was invalid for the specified algorithm.', { ArgumentName: `${prefix}key` });
  if (createHash('md5').update(key).digest('base64') !== md5.trim()) throw invalidArgument('The calculated MD5 hash of the key did not match the hash that was provided.', { ArgumentName: `${prefix}key-MD5` });
  if (!secureEnough(ex)) throw invalidRequest('Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.');
  return { key, md5: md5.trim() };
}

/** TLS, or plain HTTP from this machine (see the header comment). */
function secureEnough(ex: Exchange): boolean {
  const socket = ex.req.socket as { encrypted?: boolean; remoteAddress?: string } | undefined;
  if (socket?.encrypted === true) return true;
  const address = socket?.remoteAddress ?? '';
  return address === '::1' || /^(::ffff:)?127\./.test(address);
}

/** What the request's headers ask a write for; undefined: nothing (the bucket's default may still apply). */
export function encryptionAskOf(ex: Exchange): EncryptionAsk | undefined {
  const sse = headerOf(ex.req.headers, SSE);
  const customer = customerKeyOf(ex, CUSTOMER_PREFIX);
  if (sse !== undefined && customer !== undefined) {
    throw invalidArgument('Server Side Encryption with Customer provided key is incompatible with the encryption method specified', { ArgumentName: SSE, ArgumentValue: sse });
  }
  if (customer !== undefined) return { mode: 'sse-c', key: customer };
  if (sse === undefined) return undefined;
  const value = sse.trim();
  if (value === 'AES256') return { mode: 'sse-s3' };
  if (value === 'aws:kms' || value === 'aws:kms:dsse') throw notImplemented(`${SSE}: ${value} (SSE-KMS)`);
  throw invalidArgument('The encryption method specified is not supported', { ArgumentName: SSE, ArgumentValue: sse });
}

/** The encryption a new object of `bucket` gets: the request's, else the bucket's default, else none. */
export async function newEncryption(core: Core, bucket: string, ex: Exchange): Promise<Encryption | undefined> {
  const ask = encryptionAskOf(ex);
  return ask === undefined ? defaultEncryption(core, bucket) : makeEncryption(core, ask);
}

/** The bucket's default encryption for a new object (POST forms, which cannot ask for their own: their SSE fields are 501). */
export async function defaultEncryption(core: Core, bucket: string): Promise<Encryption | undefined> {
  return (await readBucketEncryption(core, bucket)) === undefined ? undefined : makeEncryption(core, { mode: 'sse-s3' });
}

/** A fresh data key, wrapped as `ask` says (the node key is made here at its first use). */
async function makeEncryption(core: Core, ask: EncryptionAsk): Promise<Encryption> {
  const dataKey = randomBytes(DATA_KEY_BYTES);
  const segmentBytes = DEFAULT_SEGMENT_BYTES;
  if (ask.mode === 'sse-c') {
    const macSalt = randomBytes(MAC_SALT_BYTES);
    const params: EncryptionParams = { mode: 'sse-c', segmentBytes, dataKey: wrapKey(ask.key.key, dataKey, WRAP_AAD['sse-c']), macSalt, keyMac: customerKeyMac(macSalt, ask.key.key) };
    return { params, dataKey, customerKey: ask.key };
  }
  const node = await nodeKey(core, true);
  return { params: { mode: 'sse-s3', segmentBytes, dataKey: wrapKey(node.key, dataKey, WRAP_AAD['sse-s3']), nodeKeyId: node.id }, dataKey };
}

async function nodeKey(core: Core, create: boolean): Promise<NodeKey> {
  const source = core.options.nodeKey;
  if (source === undefined) throw notImplemented('SSE-S3 on a server without a node key (serve keeps one beside the credentials file)');
  const key = await source.get(create);
  if (key === undefined) throw new Error('the node key file is missing: SSE-S3 objects cannot be read without it (docs/SECURITY.md, "Encryption keys")');
  return key;
}

/** Encrypt one blob (an object's data, or one part of an upload). */
export function encrypting(e: Encryption, body: AsyncIterable<Buffer>, part: number): EncryptingStream {
  return new EncryptingStream(body, e.dataKey, e.params.segmentBytes, part);
}

/** `record` as an encrypted object: its size the plaintext's, its ETag (SSE-C) not the MD5, its section the parameters. */
export function sealedRecord(e: Encryption, record: ObjectRecord, plainSize: number): ObjectRecord {
  const etag = etagDigest(e, Buffer.from(record.etag, 'hex')).toString('hex');
  return { ...record, sizeBytes: plainSize, etag, sections: { ...record.sections, encryption: encodeEncryption(e.params) } };
}

/**
 * The 16 bytes an ETag is made of, for a body whose MD5 is `md5`: the MD5
 * itself, or under SSE-C a keyed digest of it (see the header comment).
 */
export function etagDigest(e: Encryption | undefined, md5: Buffer): Buffer {
  if (e?.params.mode !== 'sse-c') return md5;
  return createHmac('sha256', e.dataKey).update('shardstore sse-c etag\0').update(md5).digest().subarray(0, md5.length);
}

/** The encryption parameters of a record (object or upload); undefined if it is not encrypted. */
export function encryptionOf(record: Pick<ObjectRecord, 'sections'>): EncryptionParams | undefined {
  const bytes = record.sections?.encryption;
  return bytes === undefined ? undefined : decodeEncryption(bytes);
}

/**
 * Check a request's SSE-C key (`given`) against an object or upload
 * (`params`): S3's answers for a missing, unexpected or wrong key.
 */
export function checkKey(params: EncryptionParams | undefined, given: CustomerKey | undefined, need: 'needed' | 'given' = 'needed'): void {
  KEY_CHECK.check(params, given, need);
}

/** The SSE-C key check, an object so that a broken variant can replace it (testing/mutants/http_check_mutants.ts). */
export class KeyCheck {
  check(params: EncryptionParams | undefined, given: CustomerKey | undefined, need: 'needed' | 'given'): void {
    if (params?.mode !== 'sse-c') {
      if (given !== undefined) throw invalidRequest('The encryption parameters are not applicable to this object.');
      return;
    }
    // `given`: the operation reads no data (ListParts), so the key is checked only if it is sent.
    if (given === undefined && need === 'given') return;
    if (given === undefined) throw invalidRequest('The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.');
    if (!timingSafeEqual(customerKeyMac(params.macSalt, given.key), params.keyMac)) throw accessDenied('The provided SSE-C key does not match the key the object was stored with.');
  }
}

export const KEY_CHECK = new KeyCheck();

/** The data key of an encrypted object or upload. REQUIRES: checkKey passed. */
export async function dataKeyOf(core: Core, params: EncryptionParams, given: CustomerKey | undefined): Promise<Buffer> {
  if (params.mode === 'sse-c') {
    if (given === undefined) throw new Error('unreachable: an SSE-C data key without the customer key (checkKey first)');
    return unwrapKey(given.key, params.dataKey, WRAP_AAD['sse-c']);
  }
  const node = await nodeKey(core, false);
  if (!node.id.equals(params.nodeKeyId)) {
    throw new Error(`this object was encrypted under node key ${params.nodeKeyId.toString('hex')}, and the node's key is ${node.id.toString('hex')}: restore the node.key file it was written with`);
  }
  return unwrapKey(node.key, params.dataKey, WRAP_AAD['sse-s3']);
}

/** The encrypted blobs of a record, in order: its data shards, or its inline bytes as part 0. */
export function blobsOf(record: ObjectRecord): Blob[] {
  if (record.inline !== undefined) return [{ part: 0, storedBytes: record.inline.length }];
  return record.parts.map((p) => ({ part: p.part, storedBytes: p.sizeBytes }));
}

/** The size of an object made of `parts` of an upload (its plaintext size if the upload is encrypted). */
export function sizeOfParts(upload: Pick<UploadRecord, 'sections'>, parts: ReadonlyArray<{ readonly sizeBytes: number; readonly part: number }>): number {
  const params = encryptionOf(upload);
  if (params === undefined) return parts.reduce((n, p) => n + p.sizeBytes, 0);
  return parts.reduce((n, p) => n + plainBytes(p.sizeBytes, params.segmentBytes), 0);
}

/** A part's size as ListParts reports it (plaintext). */
export function partSize(upload: Pick<UploadRecord, 'sections'>, storedBytes: number): number {
  const params = encryptionOf(upload);
  return params === undefined ? storedBytes : plainBytes(storedBytes, params.segmentBytes);
}

/** The encryption headers of an answer about an object or upload, as S3 echoes them. */
export function encryptionHeaders(params: EncryptionParams | undefined, given?: CustomerKey): Record<string, string> {
  if (params === undefined) return {};
  if (params.mode === 'sse-s3') return { [SSE]: 'AES256' };
  return { [`${CUSTOMER_PREFIX}algorithm`]: 'AES256', ...(given === undefined ? {} : { [`${CUSTOMER_PREFIX}key-MD5`]: given.md5 }) };
}
