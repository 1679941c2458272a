// Structured logs: one JSON object per line, so log shippers need no parser.
// The server logs through this interface only; tests pass silentLogger.
import type { Writable } from 'node:stream';

export type LogLevel = 'info' | 'warn' | 'error';

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  log(level: LogLevel, msg: string, fields?: LogFields): void;
}

/** Writes `{"time":...,"level":...,"msg":...,...fields}` lines to `out` (stdout by default). */
export function jsonLineLogger(out: Writable = process.stdout): Logger {
  return {
    log(level, msg, fields = {}): void {
      const record = { time: new Date().toISOString(), level, msg, ...fields };
      out.write(JSON.stringify(record, jsonSafe) + '\n');
    },
  };
}

/** Drops every record (tests). */
export const silentLogger: Logger = {
  log(): void {
    // Deliberately empty: tests silence the server.
  },
};

/** Errors and bigints do not survive JSON.stringify by default. */
function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  return value;
}
