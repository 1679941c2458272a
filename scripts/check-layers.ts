// Layering check (STYLE.md): a layer imports only layers below it, and src/
// never imports the validation tree (testing/). Fails the lint step.
//
// Strategy: read every .ts file under src/, take each relative import
// specifier, resolve it to a layer folder, and compare layer ranks.
// Test files beside the code (*.test.ts) follow the same rule, except that
// they may not import testing/ either: tests that need the simulator live
// under testing/.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

// Bottom up. DO NOT reorder without updating STYLE.md and docs/ARCHITECTURE.md.
export const LAYERS = [
  'base',
  'disk',
  'dependency',
  'extent',
  'superblock',
  'chunk',
  'index',
  'reclaim',
  'store',
  'server',
  'cli',
] as const;

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const srcRoot = join(root, 'src');

function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listTs(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

function layerOf(file: string): number | 'testing' | 'root' | 'outside' {
  const rel = relative(root, file);
  if (rel.startsWith('testing' + sep)) return 'testing';
  if (!rel.startsWith('src' + sep)) return 'outside';
  const parts = relative(srcRoot, file).split(sep);
  if (parts.length === 1) return 'root'; // src/index.ts: the public entry point
  const rank = (LAYERS as readonly string[]).indexOf(parts[0] ?? '');
  return rank < 0 ? 'outside' : rank;
}

const importRe = /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

const problems: string[] = [];
for (const file of listTs(srcRoot)) {
  const from = layerOf(file);
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(importRe)) {
    const spec = m[1] ?? m[2];
    if (spec === undefined || !spec.startsWith('.')) continue;
    const target = resolve(dirname(file), spec);
    const to = layerOf(target);
    const where = `${relative(root, file)} imports ${spec}`;
    if (to === 'testing') problems.push(`${where}: src/ must not import the validation tree`);
    else if (to === 'outside') problems.push(`${where}: target is not in a known layer`);
    else if (to === 'root' && from !== 'root') problems.push(`${where}: only entry points import src/index.ts`);
    else if (typeof from === 'number' && typeof to === 'number' && to > from) {
      problems.push(`${where}: layer ${LAYERS[from]} may not import higher layer ${LAYERS[to]}`);
    }
  }
}

if (problems.length > 0) {
  console.error(`layering check failed (${problems.length}):`);
  for (const p of problems) console.error('  ' + p);
  process.exit(1);
}
console.log('layering check: ok');
