// Errors that callers handle, each with a stable `code` (STYLE.md). Argument
// mistakes use the built-in TypeError / RangeError, except where a remote
// caller needs a code (InvalidArgumentError).

export type ErrorCode =
  | 'NotFound'
  | 'Corruption'
  | 'NoSpace'
  | 'Io'
  | 'Unavailable'
  | 'InvalidArgument'
  | 'Closed'
  | 'Locked'
  | 'ReadOnly';

export abstract class ShardStoreError extends Error {
  abstract readonly code: ErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * The key has no value (never put, or deleted). An expected answer, thrown
 * on every miss, so it carries no stack trace: capturing one cost more than
 * the lookup (name, message, code and cause are all a caller uses).
 */
export class NotFoundError extends ShardStoreError {
  readonly code = 'NotFound' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message, options);
    Error.stackTraceLimit = limit;
  }
}

/** Stored bytes failed verification: wrong checksum, torn or stale chunk, bad format. */
export class CorruptionError extends ShardStoreError {
  readonly code = 'Corruption' as const;
}

/** Not enough free extents for the request; nothing was changed. */
export class NoSpaceError extends ShardStoreError {
  readonly code = 'NoSpace' as const;
}

/**
 * The host file system under the disk refused a write for lack of space
 * (ENOSPC) or quota (EDQUOT): a sparse data file allocates blocks on first
 * write, so this can happen with free extents left. The same code as
 * NoSpaceError (HTTP 507, S3 InsufficientStorage), since for a caller both
 * mean "no room; free some and retry": the store stays writable, deletes and
 * reclamation keep working (docs/ARCHITECTURE.md "Disk full: host space").
 */
export class HostNoSpaceError extends NoSpaceError {}

/** Errno codes a host file system raises when it has no room for a write. */
const HOST_NO_SPACE_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT']);

/** True for an error like Node's fs errors with code ENOSPC or EDQUOT (a full host file system). */
export function isHostNoSpace(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' && HOST_NO_SPACE_CODES.has(err.code);
}

/** The disk reported an error (read, write or flush). */
export class IoError extends ShardStoreError {
  readonly code = 'Io' as const;
}

/** The disk that owns the key is out of service. */
export class UnavailableError extends ShardStoreError {
  readonly code = 'Unavailable' as const;
}

/** A request argument is out of its allowed range (key length, range, limit). */
export class InvalidArgumentError extends ShardStoreError {
  readonly code = 'InvalidArgument' as const;
}

/** The store was closed (or crashed) while the call was pending. */
export class ClosedError extends ShardStoreError {
  readonly code = 'Closed' as const;
}

/**
 * Another process holds the disk exclusively (a running server, or a tool
 * on it): nothing was opened or changed. The message is one line naming
 * the holder (pid, command) and the lock (disk/disk_lock.ts).
 */
export class LockedError extends ShardStoreError {
  readonly code = 'Locked' as const;
}

/** A write to a disk or store opened read-only (the offline tools that only look): nothing was written. */
export class ReadOnlyError extends ShardStoreError {
  readonly code = 'ReadOnly' as const;
}

/** Wrap an unknown thrown value with context, keeping typed errors as they are. */
export function withContext(err: unknown, context: string): Error {
  if (err instanceof ShardStoreError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new IoError(`${context}: ${message}`, { cause: err });
}
