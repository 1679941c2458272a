// The collector: deletes data shards that no record names any more, and
// records of uploads that ended (docs/S3.md, "Garbage").
//
// collect(bucket, key), under the object's lock, is the only code that
// deletes data shards. A data shard of the key is live if the object record
// names it, or the part record of an upload in progress names it, or it is
// in flight (being written, not yet named), or a noncurrent version that
// counts names it (versioning.ts); every other one is garbage and
// is condemned (deleted once no GET has it pinned). Part records of uploads
// that no longer exist are deleted too.
//
// Garbage comes from: a replaced or deleted object, a re-uploaded part,
// parts left out of a completed upload, an aborted or expired upload, a
// failed request, and a crash between two steps of any of these. The first
// ones schedule the key right away; a crash leaves keys nobody scheduled, so
// on start the sweep visits every key that has data or part shards. Uploads
// idle longer than uploadExpiryMs are aborted by a periodic pass.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { ShardInfo } from '../../store/index.js';
import type { CollectorHandle, Core } from './core.js';
import { mapLimit, objectLock } from './core.js';
import { abortUpload } from './multipart.js';
import { readObject } from './objects.js';
import { decodePart, decodeUpload } from './records.js';
import { noncurrentData } from './versioning.js';
import {
  NS_DATA,
  NS_PART,
  NS_UPLOAD,
  VERSION_BYTES,
  dataPrefix,
  dataShardKey,
  objectOfVersionedKey,
  partsOfKeyPrefix,
  splitVersionedTail,
  uploadPrefix,
} from './shard_keys.js';

const READ_CONCURRENCY = 8;

export class Collector implements CollectorHandle {
  private readonly pending = new Map<string, { readonly bucket: string; readonly key: Buffer }>();
  private active: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly core: Core) {}

  schedule(bucket: string, key: Buffer): void {
    if (this.closed) return;
    this.pending.set(objectLock(bucket, key), { bucket, key });
    this.kick();
  }

  /** Start draining unless a drain runs; a key scheduled as a drain ends starts the next one. */
  private kick(): void {
    if (this.active !== undefined || this.closed) return;
    this.active = this.drain().finally(() => {
      this.active = undefined;
      if (this.pending.size > 0) this.kick();
    });
  }

  /** Resolves when nothing is scheduled (tests; shutdown). */
  async idle(): Promise<void> {
    while (this.active !== undefined) await this.active;
  }

  /** Stop taking work; finish the key in hand. */
  async close(): Promise<void> {
    this.closed = true;
    this.pending.clear();
    await this.idle();
  }

  private async drain(): Promise<void> {
    for (let next = this.pending.entries().next(); !next.done && !this.closed; next = this.pending.entries().next()) {
      const [name, { bucket, key }] = next.value;
      this.pending.delete(name);
      await this.collectLogged(bucket, key);
    }
  }

  private async collectLogged(bucket: string, key: Buffer): Promise<void> {
    try {
      await this.collect(bucket, key);
    } catch (err) {
      this.core.options.logger.log('warn', 's3 collector failed; the next pass retries', { bucket, key: key.toString('utf8'), error: err });
    }
  }

  /** Delete what no record of `key` names (see the header comment). */
  async collect(bucket: string, key: Buffer): Promise<void> {
    const core = this.core;
    await core.locks.exclusive(objectLock(bucket, key), async () => {
      const live = new Set<string>();
      const record = await readObject(core, bucket, key);
      for (const r of [...(record === undefined ? [] : [record]), ...(await noncurrentData(core, bucket, key))]) {
        for (const p of r.parts) live.add(dataShardKey(bucket, key, p.version, p.part).toString('latin1'));
      }
      const uploads = await this.uploadsOf(bucket, key);
      for await (const page of core.listAll(partsOfKeyPrefix(bucket, key))) {
        for (const name of await this.livePartData(bucket, key, page, uploads)) live.add(name);
      }
      const removals: Array<Promise<void>> = [];
      for await (const page of core.listAll(dataPrefix(bucket, key))) {
        for (const { key: shardKey } of page) {
          if (live.has(shardKey.toString('latin1')) || core.liveness.isInFlight(shardKey)) continue;
          removals.push(core.liveness.condemn(shardKey, () => this.remove(shardKey)));
        }
      }
      await Promise.all(removals);
    });
  }

  private async uploadsOf(bucket: string, key: Buffer): Promise<Set<string>> {
    const prefix = uploadPrefix(bucket, key);
    const ids = new Set<string>();
    for await (const page of this.core.listAll(prefix)) {
      for (const s of page) ids.add(s.key.subarray(prefix.length).toString('hex'));
    }
    return ids;
  }

  /** Data shard names the part records of live uploads name; part records of ended uploads are deleted. */
  private async livePartData(bucket: string, key: Buffer, page: readonly ShardInfo[], uploads: ReadonlySet<string>): Promise<string[]> {
    const prefixBytes = partsOfKeyPrefix(bucket, key).length;
    const names = await mapLimit(page, READ_CONCURRENCY, async ({ key: partKey }) => {
      const id = partKey.subarray(prefixBytes, prefixBytes + VERSION_BYTES);
      if (!uploads.has(id.toString('hex'))) {
        await this.core.deleteIfPresent(partKey);
        return undefined;
      }
      const bytes = await this.core.getOptional(partKey);
      if (bytes === undefined) return undefined;
      const part = partKey.readUInt16BE(prefixBytes + VERSION_BYTES);
      return dataShardKey(bucket, key, decodePart(bytes).version, part).toString('latin1');
    });
    return names.filter((n): n is string => n !== undefined);
  }

  private async remove(shardKey: Buffer): Promise<void> {
    try {
      await this.core.deleteIfPresent(shardKey);
    } catch (err) {
      this.core.options.logger.log('warn', 's3 collector could not delete a data shard', { shard: shardKey.toString('hex'), error: err });
    }
  }

  /** Schedule every key with data under `prefix` (a deleted bucket). */
  async scheduleAll(prefix: Buffer): Promise<void> {
    for await (const page of this.core.listAll(prefix)) {
      for (const s of page) {
        const owner = objectOfVersionedKey(NS_DATA, s.key);
        if (owner !== undefined) this.schedule(owner.bucket, owner.key);
      }
    }
  }

  /** Visit every key that has data or part shards (after a crash, nobody scheduled them). */
  async sweep(): Promise<number> {
    let visited = 0;
    for (const ns of [NS_DATA, NS_PART]) {
      let last = '';
      for await (const page of this.core.listAll(ns)) {
        for (const s of page) {
          if (this.closed) return visited;
          const owner = objectOfVersionedKey(ns, s.key);
          const name = owner === undefined ? '' : objectLock(owner.bucket, owner.key);
          if (owner === undefined || name === last) continue;
          last = name;
          visited++;
          await this.collectLogged(owner.bucket, owner.key);
          await yieldToLoop();
        }
      }
    }
    return visited;
  }

  /** Abort uploads initiated more than uploadExpiryMs ago. Returns how many. */
  async expireUploads(): Promise<number> {
    const core = this.core;
    let aborted = 0;
    for await (const page of core.listAll(NS_UPLOAD)) {
      for (const s of page) {
        if (this.closed) return aborted;
        const bytes = await core.getOptional(s.key);
        // A damaged upload record is skipped (and logged): it does not stop the expiry of the others.
        const record = bytes === undefined ? undefined : core.decodeListed(s.key, bytes, decodeUpload, 'skipped by upload expiry');
        if (record === undefined || core.now() - record.initiatedMs <= core.options.uploadExpiryMs) continue;
        const slash = s.key.indexOf(0x2f, NS_UPLOAD.length);
        const tail = slash < 0 ? undefined : splitVersionedTail(s.key.subarray(slash + 1), 0);
        if (tail === undefined) continue;
        const bucket = s.key.subarray(NS_UPLOAD.length, slash).toString('latin1');
        try {
          await abortUpload(core, bucket, tail.key, tail.id, true);
          aborted++;
        } catch (err) {
          core.options.logger.log('warn', 's3 could not abort an expired upload', { bucket, key: tail.key.toString('utf8'), error: err });
        }
      }
    }
    return aborted;
  }
}
