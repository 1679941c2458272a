// The lifecycle pass (docs/S3.md, "Lifecycle"): applies every bucket's
// enabled rules (lifecycle.ts) at a given moment. `shardstore serve` runs it
// every --s3-lifecycle-interval; tests call run(nowMs) with the time of a
// virtual clock, so nothing here reads a clock or sleeps.
//
// Per bucket with a configuration (a configuration whose bucket is gone,
// left by a crashed DeleteBucket, is skipped), per key of the listing:
//   1. the current version expires when a rule's Expiration says so: an
//      unversioned bucket deletes it, a versioned (or suspended) one puts a
//      delete marker on it, as S3 does;
//   2. noncurrent versions expire NoncurrentDays after they became
//      noncurrent (the creation of the next newer version), keeping the
//      NewerNoncurrentVersions newest of them;
//   3. a current delete marker with no noncurrent version left is removed
//      where a rule says ExpiredObjectDeleteMarker (in the same pass as 2,
//      where S3 may take one more day);
// then every multipart upload of the bucket initiated DaysAfterInitiation
// ago is aborted.
//
// Safety against concurrent requests: the decision of 1 is made on the
// record as listed, and taken under the object's lock only if the record
// there is still that version (LifecycleRules.stillDue) and still due
// (its tags may have changed): an object overwritten between the listing
// and the delete is kept. It goes through the conditional paths of the
// ordinary DeleteObject (deleteObject, commitObject with a check), so the
// pass writes nothing the requests do not. Steps 2 and 3 read and decide
// under the object's lock; an abort rechecks the upload under it.
//
// Crash safety: each change is one durable step of the ordinary paths (a
// record deleted, or a delete marker committed after the version it hides
// is kept, versioning.ts), each complete before the next; a crash leaves
// each key as before or after one of its steps, and the next pass finishes
// the work (a pass is idempotent: what it removed no longer matches).
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { CorruptionError } from '../../base/index.js';
import type { Dependency } from '../../dependency/index.js';
import { abortUpload } from './multipart.js';
import { readBucket } from './buckets.js';
import type { Core } from './core.js';
import { bucketLock, mapLimit, objectLock } from './core.js';
import type { LifecycleConfig, LifecycleRule } from './lifecycle.js';
import { LIFECYCLE_RULES, currentDueMs, decodeLifecycle, dueAfterDays } from './lifecycle.js';
import { removableWithoutBypass } from './object_lock.js';
import { commitObject, deleteObject } from './objects.js';
import type { ObjectRecord } from './records.js';
import { decodeObject, decodeUpload } from './records.js';
import { NS_LIFECYCLE, NS_OBJECT, NS_UPLOAD, bucketPrefix, objectShardKey, splitVersionedTail, versionShardKey } from './shard_keys.js';
import { deleteMarkerRecord, isDeleteMarker, noncurrentData, readCurrent, stampOf, versioningOf } from './versioning.js';

/**
 * Keys of one listing page visited at once: each expiry waits for one
 * durable step, and steps of different keys share a commit cycle
 * (bench/lifecycle_probe.ts, 5,000 expiries at load 13 on 2 cores: 2.6 ms
 * each one at a time, 0.63 ms each 8 at a time).
 */
const KEY_CONCURRENCY = 8;

/** What one pass did. */
export interface LifecycleReport {
  /** Current versions deleted (unversioned) or hidden by a delete marker (versioned). */
  expired: number;
  /** Noncurrent versions removed for good. */
  noncurrentRemoved: number;
  /** Expired object delete markers removed. */
  markersRemoved: number;
  uploadsAborted: number;
  /** Expirations given up because a request changed the object after the listing. */
  overtaken: number;
}

export const emptyLifecycleReport = (): LifecycleReport => ({ expired: 0, noncurrentRemoved: 0, markersRemoved: 0, uploadsAborted: 0, overtaken: 0 });

/** Thrown by the check of a conditional delete when the object is no longer the version decided on. */
class Overtaken extends Error {
  override readonly name = 'Overtaken';
}

interface BucketWork {
  readonly bucket: string;
  readonly rules: LifecycleConfig;
  readonly nowMs: number;
  readonly report: LifecycleReport;
}

export class LifecyclePass {
  private closed = false;

  constructor(private readonly core: Core) {}

  /** Stop before the next key (shutdown); close() of the front then waits only for the keys in hand. */
  close(): void {
    this.closed = true;
  }

  /** Apply every bucket's enabled rules as of `nowMs`. A bucket that fails is logged and the others go on. */
  async run(nowMs: number): Promise<LifecycleReport> {
    const report = emptyLifecycleReport();
    for await (const page of this.core.listAll(NS_LIFECYCLE)) {
      for (const s of page) {
        if (this.closed) return report;
        const bucket = s.key.subarray(NS_LIFECYCLE.length).toString('latin1');
        try {
          await this.runBucket(bucket, s.key, nowMs, report);
        } catch (err) {
          this.core.options.logger.log('warn', 's3 lifecycle pass failed on a bucket; the next pass retries', { bucket, error: err });
        }
      }
    }
    return report;
  }

  private async runBucket(bucket: string, configKey: Buffer, nowMs: number, report: LifecycleReport): Promise<void> {
    const bytes = await this.core.getOptional(configKey);
    const config = bytes === undefined ? undefined : this.core.decodeListed(configKey, bytes, decodeLifecycle, 'skipped by the lifecycle pass');
    if (config === undefined || (await readBucket(this.core, bucket)) === undefined) return;
    const work: BucketWork = { bucket, rules: config.filter((r) => r.enabled), nowMs, report };
    if (work.rules.some((r) => r.expiration !== undefined || r.noncurrent !== undefined)) {
      const prefix = bucketPrefix(NS_OBJECT, bucket);
      for await (const page of this.core.listAll(prefix)) {
        if (this.closed) return;
        // Keys are independent (each decided and changed under its own lock): a few at a time share commits.
        await mapLimit(page, KEY_CONCURRENCY, (s) => this.visitKey(work, Buffer.from(s.key.subarray(prefix.length))));
        await yieldToLoop();
      }
    }
    if (work.rules.some((r) => r.abortAfterDays !== undefined)) await this.abortUploads(work);
  }

  /** One key; a damaged record of it (current or noncurrent) is logged and the key skipped, not the bucket. */
  private async visitKey(work: BucketWork, key: Buffer): Promise<void> {
    // Shutdown: the keys of the page not started yet are left to the next pass.
    if (this.closed) return;
    try {
      await this.decideKey(work, key);
    } catch (err) {
      if (!(err instanceof CorruptionError)) throw err;
      this.core.logDamaged(objectShardKey(work.bucket, key), err, 'skipped by the lifecycle pass');
    }
  }

  private async decideKey(work: BucketWork, key: Buffer): Promise<void> {
    const shardKey = objectShardKey(work.bucket, key);
    const bytes = await this.core.getOptional(shardKey);
    const listed = bytes === undefined ? undefined : this.core.decodeListed(shardKey, bytes, decodeObject, 'skipped by the lifecycle pass');
    if (listed === undefined) return;
    if (!isDeleteMarker(listed)) {
      const due = currentDueMs(work.rules, key, listed);
      if (due !== undefined && work.nowMs >= due) await this.expireCurrent(work, key, listed);
    }
    // Only a versioned write makes noncurrent versions, and it stamps the current record.
    if (listed.version !== undefined && work.rules.some((r) => r.noncurrent !== undefined || r.expiration?.kind === 'delete-marker')) await this.expireVersions(work, key);
  }

  /** Step 1, through the conditional paths of DeleteObject (header comment). */
  private async expireCurrent(work: BucketWork, key: Buffer, listed: ObjectRecord): Promise<void> {
    const { bucket, rules, nowMs } = work;
    const check = (old: ObjectRecord | undefined): void => {
      if (old === undefined || !LIFECYCLE_RULES.stillDue(rules, key, listed, old, nowMs)) throw new Overtaken('replaced or retagged since the listing');
    };
    try {
      if ((await versioningOf(this.core, bucket)) === 'unversioned') await deleteObject(this.core, bucket, key, check);
      else await commitObject(this.core, bucket, key, deleteMarkerRecord(nowMs), { check });
      work.report.expired++;
    } catch (err) {
      if (!(err instanceof Overtaken)) throw err;
      work.report.overtaken++;
    }
  }

  /** Steps 2 and 3, decided and done under the object's lock. */
  private async expireVersions(work: BucketWork, key: Buffer): Promise<void> {
    const { bucket } = work;
    await this.core.locks.shared(bucketLock(bucket), () =>
      this.core.locks.exclusive(objectLock(bucket, key), async () => {
        const current = await readCurrent(this.core, bucket, key);
        if (current === undefined) return;
        const versions = await noncurrentData(this.core, bucket, key);
        // A version under object lock (retention not passed, or a legal hold) is never expired: S3's lifecycle skips it.
        const doomed = versions.filter((v, i) => noncurrentDue(work, key, v, i, i === 0 ? current : versions[i - 1]) && removableWithoutBypass(v, work.nowMs));
        const pending: Dependency[] = [];
        for (const v of doomed) {
          const dependency = await this.core.deleteIfPresent(versionShardKey(bucket, key, stampOf(v).rank));
          if (dependency !== undefined) pending.push(dependency);
        }
        await Promise.all(pending.map((d) => this.core.durable(d)));
        work.report.noncurrentRemoved += doomed.length;
        if (isDeleteMarker(current) && doomed.length === versions.length && markerExpires(work.rules, key)) {
          await this.core.durable(await this.core.api.delete(objectShardKey(bucket, key)));
          work.report.markersRemoved++;
        }
      }),
    );
    this.core.collector.schedule(bucket, key);
  }

  private async abortUploads(work: BucketWork): Promise<void> {
    const { bucket, rules, nowMs } = work;
    const prefix = bucketPrefix(NS_UPLOAD, bucket);
    for await (const page of this.core.listAll(prefix)) {
      for (const s of page) {
        if (this.closed) return;
        const tail = splitVersionedTail(s.key.subarray(prefix.length), 0);
        const bytes = tail === undefined ? undefined : await this.core.getOptional(s.key);
        const record = bytes === undefined ? undefined : this.core.decodeListed(s.key, bytes, decodeUpload, 'skipped by the lifecycle pass');
        if (tail === undefined || record === undefined) continue;
        const due = rules.some((r) => r.abortAfterDays !== undefined && LIFECYCLE_RULES.prefixMatches(r.filter, tail.key) && nowMs >= dueAfterDays(record.initiatedMs, r.abortAfterDays));
        if (!due) continue;
        // Rechecked under the object's lock: an upload completed or aborted meanwhile is left alone.
        await abortUpload(this.core, bucket, Buffer.from(tail.key), Buffer.from(tail.id), true);
        work.report.uploadsAborted++;
      }
    }
  }
}

/** Noncurrent version `v`, `newer` noncurrent versions newer than it, noncurrent since `successor` was made: due? */
function noncurrentDue(work: BucketWork, key: Buffer, v: ObjectRecord, newer: number, successor: ObjectRecord | undefined): boolean {
  if (successor === undefined) return false;
  return work.rules.some((r: LifecycleRule) => {
    const n = r.noncurrent;
    if (n === undefined || newer < (n.newerVersions ?? 0)) return false;
    // A delete marker has no tags and no size: only a rule whose filter admits that matches it.
    return LIFECYCLE_RULES.matches(r.filter, key, v) && work.nowMs >= dueAfterDays(successor.mtimeMs, n.days);
  });
}

function markerExpires(rules: LifecycleConfig, key: Buffer): boolean {
  return rules.some((r) => r.expiration?.kind === 'delete-marker' && LIFECYCLE_RULES.prefixMatches(r.filter, key));
}
