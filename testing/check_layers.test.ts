// Checks scripts/check-layers.ts, the layering rule of the build: on the
// real tree it passes (exit 0); on a tiny fake tree with a lower layer
// importing a higher one (src/base -> src/store) and src/ importing the
// validation tree (testing/), it fails (exit 1) and names both problems.
// How: run the script as `npm run check-layers` does, in a child process.
// The script finds the tree from its own location, so the fake tree gets
// its own copy of the script under scripts/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SCRIPT = join(ROOT, 'scripts', 'check-layers.ts');

function runCheck(script: string): { status: number | null; out: string } {
  // cwd ROOT: `--import tsx` resolves from the project's node_modules.
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function writeTree(root: string, files: Readonly<Record<string, string>>): void {
  for (const [path, text] of Object.entries(files)) {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, text);
  }
}

test('check-layers passes on the real tree', () => {
  // Checks: exit 0 and the ok line on this repository's src/.
  const { status, out } = runCheck(SCRIPT);
  assert.equal(status, 0, out);
  assert.match(out, /layering check: ok/);
});

test('check-layers fails on an upward import and on src/ importing testing/, naming both', () => {
  // Checks: exit 1 with both problems named, and no complaint about a
  // downward import. How: a copy of the script above a fake src/ in a temp dir.
  const root = mkdtempSync(join(tmpdir(), 'check-layers-'));
  try {
    mkdirSync(join(root, 'scripts'));
    copyFileSync(SCRIPT, join(root, 'scripts', 'check-layers.ts'));
    writeTree(root, {
      'src/base/x.ts': "import { y } from '../store/y.js';\nexport const x = y;\n",
      'src/store/y.ts': 'export const y = 1;\n',
      'src/chunk/w.ts': "import type { Z } from '../../testing/z.js';\nexport type W = Z;\n",
      'src/disk/ok.ts': "import { x } from '../base/x.js';\nexport const ok = x;\n",
      'testing/z.ts': 'export type Z = number;\n',
    });
    const { status, out } = runCheck(join(root, 'scripts', 'check-layers.ts'));
    assert.equal(status, 1, out);
    assert.match(out, /layering check failed \(2\)/);
    assert.match(out, /src\/base\/x\.ts imports \.\.\/store\/y\.js: layer base may not import higher layer store/);
    assert.match(out, /src\/chunk\/w\.ts imports \.\.\/\.\.\/testing\/z\.js: src\/ must not import the validation tree/);
    assert.doesNotMatch(out, /src\/disk\/ok\.ts/, 'a downward import is allowed');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
