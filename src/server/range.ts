// Single byte ranges of the HTTP Range header (RFC 9110 section 14).
//
// parseRangeHeader reads the syntax, without knowing the value's size;
// resolveRange applies it to a size. Supported: `bytes=a-b`, `bytes=a-`,
// `bytes=-n`. A header we do not support (another unit, several ranges, bad
// syntax, a > b) is ignored and the whole value is served, as RFC 9110 allows.
import type { ByteRange } from '../store/index.js';

export type RangeSpec =
  | { readonly kind: 'from'; readonly first: number; readonly last: number | undefined }
  | { readonly kind: 'suffix'; readonly length: number };

/** `undefined` means: no usable Range header, serve the whole value. */
export function parseRangeHeader(header: string | undefined): RangeSpec | undefined {
  if (header === undefined) return undefined;
  // Linear: no two whitespace runs may meet around an empty number, which
  // made the first form (`\s*(\d*)\s*`) backtrack quadratically on long
  // runs of spaces (0.4 s per 16 KiB header). Same grammar: optional
  // whitespace around every token.
  const m = /^bytes\s*=\s*(?:(\d+)\s*)?-\s*(\d*)$/i.exec(header.trim());
  if (m === null) return undefined;
  const [, firstText = '', lastText = ''] = m;
  if (firstText === '') {
    return lastText === '' ? undefined : { kind: 'suffix', length: Number(lastText) };
  }
  const first = Number(firstText);
  const last = lastText === '' ? undefined : Number(lastText);
  if (last !== undefined && last < first) return undefined;
  return { kind: 'from', first, last };
}

/** The bytes [start, end) the spec selects in a value of `sizeBytes`, or 'unsatisfiable' (416). */
export function resolveRange(spec: RangeSpec, sizeBytes: number): ByteRange | 'unsatisfiable' {
  if (spec.kind === 'suffix') {
    if (spec.length === 0 || sizeBytes === 0) return 'unsatisfiable';
    return { start: Math.max(0, sizeBytes - spec.length), end: sizeBytes };
  }
  if (spec.first >= sizeBytes) return 'unsatisfiable';
  const end = spec.last === undefined ? sizeBytes : Math.min(spec.last + 1, sizeBytes);
  return { start: spec.first, end };
}

/** The Content-Range value of a 206 answer. REQUIRES: start < end. */
export function contentRange(range: ByteRange, sizeBytes: number): string {
  return `bytes ${range.start}-${range.end - 1}/${sizeBytes}`;
}
