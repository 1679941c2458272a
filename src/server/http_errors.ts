// How errors become HTTP answers: {"error":{"code":...,"message":...}} with a
// status taken from the typed error's stable code (docs/API.md, "Errors").
// Errors of the HTTP layer itself (no route, wrong method, bad range) are
// HttpErrors that carry their own status and code.
import type { ErrorCode } from '../base/index.js';
import { ShardStoreError } from '../base/index.js';

export const STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = {
  NotFound: 404,
  InvalidArgument: 400,
  NoSpace: 507,
  Unavailable: 503,
  Corruption: 500,
  Io: 500,
  Closed: 503,
  // Neither reaches the HTTP layer of a running server (it holds its disks
  // and opens them read-write); mapped for completeness.
  Locked: 503,
  ReadOnly: 503,
};

/** An answer decided by the HTTP layer, not by the store. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export interface ErrorAnswer {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Not a condition the API defines: log it with its stack. */
  readonly unexpected: boolean;
}

export function errorAnswer(err: unknown): ErrorAnswer {
  if (err instanceof HttpError) {
    return { status: err.status, code: err.code, message: err.message, headers: err.headers, unexpected: false };
  }
  if (err instanceof ShardStoreError) {
    const status = STATUS_BY_CODE[err.code];
    return { status, code: err.code, message: err.message, headers: {}, unexpected: false };
  }
  return { status: 500, code: 'Internal', message: 'internal error', headers: {}, unexpected: true };
}

export interface ErrorPayload {
  readonly error: { readonly code: string; readonly message: string };
}

/** The JSON body of an error answer. */
export function errorPayload(answer: ErrorAnswer): ErrorPayload {
  return { error: { code: answer.code, message: answer.message } };
}
