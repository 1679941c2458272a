// Keys travel in URLs as percent-encoded raw bytes (docs/API.md, "Keys").
//
// Decoding is byte-exact: `%XX` is the byte 0xXX, and any other character is
// its own code as one byte (node's parser admits only ASCII in the request
// target, so that is the byte on the wire). Nothing else is special: '/' and
// '+' are literal bytes in a path. In a query string '+' means a space
// (application/x-www-form-urlencoded), which decodeQueryComponent handles.
// Encoding escapes every byte outside RFC 3986's unreserved set, so an
// encoded key is safe both as a path tail and as a query value.
import { InvalidArgumentError } from '../base/index.js';
import { MAX_KEY_BYTES } from '../store/index.js';
import { reservedKeys } from './reserved_keys.js';

const HEX = '0123456789ABCDEF';

/** Decode a percent-encoded path component to its bytes. Throws InvalidArgumentError. */
export function decodePercent(text: string): Buffer {
  const out = Buffer.allocUnsafe(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x25 /* % */) {
      out[n++] = hexByte(text, i + 1);
      i += 2;
    } else if (code > 0xff) {
      throw new InvalidArgumentError(`character U+${code.toString(16)} must be percent-encoded`);
    } else {
      out[n++] = code;
    }
  }
  return out.subarray(0, n);
}

/** Decode one query-string name or value: '+' is a space, then percent-decoding. */
export function decodeQueryComponent(text: string): Buffer {
  return decodePercent(text.replaceAll('+', ' '));
}

/** Percent-encode every byte outside A-Z a-z 0-9 - . _ ~. */
export function encodeKey(key: Uint8Array): string {
  return uriEncode(key, true);
}

/** SigV4's UriEncode: unreserved bytes as they are, '/' kept unless `encodeSlash`, everything else %XX (upper-case hex). */
export function uriEncode(bytes: Uint8Array, encodeSlash: boolean): string {
  let out = '';
  for (const byte of bytes) {
    if (isUnreserved(byte) || (byte === 0x2f && !encodeSlash)) out += String.fromCharCode(byte);
    else out += '%' + (HEX[byte >> 4] ?? '') + (HEX[byte & 15] ?? '');
  }
  return out;
}

function hexByte(text: string, at: number): number {
  const pair = text.slice(at, at + 2);
  if (!/^[0-9a-fA-F]{2}$/.test(pair)) {
    throw new InvalidArgumentError(`malformed percent-encoding at offset ${at - 1}`);
  }
  return parseInt(pair, 16);
}

function isUnreserved(byte: number): boolean {
  return (
    (byte >= 0x30 && byte <= 0x39) || // 0-9
    (byte >= 0x41 && byte <= 0x5a) || // A-Z
    (byte >= 0x61 && byte <= 0x7a) || // a-z
    byte === 0x2d || // -
    byte === 0x2e || // .
    byte === 0x5f || // _
    byte === 0x7e // ~
  );
}

/** The key bytes of a path tail. Throws InvalidArgumentError (400) unless 1..MAX_KEY_BYTES bytes. */
export function decodeKey(encoded: string): Buffer {
  // Cheap bound before decoding: each byte takes at most 3 characters.
  if (encoded.length > 3 * MAX_KEY_BYTES) throw keyLengthError(`more than ${MAX_KEY_BYTES}`);
  const key = decodePercent(encoded);
  if (key.length < 1 || key.length > MAX_KEY_BYTES) throw keyLengthError(String(key.length));
  return key;
}

/** decodeKey, and refused (400 ReservedKey) if the key is in the S3 front's reserved range (reserved_keys.ts). */
export function decodeNativeKey(encoded: string, what: string): Buffer {
  const key = decodeKey(encoded);
  reservedKeys.refuse(key, what);
  return key;
}

function keyLengthError(got: string): InvalidArgumentError {
  return new InvalidArgumentError(`key must be 1..${MAX_KEY_BYTES} bytes, got ${got}`);
}
