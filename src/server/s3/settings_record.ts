// The bucket settings record (magic "S3BS", key `\0S bucket`): what a
// bucket was configured with beyond its bucket record: its versioning
// state (docs/format/s3_records.md). A bucket without one is unversioned.
// It is a record of its own, not fields of the bucket record, so that the
// bucket record keeps its format for every bucket never configured.
//
// DO NOT CHANGE: on-disk. Add a new format version instead.
//
//   u32 magic, u8 version (1), u8 versioning (0 unversioned, 1 enabled, 2 suspended), u32 crc32c
import { BufReader, BufWriter, CorruptionError, crc32c } from '../../base/index.js';

const SETTINGS_MAGIC = 0x53423353; // "S3BS" little-endian
const FORMAT_V1 = 1;
const RECORD_BYTES = 4 + 1 + 1 + 4;

/** S3's three states: a bucket is unversioned until versioning is first configured, and never again after. */
export type VersioningState = 'unversioned' | 'enabled' | 'suspended';
const STATES: readonly VersioningState[] = ['unversioned', 'enabled', 'suspended'];

export interface SettingsRecord {
  readonly versioning: VersioningState;
}

export const DEFAULT_SETTINGS: SettingsRecord = { versioning: 'unversioned' };

export function encodeSettings(r: SettingsRecord): Buffer {
  const w = new BufWriter(RECORD_BYTES).u32(SETTINGS_MAGIC).u8(FORMAT_V1).u8(STATES.indexOf(r.versioning));
  w.u32(crc32c(w.view()));
  return w.finish();
}

export function decodeSettings(bytes: Buffer): SettingsRecord {
  if (bytes.length !== RECORD_BYTES) throw new CorruptionError(`settings record: ${bytes.length} bytes, expected ${RECORD_BYTES}`);
  const body = bytes.subarray(0, bytes.length - 4);
  if (crc32c(body) !== bytes.readUInt32LE(bytes.length - 4)) throw new CorruptionError('settings record: checksum mismatch');
  const r = new BufReader(body, 'settings record');
  if (r.u32() !== SETTINGS_MAGIC) throw new CorruptionError('settings record: bad magic');
  const version = r.u8();
  if (version !== FORMAT_V1) throw new CorruptionError(`settings record: unknown format version ${version}`);
  const versioning = STATES[r.u8()];
  if (versioning === undefined) throw new CorruptionError('settings record: unknown versioning state');
  r.expectEnd();
  return { versioning };
}
