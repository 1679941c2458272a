// The part of the shard key space that belongs to the S3 front: every key
// whose first byte is 0x00 (s3/shard_keys.ts lays its records and data
// there). The native API and the control plane keep out of it (docs/API.md,
// "Reserved keys"): a native write there would be read back by S3 as a
// record (one garbage `\0B...` shard made ListBuckets fail for everyone),
// and a native read there would hand out S3 records and object bytes past
// S3's authentication.
//
// Invariants:
// 1. A key is reserved iff its first byte is RESERVED_FIRST_BYTE.
// 2. 0x00 is the smallest byte, so the reserved keys sort before every other
//    key: the native key space is exactly the keys >= FIRST_NATIVE_KEY, and a
//    listing "strictly after LAST_RESERVED_KEY" starts right past them.
import type { KeyRange, KeyRefusal } from '../node/index.js';
import { MAX_KEY_BYTES } from '../store/index.js';
import { HttpError } from './http_errors.js';

export const RESERVED_FIRST_BYTE = 0x00;
/** The stable error code of a refusal (400). */
export const RESERVED_KEY_CODE = 'ReservedKey';

/** The greatest reserved key (0x00 then 0xFF up to the longest key). */
export const LAST_RESERVED_KEY: Buffer = Buffer.concat([Buffer.from([RESERVED_FIRST_BYTE]), Buffer.alloc(MAX_KEY_BYTES - 1, 0xff)]);
/** The smallest key outside the reserved range. */
export const FIRST_NATIVE_KEY: Buffer = Buffer.from([RESERVED_FIRST_BYTE + 1]);

export function isReservedKey(key: Uint8Array): boolean {
  return key.length > 0 && key[0] === RESERVED_FIRST_BYTE;
}

/**
 * Decides which keys the native API and the control plane may name. A class
 * (not a bare function) so a test can install a broken variant through its
 * prototype (testing/mutants/http_mutants.ts) and see the tests catch it.
 */
export class ReservedKeys {
  /** Throws HttpError 400 ReservedKey if `key` (a key, prefix or range bound, named `what`) is reserved. */
  refuse(key: Uint8Array | undefined, what: string): void {
    if (key === undefined || !isReservedKey(key)) return;
    throw reservedKeyError(what);
  }

  /**
   * The cursor a native listing starts after: `startAfter` itself when it is
   * past the reserved range, else the last reserved key (so an empty prefix
   * and no start-after list native keys only).
   */
  listFloor(startAfter: Buffer | undefined): Buffer {
    return startAfter === undefined || Buffer.compare(startAfter, LAST_RESERVED_KEY) < 0 ? LAST_RESERVED_KEY : startAfter;
  }
}

export const reservedKeys = new ReservedKeys();

export function reservedKeyError(what: string): HttpError {
  return new HttpError(
    400,
    RESERVED_KEY_CODE,
    `${what} starts with the byte 0x00: keys starting with 0x00 are reserved for the S3 front (use the S3 API, or the control plane's include-s3 option for a whole-node migration)`,
  );
}

/**
 * A migration range (export) kept to the native key space: every reserved
 * bound refused, and the range starting at FIRST_NATIVE_KEY at the earliest
 * (the reserved keys all sort before it). The stream's header carries that
 * start, so it says what it holds.
 */
export function nativeExportRange(range: KeyRange): KeyRange {
  for (const [name, bound] of Object.entries(range)) reservedKeys.refuse(bound instanceof Uint8Array ? bound : undefined, name);
  if (range.start !== undefined && Buffer.compare(range.start, FIRST_NATIVE_KEY) >= 0) return range;
  return { ...range, start: FIRST_NATIVE_KEY };
}

/** For an import into the native key space: refuses each record of the reserved range. */
export function refuseReservedRecord(key: Buffer): KeyRefusal | undefined {
  return isReservedKey(key) ? { code: RESERVED_KEY_CODE, message: reservedKeyError("a record's key").message } : undefined;
}
