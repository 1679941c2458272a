// tier: quick (npm run test:quick; docs/TESTING.md)
// The layer list is told in four places that must agree (issue 15, "Done
// when"): the folders of src/, the LAYERS list of .dependency-cruiser.cjs
// (what the boundary check enforces), the README's "What is inside" line
// and the table of docs/ARCHITECTURE.md. How: read each, in order, and
// compare; the comparison is shown failing on a planted swap and a
// planted missing layer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

/** LAYERS of the dependency-cruiser config, as written there. */
function cruiserLayers(): string[] {
  const m = /const LAYERS = \[([^\]]*)\]/.exec(read('.dependency-cruiser.cjs'));
  assert.ok(m?.[1] !== undefined, 'LAYERS found in .dependency-cruiser.cjs');
  return [...m[1].matchAll(/'([a-z]+)'/g)].map((x) => x[1] ?? '');
}

/** The backticked layer names of the README's `src/` line, in order. */
function readmeLayers(): string[] {
  const text = read('README.md');
  const start = text.indexOf('- `src/`: the engine, in layers');
  const end = text.indexOf('- `testing/`', start);
  assert.ok(start >= 0 && end > start, 'the README lists the layers');
  return [...text.slice(start, end).matchAll(/`([a-z]+)`/g)].map((x) => x[1] ?? '');
}

/** The first column of docs/ARCHITECTURE.md's layer table, in order. */
function architectureLayers(): string[] {
  return [...read('docs/ARCHITECTURE.md').matchAll(/^\| `([a-z]+)` \|/gm)].map((x) => x[1] ?? '');
}

function srcFolders(): string[] {
  return readdirSync(join(ROOT, 'src'), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

/** Why `told` does not list `layers` in the same order, or undefined. */
function mismatch(where: string, told: readonly string[], layers: readonly string[]): string | undefined {
  return told.join(' ') === layers.join(' ') ? undefined : `${where} says ${told.join(' → ')}; the layers are ${layers.join(' → ')}`;
}

void test('the folders of src/, the boundary check, the README and ARCHITECTURE.md list the same layers in the same order', () => {
  const layers = cruiserLayers();
  assert.ok(layers.length >= 10, `LAYERS: ${layers.join(', ')}`);
  assert.deepEqual(srcFolders(), [...layers].sort(), 'one folder of src/ per layer');
  assert.equal(mismatch('README.md', readmeLayers(), layers), undefined);
  assert.equal(mismatch('docs/ARCHITECTURE.md', architectureLayers(), layers), undefined);
});

void test('the comparison refuses a swapped or missing layer', () => {
  const layers = ['base', 'disk', 'dependency'];
  assert.match(mismatch('planted', ['base', 'dependency', 'disk'], layers) ?? '', /planted says base → dependency → disk/);
  assert.match(mismatch('planted', ['base', 'disk'], layers) ?? '', /planted says base → disk;/);
  assert.equal(mismatch('planted', layers, layers), undefined);
});
