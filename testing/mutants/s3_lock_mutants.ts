// Broken variants of object lock's durability, caught by the power cuts of
// testing/s3_object_lock_crash.test.ts (the http check's object lock
// variants, which break the rules, are in http_check_mutants.ts).
import { LockWriter } from '../../src/server/s3/object_lock.js';
import type { LockTarget } from '../../src/server/s3/object_lock.js';
import type { ObjectLockState } from '../../src/server/s3/object_lock_records.js';
import type { Core } from '../../src/server/s3/core.js';
import { patch } from './mutant.js';

/**
 * A retention or legal hold change answered once staged, before it is
 * durable: a power cut then takes back what the client was told (the
 * retention reads back older than acknowledged).
 */
export const lockChangeAckedEarly = {
  name: 's3-lock-change-acked-early',
  bugClass: 'a PutObjectRetention / PutObjectLegalHold answered before the rewritten record is durable',
  expect: /r retained until \+\d+ s; acknowledged \d+/,
  install: (): (() => void) =>
    patch(LockWriter.prototype, 'change', () =>
      async function (this: LockWriter, core: Core, t: LockTarget, change: (s: ObjectLockState) => ObjectLockState): Promise<void> {
        // Deliberately does not wait for the rewrite to be durable.
        await this.stage(core, t, change);
      },
    ),
};
