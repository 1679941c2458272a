// Reading a bucket's lifecycle configuration for an answer (docs/S3.md,
// "Lifecycle"): the record, and the x-amz-expiration header S3 puts on
// GetObject, HeadObject and PutObject answers. Its own file so that the
// object operations can use it without importing the lifecycle operations.
import { CorruptionError } from '../../base/index.js';
import type { Exchange } from '../exchange.js';
import type { Core } from './core.js';
import type { LifecycleConfig } from './lifecycle.js';
import { currentExpiry, decodeLifecycle } from './lifecycle.js';
import type { ObjectRecord } from './records.js';
import { httpTime } from './respond.js';
import { lifecycleShardKey } from './shard_keys.js';

/** The bucket's lifecycle rules, or undefined if it has none. Throws CorruptionError for a damaged record. */
export async function readLifecycle(core: Core, bucket: string): Promise<LifecycleConfig | undefined> {
  const bytes = await core.getOptional(lifecycleShardKey(bucket));
  return bytes === undefined ? undefined : decodeLifecycle(bytes);
}

/**
 * Put x-amz-expiration on the answer about `record`, the current version
 * of `key` (GetObject, HeadObject, PutObject, as S3 sends it): when it
 * expires and by which rule, `expiry-date="Fri, 23 Dec 2012 00:00:00 GMT",
 * rule-id="..."`. Nothing when no enabled rule expires it, or when the
 * configuration is damaged (logged: the answer goes on without it).
 */
export async function setExpirationHeader(core: Core, ex: Exchange, target: { readonly bucket: string; readonly key: Buffer }, record: ObjectRecord): Promise<void> {
  let config: LifecycleConfig | undefined;
  try {
    config = await readLifecycle(core, target.bucket);
  } catch (err) {
    if (!(err instanceof CorruptionError)) throw err;
    core.logDamaged(lifecycleShardKey(target.bucket), err, 'gave no x-amz-expiration');
    return;
  }
  const expiry = config === undefined ? undefined : currentExpiry(config, target.key, record);
  if (expiry === undefined) return;
  ex.res.setHeader('x-amz-expiration', `expiry-date="${httpTime(expiry.dueMs)}", rule-id="${expiry.ruleId.replaceAll('"', '%22')}"`);
}
