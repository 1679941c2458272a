// Replay files: one per failure found by `shardstore check`, named after its
// token (':' -> '_'), in the --out folder. Text, so a person can read it and
// `shardstore check --replay FILE` can rerun it:
//
//   # shardstore check failure. Replay: shardstore check --replay <this file>
//   token: conformance:1234:5:2
//   mutant: index-ignores-tombstones        (only when one was installed)
//
//   message:
//     <the failure message, indented two spaces>
//
//   minimized:
//     <the minimized operation sequence, one operation a line>
//
// Only the `token:` and `mutant:` lines are read back; the rest is for people.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SuiteFailure } from './suite.js';

/** File names stay well under the 255-byte limit of common file systems. */
const MAX_NAME_CHARS = 180;

export function replayFileName(token: string): string {
  const base = token.replaceAll(':', '_').replace(/[^A-Za-z0-9_.-]/g, '-');
  if (base.length <= MAX_NAME_CHARS) return `${base}.replay`;
  const digest = createHash('sha256').update(token).digest('hex').slice(0, 16);
  return `${base.slice(0, MAX_NAME_CHARS - 17)}_${digest}.replay`;
}

export function formatReplayFile(failure: SuiteFailure, mutant: string | undefined): string {
  const indent = (text: string): string => (text === '' ? '  (none)' : text.replace(/^/gm, '  '));
  return [
    '# shardstore check failure. Replay: shardstore check --replay <this file>',
    `token: ${failure.token}`,
    ...(mutant === undefined ? [] : [`mutant: ${mutant}`]),
    '',
    'message:',
    indent(failure.message),
    '',
    'minimized:',
    indent(failure.minimized),
    '',
  ].join('\n');
}

/** Writes the replay file of `failure` into `dir` (created if missing); returns its path. */
export function writeReplayFile(dir: string, failure: SuiteFailure, mutant: string | undefined): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, replayFileName(failure.token));
  writeFileSync(path, formatReplayFile(failure, mutant));
  return path;
}

export interface ReplaySpec {
  readonly token: string;
  readonly mutant?: string;
}

export function parseReplayFile(text: string, what: string): ReplaySpec {
  const token = /^token: (\S+)\s*$/m.exec(text)?.[1];
  if (token === undefined) throw new RangeError(`${what}: no "token:" line; not a replay file`);
  const mutant = /^mutant: (\S+)\s*$/m.exec(text)?.[1];
  return mutant === undefined ? { token } : { token, mutant };
}

export function readReplayFile(path: string): ReplaySpec {
  return parseReplayFile(readFileSync(path, 'utf8'), path);
}
