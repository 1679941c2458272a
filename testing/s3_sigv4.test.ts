// SigV4 verification and the aws-chunked decoder, against the worked
// examples of the AWS S3 documentation ("Signature Calculations for the
// Authorization Header", "... Query Parameters", "... Multiple Chunks"):
// the example credentials, request time 20130524T000000Z, and the
// signatures AWS published for them.
//
// Strategy: each example is fed to verifyRequest exactly as node would hand
// it over (raw path, raw query, rawHeaders), with the clock at the example's
// time; it must verify, and any one-byte change (header, path, query,
// secret, chunk data) must be refused with the S3 error code clients expect.
// The chunked example then runs through AwsChunkedDecoder, which must yield
// the 66560 bytes and accept exactly AWS's chunk signatures.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { AwsChunkedDecoder, S3Error, verifyRequest } from '../src/server/s3/index.js';
import type { SignedRequest } from '../src/server/s3/index.js';

const ACCESS_KEY = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const NOW = Date.UTC(2013, 4, 24, 0, 0, 0);
const lookup = (id: string): string | undefined => (id === ACCESS_KEY ? SECRET : undefined);
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const CREDENTIAL = `Credential=${ACCESS_KEY}/20130524/us-east-1/s3/aws4_request`;

function headerAuth(signedHeaders: string, signature: string): string {
  return `AWS4-HMAC-SHA256 ${CREDENTIAL},SignedHeaders=${signedHeaders},Signature=${signature}`;
}

const getObject: SignedRequest = {
  method: 'GET',
  rawPath: '/test.txt',
  rawQuery: '',
  rawHeaders: [
    'Host', 'examplebucket.s3.amazonaws.com',
    'Range', 'bytes=0-9',
    'x-amz-content-sha256', EMPTY,
    'x-amz-date', '20130524T000000Z',
    'Authorization', headerAuth('host;range;x-amz-content-sha256;x-amz-date', 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41'),
  ],
};

const putObject: SignedRequest = {
  method: 'PUT',
  rawPath: '/test$file.text',
  rawQuery: '',
  rawHeaders: [
    'Host', 'examplebucket.s3.amazonaws.com',
    'Date', 'Fri, 24 May 2013 00:00:00 GMT',
    'x-amz-date', '20130524T000000Z',
    'x-amz-storage-class', 'REDUCED_REDUNDANCY',
    'x-amz-content-sha256', '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072',
    'Authorization', headerAuth('date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class', '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd'),
  ],
};

const getLifecycle: SignedRequest = {
  method: 'GET',
  rawPath: '/',
  rawQuery: 'lifecycle',
  rawHeaders: [
    'Host', 'examplebucket.s3.amazonaws.com',
    'x-amz-date', '20130524T000000Z',
    'x-amz-content-sha256', EMPTY,
    'Authorization', headerAuth('host;x-amz-content-sha256;x-amz-date', 'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543'),
  ],
};

const listObjects: SignedRequest = {
  method: 'GET',
  rawPath: '/',
  rawQuery: 'max-keys=2&prefix=J',
  rawHeaders: [
    'Host', 'examplebucket.s3.amazonaws.com',
    'x-amz-date', '20130524T000000Z',
    'x-amz-content-sha256', EMPTY,
    'Authorization', headerAuth('host;x-amz-content-sha256;x-amz-date', '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7'),
  ],
};

const presigned: SignedRequest = {
  method: 'GET',
  rawPath: '/test.txt',
  rawQuery:
    'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request' +
    '&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host' +
    '&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
  rawHeaders: ['Host', 'examplebucket.s3.amazonaws.com'],
};

const chunked: SignedRequest = {
  method: 'PUT',
  rawPath: '/examplebucket/chunkObject.txt',
  rawQuery: '',
  rawHeaders: [
    'Host', 's3.amazonaws.com',
    'x-amz-date', '20130524T000000Z',
    'x-amz-storage-class', 'REDUCED_REDUNDANCY',
    'x-amz-content-sha256', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    'Content-Encoding', 'aws-chunked',
    'x-amz-decoded-content-length', '66560',
    'Content-Length', '66824',
    'Authorization', headerAuth(
      'content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class',
      '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
    ),
  ],
};

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof S3Error) return `${err.status} ${err.code}`;
    throw err;
  }
  return 'ok';
}

function withHeader(req: SignedRequest, name: string, value: string): SignedRequest {
  const raw = [...req.rawHeaders];
  const at = raw.findIndex((h, i) => i % 2 === 0 && h.toLowerCase() === name);
  raw[at + 1] = value;
  return { ...req, rawHeaders: raw };
}

void test('the documentation examples verify, with the payload mode they declare', () => {
  // Checks canonical URI encoding ($ -> %24), canonical query sorting, the
  // Date header alongside x-amz-date, subresources without a value, and
  // presigned URLs, against AWS's published signatures.
  for (const req of [getObject, putObject, getLifecycle, listObjects, presigned, chunked]) {
    assert.equal(code(() => verifyRequest(req, lookup, NOW)), 'ok', `${req.method} ${req.rawPath}?${req.rawQuery}`);
  }
  assert.deepEqual(verifyRequest(getObject, lookup, NOW).payload, { kind: 'sha256', hex: EMPTY });
  assert.deepEqual(verifyRequest(presigned, lookup, NOW).payload, { kind: 'unsigned' });
  assert.deepEqual(verifyRequest(chunked, lookup, NOW).payload, { kind: 'streaming-signed', trailer: false });
});

void test('any change to a signed request is refused with the S3 code for it', () => {
  // Checks the negative space: tampered header, path, query, body hash;
  // wrong secret; unknown key; stale clock; expired and not-yet-valid
  // presigned URLs; no signature at all; malformed Authorization.
  const denied = '403 SignatureDoesNotMatch';
  assert.equal(code(() => verifyRequest(withHeader(getObject, 'range', 'bytes=0-10'), lookup, NOW)), denied);
  assert.equal(code(() => verifyRequest({ ...getObject, rawPath: '/test.txT' }, lookup, NOW)), denied);
  assert.equal(code(() => verifyRequest({ ...listObjects, rawQuery: 'max-keys=3&prefix=J' }, lookup, NOW)), denied);
  assert.equal(code(() => verifyRequest(withHeader(putObject, 'x-amz-content-sha256', EMPTY), lookup, NOW)), denied);
  assert.equal(code(() => verifyRequest(getObject, () => SECRET + 'x', NOW)), denied);
  assert.equal(code(() => verifyRequest(getObject, () => undefined, NOW)), '403 InvalidAccessKeyId');
  assert.equal(code(() => verifyRequest(getObject, lookup, NOW + 16 * 60_000)), '403 RequestTimeTooSkewed');
  assert.equal(code(() => verifyRequest(presigned, lookup, NOW + 86_401_000)), '403 AccessDenied');
  assert.equal(code(() => verifyRequest(presigned, lookup, NOW - 16 * 60_000)), '403 AccessDenied');
  assert.equal(code(() => verifyRequest({ ...presigned, rawQuery: presigned.rawQuery.replace('86400', '86401') }, lookup, NOW)), denied);
  assert.equal(code(() => verifyRequest({ ...getObject, rawHeaders: getObject.rawHeaders.slice(0, -2) }, lookup, NOW)), '403 AccessDenied');
  assert.equal(code(() => verifyRequest(withHeader(getObject, 'authorization', 'AWS AKIA:abc'), lookup, NOW)), '501 NotImplemented');
  assert.equal(code(() => verifyRequest(withHeader(getObject, 'authorization', 'AWS4-HMAC-SHA256 Credential=x'), lookup, NOW)), '400 AuthorizationHeaderMalformed');
  assert.equal(code(() => verifyRequest({ ...getObject, rawPath: '/bad%zz' }, lookup, NOW)), '400 InvalidURI');
});

function chunkedBody(signatures: readonly string[], sizes: readonly number[]): Buffer {
  const parts: Buffer[] = [];
  sizes.forEach((size, i) => {
    parts.push(Buffer.from(`${size.toString(16)};chunk-signature=${signatures[i] ?? ''}\r\n`));
    parts.push(Buffer.alloc(size, 'a'));
    parts.push(Buffer.from('\r\n'));
  });
  return Buffer.concat(parts);
}

async function decodeAll(body: Buffer, pieceBytes: number): Promise<Buffer> {
  const auth = verifyRequest(chunked, lookup, NOW);
  const decoder = new AwsChunkedDecoder({ signing: auth.chunkSigning, trailer: false });
  const pieces: Buffer[] = [];
  for (let at = 0; at < body.length; at += pieceBytes) pieces.push(body.subarray(at, at + pieceBytes));
  const out: Buffer[] = [];
  for await (const piece of decoder.decode(Readable.from(pieces))) out.push(piece);
  return Buffer.concat(out);
}

const AWS_CHUNK_SIGNATURES = [
  'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
  '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
  'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
];

void test('the chunked upload example decodes, and a changed chunk is refused', async () => {
  // Checks the chained chunk signatures of the documentation's 66560-byte
  // upload (64 KiB + 1 KiB + final chunk), with the body arriving in pieces
  // that split headers and data at awkward places; then a flipped data
  // byte, a swapped signature, a truncated body and trailing garbage.
  const body = chunkedBody(AWS_CHUNK_SIGNATURES, [65536, 1024, 0]);
  assert.equal(body.length, 66824);
  for (const pieceBytes of [7, 4096, body.length]) {
    const decoded = await decodeAll(body, pieceBytes);
    assert.equal(decoded.length, 66560);
    assert.ok(decoded.every((b) => b === 0x61));
  }
  const flipped = Buffer.from(body);
  flipped[100] = 0x62;
  await assert.rejects(decodeAll(flipped, 4096), (err) => err instanceof S3Error && err.code === 'SignatureDoesNotMatch');
  const swapped = chunkedBody([AWS_CHUNK_SIGNATURES[1] ?? '', AWS_CHUNK_SIGNATURES[0] ?? '', AWS_CHUNK_SIGNATURES[2] ?? ''], [65536, 1024, 0]);
  await assert.rejects(decodeAll(swapped, 4096), (err) => err instanceof S3Error && err.code === 'SignatureDoesNotMatch');
  await assert.rejects(decodeAll(body.subarray(0, 70_000 - 4000), 4096), (err) => err instanceof S3Error && err.code === 'IncompleteBody');
  await assert.rejects(decodeAll(Buffer.concat([body, Buffer.from('x')]), 4096), (err) => err instanceof S3Error && err.code === 'IncompleteBody');
});
