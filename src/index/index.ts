// index: the LSM tree mapping shard keys to their data chunk locators.
// Run format: run_format.ts, docs/format/lsm_run.md.
export {
  LsmIndex,
  DEFAULT_BLOCK_CACHE_BLOCKS,
  DEFAULT_BLOOM_BITS_PER_KEY,
  DEFAULT_FAN_IN,
  DEFAULT_MAX_BLOCK_BYTES,
  MAX_SCAN_LIMIT,
  WALK_PAGE_KEYS,
} from './lsm_index.js';
export type { IndexMutation, IndexStats, LsmIndexOptions, PickOptions, ScanOptions } from './lsm_index.js';
export type { CompactionJob, CompactionOutput, FlushJob, RunOutput } from './jobs.js';
export type { RunStreams } from './run_builder.js';
export type { CopyChunks, CopyName } from './run_reader.js';
export type { ScanEntry } from './merge.js';
export { NEEDS_READ } from './run_reader.js';
export type { IndexSnapshot } from './snapshot.js';
export {
  MAX_KEY_BYTES,
  decodeRunDescriptor,
  encodeRunDescriptor,
  descriptorProblem,
  indexValueProblem,
  decodeIndexValue,
  encodeIndexValue,
} from './run_format.js';
export type { ChunkVisitor, ExtentBytes, IndexValue, RunDescriptor } from './run_format.js';
