// Assertions stay on in production (STYLE.md, TigerBeetle): a broken
// invariant stops the operation before it can write a wrong byte.

export class AssertionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AssertionError';
  }
}

/**
 * Throws AssertionError with `message` unless `condition` holds. The
 * message is an argument, so a template string is built on every call, even
 * when the condition holds: on a path run once per put the check is written
 * `if (!condition) throw new AssertionError(\`...\`)` instead, which builds
 * it only on failure (io_scheduler.ts, extent_manager.ts, chunk_store.ts,
 * dependency.ts; CPU per 4 KiB put, docs/BENCHMARKS.md 2026-12-07 evening).
 */
export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function unreachable(value: never, message: string): never {
  throw new AssertionError(`${message}: ${String(value)}`);
}
