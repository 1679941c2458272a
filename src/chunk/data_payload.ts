// The payload of a data chunk (docs/format/chunk.md, "Data chunks"): the
// one codec of it, used by the store's reads and writes, reclamation's
// reverse lookup, scrub and fsck.
//
//   key length u16 LE | key | value bytes
//
// The key lets reclamation ask the index whether the chunk is still live,
// and lets a read check that the chunk belongs to the key it was asked for.
import { CorruptionError } from '../base/index.js';
import { CHUNK_OVERHEAD_BYTES } from './chunk_format.js';
import type { Locator } from './chunk_format.js';

/** Bytes of the key header: the u16 key length. */
const KEY_LENGTH_BYTES = 2;

/** The header a data chunk's payload starts with: the key's length and the key. */
export function dataHeader(key: Buffer): Buffer {
  const h = Buffer.allocUnsafe(KEY_LENGTH_BYTES + key.length);
  h.writeUInt16LE(key.length, 0);
  key.copy(h, KEY_LENGTH_BYTES);
  return h;
}

/** Bytes of value data in the data chunk at `loc` for `key`. */
export function chunkDataBytes(loc: Locator, key: Buffer): number {
  return loc.length - CHUNK_OVERHEAD_BYTES - KEY_LENGTH_BYTES - key.length;
}

/** The key a data chunk's payload names, or undefined when its header does not parse. */
export function dataPayloadKey(payload: Buffer): Buffer | undefined {
  if (payload.length < KEY_LENGTH_BYTES) return undefined;
  const keyBytes = payload.readUInt16LE(0);
  if (keyBytes === 0 || KEY_LENGTH_BYTES + keyBytes > payload.length) return undefined;
  return payload.subarray(KEY_LENGTH_BYTES, KEY_LENGTH_BYTES + keyBytes);
}

/** The key a data chunk's payload names, and its data. Throws CorruptionError when the header does not parse. */
export function splitDataPayload(payload: Buffer): { key: Buffer; data: Buffer } {
  const key = dataPayloadKey(payload);
  if (key === undefined) {
    const got = payload.length < KEY_LENGTH_BYTES ? 'data chunk shorter than its key header' : `data chunk key length ${payload.readUInt16LE(0)}`;
    throw new CorruptionError(got);
  }
  return { key, data: payload.subarray(KEY_LENGTH_BYTES + key.length) };
}
