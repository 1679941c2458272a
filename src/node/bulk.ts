// Bulk create and bulk remove: many shards in one call, one Dependency for
// the batch, and an exact per-key outcome (docs/CONTROL_PLANE.md).
//
// Semantics:
// 1. The whole request is validated first (key count, key lengths, no key
//    twice, total value bytes): a bad request changes nothing and throws
//    InvalidArgumentError.
// 2. Then every key is applied independently, through the same put/delete
//    a single request takes (so a disk out of service fails its keys with
//    Unavailable, a full disk with NoSpace). Each key's outcome is applied,
//    absent (remove of a key with no value) or failed (nothing changed).
// 3. The batch Dependency is the conjunction of every applied key's: once it
//    is persistent, every applied change survives any crash. Each applied
//    outcome also carries its own, so a failure after apply (a commit that
//    could not be written) still says exactly which keys are durable.
import { InvalidArgumentError, ShardStoreError } from '../base/index.js';
import { Dependency } from '../dependency/index.js';
import { MAX_BULK_KEYS, MAX_BULK_VALUE_BYTES } from './admin_types.js';
import type { BulkKeyOutcome, BulkPutEntry, BulkResult } from './admin_types.js';
import { MAX_KEY_BYTES } from '../store/index.js';
import type { ShardApi } from '../store/index.js';

/** Throws InvalidArgumentError unless 1..MAX_BULK_KEYS distinct keys of 1..MAX_KEY_BYTES bytes. */
export function checkBulkKeys(keys: readonly Buffer[]): void {
  if (keys.length < 1 || keys.length > MAX_BULK_KEYS) {
    throw new InvalidArgumentError(`a bulk call takes 1..${MAX_BULK_KEYS} keys, got ${keys.length}`);
  }
  const seen = new Set<string>();
  for (const [i, key] of keys.entries()) {
    if (key.length < 1 || key.length > MAX_KEY_BYTES) {
      throw new InvalidArgumentError(`key #${i}: length ${key.length} outside 1..${MAX_KEY_BYTES}`);
    }
    const k = key.toString('latin1');
    if (seen.has(k)) throw new InvalidArgumentError(`key #${i} appears twice in the batch`);
    seen.add(k);
  }
}

export function checkBulkPut(entries: readonly BulkPutEntry[]): void {
  checkBulkKeys(entries.map((e) => e.key));
  const bytes = entries.reduce((n, e) => n + e.value.length, 0);
  if (bytes > MAX_BULK_VALUE_BYTES) throw new InvalidArgumentError(`a bulk create holds at most ${MAX_BULK_VALUE_BYTES} value bytes, got ${bytes}`);
}

export async function bulkPut(api: ShardApi, entries: readonly BulkPutEntry[]): Promise<BulkResult> {
  checkBulkPut(entries);
  const outcomes = await Promise.all(entries.map((e) => outcomeOf(e.key, () => api.put(e.key, e.value), false)));
  return { outcomes, dependency: batchDependency(outcomes) };
}

export async function bulkDelete(api: ShardApi, keys: readonly Buffer[]): Promise<BulkResult> {
  checkBulkKeys(keys);
  const outcomes = await Promise.all(keys.map((key) => outcomeOf(key, () => api.delete(key), true)));
  return { outcomes, dependency: batchDependency(outcomes) };
}

export function batchDependency(outcomes: readonly BulkKeyOutcome[]): Dependency {
  return Dependency.all(outcomes.flatMap((o) => (o.dependency === undefined ? [] : [o.dependency])));
}

async function outcomeOf(key: Buffer, apply: () => Promise<Dependency>, absentOk: boolean): Promise<BulkKeyOutcome> {
  try {
    return { key, status: 'applied', dependency: await apply() };
  } catch (err: unknown) {
    if (err instanceof ShardStoreError) {
      if (absentOk && err.code === 'NotFound') return { key, status: 'absent' };
      return { key, status: 'failed', code: err.code, message: err.message };
    }
    // Not a condition the API defines; still, the other keys' outcomes must be told.
    return { key, status: 'failed', code: 'Internal', message: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}
