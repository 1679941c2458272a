// CRC32C (Castagnoli), the checksum of every on-disk format. Hardware
// accelerated through @node-rs/crc32 (prebuilt, ~4.5 GB/s here).
import { crc32c as nativeCrc32c } from '@node-rs/crc32';

/** CRC32C of `data`, continuing from `initial` (0 to start). Unsigned 32-bit. */
export function crc32c(data: Uint8Array, initial = 0): number {
  return nativeCrc32c(Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength), initial) >>> 0;
}
