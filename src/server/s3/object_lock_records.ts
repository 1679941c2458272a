// The bytes of object lock (docs/format/s3_records.md, "Object lock"):
// an object's lock state, kept in the `lock` section (RecordSection.lock)
// of its object record (or of the upload record that will make it), and a
// bucket's lock configuration, a record of its own under `\0K bucket`.
// Both sit beside the state they protect, so they are as durable as it is:
// an object written with lock headers is committed with its lock section
// in the same record.
//
// DO NOT CHANGE: on-disk. Add a new format version instead.
//
// lock section (no magic, no CRC: the object record that holds it has both):
//   u8 version (1), u8 flags (bit 0: retention, bit 1: legal hold set, bit 2: legal hold ON),
//   [u8 mode (1 GOVERNANCE, 2 COMPLIANCE), u64 retainUntilMs]   if bit 0
//   Flags 0 is never written (an object without lock state has no section);
//   bit 2 without bit 1 is damage.
//
// bucket lock configuration (magic "S3OL", key `\0K bucket`): its presence
// means the bucket has object lock enabled (which cannot be undone):
//   u32 magic, u8 version (1), u8 flags (bit 0: default retention),
//   [u8 mode (1 GOVERNANCE, 2 COMPLIANCE), u8 unit (1 days, 2 years), u32 period]   if bit 0
//   u32 crc32c
import { BufReader, BufWriter, CorruptionError, assert, crc32c } from '../../base/index.js';

const SECTION_V1 = 1;
const CONFIG_MAGIC = 0x4c4f3353; // "S3OL" little-endian
const CONFIG_V1 = 1;
const SECTION_RETENTION = 1;
const SECTION_HOLD_SET = 2;
const SECTION_HOLD_ON = 4;
const CONFIG_DEFAULT = 1;
/** S3's longest default retention: 100 years (36500 days). */
export const MAX_DEFAULT_DAYS = 36_500;
export const MAX_DEFAULT_YEARS = 100;
/** The latest retain-until date a record holds (year 9999), so a date always prints. */
export const MAX_RETAIN_UNTIL_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

export type LockMode = 'GOVERNANCE' | 'COMPLIANCE';
const MODES: readonly LockMode[] = ['GOVERNANCE', 'COMPLIANCE'];

export interface Retention {
  readonly mode: LockMode;
  readonly retainUntilMs: number;
}

/** What an object version holds of object lock. Absent fields were never set. */
export interface ObjectLockState {
  readonly retention?: Retention | undefined;
  /** ON or OFF once set by a request; absent if never set. */
  readonly legalHold?: 'ON' | 'OFF' | undefined;
}

export interface DefaultRetention {
  readonly mode: LockMode;
  readonly unit: 'days' | 'years';
  readonly period: number;
}

export interface LockConfigRecord {
  readonly defaultRetention?: DefaultRetention | undefined;
}

export function isEmptyLockState(s: ObjectLockState): boolean {
  return s.retention === undefined && s.legalHold === undefined;
}

/** REQUIRES: `s` is not empty (no section is written for an empty state). */
export function encodeLockSection(s: ObjectLockState): Buffer {
  assert(!isEmptyLockState(s), 'an empty lock state is no section');
  const flags = (s.retention === undefined ? 0 : SECTION_RETENTION) | (s.legalHold === undefined ? 0 : SECTION_HOLD_SET) | (s.legalHold === 'ON' ? SECTION_HOLD_ON : 0);
  const w = new BufWriter(16).u8(SECTION_V1).u8(flags);
  if (s.retention !== undefined) {
    assert(Number.isInteger(s.retention.retainUntilMs) && s.retention.retainUntilMs >= 0 && s.retention.retainUntilMs <= MAX_RETAIN_UNTIL_MS, 'retain-until in range');
    w.u8(MODES.indexOf(s.retention.mode) + 1).u64(s.retention.retainUntilMs);
  }
  return w.finish();
}

export function decodeLockSection(bytes: Buffer): ObjectLockState {
  const r = new BufReader(bytes, 'lock section');
  const version = r.u8();
  if (version !== SECTION_V1) throw new CorruptionError(`lock section: unknown format version ${version}`);
  const flags = r.u8();
  if (flags === 0 || (flags & ~(SECTION_RETENTION | SECTION_HOLD_SET | SECTION_HOLD_ON)) !== 0) throw new CorruptionError(`lock section: flags ${flags}`);
  if ((flags & SECTION_HOLD_ON) !== 0 && (flags & SECTION_HOLD_SET) === 0) throw new CorruptionError('lock section: a legal hold ON that was never set');
  let retention: Retention | undefined;
  if ((flags & SECTION_RETENTION) !== 0) {
    const mode = modeOf(r.u8(), 'lock section');
    const retainUntilMs = r.u64();
    if (retainUntilMs > MAX_RETAIN_UNTIL_MS) throw new CorruptionError(`lock section: retain-until ${retainUntilMs} past year 9999`);
    retention = { mode, retainUntilMs };
  }
  r.expectEnd();
  const legalHold = (flags & SECTION_HOLD_SET) === 0 ? undefined : (flags & SECTION_HOLD_ON) !== 0 ? 'ON' : 'OFF';
  return { ...(retention === undefined ? {} : { retention }), ...(legalHold === undefined ? {} : { legalHold }) };
}

export function encodeLockConfig(c: LockConfigRecord): Buffer {
  const d = c.defaultRetention;
  const w = new BufWriter(20).u32(CONFIG_MAGIC).u8(CONFIG_V1).u8(d === undefined ? 0 : CONFIG_DEFAULT);
  if (d !== undefined) {
    assert(Number.isInteger(d.period) && d.period >= 1 && d.period <= (d.unit === 'days' ? MAX_DEFAULT_DAYS : MAX_DEFAULT_YEARS), 'default retention period in range');
    w.u8(MODES.indexOf(d.mode) + 1).u8(d.unit === 'days' ? 1 : 2).u32(d.period);
  }
  w.u32(crc32c(w.view()));
  return w.finish();
}

export function decodeLockConfig(bytes: Buffer): LockConfigRecord {
  const what = 'lock configuration record';
  if (bytes.length < 10) throw new CorruptionError(`${what}: ${bytes.length} bytes is too short`);
  const body = bytes.subarray(0, bytes.length - 4);
  if (crc32c(body) !== bytes.readUInt32LE(bytes.length - 4)) throw new CorruptionError(`${what}: checksum mismatch`);
  const r = new BufReader(body, what);
  if (r.u32() !== CONFIG_MAGIC) throw new CorruptionError(`${what}: bad magic`);
  const version = r.u8();
  if (version !== CONFIG_V1) throw new CorruptionError(`${what}: unknown format version ${version}`);
  const flags = r.u8();
  if ((flags & ~CONFIG_DEFAULT) !== 0) throw new CorruptionError(`${what}: unknown flags ${flags}`);
  let defaultRetention: DefaultRetention | undefined;
  if (flags === CONFIG_DEFAULT) {
    const mode = modeOf(r.u8(), what);
    const unitByte = r.u8();
    if (unitByte !== 1 && unitByte !== 2) throw new CorruptionError(`${what}: unknown unit ${unitByte}`);
    const unit = unitByte === 1 ? 'days' : 'years';
    const period = r.u32();
    if (period < 1 || period > (unit === 'days' ? MAX_DEFAULT_DAYS : MAX_DEFAULT_YEARS)) throw new CorruptionError(`${what}: period ${period} ${unit} out of range`);
    defaultRetention = { mode, unit, period };
  }
  r.expectEnd();
  return defaultRetention === undefined ? {} : { defaultRetention };
}

function modeOf(byte: number, what: string): LockMode {
  const mode = MODES[byte - 1];
  if (mode === undefined) throw new CorruptionError(`${what}: unknown mode ${byte}`);
  return mode;
}
