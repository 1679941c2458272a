// Structured logs: one JSON object per line, so log shippers need no parser.
// The server logs through this interface only; tests pass silentLogger.
import type { Writable } from 'node:stream';
import { lastSecondText } from '../base/index.js';

export type LogLevel = 'info' | 'warn' | 'error';

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  log(level: LogLevel, msg: string, fields?: LogFields): void;
}

/**
 * Writes `{"time":...,"level":...,"msg":...,...fields}` lines to `out`
 * (stdout by default). Lines are gathered and written once per turn of the
 * event loop (or every 64 KiB): stdout to a file or pipe is a synchronous
 * write, and one system call per request log line was 5% of a small
 * request's server CPU. Errors, and whatever is gathered when the process
 * exits, are written at once.
 */
export function jsonLineLogger(out: Writable = process.stdout): Logger {
  let lines: string[] = [];
  let bytes = 0;
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (lines.length === 0) return;
    const text = lines.join('');
    lines = [];
    bytes = 0;
    out.write(text);
  };
  flushAtExit.add(flush);
  if (flushAtExit.size === 1) process.once('exit', () => flushAtExit.forEach((f) => f()));
  return {
    log(level, msg, fields = {}): void {
      const line = formatLine(level, msg, fields);
      lines.push(line);
      bytes += line.length;
      if (level === 'error' || bytes >= FLUSH_BYTES) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
  };
}

const FLUSH_BYTES = 64 * 1024;
/** Every logger's flush, run once when the process exits. */
const flushAtExit = new Set<() => void>();

/** Drops every record (tests). */
export const silentLogger: Logger = {
  log(): void {
    // Deliberately empty: tests silence the server.
  },
};

/**
 * One record's line: `{"time":...,"level":...,"msg":...,...fields}`. Fields
 * of plain values (every request's log line) are stringified without the
 * replacer and without a merged copy of the record: the replacer, called
 * for every key, and the spread were most of a request line's cost (13 us
 * of a 4 KiB S3 GET's server CPU in a profile).
 */
export function formatLine(level: LogLevel, msg: string, fields: LogFields, time = isoNow()): string {
  if (!plainFields(fields)) return JSON.stringify({ time, level, msg, ...fields }, jsonSafe) + '\n';
  const rest = JSON.stringify(fields);
  return `{"time":"${time}","level":"${level}","msg":${JSON.stringify(msg)}${rest === '{}' ? '}' : `,${rest.slice(1)}`}\n`;
}

/**
 * Date.now() in ISO 8601 with milliseconds, as Date.toISOString writes it;
 * the text up to the second is kept from the last call (a Date and its
 * formatting per log line cost more than the line's other fields).
 */
export function isoNow(ms = Date.now()): string {
  const milli = ms - Math.floor(ms / 1000) * 1000;
  return `${isoSecond(ms)}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

/** The ISO 8601 text of a second, up to its '.' (lastSecondText). */
const isoSecond = lastSecondText((ms) => new Date(ms).toISOString().slice(0, -4));

/** Only strings, numbers, booleans, null and undefined, and none of the record's own names. */
function plainFields(fields: LogFields): boolean {
  for (const key in fields) {
    if (key === 'time' || key === 'level' || key === 'msg') return false;
    const value = fields[key];
    if ((typeof value === 'object' && value !== null) || typeof value === 'bigint' || typeof value === 'function' || typeof value === 'symbol') return false;
  }
  return true;
}

/** Errors and bigints do not survive JSON.stringify by default. */
function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  return value;
}
