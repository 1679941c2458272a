// Checks the import rules of .dependency-cruiser.cjs (run by `npm run lint`
// as `npm run check-layers`): on a tiny tree that keeps every rule the check
// passes; on trees that each break one rule (an upward import between layers,
// a cycle, a file of another layer imported past its index.ts, server
// importing its sibling tools, production src/ importing the validation
// tree or a test file, a unit test beside the code importing the
// benchmarks, src/ importing the entry point) it fails and names the rule
// and the files; a unit test beside its code importing the simulator in
// testing/ passes. The real tree is checked by the lint step
// itself (CI runs it), so it is not run again here.
// How: the project's own config and dependency-cruiser, run in a child
// process with a temporary directory as the working directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CRUISER = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

/** A tree that keeps every rule: the layers' index files, a downward import through one. */
const CLEAN: Readonly<Record<string, string>> = {
  'src/base/index.ts': "export { b } from './b.js';\n",
  'src/base/b.ts': 'export const b = 1;\n',
  'src/store/index.ts': "export { s } from './s.js';\n",
  'src/store/s.ts': "import { b } from '../base/index.js';\nimport { t } from './t.js';\nexport const s = b + t;\n",
  'src/store/t.ts': 'export const t = 2;\n',
  'src/index.ts': "export { s } from './store/index.js';\n",
  'testing/z.ts': "import { t } from '../src/store/t.js';\nexport const z = t;\n",
  // A unit test beside its code, importing the validation tree: allowed.
  'src/store/t.test.ts': "import { t } from './t.js';\nimport { z } from '../../testing/z.js';\nexport const tt = t + z;\n",
};

function cruise(files: Readonly<Record<string, string>>): { status: number | null; out: string } {
  const root = mkdtempSync(join(tmpdir(), 'check-layers-'));
  try {
    copyFileSync(join(ROOT, '.dependency-cruiser.cjs'), join(root, '.dependency-cruiser.cjs'));
    copyFileSync(join(ROOT, 'tsconfig.json'), join(root, 'tsconfig.json'));
    for (const [path, text] of Object.entries({ ...CLEAN, ...files })) {
      const full = join(root, path);
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, text);
    }
    const r = spawnSync(process.execPath, [CRUISER, 'src', 'testing', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test('the import rules pass a tree that keeps them', () => {
  const { status, out } = cruise({});
  assert.equal(status, 0, out);
  assert.match(out, /no dependency violations found/);
});

test('each rule refuses its own planted violation, and names the rule and the files', () => {
  const { status, out } = cruise({
    // A lower layer importing a higher one.
    'src/base/up.ts': "import { s } from '../store/index.js';\nexport const up = s;\n",
    // A cycle of two files.
    'src/store/c1.ts': "import { c2 } from './c2.js';\nexport const c1 = (): number => c2();\n",
    'src/store/c2.ts': "import { c1 } from './c1.js';\nexport const c2 = (): number => c1();\n",
    // Another layer's file, past its index.ts.
    'src/store/by.ts': "import { b } from '../base/b.js';\nexport const by = b;\n",
    // src/ importing the validation tree.
    'src/store/tt.ts': "import type { Z } from '../../testing/y.js';\nexport const tt: Z = 2;\n",
    'testing/y.ts': 'export type Z = number;\n',
    // Production src/ importing a test file beside it.
    'src/store/pt.ts': "import { tt } from './t.test.js';\nexport const pt = tt;\n",
    // A unit test beside the code importing the benchmarks.
    'src/store/bt.test.ts': "import { bb } from '../../bench/bb.js';\nexport const bt = bb;\n",
    'bench/bb.ts': 'export const bb = 3;\n',
    // server importing its sibling tools.
    'src/tools/index.ts': 'export const tl = 1;\n',
    'src/server/sv.ts': "import { tl } from '../tools/index.js';\nexport const sv = tl;\n",
    // src/ importing the library's entry point.
    'src/store/en.ts': "import { s } from '../index.js';\nexport const en = s;\n",
  });
  assert.notEqual(status, 0, `the check must fail:\n${out}`);
  const planted: ReadonlyArray<readonly [string, RegExp]> = [
    ['layer-base', /error layer-base: src\/base\/up\.ts → src\/store\/index\.ts/],
    ['no-circular', /error no-circular: src\/store\/c[12]\.ts →\s+src\/store\/c[12]\.ts/],
    ['through-index', /error through-index: src\/store\/by\.ts → src\/base\/b\.ts/],
    ['src-not-testing', /error src-not-testing: src\/store\/tt\.ts → testing\/y\.ts/],
    ['src-not-testing (a test file)', /error src-not-testing: src\/store\/pt\.ts → src\/store\/t\.test\.ts/],
    ['src-tests-not-bench', /error src-tests-not-bench: src\/store\/bt\.test\.ts → bench\/bb\.ts/],
    ['siblings-server-tools', /error siblings-server-tools: src\/server\/sv\.ts → src\/tools\/index\.ts/],
    ['entry-point-imported', /error entry-point-imported: src\/store\/en\.ts → src\/index\.ts/],
  ];
  for (const [rule, shape] of planted) assert.match(out, shape, `${rule} is reported:\n${out}`);
  // One line for each rule (the cycle reported once): nothing else.
  assert.match(out, /x 8 dependency violations/, `only the planted violations:\n${out}`);
});
