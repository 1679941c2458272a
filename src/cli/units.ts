// Human units on the command line: sizes ("512MiB", "10GiB", "4096") and
// durations ("30s", "1h", "0").
//
// Sizes: a bare number is bytes; K/KiB, M/MiB, G/GiB, T/TiB are powers of
// 1024 and KB, MB, GB, TB powers of 1000 (case-insensitive). Durations need a
// unit (ms, s, m, h) so "30" cannot be misread; only 0 may go without.
import { UsageError } from './usage_error.js';

const SIZE_UNITS: ReadonlyMap<string, number> = new Map([
  ['', 1],
  ['b', 1],
  ['k', 1024],
  ['kib', 1024],
  ['m', 1024 ** 2],
  ['mib', 1024 ** 2],
  ['g', 1024 ** 3],
  ['gib', 1024 ** 3],
  ['t', 1024 ** 4],
  ['tib', 1024 ** 4],
  ['kb', 1e3],
  ['mb', 1e6],
  ['gb', 1e9],
  ['tb', 1e12],
]);

const DURATION_UNITS: ReadonlyMap<string, number> = new Map([
  ['ms', 1],
  ['s', 1_000],
  ['m', 60_000],
  ['h', 3_600_000],
]);

/** Bytes of a size like "512MiB". Throws UsageError. */
export function parseSizeBytes(text: string, what: string): number {
  return scaled(text, what, SIZE_UNITS, 'bytes (e.g. 4096, 512MiB, 10GiB)');
}

/** Milliseconds of a duration like "30s". Throws UsageError. */
export function parseDurationMs(text: string, what: string): number {
  if (text.trim() === '0') return 0;
  return scaled(text, what, DURATION_UNITS, 'a duration with a unit (e.g. 500ms, 30s, 5m, 1h)');
}

function scaled(text: string, what: string, units: ReadonlyMap<string, number>, expected: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const factor = units.get((m?.[2] ?? '').toLowerCase());
  const value = factor === undefined ? NaN : Number(m?.[1]) * factor;
  if (!Number.isSafeInteger(value)) throw new UsageError(`${what}: expected ${expected}, got ${JSON.stringify(text)}`);
  return value;
}

/** "1GiB"-style rendering for help text and messages (exact units only). */
export function formatSizeBytes(bytes: number): string {
  for (const [unit, factor] of [['TiB', 1024 ** 4], ['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return `${bytes}`;
}

/** "30s"-style rendering for help text. */
export function formatDurationMs(ms: number): string {
  for (const [unit, factor] of [['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) {
    if (ms >= factor && ms % factor === 0) return `${ms / factor}${unit}`;
  }
  return `${ms}ms`;
}
