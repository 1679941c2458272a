// tier: quick (npm run test:quick; docs/TESTING.md)
// One definition of each limit (issue 15): a limit-shaped constant
// (MAX_*, MIN_*, *_LIMIT, *_PAGE_KEYS, *_PER_PAGE) is defined by one file
// of src/ and imported (or re-exported) everywhere else, so two copies
// cannot drift apart (MAX_KEY_BYTES was once defined in the index and in
// the store). How: read every production file of src/, collect the names
// of top-level `const` definitions that look like limits, and fail on a
// name defined in more than one file; the same scan run on planted files
// shows it finds a duplicate and ignores a re-export.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const LIMIT_NAME = /^(MAX|MIN)_|_LIMIT$|_PAGE_KEYS$|_PER_PAGE$/;
const DEFINITION = /^(?:export )?const ([A-Z][A-Z0-9_]*)\s*[:=]/gm;

interface SourceFile {
  readonly path: string;
  readonly text: string;
}

/** Limit-shaped names defined (not re-exported) in more than one file, with the files. */
function duplicatedLimits(files: readonly SourceFile[]): Map<string, string[]> {
  const where = new Map<string, string[]>();
  for (const f of files) {
    for (const m of f.text.matchAll(DEFINITION)) {
      const name = m[1];
      if (name === undefined || !LIMIT_NAME.test(name)) continue;
      const list = where.get(name) ?? [];
      if (!list.includes(f.path)) list.push(f.path);
      where.set(name, list);
    }
  }
  return new Map([...where].filter(([, paths]) => paths.length > 1));
}

function productionSources(dir: string): SourceFile[] {
  const out: SourceFile[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...productionSources(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) out.push({ path: relative(ROOT, path), text: readFileSync(path, 'utf8') });
  }
  return out;
}

void test('every limit of src/ is defined once', () => {
  const files = productionSources(join(ROOT, 'src'));
  assert.ok(files.length > 100, `read ${files.length} files of src/`);
  assert.deepEqual(Object.fromEntries(duplicatedLimits(files)), {});
});

void test('the scan finds a limit defined twice, and not a re-export or another kind of constant', () => {
  const planted: SourceFile[] = [
    { path: 'src/a.ts', text: 'export const MAX_KEY_BYTES = 1024;\nconst HEX = "0123";\n' },
    { path: 'src/b.ts', text: "export { MAX_KEY_BYTES } from './a.js';\nconst HEX = '0123';\n" },
    { path: 'src/c.ts', text: 'const WALK_PAGE_KEYS = 256;\n' },
    { path: 'src/d.ts', text: 'export const WALK_PAGE_KEYS: number = 256;\n' },
  ];
  assert.deepEqual(Object.fromEntries(duplicatedLimits(planted)), { WALK_PAGE_KEYS: ['src/c.ts', 'src/d.ts'] });
});
