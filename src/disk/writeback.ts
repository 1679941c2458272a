// Early writeback: ask the kernel to start sending a byte range of a file
// to its device now, instead of when the commit cycle's fdatasync asks for
// it (native/writeback: sync_file_range with SYNC_FILE_RANGE_WRITE, on a
// thread of the addon's own). FileDisk does this for every large write
// once it has landed in the page cache, so the device works while the
// rest of the cycle is copied and staged; the cycle's one fdatasync then
// waits for less. A hint only: it makes nothing durable, and nothing
// depends on it having run (docs/BENCHMARKS.md, "writeback started as
// data lands").
//
// Where the addon did not build (no compiler where `npm ci` ran, or not
// Linux), `writeback` is undefined and writes go out as before.
import { createRequire } from 'node:module';

/** What native/writeback exports where sync_file_range exists. */
export interface Writeback {
  /** Queue the range for writeback; returns at once (a full queue drops it). */
  startWriteback(fd: number, offset: number, length: number): void;
  /** Drop fd's queued ranges; resolves once none of fd's is running (the wait is on the pool): await it before closing fd. */
  forget(fd: number): Promise<void>;
  /** Ranges started, failed and dropped since the process started. */
  stats(): { started: number; failed: number; dropped: number };
}

interface WritebackAddon extends Partial<Writeback> {
  readonly supported: boolean;
}

function loadAddon(): Writeback | undefined {
  try {
    const addon = createRequire(import.meta.url)('shardstore-writeback') as WritebackAddon;
    const { startWriteback, forget, stats } = addon;
    if (!addon.supported || startWriteback === undefined || forget === undefined || stats === undefined) return undefined;
    return { startWriteback, forget, stats };
  } catch {
    // Not built: no early writeback.
    return undefined;
  }
}

/** The addon, if it built and this system has sync_file_range. */
export const writeback: Writeback | undefined = loadAddon();
