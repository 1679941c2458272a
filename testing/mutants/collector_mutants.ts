// Broken variants of the S3 front's ordering against its collector
// (src/server/s3/collector.ts, docs/S3.md "Ordering", rule 3). The
// collector takes an object's lock and reads the object's records as
// staged; a write must therefore stay under that lock until it is durable.
import { Core } from '../../src/server/s3/core.js';
import type { Staged } from '../../src/server/s3/core.js';
import { patch } from './mutant.js';
import type { Mutant } from './mutant.js';

/**
 * The order before b869751: PutObject, CopyObject, DeleteObject and
 * UploadPart stage their record under the object's lock, release the lock,
 * and only then wait for the record to be durable. Meanwhile the collector
 * (scheduled for the key by anything else) takes the lock, sees the new
 * record, and deletes the data the old, durable record names; where that
 * data lives on another disk than the record (a multipart object), the
 * delete can be durable before the new record is, and a power cut brings
 * back the old record without its data. Caught by the s3-crash check
 * (testing/s3_crash_check.ts) and testing/s3_collect_crash.test.ts: the
 * acknowledged object cannot be read.
 */
export const s3DurableAfterUnlock: Mutant = {
  name: 's3-durable-after-unlock',
  bugClass: 'an S3 write waits for its durability after releasing the object\'s lock (the collector deletes data the durable record still names)',
  caughtBy: 's3-crash',
  expect: /GET of the acknowledged object answered 503 SlowDown/,
  install: (): (() => void) =>
    patch(
      Core.prototype,
      'writeDurably',
      () =>
        async function <T>(this: Core, name: string, stage: () => Promise<Staged<T>>): Promise<T> {
          const { dependency, value } = await this.locks.exclusive(name, stage);
          if (dependency !== undefined) await this.durable(dependency);
          return value;
        },
      2,
    ),
};

export const COLLECTOR_MUTANTS: readonly Mutant[] = [s3DurableAfterUnlock];
