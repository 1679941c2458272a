// The version printed by `shardstore --version`: package.json's, found by
// walking up from this file (src/cli/ under tsx, dist/src/cli/ when built).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAX_LEVELS_UP = 5;

export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let level = 0; level < MAX_LEVELS_UP; level++) {
    const version = versionIn(join(dir, 'package.json'));
    if (version !== undefined) return version;
    dir = dirname(dir);
  }
  return 'unknown';
}

function versionIn(path: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { name, version } = parsed as { name?: unknown; version?: unknown };
  return name === 'shardstore' && typeof version === 'string' ? version : undefined;
}
