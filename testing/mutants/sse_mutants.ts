// Broken variants of encryption at rest (src/server/s3/sse_crypto.ts),
// caught by testing/s3_sse.test.ts against the real server rather than by
// a `shardstore check` suite (so they are not in MUTANTS); `expect` is the
// violation each must cause:
//   - sse-stored-plaintext: the segment cipher passes the plaintext
//     through, so an "encrypted" object is stored as it was sent, and the
//     search of every stored value finds it.
//   - sse-tag-not-verified: a segment's tag is not checked, so altered
//     ciphertext is served as (wrong) bytes instead of failing.
import { createDecipheriv } from 'node:crypto';
import { EncryptingStream, SegmentCipher } from '../../src/server/s3/sse_crypto.js';
import { patch } from './mutant.js';
import type { S3Mutant } from './s3_mutants.js';

/** The stream's fields, as the broken iterator reaches them. */
interface StreamInside {
  readonly source: AsyncIterable<Buffer>;
  counted: number;
  ended: boolean;
}

/** A variant caught by testing/s3_sse.test.ts. */
const caughtBySseTest = (name: string, bugClass: string, expect: RegExp, install: () => () => void): S3Mutant => ({ name, bugClass, caughtBy: 'testing/s3_sse.test.ts', expect, install });

export const storedPlaintext: S3Mutant = caughtBySseTest('sse-stored-plaintext', 'an object asked to be encrypted is stored in plaintext', /^found in plaintext: /, () =>
    patch(EncryptingStream.prototype, Symbol.asyncIterator, () =>
      function (this: EncryptingStream): AsyncGenerator<Buffer> {
        const inside = this as unknown as StreamInside;
        return (async function* (): AsyncGenerator<Buffer> {
          for await (const piece of inside.source) {
            inside.counted += piece.length;
            yield piece;
          }
          inside.ended = true;
        })();
      },
    ),
);

export const tagNotVerified: S3Mutant = caughtBySseTest('sse-tag-not-verified', 'altered ciphertext decrypts to wrong bytes instead of failing (GCM tag not checked)', /^served altered ciphertext: /, () =>
    patch(SegmentCipher.prototype, 'open', () =>
      function (this: SegmentCipher, dataKey: Buffer, stored: Buffer): Buffer {
        // Deliberately decrypts without the tag (GCM's keystream is CTR's: counter 2 for the first block).
        const nonce = stored.subarray(0, 12);
        const iv = Buffer.concat([nonce, Buffer.from([0, 0, 0, 2])]);
        return createDecipheriv('aes-256-ctr', dataKey, iv).update(stored.subarray(12, stored.length - 16));
      },
    ),
);

export const SSE_MUTANTS: readonly S3Mutant[] = [storedPlaintext, tagNotVerified];
