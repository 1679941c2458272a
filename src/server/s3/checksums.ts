// The additional checksums of S3 (x-amz-checksum-crc32, -crc32c, -crc64nvme,
// -sha1, -sha256): computed as the body streams and compared with the value
// the client sent in a header or in the aws-chunked trailer. Values are the
// base64 of the big-endian digest, as S3 sends them.
import { createHash } from 'node:crypto';
import { crc32 } from '@node-rs/crc32';
import { crc32c } from '../../base/index.js';

export const CHECKSUM_ALGORITHMS = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

export interface Checksum {
  update(data: Buffer): void;
  /** base64 of the digest. REQUIRES: called once, after the last update. */
  digest(): string;
}

export function isChecksumAlgorithm(name: string): name is ChecksumAlgorithm {
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(name);
}

export function newChecksum(algorithm: ChecksumAlgorithm): Checksum {
  switch (algorithm) {
    case 'crc32':
      return crc32Checksum((data, state) => crc32(data, state));
    case 'crc32c':
      return crc32Checksum((data, state) => crc32c(data, state));
    case 'crc64nvme':
      return new Crc64Nvme();
    case 'sha1':
    case 'sha256': {
      const hash = createHash(algorithm);
      return { update: (data) => hash.update(data), digest: () => hash.digest('base64') };
    }
  }
}

function crc32Checksum(step: (data: Buffer, state: number) => number): Checksum {
  let state = 0;
  return {
    update: (data) => {
      state = step(data, state) >>> 0;
    },
    digest: () => {
      const out = Buffer.alloc(4);
      out.writeUInt32BE(state >>> 0, 0);
      return out.toString('base64');
    },
  };
}

/**
 * CRC-64/NVME (reflected polynomial 0x9a6c9329ac4bc9b5, init and xorout all
 * ones), table-driven on two 32-bit halves because BigInt per byte is two
 * orders of magnitude slower. Check value of "123456789": ae8b14860a799888.
 */
class Crc64Nvme implements Checksum {
  private static readonly table = Crc64Nvme.makeTable();
  private lo = 0xffffffff;
  private hi = 0xffffffff;

  update(data: Buffer): void {
    const { lo: tLo, hi: tHi } = Crc64Nvme.table;
    let lo = this.lo;
    let hi = this.hi;
    for (let i = 0; i < data.length; i++) {
      const index = (lo ^ (data[i] ?? 0)) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ (tLo[index] ?? 0);
      hi = (hi >>> 8) ^ (tHi[index] ?? 0);
    }
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }

  digest(): string {
    const out = Buffer.alloc(8);
    out.writeUInt32BE(~this.hi >>> 0, 0);
    out.writeUInt32BE(~this.lo >>> 0, 4);
    return out.toString('base64');
  }

  private static makeTable(): { lo: Uint32Array; hi: Uint32Array } {
    const lo = new Uint32Array(256);
    const hi = new Uint32Array(256);
    const polyLo = 0xac4bc9b5;
    const polyHi = 0x9a6c9329;
    for (let n = 0; n < 256; n++) {
      let cLo = n;
      let cHi = 0;
      for (let k = 0; k < 8; k++) {
        const lsb = cLo & 1;
        cLo = ((cLo >>> 1) | (cHi << 31)) >>> 0;
        cHi = cHi >>> 1;
        if (lsb !== 0) {
          cLo = (cLo ^ polyLo) >>> 0;
          cHi = (cHi ^ polyHi) >>> 0;
        }
      }
      lo[n] = cLo;
      hi[n] = cHi;
    }
    return { lo, hi };
  }
}
