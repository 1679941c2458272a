// The small store of the host space tests (host_space.test.ts,
// host_allocated.test.ts): 64 KiB extents, so a few megabytes of disk hold
// dozens of them, and metadata small enough that log rolls and index
// flushes happen within a few puts. Background work off: every step is the
// test's own.
import type { FormatOptions } from '../src/store/index.js';
import { Rng } from './rng.js';

export const HOST_TEST_EXTENT_BYTES = 64 * 1024;

export function hostTestOptions(seed: number): FormatOptions {
  return {
    extentSizeBytes: HOST_TEST_EXTENT_BYTES,
    maxManifestBytes: 16 * 1024,
    memtableFlushBytes: 4096,
    maxLogBytes: 6000,
    compactionFanIn: 3,
    random: new Rng(seed).fork('chunk-ids'),
    background: false,
  };
}
