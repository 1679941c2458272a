// Broken variants of the verification that makes one flush per commit cycle
// safe (src/store/log_verify.ts): a record written in the same flush as its
// data may be durable when its data is not, so recovery must not believe it
// before that data is checked. Each is caught by the crash check, which
// generates exactly those states (record durable, data lost or torn).
import { parseHeader } from '../../src/chunk/index.js';
import { LogVerifier } from '../../src/store/log_verify.js';
import { CommitLog } from '../../src/store/commit_log.js';
import type { DamagedData, DataCheck, VerifiedLog } from '../../src/store/log_verify.js';
import type { DataName, MetaRecordHead } from '../../src/store/metalog_format.js';
import type { ExtentManager } from '../../src/extent/index.js';
import { patch } from './mutant.js';
import type { Mutant } from './mutant.js';

/**
 * What the crash check reports when a record is believed over data that is
 * not there: after the dirty reboot, reading the key the record points
 * elsewhere fails with Corruption (the chunk at the locator is missing,
 * torn or another one), where the key must hold its acknowledged value or
 * the record's (crash.ts, invariants 1 and 2; no fault was injected).
 */
const BELIEVED_TORN_RECORD = /dirtyReboot\(.*\): engine threw CorruptionError: (chunk at \d+:\d+: (bad header|payload|trailing chunk id)|data chunk at \d+:\d+ belongs to another key)/;

/** Recovery believes every record: the data of the last cycle is never checked. */
export const recoveryTrustsUnverifiedRecord: Mutant = {
  name: 'recovery-trusts-unverified-record',
  bugClass: 'a metadata record believed before the data it names is verified (one flush per cycle)',
  caughtBy: 'crash',
  expect: BELIEVED_TORN_RECORD,
  install: () =>
    patch(LogVerifier.prototype, 'verify', () =>
      function (this: LogVerifier, records: readonly MetaRecordHead[]): Promise<VerifiedLog> {
        return Promise.resolve({ records, verified: 0, damagedData: [] });
      },
    ),
};

/** Recovery verifies only the first chunk a record names: a torn later chunk of the cycle goes unseen. */
export const recoveryVerifiesFirstChunkOnly: Mutant = {
  name: 'recovery-verifies-first-chunk-only',
  bugClass: 'verification of a record checks too little of its data (the first chunk only)',
  caughtBy: 'crash',
  expect: BELIEVED_TORN_RECORD,
  install: () =>
    patch(LogVerifier.prototype, 'checkRecord', (original) =>
      function (this: LogVerifier, record: MetaRecordHead): Promise<{ torn?: string; damaged: DamagedData[] }> {
        return original.call(this, { ...record, dataNames: record.dataNames.slice(0, 1) });
      },
    ),
};

/**
 * Recovery checks the named chunk's header (its id and length) but not its
 * payload checksum nor its trailer: a chunk whose first page landed and
 * whose later pages were lost passes.
 */
export const recoveryChecksHeaderOnly: Mutant = {
  name: 'recovery-checks-header-only',
  bugClass: 'verification of a record checks ids and lengths without checksums',
  caughtBy: 'crash',
  expect: BELIEVED_TORN_RECORD,
  install: () =>
    patch(LogVerifier.prototype, 'checkData', () =>
      async function (this: LogVerifier, name: DataName): Promise<DataCheck> {
        const extents = (this as unknown as { extents: ExtentManager }).extents;
        const head = await extents.readForVerification(name.locator.extent, name.locator.offset, Math.min(24, name.locator.length));
        const header = parseHeader(head, 0);
        if (header === undefined || header.idLow !== name.id.low >>> 0 || header.idHigh !== name.id.high >>> 0) return { state: 'torn', reason: 'header' };
        return { state: 'whole' };
      },
    ),
};

/**
 * What the faults check reports when an idle store never confirms its last
 * record: the record's data is damaged (bit flips), a restart's close
 * fails (a failed flush) or the process dies, and recovery, unable to tell
 * the damage from a torn tail, ends the log before the record: a key loses
 * its acknowledged value (absent or an older value) though the harness saw
 * the store idle for the confirmation delay after it (crash.ts, invariant 8).
 */
const LOST_AFTER_IDLE = /after reboot: key \S+ holds (absent|\d+B), allowed: /;

/** The confirmation timer never fires: an idle store leaves its last record unconfirmed (commit_log.ts, "Confirmation"). */
export const confirmationNeverRuns: Mutant = {
  name: 'confirmation-never-runs',
  bugClass: 'an acknowledged put stays dependent on an unverified record (its data checked at open) while the store is idle',
  caughtBy: 'faults',
  expect: LOST_AFTER_IDLE,
  install: () =>
    patch(
      CommitLog.prototype as unknown as { armConfirmation: () => void },
      'armConfirmation',
      () =>
        function (): void {
          // Never armed: no idle confirmation.
        },
      0,
    ),
};

export const ONE_SYNC_MUTANTS: readonly Mutant[] = [recoveryTrustsUnverifiedRecord, recoveryVerifiesFirstChunkOnly, recoveryChecksHeaderOnly, confirmationNeverRuns];
