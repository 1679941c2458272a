// tier: quick (npm run test:quick; docs/TESTING.md)
// The object lock codecs (object_lock_records.ts) and rules (object_lock.ts).
//
// Checks: every lock state and configuration round-trips; the bytes of one
// of each are pinned (docs/format/s3_records.md, "Object lock"); damage is
// a CorruptionError; the rules never let a protected version go, nor a
// COMPLIANCE retention weaken, before its date. How: fast-check with a
// fixed seed over states, times and bypass flags, against the rules as
// AWS documents them written out independently here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { CorruptionError } from '../../base/index.js';
import type { ObjectLockState, Retention } from './object_lock_records.js';
import { MAX_RETAIN_UNTIL_MS, decodeLockConfig, decodeLockSection, encodeLockConfig, encodeLockSection } from './object_lock_records.js';
import { LOCK_RULES, defaultRetainUntil } from './object_lock.js';
import { S3Error } from './s3_errors.js';

const SEED = 20261206;
const mode = fc.constantFrom('GOVERNANCE' as const, 'COMPLIANCE' as const);
// fast-check's records have no prototype; deepStrictEqual compares prototypes, so they are copied into plain objects.
const retention: fc.Arbitrary<Retention> = fc.record({ mode, retainUntilMs: fc.integer({ min: 0, max: MAX_RETAIN_UNTIL_MS }) }).map((r) => ({ ...r }));
const hold = fc.constantFrom('ON' as const, 'OFF' as const);
const state: fc.Arbitrary<ObjectLockState> = fc
  .record({ retention: fc.option(retention, { nil: undefined }), legalHold: fc.option(hold, { nil: undefined }) })
  .filter((s) => s.retention !== undefined || s.legalHold !== undefined)
  .map((s) => ({ ...(s.retention === undefined ? {} : { retention: s.retention }), ...(s.legalHold === undefined ? {} : { legalHold: s.legalHold }) }));

void test('lock section and lock configuration round-trip; their bytes are pinned', () => {
  fc.assert(fc.property(state, (s) => assert.deepEqual(decodeLockSection(encodeLockSection(s)), s)), { seed: SEED, numRuns: 500 });
  fc.assert(
    fc.property(fc.option(fc.record({ mode, unit: fc.constantFrom('days' as const, 'years' as const), period: fc.integer({ min: 1, max: 100 }) }), { nil: undefined }), (d) => {
      const config = d === undefined ? {} : { defaultRetention: { ...d } };
      assert.deepEqual(decodeLockConfig(encodeLockConfig(config)), config);
    }),
    { seed: SEED, numRuns: 200 },
  );
  // DO NOT CHANGE: on-disk. version 1, flags retention|hold set|hold ON, COMPLIANCE, 2030-01-01T00:00:00Z.
  assert.equal(encodeLockSection({ retention: { mode: 'COMPLIANCE', retainUntilMs: Date.UTC(2030, 0, 1) }, legalHold: 'ON' }).toString('hex'), '010702' + '00b4c5dab8010000');
  assert.equal(encodeLockConfig({ defaultRetention: { mode: 'GOVERNANCE', unit: 'days', period: 30 } }).subarray(0, 12).toString('hex'), '53334f4c' + '01' + '01' + '01' + '01' + '1e000000');
});

void test('damaged lock bytes are a CorruptionError, never a state', () => {
  const good = encodeLockSection({ retention: { mode: 'GOVERNANCE', retainUntilMs: 5 } });
  for (const bad of [
    Buffer.from([2, 1]), // unknown version
    Buffer.from([1, 0]), // empty flags: never written
    Buffer.from([1, 4]), // held ON without being set
    Buffer.from([1, 8]), // unknown flag
    Buffer.from([1, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0]), // unknown mode
    good.subarray(0, good.length - 1), // short
    Buffer.concat([good, Buffer.from([0])]), // trailing byte
  ]) {
    assert.throws(() => decodeLockSection(bad), CorruptionError, bad.toString('hex'));
  }
  const config = encodeLockConfig({ defaultRetention: { mode: 'COMPLIANCE', unit: 'years', period: 1 } });
  const flipped = Buffer.from(config);
  flipped[5] = 3;
  assert.throws(() => decodeLockConfig(flipped), CorruptionError);
  assert.throws(() => decodeLockConfig(config.subarray(0, 6)), CorruptionError);
});

void test('the rules: a protected version is never removed, COMPLIANCE never weakened, before the date', () => {
  const protectedAt = (s: ObjectLockState, nowMs: number, bypass: boolean): boolean =>
    s.legalHold === 'ON' || (s.retention !== undefined && s.retention.retainUntilMs > nowMs && (s.retention.mode === 'COMPLIANCE' || !bypass));
  const refused = (f: () => void): boolean => {
    try {
      f();
      return false;
    } catch (err) {
      if (err instanceof S3Error && err.status === 403 && err.code === 'AccessDenied') return true;
      throw err;
    }
  };
  const now = fc.integer({ min: 0, max: MAX_RETAIN_UNTIL_MS });
  fc.assert(
    fc.property(state, now, fc.boolean(), (s, nowMs, bypass) => {
      assert.equal(refused(() => LOCK_RULES.checkRemoval(s, nowMs, bypass)), protectedAt(s, nowMs, bypass));
    }),
    { seed: SEED, numRuns: 1000 },
  );
  fc.assert(
    fc.property(retention, fc.option(retention, { nil: undefined }), now, fc.boolean(), (old, next, nowMs, bypass) => {
      const active = old.retainUntilMs > nowMs;
      const weakens = next === undefined || next.retainUntilMs < old.retainUntilMs || next.mode !== old.mode;
      const expected = active && weakens && (old.mode === 'COMPLIANCE' || !bypass);
      assert.equal(refused(() => LOCK_RULES.checkRetentionChange(old, next, nowMs, bypass)), expected);
    }),
    { seed: SEED, numRuns: 1000 },
  );
});

void test('default retention counts days of 24 hours and calendar years from the write', () => {
  const at = Date.UTC(2024, 1, 29, 12);
  assert.equal(defaultRetainUntil({ mode: 'GOVERNANCE', unit: 'days', period: 2 }, at), at + 2 * 86_400_000);
  assert.equal(defaultRetainUntil({ mode: 'GOVERNANCE', unit: 'years', period: 1 }, at), Date.UTC(2025, 2, 1, 12));
  assert.equal(defaultRetainUntil({ mode: 'GOVERNANCE', unit: 'years', period: 100 }, MAX_RETAIN_UNTIL_MS - 1000), MAX_RETAIN_UNTIL_MS);
});
