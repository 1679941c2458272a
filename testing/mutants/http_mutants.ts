// Broken variants of the HTTP server's answers to damaged data and of its
// guard of the S3 front's key range, each the bug issue 11 (parts 5 and 6)
// found in the landed store. They are caught by tests against the real
// server (named in `caughtBy`), not by a `shardstore check` suite, so they
// are not in MUTANTS (testing/check/mutant_registry.ts); each test installs
// its mutant and asserts the failure it must cause.
import { BodyPrimer } from '../../src/server/body_stream.js';
import { ReservedKeys } from '../../src/server/reserved_keys.js';
import { Metrics } from '../../src/server/metrics.js';
import type { RequestSample } from '../../src/server/metrics.js';
import { Core } from '../../src/server/s3/core.js';
import { patch } from './mutant.js';

export interface HttpMutant {
  readonly name: string;
  readonly bugClass: string;
  /** The test file that catches it. */
  readonly caughtBy: string;
  install(): () => void;
}

/** The status line goes out before the first chunk is read: a damaged first chunk is a connection cut with no status at all. */
export const statusBeforeFirstChunk: HttpMutant = {
  name: 'status-before-first-chunk',
  bugClass: 'a GET of a damaged value answers with no status line (the log says 200)',
  caughtBy: 'testing/http_damage.test.ts',
  install: () =>
    patch(BodyPrimer.prototype, 'prime', () =>
      function (this: BodyPrimer, body: AsyncIterable<Buffer>): Promise<AsyncIterable<Buffer>> {
        return Promise.resolve(body);
      },
    ),
};

/** The native API and the control plane take keys of the S3 front's range as any other. */
export const nativeApiInS3Range: HttpMutant = {
  name: 'native-api-in-s3-range',
  bugClass: 'a native put of a 0x00 key breaks S3 for everyone; native reads hand out S3 records',
  caughtBy: 'testing/http_namespace.test.ts',
  install: () => {
    const restoreRefuse = patch(ReservedKeys.prototype, 'refuse', () =>
      function (this: ReservedKeys): void {
        // Deliberately refuses nothing.
      },
    );
    const restoreFloor = patch(ReservedKeys.prototype, 'listFloor', () =>
      function (this: ReservedKeys, startAfter: Buffer | undefined): Buffer {
        return startAfter ?? Buffer.alloc(0);
      },
    );
    return () => {
      restoreFloor();
      restoreRefuse();
    };
  },
};

/** A listing decodes every record it meets and fails on the first damaged one. */
export const listingFailsOnDamagedRecord: HttpMutant = {
  name: 'listing-fails-on-damaged-record',
  bugClass: 'one damaged S3 record makes ListBuckets or ListObjects answer 500 for every user',
  caughtBy: 'testing/http_damage.test.ts',
  install: () =>
    patch(Core.prototype, 'decodeListed', () =>
      function <T>(this: Core, _shardKey: Buffer, bytes: Buffer, decode: (bytes: Buffer) => T): T | undefined {
        return decode(bytes);
      },
    ),
};

/** An answer cut mid-body is counted as the status it sent, as if it had ended well. */
export const abortedAnswerNotCounted: HttpMutant = {
  name: 'aborted-answer-not-counted',
  bugClass: 'metrics show a damaged value served as a clean 200',
  caughtBy: 'testing/http_damage.test.ts',
  install: () =>
    patch(Metrics.prototype, 'observeRequest', (original) =>
      function (this: Metrics, sample: RequestSample): void {
        original.call(this, { api: sample.api, op: sample.op, status: sample.status, seconds: sample.seconds, bytesIn: sample.bytesIn, bytesOut: sample.bytesOut });
      },
    ),
};

/**
 * The primed body yields its first piece outside the try that closes the
 * reader: a body that leaves in one piece never closes its store reader,
 * which pins its extents until the disk fills (the e2e crash test saw 507s).
 */
export const primedBodyLeaksReader: HttpMutant = {
  name: 'primed-body-leaks-reader',
  bugClass: 'a GET answered in one piece leaves its store reader open (reclamation blocked, disk full)',
  caughtBy: 'testing/server.test.ts',
  install: () =>
    patch(BodyPrimer.prototype, 'prime', () =>
      async function (this: BodyPrimer, body: AsyncIterable<Buffer>): Promise<AsyncIterable<Buffer>> {
        const it = body[Symbol.asyncIterator]();
        const first = await it.next();
        async function* leaky(): AsyncGenerator<Buffer> {
          if (first.done !== true) yield first.value;
          try {
            for (let next = await it.next(); next.done !== true; next = await it.next()) yield next.value;
          } finally {
            await it.return?.();
          }
        }
        return leaky();
      },
    ),
};
