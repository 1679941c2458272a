// Checks scripts/check-store-fields.ts (run by `npm run lint`): on a tiny
// tree, a use of a DiskStore field outside src/store/ (directly, and through
// a variable typed as the store) fails the check and is named with its line;
// store.view, a method and a getter pass; the same field used inside
// src/store/ and in testing/ passes. The real tree is checked by the lint
// step itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SCRIPT = join(ROOT, 'scripts', 'check-store-fields.ts');

const TREE: Readonly<Record<string, string>> = {
  'tsconfig.json': JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: [] }, include: ['src', 'testing'] }),
  'src/store/disk_store.ts': [
    'export class Live { of(x: number): number { return x; } }',
    'export class DiskView { constructor(private readonly live: Live) {} liveBytes(x: number): number { return this.live.of(x); } }',
    'export class DiskStore {',
    '  readonly live = new Live();',
    '  readonly view = new DiskView(this.live);',
    '  constructor(readonly parts: { n: number }) {}',
    '  stats(): number { return this.parts.n; }',
    '  get isOpen(): boolean { return true; }',
    '}',
    'export const inside = (s: DiskStore): number => s.live.of(1) + s.parts.n;',
    '',
  ].join('\n'),
  'src/node/fine.ts': "import type { DiskStore } from '../store/disk_store.js';\nexport const fine = (s: DiskStore): number => s.view.liveBytes(0) + s.stats() + (s.isOpen ? 1 : 0);\n",
  'src/node/bad.ts': "import type { DiskStore } from '../store/disk_store.js';\nexport const bad = (s: DiskStore): number =>\n  s.live.of(2);\nexport const worse = (s: DiskStore | undefined): number => s?.parts.n ?? 0;\n",
  'testing/harness.ts': "import type { DiskStore } from '../src/store/disk_store.js';\nexport const peek = (s: DiskStore): number => s.live.of(3);\n",
};

test('engine fields used outside src/store/ are named by file and line; view, methods and getters pass', () => {
  const root = mkdtempSync(join(tmpdir(), 'store-fields-'));
  try {
    for (const [path, text] of Object.entries(TREE)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    const r = spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, root], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    const out = `${r.stdout}${r.stderr}`;
    assert.equal(r.status, 1, out);
    assert.match(out, /engine fields used outside src\/store\/ \(2\)/);
    assert.match(out, /src\/node\/bad\.ts:3: DiskStore\.live is a field of the engine/);
    assert.match(out, /src\/node\/bad\.ts:4: DiskStore\.parts is a field of the engine/);
    assert.doesNotMatch(out, /fine\.ts|harness\.ts|disk_store\.ts/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
