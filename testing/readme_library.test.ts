// README.md's "Use it as a library" example, run as written. Checks that
// the public entry point (src/index.ts) exports what the example uses, that
// the example compiles and runs, and that it prints what the README says it
// prints; and that package.json's main/types/exports name the build of that
// entry point. How: the first ```ts block of the section is written to an
// empty temp directory (as example.mts, an ES module like the package) with
// its `from 'shardstore'` pointed at the source entry point, run with node
// and tsx in that directory (so ./data is created there), and its stdout
// compared with the section's ```text block.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const ROOT = join(import.meta.dirname, '..');
const ENTRY = join(ROOT, 'src', 'index.ts');

/** The first fenced block of `lang` in the README section under `heading`. */
function block(heading: string, lang: string): string {
  const text = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = text.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `README has a section "${heading}"`);
  const end = text.indexOf('\n## ', start + 1);
  const section = text.slice(start, end < 0 ? undefined : end);
  const code = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(section)?.[1];
  assert.ok(code !== undefined, `a \`\`\`${lang} block under "${heading}"`);
  return code;
}

void test("the README's library example runs as written against the entry point and prints what the README says", async () => {
  const example = block('Use it as a library', 'ts');
  const expected = block('Use it as a library', 'text');
  assert.match(example, /from 'shardstore'/, 'the example imports the package by its name');
  const dir = mkdtempSync(join(tmpdir(), 'readme-library-'));
  try {
    const file = join(dir, 'example.mts');
    writeFileSync(file, example.replaceAll("from 'shardstore'", `from '${pathToFileURL(ENTRY).href}'`));
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', import.meta.resolve('tsx'), file], { cwd: dir });
    assert.equal(stdout, expected);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('package.json names the build of src/index.ts as main, types and the "." export', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    main?: string;
    types?: string;
    exports?: Record<string, { types?: string; default?: string } | string>;
  };
  const dot = pkg.exports?.['.'];
  assert.ok(typeof dot === 'object');
  assert.deepEqual([pkg.main, pkg.types, dot.default, dot.types], ['dist/src/index.js', 'dist/src/index.d.ts', './dist/src/index.js', './dist/src/index.d.ts']);
  // The build (tsconfig.build.json) maps src/index.ts there: it compiles src/ with the root as rootDir.
  const build = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as { include?: string[] };
  assert.ok(build.include?.includes('src'));
});
