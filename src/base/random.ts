// The one source of randomness the engine uses (chunk ids). Production uses
// the OS generator; the validation harness passes a seeded one so that runs
// replay exactly.
import { randomFillSync } from 'node:crypto';

export interface RandomSource {
  /** A uniformly random unsigned 32-bit integer. */
  nextU32(): number;
}

export class CryptoRandom implements RandomSource {
  private readonly pool = new Uint32Array(256);
  private next = 256;

  nextU32(): number {
    if (this.next === this.pool.length) {
      randomFillSync(this.pool);
      this.next = 0;
    }
    const value = this.pool[this.next++];
    return value ?? 0;
  }
}
